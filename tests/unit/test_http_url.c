/* Reading a notification URL for the plain HTTP client: the Host header as written, the name to
 * look up, the port, and the path with its query but not its fragment; URLs it cannot post to
 * itself are left to libcurl. */
#include <criterion/criterion.h>
#include <string.h>

#include "adapters/http_url.h"

static struct http_url read_ok(const char *url)
{
    struct http_url u;
    cr_assert(http_url_read(url, &u), "%s", url);
    return u;
}

Test(http_url, host_port_and_path)
{
    struct http_url u = read_ok("http://127.0.0.1:8080/v1/callbacks/payments/sandbox");
    cr_assert_str_eq(u.host, "127.0.0.1:8080");
    cr_assert_str_eq(u.name, "127.0.0.1");
    cr_assert_str_eq(u.port, "8080");
    cr_assert_str_eq(u.path, "/v1/callbacks/payments/sandbox");
    u = read_ok("HTTP://shop.example.com");
    cr_assert_str_eq(u.host, "shop.example.com");
    cr_assert_str_eq(u.port, "80");
    cr_assert_str_eq(u.path, "/");
}

Test(http_url, ipv6_literals_are_looked_up_without_brackets)
{
    struct http_url u = read_ok("http://[::1]:18181/x");
    cr_assert_str_eq(u.host, "[::1]:18181");
    cr_assert_str_eq(u.name, "::1");
    cr_assert_str_eq(u.port, "18181");
    u = read_ok("http://[fe80::1]/");
    cr_assert_str_eq(u.name, "fe80::1");
    cr_assert_str_eq(u.port, "80");
}

Test(http_url, the_query_is_sent_and_the_fragment_is_not)
{
    cr_assert_str_eq(read_ok("http://h/cb?a=1&b=2#frag").path, "/cb?a=1&b=2");
    cr_assert_str_eq(read_ok("http://h?a=1").path, "/?a=1");
    cr_assert_str_eq(read_ok("http://h#frag").path, "/");
}

Test(http_url, urls_it_does_not_read)
{
    const char *no[] = {
        "https://shop.example.com/cb", /* libcurl's */
        "ftp://h/",
        "http://",
        "http:///path",
        "http://user:pw@h/cb",
        "http://[::1/cb",   /* unclosed bracket */
        "http://[::1]x/cb", /* junk after it */
        "http://h:/cb",
        "http://h:0/cb",
        "http://h:65536/cb",
        "http://h:80a/cb",
        "http://:80/cb",
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        struct http_url u;
        cr_assert(!http_url_read(no[i], &u), "%s", no[i]);
    }
    char long_path[2100] = "http://h/";
    memset(long_path + 9, 'p', 2000);
    struct http_url u;
    cr_assert(!http_url_read(long_path, &u), "a path longer than the request line is built for");
}
