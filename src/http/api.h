/* The request context every handler receives, and the helpers handlers share: reading JSON
 * fields strictly, answering, and handing a command to the writer. Handlers are thin: parse and
 * check input, call one service function, shape the answer. */
#ifndef KM_API_H
#define KM_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/check.h"
#include "core/err.h"
#include "core/ids.h"
#include "core/limits.h"
#include "service/executor.h"
#include "store/db.h"

struct MHD_Connection;
struct route;

enum auth_role { AUTH_NONE = 0, AUTH_BUYER, AUTH_ADMIN, AUTH_AGENT, AUTH_SELLER };

struct auth {
    enum auth_role role;
    char principal[80];          /* "key:<id>", "buyer:<order id>" or "anon" — scopes idempotency */
    char key_id[ID_BYTES_MAX];   /* API keys */
    char seller_id[ID_BYTES_MAX];
    char order_id[ID_BYTES_MAX]; /* buyer tokens open exactly one order */
};

struct api_req;
typedef int (*api_write_fn)(struct db *db, struct api_req *r);

struct api_req {
    struct MHD_Connection *conn;
    const char *method;
    char path[HTTP_PATH_BYTES_MAX];
    int seg_count;
    char *seg[HTTP_PATH_SEGMENTS_MAX]; /* path split on '/', pointing into seg_buf */
    char seg_buf[HTTP_PATH_BYTES_MAX];
    char request_id[ID_BYTES_MAX];
    char ip[64];
    char content_type[HTTP_HEADER_VALUE_BYTES_MAX];
    char idempotency_key[IDEMPOTENCY_KEY_BYTES_MAX + 1];
    bool idempotency_key_invalid;  /* present but too long */
    char authorization[HTTP_HEADER_VALUE_BYTES_MAX];
    char signature[HTTP_HEADER_VALUE_BYTES_MAX];   /* callbacks: Kameng-Signature */
    const struct route *route;                     /* matched when the headers arrive */
    bool path_found;                               /* the path exists (for 405 vs 404) */
    size_t body_limit;                             /* bytes this route accepts */
    char *body;                                    /* NUL-terminated */
    size_t body_len;
    size_t body_cap;
    bool body_too_large;
    bool body_refuse_early;                        /* answered before the body is read */
    size_t body_read;                              /* of a body over the limit: bytes so far */
    struct auth auth;
    struct db *db;                                 /* this thread's reader connection */

    /* The answer. */
    int status;
    json_t *reply;           /* owned */
    char *reply_text;        /* for non-JSON answers (metrics, pages, files), owned */
    size_t reply_text_len;   /* 0: strlen(reply_text); set for binary answers */
    bool attachment;         /* serve as a download, never rendered in the shop's origin */
    const char *reply_type;  /* content type of reply_text */

    /* Slow work that is not a write (a test-clock advance runs every timer): done on a thread of
     * its own while the connection is suspended, so no server thread waits on it. */
    int (*async_fn)(struct api_req *r);

    /* A write handed to the executor. */
    api_write_fn write_fn;
    void *write_arg;          /* handler state carried to the writer, freed with write_free */
    void (*write_free)(void *arg);
    bool write_rerunnable;    /* see api_write_rerunnable */
    void *cmd_mem;            /* the executor's command, freed with the request */
    /* A write's answer built after the commit, on a server thread, from what the write kept
     * (api_ok_later): every write waits for the one writer, so it spends no time on JSON. */
    json_t *(*reply_later)(void *kept);
    void (*reply_later_drop)(void *kept);
    void *reply_later_kept;
    struct fence_wait fence;  /* an answer from a read waiting for the WAL sync */
    bool write_queued;
    bool write_finished;
    uint8_t request_hash[32];
    int64_t started_us;
    const char *route_name;
};

/* Answers. Each returns 0 so handlers can `return api_ok(r, 200, obj)`. */
int api_ok(struct api_req *r, int status, json_t *body /* stolen */);
/* The same, for a write: build(kept) makes the answer once the write is committed and synced,
 * on the server thread that sends it, and frees kept; drop(kept) frees it unbuilt (the commit
 * failed, or the client left). A request with an Idempotency-Key has its answer built at once:
 * it is stored in the same transaction. */
int api_ok_later(struct api_req *r, int status, json_t *(*build)(void *kept),
                 void (*drop)(void *kept), void *kept /* stolen */);
/* Build a postponed answer, if there is one and no other answer replaced it. */
void api_reply_build(struct api_req *r);
/* Free a postponed answer's kept state without building it. */
void api_reply_later_drop(struct api_req *r);
int api_error(struct api_req *r, const struct km_error *e);
/* Shorthand: build a km_error and answer it. */
int api_fail(struct api_req *r, int code, const char *reason, const char *param, const char *fmt,
             ...) __attribute__((format(printf, 5, 6)));
int api_text(struct api_req *r, int status, const char *content_type, char *text /* stolen */);
/* A binary answer of len bytes (evidence files). */
int api_bytes(struct api_req *r, int status, const char *content_type, void *data /* stolen */,
              size_t len);
/* The HTTP status for an error code: the one mapping. */
int api_status_for(int code);

/* Hand `fn` to the writer; the answer is whatever fn leaves in r (api_ok/api_error). */
int api_write(struct api_req *r, api_write_fn fn, void *arg, void (*free_arg)(void *));
/* The same for a fn that may run twice (write_cmd.rerunnable): it changes nothing outside the
 * database but r's answer, which a second run replaces, and leaves its arg as it found it. */
int api_write_rerunnable(struct api_req *r, api_write_fn fn, void *arg,
                         void (*free_arg)(void *));

/* Input. The body must be a JSON object with only the listed keys. 0 or an answered error. */
int api_body_object(struct api_req *r, const char *const *allowed, json_t **out);
/* A signed callback's body: the Kameng-Signature header must verify with the key key_fn gives
 * over the raw body (400 signature_error otherwise), then as api_body_object. */
int api_signed_body(struct api_req *r, void (*key_fn)(uint8_t out[32]), const char *const *allowed,
                    json_t **out);
/* Field readers: 0 and *out set (or left at its default when absent and optional), or -code with
 * the error already answered. */
int api_field_string(struct api_req *r, json_t *obj, const char *name, bool required,
                     size_t max_bytes, const char **out);
int api_field_int(struct api_req *r, json_t *obj, const char *name, bool required, int64_t min,
                  int64_t max, int64_t *out);
int api_field_money(struct api_req *r, json_t *obj, const char *name, bool required,
                    int64_t *out);
int api_field_bool(struct api_req *r, json_t *obj, const char *name, bool required, bool *out);
/* A query integer from lo to hi, def when absent; nonzero after answering 400 naming it. */
int api_query_int(struct api_req *r, const char *name, long lo, long hi, long def, long *out);
/* Query string: ?limit=&starting_after= */
int api_query_limit(struct api_req *r, int *limit);
/* A list's page: limit (checked, as api_query_limit) and the cursor, "" when absent. */
struct api_page {
    int limit;
    const char *after;
};
int api_query_page(struct api_req *r, struct api_page *page);
const char *api_query(struct api_req *r, const char *name);

/* Auth checks: 0, or -code with 401/403/404 answered. A buyer token only opens its own order. */
int api_require_role(struct api_req *r, enum auth_role role);
int api_require_order_access(struct api_req *r, const char *order_id);

/* The shop's own base URL, where the sandboxes send their callbacks. */
const char *api_public_url(void);
void api_set_public_url(const char *url);

/* Whether the sandbox provider's own endpoints (/v1/sandbox/...) are served. They let anyone
 * complete a payment: only for demos and tests, never with real money. */
bool api_sandbox_enabled(void);
void api_set_sandbox(bool on);

/* The configured money ceiling. */
int64_t api_money_max(void);
void api_set_money_max(int64_t fen);

/* "2026-…Z" string for a unix-ms time, or JSON null for 0. */
json_t *api_time(int64_t unix_ms);

#endif
