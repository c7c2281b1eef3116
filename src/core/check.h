/* Assertions that stay on in every build: a broken invariant stops the process with file:line
 * rather than corrupting money. Bad input is never asserted; it is returned as an error. */
#ifndef KM_CHECK_H
#define KM_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define KM_STR_(x) #x
#define KM_STR(x) KM_STR_(x)

#define km_assert(cond)                                                                     \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "kameng: assertion failed at %s:%d: %s\n", __FILE__, __LINE__, \
                    #cond);                                                                 \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

#define KM_MUST_USE __attribute__((warn_unused_result))

#endif
