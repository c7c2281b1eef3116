/* Serves the embedded web pages: "/" is index.html, "/web/<name>" any other asset. The strict
 * Content-Security-Policy set on every answer allows only our own scripts and styles. */
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "http/api_handlers.h"
#include "http/web_assets.h"

static int serve_asset(struct api_req *r, const char *name)
{
    for (int i = 0; i < web_asset_count; i++) {
        if (strcmp(web_assets[i].name, name) == 0) {
            char *copy = malloc(web_assets[i].size + 1);
            km_assert(copy != NULL);
            memcpy(copy, web_assets[i].data, web_assets[i].size);
            copy[web_assets[i].size] = '\0';
            return api_text(r, 200, web_assets[i].content_type, copy);
        }
    }
    return api_fail(r, KM_ENOTFOUND, "resource_missing", NULL, "no such page: %s", name);
}

int api_web_index(struct api_req *r)
{
    return serve_asset(r, "index.html");
}

int api_web_asset(struct api_req *r)
{
    return serve_asset(r, r->seg[1]);
}
