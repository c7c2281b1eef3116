/* The window of posts (http_out_pipe_*) the sandbox providers send their notifications through:
 * plain HTTP/1.1 over connections kept alive between posts, one epoll set per thread.
 *
 * libcurl carried these before. Under a buyers' rush the provider's thread took a tenth of the
 * machine, most of it in libcurl and in system calls a notification has no use for: a liveness
 * poll() and two epoll_ctl() a post besides its send and receive, and some 90,000 instructions of
 * a transfer's machinery. A post here is one send() and, as a rule, one recv(); a connection
 * stays in the epoll set from its connect to its close.
 *
 * An https:// or any other URL this does not read goes through libcurl's multi interface
 * (http_out_curl.c), whose epoll set this one watches. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "adapters/http_answer.h"
#include "adapters/http_out.h"
#include "adapters/http_out_curl.h"
#include "adapters/http_url.h"
#include "core/check.h"
#include "core/clock.h"
#include "core/err.h"

#define HEAD_MAX 4096 /* a response's status line and headers; a longer one fails */
#define RESOLVED_FOR_US (60 * 1000000LL)  /* a host name's addresses are looked up again after */
#define UNRESOLVED_FOR_US (5 * 1000000LL) /* ... and a failed look-up tried again after this */
#define ADDRS_MAX 4                       /* of a name's addresses, the first few are tried */
#define CURL_WINDOW UINT32_MAX            /* the epoll mark of libcurl's own set */

/* A name's addresses, tried in turn until one connects. */
struct addrs {
    struct sockaddr_storage addr[ADDRS_MAX];
    socklen_t len[ADDRS_MAX];
    int count;
};

enum conn_state {
    CONN_EMPTY,      /* no socket */
    CONN_IDLE,       /* kept alive, no post */
    CONN_CONNECTING, /* connect() in progress */
    CONN_SENDING,
    CONN_HEAD, /* reading the status line and headers */
    CONN_BODY, /* skipping the body */
};

/* A slot: a connection and the post it carries, if any. */
struct conn {
    int fd;
    enum conn_state state;
    char name[256], port[8]; /* where it goes */
    struct addrs addrs;
    int addr_at;          /* the one connected or being tried */
    bool answered_before; /* it carried an answer: a post it loses unanswered may go again */
    bool close_after;     /* closed after this post: its answer said so, or made no sense */
    /* The post. */
    void *tag;
    char *body; /* handed back to done() */
    char *req;  /* the request's bytes: head and body */
    size_t req_len, req_cap, sent;
    int64_t deadline_us;
    bool posting; /* a post is on it */
    int tried;    /* addresses that would not connect */
    bool retried;
    bool got_bytes; /* some of the answer came */
    /* The answer. */
    char head[HEAD_MAX];
    size_t head_len;
    struct http_answer answer;
};

/* An outcome waiting for collect to hand it to done(). */
struct outcome {
    void *tag;
    char *body;
    long status;
};

struct pipe {
    int epfd;
    struct conn *conns; /* HTTP_OUT_PARALLEL_MAX slots */
    int in_flight;      /* posts added and not yet handed back */
    struct outcome done[HTTP_OUT_PARALLEL_MAX];
    int done_count;
    bool curl_watched; /* libcurl's epoll set is in this one */
    /* The last host name looked up, and which of its addresses connected last. */
    char resolved_name[256], resolved_port[8];
    struct addrs resolved;
    int resolved_good;
    int64_t resolved_at_us;
    bool resolve_failed;
};

static _Thread_local struct pipe pipe_of_thread = {.epfd = -1};
static _Thread_local bool keep_connections;
static pthread_key_t pipe_key; /* its destructor closes a thread's connections when it ends */
static pthread_once_t pipe_once = PTHREAD_ONCE_INIT;

/* At the thread's end: posts still in flight or not yet handed back are dropped. */
static void pipe_free(void *p)
{
    struct pipe *pp = p;
    for (int i = 0; i < HTTP_OUT_PARALLEL_MAX; i++) {
        struct conn *c = &pp->conns[i];
        if (c->fd >= 0) {
            close(c->fd);
        }
        if (c->posting) {
            free(c->body);
        }
        free(c->req);
    }
    for (int i = 0; i < pp->done_count; i++) {
        free(pp->done[i].body);
    }
    http_out_curl_free();
    free(pp->conns);
    pp->conns = NULL;
    pp->done_count = 0;
    pp->in_flight = 0;
    pp->curl_watched = false;
    close(pp->epfd);
    pp->epfd = -1;
}

static void pipe_key_init(void)
{
    (void)pthread_key_create(&pipe_key, pipe_free);
}

void http_out_keep_connections(void)
{
    keep_connections = true;
}

/* The target's addresses into c, starting with the one that connected last; kept a while, and
 * a failed look-up too, so that a failing resolver is not asked once a post. */
static int resolve(struct pipe *pp, const struct http_url *t, struct conn *c)
{
    int64_t now = clock_mono_us();
    bool same = strcmp(pp->resolved_name, t->name) == 0 && strcmp(pp->resolved_port, t->port) == 0;
    if (!same ||
        now - pp->resolved_at_us >= (pp->resolve_failed ? UNRESOLVED_FOR_US : RESOLVED_FOR_US)) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
        struct addrinfo *res = NULL;
        pp->resolved.count = 0;
        if (getaddrinfo(t->name, t->port, &hints, &res) == 0) {
            for (struct addrinfo *a = res; a != NULL && pp->resolved.count < ADDRS_MAX;
                 a = a->ai_next) {
                memcpy(&pp->resolved.addr[pp->resolved.count], a->ai_addr, a->ai_addrlen);
                pp->resolved.len[pp->resolved.count++] = a->ai_addrlen;
            }
            freeaddrinfo(res);
        }
        snprintf(pp->resolved_name, sizeof pp->resolved_name, "%s", t->name);
        snprintf(pp->resolved_port, sizeof pp->resolved_port, "%s", t->port);
        pp->resolved_at_us = now;
        pp->resolved_good = 0;
        pp->resolve_failed = pp->resolved.count == 0;
    }
    if (pp->resolve_failed) {
        return -KM_EINTERNAL;
    }
    c->addrs = pp->resolved;
    c->addr_at = pp->resolved_good;
    return 0;
}

static struct pipe *thread_pipe(void)
{
    struct pipe *pp = &pipe_of_thread;
    if (pp->conns != NULL) {
        return pp;
    }
    pthread_once(&pipe_once, pipe_key_init);
    pp->epfd = epoll_create1(EPOLL_CLOEXEC);
    pp->conns = pp->epfd >= 0 ? calloc(HTTP_OUT_PARALLEL_MAX, sizeof *pp->conns) : NULL;
    if (pp->conns == NULL) {
        if (pp->epfd >= 0) {
            close(pp->epfd);
        }
        pp->epfd = -1;
        return NULL;
    }
    for (int i = 0; i < HTTP_OUT_PARALLEL_MAX; i++) {
        pp->conns[i].fd = -1;
    }
    (void)pthread_setspecific(pipe_key, pp);
    return pp;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        close(c->fd); /* which takes it out of the epoll set */
    }
    c->fd = -1;
    c->state = CONN_EMPTY;
    c->answered_before = false;
}

/* Hands the post on c to the next collect, with status (0: no answer), and frees the slot. */
static void post_end(struct pipe *pp, struct conn *c, long status)
{
    km_assert(pp->done_count < HTTP_OUT_PARALLEL_MAX);
    pp->done[pp->done_count++] = (struct outcome){.tag = c->tag, .body = c->body, .status = status};
    c->posting = false;
    c->tag = NULL;
    c->body = NULL;
    if (status == 0 || c->close_after || c->answer.close_after || !keep_connections) {
        conn_close(c);
    } else {
        c->state = CONN_IDLE;
        c->answered_before = true;
    }
}

static void post_send(struct pipe *pp, struct conn *c);

static void conn_open(struct pipe *pp, struct conn *c);

/* c's connection could not be made: the next of its addresses is tried, until none is left and
 * the post ends unanswered. */
static void connect_failed(struct pipe *pp, struct conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->tried++;
    if (c->tried < c->addrs.count) {
        c->addr_at = (c->addr_at + 1) % c->addrs.count;
        conn_open(pp, c);
        return;
    }
    post_end(pp, c, 0);
}

/* The address at c->addr_at connected: the next connections to that name start with it. */
static void connected(struct pipe *pp, struct conn *c)
{
    if (strcmp(pp->resolved_name, c->name) == 0 && strcmp(pp->resolved_port, c->port) == 0) {
        pp->resolved_good = c->addr_at;
    }
}

/* Opens a connection for c's post to the address at c->addr_at. */
static void conn_open(struct pipe *pp, struct conn *c)
{
    const struct sockaddr_storage *addr = &c->addrs.addr[c->addr_at];
    c->fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        connect_failed(pp, c);
        return;
    }
    int one = 1;
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Edge-triggered: the socket stays in the set from here to its close, without a call per
     * post; each edge is read until the answer is whole or the socket has no more. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.u32 = (uint32_t)(c - pp->conns)};
    if (epoll_ctl(pp->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        connect_failed(pp, c);
        return;
    }
    c->answered_before = false;
    if (connect(c->fd, (const struct sockaddr *)addr, c->addrs.len[c->addr_at]) == 0) {
        connected(pp, c);
        c->state = CONN_SENDING;
        post_send(pp, c);
    } else if (errno == EINPROGRESS) {
        c->state = CONN_CONNECTING;
    } else {
        connect_failed(pp, c);
    }
}

/* The post on c lost its connection before any of the answer came: on a connection that had
 * carried answers (the peer may have closed it while idle) it goes again once on a new one, as
 * libcurl does; the receivers take a repeated notification as the same one. */
static void post_lost(struct pipe *pp, struct conn *c)
{
    if (c->answered_before && !c->retried && !c->got_bytes) {
        c->retried = true;
        if (c->fd >= 0) {
            close(c->fd);
        }
        c->fd = -1;
        c->sent = 0;
        c->tried = 0;
        conn_open(pp, c);
        return;
    }
    post_end(pp, c, 0);
}

static void post_send(struct pipe *pp, struct conn *c)
{
    while (c->sent < c->req_len) {
        ssize_t n = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return; /* the next EPOLLOUT edge goes on */
        } else {
            post_lost(pp, c);
            return;
        }
    }
    c->state = CONN_HEAD;
    c->head_len = 0;
    c->got_bytes = false;
}

/* Takes n bytes of c's body; ends the post when the answer is whole, or malformed. Bytes past
 * the answer's end belong to no request: the connection cannot be trusted with another. */
static void body_take(struct pipe *pp, struct conn *c, const char *p, size_t n)
{
    size_t used = 0;
    int rc = http_answer_body(&c->answer, p, n, &used);
    if (rc != 0) {
        c->close_after = c->close_after || rc < 0 || used < n;
        post_end(pp, c, rc > 0 ? c->answer.status : 0);
    }
}

/* The head is whole in c->head[0..end): read it and pass what follows to the body. */
static void head_done(struct pipe *pp, struct conn *c, size_t end)
{
    char saved = c->head[end];
    c->head[end] = '\0';
    int rc = http_answer_head(&c->answer, c->head);
    c->head[end] = saved;
    if (rc != 0) {
        c->close_after = true;
        post_end(pp, c, 0);
        return;
    }
    size_t rest = c->head_len - end;
    if (c->answer.status < 200) { /* 100 Continue and the like: the answer comes after */
        memmove(c->head, c->head + end, rest);
        c->head_len = rest;
        c->head[rest] = '\0';
        return;
    }
    c->state = CONN_BODY;
    body_take(pp, c, c->head + end, rest);
}

/* Reads what the socket has for c; ends the post when its answer is whole. A close that came
 * on this edge (events) is remembered: no later edge would tell it. */
static void conn_read(struct pipe *pp, struct conn *c, uint32_t events)
{
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        c->close_after = true;
    }
    char scratch[8192];
    for (;;) {
        char *into = c->state == CONN_HEAD ? c->head + c->head_len : scratch;
        size_t room = c->state == CONN_HEAD ? sizeof c->head - 1 - c->head_len : sizeof scratch;
        if (room == 0) { /* headers longer than this client reads */
            c->close_after = true;
            post_end(pp, c, 0);
            return;
        }
        ssize_t n = recv(c->fd, into, room, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return; /* the next edge brings the rest */
        }
        if (n <= 0) { /* closed, or reset */
            if (c->state == CONN_BODY && c->answer.body == HTTP_BODY_UNTIL_CLOSE && n == 0) {
                post_end(pp, c, c->answer.status);
            } else {
                post_lost(pp, c);
            }
            return;
        }
        c->got_bytes = true;
        if ((size_t)n == room) {
            c->close_after = true; /* more may follow the answer: see body_take */
        }
        if (c->state == CONN_HEAD) {
            c->head_len += (size_t)n;
            c->head[c->head_len] = '\0';
            char *end;
            while (c->state == CONN_HEAD && (end = strstr(c->head, "\r\n\r\n")) != NULL) {
                head_done(pp, c, (size_t)(end + 4 - c->head));
                if (!c->posting) {
                    return; /* ended */
                }
            }
        } else {
            body_take(pp, c, scratch, (size_t)n);
            if (!c->posting) {
                return; /* ended */
            }
        }
        /* Not whole yet: read on until the socket has no more (EAGAIN) or is closed. The close
         * may have come with these bytes, on the same edge, and no other edge would tell it. */
    }
}

static void conn_event(struct pipe *pp, struct conn *c, uint32_t events)
{
    switch (c->state) {
    case CONN_EMPTY:
        return;
    case CONN_IDLE: /* a kept-alive connection heard from: the peer closed it, or talks out of
                     * turn; either way it carries nothing more */
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            conn_close(c);
        }
        return;
    case CONN_CONNECTING: {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            connect_failed(pp, c);
            return;
        }
        if (!(events & EPOLLOUT)) {
            return;
        }
        connected(pp, c);
        c->state = CONN_SENDING;
    }
        /* fall through */
    case CONN_SENDING:
        post_send(pp, c);
        if (c->state != CONN_HEAD || !c->posting) {
            return;
        }
        /* The answer may be there already. */
        /* fall through */
    case CONN_HEAD:
    case CONN_BODY:
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            conn_read(pp, c, events);
        }
        return;
    }
}

/* Writes the request for body into c->req. */
static int request_build(struct conn *c, const struct http_url *t, const char *body,
                         const char *signature)
{
    size_t body_len = strlen(body);
    size_t need = body_len + strlen(t->path) + strlen(t->host) + strlen(signature) + 160;
    if (need > c->req_cap) {
        char *grown = realloc(c->req, need);
        if (grown == NULL) {
            return -KM_EINTERNAL;
        }
        c->req = grown;
        c->req_cap = need;
    }
    int head = snprintf(c->req, c->req_cap,
                        "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                        "Kameng-Signature: %s\r\nContent-Length: %zu\r\n%s\r\n",
                        t->path, t->host, signature, body_len,
                        keep_connections ? "" : "Connection: close\r\n");
    km_assert(head > 0 && (size_t)head + body_len <= c->req_cap);
    memcpy(c->req + head, body, body_len);
    c->req_len = (size_t)head + body_len;
    return 0;
}

/* A slot for a post to t: an idle connection there, else one with no connection, else an idle
 * one elsewhere (closed for it). There is one: fewer posts than slots are in flight. */
static struct conn *slot_for(struct pipe *pp, const struct http_url *t)
{
    struct conn *empty = NULL, *elsewhere = NULL;
    for (int i = 0; i < HTTP_OUT_PARALLEL_MAX; i++) {
        struct conn *c = &pp->conns[i];
        if (c->state == CONN_IDLE) {
            if (strcmp(c->name, t->name) == 0 && strcmp(c->port, t->port) == 0) {
                return c;
            }
            elsewhere = elsewhere != NULL ? elsewhere : c;
        } else if (c->state == CONN_EMPTY && empty == NULL) {
            empty = c;
        }
    }
    if (empty == NULL) {
        km_assert(elsewhere != NULL);
        conn_close(elsewhere);
        empty = elsewhere;
    }
    return empty;
}

int http_out_pipe_add(const char *url, char *body, const char *signature, void *tag)
{
    struct pipe *pp = thread_pipe();
    if (pp == NULL) {
        return -KM_EINTERNAL;
    }
    km_assert(pp->in_flight < HTTP_OUT_PARALLEL_MAX);
    struct http_url t;
    if (!http_url_read(url, &t)) { /* https and the rest: libcurl's */
        if (!pp->curl_watched) {
            int fd = http_out_curl_fd();
            struct epoll_event ev = {.events = EPOLLIN, .data.u32 = CURL_WINDOW};
            if (fd < 0 || epoll_ctl(pp->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
                return -KM_EINTERNAL;
            }
            pp->curl_watched = true;
        }
        int rc = http_out_curl_add(url, body, signature, tag, !keep_connections);
        pp->in_flight += rc == 0;
        return rc;
    }
    struct conn *c = slot_for(pp, &t);
    if (c->state == CONN_EMPTY && resolve(pp, &t, c) != 0) {
        return -KM_EINTERNAL;
    }
    if (request_build(c, &t, body, signature) != 0) {
        return -KM_EINTERNAL;
    }
    c->posting = true;
    c->tag = tag;
    c->body = body;
    c->sent = 0;
    c->retried = false;
    c->got_bytes = false;
    c->close_after = false;
    c->tried = 0;
    c->deadline_us = clock_mono_us() + (int64_t)HTTP_OUT_TIMEOUT_MS * 1000;
    pp->in_flight++;
    if (c->state == CONN_IDLE) {
        c->state = CONN_SENDING;
        post_send(pp, c);
    } else {
        snprintf(c->name, sizeof c->name, "%s", t.name);
        snprintf(c->port, sizeof c->port, "%s", t.port);
        conn_open(pp, c);
    }
    return 0;
}

int http_out_pipe_in_flight(void)
{
    return pipe_of_thread.in_flight;
}

/* libcurl's finished posts, to be handed back with the others. */
static void curl_ended(void *ud, void *tag, char *body, long status)
{
    struct pipe *pp = ud;
    km_assert(pp->done_count < HTTP_OUT_PARALLEL_MAX);
    pp->done[pp->done_count++] = (struct outcome){.tag = tag, .body = body, .status = status};
}

/* Ends the posts past their deadline; returns the earliest deadline left (INT64_MAX: none). */
static int64_t deadlines(struct pipe *pp, int64_t now)
{
    int64_t next = INT64_MAX;
    for (int i = 0; i < HTTP_OUT_PARALLEL_MAX; i++) {
        struct conn *c = &pp->conns[i];
        if (!c->posting) {
            continue;
        }
        if (c->deadline_us <= now) {
            c->close_after = true;
            post_end(pp, c, 0);
        } else if (c->deadline_us < next) {
            next = c->deadline_us;
        }
    }
    return next;
}

int http_out_pipe_collect(int wait_ms, void (*done)(void *ud, void *tag, char *body, long status),
                          void *ud)
{
    struct pipe *pp = &pipe_of_thread;
    if (pp->in_flight == 0) {
        return 0;
    }
    int64_t until_us = clock_mono_us() + (int64_t)wait_ms * 1000;
    while (pp->done_count == 0) {
        int64_t now = clock_mono_us();
        int64_t next = deadlines(pp, now);
        int64_t curl_at = http_out_curl_timer_at_us();
        if (curl_at >= 0 && curl_at <= now) {
            http_out_curl_run(now, curl_ended, pp);
            continue;
        }
        if (pp->done_count > 0 || now >= until_us) {
            break;
        }
        int64_t wake_us = next < until_us ? next : until_us;
        wake_us = curl_at >= 0 && curl_at < wake_us ? curl_at : wake_us;
        struct epoll_event ev[64];
        int n = epoll_wait(pp->epfd, ev, 64, (int)((wake_us - now + 999) / 1000));
        for (int i = 0; i < n; i++) {
            if (ev[i].data.u32 == CURL_WINDOW) {
                http_out_curl_run(clock_mono_us(), curl_ended, pp);
            } else {
                conn_event(pp, &pp->conns[ev[i].data.u32], ev[i].events);
            }
        }
    }
    /* Handed back after the loop: done() may not add posts meanwhile. */
    int finished = pp->done_count;
    struct outcome out[HTTP_OUT_PARALLEL_MAX];
    memcpy(out, pp->done, (size_t)finished * sizeof out[0]);
    pp->done_count = 0;
    pp->in_flight -= finished;
    for (int i = 0; i < finished; i++) {
        done(ud, out[i].tag, out[i].body, out[i].status);
    }
    return finished;
}
