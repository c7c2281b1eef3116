/* The one set of error codes every fallible kameng function returns (negated), and the
 * detail that names the offending field. The mapping from code to HTTP status lives once,
 * in http/reply.c. */
#ifndef KM_ERR_H
#define KM_ERR_H

#include <stddef.h>

enum km_err {
    KM_OK = 0,
    KM_EINVAL = 1,        /* bad input: a field is missing, of the wrong type or out of range */
    KM_ENOTFOUND = 2,     /* no such object, or not visible to this caller */
    KM_EAUTH = 3,         /* no credentials, or credentials that match nothing */
    KM_EFORBIDDEN = 4,    /* credentials valid, but not for this */
    KM_ESTATE = 5,        /* the object is not in a state that allows this */
    KM_ESTOCK = 6,        /* not enough card keys in stock */
    KM_EIDEMPOTENCY = 7,  /* the same Idempotency-Key with a different request */
    KM_EINFLIGHT = 8,     /* the same Idempotency-Key is still being processed */
    KM_ETOOLARGE = 9,     /* body over the limit */
    KM_EMEDIA = 10,       /* wrong content type */
    KM_ERATE = 11,        /* rate limited */
    KM_ESIGNATURE = 12,   /* a callback whose signature does not verify */
    KM_EDUPLICATE = 13,   /* the object already exists (a duplicate card key, say) */
    KM_EBUSY = 14,        /* the write queue is full: try again */
    KM_EINTERNAL = 15,    /* a bug or an I/O failure; logged with the request id */
    KM_EMETHOD = 16,      /* the path exists but not with this method */
    KM_ERR_COUNT
};

/* What went wrong, for the caller: a stable machine code, the field, and a sentence. */
struct km_error {
    int code;              /* enum km_err, positive */
    char reason[48];       /* stable machine-readable code, e.g. "parameter_invalid" */
    char param[64];        /* the offending field, "" if none */
    char message[256];     /* a sentence for a person */
};

/* Fill *e and return -code, so that `return km_fail(e, ...)` reads naturally. */
int km_fail(struct km_error *e, int code, const char *reason, const char *param,
            const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
