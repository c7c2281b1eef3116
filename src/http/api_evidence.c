/* Evidence uploads: images and PDFs, checked by their first bytes (not by what the client
 * claims), limited in size, stored content-addressed within the order, and served back only as
 * attachments so a browser never renders them in the shop's origin. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/sha256.h"
#include "http/api.h"
#include "http/api_handlers.h"
#include "store/store.h"
#include "store/store_refunds.h"

#define EVIDENCE_FILENAME_BYTES_MAX 100

static const char *sniff(const unsigned char *b, size_t n)
{
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) {
        return "image/png";
    }
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) {
        return "image/jpeg";
    }
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0) {
        return "image/webp";
    }
    if (n >= 5 && memcmp(b, "%PDF-", 5) == 0) {
        return "application/pdf";
    }
    return NULL;
}

struct upload_arg {
    char order_id[ID_BYTES_MAX];
    char id[ID_BYTES_MAX];
    char sha256[65];
    char type[32];
    char filename[EVIDENCE_FILENAME_BYTES_MAX + 1];
    char uploaded_by[80];
    const void *data; /* the request body, alive until the request ends */
    size_t size;
};

static int upload_write(struct db *db, struct api_req *r)
{
    struct upload_arg *a = r->write_arg;
    if (store_evidence_insert(db, a->id, a->order_id, a->sha256, a->type, a->data, a->size,
                              a->filename, a->uploaded_by, clock_now_ms()) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "the evidence was not stored");
    }
    return api_ok(r, 201,
                  json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "id", a->id, "object",
                            "evidence", "order_id", a->order_id, "sha256", a->sha256,
                            "content_type", a->type, "size", (json_int_t)a->size, "filename",
                            a->filename));
}

int api_evidence_upload(struct api_req *r)
{
    const char *order_id = r->seg[2];
    if (api_require_order_access(r, order_id) != 0) {
        return 0;
    }
    if (r->body == NULL || r->body_len == 0) {
        return api_fail(r, KM_EINVAL, "body_missing", "file", "send the file as the request body");
    }
    const char *kind = sniff((const unsigned char *)r->body, r->body_len);
    if (kind == NULL) {
        return api_fail(r, KM_EMEDIA, "unsupported_evidence_type", "Content-Type",
                        "evidence is a PNG, JPEG or WebP image or a PDF");
    }
    if (strncmp(r->content_type, kind, strlen(kind)) != 0) {
        return api_fail(r, KM_EMEDIA, "content_type_mismatch", "Content-Type",
                        "the file is %s but was sent as %s", kind,
                        r->content_type[0] ? "something else" : "nothing");
    }
    struct order o;
    if (store_order_get(r->db, order_id, &o) != 0) {
        return api_fail(r, KM_ENOTFOUND, "resource_missing", "order_id", "no such order");
    }
    int64_t held = 0;
    if (store_evidence_count(r->db, order_id, &held) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "evidence unavailable");
    }
    if (held >= EVIDENCE_PER_ORDER_MAX) {
        return api_fail(r, KM_ESTATE, "too_much_evidence", "file",
                        "an order holds at most %d pieces of evidence", EVIDENCE_PER_ORDER_MAX);
    }
    struct upload_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    uint8_t digest[KM_SHA256_BYTES];
    km_sha256(r->body, r->body_len, digest);
    sodium_bin2hex(a->sha256, sizeof a->sha256, digest, sizeof digest);
    snprintf(a->id, sizeof a->id, "ev_%.32s", a->sha256);
    snprintf(a->order_id, sizeof a->order_id, "%s", order_id);
    snprintf(a->type, sizeof a->type, "%s", kind);
    const char *name = api_query(r, "filename");
    /* A file name is only a label: printable ASCII, no paths. */
    size_t j = 0;
    for (size_t i = 0; name != NULL && name[i] != '\0' && j < EVIDENCE_FILENAME_BYTES_MAX; i++) {
        char ch = name[i];
        if (ch > 0x20 && ch < 0x7f && ch != '/' && ch != '\\' && ch != '"') {
            a->filename[j++] = ch;
        }
    }
    a->filename[j] = '\0';
    snprintf(a->uploaded_by, sizeof a->uploaded_by, "%s",
             r->auth.role == AUTH_BUYER ? "buyer" : r->auth.principal);
    a->data = r->body;
    a->size = r->body_len;
    return api_write(r, upload_write, a, free);
}

int api_evidence_download(struct api_req *r)
{
    const char *order_id = r->seg[2];
    if (api_require_order_access(r, order_id) != 0) {
        return 0;
    }
    char type[32], name[EVIDENCE_FILENAME_BYTES_MAX + 1];
    int64_t size = 0;
    void *data = NULL;
    size_t n = 0;
    if (store_evidence_meta(r->db, order_id, r->seg[4], type, sizeof type, &size, name,
                            sizeof name) != 0 ||
        store_evidence_data(r->db, order_id, r->seg[4], &data, &n) != 0) {
        return api_fail(r, KM_ENOTFOUND, "resource_missing", "evidence_id", "no such evidence");
    }
    static const char *const types[] = {"image/png", "image/jpeg", "image/webp",
                                        "application/pdf"};
    const char *served = "application/octet-stream";
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(types[i], type) == 0) {
            served = types[i];
        }
    }
    r->attachment = true;
    return api_bytes(r, 200, served, data, n);
}
