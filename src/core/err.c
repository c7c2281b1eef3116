/* Error detail helpers shared by every layer. */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int km_fail(struct km_error *e, int code, const char *reason, const char *param,
            const char *fmt, ...)
{
    if (e != NULL) {
        e->code = code;
        snprintf(e->reason, sizeof e->reason, "%s", reason != NULL ? reason : "");
        snprintf(e->param, sizeof e->param, "%s", param != NULL ? param : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
    }
    return -code;
}
