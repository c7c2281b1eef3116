/* A small closed-loop HTTP/1.1 load generator for kameng: T threads, each an epoll loop over
 * keep-alive connections, each connection with one request in flight (like wrk). It knows the
 * kameng buyer flow, so it can drive create -> pay -> sandbox pay chains and time every request
 * by its type. Results are key=value lines on stdout.
 *
 *   loadgen --port N [--threads T] [--conns C] [--seconds S] --mode MODE [options]
 *
 * modes
 *   get      GET --path (default /) again and again (the bare-HTTP calibration)
 *   flow     per connection: POST /v1/orders {product_id} (--product ID, or @FILE of ids
 *            taken round-robin) -> POST /v1/orders/{id}/payments
 *            -> POST /v1/sandbox/payments/{pay}/pay, then a new order. Every step is a committed
 *            write. --out FILE gets "order_id token card_key_id" for each order paid.
 *   scan     GET /v1/orders/{id} for each line of --in once; --out gets the delivered ones.
 *   reveal   POST /v1/orders/{id}/card_keys/{ck}/reveal for the lines of --in, in turn; after the
 *            last line it starts again (a repeat reveal is also a committed write: it records a
 *            reveal row and an order event), and says how many were repeats. With
 *            --then-read 1 each reveal is followed by GET /v1/orders/{id}, as the buyer's page
 *            reloads the order after a reveal (counted as "orders_get").
 *   read     GET /v1/orders/{id} with the buyer token, cycling over --in.
 *
 * Connections come from 127.0.0.2 (--from ADDR to change it): kameng's sandbox provider
 * notifies the shop from 127.0.0.1, and a provider's notifications come from its own addresses,
 * each with its share of kameng's per-address connection limit, not from the buyers'.
 *
 * Only 2xx answers count as done; anything else is counted per type as an error, and the first
 * few are printed to stderr. Requests still in flight at the deadline are not counted. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum kind { K_GET, K_CREATE, K_PAY, K_SANDBOX, K_SCAN, K_REVEAL, K_READ, K_COUNT };
static const char *const kind_name[K_COUNT] = {"get",     "orders_create", "payments_create",
                                               "sandbox_pay", "scan",     "reveal",
                                               "orders_get"};

enum mode { M_GET, M_FLOW, M_SCAN, M_REVEAL, M_READ };

struct item {
    char order[40];
    char token[80];
    char ck[40];
};

static struct {
    int port;
    int threads;
    int conns;
    double seconds;
    enum mode mode;
    const char *path;
    const char *from;
    const char *product;
    char (*products)[40];
    long product_count;
    long next_product; /* atomic */
    const char *in;
    const char *out;
    struct item *items;
    long item_count;
    long next_item; /* atomic */
    bool then_read; /* reveal: GET the order after each reveal, as the buyer's page does */
    int64_t deadline_us;
    int errors_printed; /* atomic */
} cfg = {.threads = 2, .conns = 64, .seconds = 10, .path = "/", .from = "127.0.0.2"};

struct lat {
    uint32_t *v;
    size_t n, cap;
};

struct stats {
    struct lat lat[K_COUNT];
    long err[K_COUNT];
    long repeats;
    long io_errors;
    char *out;
    size_t out_len, out_cap;
};

struct conn {
    int fd;
    int step; /* enum kind of the request in flight, -1 when idle */
    char req[1024];
    size_t req_len, req_off;
    char *rbuf;
    size_t rlen, rcap;
    int64_t t0;
    struct item it; /* flow: the order this connection is walking */
    char pay[40];   /* flow: its payment */
    long item_no;   /* scan/reveal/read: which line */
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void lat_add(struct lat *l, int64_t us)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (l->v == NULL) {
            abort();
        }
    }
    l->v[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void out_add(struct stats *s, const char *line)
{
    size_t len = strlen(line);
    if (s->out_len + len + 1 > s->out_cap) {
        s->out_cap = (s->out_cap ? s->out_cap * 2 : 65536) + len;
        s->out = realloc(s->out, s->out_cap);
        if (s->out == NULL) {
            abort();
        }
    }
    memcpy(s->out + s->out_len, line, len);
    s->out_len += len;
}

static int conn_open(struct conn *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) {
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* The port is chosen at connect, as without the bind: 500 connections need no more. */
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in from = {.sin_family = AF_INET};
    if (inet_pton(AF_INET, cfg.from, &from.sin_addr) != 1 ||
        bind(c->fd, (struct sockaddr *)&from, sizeof from) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg.port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

/* Copies the JSON string value that follows `key` (e.g. "\"buyer_token\":\"") into out. */
static int json_pick(const char *body, const char *key, char *out, size_t out_len)
{
    const char *p = strstr(body, key);
    if (p == NULL) {
        return -1;
    }
    p += strlen(key);
    size_t i = 0;
    while (p[i] != '"' && p[i] != '\0' && i + 1 < out_len) {
        out[i] = p[i];
        i++;
    }
    out[i] = '\0';
    return p[i] == '"' ? 0 : -1;
}

static void build(struct conn *c, const char *method, const char *path, const char *token,
                  const char *body)
{
    char auth[128] = "";
    if (token != NULL) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", token);
    }
    if (body != NULL) {
        c->req_len = (size_t)snprintf(c->req, sizeof c->req,
                                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
                                      "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                                      "\r\n%s",
                                      method, path, auth, strlen(body), body);
    } else {
        c->req_len = (size_t)snprintf(c->req, sizeof c->req,
                                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", method, path,
                                      auth);
    }
    c->req_off = 0;
}

/* Picks the next request for this connection; returns -1 when there is no more work. */
static int next_request(struct conn *c, struct stats *s)
{
    char path[256], body[256];
    switch (cfg.mode) {
    case M_GET:
        c->step = K_GET;
        build(c, "GET", cfg.path, NULL, NULL);
        return 0;
    case M_FLOW:
        if (c->step == K_CREATE && c->it.order[0]) {
            c->step = K_PAY;
            snprintf(path, sizeof path, "/v1/orders/%s/payments", c->it.order);
            build(c, "POST", path, c->it.token, "{\"method\":\"alipay\"}");
        } else if (c->step == K_PAY && c->it.order[0]) {
            c->step = K_SANDBOX;
            snprintf(path, sizeof path, "/v1/sandbox/payments/%s/pay", c->pay);
            build(c, "POST", path, NULL, "{\"outcome\":\"succeeded\"}");
        } else {
            c->step = K_CREATE;
            memset(&c->it, 0, sizeof c->it);
            long pn = __atomic_fetch_add(&cfg.next_product, 1, __ATOMIC_RELAXED);
            snprintf(body, sizeof body, "{\"product_id\":\"%s\"}",
                     cfg.products[pn % cfg.product_count]);
            build(c, "POST", "/v1/orders", NULL, body);
        }
        return 0;
    case M_SCAN:
    case M_REVEAL:
    case M_READ: {
        if (cfg.mode == M_REVEAL && cfg.then_read && c->step == K_REVEAL) {
            const struct item *it = &cfg.items[c->item_no];
            c->step = K_READ;
            snprintf(path, sizeof path, "/v1/orders/%s", it->order);
            build(c, "GET", path, it->token, NULL);
            return 0;
        }
        long n = __atomic_fetch_add(&cfg.next_item, 1, __ATOMIC_RELAXED);
        if (cfg.item_count == 0 || (cfg.mode == M_SCAN && n >= cfg.item_count)) {
            return -1;
        }
        if (n >= cfg.item_count) {
            s->repeats++;
        }
        c->item_no = n % cfg.item_count;
        const struct item *it = &cfg.items[c->item_no];
        if (cfg.mode == M_REVEAL) {
            c->step = K_REVEAL;
            snprintf(path, sizeof path, "/v1/orders/%s/card_keys/%s/reveal", it->order, it->ck);
            build(c, "POST", path, it->token, NULL);
        } else {
            c->step = cfg.mode == M_SCAN ? K_SCAN : K_READ;
            snprintf(path, sizeof path, "/v1/orders/%s", it->order);
            build(c, "GET", path, it->token, NULL);
        }
        return 0;
    }
    }
    return -1;
}

/* Handles one complete answer; the connection's next request follows. */
static void on_answer(struct conn *c, struct stats *s, int status, char *body, int64_t took)
{
    int k = c->step;
    bool ok = status >= 200 && status < 300;
    if (!ok) {
        s->err[k]++;
        if (__atomic_fetch_add(&cfg.errors_printed, 1, __ATOMIC_RELAXED) < 5) {
            fprintf(stderr, "loadgen: %s -> %d %.300s\n", kind_name[k], status, body);
        }
        c->it.order[0] = '\0'; /* flow: start a new order */
        return;
    }
    lat_add(&s->lat[k], took);
    char line[256];
    switch (k) {
    case K_CREATE:
        if (json_pick(body, "\"id\":\"", c->it.order, sizeof c->it.order) != 0 ||
            json_pick(body, "\"buyer_token\":\"", c->it.token, sizeof c->it.token) != 0 ||
            json_pick(body, "\"card_keys\":[{\"id\":\"", c->it.ck, sizeof c->it.ck) != 0) {
            fprintf(stderr, "loadgen: unexpected order body %.200s\n", body);
            c->it.order[0] = '\0';
        }
        break;
    case K_PAY:
        if (json_pick(body, "\"id\":\"", c->pay, sizeof c->pay) != 0) {
            c->it.order[0] = '\0';
        }
        break;
    case K_SANDBOX:
        snprintf(line, sizeof line, "%s %s %s\n", c->it.order, c->it.token, c->it.ck);
        out_add(s, line);
        break;
    case K_SCAN: {
        char st[32];
        if (json_pick(body, "\"status\":\"", st, sizeof st) == 0 && strcmp(st, "delivered") == 0) {
            const struct item *it = &cfg.items[c->item_no];
            snprintf(line, sizeof line, "%s %s %s\n", it->order, it->token, it->ck);
            out_add(s, line);
        }
        break;
    }
    default:
        break;
    }
}

#define RBUF_DATA (256 * 1024) /* answers are a few KiB; an order view with payments is < 8 KiB */

/* Parses as many complete answers as rbuf holds; returns 1 if one was consumed. */
static int parse(struct conn *c, struct stats *s)
{
    c->rbuf[c->rlen] = '\0';
    char *end = strstr(c->rbuf, "\r\n\r\n");
    if (end == NULL) {
        return 0;
    }
    size_t head = (size_t)(end - c->rbuf) + 4;
    int status = atoi(c->rbuf + 9);
    long clen = -1;
    for (char *p = c->rbuf; p < end; p++) {
        if ((*p == '\n') && strncasecmp(p + 1, "content-length:", 15) == 0) {
            clen = strtol(p + 16, NULL, 10);
            break;
        }
    }
    if (clen < 0) {
        clen = 0; /* our servers always send Content-Length */
    }
    if (c->rlen < head + (size_t)clen) {
        return 0;
    }
    char saved = c->rbuf[head + (size_t)clen];
    c->rbuf[head + (size_t)clen] = '\0';
    int64_t t = now_us();
    if (t <= cfg.deadline_us) { /* past the deadline: not counted either way */
        on_answer(c, s, status, c->rbuf + head, t - c->t0);
    }
    c->rbuf[head + (size_t)clen] = saved;
    size_t used = head + (size_t)clen;
    memmove(c->rbuf, c->rbuf + used, c->rlen - used);
    c->rlen -= used;
    return 1;
}

static int send_some(struct conn *c)
{
    while (c->req_off < c->req_len) {
        ssize_t w = send(c->fd, c->req + c->req_off, c->req_len - c->req_off, MSG_NOSIGNAL);
        if (w < 0) {
            return errno == EAGAIN ? 0 : -1;
        }
        c->req_off += (size_t)w;
    }
    return 0;
}

struct thread_arg {
    int index;
    int conns;
    struct stats stats;
};

static void *worker(void *p)
{
    struct thread_arg *ta = p;
    struct stats *s = &ta->stats;
    int ep = epoll_create1(0);
    struct conn *cs = calloc((size_t)ta->conns, sizeof *cs);
    int active = 0;
    for (int i = 0; i < ta->conns; i++) {
        struct conn *c = &cs[i];
        c->rcap = RBUF_DATA + 1;
        c->rbuf = malloc(c->rcap);
        c->step = -1;
        if (conn_open(c) != 0) {
            s->io_errors++;
            continue;
        }
        if (next_request(c, s) != 0) {
            close(c->fd);
            c->fd = -1;
            continue;
        }
        c->t0 = now_us();
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        active++;
    }
    struct epoll_event evs[256];
    while (active > 0 && now_us() < cfg.deadline_us) {
        int n = epoll_wait(ep, evs, 256, 50);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->fd < 0) {
                continue;
            }
            bool dead = false;
            if (evs[i].events & (EPOLLOUT)) {
                if (send_some(c) != 0) {
                    dead = true;
                } else if (c->req_off == c->req_len) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (!dead && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                for (;;) {
                    if (c->rlen >= RBUF_DATA) {
                        dead = true;
                        break;
                    }
                    size_t room = RBUF_DATA - c->rlen;
                    ssize_t r = recv(c->fd, c->rbuf + c->rlen, room, 0);
                    if (r > 0) {
                        c->rlen += (size_t)r;
                        /* One read per wake-up, as wrk does: epoll is level-triggered, so what
                         * is left is reported again, and reading on to EAGAIN would cost every
                         * answer a second system call on the machine the server shares. */
                        if ((size_t)r == room) {
                            continue;
                        }
                        break;
                    }
                    if (r == 0 || errno != EAGAIN) {
                        dead = true;
                    }
                    break;
                }
                while (!dead && parse(c, s)) {
                    if (next_request(c, s) != 0) {
                        dead = true; /* no more work: close quietly */
                        c->step = -1;
                        break;
                    }
                    c->t0 = now_us();
                    if (send_some(c) != 0) {
                        dead = true;
                        break;
                    }
                    if (c->req_off < c->req_len) {
                        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
                        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                    }
                }
            }
            if (dead) {
                if (c->step >= 0) {
                    s->io_errors++;
                }
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                c->fd = -1;
                active--;
            }
        }
    }
    for (int i = 0; i < ta->conns; i++) {
        if (cs[i].fd >= 0) {
            close(cs[i].fd);
        }
        free(cs[i].rbuf);
    }
    free(cs);
    close(ep);
    return NULL;
}

static int cmp32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const struct lat *l, double p)
{
    if (l->n == 0) {
        return 0;
    }
    size_t i = (size_t)(p * (double)(l->n - 1) + 0.5);
    return (double)l->v[i] / 1000.0;
}

/* --product ID, or --product @FILE with one product id a line: orders go round-robin. */
static void load_products(void)
{
    cfg.products = malloc(100000 * sizeof *cfg.products);
    if (cfg.product[0] != '@') {
        snprintf(cfg.products[0], sizeof cfg.products[0], "%s", cfg.product);
        cfg.product_count = 1;
        return;
    }
    FILE *f = fopen(cfg.product + 1, "r");
    if (f == NULL) {
        perror(cfg.product + 1);
        exit(1);
    }
    while (cfg.product_count < 100000 && fscanf(f, "%39s", cfg.products[cfg.product_count]) == 1) {
        cfg.product_count++;
    }
    fclose(f);
    if (cfg.product_count == 0) {
        fprintf(stderr, "loadgen: no products in %s\n", cfg.product + 1);
        exit(1);
    }
}

static void load_items(void)
{
    FILE *f = fopen(cfg.in, "r");
    if (f == NULL) {
        perror(cfg.in);
        exit(1);
    }
    long cap = 1024;
    cfg.items = malloc((size_t)cap * sizeof *cfg.items);
    struct item it;
    while (fscanf(f, "%39s %79s %39s", it.order, it.token, it.ck) == 3) {
        if (cfg.item_count == cap) {
            cap *= 2;
            cfg.items = realloc(cfg.items, (size_t)cap * sizeof *cfg.items);
        }
        cfg.items[cfg.item_count++] = it;
    }
    fclose(f);
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--port") == 0) {
            cfg.port = atoi(v);
        } else if (strcmp(k, "--threads") == 0) {
            cfg.threads = atoi(v);
        } else if (strcmp(k, "--conns") == 0) {
            cfg.conns = atoi(v);
        } else if (strcmp(k, "--seconds") == 0) {
            cfg.seconds = atof(v);
        } else if (strcmp(k, "--path") == 0) {
            cfg.path = v;
        } else if (strcmp(k, "--from") == 0) {
            cfg.from = v;
        } else if (strcmp(k, "--product") == 0) {
            cfg.product = v;
        } else if (strcmp(k, "--in") == 0) {
            cfg.in = v;
        } else if (strcmp(k, "--out") == 0) {
            cfg.out = v;
        } else if (strcmp(k, "--then-read") == 0) {
            cfg.then_read = strcmp(v, "1") == 0;
        } else if (strcmp(k, "--mode") == 0) {
            cfg.mode = strcmp(v, "flow") == 0     ? M_FLOW
                       : strcmp(v, "scan") == 0   ? M_SCAN
                       : strcmp(v, "reveal") == 0 ? M_REVEAL
                       : strcmp(v, "read") == 0   ? M_READ
                                                  : M_GET;
        } else {
            fprintf(stderr, "loadgen: unknown option %s\n", k);
            return 2;
        }
    }
    if (cfg.port == 0 || cfg.threads < 1 || cfg.conns < cfg.threads ||
        (cfg.mode == M_FLOW && cfg.product == NULL) ||
        ((cfg.mode == M_SCAN || cfg.mode == M_REVEAL || cfg.mode == M_READ) && cfg.in == NULL)) {
        fprintf(stderr, "loadgen: bad arguments (see the comment at the top of loadgen.c)\n");
        return 2;
    }
    if (cfg.in != NULL) {
        load_items();
    }
    if (cfg.product != NULL) {
        load_products();
    }
    struct thread_arg *ta = calloc((size_t)cfg.threads, sizeof *ta);
    pthread_t *th = calloc((size_t)cfg.threads, sizeof *th);
    int64_t start = now_us();
    cfg.deadline_us = start + (int64_t)(cfg.seconds * 1e6);
    for (int i = 0; i < cfg.threads; i++) {
        ta[i].index = i;
        ta[i].conns = cfg.conns / cfg.threads + (i < cfg.conns % cfg.threads);
        pthread_create(&th[i], NULL, worker, &ta[i]);
    }
    for (int i = 0; i < cfg.threads; i++) {
        pthread_join(th[i], NULL);
    }
    int64_t stop = now_us();
    if (stop > cfg.deadline_us) {
        stop = cfg.deadline_us;
    }
    double took = (double)(stop - start) / 1e6;
    FILE *out = cfg.out != NULL ? fopen(cfg.out, "w") : NULL;
    struct stats all = {0};
    for (int i = 0; i < cfg.threads; i++) {
        struct stats *s = &ta[i].stats;
        for (int k = 0; k < K_COUNT; k++) {
            for (size_t j = 0; j < s->lat[k].n; j++) {
                lat_add(&all.lat[k], s->lat[k].v[j]);
            }
            all.err[k] += s->err[k];
        }
        all.repeats += s->repeats;
        all.io_errors += s->io_errors;
        if (out != NULL && s->out_len > 0) {
            fwrite(s->out, 1, s->out_len, out);
        }
    }
    if (out != NULL) {
        fclose(out);
    }
    struct lat total = {0};
    long total_err = 0;
    printf("seconds=%.2f\nconns=%d\nthreads=%d\n", took, cfg.conns, cfg.threads);
    for (int k = 0; k < K_COUNT; k++) {
        struct lat *l = &all.lat[k];
        if (l->n == 0 && all.err[k] == 0) {
            continue;
        }
        for (size_t j = 0; j < l->n; j++) {
            lat_add(&total, l->v[j]);
        }
        total_err += all.err[k];
        qsort(l->v, l->n, sizeof *l->v, cmp32);
        printf("%s_ok=%zu\n%s_err=%ld\n%s_rps=%.0f\n%s_p50_ms=%.2f\n%s_p99_ms=%.2f\n",
               kind_name[k], l->n, kind_name[k], all.err[k], kind_name[k], (double)l->n / took,
               kind_name[k], pct(l, 0.50), kind_name[k], pct(l, 0.99));
    }
    qsort(total.v, total.n, sizeof *total.v, cmp32);
    printf("total_ok=%zu\ntotal_err=%ld\ntotal_rps=%.0f\ntotal_p50_ms=%.2f\ntotal_p99_ms=%.2f\n",
           total.n, total_err, (double)total.n / took, pct(&total, 0.50), pct(&total, 0.99));
    printf("repeats=%ld\nio_errors=%ld\n", all.repeats, all.io_errors);
    return 0;
}
