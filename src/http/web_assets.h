/* The web pages, embedded at build time from web/. */
#ifndef KM_WEB_ASSETS_H
#define KM_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *name;         /* file name under web/ */
    const char *content_type;
    const unsigned char *data;
    size_t size;
};

extern const struct web_asset web_assets[];
extern const int web_asset_count;

#endif
