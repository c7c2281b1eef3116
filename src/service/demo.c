/* Seeds the demo shop through the same service functions the API uses. */
#include "service/demo.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/ids.h"
#include "domain/card_import.h"
#include "service/catalog.h"
#include "service/executor.h"
#include "store/store.h"

#define DEMO_CARDS_PER_PRODUCT 25

struct seed {
    char seller_id[ID_BYTES_MAX];
    char keys[3][SECRET_BYTES_MAX];
    bool already;
    struct card_row rows[DEMO_CARDS_PER_PRODUCT];
};

static int add_product(struct db *db, struct seed *s, const char *kind, const char *name,
                       int64_t price, int64_t face, const char *fmt, const char *regions,
                       int64_t window_h, int64_t no_reason, int64_t escrow, bool cards)
{
    struct product p = {0};
    snprintf(p.kind, sizeof p.kind, "%s", kind);
    snprintf(p.name, sizeof p.name, "%s", name);
    snprintf(p.target_format, sizeof p.target_format, "%s", fmt);
    snprintf(p.regions, sizeof p.regions, "%s", regions);
    if (strcmp(kind, "account") == 0) {
        snprintf(p.seller_id, sizeof p.seller_id, "%s", s->seller_id);
    }
    p.price_fen = price;
    p.face_value_fen = face;
    p.refund_window_hours = window_h;
    p.no_reason_days = no_reason;
    p.topup_timeout_minutes = 30;
    p.escrow_days = escrow;
    struct km_error e;
    int rc = catalog_product_create(db, &p, &e);
    if (rc != 0 || !cards) {
        return rc;
    }
    struct card_import imp = {.rows = s->rows};
    for (int i = 0; i < DEMO_CARDS_PER_PRODUCT; i++) {
        struct card_row *row = &s->rows[i];
        memset(row, 0, sizeof *row);
        row->line = i + 1;
        snprintf(row->number, sizeof row->number, "%010u", randombytes_uniform(2000000000u));
        for (int j = 0; j < 16; j++) {
            row->password[j] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[randombytes_uniform(32)];
        }
        imp.row_count++;
    }
    card_import_check_rows(&imp);
    char batch[ID_BYTES_MAX];
    int imported = 0;
    rc = catalog_cards_import(db, p.id, &imp, batch, &imported, &e);
    sodium_memzero(s->rows, sizeof s->rows);
    return rc;
}

static int seed_run(struct db *db, void *arg)
{
    struct seed *s = arg;
    struct product existing[1];
    int count = 0;
    bool more = false;
    if (store_product_list(db, "", 1, false, existing, &count, &more) != 0) {
        return -1;
    }
    if (count > 0) {
        s->already = true;
        return 0;
    }
    int64_t now = clock_now_ms();
    id_new("sel", s->seller_id);
    int rc = store_seller_insert(db, s->seller_id, "老王的账号铺 (demo seller)", now);
    static const char *const roles[3] = {"admin", "agent", "seller"};
    for (int i = 0; rc == 0 && i < 3; i++) {
        char id[ID_BYTES_MAX];
        id_new("key", id);
        secret_new("sk", s->keys[i]);
        uint8_t hash[TOKEN_HASH_BYTES];
        token_hash(s->keys[i], hash);
        rc = store_api_key_insert(db, id, hash, roles[i], i == 2 ? s->seller_id : NULL,
                                  "demo", now);
    }
    rc = rc ? rc
            : add_product(db, s, "card_key", "腾讯Q币卡 10元", 1000, 1000, "none", "", 48, 7, 0,
                          true);
    rc = rc ? rc
            : add_product(db, s, "card_key", "Steam 钱包充值卡 50元", 4800, 5000, "none", "", 24,
                          0, 0, true);
    rc = rc ? rc
            : add_product(db, s, "direct_topup", "中国移动话费直充 50元", 4950, 5000, "phone_cn",
                          "", 72, 0, 0, false);
    rc = rc ? rc
            : add_product(db, s, "direct_topup", "原神 创世结晶 60 直充", 600, 600,
                          "game_account", "天空岛,世界树,America,Europe,Asia", 48, 0, 0, false);
    rc = rc ? rc
            : add_product(db, s, "account", "二手游戏账号 (担保交易)", 28800, 28800, "none", "",
                          72, 0, 3, false);
    return rc;
}

int demo_seed(const char *keys_path, FILE *out)
{
    struct seed *s = calloc(1, sizeof *s);
    km_assert(s != NULL);
    int rc = executor_run(seed_run, s);
    if (rc == 0 && !s->already) {
        int fd = open(keys_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (f != NULL) {
            fprintf(f, "admin  %s\nagent  %s\nseller %s\n", s->keys[0], s->keys[1], s->keys[2]);
            fclose(f);
        }
    }
    if (rc == 0) {
        FILE *f = fopen(keys_path, "r");
        char line[160];
        fprintf(out, "Demo API keys (also in %s):\n", keys_path);
        while (f != NULL && fgets(line, sizeof line, f) != NULL) {
            fprintf(out, "  %s", line);
        }
        if (f != NULL) {
            fclose(f);
        }
    }
    sodium_memzero(s, sizeof *s);
    free(s);
    return rc;
}
