/* The authority split into the name to look up and the port, and the path kept as sent (RFC 9110
 * §4.2.1; no user info, which a notification URL has no use for). */
#include "adapters/http_url.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool http_url_read(const char *url, struct http_url *u)
{
    if (strncasecmp(url, "http://", 7) != 0) {
        return false;
    }
    const char *host = url + 7;
    size_t host_len = strcspn(host, "/?#");
    if (host_len == 0 || host_len >= sizeof u->host || memchr(host, '@', host_len) != NULL) {
        return false;
    }
    memcpy(u->host, host, host_len);
    u->host[host_len] = '\0';
    const char *name = u->host, *colon;
    size_t name_len;
    if (u->host[0] == '[') { /* [v6]:port */
        const char *close = strchr(u->host, ']');
        if (close == NULL) {
            return false;
        }
        name = u->host + 1;
        name_len = (size_t)(close - name);
        colon = close[1] == ':' ? close + 1 : NULL;
        if (close[1] != '\0' && colon == NULL) {
            return false;
        }
    } else {
        colon = strchr(u->host, ':');
        name_len = colon != NULL ? (size_t)(colon - u->host) : host_len;
    }
    if (name_len == 0) {
        return false;
    }
    memcpy(u->name, name, name_len);
    u->name[name_len] = '\0';
    const char *port = colon != NULL ? colon + 1 : "80";
    size_t port_len = strlen(port);
    if (port_len == 0 || port_len >= sizeof u->port || strspn(port, "0123456789") != port_len ||
        atol(port) < 1 || atol(port) > 65535) {
        return false;
    }
    memcpy(u->port, port, port_len + 1);
    const char *path = host + host_len;
    size_t path_len = strcspn(path, "#");
    if (path_len + 2 > sizeof u->path) {
        return false;
    }
    size_t at = 0;
    if (*path != '/') { /* http://host?query, or no path at all */
        u->path[at++] = '/';
    }
    memcpy(u->path + at, path, path_len);
    u->path[at + path_len] = '\0';
    return true;
}
