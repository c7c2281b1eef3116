/* The bare-HTTP ceiling: libmicrohttpd answering a fixed 200-byte JSON body to every request,
 * started with the options of src/http/server.c (internal polling thread, a thread pool of 4,
 * suspend/resume allowed, the same connection limits and memory per connection). No routing,
 * no auth, no database: whatever kameng adds on top is measured against this.
 *
 * One flag differs, in the ceiling's favour: it waits with epoll where kameng uses poll(). A
 * server that never suspends a connection is fastest on epoll (wrk: 86,000 requests/s against
 * 58,000-74,000 with poll() on the same machine); kameng suspends every write, and there poll()
 * is the cheaper of the two.
 *
 *   bare_http PORT            serves 127.0.0.1:PORT until SIGINT/SIGTERM */
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Same values as src/core/limits.h. */
#define THREADS 4
#define CONNECTIONS_MAX 1024
#define CONNECTIONS_PER_IP_MAX 512
#define CONNECTION_TIMEOUT_S 30
#define CONNECTION_MEMORY_BYTES 32768

static char body[201];
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    if (*con_cls == NULL) { /* first call: headers only, like kameng */
        *con_cls = c;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        *upload_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(200, body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bare_http PORT\n");
        return 2;
    }
    /* A 200-byte JSON object: {"object":"order","id":"ord_…","pad":"xxxx…"} */
    int n = snprintf(body, sizeof body, "{\"object\":\"order\",\"id\":\"ord_bench000000000000\","
                                        "\"status\":\"delivered\",\"pad\":\"");
    while (n < 198) {
        body[n++] = 'x';
    }
    body[n++] = '"';
    body[n++] = '}';
    body[n] = '\0';
    if (strlen(body) != 200) {
        return 1;
    }
    unsigned short port = (unsigned short)atoi(argv[1]);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
            MHD_USE_ERROR_LOG,
        port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)THREADS, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)CONNECTIONS_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned int)CONNECTIONS_PER_IP_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY_BYTES, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "bare_http: cannot start on port %u\n", port);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop) {
        pause();
    }
    MHD_stop_daemon(d);
    return 0;
}
