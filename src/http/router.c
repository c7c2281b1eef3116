/* Matches a request against the route table in routes.c, segment by segment. */
#include "http/router.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/check.h"
#include "core/limits.h"

extern const struct route routes[];
extern const int route_count;

/* Each pattern split into its segments once, so a request is matched by comparing segment
 * counts and then lengths, without scanning the pattern text for every route. */
struct pattern_seg {
    const char *text; /* into the pattern; not NUL-terminated */
    size_t len;
    bool star;
};
struct compiled_route {
    int seg_count;
    struct pattern_seg seg[HTTP_PATH_SEGMENTS_MAX];
};

static struct compiled_route *compiled;
static pthread_once_t compiled_once = PTHREAD_ONCE_INIT;

static void compile_routes(void)
{
    compiled = calloc((size_t)route_count, sizeof *compiled);
    km_assert(compiled != NULL);
    for (int i = 0; i < route_count; i++) {
        struct compiled_route *c = &compiled[i];
        for (const char *p = routes[i].pattern; *p != '\0';) {
            if (*p == '/') {
                p++;
                continue;
            }
            size_t len = strcspn(p, "/");
            km_assert(c->seg_count < HTTP_PATH_SEGMENTS_MAX); /* a route no request could reach */
            c->seg[c->seg_count++] = (struct pattern_seg){p, len, len == 1 && p[0] == '*'};
            p += len;
        }
    }
}

static bool path_matches(const struct compiled_route *c, const struct api_req *r,
                         const size_t *seg_len)
{
    if (c->seg_count != r->seg_count) {
        return false;
    }
    for (int i = 0; i < c->seg_count; i++) {
        const struct pattern_seg *s = &c->seg[i];
        if (!s->star && (s->len != seg_len[i] || memcmp(s->text, r->seg[i], s->len) != 0)) {
            return false;
        }
    }
    return true;
}

const struct route *router_match(const struct api_req *r, bool *path_found)
{
    *path_found = false;
    if (r->path[0] == '\0') {
        return NULL;
    }
    pthread_once(&compiled_once, compile_routes);
    size_t seg_len[HTTP_PATH_SEGMENTS_MAX];
    for (int i = 0; i < r->seg_count; i++) {
        seg_len[i] = strlen(r->seg[i]);
    }
    for (int i = 0; i < route_count; i++) {
        if (!path_matches(&compiled[i], r, seg_len)) {
            continue;
        }
        if (!api_sandbox_enabled() && strncmp(routes[i].pattern, "/v1/sandbox/", 12) == 0) {
            continue; /* with the sandbox off, its endpoints do not exist */
        }
        *path_found = true;
        if (strcmp(routes[i].method, r->method) == 0 ||
            (strcmp(r->method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
            return &routes[i];
        }
    }
    return NULL;
}
