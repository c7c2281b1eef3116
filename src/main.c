/* kameng: a shop for virtual goods whose refunds are automatic where a machine can know the
 * facts. This is the command line: serve, init, demo, migrate, ledger-check. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapters/http_out.h"
#include "adapters/webhook_out.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/datalock.h"
#include "core/log.h"
#include "core/sysmem.h"
#include "core/vault.h"
#include "http/api.h"
#include "http/server.h"
#include "jobs/jobs.h"
#include "service/demo.h"
#include "service/evidence_log.h"
#include "service/executor.h"
#include "service/fulfilment.h"
#include "service/log_verify.h"
#include "service/read_cache.h"
#include "service/refunds.h"
#include "service/restore.h"
#include "store/db.h"
#include "store/store.h"
#include "store/store_events.h"
#include "store/store_ledger.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kameng <command> [options]\n"
            "commands:\n"
            "  serve         run the shop (HTTP API, timers)\n"
            "  init          create the data directory, master key and schema\n"
            "  demo          init, then seed demo products, card keys and API keys\n"
            "  migrate       apply schema migrations\n"
            "  ledger-check  verify that the books balance\n"
            "  backup FILE   write a consistent copy of the database to FILE (while serving)\n"
            "  restore FILE  replace the database with a checked backup (the shop stopped);\n"
            "                --accept-log-rollback if the backup predates the last checkpoint\n"
            "  webhook-secret  print the key webhook receivers verify signatures with\n"
            "  log key       print the evidence log's public (verifier) key\n"
            "  log verify    --receipt FILE --key KEY: check an order's receipt offline\n"
            "                --checkpoint FILE --url URL --key KEY: the live log extends it\n"
            "                --data DIR [--database DB]: rebuild the tree from the database,\n"
            "                find tampering\n"
            "  log open CARD_KEY_ID --data DIR [--database DB]: open a delivered key's\n"
            "                commitment for a dispute\n"
            "options:\n"
            "  --data DIR          data directory (default var/kameng)\n"
            "  --database DB       the SQLite file (default DIR/kameng.db) or a PostgreSQL\n"
            "                      URL, postgresql://user@host/dbname\n"
            "  --config FILE       config file (key = value)\n"
            "  --listen ADDR       listen address (default 127.0.0.1)\n"
            "  --port N            port (default 8080)\n"
            "  --webhook-url URL   post every state change there, signed (see webhook-secret)\n"
            "  --outbound-ca-file FILE  CA certificates (PEM) trusted for outbound https://,\n"
            "                      besides the system's\n"
            "  --no-sandbox        do not serve the sandbox provider's endpoints (/v1/sandbox)\n"
            "  --test-clock[=T]    time moves only via POST /v1/test/clock/advance;\n"
            "                      starts at T (RFC 3339) or the real time now\n"
            "  --verify-read-cache check every order view served from memory against the\n"
            "                      database, and stop on a difference (the test suites)\n");
}

static int parse_args(int argc, char **argv, struct config *c)
{
    config_defaults(c);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            char err[256];
            if (config_load_file(c, argv[++i], err, sizeof err) != 0) {
                fprintf(stderr, "kameng: %s\n", err);
                return -1;
            }
        }
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--config") == 0) {
            i++;
        } else if (strcmp(a, "--data") == 0 && v != NULL) {
            snprintf(c->data_dir, sizeof c->data_dir, "%s", v);
            i++;
        } else if (strcmp(a, "--database") == 0 && v != NULL) {
            snprintf(c->database, sizeof c->database, "%s", v);
            i++;
        } else if (strcmp(a, "--listen") == 0 && v != NULL) {
            snprintf(c->listen, sizeof c->listen, "%s", v);
            i++;
        } else if (strcmp(a, "--port") == 0 && v != NULL) {
            long p = strtol(v, NULL, 10);
            if (p < 1 || p > 65535) {
                fprintf(stderr, "kameng: bad port %s\n", v);
                return -1;
            }
            c->port = (uint16_t)p;
            i++;
        } else if (strcmp(a, "--no-sandbox") == 0) {
            c->sandbox = false;
        } else if (strcmp(a, "--verify-read-cache") == 0) {
            c->verify_read_cache = true;
        } else if (strcmp(a, "--webhook-url") == 0 && v != NULL) {
            snprintf(c->webhook_url, sizeof c->webhook_url, "%s", v);
            i++;
        } else if (strcmp(a, "--outbound-ca-file") == 0 && v != NULL) {
            snprintf(c->outbound_ca_file, sizeof c->outbound_ca_file, "%s", v);
            i++;
        } else if (strncmp(a, "--test-clock", 12) == 0) {
            c->test_clock = true;
            if (a[12] == '=' && clock_parse(a + 13, &c->test_clock_start_ms) != 0) {
                fprintf(stderr, "kameng: --test-clock takes an RFC 3339 UTC time\n");
                return -1;
            }
        } else {
            fprintf(stderr, "kameng: unknown option %s\n", a);
            usage(stderr);
            return -1;
        }
    }
    config_finish(c);
    return 0;
}

static int open_store(const struct config *c, bool create, bool serving)
{
    if (create && mkdir(c->data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "kameng: cannot create %s: %s\n", c->data_dir, strerror(errno));
        return -1;
    }
    if (refunds_init() != 0) {
        fprintf(stderr, "kameng: the embedded working-day calendar does not parse\n");
        return -1;
    }
    if (vault_open(c->master_key, create) != 0) {
        fprintf(stderr, "kameng: cannot use the master key %s (see the log above)\n",
                c->master_key);
        return -1;
    }
    char key[CONFIG_PATH_BYTES + 16], saved[CONFIG_PATH_BYTES + 16];
    snprintf(key, sizeof key, "%s/log.key", c->data_dir);
    snprintf(saved, sizeof saved, "%s/log-checkpoint", c->data_dir);
    if (evlog_open(key, saved, c->log_origin, create) != 0) {
        fprintf(stderr, "kameng: cannot use the evidence log key %s (see the log above)\n", key);
        return -1;
    }
    struct db *db = NULL;
    if (db_open(c->database, true, &db) != 0) {
        return -1;
    }
    int applied = 0;
    int rc = store_migrate(db, &applied);
    db_close(db);
    if (rc != 0) {
        fprintf(stderr, "kameng: migration failed\n");
        return -1;
    }
    return executor_start(c->database, serving) == 0 ? 0 : -1;
}

static int ledger_check(const struct config *c)
{
    struct db *db = NULL;
    if (db_open(c->database, false, &db) != 0) {
        return 1;
    }
    struct ledger_totals t;
    int rc = store_ledger_totals(db, &t);
    db_close(db);
    if (rc != 0) {
        return 1;
    }
    bool ok = t.account_debits_posted == t.account_credits_posted &&
              t.account_debits_pending == t.account_credits_pending && t.mismatched_accounts == 0;
    printf("transfers %lld, posted %lld/%lld, pending %lld/%lld, mismatched accounts %lld: %s\n",
           (long long)t.transfer_count, (long long)t.account_debits_posted,
           (long long)t.account_credits_posted, (long long)t.account_debits_pending,
           (long long)t.account_credits_pending, (long long)t.mismatched_accounts,
           ok ? "balanced" : "NOT BALANCED");
    return ok ? 0 : 2;
}

static int backup(const struct config *c, const char *to)
{
    struct db *db = NULL;
    if (db_open(c->database, false, &db) != 0) {
        return 1;
    }
    int rc = db_backup_to(db, to);
    db_close(db);
    if (rc != 0) {
        fprintf(stderr, "kameng: backup to %s failed (does the file exist already?)\n", to);
        return 1;
    }
    printf("backed up %s to %s\n", c->database, to);
    return 0;
}

/* The commands that write the database's schema or replace it, or serve it, own the data
 * directory while they run: a second shop on the same data, or a restore under a running one,
 * is refused. `backup` and the read-only commands run beside a serving shop. */
static bool owns_data_dir(const char *cmd)
{
    static const char *const owners[] = {"serve", "init", "demo", "migrate", "restore"};
    for (size_t i = 0; i < sizeof owners / sizeof owners[0]; i++) {
        if (strcmp(cmd, owners[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int take_data_dir(const struct config *c, const char *cmd)
{
    if (strcmp(cmd, "restore") != 0 && strcmp(cmd, "migrate") != 0 &&
        mkdir(c->data_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "kameng: cannot create %s: %s\n", c->data_dir, strerror(errno));
        return -1;
    }
    int fd = -1; /* held until the process ends */
    int rc = datalock_take(c->data_dir, &fd);
    if (rc == -KM_EBUSY) {
        fprintf(stderr, "kameng: another kameng is using %s (a shop serving it?); stop it first\n",
                c->data_dir);
        return -1;
    }
    if (rc != 0) {
        fprintf(stderr, "kameng: cannot lock %s: %s\n", c->data_dir, strerror(errno));
        return -1;
    }
    return 0;
}

static int serve(const struct config *c)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits this; main waits below */
    signal(SIGPIPE, SIG_IGN);
    if (c->test_clock) {
        clock_use_test(c->test_clock_start_ms != 0 ? c->test_clock_start_ms : clock_now_ms());
    }
    api_set_money_max(c->money_max_fen);
    api_set_public_url(c->public_url);
    api_set_sandbox(c->sandbox);
    /* The memory the shop may use, as the start log reports it with the cache's size. */
    uint64_t memory = sysmem_bytes("/proc/self/cgroup", "/sys/fs/cgroup");
    int view_cache_mb =
        c->order_view_cache_mb >= 0 ? c->order_view_cache_mb : config_view_cache_auto_mb(memory);
    if (db_is_postgres(c->database)) {
        view_cache_mb = 0; /* other servers write too: every view is read from the database */
    }
    read_cache_configure((size_t)view_cache_mb << 20, c->verify_read_cache);
    if (c->sandbox) {
        log_write(LOG_WARN, "sandbox_enabled", "message",
                  "payments, top-ups and refunds go to the built-in sandbox: anyone can complete a "
                  "payment at /v1/sandbox; never take real money this way (--no-sandbox)",
                  NULL);
    }
    if (c->outbound_ca_file[0] != '\0') {
        char err[600];
        if (http_out_set_ca_file(c->outbound_ca_file, err, sizeof err) != 0) {
            fprintf(stderr, "kameng: outbound_ca_file: %s\n", err);
            return 1;
        }
    }
    if (open_store(c, true, true) != 0) {
        return 1;
    }
    struct server_config sc = {
        .db_path = c->database, .bind_addr = c->listen, .port = c->port, .threads = c->threads};
    /* Timers first: a request (POST /v1/test/clock/advance) runs them, and it may come as soon
     * as the server listens. Their first pass waits one tick, by when the server answers the
     * callbacks they send. */
    store_events_queue_webhooks(c->webhook_url[0] != '\0');
    if (jobs_start(c->database, c->public_url, c->webhook_url) != 0) {
        executor_stop();
        return 1;
    }
    if (server_start(&sc) != 0) {
        jobs_stop();
        executor_stop();
        return 1;
    }
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)c->port);
    char cache_mb[16], memory_mb[24];
    snprintf(cache_mb, sizeof cache_mb, "%d", view_cache_mb);
    snprintf(memory_mb, sizeof memory_mb, "%llu", (unsigned long long)(memory >> 20));
    log_write(LOG_INFO, "listening", "address", c->listen, "port", port, "test_clock",
              c->test_clock ? "on" : "off", "order_view_cache_mb", cache_mb,
              "order_view_cache_sized", c->order_view_cache_mb >= 0 ? "set" : "auto", "memory_mb",
              memory_mb, NULL);
    int sig = 0;
    sigwait(&set, &sig);
    log_write(LOG_INFO, "shutting_down", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    /* Stop the timers (they call our own HTTP for sandbox callbacks), then stop taking requests
     * and finish those in flight, then the writer, which commits everything queued: no
     * acknowledged write is lost. */
    jobs_stop();
    server_stop();
    executor_stop();
    evlog_close();
    vault_close();
    log_write(LOG_INFO, "stopped", NULL);
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "kameng: cannot read %s\n", path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    km_assert(buf != NULL);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            km_assert(buf != NULL);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* kameng log open CARD_KEY_ID --data DIR [--database DB]: what an arbiter needs to check a
 * delivery entry's commitment — the salt and the key itself. The operator runs it, on the shop's
 * machine. */
static int open_commitment(int argc, char **argv)
{
    if ((argc != 6 && argc != 8) || strcmp(argv[4], "--data") != 0 ||
        (argc == 8 && strcmp(argv[6], "--database") != 0)) {
        fprintf(stderr, "usage: kameng log open CARD_KEY_ID --data DIR [--database DB]\n");
        return 2;
    }
    const char *card = argv[3], *data = argv[5];
    char path[CONFIG_PATH_BYTES + 16];
    snprintf(path, sizeof path, "%s/master.key", data);
    if (vault_open(path, false) != 0) {
        return 2;
    }
    snprintf(path, sizeof path, "%s", argc == 8 ? argv[7] : "");
    if (argc == 6) {
        snprintf(path, sizeof path, "%s/kameng.db", data);
    }
    struct db *db = NULL;
    if (db_open(path, false, &db) != 0) {
        vault_close();
        return 2;
    }
    char salt[65];
    struct km_error e;
    struct card_key k;
    char secret[CARD_SECRET_BYTES_MAX + 1];
    int rc =
        evlog_open_commitment(db, card, salt, &e) == 0 && store_card_get(db, card, &k) == 0 &&
                k.ciphertext_len > VAULT_MAC_BYTES &&
                k.ciphertext_len - VAULT_MAC_BYTES <= CARD_SECRET_BYTES_MAX &&
                vault_unseal(k.id, k.nonce, k.ciphertext, k.ciphertext_len, (uint8_t *)secret) == 0
            ? 0
            : 1;
    if (rc == 0) {
        secret[k.ciphertext_len - VAULT_MAC_BYTES] = '\0';
        char *nl = strchr(secret, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }
        /* SHA-256("kameng-card-commitment/v1" || salt || number "\n" password) */
        printf("card_key_id %s\nsalt %s\nnumber %s\npassword %s\n", card, salt, secret,
               nl != NULL ? nl + 1 : "");
    } else {
        fprintf(stderr, "kameng: no opened commitment for %s\n", card);
    }
    sodium_memzero(secret, sizeof secret);
    db_close(db);
    vault_close();
    return rc;
}

/* kameng log key|verify|open …: works offline, without starting the shop. */
static int log_command(int argc, char **argv)
{
    const char *sub = argc > 2 ? argv[2] : "";
    if (strcmp(sub, "open") == 0) {
        return open_commitment(argc, argv);
    }
    const char *data = NULL, *database = NULL, *receipt = NULL, *checkpoint = NULL, *url = NULL, *key = NULL,
               *key_file = NULL;
    for (int i = 3; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--data") == 0) {
            data = v;
        } else if (strcmp(a, "--database") == 0) {
            database = v;
        } else if (strcmp(a, "--receipt") == 0) {
            receipt = v;
        } else if (strcmp(a, "--checkpoint") == 0) {
            checkpoint = v;
        } else if (strcmp(a, "--url") == 0) {
            url = v;
        } else if (strcmp(a, "--key") == 0) {
            key = v;
        } else if (strcmp(a, "--key-file") == 0) {
            key_file = v;
        } else {
            fprintf(stderr, "kameng: unknown option %s\n", a);
            return 2;
        }
    }
    if ((argc - 3) % 2 != 0) {
        fprintf(stderr, "kameng: every option takes a value\n");
        return 2;
    }
    char verifier[NOTE_KEY_TEXT_BYTES_MAX] = "";
    char *key_buf = NULL;
    if (key != NULL) {
        snprintf(verifier, sizeof verifier, "%s", key);
    } else if (key_file != NULL) {
        size_t n = 0;
        key_buf = slurp(key_file, &n);
        if (key_buf == NULL) {
            return 2;
        }
        snprintf(verifier, sizeof verifier, "%s", key_buf);
        free(key_buf);
    } else if (data != NULL) {
        char path[CONFIG_PATH_BYTES + 16], saved[CONFIG_PATH_BYTES + 16];
        snprintf(path, sizeof path, "%s/log.key", data);
        snprintf(saved, sizeof saved, "%s/log-checkpoint", data);
        if (evlog_open(path, saved, EVLOG_ORIGIN_DEFAULT, false) != 0) {
            return 2;
        }
        evlog_verifier_text(verifier, sizeof verifier);
        evlog_close();
    }
    if (strcmp(sub, "key") == 0) {
        if (verifier[0] == '\0') {
            fprintf(stderr, "kameng: log key needs --data DIR\n");
            return 2;
        }
        printf("%s\n", verifier);
        return 0;
    }
    if (strcmp(sub, "verify") != 0 || verifier[0] == '\0') {
        fprintf(stderr, "usage: kameng log verify (--receipt FILE | --checkpoint FILE --url URL)"
                        " --key KEY | --data DIR\n");
        return 2;
    }
    size_t len = 0;
    int rc;
    if (receipt != NULL) {
        char *text = slurp(receipt, &len);
        rc = text != NULL ? log_verify_receipt(text, len, verifier, stdout) : 2;
        free(text);
    } else if (checkpoint != NULL && url != NULL) {
        char *text = slurp(checkpoint, &len);
        rc = text != NULL ? log_verify_against_live(text, len, url, verifier, stdout) : 2;
        free(text);
    } else if (data != NULL) {
        char db_path[CONFIG_PATH_BYTES + 16], saved[CONFIG_PATH_BYTES + 16];
        if (database != NULL) {
            snprintf(db_path, sizeof db_path, "%s", database);
        } else {
            snprintf(db_path, sizeof db_path, "%s/kameng.db", data);
        }
        snprintf(saved, sizeof saved, "%s/log-checkpoint", data);
        struct db *db = NULL;
        if (db_open(db_path, false, &db) != 0) {
            return 2;
        }
        rc = log_verify_database(db, saved, verifier, stdout);
        db_close(db);
    } else {
        fprintf(stderr, "kameng: log verify needs --receipt, --checkpoint with --url, or --data\n");
        rc = 2;
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    db_global_init();
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "kameng: cannot initialise libsodium or libcurl\n");
        return 1;
    }
    if (strcmp(argv[1], "log") == 0) {
        int rc = log_command(argc, argv);
        curl_global_cleanup();
        return rc;
    }
    struct config c;
    const char *file_arg = NULL; /* backup's target, restore's source */
    bool accept_log_rollback = false;
    if (strcmp(argv[1], "backup") == 0 || strcmp(argv[1], "restore") == 0) {
        if (argc < 3 || argv[2][0] == '-') {
            fprintf(stderr, "kameng: %s takes the file first: kameng %s FILE [--data DIR]\n",
                    argv[1], argv[1]);
            return 2;
        }
        file_arg = argv[2];
        argv[2] = argv[1]; /* options follow the file */
        argv++;
        argc--;
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[1], "restore") == 0 && strcmp(argv[i], "--accept-log-rollback") == 0) {
                accept_log_rollback = true;
                memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof *argv);
                argc--;
                break;
            }
        }
    }
    if (parse_args(argc, argv, &c) != 0) {
        return 2;
    }
    log_set_level(strcmp(c.log_level, "debug") == 0  ? LOG_DEBUG
                  : strcmp(c.log_level, "warn") == 0 ? LOG_WARN
                                                     : LOG_INFO);
    const char *cmd = argv[1];
    int rc = 0;
    if ((strcmp(cmd, "backup") == 0 || strcmp(cmd, "restore") == 0) &&
        db_is_postgres(c.database)) {
        fprintf(stderr, "kameng: %s copies a SQLite file; on PostgreSQL use pg_dump and "
                        "pg_restore (README, \"PostgreSQL\")\n", cmd);
        return 2;
    }
    if (owns_data_dir(cmd) && take_data_dir(&c, cmd) != 0) {
        return 1;
    }
    if (strcmp(cmd, "serve") == 0) {
        rc = serve(&c);
    } else if (strcmp(cmd, "init") == 0 || strcmp(cmd, "migrate") == 0) {
        rc = open_store(&c, strcmp(cmd, "init") == 0, false) == 0 ? 0 : 1;
        executor_stop();
    } else if (strcmp(cmd, "demo") == 0) {
        rc = open_store(&c, true, false) == 0 ? 0 : 1;
        if (rc == 0) {
            char keys[CONFIG_PATH_BYTES + 16];
            snprintf(keys, sizeof keys, "%s/demo-keys.txt", c.data_dir);
            rc = demo_seed(keys, stdout) == 0 ? 0 : 1;
        }
        executor_stop();
    } else if (strcmp(cmd, "backup") == 0) {
        rc = backup(&c, file_arg);
    } else if (strcmp(cmd, "restore") == 0) {
        rc = restore_run(&c, file_arg, accept_log_rollback, stdout);
    } else if (strcmp(cmd, "webhook-secret") == 0) {
        rc = vault_open(c.master_key, false) == 0 ? 0 : 1;
        if (rc == 0) {
            char hex[65];
            webhook_secret_hex(hex);
            printf("%s\n", hex);
            sodium_memzero(hex, sizeof hex);
            vault_close();
        }
    } else if (strcmp(cmd, "ledger-check") == 0) {
        rc = ledger_check(&c);
    } else {
        fprintf(stderr, "kameng: unknown command %s\n", cmd);
        usage(stderr);
        rc = 2;
    }
    curl_global_cleanup();
    return rc;
}
