/* The window of posts against a scripted server on loopback: every post handed back with its
 * tag, body and status; kept-alive connections used again; answers ended by length, chunks or
 * the close; a connection the server dropped while idle does not lose the post on it; a refused
 * connection and a URL of another scheme come back unanswered rather than never; a name's second
 * address is tried when its first refuses, and a name that does not resolve is not looked up on
 * every post; a thread that ends with posts in flight closes their connections. */
#include <criterion/criterion.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "adapters/http_out.h"

enum answer_kind {
    ANSWER_LENGTH,
    ANSWER_CHUNKED,
    ANSWER_UNTIL_CLOSE,
    ANSWER_THEN_DROP, /* answers, then closes without saying so */
    ANSWER_OVERLONG,  /* sends more than its answer frames: a stale answer behind it */
    ANSWER_CONTINUE,  /* a 100 Continue before the answer */
    ANSWER_NEVER,
};

#define SERVER_CONNS 300

static struct {
    int listen_fd;
    int port;
    enum answer_kind kind;
    atomic_int accepted;
    atomic_int requests;
    atomic_int asked_to_close; /* requests with Connection: close */
    atomic_int signed_ok;      /* requests with the signature header and the whole body */
    atomic_int closed_by_peer; /* connections the client closed */
    atomic_bool stop;
    pthread_t thread;
} srv;

struct srv_conn {
    int fd;
    char buf[8192];
    size_t len;
};

static const char *const answers[] = {
    [ANSWER_LENGTH] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n"
                      "\r\n{\"ok\":true}",
    [ANSWER_CHUNKED] = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "6\r\n{\"ok\":\r\n5\r\ntrue}\r\n0\r\n\r\n",
    [ANSWER_UNTIL_CLOSE] = "HTTP/1.1 202 Accepted\r\n\r\n{\"ok\":true}",
    [ANSWER_THEN_DROP] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    [ANSWER_CONTINUE] =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    [ANSWER_NEVER] = "",
};

/* An answer of nearly 4 KiB of headers followed by a stale one: more than the client reads at
 * once, so the stale bytes are still in the socket when the first answer is whole. */
static const char *overlong(void)
{
    static char text[8192];
    if (text[0] == '\0') {
        char pad[4047]; /* the first answer fills the client's 4,095 bytes exactly */
        memset(pad, 'p', sizeof pad - 1);
        pad[sizeof pad - 1] = '\0';
        snprintf(text, sizeof text,
                 "HTTP/1.1 200 OK\r\nX-Pad: %s\r\nContent-Length: 2\r\n\r\nok"
                 "HTTP/1.1 500 Stale\r\nContent-Length: 0\r\n\r\n",
                 pad);
    }
    return text;
}

/* Answers every whole request in c; false when the connection is to be closed. */
static bool serve_requests(struct srv_conn *c)
{
    for (;;) {
        c->buf[c->len] = '\0';
        char *end = strstr(c->buf, "\r\n\r\n");
        if (end == NULL) {
            return true;
        }
        const char *cl = strstr(c->buf, "Content-Length: ");
        size_t body = cl != NULL && cl < end ? strtoul(cl + 16, NULL, 10) : 0;
        size_t whole = (size_t)(end + 4 - c->buf) + body;
        if (c->len < whole) {
            return true;
        }
        atomic_fetch_add(&srv.requests, 1);
        if (strstr(c->buf, "\r\nConnection: close\r\n") != NULL &&
            strstr(c->buf, "\r\nConnection: close\r\n") < end) {
            atomic_fetch_add(&srv.asked_to_close, 1);
        }
        const char *sig = strstr(c->buf, "\r\nKameng-Signature: sig-");
        if (sig != NULL && sig < end && body > 0 && end[4] == '{' && c->buf[whole - 1] == '}') {
            atomic_fetch_add(&srv.signed_ok, 1);
        }
        const char *a = srv.kind == ANSWER_OVERLONG ? overlong() : answers[srv.kind];
        if (a[0] != '\0' && write(c->fd, a, strlen(a)) != (ssize_t)strlen(a)) {
            return false;
        }
        memmove(c->buf, c->buf + whole, c->len - whole);
        c->len -= whole;
        if (srv.kind == ANSWER_UNTIL_CLOSE || srv.kind == ANSWER_THEN_DROP) {
            return false;
        }
    }
}

static void *server_main(void *unused)
{
    (void)unused;
    static struct srv_conn conns[SERVER_CONNS];
    struct pollfd pfd[SERVER_CONNS + 1];
    int count = 0;
    while (!atomic_load(&srv.stop)) {
        pfd[0] = (struct pollfd){.fd = srv.listen_fd, .events = POLLIN};
        for (int i = 0; i < count; i++) {
            pfd[i + 1] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
        }
        if (poll(pfd, (nfds_t)count + 1, 20) <= 0) {
            continue;
        }
        for (int i = count - 1; i >= 0; i--) {
            if (!(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) {
                continue;
            }
            struct srv_conn *c = &conns[i];
            ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
            if (n <= 0) {
                atomic_fetch_add(&srv.closed_by_peer, 1);
            }
            if (n <= 0 || (c->len += (size_t)n, !serve_requests(c))) {
                close(c->fd);
                conns[i] = conns[--count];
            }
        }
        if ((pfd[0].revents & POLLIN) && count < SERVER_CONNS) {
            int fd = accept(srv.listen_fd, NULL, NULL);
            if (fd >= 0) {
                atomic_fetch_add(&srv.accepted, 1);
                conns[count++] = (struct srv_conn){.fd = fd};
            }
        }
    }
    for (int i = 0; i < count; i++) {
        close(conns[i].fd);
    }
    return NULL;
}

/* The unit tests' getaddrinfo (the Makefile links with --wrap=getaddrinfo): a name with two
 * addresses, the first of which refuses (nothing listens on 127.0.0.2), and a name that does not
 * resolve, each counted; every other name goes to the system's. */
#define TWO_ADDRESSES "two-addresses.kameng.test"
#define NOWHERE "nowhere.invalid"
static atomic_int lookups_two, lookups_nowhere;

int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);

int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res)
{
    if (node != NULL && strcmp(node, NOWHERE) == 0) {
        atomic_fetch_add(&lookups_nowhere, 1);
        return EAI_NONAME;
    }
    if (node == NULL || strcmp(node, TWO_ADDRESSES) != 0) {
        return __real_getaddrinfo(node, service, hints, res);
    }
    atomic_fetch_add(&lookups_two, 1);
    struct addrinfo *first = NULL, *second = NULL;
    int rc = __real_getaddrinfo("127.0.0.2", service, hints, &first);
    if (rc != 0) {
        return rc;
    }
    rc = __real_getaddrinfo("127.0.0.1", service, hints, &second);
    if (rc != 0) {
        freeaddrinfo(first);
        return rc;
    }
    struct addrinfo *last = first; /* glibc frees a list entry by entry, so two lists join */
    while (last->ai_next != NULL) {
        last = last->ai_next;
    }
    last->ai_next = second;
    *res = first;
    return 0;
}

/* A port on loopback nothing listens on. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void server_start(enum answer_kind kind)
{
    srv.kind = kind;
    srv.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(srv.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(srv.listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(srv.listen_fd, 512), 0);
    cr_assert_eq(getsockname(srv.listen_fd, (struct sockaddr *)&a, &len), 0);
    srv.port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&srv.thread, NULL, server_main, NULL), 0);
}

static void server_stop(void)
{
    atomic_store(&srv.stop, true);
    pthread_join(srv.thread, NULL);
    close(srv.listen_fd);
}

TestSuite(http_out_pipe, .fini = server_stop);

/* Starts the scripted server answering with kind; the URL of path on it. */
static const char *serve(enum answer_kind kind, const char *path)
{
    static char url[96];
    server_start(kind);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", srv.port, path);
    return url;
}

struct results {
    int count;
    long status[HTTP_OUT_PARALLEL_MAX * 4];
    bool seen[HTTP_OUT_PARALLEL_MAX * 4];
};

static void on_done(void *ud, void *tag, char *body, long status)
{
    struct results *r = ud;
    intptr_t i = (intptr_t)tag;
    cr_assert(!r->seen[i], "post %ld handed back twice", (long)i);
    char want[32];
    snprintf(want, sizeof want, "{\"n\":%ld}", (long)i);
    cr_assert_str_eq(body, want);
    free(body);
    r->seen[i] = true;
    r->status[i] = status;
    r->count++;
}

/* Every one of the first n posts came back with status. */
static void assert_all(const struct results *r, int n, long status)
{
    for (int i = 0; i < n; i++) {
        cr_assert_eq(r->status[i], status, "post %d: %ld", i, r->status[i]);
    }
}

/* Posts n bodies to url, keeping the window full, and waits for every one. */
static void post_all(const char *url, int n, struct results *r)
{
    memset(r, 0, sizeof *r);
    int added = 0;
    while (r->count < n) {
        while (added < n && http_out_pipe_in_flight() < HTTP_OUT_PARALLEL_MAX) {
            char *body = malloc(32);
            snprintf(body, 32, "{\"n\":%d}", added);
            cr_assert_eq(http_out_pipe_add(url, body, "sig-x", (void *)(intptr_t)added), 0);
            added++;
        }
        (void)http_out_pipe_collect(1000, on_done, r);
    }
    cr_assert_eq(http_out_pipe_in_flight(), 0);
}

Test(http_out_pipe, kept_alive_connections_carry_many_posts_each)
{
    const char *url = serve(ANSWER_LENGTH, "/v1/callbacks/x");
    http_out_keep_connections();
    static struct results r;
    post_all(url, 3 * HTTP_OUT_PARALLEL_MAX, &r);
    assert_all(&r, 3 * HTTP_OUT_PARALLEL_MAX, 200);
    cr_assert_eq(atomic_load(&srv.requests), 3 * HTTP_OUT_PARALLEL_MAX);
    cr_assert_eq(atomic_load(&srv.signed_ok), 3 * HTTP_OUT_PARALLEL_MAX);
    cr_assert_eq(atomic_load(&srv.asked_to_close), 0);
    cr_assert_leq(atomic_load(&srv.accepted), HTTP_OUT_PARALLEL_MAX);
    /* A second window finds the connections of the first open. */
    int before = atomic_load(&srv.accepted);
    post_all(url, 8, &r);
    cr_assert_eq(atomic_load(&srv.accepted), before);
}

Test(http_out_pipe, chunked_answers_end_where_their_last_chunk_does)
{
    const char *url = serve(ANSWER_CHUNKED, "/");
    http_out_keep_connections();
    static struct results r;
    post_all(url, 300, &r);
    assert_all(&r, 300, 201);
    cr_assert_leq(atomic_load(&srv.accepted), HTTP_OUT_PARALLEL_MAX);
}

Test(http_out_pipe, answers_that_end_with_the_close_take_a_connection_each)
{
    const char *url = serve(ANSWER_UNTIL_CLOSE, "");
    http_out_keep_connections();
    static struct results r;
    post_all(url, 300, &r);
    assert_all(&r, 300, 202);
    cr_assert_eq(atomic_load(&srv.accepted), 300);
}

Test(http_out_pipe, a_connection_dropped_while_idle_does_not_lose_the_next_post)
{
    const char *url = serve(ANSWER_THEN_DROP, "/x"); /* answers, then closes without saying so */
    http_out_keep_connections();
    static struct results r;
    for (int round = 0; round < 20; round++) {
        post_all(url, 20, &r);
        assert_all(&r, 20, 200);
    }
    cr_assert_eq(atomic_load(&srv.requests), 400);
}

Test(http_out_pipe, without_kept_connections_each_post_asks_for_its_close)
{
    const char *url = serve(ANSWER_LENGTH, "/x");
    static struct results r;
    post_all(url, 50, &r);
    assert_all(&r, 50, 200);
    cr_assert_eq(atomic_load(&srv.asked_to_close), 50);
    cr_assert_eq(atomic_load(&srv.accepted), 50);
}

Test(http_out_pipe, refused_connections_and_other_schemes_come_back_unanswered)
{
    server_start(ANSWER_LENGTH);
    http_out_keep_connections();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", closed_port());
    static struct results r;
    post_all(url, 10, &r);
    assert_all(&r, 10, 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/x", closed_port()); /* libcurl's */
    post_all(url, 3, &r);
    assert_all(&r, 3, 0);
}

Test(http_out_pipe, bytes_past_an_answer_do_not_answer_the_next_post)
{
    const char *url = serve(ANSWER_OVERLONG, "/x");
    http_out_keep_connections();
    static struct results r;
    for (int round = 0; round < 5; round++) {
        post_all(url, 40, &r);
        assert_all(&r, 40, 200);
    }
}

Test(http_out_pipe, an_interim_answer_is_passed_over)
{
    server_start(ANSWER_CONTINUE);
    http_out_keep_connections();
    char url[64];
    snprintf(url, sizeof url, "http://localhost:%d/x", srv.port); /* by name, too */
    static struct results r;
    post_all(url, 100, &r);
    assert_all(&r, 100, 200);
}

Test(http_out_pipe, a_post_with_no_answer_ends_unanswered_at_its_deadline, .timeout = 30)
{
    const char *url = serve(ANSWER_NEVER, "/x");
    http_out_keep_connections();
    static struct results r;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    post_all(url, 3, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_all(&r, 3, 0);
    double took_ms =
        (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    cr_assert_geq(took_ms, HTTP_OUT_TIMEOUT_MS - 50, "gave up after %.0f ms", took_ms);
    cr_assert_eq(atomic_load(&srv.requests), 3);
}

Test(http_out_pipe, urls_it_does_not_read_go_through_libcurl_and_come_back)
{
    server_start(ANSWER_LENGTH);
    http_out_keep_connections();
    char url[80];
    /* User info is not read by the plain client: libcurl posts these. */
    snprintf(url, sizeof url, "http://user@127.0.0.1:%d/x", srv.port);
    static struct results r;
    post_all(url, 300, &r);
    assert_all(&r, 300, 200);
    cr_assert_eq(atomic_load(&srv.signed_ok), 300);
    cr_assert_leq(atomic_load(&srv.accepted), HTTP_OUT_PARALLEL_MAX);
}

/* What the posting thread saw before it ended; asserted by the test's own thread, as Criterion's
 * assertions may only fail there. */
struct ended_thread {
    const char *url;
    int added;    /* posts the window took */
    int answered; /* posts handed back */
    int in_flight_at_end;
};

static void count_done(void *ud, void *tag, char *body, long status)
{
    (void)tag;
    (void)status;
    free(body);
    ((struct ended_thread *)ud)->answered++;
}

/* A thread that posts into a server that never answers, waits a little, and ends. */
static void *post_and_end_main(void *arg)
{
    struct ended_thread *e = arg;
    http_out_keep_connections();
    for (int i = 0; i < 8; i++) {
        char *body = malloc(32);
        snprintf(body, 32, "{\"n\":%d}", i);
        if (http_out_pipe_add(e->url, body, "sig-x", (void *)(intptr_t)i) == 0) {
            e->added++;
        } else {
            free(body);
        }
    }
    for (int i = 0; i < 20 && atomic_load(&srv.requests) < 8; i++) {
        (void)http_out_pipe_collect(50, count_done, e);
    }
    e->in_flight_at_end = http_out_pipe_in_flight();
    return NULL; /* with its posts in flight; under ASan a body left behind is a leak */
}

Test(http_out_pipe, a_thread_that_ends_with_posts_in_flight_closes_their_connections)
{
    struct ended_thread e = {.url = serve(ANSWER_NEVER, "/x")};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, post_and_end_main, &e), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_assert_eq(e.added, 8);
    cr_assert_eq(atomic_load(&srv.requests), 8, "the posts were sent");
    cr_assert_eq(e.answered, 0, "none was answered");
    cr_assert_eq(e.in_flight_at_end, 8);
    for (int i = 0; i < 200 && atomic_load(&srv.closed_by_peer) < 8; i++) {
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    }
    cr_assert_eq(atomic_load(&srv.accepted), 8);
    cr_assert_eq(atomic_load(&srv.closed_by_peer), 8, "the ended thread's connections closed");
}

Test(http_out_pipe, a_name_whose_first_address_refuses_is_reached_at_its_second)
{
    server_start(ANSWER_LENGTH);
    http_out_keep_connections();
    char url[96];
    snprintf(url, sizeof url, "http://" TWO_ADDRESSES ":%d/x", srv.port);
    static struct results r;
    post_all(url, 3 * HTTP_OUT_PARALLEL_MAX, &r);
    assert_all(&r, 3 * HTTP_OUT_PARALLEL_MAX, 200);
    cr_assert_leq(atomic_load(&srv.accepted), HTTP_OUT_PARALLEL_MAX);
    cr_assert_eq(atomic_load(&lookups_two), 1, "the name's addresses are kept a while");
}

Test(http_out_pipe, a_name_that_does_not_resolve_is_not_looked_up_again_for_five_seconds,
     .timeout = 30)
{
    server_start(ANSWER_LENGTH);
    char url[64];
    snprintf(url, sizeof url, "http://" NOWHERE ":%d/x", srv.port);
    char body[] = "{}";
    for (int i = 0; i < 10; i++) {
        cr_assert_neq(http_out_pipe_add(url, body, "sig-x", NULL), 0, "a post to nowhere");
    }
    cr_assert_eq(http_out_pipe_in_flight(), 0);
    cr_assert_eq(atomic_load(&lookups_nowhere), 1, "asked %d times", atomic_load(&lookups_nowhere));
    nanosleep(&(struct timespec){5, 100 * 1000000L}, NULL);
    cr_assert_neq(http_out_pipe_add(url, body, "sig-x", NULL), 0);
    cr_assert_eq(atomic_load(&lookups_nowhere), 2, "asked again after five seconds");
}
