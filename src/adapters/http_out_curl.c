/* libcurl's socket interface on an epoll set: epoll says which connections are ready and only
 * those are driven (curl_multi_perform visits every transfer each call). The multi handle's
 * connection cache outlives a pass, and finished easy handles are used again with every option
 * set anew. */
#include "adapters/http_out_curl.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "adapters/http_out.h"
#include "core/clock.h"
#include "core/err.h"

struct curl_post {
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    void *tag;
    int live_at; /* its place in cw.live */
};

static _Thread_local struct {
    CURLM *multi;
    int epfd;
    int64_t timer_at_us; /* -1: no timer */
    CURL *spare[HTTP_OUT_PARALLEL_MAX];
    int spare_count;
    struct curl_post *live[HTTP_OUT_PARALLEL_MAX]; /* the posts in flight */
    int live_count;
} cw = {.epfd = -1, .timer_at_us = -1};

/* What libcurl keeps for a socket in the epoll set (curl_multi_assign); it forgets it with the
 * socket's REMOVE, so a kept-alive connection's next transfer is added again. */
static char in_epoll_set;

static int on_socket(CURL *easy, curl_socket_t s, int what, void *ud, void *socketp)
{
    (void)easy;
    (void)ud;
    if (what == CURL_POLL_REMOVE) {
        (void)epoll_ctl(cw.epfd, EPOLL_CTL_DEL, s, NULL);
        return 0;
    }
    struct epoll_event ev = {.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
                                       (what & CURL_POLL_OUT ? EPOLLOUT : 0u),
                             .data.fd = s};
    int op = socketp != NULL ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(cw.epfd, op, s, &ev) != 0) {
        (void)epoll_ctl(cw.epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev);
    }
    if (socketp == NULL) {
        curl_multi_assign(cw.multi, s, &in_epoll_set);
    }
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *ud)
{
    (void)multi;
    (void)ud;
    cw.timer_at_us = timeout_ms < 0 ? -1 : clock_mono_us() + (int64_t)timeout_ms * 1000;
    return 0;
}

int http_out_curl_fd(void)
{
    if (cw.multi != NULL) {
        return cw.epfd;
    }
    cw.epfd = epoll_create1(EPOLL_CLOEXEC);
    cw.multi = cw.epfd >= 0 ? curl_multi_init() : NULL;
    if (cw.multi == NULL) {
        if (cw.epfd >= 0) {
            close(cw.epfd);
        }
        cw.epfd = -1;
        return -1;
    }
    curl_multi_setopt(cw.multi, CURLMOPT_MAXCONNECTS, (long)HTTP_OUT_PARALLEL_MAX);
    curl_multi_setopt(cw.multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(cw.multi, CURLMOPT_TIMERFUNCTION, on_timer);
    return cw.epfd;
}

int http_out_curl_add(const char *url, char *body, const char *signature, void *tag, bool fresh)
{
    struct curl_post *p = http_out_curl_fd() >= 0 && cw.live_count < HTTP_OUT_PARALLEL_MAX
                              ? calloc(1, sizeof *p)
                              : NULL;
    if (p == NULL) {
        return -KM_EINTERNAL;
    }
    p->easy = cw.spare_count > 0 ? cw.spare[--cw.spare_count] : curl_easy_init();
    if (p->easy == NULL) {
        free(p);
        return -KM_EINTERNAL;
    }
    p->body = body;
    p->tag = tag;
    p->headers = http_out_post_options(p->easy, url, body, signature);
    curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
    curl_easy_setopt(p->easy, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
    curl_easy_setopt(p->easy, CURLOPT_FORBID_REUSE, fresh ? 1L : 0L);
    if (curl_multi_add_handle(cw.multi, p->easy) != CURLM_OK) {
        curl_easy_cleanup(p->easy);
        curl_slist_free_all(p->headers);
        free(p);
        return -KM_EINTERNAL;
    }
    p->live_at = cw.live_count;
    cw.live[cw.live_count++] = p;
    return 0;
}

int64_t http_out_curl_timer_at_us(void)
{
    return cw.multi != NULL ? cw.timer_at_us : -1;
}

static void post_free(struct curl_post *p, bool keep_easy)
{
    struct curl_post *last = cw.live[--cw.live_count];
    cw.live[p->live_at] = last;
    last->live_at = p->live_at;
    curl_multi_remove_handle(cw.multi, p->easy);
    if (keep_easy && cw.spare_count < HTTP_OUT_PARALLEL_MAX) {
        cw.spare[cw.spare_count++] = p->easy;
    } else {
        curl_easy_cleanup(p->easy);
    }
    curl_slist_free_all(p->headers);
    free(p);
}

void http_out_curl_run(int64_t now_us, void (*end)(void *ud, void *tag, char *body, long status),
                       void *ud)
{
    if (cw.multi == NULL) {
        return;
    }
    int running = 0;
    struct epoll_event ev[64];
    int n = epoll_wait(cw.epfd, ev, 64, 0);
    for (int i = 0; i < n; i++) {
        int mask = (ev[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                   (ev[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                   (ev[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        (void)curl_multi_socket_action(cw.multi, ev[i].data.fd, mask, &running);
    }
    if (cw.timer_at_us >= 0 && cw.timer_at_us <= now_us) {
        cw.timer_at_us = -1;
        (void)curl_multi_socket_action(cw.multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    int left = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(cw.multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) {
            continue;
        }
        struct curl_post *p = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&p);
        long status = 0;
        if (m->data.result == CURLE_OK) {
            curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
        }
        char *body = p->body;
        void *tag = p->tag;
        post_free(p, true);
        end(ud, tag, body, status);
    }
}

void http_out_curl_free(void)
{
    if (cw.multi == NULL) {
        return;
    }
    while (cw.live_count > 0) {
        struct curl_post *p = cw.live[cw.live_count - 1];
        free(p->body);
        post_free(p, false);
    }
    while (cw.spare_count > 0) {
        curl_easy_cleanup(cw.spare[--cw.spare_count]);
    }
    curl_multi_cleanup(cw.multi);
    cw.multi = NULL;
    close(cw.epfd);
    cw.epfd = -1;
}
