/* One libcurl easy handle per call: callbacks are few and the simplicity is worth it. */
#include "adapters/http_out.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

static size_t discard(char *ptr, size_t size, size_t n, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * n;
}

int http_out_post(const char *url, const char *body, const char *signature, long *status)
{
    *status = 0;
    CURL *c = curl_easy_init();
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
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -KM_EINTERNAL;
}
