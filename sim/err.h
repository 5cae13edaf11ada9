/* Errors are values: library calls return 0 or a negative errno-style code and
 * leave a human-readable message in an ims_error. */
#ifndef IMS_SIM_ERR_H
#define IMS_SIM_ERR_H

#include <errno.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_ERROR_MSG_MAX 512

typedef struct ims_error {
    int code;                     /* negative errno, 0 when no error */
    char msg[IMS_ERROR_MSG_MAX];  /* "what is wrong", no trailing newline */
} ims_error;

/* Record an error (code is a positive or negative errno) and return -|code|.
 * err may be NULL. */
int ims_errorf(ims_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int ims_verrorf(ims_error *err, int code, const char *fmt, va_list ap);
void ims_error_clear(ims_error *err);

#ifdef __cplusplus
}
#endif
#endif
