/* One libcurl easy handle per thread, reused so that posts to the same host ride kept-alive
 * connections; freed when the thread ends. The window of posts is in http_out_pipe.c. */
#include "adapters/http_out.h"
#include "adapters/http_out_curl.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)HTTP_OUT_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    return headers;
}

int http_out_post(const char *url, const char *body, const char *signature, long *status)
{
    *status = 0;
    CURL *c = thread_handle();
    if (c == NULL) {
        return -KM_EINTERNAL;
    }
    struct curl_slist *headers = http_out_post_options(c, url, body, signature);
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
