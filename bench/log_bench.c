/* The evidence log, measured (issue #4, "Measured in bench/"). Linked against build/libkameng.a,
 * so every figure is the shop's own code on the shop's own SQLite settings (WAL,
 * synchronous=FULL, the writer's and readers' cache sizes from src/store/db_sqlite.c).
 *
 *   log_bench appends DIR [N]          evlog_append: N appends (default 200,000) in transactions
 *                                      of 1,000, then one append per transaction for 3 s
 *   log_bench proofs DIR [MAX]         a log grown to 10^3, 10^4, ... MAX (default 10^7) entries;
 *                                      at each size the median time and the store reads of an
 *                                      inclusion and a consistency proof over random indexes, and
 *                                      the time to verify an 8-entry receipt against that size
 *   log_bench receipt FILE KEY         log_verify_receipt on a receipt downloaded from a shop
 *
 * Results are key=value lines on stdout; progress goes to stderr. BENCH_DISK_GB (default 5) and
 * BENCH_GROW_SECONDS (default 360) bound the proofs run: before growing the log tenfold it
 * estimates the disk and time the next size needs from the last one, and stops (saying so) when
 * either would be over. */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "domain/merkle.h"
#include "domain/note.h"
#include "service/evidence_log.h"
#include "service/log_verify.h"
#include "store/db.h"
#include "store/store.h"
#include "store/store_log.h"

#define PROOF_SAMPLES 2000   /* random indexes per size and proof kind */
#define RECEIPT_ENTRIES 8    /* an order's history: payment, delivery, reveals, activation, ... */
#define RECEIPT_RUNS 2000    /* verifications of one receipt */
#define GROW_TXN 100000      /* entries per transaction while growing the log */
#define APPEND_TXN 1000      /* evlog_append calls per transaction in the batched run */
#define T0_MS INT64_C(1772416800000) /* 2026-03-02T02:00:00Z */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = UINT64_C(0x9E3779B97F4A7C15);
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[(size_t)(q * (double)(n - 1))];
}

static void die(const char *what)
{
    fprintf(stderr, "log_bench: %s failed\n", what);
    exit(1);
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        die(what);
    }
}

static int64_t file_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* A new database with the shop's schema, on the writer's settings. */
static struct db *open_fresh(const char *path)
{
    char p[600];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    struct db *db = NULL;
    int applied = 0;
    check(db_open(path, true, &db), "db_open");
    check(store_migrate(db, &applied), "store_migrate");
    return db;
}

/* ------------------------------------------------------------------ receipts */

static struct note_signer signer;
static char verifier_text[NOTE_KEY_TEXT_BYTES_MAX];

static void make_signer(void)
{
    struct km_error e;
    struct note_verifier v;
    check(note_signer_generate("bench.kameng.local/evidence", &signer, &e), "note_signer_generate");
    note_signer_verifier(&signer, &v);
    check(note_verifier_format(&v, verifier_text, sizeof verifier_text, &e), "verifier_format");
}

static json_t *b64(const uint8_t *data, size_t n)
{
    char out[128];
    sodium_bin2base64(out, sizeof out, data, n, sodium_base64_VARIANT_ORIGINAL);
    return json_string(out);
}

/* The receipt GET /v1/orders/{id}/receipt would give for entries seqs[0, n) of a log of size
 * entries (src/http/api_log.c), signed with the bench's key. Caller frees. */
static char *build_receipt(struct db *db, const int64_t *seqs, int n, uint64_t size)
{
    struct km_error e;
    uint8_t root[MERKLE_HASH_BYTES];
    check(evlog_root(db, size, root, &e), "evlog_root");
    char body[NOTE_BYTES_MAX], note[NOTE_BYTES_MAX];
    size_t body_len = 0, note_len = 0;
    check(note_checkpoint_format(signer.name, size, root, body, sizeof body, &body_len, &e),
          "checkpoint_format");
    check(note_sign(&signer, body, body_len, note, sizeof note, &note_len, &e), "note_sign");
    struct merkle_source src;
    evlog_source(db, &src);
    static struct log_entry_row row;
    static struct merkle_proof proof;
    json_t *entries = json_array();
    for (int i = 0; i < n; i++) {
        check(store_log_entry_get(db, seqs[i], &row), "store_log_entry_get");
        check(merkle_prove_inclusion((uint64_t)seqs[i], size, &src, &proof, &e), "prove");
        json_t *list = json_array();
        for (size_t k = 0; k < proof.count; k++) {
            json_array_append_new(list, b64(proof.hashes[k], MERKLE_HASH_BYTES));
        }
        json_array_append_new(
            entries, json_pack("{s:I, s:s, s:s, s:s%, s:o, s:o}", "index", (json_int_t)row.seq,
                               "kind", row.kind, "order_id", row.order_id, "entry",
                               (const char *)row.entry, row.entry_len, "leaf_hash",
                               b64(row.leaf_hash, 32), "proof", list));
    }
    json_t *r = json_pack("{s:s, s:i, s:s, s:s, s:s, s:I, s:o}", "object", "receipt", "version", 1,
                          "order_id", row.order_id, "verifier_key", verifier_text, "checkpoint",
                          note, "tree_size", (json_int_t)size, "entries", entries);
    char *text = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return text;
}

/* Median and p90 microseconds of log_verify_receipt over runs verifications. */
static void time_receipt(const char *text, const char *key, int runs, double *p50, double *p90,
                         int *rc_out)
{
    FILE *sink = fopen("/dev/null", "w");
    if (sink == NULL) {
        die("fopen /dev/null");
    }
    double *t = calloc((size_t)runs, sizeof *t);
    size_t len = strlen(text);
    int rc = 0;
    for (int i = 0; i < runs; i++) {
        double a = now_s();
        rc |= log_verify_receipt(text, len, key, sink);
        t[i] = (now_s() - a) * 1e6;
    }
    fclose(sink);
    *p50 = quantile(t, (size_t)runs, 0.5);
    *p90 = quantile(t, (size_t)runs, 0.9);
    *rc_out = rc;
    free(t);
}

/* ------------------------------------------------------------------ appends */

/* The fields of an entry of each kind the order flow writes, about the size the shop writes. */
static json_t *fields_for(long i, const char *order_id)
{
    char id[40], ck[40];
    snprintf(id, sizeof id, "pay_%020ld", i);
    snprintf(ck, sizeof ck, "ck_%020ld", i / 8);
    (void)order_id;
    switch (i % 4) {
    case 0:
        return json_pack("{s:s, s:s, s:I, s:s, s:s}", "payment_id", id, "method", "alipay",
                         "amount_fen", (json_int_t)4800, "disposition", "applied",
                         "provider_txn_id", "sbx_bench000000000000");
    case 1:
        return json_pack("{s:s, s:[{s:s, s:s}]}", "goods", "card_key", "card_keys", "card_key_id",
                         ck, "commitment",
                         "bfe660d758853d1428e47b90ca50d124294aafde31a966b2b9cd7f81c99278ff");
    case 2:
        return json_pack("{s:s, s:s, s:s, s:b, s:n}", "reveal_id", id, "card_key_id", ck, "by",
                         "buyer", "no_reason_waiver_confirmed", 0, "policy_version");
    default:
        return json_pack("{s:s, s:s}", "card_key_id", ck, "source", "issuer");
    }
}

static const char *const kinds[4] = {"payment", "delivery", "reveal", "activation"};

static void order_id_of(long i, char *out, size_t len)
{
    /* ids as the shop makes them: random, so the by-order index takes random inserts */
    static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
    static char current[40];
    if (i % RECEIPT_ENTRIES == 0) {
        memcpy(current, "ord_", 4);
        for (int k = 0; k < 20; k++) {
            current[4 + k] = alphabet[rnd() % 32];
        }
        current[24] = '\0';
    }
    snprintf(out, len, "%s", current);
}

static int bench_appends(const char *dir, long n)
{
    char path[600];
    snprintf(path, sizeof path, "%s/appends.db", dir);
    struct db *db = open_fresh(path);
    struct km_error e;
    char order[40];
    /* Batched: APPEND_TXN appends a commit. */
    double in_append = 0;
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (i % APPEND_TXN == 0) {
            check(db_begin_write(db), "begin");
        }
        order_id_of(i, order, sizeof order);
        json_t *f = fields_for(i, order);
        double a = now_s();
        check(evlog_append(db, kinds[i % 4], order, f, T0_MS + i, &e), "evlog_append");
        in_append += now_s() - a;
        if (i % APPEND_TXN == APPEND_TXN - 1 || i == n - 1) {
            check(db_commit(db), "commit");
            check(db_checkpoint(db), "checkpoint");
        }
    }
    double took = now_s() - t0;
    printf("append_batched_n=%ld\nappend_batched_per_txn=%d\n", n, APPEND_TXN);
    printf("append_batched_per_s=%.0f\nappend_batched_us=%.2f\nappend_call_us=%.2f\n",
           (double)n / took, took * 1e6 / (double)n, in_append * 1e6 / (double)n);
    fflush(stdout);

    /* One append per transaction, each commit waiting for its fsync: the shape of a lone write
     * request, the worst case for the log (in the shop, group commit shares the fsync). */
    long single = 0;
    double *commit_ms = calloc(100000, sizeof *commit_ms);
    t0 = now_s();
    while (now_s() - t0 < 3.0 && single < 100000) {
        long i = n + single;
        double a = now_s();
        check(db_begin_write(db), "begin");
        order_id_of(i, order, sizeof order);
        check(evlog_append(db, kinds[i % 4], order, fields_for(i, order), T0_MS + i, &e),
              "evlog_append");
        check(db_commit(db), "commit");
        commit_ms[single++] = (now_s() - a) * 1e3;
    }
    took = now_s() - t0;
    check(db_checkpoint(db), "checkpoint");
    printf("append_single_n=%ld\nappend_single_per_s=%.0f\nappend_single_p50_ms=%.3f\n"
           "append_single_p99_ms=%.3f\n",
           single, (double)single / took, quantile(commit_ms, (size_t)single, 0.5),
           quantile(commit_ms, (size_t)single, 0.99));
    free(commit_ms);

    /* The receipt of one order of RECEIPT_ENTRIES realistic entries in this log. */
    int64_t size = 0;
    check(store_log_size(db, &size), "store_log_size");
    int64_t seqs[RECEIPT_ENTRIES];
    int64_t first = (int64_t)(rnd() % (uint64_t)(n / RECEIPT_ENTRIES)) * RECEIPT_ENTRIES;
    for (int k = 0; k < RECEIPT_ENTRIES; k++) {
        seqs[k] = first + k;
    }
    check(db_begin_read(db), "begin_read");
    char *receipt = build_receipt(db, seqs, RECEIPT_ENTRIES, (uint64_t)size);
    db_rollback(db);
    double p50 = 0, p90 = 0;
    int rc = 0;
    time_receipt(receipt, verifier_text, RECEIPT_RUNS, &p50, &p90, &rc);
    printf("receipt_synthetic_size=%lld\nreceipt_synthetic_bytes=%zu\n"
           "receipt_synthetic_verify_p50_us=%.1f\nreceipt_synthetic_verify_p90_us=%.1f\n"
           "receipt_synthetic_verify_rc=%d\n",
           (long long)size, strlen(receipt), p50, p90, rc);
    free(receipt);
    printf("appends_db_bytes=%lld\n", (long long)file_bytes(path));
    db_close(db);
    return rc;
}

/* ------------------------------------------------------------------ proofs */

struct counting {
    struct merkle_source inner;
    uint64_t reads;
};

static int counting_hash(void *ctx, uint64_t begin, uint64_t end, unsigned char out[32],
                         struct km_error *e)
{
    struct counting *c = ctx;
    c->reads++;
    return c->inner.subtree_hash(c->inner.ctx, begin, end, out, e);
}

/* Grow the log from size `from` to `to` as evlog_append would leave it (the same rows: the
 * entry with its leaf hash, and each perfect subtree's hash as it completes), but with small
 * synthetic entries and the right edge kept in memory, in transactions of GROW_TXN. */
static void grow(struct db *db, uint64_t from, uint64_t to, uint8_t edge[64][32],
                 struct merkle_builder *b)
{
    char entry[256], order[40];
    for (uint64_t seq = from; seq < to; seq++) {
        if ((seq - from) % GROW_TXN == 0) {
            check(db_begin_write(db), "begin");
        }
        snprintf(order, sizeof order, "ord_%020llu", (unsigned long long)(seq / RECEIPT_ENTRIES));
        int n = snprintf(entry, sizeof entry,
                         "{\"at\":\"2026-03-02T02:00:00.000Z\",\"kind\":\"%s\",\"order_id\":\"%s\","
                         "\"seq\":%llu,\"v\":1}",
                         kinds[seq % 4], order, (unsigned long long)seq);
        uint8_t h[32];
        merkle_leaf_hash(entry, (size_t)n, h);
        check(store_log_entry_insert(db, (int64_t)seq, kinds[seq % 4], order,
                                     (const uint8_t *)entry, (size_t)n, h, T0_MS),
              "store_log_entry_insert");
        merkle_builder_append(b, h);
        uint64_t idx = seq;
        int level = 0;
        while ((idx & 1) == 1) {
            merkle_node_hash(edge[level], h, h);
            idx >>= 1;
            level++;
            check(store_log_node_put(db, level, (int64_t)idx, h), "store_log_node_put");
        }
        memcpy(edge[level], h, 32);
        if ((seq - from) % GROW_TXN == GROW_TXN - 1 || seq == to - 1) {
            check(db_commit(db), "commit");
            check(db_checkpoint(db), "checkpoint");
        }
    }
}

static void measure(const char *path, uint64_t size, const uint8_t want_root[32], double grow_s)
{
    struct db *r = NULL;
    struct km_error e;
    check(db_open(path, false, &r), "db_open reader");
    check(db_begin_read(r), "begin_read");
    uint8_t root[32];
    check(evlog_root(r, size, root, &e), "evlog_root");
    if (memcmp(root, want_root, 32) != 0) {
        die("the root restored from the store differs from the in-memory tree's");
    }
    struct counting c;
    evlog_source(r, &c.inner);
    struct merkle_source src = {counting_hash, &c};
    static double t_inc[PROOF_SAMPLES], t_con[PROOF_SAMPLES];
    static struct merkle_proof proof;
    double reads_inc = 0, reads_con = 0, hashes_inc = 0, hashes_con = 0;
    int samples = PROOF_SAMPLES;
    for (int i = 0; i < samples; i++) {
        uint64_t index = rnd() % size;
        c.reads = 0;
        double a = now_s();
        check(merkle_prove_inclusion(index, size, &src, &proof, &e), "prove_inclusion");
        t_inc[i] = (now_s() - a) * 1e6;
        reads_inc += (double)c.reads;
        hashes_inc += (double)proof.count;
        if (i < 50) { /* the proofs are right, not just fast */
            uint8_t leaf[32];
            check(store_log_leaf_hash(r, (int64_t)index, leaf), "leaf_hash");
            check(merkle_verify_inclusion(index, size, leaf, &proof, root, &e), "verify_inclusion");
        }
    }
    for (int i = 0; i < samples; i++) {
        uint64_t size1 = 1 + rnd() % (size - 1);
        c.reads = 0;
        double a = now_s();
        check(merkle_prove_consistency(size1, size, &src, &proof, &e), "prove_consistency");
        t_con[i] = (now_s() - a) * 1e6;
        reads_con += (double)c.reads;
        hashes_con += (double)proof.count;
        if (i < 50) {
            uint8_t root1[32];
            check(evlog_root(r, size1, root1, &e), "evlog_root");
            check(merkle_verify_consistency(size1, size, root1, root, &proof, &e),
                  "verify_consistency");
        }
    }
    /* An order's receipt (RECEIPT_ENTRIES consecutive entries at a random place) at this size. */
    int64_t seqs[RECEIPT_ENTRIES];
    int64_t first = (int64_t)(rnd() % (size / RECEIPT_ENTRIES)) * RECEIPT_ENTRIES;
    for (int k = 0; k < RECEIPT_ENTRIES; k++) {
        seqs[k] = first + k;
    }
    double b0 = now_s();
    char *receipt = build_receipt(r, seqs, RECEIPT_ENTRIES, size);
    double build_ms = (now_s() - b0) * 1e3;
    db_rollback(r);
    db_close(r);
    double v50 = 0, v90 = 0;
    int rc = 0;
    time_receipt(receipt, verifier_text, RECEIPT_RUNS / 4, &v50, &v90, &rc);
    if (rc != 0) {
        die("the receipt does not verify");
    }
    char wal[700];
    snprintf(wal, sizeof wal, "%s-wal", path);
    double ri = reads_inc / samples, rcn = reads_con / samples;
    double i50 = quantile(t_inc, (size_t)samples, 0.5), c50 = quantile(t_con, (size_t)samples, 0.5);
    int lg = 0;
    while ((UINT64_C(1) << lg) < size) {
        lg++;
    }
    printf("size=%llu log2=%d db_bytes=%lld wal_bytes=%lld grow_s=%.1f "
           "inclusion_p50_us=%.1f inclusion_p90_us=%.1f inclusion_reads=%.1f inclusion_hashes=%.1f "
           "consistency_p50_us=%.1f consistency_p90_us=%.1f consistency_reads=%.1f "
           "consistency_hashes=%.1f us_per_read=%.2f receipt_build_ms=%.2f receipt_bytes=%zu "
           "receipt_verify_p50_us=%.1f receipt_verify_p90_us=%.1f\n",
           (unsigned long long)size, lg, (long long)file_bytes(path), (long long)file_bytes(wal),
           grow_s, i50, quantile(t_inc, (size_t)samples, 0.9), ri, hashes_inc / samples, c50,
           quantile(t_con, (size_t)samples, 0.9), rcn, hashes_con / samples,
           (i50 + c50) / (ri + rcn), build_ms, strlen(receipt), v50, v90);
    fflush(stdout);
    free(receipt);
}

static int bench_proofs(const char *dir, uint64_t max)
{
    char path[600];
    snprintf(path, sizeof path, "%s/tree.db", dir);
    struct db *db = open_fresh(path);
    const char *disk_env = getenv("BENCH_DISK_GB");
    const char *time_env = getenv("BENCH_GROW_SECONDS");
    double disk_limit = (disk_env != NULL ? atof(disk_env) : 5.0) * 1e9;
    double time_limit = time_env != NULL ? atof(time_env) : 360.0;
    static uint8_t edge[64][32];
    static struct merkle_builder b;
    merkle_builder_init(&b);
    uint64_t size = 0;
    double grown_s = 0;
    for (uint64_t target = 1000; target <= max; target *= 10) {
        if (size > 0) {
            /* The next size costs about (target - size) more of what the last growth cost. */
            double ratio = (double)(target - size) / (double)size;
            double disk_next = (double)file_bytes(path) * (double)target / (double)size;
            double time_next = grown_s * ratio;
            if (disk_next > disk_limit || time_next > time_limit) {
                printf("stopped_before=%llu estimated_bytes=%.0f estimated_grow_s=%.0f "
                       "disk_limit=%.0f grow_limit_s=%.0f\n",
                       (unsigned long long)target, disk_next, time_next, disk_limit, time_limit);
                break;
            }
        }
        fprintf(stderr, "log_bench: growing the log to %llu entries\n",
                (unsigned long long)target);
        double a = now_s();
        grow(db, size, target, edge, &b);
        double took = now_s() - a;
        grown_s += took;
        size = target;
        uint8_t root[32];
        merkle_builder_root(&b, root);
        measure(path, size, root, took);
    }
    db_close(db);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        die("sodium_init");
    }
    db_global_init();
    log_set_level(LOG_WARN);
    make_signer();
    if (argc >= 3 && strcmp(argv[1], "appends") == 0) {
        return bench_appends(argv[2], argc > 3 ? atol(argv[3]) : 200000);
    }
    if (argc >= 3 && strcmp(argv[1], "proofs") == 0) {
        return bench_proofs(argv[2], argc > 3 ? strtoull(argv[3], NULL, 10) : 10000000);
    }
    if (argc == 4 && strcmp(argv[1], "receipt") == 0) {
        FILE *f = fopen(argv[2], "r");
        if (f == NULL) {
            die("reading the receipt");
        }
        static char text[1 << 20];
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        json_t *parsed = json_loads(text, 0, NULL);
        size_t entries = json_array_size(json_object_get(parsed, "entries"));
        json_int_t tree = json_integer_value(json_object_get(parsed, "tree_size"));
        json_decref(parsed);
        double p50 = 0, p90 = 0;
        int rc = 0;
        time_receipt(text, argv[3], RECEIPT_RUNS, &p50, &p90, &rc);
        printf("receipt_http_entries=%zu\nreceipt_http_tree_size=%lld\nreceipt_http_bytes=%zu\n"
               "receipt_http_verify_p50_us=%.1f\nreceipt_http_verify_p90_us=%.1f\n"
               "receipt_http_verify_rc=%d\n",
               entries, (long long)tree, n, p50, p90, rc);
        return rc;
    }
    fprintf(stderr, "usage: log_bench appends DIR [N] | proofs DIR [MAX] | receipt FILE KEY\n");
    return 2;
}
