/* libFuzzer target for the receipt verifier (`kameng log verify --receipt`): any bytes as a
 * receipt, checked with a fixed verifier key, must be refused or accepted without misbehaving;
 * a receipt the fuzzer did not sign with that key can never verify. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "service/log_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The PeterNeumann test key from the signed-note known answer: public test material. */
static const char key[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (sink == NULL) {
        sink = fopen("/dev/null", "w");
    }
    int rc = log_verify_receipt((const char *)data, size, key, sink);
    if (rc == 0) {
        /* Only a note signed by the test key's secret verifies; the fuzzer cannot forge one. */
        abort();
    }
    return 0;
}
