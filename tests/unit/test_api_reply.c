/* A write's answer built after the commit (api_ok_later): built once, on the thread that sends
 * it; built at once when an Idempotency-Key stores it with the write; never built, but freed,
 * when an error replaces it or the client leaves. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>

#include "core/err.h"
#include "http/api.h"

static int built, dropped;

static json_t *build(void *kept)
{
    built++;
    json_t *v = json_pack("{s:i}", "n", *(int *)kept);
    free(kept);
    return v;
}

static void drop(void *kept)
{
    dropped++;
    free(kept);
}

static int *kept_int(int n)
{
    int *p = malloc(sizeof *p);
    cr_assert_not_null(p);
    *p = n;
    return p;
}

static struct api_req *new_req(void)
{
    built = dropped = 0;
    struct api_req *r = calloc(1, sizeof *r);
    cr_assert_not_null(r);
    return r;
}

static void free_req(struct api_req *r)
{
    api_reply_later_drop(r);
    json_decref(r->reply);
    free(r);
}

Test(api_reply, is_built_after_the_write_on_the_sending_thread)
{
    struct api_req *r = new_req();
    cr_assert_eq(api_ok_later(r, 201, build, drop, kept_int(7)), 0);
    cr_assert_eq(r->status, 201);
    cr_assert_null(r->reply, "nothing is built in the write");
    cr_assert_eq(built, 0);
    api_reply_build(r);
    cr_assert_eq(built, 1);
    cr_assert_eq(json_integer_value(json_object_get(r->reply, "n")), 7);
    api_reply_build(r); /* a second call builds nothing */
    cr_assert_eq(built, 1);
    free_req(r);
    cr_assert_eq(dropped, 0);
}

Test(api_reply, is_built_at_once_when_an_idempotency_key_stores_it)
{
    struct api_req *r = new_req();
    snprintf(r->idempotency_key, sizeof r->idempotency_key, "k1");
    cr_assert_eq(api_ok_later(r, 201, build, drop, kept_int(3)), 0);
    cr_assert_eq(built, 1);
    cr_assert_not_null(r->reply);
    free_req(r);
    cr_assert_eq(dropped, 0);
}

Test(api_reply, an_error_replaces_it_and_what_it_kept_is_freed)
{
    struct api_req *r = new_req();
    cr_assert_eq(api_ok_later(r, 201, build, drop, kept_int(1)), 0);
    struct km_error e;
    km_fail(&e, KM_EINTERNAL, "storage_error", NULL, "the write could not be committed");
    api_error(r, &e); /* the commit failed */
    cr_assert_eq(dropped, 1);
    api_reply_build(r);
    cr_assert_eq(built, 0);
    cr_assert_eq(r->status, 500);
    free_req(r);
    cr_assert_eq(dropped, 1);
}

Test(api_reply, a_client_that_left_gets_nothing_built_and_nothing_leaks)
{
    struct api_req *r = new_req();
    cr_assert_eq(api_ok_later(r, 202, build, drop, kept_int(2)), 0);
    free_req(r);
    cr_assert_eq(built, 0);
    cr_assert_eq(dropped, 1);
}
