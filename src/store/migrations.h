/* The schema as numbered migrations, embedded at build time; both store backends apply them in
 * order and record each applied version (PostgreSQL from its baseline on). */
#ifndef KM_MIGRATIONS_H
#define KM_MIGRATIONS_H

struct migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct migration migrations[];
extern const int migration_count;

/* A new PostgreSQL database starts from this: the schema of every migration up to its version,
 * in PostgreSQL's dialect. The migrations after it are applied by both backends. */
extern const struct migration postgres_baseline;

#endif
