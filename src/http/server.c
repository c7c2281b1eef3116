/* libmicrohttpd glue. A request is read into a bounded buffer; on the final call it is routed.
 * Reads answer at once on this thread's reader connection. Writes are handed to the executor and
 * the connection is suspended; the writer resumes it after the commit, and the answer is queued
 * on the next call. Nothing here knows SQL or business rules. */
#include "http/server.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/json_out.h"
#include "core/log.h"
#include "http/api.h"
#include "http/auth.h"
#include "http/idempotency.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/views.h"
#include "service/executor.h"
#include "service/view_warmer.h"
#include "store/db.h"

#define SHUTDOWN_WAIT_MS 10000 /* queued writes finish in well under a second */

static struct MHD_Daemon *daemon_handle;
static const char *reader_db_path;
static pthread_mutex_t readers_lock = PTHREAD_MUTEX_INITIALIZER;
#define READERS_MAX 64 /* one per MHD thread; the pool is HTTP_THREADS */
static struct db *readers[READERS_MAX];
static int reader_count;
static __thread struct db *thread_reader;

static struct db *reader_get(void)
{
    if (thread_reader == NULL) {
        if (db_open(reader_db_path, false, &thread_reader) != 0) {
            return NULL;
        }
        pthread_mutex_lock(&readers_lock);
        km_assert(reader_count < READERS_MAX);
        readers[reader_count++] = thread_reader;
        pthread_mutex_unlock(&readers_lock);
    }
    return thread_reader;
}

static void header_copy(struct MHD_Connection *c, const char *name, char *out, size_t out_len)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    out[0] = '\0';
    if (v != NULL && strlen(v) < out_len) {
        memcpy(out, v, strlen(v) + 1);
    }
}

static void client_ip(struct MHD_Connection *c, char *out, size_t out_len)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (info == NULL || info->client_addr == NULL) {
        return;
    }
    const struct sockaddr *sa = info->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)out_len);
    } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)out_len);
    }
}

static void split_path(struct api_req *r);

static struct api_req *req_new(struct MHD_Connection *c, const char *url, const char *method)
{
    struct api_req *r = calloc(1, sizeof *r);
    km_assert(r != NULL);
    r->conn = c;
    r->method = method;
    r->started_us = clock_mono_us();
    id_new("req", r->request_id);
    snprintf(r->path, sizeof r->path, "%s", url);
    if (strlen(url) >= sizeof r->path) {
        r->path[0] = '\0'; /* routed as unknown */
    }
    header_copy(c, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type, sizeof r->content_type);
    header_copy(c, "Idempotency-Key", r->idempotency_key, sizeof r->idempotency_key);
    const char *idem = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    r->idempotency_key_invalid = idem != NULL && r->idempotency_key[0] == '\0';
    header_copy(c, MHD_HTTP_HEADER_AUTHORIZATION, r->authorization, sizeof r->authorization);
    header_copy(c, "Kameng-Signature", r->signature, sizeof r->signature);
    client_ip(c, r->ip, sizeof r->ip);
    /* Route now, while only the headers are here: the route decides how much body to accept. */
    split_path(r);
    r->route = router_match(r, &r->path_found);
    r->body_limit = r->route != NULL && r->route->body_max != 0 ? r->route->body_max
                                                                 : HTTP_BODY_BYTES_MAX;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long announced = cl != NULL ? strtoull(cl, NULL, 10) : 0;
    if (announced > r->body_limit) {
        r->body_too_large = true;
        /* A client that waits for "100 Continue", or announces more than twice the limit, is
         * answered before it sends the body. One just over the limit that sends it at once is
         * read to the end first: answering early would close the connection under its writes,
         * and it would see a reset instead of the 413. */
        const char *expect =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
        r->body_refuse_early = announced / 2 > r->body_limit ||
                               (expect != NULL && strcasecmp(expect, "100-continue") == 0);
    }
    return r;
}

static void req_free(struct api_req *r)
{
    if (r == NULL) {
        return;
    }
    api_reply_later_drop(r); /* the answer was never sent: the client left */
    json_decref(r->reply);
    free(r->reply_text);
    if (r->write_free != NULL) {
        r->write_free(r->write_arg);
    }
    if (r->body != NULL) {
        sodium_memzero(r->body, r->body_len); /* bodies carry passwords and card keys */
        free(r->body);
    }
    sodium_memzero(r->authorization, sizeof r->authorization);
    free(r);
}

static void split_path(struct api_req *r)
{
    /* Drop the query string (MHD passes the path without it) and split on '/'. */
    snprintf(r->seg_buf, sizeof r->seg_buf, "%s", r->path);
    r->seg_count = 0;
    char *save = NULL;
    for (char *s = strtok_r(r->seg_buf, "/", &save); s != NULL; s = strtok_r(NULL, "/", &save)) {
        if (r->seg_count == HTTP_PATH_SEGMENTS_MAX) {
            r->seg_count = 0; /* too deep: matches nothing */
            r->path[0] = '\0';
            return;
        }
        r->seg[r->seg_count++] = s;
    }
}

static enum MHD_Result queue_answer(struct api_req *r)
{
    char *text;
    const char *type;
    size_t len = 0;
    if (r->reply_text != NULL) {
        text = r->reply_text;
        len = r->reply_text_len != 0 ? r->reply_text_len : strlen(text);
        r->reply_text = NULL;
        type = r->reply_type;
    } else {
        if (r->reply == NULL) {
            struct km_error e;
            km_fail(&e, KM_EINTERNAL, "internal_error", NULL, "the request produced no answer");
            api_error(r, &e);
        }
        text = json_out(r->reply, &len);
        type = "application/json";
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    km_assert(resp != NULL);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "Request-Id", r->request_id);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (r->attachment) {
        MHD_add_response_header(resp, "Content-Disposition", "attachment");
    }
    /* A page may load the shop's own scripts, styles and images; any other answer (JSON, a
     * file) may load nothing, were it ever opened as a document. */
    MHD_add_response_header(
        resp, "Content-Security-Policy",
        strncmp(type, "text/html", 9) == 0
            ? "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
            : "default-src 'none'; frame-ancestors 'none'");
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned int)r->status, resp);
    MHD_destroy_response(resp);
    metrics_request_done(r->route_name, r->status, clock_mono_us() - r->started_us);
    if (r->status >= 500) {
        char status[16];
        snprintf(status, sizeof status, "%d", r->status);
        log_write(LOG_ERROR, "request_failed", "request_id", r->request_id, "route",
                  r->route_name != NULL ? r->route_name : "", "status", status, NULL);
    }
    return ret;
}

static atomic_int writes_in_flight;
/* Connections suspended for a write and not yet running again. MHD_stop_daemon aborts the process
 * while any connection is suspended, and a resume only takes effect when MHD's thread next
 * polls, after write_done: so shutdown waits for this count, not writes_in_flight. */
static atomic_int suspended_connections;
static atomic_bool shutting_down;

static void suspended_end(struct api_req *r)
{
    if (r->write_queued && r->write_finished) {
        r->write_queued = false;
        atomic_fetch_sub(&suspended_connections, 1);
    }
}

static void write_done(void *arg, int rc)
{
    struct api_req *r = arg;
    if (rc == -KM_EINTERNAL && r->status < 500) {
        /* The batch's commit failed: whatever the command answered was not kept. */
        json_decref(r->reply);
        r->reply = NULL;
        struct km_error e;
        km_fail(&e, KM_EINTERNAL, "storage_error", NULL, "the write could not be committed");
        api_error(r, &e);
    }
    idempotency_inflight_end(r);
    r->write_finished = true;
    atomic_fetch_sub(&writes_in_flight, 1);
    MHD_resume_connection(r->conn);
}

static int write_run(struct db *db, void *arg)
{
    return idempotency_run(db, arg);
}

static void dispatch(struct api_req *r)
{
    const struct route *route = r->route;
    if (route == NULL) {
        r->route_name = "unknown";
        if (r->path_found) {
            api_fail(r, KM_EMETHOD, "method_not_allowed", NULL, "%s is not allowed on %s",
                     r->method, r->path);
        } else {
            api_fail(r, KM_ENOTFOUND, "resource_missing", NULL, "no such path: %s", r->path);
        }
        return;
    }
    r->route_name = route->name;
    if (r->body_too_large) {
        api_fail(r, KM_ETOOLARGE, "body_too_large", NULL, "the body is over %zu bytes",
                 r->body_limit);
        return;
    }
    r->db = reader_get();
    if (r->db == NULL) {
        api_fail(r, KM_EINTERNAL, "storage_error", NULL, "the database cannot be opened");
        return;
    }
    if (auth_resolve(r) != 0) {
        return;
    }
    if (route->handler(r) != 0 && r->reply == NULL && r->reply_text == NULL) {
        api_fail(r, KM_EINTERNAL, "internal_error", NULL, "the handler failed");
    }
}

static void *async_main(void *arg)
{
    struct api_req *r = arg;
    if (r->async_fn(r) != 0 && r->reply == NULL) {
        api_fail(r, KM_EINTERNAL, "internal_error", NULL, "the request failed");
    }
    executor_read_fence();
    r->write_finished = true;
    MHD_resume_connection(r->conn);
    return NULL;
}

static enum MHD_Result start_async(struct api_req *r, struct MHD_Connection *c)
{
    atomic_fetch_add(&suspended_connections, 1);
    if (atomic_load(&shutting_down)) {
        atomic_fetch_sub(&suspended_connections, 1);
        api_fail(r, KM_EBUSY, "shutting_down", NULL, "the server is shutting down");
        return queue_answer(r);
    }
    r->write_queued = true;
    MHD_suspend_connection(c);
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &attr, async_main, r);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        api_fail(r, KM_EBUSY, "overloaded", NULL, "no thread for this request; retry shortly");
        r->write_finished = true;
        MHD_resume_connection(c);
    }
    return MHD_YES;
}

static void fence_done(void *arg)
{
    struct api_req *r = arg;
    r->write_finished = true;
    MHD_resume_connection(r->conn);
}

/* An answer built from a read goes out once nothing it could have seen can be lost in a crash.
 * Under writes that is the next WAL sync; the connection is suspended meanwhile, so the server
 * thread goes on with the others. */
static enum MHD_Result answer_fenced(struct api_req *r, struct MHD_Connection *c)
{
    if (executor_all_durable()) {
        return queue_answer(r); /* writes are quiet, or synced: the usual case */
    }
    /* Counted before the check: either shutdown sees this suspension or it sees shutdown. */
    atomic_fetch_add(&suspended_connections, 1);
    if (atomic_load(&shutting_down)) {
        atomic_fetch_sub(&suspended_connections, 1);
        executor_read_fence();
        return queue_answer(r);
    }
    r->write_queued = true;
    MHD_suspend_connection(c);
    if (!executor_fence_async(&r->fence, fence_done, r)) {
        fence_done(r); /* synced meanwhile */
    }
    return MHD_YES;
}

/* libmicrohttpd's own messages (a connection it closed, a socket error) go to the log as
 * structured lines, like everything else the server says. */
__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '.')) {
        text[--n] = '\0';
    }
    log_write(LOG_WARN, "http_server_message", "message", text, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct api_req *r = *con_cls;
    if (r == NULL) {
        r = req_new(c, url, method);
        *con_cls = r;
        if (r->body_refuse_early) {
            /* The 413 goes out before a byte of the body is read, and MHD closes the connection
             * after it instead of reading the rest. */
            dispatch(r);
            return queue_answer(r);
        }
        return MHD_YES;
    }
    if (r->write_finished) {
        suspended_end(r);
        api_reply_build(r);
        return queue_answer(r);
    }
    if (*upload_size > 0) {
        if (r->body_too_large) {
            /* A body without a Content-Length (chunked) over the limit is read and dropped so
             * that it can be answered with a 413, but MHD cannot answer before the body ends:
             * past twice the limit, the connection is closed without an answer. */
            r->body_read += *upload_size;
            if (r->body_read > 2 * r->body_limit) {
                log_write(LOG_WARN, "body_dropped", "request_id", r->request_id, "ip", r->ip,
                          NULL);
                return MHD_NO;
            }
        } else {
            if (r->body_len + *upload_size > r->body_limit) {
                r->body_too_large = true;
                r->body_read = r->body_len + *upload_size;
            } else {
                if (r->body_len + *upload_size + 1 > r->body_cap) {
                    size_t cap = r->body_cap == 0 ? 4096 : r->body_cap;
                    while (cap < r->body_len + *upload_size + 1) {
                        cap *= 2;
                    }
                    r->body = realloc(r->body, cap);
                    km_assert(r->body != NULL);
                    r->body_cap = cap;
                }
                memcpy(r->body + r->body_len, upload, *upload_size);
                r->body_len += *upload_size;
                r->body[r->body_len] = '\0';
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->write_queued) {
        return MHD_YES; /* spurious call while suspended */
    }
    dispatch(r);
    if (r->async_fn != NULL && r->reply == NULL) {
        return start_async(r, c);
    }
    if (r->write_fn != NULL && r->reply == NULL) {
        /* Counted before the check: either shutdown sees this write or it sees shutdown. */
        atomic_fetch_add(&suspended_connections, 1);
        if (atomic_load(&shutting_down)) {
            atomic_fetch_sub(&suspended_connections, 1);
            api_fail(r, KM_EBUSY, "shutting_down", NULL,
                     "the server is shutting down; nothing was written, retry shortly");
            return queue_answer(r);
        }
        r->write_queued = true;
        int busy = idempotency_inflight_begin(r);
        if (busy != 0) {
            r->write_queued = false;
            atomic_fetch_sub(&suspended_connections, 1);
            return answer_fenced(r, c); /* a stored answer may be from a batch not yet synced */
        }
        struct write_cmd *cmd = calloc(1, sizeof *cmd);
        km_assert(cmd != NULL);
        cmd->run = write_run;
        cmd->done = write_done;
        cmd->arg = r;
        cmd->rerunnable = r->write_rerunnable;
        /* The command struct lives in the request so it is freed with it. */
        MHD_suspend_connection(c);
        atomic_fetch_add(&writes_in_flight, 1);
        int rc = executor_submit(cmd);
        if (rc != 0) {
            free(cmd);
            atomic_fetch_sub(&writes_in_flight, 1);
            idempotency_inflight_end(r);
            api_fail(r, KM_EBUSY, "overloaded", NULL, "too many writes in flight; retry shortly");
            r->write_finished = true;
            MHD_resume_connection(c);
            return MHD_YES;
        }
        r->cmd_mem = cmd;
        return MHD_YES;
    }
    return answer_fenced(r, c);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct api_req *r = *con_cls;
    if (r != NULL) {
        suspended_end(r); /* resumed, then the client was gone before the answer */
        free(r->cmd_mem);
        req_free(r);
    }
    *con_cls = NULL;
}

int server_start(const struct server_config *cfg)
{
    reader_db_path = cfg->db_path;
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->port);
    if (inet_pton(AF_INET, cfg->bind_addr, &addr.sin_addr) != 1) {
        log_write(LOG_ERROR, "bad_bind_address", "address", cfg->bind_addr, NULL);
        return -KM_EINVAL;
    }
    /* poll(), not epoll: every write suspends its connection until the WAL sync, and with epoll
     * libmicrohttpd takes a suspended connection out of the epoll set and puts it back on resume,
     * two system calls per write, and reads the socket once more to EAGAIN after each request.
     * poll() skips a suspended connection for free; each thread polls only its share of the
     * connections. Measured in bench/README.md ("poll instead of epoll"). */
    daemon_handle = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME |
            MHD_USE_ERROR_LOG,
        cfg->port, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)HTTP_CONNECTIONS_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned int)HTTP_CONNECTIONS_PER_IP_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)HTTP_CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HTTP_CONNECTION_MEMORY_BYTES, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (daemon_handle == NULL) {
        log_write(LOG_ERROR, "http_start_failed", "address", cfg->bind_addr, NULL);
        return -KM_EINTERNAL;
    }
    if (!db_is_postgres(cfg->db_path) &&
        view_warmer_start(cfg->db_path, view_order_text, NULL) != 0) {
        log_write(LOG_WARN, "view_warmer_not_started", NULL); /* reads build their own views */
    }
    return 0;
}

void server_stop(void)
{
    if (daemon_handle == NULL) {
        return;
    }
    /* Stop accepting; MHD_stop_daemon then finishes connections it has. Suspended connections
     * are resumed by the executor, which is stopped after us and drains its queue. */
    MHD_socket listener = MHD_quiesce_daemon(daemon_handle);
    atomic_store(&shutting_down, true);
    for (int i = 0; i < SHUTDOWN_WAIT_MS / 10 && atomic_load(&suspended_connections) > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(daemon_handle);
    daemon_handle = NULL;
    /* Ours after quiesce: closed, so callbacks the timers still send fail at once instead of
     * waiting in the backlog for their timeout. */
    if (listener != MHD_INVALID_SOCKET) {
        close(listener);
    }
    view_warmer_stop();
    pthread_mutex_lock(&readers_lock);
    for (int i = 0; i < reader_count; i++) {
        db_close(readers[i]);
    }
    reader_count = 0;
    pthread_mutex_unlock(&readers_lock);
}
