/* One libcurl easy handle per thread, reused so that posts to the same host ride kept-alive
 * connections; freed when the thread ends. The window of posts is in http_out_pipe.c. */
#include "adapters/http_out.h"
#include "adapters/http_out_curl.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static char ca_file[512]; /* set once before any post; empty: the system's store alone */
static _Thread_local char last_error[CURL_ERROR_SIZE];

int http_out_set_ca_file(const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
        return -KM_EINVAL;
    }
    int certs = 0;
    X509 *x = NULL;
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        X509_free(x);
        certs++;
    }
    fclose(f);
    ERR_clear_error(); /* the end of the file leaves a "no start line" on the thread's queue */
    if (certs == 0) {
        snprintf(err, err_len, "%s holds no PEM certificate", path);
        return -KM_EINVAL;
    }
    if (strlen(path) >= sizeof ca_file) {
        snprintf(err, err_len, "the path %s is too long", path);
        return -KM_EINVAL;
    }
    snprintf(ca_file, sizeof ca_file, "%s", path);
    return 0;
}

const char *http_out_error(void)
{
    return last_error;
}

/* What every libcurl transfer of kameng's is set up with. */
static void common_options(CURL *easy)
{
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)HTTP_OUT_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    if (ca_file[0] != '\0') {
        /* Replaces the bundle file only: libcurl as Debian builds it also reads the CA directory
         * /etc/ssl/certs (its --with-ca-path), so the system's CAs stay trusted. */
        curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file);
    }
}

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

struct curl_slist *http_out_post_options(CURL *easy, const char *url, const char *body,
                                         const char *signature)
{
    char sig[160];
    snprintf(sig, sizeof sig, "Kameng-Signature: %s", signature);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    headers = curl_slist_append(headers, sig);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    common_options(easy);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    return headers;
}

int http_out_post(const char *url, const char *body, const char *signature, long *status)
{
    *status = 0;
    CURL *c = thread_handle();
    if (c == NULL) {
        snprintf(last_error, sizeof last_error, "no libcurl handle (out of memory)");
        return -KM_EINTERNAL;
    }
    struct curl_slist *headers = http_out_post_options(c, url, body, signature);
    last_error[0] = '\0';
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, last_error);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    } else if (last_error[0] == '\0') {
        snprintf(last_error, sizeof last_error, "%s", curl_easy_strerror(rc));
    }
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
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
    common_options(c);
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
