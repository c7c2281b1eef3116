/* One libcurl easy handle and one window of posts per thread, reused so that callbacks to the
 * same host ride kept-alive connections; freed when the thread ends. */
#include "adapters/http_out.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"

static size_t discard(char *ptr, size_t size, size_t n, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * n;
}

static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void handle_free(void *p)
{
    curl_easy_cleanup(p);
}

static void handle_key_init(void)
{
    (void)pthread_key_create(&handle_key, handle_free);
}

static CURL *thread_handle(void)
{
    pthread_once(&handle_once, handle_key_init);
    CURL *c = pthread_getspecific(handle_key);
    if (c == NULL) {
        c = curl_easy_init();
        if (c != NULL && pthread_setspecific(handle_key, c) != 0) {
            curl_easy_cleanup(c);
            c = NULL;
        }
    } else {
        curl_easy_reset(c); /* options go; the connection cache stays */
    }
    return c;
}

int http_out_post(const char *url, const char *body, const char *signature, long *status)
{
    *status = 0;
    CURL *c = thread_handle();
    if (c == NULL) {
        return -KM_EINTERNAL;
    }
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    char sig[160];
    snprintf(sig, sizeof sig, "Kameng-Signature: %s", signature);
    headers = curl_slist_append(headers, sig);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)HTTP_OUT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    }
    curl_slist_free_all(headers);
    return rc == CURLE_OK ? 0 : -KM_EINTERNAL;
}

struct sink {
    char *data;
    size_t len;
    bool too_large;
};

static size_t collect(char *ptr, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t add = size * n;
    if (s->len + add > HTTP_OUT_BODY_MAX) {
        s->too_large = true;
        return 0;
    }
    char *grown = realloc(s->data, s->len + add + 1);
    if (grown == NULL) {
        return 0;
    }
    s->data = grown;
    memcpy(s->data + s->len, ptr, add);
    s->len += add;
    s->data[s->len] = '\0';
    return add;
}

int http_out_get(const char *url, char **body, long *status)
{
    *status = 0;
    *body = NULL;
    CURL *c = thread_handle();
    if (c == NULL) {
        return -KM_EINTERNAL;
    }
    struct sink s = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)HTTP_OUT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK || s.too_large) {
        free(s.data);
        return -KM_EINTERNAL;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    *body = s.data != NULL ? s.data : calloc(1, 1);
    return 0;
}

static _Thread_local bool keep_connections;

void http_out_keep_connections(void)
{
    keep_connections = true;
}

/* A connection to kameng itself belongs to one of its server threads, and a thread that posts
 * from inside a request (a test's clock advance runs the timers) may be that very one: it would
 * wait for itself. Such threads open a connection for each post. Set either way: a window's easy
 * handles are used again, and their options stay. */
static void connection_policy_set(CURL *easy)
{
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, keep_connections ? 0L : 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, keep_connections ? 0L : 1L);
}

/* A post in flight on the thread's window (http_out_pipe_*). */
struct pipe_post {
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    void *tag;
};

/* The window runs on libcurl's socket interface: curl_multi_perform visits every transfer of
 * the handle each time it is called, a system call or two each, which with 256 in flight was a
 * third of the timers' time; here epoll says which connections are ready and only those are
 * driven. The multi handle's connection cache outlives each pass: the next finds as many
 * connections open as the last one used, where opening one per post cost both ends a dozen
 * system calls and a TCP handshake each time. */
struct pipe {
    CURLM *multi;
    int epfd;
    int in_flight;
    int64_t timer_at_us; /* when libcurl wants CURL_SOCKET_TIMEOUT; -1: no timer */
    /* Easy handles of finished posts, used again: creating and freeing one per post was a tenth
     * of a notification's instructions. Every option a post sets is set again on reuse. */
    CURL *spare[HTTP_OUT_PARALLEL_MAX];
    int spare_count;
};

static _Thread_local struct pipe pipe_of_thread = {.epfd = -1, .timer_at_us = -1};
static pthread_key_t pipe_key;
static pthread_once_t pipe_once = PTHREAD_ONCE_INIT;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void pipe_free(void *p)
{
    struct pipe *pp = p;
    while (pp->spare_count > 0) {
        curl_easy_cleanup(pp->spare[--pp->spare_count]);
    }
    curl_multi_cleanup(pp->multi);
    close(pp->epfd);
}

static void pipe_key_init(void)
{
    (void)pthread_key_create(&pipe_key, pipe_free);
}

/* What libcurl keeps for a socket in our epoll set (curl_multi_assign); it forgets it with the
 * socket's REMOVE, so a kept-alive connection's next transfer is added again. */
static char in_epoll_set;

static int pipe_socket(CURL *easy, curl_socket_t s, int what, void *ud, void *socketp)
{
    (void)easy;
    struct pipe *pp = ud;
    if (what == CURL_POLL_REMOVE) {
        (void)epoll_ctl(pp->epfd, EPOLL_CTL_DEL, s, NULL);
        return 0;
    }
    struct epoll_event ev = {.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
                                       (what & CURL_POLL_OUT ? EPOLLOUT : 0u),
                             .data.fd = s};
    /* One call, not a MOD that fails before each transfer's ADD (a system call a notification). */
    int op = socketp != NULL ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(pp->epfd, op, s, &ev) != 0) {
        (void)epoll_ctl(pp->epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev);
    }
    if (socketp == NULL) {
        curl_multi_assign(pp->multi, s, &in_epoll_set);
    }
    return 0;
}

static int pipe_timer(CURLM *multi, long timeout_ms, void *ud)
{
    (void)multi;
    struct pipe *pp = ud;
    pp->timer_at_us = timeout_ms < 0 ? -1 : mono_us() + (int64_t)timeout_ms * 1000;
    return 0;
}

static struct pipe *thread_pipe(void)
{
    struct pipe *pp = &pipe_of_thread;
    if (pp->multi != NULL) {
        return pp;
    }
    pthread_once(&pipe_once, pipe_key_init);
    pp->epfd = epoll_create1(EPOLL_CLOEXEC);
    pp->multi = pp->epfd >= 0 ? curl_multi_init() : NULL;
    if (pp->multi == NULL) {
        if (pp->epfd >= 0) {
            close(pp->epfd);
        }
        pp->epfd = -1;
        return NULL;
    }
    curl_multi_setopt(pp->multi, CURLMOPT_MAXCONNECTS, (long)HTTP_OUT_PARALLEL_MAX);
    curl_multi_setopt(pp->multi, CURLMOPT_SOCKETFUNCTION, pipe_socket);
    curl_multi_setopt(pp->multi, CURLMOPT_SOCKETDATA, pp);
    curl_multi_setopt(pp->multi, CURLMOPT_TIMERFUNCTION, pipe_timer);
    curl_multi_setopt(pp->multi, CURLMOPT_TIMERDATA, pp);
    (void)pthread_setspecific(pipe_key, pp);
    return pp;
}

int http_out_pipe_add(const char *url, char *body, const char *signature, void *tag)
{
    struct pipe *pp = thread_pipe();
    km_assert(pp == NULL || pp->in_flight < HTTP_OUT_PARALLEL_MAX);
    struct pipe_post *p = calloc(1, sizeof *p);
    if (pp == NULL || p == NULL) {
        free(p);
        return -KM_EINTERNAL;
    }
    p->easy = pp->spare_count > 0 ? pp->spare[--pp->spare_count] : curl_easy_init();
    if (p->easy == NULL) {
        free(p);
        return -KM_EINTERNAL;
    }
    char sig[160];
    snprintf(sig, sizeof sig, "Kameng-Signature: %s", signature);
    p->headers = curl_slist_append(NULL, "Content-Type: application/json");
    p->headers = curl_slist_append(p->headers, sig);
    p->body = body;
    p->tag = tag;
    curl_easy_setopt(p->easy, CURLOPT_URL, url);
    curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(p->easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(p->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, (long)HTTP_OUT_TIMEOUT_MS);
    curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
    connection_policy_set(p->easy);
    if (curl_multi_add_handle(pp->multi, p->easy) != CURLM_OK) {
        curl_easy_cleanup(p->easy);
        curl_slist_free_all(p->headers);
        free(p);
        return -KM_EINTERNAL;
    }
    pp->in_flight++;
    return 0;
}

int http_out_pipe_in_flight(void)
{
    return pipe_of_thread.in_flight;
}

/* Hands every finished post to done(); returns how many there were. */
static int pipe_reap(struct pipe *pp, void (*done)(void *ud, void *tag, char *body, long status),
                     void *ud)
{
    int finished = 0, left = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(pp->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) {
            continue;
        }
        struct pipe_post *p = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&p);
        long status = 0;
        if (m->data.result == CURLE_OK) {
            curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
        }
        curl_multi_remove_handle(pp->multi, p->easy);
        if (pp->spare_count < HTTP_OUT_PARALLEL_MAX) {
            pp->spare[pp->spare_count++] = p->easy;
        } else {
            curl_easy_cleanup(p->easy);
        }
        curl_slist_free_all(p->headers);
        pp->in_flight--;
        finished++;
        done(ud, p->tag, p->body, status);
        free(p);
    }
    return finished;
}

int http_out_pipe_collect(int wait_ms, void (*done)(void *ud, void *tag, char *body, long status),
                          void *ud)
{
    struct pipe *pp = &pipe_of_thread;
    if (pp->multi == NULL || pp->in_flight == 0) {
        return 0;
    }
    int running = 0;
    /* Bounded by the transfers' own timeouts: each gives up after HTTP_OUT_TIMEOUT_MS, which
     * libcurl's timer brings round. */
    int64_t until_us = mono_us() + (int64_t)wait_ms * 1000;
    int finished = 0;
    while (finished == 0) {
        int64_t now = mono_us();
        if (pp->timer_at_us >= 0 && pp->timer_at_us <= now) {
            pp->timer_at_us = -1;
            (void)curl_multi_socket_action(pp->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            finished += pipe_reap(pp, done, ud);
            continue;
        }
        if (now >= until_us) {
            break;
        }
        int64_t wake_us =
            pp->timer_at_us >= 0 && pp->timer_at_us < until_us ? pp->timer_at_us : until_us;
        struct epoll_event ev[64];
        int n = epoll_wait(pp->epfd, ev, 64, (int)((wake_us - now + 999) / 1000));
        for (int i = 0; i < n; i++) {
            int mask = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                       (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                       (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
            (void)curl_multi_socket_action(pp->multi, ev[i].data.fd, mask, &running);
        }
        finished += pipe_reap(pp, done, ud);
    }
    return finished;
}
