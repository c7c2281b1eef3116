/* The one configuration: defaults, then the config file (key = value lines), then the command
 * line. Every setting is named here with its default. */
#ifndef KM_CONFIG_H
#define KM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/check.h"

#define CONFIG_PATH_BYTES 512

struct config {
    char data_dir[CONFIG_PATH_BYTES];   /* data_dir = var/kameng */
    char database[CONFIG_PATH_BYTES];   /* database = <data_dir>/kameng.db */
    char master_key[CONFIG_PATH_BYTES]; /* master_key = <data_dir>/master.key (mode 0600) */
    char listen[64];                    /* listen = 127.0.0.1 */
    uint16_t port;                      /* port = 8080 */
    char public_url[256];               /* public_url = http://<listen>:<port> (callbacks) */
    char webhook_url[256];              /* webhook_url = (empty: webhooks wait, undelivered) */
    /* outbound_ca_file = (empty) a PEM file of CA certificates trusted for outbound https://,
     * besides the system's: a webhook receiver behind a private CA */
    char outbound_ca_file[CONFIG_PATH_BYTES];
    char log_origin[128];    /* log_origin = kameng.local/evidence (the log's name) */
    int64_t money_max_fen;   /* money_max_fen = 10000000 */
    int threads;             /* threads = 4 */
    int order_view_cache_mb; /* order_view_cache_mb = auto (-1); 0 keeps no views */
    bool verify_read_cache;  /* --verify-read-cache only: check every cached read */
    bool test_clock;         /* --test-clock only, never from a file */
    bool sandbox;            /* sandbox = on (the sandbox provider's endpoints) */
    int64_t test_clock_start_ms;
    char log_level[8]; /* log_level = info */
};

void config_defaults(struct config *c);
/* Read key = value lines; unknown keys and bad values are errors naming the line. */
KM_MUST_USE int config_load_file(struct config *c, const char *path, char *err, int err_len);
/* Fill paths that depend on data_dir and the URL that depends on listen/port. */
void config_finish(struct config *c);

/* order_view_cache_mb when it is not set (or "auto"): a sixteenth of memory_bytes (see
 * sysmem.h), within ORDER_VIEW_CACHE_MB_AUTO_MIN and _MAX; ORDER_VIEW_CACHE_MB_UNKNOWN_MEMORY when
 * memory_bytes is 0. */
int config_view_cache_auto_mb(uint64_t memory_bytes);

#endif
