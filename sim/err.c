#include "sim/err.h"

#include <stdio.h>
#include <string.h>

int ims_verrorf(ims_error *err, int code, const char *fmt, va_list ap)
{
    int neg = code > 0 ? -code : code;
    if (err) {
        err->code = neg;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return neg;
}

int ims_errorf(ims_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = ims_verrorf(err, code, fmt, ap);
    va_end(ap);
    return r;
}

void ims_error_clear(ims_error *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = '\0';
    }
}
