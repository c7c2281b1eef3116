/* The evidence log over HTTP: the latest signed checkpoint, entries by range, inclusion and
 * consistency proofs, and an order's receipt — its entries with their proofs and the checkpoint
 * they are proven against — which `kameng log verify` checks offline with the shop's public key. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "http/api_handlers.h"
#include "jobs/jobs.h"
#include "service/evidence_log.h"
#include "store/store.h"
#include "store/store_log.h"

#define LOG_ENTRIES_PAGE_MAX 100
#define RECEIPT_ENTRIES_MAX 256 /* an order's whole history fits many times over */

static json_t *b64(const uint8_t *data, size_t n)
{
    char out[256];
    km_assert(sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL) <= sizeof out);
    sodium_bin2base64(out, sizeof out, data, n, sodium_base64_VARIANT_ORIGINAL);
    return json_string(out);
}

static json_t *proof_json(const struct merkle_proof *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->count; i++) {
        json_array_append_new(a, b64(p->hashes[i], MERKLE_HASH_BYTES));
    }
    return a;
}

static int query_u64(struct api_req *r, const char *name, uint64_t *out)
{
    const char *v = api_query(r, name);
    char *end = NULL;
    if (v == NULL || *v == '\0' || *v == '-') {
        return api_fail(r, KM_EINVAL, "parameter_missing", name, "%s is required", name);
    }
    unsigned long long n = strtoull(v, &end, 10);
    if (*end != '\0') {
        return api_fail(r, KM_EINVAL, "parameter_invalid_type", name,
                        "%s must be a whole number", name);
    }
    *out = n;
    return 0;
}

/* The latest checkpoint, read in r's read transaction. */
static int latest(struct api_req *r, int64_t *size, uint8_t root[32], char **note)
{
    int rc = store_log_checkpoint_latest(r->db, size, root, note);
    if (rc == -KM_ENOTFOUND) {
        return api_fail(r, KM_ENOTFOUND, "no_checkpoint", NULL,
                        "the log has no signed checkpoint yet");
    }
    return rc == 0 ? 0 : api_fail(r, KM_EINTERNAL, "storage_error", NULL, "log unavailable");
}

int api_log_checkpoint(struct api_req *r)
{
    int64_t size = 0;
    uint8_t root[32];
    char *note = NULL;
    if (latest(r, &size, root, &note) != 0) {
        return 0;
    }
    char key[NOTE_KEY_TEXT_BYTES_MAX];
    evlog_verifier_text(key, sizeof key);
    json_t *v = json_pack("{s:s, s:I, s:o, s:s, s:s}", "object", "checkpoint", "size",
                          (json_int_t)size, "root", b64(root, 32), "note", note, "verifier_key",
                          key);
    free(note);
    return api_ok(r, 200, v);
}

static json_t *entry_json(const struct log_entry_row *row)
{
    return json_pack("{s:I, s:s, s:o, s:s%, s:o}", "index", (json_int_t)row->seq, "kind",
                     row->kind, "order_id",
                     row->order_id[0] ? json_string(row->order_id) : json_null(), "entry",
                     (const char *)row->entry, row->entry_len, "leaf_hash",
                     b64(row->leaf_hash, 32));
}

int api_log_entries(struct api_req *r)
{
    /* Entries name orders and what happened to them: staff read them; a buyer reads their own
     * in the order's receipt. Checkpoints and proofs are hashes, public to all. */
    if (api_require_role(r, AUTH_AGENT) != 0) {
        return 0;
    }
    uint64_t start = 0;
    int limit = 0;
    if (query_u64(r, "start", &start) != 0 || api_query_limit(r, &limit) != 0) {
        return 0;
    }
    int64_t size = 0;
    if (store_log_size(r->db, &size) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "log unavailable");
    }
    if (start > (uint64_t)size) {
        return api_fail(r, KM_EINVAL, "parameter_out_of_range", "start",
                        "start is at most the log's size (%lld)", (long long)size);
    }
    json_t *data = json_array();
    static __thread struct log_entry_row row;
    for (int64_t seq = (int64_t)start; seq < size && seq < (int64_t)start + limit; seq++) {
        if (store_log_entry_get(r->db, seq, &row) != 0) {
            json_decref(data);
            return api_fail(r, KM_EINTERNAL, "log_incomplete", NULL, "entry %lld is missing",
                            (long long)seq);
        }
        json_array_append_new(data, entry_json(&row));
    }
    bool more = (int64_t)start + limit < size;
    return api_ok(r, 200, json_pack("{s:s, s:o, s:b, s:I}", "object", "list", "data", data,
                                    "has_more", more, "size", (json_int_t)size));
}

int api_log_inclusion(struct api_req *r)
{
    uint64_t index = 0, size = 0;
    if (query_u64(r, "index", &index) != 0 || query_u64(r, "size", &size) != 0) {
        return 0;
    }
    int64_t have = 0;
    if (store_log_size(r->db, &have) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "log unavailable");
    }
    if (size > (uint64_t)have || index >= size) {
        return api_fail(r, KM_EINVAL, "parameter_out_of_range", index >= size ? "index" : "size",
                        "need index < size <= %lld", (long long)have);
    }
    struct merkle_source src;
    evlog_source(r->db, &src);
    static __thread struct merkle_proof proof;
    struct km_error e;
    if (merkle_prove_inclusion(index, size, &src, &proof, &e) != 0) {
        return api_error(r, &e);
    }
    return api_ok(r, 200, json_pack("{s:s, s:I, s:I, s:o}", "object", "inclusion_proof", "index",
                                    (json_int_t)index, "size", (json_int_t)size, "proof",
                                    proof_json(&proof)));
}

int api_log_consistency(struct api_req *r)
{
    uint64_t size1 = 0, size2 = 0;
    if (query_u64(r, "size1", &size1) != 0 || query_u64(r, "size2", &size2) != 0) {
        return 0;
    }
    int64_t have = 0;
    if (store_log_size(r->db, &have) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "log unavailable");
    }
    if (size1 == 0 || size1 > size2 || size2 > (uint64_t)have) {
        return api_fail(r, KM_EINVAL, "parameter_out_of_range", size1 == 0 ? "size1" : "size2",
                        "need 0 < size1 <= size2 <= %lld", (long long)have);
    }
    struct merkle_source src;
    evlog_source(r->db, &src);
    static __thread struct merkle_proof proof;
    struct km_error e;
    if (merkle_prove_consistency(size1, size2, &src, &proof, &e) != 0) {
        return api_error(r, &e);
    }
    return api_ok(r, 200, json_pack("{s:s, s:I, s:I, s:o}", "object", "consistency_proof",
                                    "size1", (json_int_t)size1, "size2", (json_int_t)size2,
                                    "proof", proof_json(&proof)));
}

int api_receipt_json(struct api_req *r, const char *order_id, json_t **out)
{
    *out = NULL;
    struct order o;
    if (store_order_get(r->db, order_id, &o) != 0) {
        return api_fail(r, KM_ENOTFOUND, "resource_missing", "order_id", "no such order: %s",
                        order_id);
    }
    static __thread int64_t seqs[RECEIPT_ENTRIES_MAX];
    int n = 0;
    int64_t size = 0;
    uint8_t root[32];
    char *note = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        free(note);
        note = NULL;
        if (store_log_entries_of_order(r->db, order_id, seqs, RECEIPT_ENTRIES_MAX, &n) != 0) {
            return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "log unavailable");
        }
        int rc = store_log_checkpoint_latest(r->db, &size, root, &note);
        if (rc == 0 && (n == 0 || seqs[n - 1] < size)) {
            break;
        }
        /* The newest entries are not under a checkpoint yet: sign one now. */
        jobs_sign_checkpoint();
    }
    if (note == NULL || (n > 0 && seqs[n - 1] >= size)) {
        free(note);
        return api_fail(r, KM_ESTATE, "no_checkpoint", NULL,
                        "no signed checkpoint covers this order yet; try again shortly");
    }
    if (db_begin_read(r->db) != 0) {
        free(note);
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "log unavailable");
    }
    struct merkle_source src;
    evlog_source(r->db, &src);
    json_t *entries = json_array();
    static __thread struct log_entry_row row;
    static __thread struct merkle_proof proof;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        struct km_error e;
        rc = store_log_entry_get(r->db, seqs[i], &row);
        rc = rc != 0 ? rc : merkle_prove_inclusion((uint64_t)seqs[i], (uint64_t)size, &src, &proof, &e);
        if (rc == 0) {
            json_t *v = entry_json(&row);
            json_object_set_new(v, "proof", proof_json(&proof));
            json_array_append_new(entries, v);
        }
    }
    db_rollback(r->db);
    if (rc != 0) {
        free(note);
        json_decref(entries);
        return api_fail(r, KM_EINTERNAL, "log_incomplete", NULL, "the receipt cannot be built");
    }
    char key[NOTE_KEY_TEXT_BYTES_MAX];
    evlog_verifier_text(key, sizeof key);
    *out = json_pack("{s:s, s:i, s:s, s:s, s:s, s:I, s:o}", "object", "receipt", "version", 1,
                     "order_id", order_id, "verifier_key", key, "checkpoint", note, "tree_size",
                     (json_int_t)size, "entries", entries);
    free(note);
    return 0;
}

int api_order_receipt(struct api_req *r)
{
    const char *order_id = r->seg[2];
    if (api_require_order_access(r, order_id) != 0) {
        return 0;
    }
    json_t *receipt = NULL;
    if (api_receipt_json(r, order_id, &receipt) != 0) {
        return 0;
    }
    return api_ok(r, 200, receipt);
}
