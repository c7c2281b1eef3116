/* Products and card-key import. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/card_import.h"
#include "http/api.h"
#include "http/api_handlers.h"
#include "http/views.h"
#include "service/catalog.h"

int api_products_list(struct api_req *r)
{
    struct api_page page;
    if (api_query_page(r, &page) != 0) {
        return 0;
    }
    bool staff = r->auth.role == AUTH_ADMIN || r->auth.role == AUTH_AGENT;
    static __thread struct product rows[LIST_LIMIT_MAX];
    int count = 0;
    bool more = false;
    if (store_product_list(r->db, page.after, page.limit, !staff, rows, &count, &more) !=
        0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "products unavailable");
    }
    json_t *data = json_array();
    for (int i = 0; i < count; i++) {
        json_array_append_new(data, view_product(&rows[i], staff));
    }
    return api_ok(r, 200, view_list(data, more));
}

int api_products_get(struct api_req *r)
{
    struct product p;
    bool staff = r->auth.role == AUTH_ADMIN || r->auth.role == AUTH_AGENT;
    if (store_product_get(r->db, r->seg[2], &p) != 0 || (!p.active && !staff)) {
        return api_fail(r, KM_ENOTFOUND, "resource_missing", "product_id", "no such product: %s",
                        r->seg[2]);
    }
    return api_ok(r, 200, view_product(&p, staff));
}

struct product_arg {
    struct product p;
};

static int product_create_write(struct db *db, struct api_req *r)
{
    struct product_arg *a = r->write_arg;
    struct km_error e;
    if (catalog_product_create(db, &a->p, &e) != 0) {
        return api_error(r, &e);
    }
    struct product stored;
    if (store_product_get(db, a->p.id, &stored) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "product vanished");
    }
    return api_ok(r, 201, view_product(&stored, true));
}

int api_products_create(struct api_req *r)
{
    if (api_require_role(r, AUTH_ADMIN) != 0) {
        return 0;
    }
    static const char *const allowed[] = {"kind",         "name",          "price_fen",
                                          "face_value_fen", "target_format", "regions",
                                          "seller_id",    "refund_window_hours",
                                          "no_reason_days", "topup_timeout_minutes",
                                          "escrow_days",  NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return 0;
    }
    struct product_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    const char *kind = NULL, *name = NULL, *fmt = "none", *regions = "", *seller = "";
    int64_t window = 48, no_reason = 0, timeout = TOPUP_TIMEOUT_MINUTES_DEFAULT, escrow = 0;
    int rc = api_field_string(r, body, "kind", true, 16, &kind);
    rc = rc ? rc : api_field_string(r, body, "name", true, PRODUCT_NAME_BYTES_MAX, &name);
    rc = rc ? rc : api_field_money(r, body, "price_fen", true, &a->p.price_fen);
    rc = rc ? rc : api_field_money(r, body, "face_value_fen", true, &a->p.face_value_fen);
    rc = rc ? rc : api_field_string(r, body, "target_format", false, 16, &fmt);
    rc = rc ? rc : api_field_string(r, body, "regions", false, PRODUCT_REGIONS_BYTES_MAX, &regions);
    rc = rc ? rc : api_field_string(r, body, "seller_id", false, ID_BYTES_MAX - 1, &seller);
    rc = rc ? rc : api_field_int(r, body, "refund_window_hours", false, 0, 1000, &window);
    rc = rc ? rc : api_field_int(r, body, "no_reason_days", false, 0, 1000, &no_reason);
    rc = rc ? rc : api_field_int(r, body, "topup_timeout_minutes", false, 0, 100000, &timeout);
    rc = rc ? rc : api_field_int(r, body, "escrow_days", false, 0, 1000, &escrow);
    if (rc == 0) {
        snprintf(a->p.kind, sizeof a->p.kind, "%s", kind);
        snprintf(a->p.name, sizeof a->p.name, "%s", name);
        snprintf(a->p.target_format, sizeof a->p.target_format, "%s", fmt);
        snprintf(a->p.regions, sizeof a->p.regions, "%s", regions);
        snprintf(a->p.seller_id, sizeof a->p.seller_id, "%s", seller);
        a->p.refund_window_hours = window;
        a->p.no_reason_days = no_reason;
        a->p.topup_timeout_minutes = timeout;
        a->p.escrow_days = escrow;
    }
    json_decref(body);
    if (rc != 0) {
        free(a);
        return 0;
    }
    return api_write(r, product_create_write, a, free);
}

struct import_arg {
    char product_id[ID_BYTES_MAX];
    struct card_import imp;
    struct card_row rows[CARD_IMPORT_ROWS_MAX];
};

static void import_free(void *p)
{
    if (p != NULL) {
        struct import_arg *a = p;
        sodium_memzero(a->rows, sizeof a->rows);
        free(p);
    }
}

static json_t *problems_json(const struct card_import *imp)
{
    json_t *arr = json_array();
    int shown = imp->problem_count < CARD_IMPORT_PROBLEMS_MAX ? imp->problem_count
                                                               : CARD_IMPORT_PROBLEMS_MAX;
    for (int i = 0; i < shown; i++) {
        json_array_append_new(arr, json_pack("{s:i, s:s, s:s}", "line", imp->problems[i].line,
                                             "reason", imp->problems[i].reason, "message",
                                             imp->problems[i].message));
    }
    return arr;
}

static int import_write(struct db *db, struct api_req *r)
{
    struct import_arg *a = r->write_arg;
    struct km_error e;
    char batch[ID_BYTES_MAX] = "";
    int imported = 0;
    if (catalog_cards_import(db, a->product_id, &a->imp, batch, &imported, &e) != 0) {
        api_error(r, &e);
        json_t *err = json_object_get(r->reply, "error");
        if (err != NULL && a->imp.problem_count > 0) {
            json_object_set_new(err, "problems", problems_json(&a->imp));
            json_object_set_new(err, "problem_count", json_integer(a->imp.problem_count));
        }
        return -e.code;
    }
    struct product p;
    if (store_product_get(db, a->product_id, &p) != 0) {
        return api_fail(r, KM_EINTERNAL, "storage_error", NULL, "product vanished");
    }
    return api_ok(r, 201,
                  json_pack("{s:s, s:s, s:s, s:i, s:o}", "object", "card_key_import", "batch_id",
                            batch, "product_id", p.id, "imported", imported, "stock",
                            json_pack("{s:I, s:I, s:I}", "available",
                                      (json_int_t)p.stock_available, "reserved",
                                      (json_int_t)p.stock_reserved, "delivered",
                                      (json_int_t)p.stock_delivered)));
}

static int import_json_rows(struct api_req *r, struct import_arg *a)
{
    static const char *const allowed[] = {"card_keys", NULL};
    json_t *body = NULL;
    if (api_body_object(r, allowed, &body) != 0) {
        return -1;
    }
    json_t *list = json_object_get(body, "card_keys");
    if (!json_is_array(list)) {
        json_decref(body);
        return api_fail(r, KM_EINVAL, "parameter_invalid_type", "card_keys",
                        "card_keys must be an array of {number, password}");
    }
    if (json_array_size(list) > CARD_IMPORT_ROWS_MAX) {
        json_decref(body);
        return api_fail(r, KM_EINVAL, "too_many_rows", "card_keys",
                        "at most %d card keys per import", CARD_IMPORT_ROWS_MAX);
    }
    struct card_problem shape[CARD_IMPORT_PROBLEMS_MAX];
    int shape_count = 0;
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        json_t *num = json_object_get(item, "number");
        json_t *pw = json_object_get(item, "password");
        const char *why = NULL;
        if (!json_is_object(item) || !json_is_string(pw) || (num != NULL && !json_is_string(num)) ||
            json_object_size(item) != (num != NULL ? 2u : 1u)) {
            why = "malformed";
        } else if (json_string_length(pw) > CARD_FIELD_BYTES_MAX ||
                   (num != NULL && json_string_length(num) > CARD_FIELD_BYTES_MAX)) {
            why = "too_long";
        }
        if (why != NULL) {
            if (shape_count < CARD_IMPORT_PROBLEMS_MAX) {
                struct card_problem *pr = &shape[shape_count];
                pr->line = (int)i + 1;
                snprintf(pr->reason, sizeof pr->reason, "%s", why);
                snprintf(pr->message, sizeof pr->message, "%s",
                         why[0] == 'm' ? "each card key is {\"number\": string, \"password\": string}"
                                       : "a field is over 128 bytes");
            }
            shape_count++;
            continue;
        }
        struct card_row *row = &a->rows[a->imp.row_count++];
        memset(row, 0, sizeof *row);
        row->line = (int)i + 1;
        snprintf(row->password, sizeof row->password, "%s", json_string_value(pw));
        if (num != NULL) {
            snprintf(row->number, sizeof row->number, "%s", json_string_value(num));
        }
    }
    json_decref(body);
    card_import_check_rows(&a->imp);
    for (int k = 0; k < shape_count; k++) {
        if (a->imp.problem_count < CARD_IMPORT_PROBLEMS_MAX && k < CARD_IMPORT_PROBLEMS_MAX) {
            a->imp.problems[a->imp.problem_count] = shape[k];
        }
        a->imp.problem_count++;
    }
    return 0;
}

int api_cards_import(struct api_req *r)
{
    if (api_require_role(r, AUTH_ADMIN) != 0) {
        return 0;
    }
    struct import_arg *a = calloc(1, sizeof *a);
    km_assert(a != NULL);
    snprintf(a->product_id, sizeof a->product_id, "%s", r->seg[2]);
    a->imp.rows = a->rows;
    if (strncmp(r->content_type, "text/csv", 8) == 0) {
        struct km_error e;
        if (card_import_parse_csv(r->body != NULL ? r->body : "", r->body_len, &a->imp, &e) != 0) {
            import_free(a);
            return api_error(r, &e);
        }
    } else if (strncmp(r->content_type, "application/json", 16) == 0) {
        if (import_json_rows(r, a) != 0) {
            import_free(a);
            return 0;
        }
    } else {
        import_free(a);
        return api_fail(r, KM_EMEDIA, "unsupported_media_type", "Content-Type",
                        "send card keys as text/csv or application/json");
    }
    if (a->imp.problem_count > 0) {
        api_fail(r, KM_EINVAL, "import_rejected", "file",
                 "%d problem(s) in the file; nothing was imported", a->imp.problem_count);
        json_t *err = json_object_get(r->reply, "error");
        json_object_set_new(err, "problems", problems_json(&a->imp));
        json_object_set_new(err, "problem_count", json_integer(a->imp.problem_count));
        import_free(a);
        return 0;
    }
    return api_write(r, import_write, a, import_free);
}
