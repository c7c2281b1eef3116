/* Matches a request against the route table in routes.c, segment by segment. */
#include "http/router.h"

#include <string.h>

extern const struct route routes[];
extern const int route_count;

static bool path_matches(const char *pattern, const struct api_req *r)
{
    int i = 0;
    const char *p = pattern;
    while (*p == '/') {
        p++;
    }
    while (*p != '\0') {
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (i >= r->seg_count) {
            return false;
        }
        bool wildcard = len == 1 && p[0] == '*';
        if (!wildcard && (strlen(r->seg[i]) != len || memcmp(r->seg[i], p, len) != 0)) {
            return false;
        }
        i++;
        p += len;
        while (*p == '/') {
            p++;
        }
    }
    return i == r->seg_count;
}

const struct route *router_match(const struct api_req *r, bool *path_found)
{
    *path_found = false;
    if (r->path[0] == '\0') {
        return NULL;
    }
    for (int i = 0; i < route_count; i++) {
        if (!path_matches(routes[i].pattern, r)) {
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
