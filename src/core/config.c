/* A deliberately small config format: "key = value", '#' comments. */
#include "core/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/limits.h"

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->data_dir, sizeof c->data_dir, "var/kameng");
    snprintf(c->listen, sizeof c->listen, "127.0.0.1");
    c->port = 8080;
    c->money_max_fen = MONEY_FEN_MAX_DEFAULT;
    c->threads = HTTP_THREADS;
    c->order_view_cache_mb = -1; /* sized from memory at start */
    c->sandbox = true;
    snprintf(c->log_level, sizeof c->log_level, "info");
    snprintf(c->log_origin, sizeof c->log_origin, "kameng.local/evidence");
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

int config_load_file(struct config *c, const char *path, char *err, int err_len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, (size_t)err_len, "%s: %s", path, strerror(errno));
        return -KM_ENOTFOUND;
    }
    char line[1024];
    int n = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        n++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(err, (size_t)err_len, "%s:%d: expected key = value", path, n);
            rc = -KM_EINVAL;
            break;
        }
        *eq = '\0';
        char *key = trim(s);
        char *value = trim(eq + 1);
        char *end = NULL;
        if (strcmp(key, "data_dir") == 0) {
            snprintf(c->data_dir, sizeof c->data_dir, "%s", value);
        } else if (strcmp(key, "database") == 0) {
            snprintf(c->database, sizeof c->database, "%s", value);
        } else if (strcmp(key, "master_key") == 0) {
            snprintf(c->master_key, sizeof c->master_key, "%s", value);
        } else if (strcmp(key, "listen") == 0) {
            snprintf(c->listen, sizeof c->listen, "%s", value);
        } else if (strcmp(key, "public_url") == 0) {
            snprintf(c->public_url, sizeof c->public_url, "%s", value);
        } else if (strcmp(key, "sandbox") == 0) {
            if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
                rc = -KM_EINVAL;
            }
            c->sandbox = strcmp(value, "on") == 0;
        } else if (strcmp(key, "log_origin") == 0) {
            snprintf(c->log_origin, sizeof c->log_origin, "%s", value);
        } else if (strcmp(key, "webhook_url") == 0) {
            snprintf(c->webhook_url, sizeof c->webhook_url, "%s", value);
        } else if (strcmp(key, "outbound_ca_file") == 0) {
            snprintf(c->outbound_ca_file, sizeof c->outbound_ca_file, "%s", value);
        } else if (strcmp(key, "log_level") == 0) {
            snprintf(c->log_level, sizeof c->log_level, "%s", value);
        } else if (strcmp(key, "port") == 0) {
            long v = strtol(value, &end, 10);
            if (*end != '\0' || v < 1 || v > 65535) {
                rc = -KM_EINVAL;
            }
            c->port = (uint16_t)v;
        } else if (strcmp(key, "threads") == 0) {
            long v = strtol(value, &end, 10);
            if (*end != '\0' || v < 1 || v > 32) {
                rc = -KM_EINVAL;
            }
            c->threads = (int)v;
        } else if (strcmp(key, "order_view_cache_mb") == 0) {
            long v = -1; /* "auto": sized from memory at start */
            if (strcmp(value, "auto") != 0) {
                v = strtol(value, &end, 10);
                if (end == value || *end != '\0' || v < 0 || v > ORDER_VIEW_CACHE_MB_MAX) {
                    rc = -KM_EINVAL;
                }
            }
            c->order_view_cache_mb = (int)v;
        } else if (strcmp(key, "money_max_fen") == 0) {
            long long v = strtoll(value, &end, 10);
            if (*end != '\0' || v < 1 || v > 100000000000LL) {
                rc = -KM_EINVAL;
            }
            c->money_max_fen = v;
        } else {
            snprintf(err, (size_t)err_len, "%s:%d: unknown setting '%s'", path, n, key);
            rc = -KM_EINVAL;
            break;
        }
        if (rc != 0) {
            snprintf(err, (size_t)err_len, "%s:%d: bad value for %s", path, n, key);
        }
    }
    fclose(f);
    return rc;
}

void config_finish(struct config *c)
{
    if (c->database[0] == '\0') {
        snprintf(c->database, sizeof c->database, "%.490s/kameng.db", c->data_dir);
    }
    if (c->master_key[0] == '\0') {
        snprintf(c->master_key, sizeof c->master_key, "%.490s/master.key", c->data_dir);
    }
    if (c->public_url[0] == '\0') {
        snprintf(c->public_url, sizeof c->public_url, "http://%s:%u", c->listen, (unsigned)c->port);
    }
}

int config_view_cache_auto_mb(uint64_t memory_bytes)
{
    if (memory_bytes == 0) {
        return ORDER_VIEW_CACHE_MB_UNKNOWN_MEMORY;
    }
    uint64_t mb = memory_bytes / ORDER_VIEW_CACHE_MEMORY_SHARE >> 20;
    if (mb < ORDER_VIEW_CACHE_MB_AUTO_MIN) {
        return ORDER_VIEW_CACHE_MB_AUTO_MIN;
    }
    return mb > ORDER_VIEW_CACHE_MB_AUTO_MAX ? ORDER_VIEW_CACHE_MB_AUTO_MAX : (int)mb;
}
