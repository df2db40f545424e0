/* Thread-local last-error message; see include/descent/error.h. */
#include "descent/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char dsc_err_msg[1024];

const char *dsc_last_error(void) { return dsc_err_msg; }

void dsc_clear_error(void) { dsc_err_msg[0] = '\0'; }

const char *dsc_status_name(dsc_status s)
{
    switch (s) {
    case DSC_OK: return "ok";
    case DSC_ERR_INVALID: return "invalid argument";
    case DSC_ERR_SHAPE: return "shape error";
    case DSC_ERR_NOMEM: return "out of memory";
    case DSC_ERR_IO: return "I/O error";
    case DSC_ERR_FORMAT: return "format error";
    case DSC_ERR_RANGE: return "value out of range";
    case DSC_ERR_UNSUPPORTED: return "unsupported";
    case DSC_ERR_NUMERIC: return "numeric error";
    case DSC_ERR_STATE: return "wrong state";
    }
    return "unknown error";
}

dsc_status dsc_error_at(dsc_status code, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dsc_err_msg, sizeof dsc_err_msg, fmt, ap);
    va_end(ap);
#ifdef DSC_DEBUG_LOCATIONS
    size_t n = strlen(dsc_err_msg);
    snprintf(dsc_err_msg + n, sizeof dsc_err_msg - n, " [%s:%d]", file, line);
#else
    (void)file;
    (void)line;
#endif
    return code;
}
