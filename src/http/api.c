/* Helpers every handler shares: strict JSON input, the error object, the status mapping. */
#include "http/api.h"

#include <microhttpd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/signature.h"
#include "core/clock.h"
#include "domain/money.h"

static _Atomic int64_t money_max_fen = MONEY_FEN_MAX_DEFAULT;

static char public_url[256] = "http://127.0.0.1:8080";

static _Atomic bool sandbox_on = true;

bool api_sandbox_enabled(void)
{
    return atomic_load(&sandbox_on);
}

void api_set_sandbox(bool on)
{
    atomic_store(&sandbox_on, on);
}

const char *api_public_url(void)
{
    return public_url;
}

void api_set_public_url(const char *url)
{
    snprintf(public_url, sizeof public_url, "%s", url);
}

int64_t api_money_max(void)
{
    return atomic_load(&money_max_fen);
}

void api_set_money_max(int64_t fen)
{
    atomic_store(&money_max_fen, fen);
}

int api_status_for(int code)
{
    switch (code) {
    case KM_OK:
        return 200;
    case KM_EINVAL:
        return 400;
    case KM_EAUTH:
        return 401;
    case KM_EFORBIDDEN:
        return 403;
    case KM_ENOTFOUND:
        return 404;
    case KM_EMETHOD:
        return 405;
    case KM_ESTATE:
    case KM_ESTOCK:
    case KM_EINFLIGHT:
    case KM_EDUPLICATE:
        return 409;
    case KM_ETOOLARGE:
        return 413;
    case KM_EMEDIA:
        return 415;
    case KM_EIDEMPOTENCY:
        return 422;
    case KM_ERATE:
        return 429;
    case KM_ESIGNATURE:
        return 400;
    case KM_EBUSY:
        return 503;
    default:
        return 500;
    }
}

static const char *type_for(int code)
{
    switch (code) {
    case KM_EAUTH:
    case KM_EFORBIDDEN:
        return "authentication_error";
    case KM_EIDEMPOTENCY:
    case KM_EINFLIGHT:
        return "idempotency_error";
    case KM_ERATE:
        return "rate_limit_error";
    case KM_ESIGNATURE:
        return "signature_error";
    case KM_EINTERNAL:
    case KM_EBUSY:
        return "api_error";
    default:
        return "invalid_request_error";
    }
}

void api_reply_later_drop(struct api_req *r)
{
    if (r->reply_later_kept != NULL) {
        r->reply_later_drop(r->reply_later_kept);
    }
    r->reply_later = NULL;
    r->reply_later_drop = NULL;
    r->reply_later_kept = NULL;
}

int api_ok(struct api_req *r, int status, json_t *body)
{
    api_reply_later_drop(r);
    json_decref(r->reply);
    r->status = status;
    r->reply = body;
    return 0;
}

int api_ok_later(struct api_req *r, int status, json_t *(*build)(void *kept),
                 void (*drop)(void *kept), void *kept)
{
    if (r->idempotency_key[0] != '\0') {
        return api_ok(r, status, build(kept));
    }
    api_reply_later_drop(r);
    json_decref(r->reply);
    r->reply = NULL;
    r->status = status;
    r->reply_later = build;
    r->reply_later_drop = drop;
    r->reply_later_kept = kept;
    return 0;
}

void api_reply_build(struct api_req *r)
{
    if (r->reply_later_kept == NULL) {
        return;
    }
    if (r->reply != NULL || r->reply_text != NULL) {
        api_reply_later_drop(r); /* answered otherwise: the commit failed */
        return;
    }
    void *kept = r->reply_later_kept;
    r->reply_later_kept = NULL;
    r->reply = r->reply_later(kept);
    api_reply_later_drop(r);
}

/* Messages and params quote what the caller sent (a path, a field name cut to fit a buffer),
 * which need not be valid UTF-8; jansson refuses such strings. Drop a multi-byte character cut in
 * half at the end, else replace every non-ASCII byte, so that an error is always an answer. */
static json_t *text_json(const char *s)
{
    json_t *v = json_string(s);
    if (v != NULL) {
        return v;
    }
    size_t n = strlen(s);
    for (size_t cut = 1; cut <= 3 && cut <= n; cut++) {
        v = json_stringn(s, n - cut);
        if (v != NULL) {
            return v;
        }
    }
    char *copy = malloc(n + 1);
    km_assert(copy != NULL);
    for (size_t i = 0; i < n; i++) {
        copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    }
    copy[n] = '\0';
    v = json_string(copy);
    free(copy);
    km_assert(v != NULL);
    return v;
}

int api_error(struct api_req *r, const struct km_error *e)
{
    json_t *err = json_pack("{s:s, s:s, s:o, s:s}", "type", type_for(e->code), "code", e->reason,
                            "message", text_json(e->message), "request_id", r->request_id);
    km_assert(err != NULL);
    json_object_set_new(err, "param", e->param[0] != '\0' ? text_json(e->param) : json_null());
    api_reply_later_drop(r);
    json_decref(r->reply);
    r->reply = json_pack("{s:o}", "error", err);
    r->status = api_status_for(e->code);
    return -e->code;
}

int api_fail(struct api_req *r, int code, const char *reason, const char *param, const char *fmt,
             ...)
{
    struct km_error e;
    e.code = code;
    snprintf(e.reason, sizeof e.reason, "%s", reason);
    snprintf(e.param, sizeof e.param, "%s", param != NULL ? param : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    return api_error(r, &e);
}

int api_text(struct api_req *r, int status, const char *content_type, char *text)
{
    free(r->reply_text);
    r->status = status;
    r->reply_text = text;
    r->reply_text_len = 0;
    r->reply_type = content_type;
    return 0;
}

int api_bytes(struct api_req *r, int status, const char *content_type, void *data, size_t len)
{
    free(r->reply_text);
    r->status = status;
    r->reply_text = data;
    r->reply_text_len = len;
    r->reply_type = content_type;
    return 0;
}

int api_write(struct api_req *r, api_write_fn fn, void *arg, void (*free_arg)(void *))
{
    km_assert(r->write_fn == NULL);
    r->write_fn = fn;
    r->write_arg = arg;
    r->write_free = free_arg;
    return 0;
}

int api_write_rerunnable(struct api_req *r, api_write_fn fn, void *arg,
                         void (*free_arg)(void *))
{
    r->write_rerunnable = true;
    return api_write(r, fn, arg, free_arg);
}

/* A number too large for a 64-bit integer fails the strict parse; parse again with integers as
 * reals only to name the field that overflowed. */
static const char *find_huge_number(json_t *v, char *path, size_t path_len)
{
    if (json_is_real(v) && (json_real_value(v) > 9.2e18 || json_real_value(v) < -9.2e18)) {
        return path;
    }
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach(v, k, child)
        {
            size_t used = strlen(path);
            snprintf(path + used, path_len - used, "%s%s", used > 0 ? "." : "", k);
            if (find_huge_number(child, path, path_len) != NULL) {
                return path;
            }
            path[used] = '\0';
        }
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            size_t used = strlen(path);
            snprintf(path + used, path_len - used, "[%zu]", i);
            if (find_huge_number(child, path, path_len) != NULL) {
                return path;
            }
            path[used] = '\0';
        }
    }
    return NULL;
}

/* The top-level key whose value holds byte `at` of a body jansson refused, found by scanning the
 * raw text: strings (with escapes), nesting, and which strings at depth 1 are keys. Only plain
 * [A-Za-z0-9_] keys are named; anything else leaves `out` empty. */
static void field_at(const char *b, size_t n, size_t at, char *out, size_t out_len)
{
    int depth = 0;
    bool in_str = false, str_is_key = false;
    char prev = '\0'; /* the last significant character outside strings */
    size_t key_start = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i <= at; i++) {
        char c = b[i];
        if (in_str) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_str = false;
                if (str_is_key) {
                    size_t len = i - key_start;
                    out[0] = '\0';
                    if (len > 0 && len < out_len) {
                        bool plain = true;
                        for (size_t k = key_start; k < i; k++) {
                            char kc = b[k];
                            plain = plain && ((kc >= 'a' && kc <= 'z') || (kc >= 'A' && kc <= 'Z') ||
                                              (kc >= '0' && kc <= '9') || kc == '_');
                        }
                        if (plain) {
                            memcpy(out, b + key_start, len);
                            out[len] = '\0';
                        }
                    }
                }
                prev = '"';
            }
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            continue;
        }
        if (c == '"') {
            in_str = true;
            str_is_key = depth == 1 && (prev == '{' || prev == ',');
            if (str_is_key) {
                /* A bad byte in a key names no field. */
                out[0] = '\0';
            }
            key_start = i + 1;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        }
        prev = c;
    }
    if (depth < 1 || (in_str && str_is_key)) {
        out[0] = '\0';
    }
}

int api_body_object(struct api_req *r, const char *const *allowed, json_t **out)
{
    *out = NULL;
    if (strncmp(r->content_type, "application/json", 16) != 0 ||
        (r->content_type[16] != '\0' && r->content_type[16] != ';')) {
        return api_fail(r, KM_EMEDIA, "unsupported_media_type", "Content-Type",
                        "send the body as application/json");
    }
    if (r->body == NULL || r->body_len == 0) {
        return api_fail(r, KM_EINVAL, "body_missing", NULL, "the request needs a JSON object body");
    }
    if (memchr(r->body, '\0', r->body_len) != NULL) {
        return api_fail(r, KM_EINVAL, "json_invalid", NULL, "the body contains a NUL byte");
    }
    json_error_t err;
    json_t *root = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL) {
        if (strstr(err.text, "too big") != NULL) {
            json_t *loose = json_loadb(r->body, r->body_len, JSON_DECODE_INT_AS_REAL, &err);
            char path[128] = "";
            const char *field = loose != NULL ? find_huge_number(loose, path, sizeof path) : NULL;
            int rc = api_fail(r, KM_EINVAL, "number_too_large", field,
                              "a number in the body is too large%s%s", field ? ": " : "",
                              field ? field : "");
            json_decref(loose);
            return rc;
        }
        char field[64] = "";
        if (strstr(err.text, "duplicate object key") != NULL) {
            /* The error ends at the repeated key's closing quote: name the top-level field that
             * is, or holds, the repeated key. jansson quotes short keys as near '"name"'. */
            if (err.position > 0) {
                field_at(r->body, r->body_len, (size_t)err.position - 1, field, sizeof field);
            }
            const char *q = strstr(err.text, "near '\"");
            char key[64] = "";
            if (q != NULL) {
                snprintf(key, sizeof key, "%s", q + 7);
                char *end = strrchr(key, '"');
                if (end != NULL) {
                    *end = '\0';
                }
            }
            return api_fail(r, KM_EINVAL, "duplicate_key", field[0] ? field : NULL,
                            "a key appears twice in the body%s%s%s", key[0] ? ": '" : "", key,
                            key[0] ? "'" : "");
        }
        /* Bad bytes or escapes inside a string: name the field whose value holds them. */
        if (err.position > 0 && (strstr(err.text, "unable to decode byte") != NULL ||
                                 strstr(err.text, "invalid Unicode") != NULL ||
                                 strstr(err.text, "is not allowed without JSON_ALLOW_NUL") != NULL)) {
            field_at(r->body, r->body_len, (size_t)err.position - 1, field, sizeof field);
        }
        return api_fail(r, KM_EINVAL, "json_invalid", field[0] ? field : NULL,
                        "the body is not valid JSON%s%s: %s (at %d)", field[0] ? " in " : "",
                        field, err.text, err.position);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return api_fail(r, KM_EINVAL, "json_invalid", NULL, "the body must be a JSON object");
    }
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        bool ok = false;
        for (int i = 0; allowed != NULL && allowed[i] != NULL; i++) {
            if (strcmp(allowed[i], k) == 0) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            char name[64];
            snprintf(name, sizeof name, "%s", k);
            json_decref(root);
            return api_fail(r, KM_EINVAL, "parameter_unknown", name, "unknown parameter: %s",
                            name);
        }
    }
    *out = root;
    return 0;
}

int api_signed_body(struct api_req *r, void (*key_fn)(uint8_t out[32]), const char *const *allowed,
                    json_t **out)
{
    *out = NULL;
    uint8_t key[32];
    key_fn(key);
    struct km_error e;
    int rc = signature_verify(key, r->signature, r->body != NULL ? r->body : "", r->body_len,
                              clock_now_ms(), &e);
    sodium_memzero(key, sizeof key);
    if (rc != 0) {
        return api_error(r, &e);
    }
    return api_body_object(r, allowed, out);
}

static bool utf8_clean(const char *s, size_t n)
{
    /* jansson already rejects invalid UTF-8; control characters we reject ourselves. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            return false;
        }
    }
    return true;
}

int api_field_string(struct api_req *r, json_t *obj, const char *name, bool required,
                     size_t max_bytes, const char **out)
{
    json_t *v = json_object_get(obj, name);
    if (v == NULL || json_is_null(v)) {
        if (required) {
            return api_fail(r, KM_EINVAL, "parameter_missing", name, "%s is required", name);
        }
        return 0;
    }
    if (!json_is_string(v)) {
        return api_fail(r, KM_EINVAL, "parameter_invalid_type", name, "%s must be a string", name);
    }
    size_t n = json_string_length(v);
    if (n == 0 && required) {
        return api_fail(r, KM_EINVAL, "parameter_missing", name, "%s must not be empty", name);
    }
    if (n > max_bytes) {
        return api_fail(r, KM_EINVAL, "parameter_too_long", name, "%s is over %zu bytes", name,
                        max_bytes);
    }
    if (!utf8_clean(json_string_value(v), n)) {
        return api_fail(r, KM_EINVAL, "parameter_invalid", name,
                        "%s contains control characters", name);
    }
    *out = json_string_value(v);
    return 0;
}

int api_field_int(struct api_req *r, json_t *obj, const char *name, bool required, int64_t min,
                  int64_t max, int64_t *out)
{
    json_t *v = json_object_get(obj, name);
    if (v == NULL || json_is_null(v)) {
        if (required) {
            return api_fail(r, KM_EINVAL, "parameter_missing", name, "%s is required", name);
        }
        return 0;
    }
    if (!json_is_integer(v)) {
        return api_fail(r, KM_EINVAL, "parameter_invalid_type", name,
                        "%s must be a JSON integer (no quotes, no decimal point)", name);
    }
    json_int_t n = json_integer_value(v);
    if (n < min || n > max) {
        return api_fail(r, KM_EINVAL, "parameter_out_of_range", name,
                        "%s must be between %lld and %lld", name, (long long)min, (long long)max);
    }
    *out = n;
    return 0;
}

int api_field_money(struct api_req *r, json_t *obj, const char *name, bool required, int64_t *out)
{
    json_t *v = json_object_get(obj, name);
    if (v == NULL || json_is_null(v)) {
        if (required) {
            return api_fail(r, KM_EINVAL, "parameter_missing", name, "%s is required", name);
        }
        return 0;
    }
    if (!json_is_integer(v)) {
        return api_fail(r, KM_EINVAL, "amount_invalid_type", name,
                        "%s is money: a JSON integer of fen (1 CNY = 100), not a %s", name,
                        json_is_real(v) ? "decimal" : json_is_string(v) ? "string" : "non-number");
    }
    struct km_error e;
    if (money_check_positive(json_integer_value(v), api_money_max(), name, &e) != 0) {
        return api_error(r, &e);
    }
    *out = json_integer_value(v);
    return 0;
}

int api_field_bool(struct api_req *r, json_t *obj, const char *name, bool required, bool *out)
{
    json_t *v = json_object_get(obj, name);
    if (v == NULL || json_is_null(v)) {
        if (required) {
            return api_fail(r, KM_EINVAL, "parameter_missing", name, "%s is required", name);
        }
        return 0;
    }
    if (!json_is_boolean(v)) {
        return api_fail(r, KM_EINVAL, "parameter_invalid_type", name, "%s must be true or false",
                        name);
    }
    *out = json_is_true(v);
    return 0;
}

const char *api_query(struct api_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

int api_query_int(struct api_req *r, const char *name, long lo, long hi, long def, long *out)
{
    *out = def;
    const char *v = api_query(r, name);
    if (v == NULL) {
        return 0;
    }
    char *end = NULL;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < lo || n > hi) {
        return api_fail(r, KM_EINVAL, "parameter_out_of_range", name,
                        "%s must be an integer from %ld to %ld", name, lo, hi);
    }
    *out = n;
    return 0;
}

int api_query_limit(struct api_req *r, int *limit)
{
    long n = 0;
    int rc = api_query_int(r, "limit", 1, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT, &n);
    *limit = (int)n;
    return rc;
}

int api_query_page(struct api_req *r, struct api_page *page)
{
    const char *after = api_query(r, "starting_after");
    page->after = after != NULL ? after : "";
    return api_query_limit(r, &page->limit);
}

int api_require_role(struct api_req *r, enum auth_role role)
{
    if (r->auth.role == AUTH_NONE) {
        return api_fail(r, KM_EAUTH, "authentication_required", "Authorization",
                        "this needs an API key");
    }
    if (r->auth.role != role && r->auth.role != AUTH_ADMIN) {
        return api_fail(r, KM_EFORBIDDEN, "forbidden", "Authorization",
                        "this API key's role may not do this");
    }
    return 0;
}

int api_require_order_access(struct api_req *r, const char *order_id)
{
    if (r->auth.role == AUTH_ADMIN || r->auth.role == AUTH_AGENT) {
        return 0;
    }
    if (r->auth.role == AUTH_BUYER && strcmp(r->auth.order_id, order_id) == 0) {
        return 0;
    }
    if (r->auth.role == AUTH_NONE) {
        return api_fail(r, KM_EAUTH, "authentication_required", "Authorization",
                        "use the order's buyer token, or look the order up with its password");
    }
    /* Another buyer's token, or a seller's key for another order: as if it did not exist. */
    return api_fail(r, KM_ENOTFOUND, "resource_missing", "order_id", "no such order: %s",
                    order_id);
}

json_t *api_time(int64_t unix_ms)
{
    if (unix_ms == 0) {
        return json_null();
    }
    char buf[40];
    return json_string(clock_format(unix_ms, buf, sizeof buf));
}
