/* Verification of receipts, of the live log's consistency, and of the stored tree. */
#include "service/log_verify.h"

#include <jansson.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/http_out.h"
#include "domain/merkle.h"
#include "domain/note.h"
#include "store/store_log.h"

static int parse_key(const char *key_text, struct note_verifier *v, FILE *out)
{
    struct km_error e;
    size_t n = strlen(key_text);
    while (n > 0 && (key_text[n - 1] == '\n' || key_text[n - 1] == ' ')) {
        n--;
    }
    if (note_verifier_parse(key_text, n, v, &e) != 0) {
        fprintf(out, "FAIL the verifier key does not parse: %s\n", e.message);
        return -1;
    }
    return 0;
}

/* Open a signed checkpoint note with the key. */
static int open_checkpoint(const char *note, size_t len, const struct note_verifier *v,
                           struct note_checkpoint *cp, FILE *out, const char *what)
{
    struct note_opened opened;
    struct km_error e;
    if (note_open(note, len, v, 1, &opened, &e) != 0) {
        fprintf(out, "FAIL %s: the signature does not verify with the key: %s\n", what,
                e.message);
        return -1;
    }
    if (note_checkpoint_parse(note, opened.text_len, cp, &e) != 0) {
        fprintf(out, "FAIL %s: not a checkpoint: %s\n", what, e.message);
        return -1;
    }
    return 0;
}

static int decode_b64(const char *text, uint8_t *out, size_t cap, size_t *len)
{
    for (const char *p = text; *p != '\0'; p++) {
        /* libsodium 1.0.18 lets some bytes outside the alphabet through: refuse them first. */
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '+' || *p == '/' || *p == '=')) {
            return -1;
        }
    }
    return sodium_base642bin(out, cap, text, strlen(text), NULL, len, NULL,
                             sodium_base64_VARIANT_ORIGINAL);
}

static int proof_from_json(json_t *list, struct merkle_bytes *items, uint8_t (*buf)[64],
                           size_t *count)
{
    if (!json_is_array(list) || json_array_size(list) > MERKLE_PROOF_HASHES_MAX) {
        return -1;
    }
    *count = json_array_size(list);
    for (size_t i = 0; i < *count; i++) {
        json_t *h = json_array_get(list, i);
        size_t n = 0;
        if (!json_is_string(h) || decode_b64(json_string_value(h), buf[i], 64, &n) != 0) {
            return -1;
        }
        items[i].data = buf[i];
        items[i].len = n;
    }
    return 0;
}

int log_verify_receipt(const char *receipt, size_t len, const char *key_text, FILE *out)
{
    struct note_verifier v;
    if (parse_key(key_text, &v, out) != 0) {
        return 1;
    }
    json_error_t err;
    json_t *root = json_loadb(receipt, len, JSON_REJECT_DUPLICATES, &err);
    const char *note = json_string_value(json_object_get(root, "checkpoint"));
    json_t *entries = json_object_get(root, "entries");
    if (!json_is_object(root) || note == NULL || !json_is_array(entries)) {
        fprintf(out, "FAIL not a receipt: it needs a checkpoint and entries\n");
        json_decref(root);
        return 1;
    }
    struct note_checkpoint cp;
    if (open_checkpoint(note, strlen(note), &v, &cp, out, "the receipt's checkpoint") != 0) {
        json_decref(root);
        return 1;
    }
    fprintf(out, "ok   checkpoint signed by %s: %llu entries\n", v.name,
            (unsigned long long)cp.size);
    int failures = 0;
    /* What the receipt says beside the signed note must agree with it: the size it claims the
     * entries are proven against, and the order they belong to. */
    json_t *tree_size = json_object_get(root, "tree_size");
    if (tree_size != NULL &&
        (!json_is_integer(tree_size) || json_integer_value(tree_size) < 0 ||
         (uint64_t)json_integer_value(tree_size) != cp.size)) {
        fprintf(out, "FAIL the receipt's tree_size is not the size of its signed checkpoint (%llu)\n",
                (unsigned long long)cp.size);
        failures++;
    }
    const char *order_id = json_string_value(json_object_get(root, "order_id"));
    size_t i;
    json_t *item;
    static struct merkle_bytes proof[MERKLE_PROOF_HASHES_MAX];
    static uint8_t buf[MERKLE_PROOF_HASHES_MAX][64];
    json_array_foreach(entries, i, item)
    {
        json_t *idx = json_object_get(item, "index");
        const char *entry = json_string_value(json_object_get(item, "entry"));
        size_t count = 0;
        if (!json_is_integer(idx) || json_integer_value(idx) < 0 || entry == NULL ||
            proof_from_json(json_object_get(item, "proof"), proof, buf, &count) != 0) {
            fprintf(out, "FAIL entry %zu of the receipt is malformed\n", i);
            failures++;
            continue;
        }
        uint8_t leaf[MERKLE_HASH_BYTES];
        merkle_leaf_hash(entry, strlen(entry), leaf);
        struct merkle_bytes leaf_b = {leaf, sizeof leaf};
        struct merkle_bytes root_b = {cp.root, sizeof cp.root};
        struct km_error e;
        if (merkle_verify_inclusion_bytes((uint64_t)json_integer_value(idx), cp.size, leaf_b, proof,
                                          count, root_b, &e) != 0) {
            fprintf(out, "FAIL entry %lld is not in the signed log: %s\n",
                    (long long)json_integer_value(idx), e.message);
            failures++;
            continue;
        }
        /* In the log, but is it what the receipt says it is? Its own index and its order. */
        json_t *parsed = json_loads(entry, 0, &err);
        json_t *seq = json_object_get(parsed, "seq");
        const char *of = json_string_value(json_object_get(parsed, "order_id"));
        if (!json_is_integer(seq) || json_integer_value(seq) != json_integer_value(idx)) {
            fprintf(out, "FAIL entry %lld does not name itself as entry %lld\n",
                    (long long)json_integer_value(idx), (long long)json_integer_value(idx));
            failures++;
        } else if (order_id != NULL && (of == NULL || strcmp(of, order_id) != 0)) {
            fprintf(out, "FAIL entry %lld is in the log but belongs to %s, not to order %s\n",
                    (long long)json_integer_value(idx), of != NULL ? of : "no order", order_id);
            failures++;
        } else {
            fprintf(out, "ok   entry %lld (%s) is in the log\n", (long long)json_integer_value(idx),
                    json_string_value(json_object_get(parsed, "kind")) != NULL
                        ? json_string_value(json_object_get(parsed, "kind"))
                        : "?");
        }
        json_decref(parsed);
    }
    json_decref(root);
    fprintf(out, "%s\n", failures == 0 ? "receipt verified" : "RECEIPT DOES NOT VERIFY");
    return failures == 0 ? 0 : 1;
}

static void problem(FILE *out, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void problem(FILE *out, int *n, const char *fmt, ...)
{
    if (*n < LOG_VERIFY_PROBLEMS_MAX) {
        va_list ap;
        va_start(ap, fmt);
        fputs("FAIL ", out);
        vfprintf(out, fmt, ap);
        fputc('\n', out);
        va_end(ap);
    }
    (*n)++;
}

/* The id of the business row an entry covers, per kind. */
static const char *covered_id(const char *kind, json_t *e)
{
    const char *field = strcmp(kind, "payment") == 0           ? "payment_id"
                        : strcmp(kind, "reveal") == 0          ? "reveal_id"
                        : strcmp(kind, "refund_decision") == 0 ? "decision_id"
                        : strcmp(kind, "activation") == 0      ? "card_key_id"
                                                               : NULL;
    return field != NULL ? json_string_value(json_object_get(e, field)) : NULL;
}

static void expected_row(const char *kind, json_t *e, char *out, size_t len)
{
    out[0] = '\0';
    if (strcmp(kind, "payment") == 0) {
        snprintf(out, len, "%lld|%s", (long long)json_integer_value(json_object_get(e, "amount_fen")),
                 json_string_value(json_object_get(e, "disposition")));
    } else if (strcmp(kind, "reveal") == 0) {
        const char *k = json_string_value(json_object_get(e, "card_key_id"));
        snprintf(out, len, "%s", k != NULL ? k : "account");
    } else if (strcmp(kind, "refund_decision") == 0) {
        snprintf(out, len, "%s|%s|%lld", json_string_value(json_object_get(e, "outcome")),
                 json_string_value(json_object_get(e, "rule")),
                 (long long)json_integer_value(json_object_get(e, "amount_fen")));
    } else if (strcmp(kind, "activation") == 0) {
        snprintf(out, len, "activated");
    }
}

#define LOG_VERIFY_CHECKPOINTS_MAX 64 /* roots compared: the newest, plus the file's copy */

struct checkpoint_walk {
    const struct note_verifier *v;
    FILE *out;
    int failures;
    int64_t total;
    int count;
    struct note_checkpoint cps[LOG_VERIFY_CHECKPOINTS_MAX];
};

static int checkpoint_seen(void *ctx, int64_t size, const char *note)
{
    struct checkpoint_walk *w = ctx;
    struct note_checkpoint cp;
    char what[64];
    snprintf(what, sizeof what, "stored checkpoint %lld", (long long)size);
    if (open_checkpoint(note, strlen(note), w->v, &cp, w->out, what) != 0) {
        w->failures++;
        return 0;
    }
    /* A ring of the newest: the file's copy takes the last slot afterwards. */
    w->cps[w->total % (LOG_VERIFY_CHECKPOINTS_MAX - 1)] = cp;
    w->total++;
    w->count = w->total < LOG_VERIFY_CHECKPOINTS_MAX - 1 ? (int)w->total
                                                         : LOG_VERIFY_CHECKPOINTS_MAX - 1;
    return 0;
}

struct seq_walk {
    FILE *out;
    int failures;
    int64_t expect;
};

static int seq_seen(void *ctx, int64_t seq)
{
    struct seq_walk *w = ctx;
    if (seq == w->expect + 1) {
        problem(w->out, &w->failures, "entry %lld is missing", (long long)w->expect);
    } else if (seq != w->expect) {
        problem(w->out, &w->failures, "entries %lld to %lld are missing", (long long)w->expect,
                (long long)seq - 1);
    }
    w->expect = seq + 1;
    return 0;
}

int log_verify_database(struct db *db, const char *checkpoint_file, const char *key_text,
                        FILE *out)
{
    struct note_verifier v;
    if (parse_key(key_text, &v, out) != 0) {
        return 1;
    }
    int64_t size = 0;
    if (db_begin_read(db) != 0 || store_log_size(db, &size) != 0) {
        fprintf(out, "FAIL the log cannot be read\n");
        return 1;
    }
    int failures = 0;
    /* Every signed checkpoint we know of: the store's (each signature checked; the latest
     * LOG_VERIFY_CHECKPOINTS_MAX - 1 kept to compare roots against, the older ones being implied by
     * them), and the copy kept outside it. */
    struct checkpoint_walk cw = {.v = &v, .out = out};
    if (store_log_checkpoints_each(db, checkpoint_seen, &cw) != 0) {
        fprintf(out, "FAIL the checkpoints cannot be read\n");
        db_rollback(db);
        return 1;
    }
    failures += cw.failures;
    struct note_checkpoint *cps = cw.cps;
    int cp_count = cw.count;
    FILE *f = fopen(checkpoint_file, "r");
    if (f != NULL) {
        static char saved[NOTE_BYTES_MAX + 1];
        size_t n = fread(saved, 1, NOTE_BYTES_MAX, f);
        fclose(f);
        saved[n] = '\0';
        struct note_checkpoint cp;
        if (open_checkpoint(saved, n, &v, &cp, out, "the saved checkpoint file") != 0) {
            failures++;
        } else {
            bool known = false; /* usually the same as the latest in the store: check it once */
            for (int i = 0; i < cp_count; i++) {
                known = known || (cps[i].size == cp.size &&
                                  memcmp(cps[i].root, cp.root, sizeof cp.root) == 0);
            }
            if (!known) {
                cps[cp_count++] = cp;
            }
        }
    }
    uint64_t signed_max = 0;
    for (int i = 0; i < cp_count; i++) {
        signed_max = cps[i].size > signed_max ? cps[i].size : signed_max;
    }
    if (signed_max > (uint64_t)size) {
        /* Entries [size, signed_max) were signed for and are gone: name them. */
        if (signed_max - (uint64_t)size == 1) {
            problem(out, &failures,
                    "entry %lld is missing: a checkpoint was signed at %llu entries but the log "
                    "has %lld (removed, or the database was rolled back: fork)",
                    (long long)size, (unsigned long long)signed_max, (long long)size);
        } else {
            problem(out, &failures,
                    "entries %lld to %llu are missing: a checkpoint was signed at %llu entries but "
                    "the log has %lld (removed, or the database was rolled back: fork)",
                    (long long)size, (unsigned long long)signed_max - 1,
                    (unsigned long long)signed_max, (long long)size);
        }
    }
    /* Rebuild the tree from the entries, checking each against its stored hash and index. */
    static struct merkle_builder b;
    merkle_builder_init(&b);
    static struct log_entry_row row;
    int64_t counts[4] = {0, 0, 0, 0};
    static const char *const covered[4] = {"payment", "reveal", "refund_decision", "activation"};
    struct seq_walk sw = {.out = out};
    if (store_log_seqs_each(db, seq_seen, &sw) != 0) {
        fprintf(out, "FAIL the entries cannot be read\n");
        db_rollback(db);
        return 1;
    }
    failures += sw.failures;
    bool gap = false;
    for (int64_t seq = 0; seq < size; seq++) {
        if (store_log_entry_get(db, seq, &row) != 0) {
            /* Reported as missing above. The entries after it are still checked one by one (and
             * counted against the business rows); no root past the gap can match any more. */
            gap = true;
            continue;
        }
        uint8_t leaf[MERKLE_HASH_BYTES];
        merkle_leaf_hash(row.entry, row.entry_len, leaf);
        if (sodium_memcmp(leaf, row.leaf_hash, sizeof leaf) != 0) {
            problem(out, &failures, "entry %lld: its content does not match its stored hash "
                                    "(changed)", (long long)seq);
        }
        json_error_t err;
        json_t *e = json_loadb((const char *)row.entry, row.entry_len, 0, &err);
        json_t *claimed = json_object_get(e, "seq");
        if (!json_is_integer(claimed) || json_integer_value(claimed) != seq) {
            problem(out, &failures, "entry %lld: it says it is entry %lld (reordered)",
                    (long long)seq, json_is_integer(claimed) ? (long long)json_integer_value(claimed) : -1LL);
        }
        const char *kind = json_string_value(json_object_get(e, "kind"));
        const char *id = kind != NULL ? covered_id(kind, e) : NULL;
        if (id != NULL) {
            char want[160], have[160];
            expected_row(kind, e, want, sizeof want);
            if (store_log_covered_row(db, kind, id, have, sizeof have) != 0) {
                problem(out, &failures, "entry %lld (%s %s): the business row is gone",
                        (long long)seq, kind, id);
            } else if (strcmp(want, have) != 0) {
                problem(out, &failures,
                        "entry %lld (%s %s): the business row was changed (log: %s, row: %s)",
                        (long long)seq, kind, id, want, have);
            }
            for (int k = 0; k < 4; k++) {
                counts[k] += strcmp(kind, covered[k]) == 0;
            }
        }
        json_decref(e);
        if (gap) {
            continue;
        }
        merkle_builder_append(&b, leaf);
        /* The root at every signed size must be the signed root. */
        for (int i = 0; i < cp_count; i++) {
            if (cps[i].size == (uint64_t)seq + 1) {
                uint8_t root[MERKLE_HASH_BYTES];
                merkle_builder_root(&b, root);
                if (sodium_memcmp(root, cps[i].root, sizeof root) != 0) {
                    problem(out, &failures,
                            "the first %llu entries do not hash to the root signed for that size: "
                            "the log was changed before entry %llu",
                            (unsigned long long)cps[i].size, (unsigned long long)cps[i].size);
                }
            }
        }
    }
    for (int k = 0; k < 4; k++) {
        int64_t rows = 0;
        if (store_log_covered_count(db, covered[k], &rows) == 0 && rows != counts[k]) {
            problem(out, &failures, "%lld %s rows but %lld log entries for them: rows were added "
                                    "or removed outside the shop",
                    (long long)rows, covered[k], (long long)counts[k]);
        }
    }
    db_rollback(db);
    if (failures > LOG_VERIFY_PROBLEMS_MAX) {
        fprintf(out, "... and %d more problems\n", failures - LOG_VERIFY_PROBLEMS_MAX);
    }
    fprintf(out, "%lld entries, %d signed checkpoints checked: %s\n", (long long)size, cp_count,
            failures == 0 ? "the log is intact" : "THE LOG DOES NOT VERIFY");
    return failures == 0 ? 0 : 1;
}

int log_verify_against_live(const char *saved, size_t len, const char *base_url,
                            const char *key_text, FILE *out)
{
    struct note_verifier v;
    struct note_checkpoint old_cp, new_cp;
    if (parse_key(key_text, &v, out) != 0 ||
        open_checkpoint(saved, len, &v, &old_cp, out, "the saved checkpoint") != 0) {
        return 1;
    }
    char url[600];
    snprintf(url, sizeof url, "%s/v1/log/checkpoint", base_url);
    char *body = NULL;
    long status = 0;
    json_error_t err;
    if (http_out_get(url, &body, &status) != 0 || status != 200) {
        fprintf(out, "FAIL cannot fetch %s (status %ld)\n", url, status);
        free(body);
        return 1;
    }
    json_t *live = json_loads(body, 0, &err);
    free(body);
    const char *note = json_string_value(json_object_get(live, "note"));
    if (note == NULL || open_checkpoint(note, strlen(note), &v, &new_cp, out,
                                        "the live checkpoint") != 0) {
        json_decref(live);
        return 1;
    }
    json_decref(live);
    fprintf(out, "ok   saved checkpoint: %llu entries; live: %llu\n",
            (unsigned long long)old_cp.size, (unsigned long long)new_cp.size);
    if (new_cp.size < old_cp.size) {
        fprintf(out, "FAIL the live log is smaller than the saved checkpoint: it was rolled back "
                     "(fork)\n");
        return 1;
    }
    static struct merkle_bytes proof[MERKLE_PROOF_HASHES_MAX];
    static uint8_t buf[MERKLE_PROOF_HASHES_MAX][64];
    size_t count = 0;
    if (old_cp.size > 0 && new_cp.size > old_cp.size) {
        snprintf(url, sizeof url, "%s/v1/log/proofs/consistency?size1=%llu&size2=%llu", base_url,
                 (unsigned long long)old_cp.size, (unsigned long long)new_cp.size);
        if (http_out_get(url, &body, &status) != 0 || status != 200) {
            fprintf(out, "FAIL cannot fetch the consistency proof (status %ld)\n", status);
            free(body);
            return 1;
        }
        json_t *p = json_loads(body, 0, &err);
        free(body);
        int rc = proof_from_json(json_object_get(p, "proof"), proof, buf, &count);
        json_decref(p);
        if (rc != 0) {
            fprintf(out, "FAIL the consistency proof is malformed\n");
            return 1;
        }
    }
    struct km_error e;
    struct merkle_bytes r1 = {old_cp.root, MERKLE_HASH_BYTES};
    struct merkle_bytes r2 = {new_cp.root, MERKLE_HASH_BYTES};
    if (old_cp.size > 0 &&
        merkle_verify_consistency_bytes(old_cp.size, new_cp.size, r1, r2, proof, count, &e) != 0) {
        fprintf(out, "FAIL the live log does not extend the saved checkpoint: %s (fork)\n",
                e.message);
        return 1;
    }
    fprintf(out, "the live log extends the saved checkpoint\n");
    return 0;
}
