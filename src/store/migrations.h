/* The schema as numbered migrations, embedded at build time; both store backends apply them in
 * order and record each applied version. */
#ifndef KM_MIGRATIONS_H
#define KM_MIGRATIONS_H

struct migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct migration migrations[];
extern const int migration_count;

#endif
