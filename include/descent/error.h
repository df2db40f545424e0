/* descent — error reporting.
 *
 * Every library function that can fail returns a dsc_status. On failure it also
 * records a message (thread-local) naming what was wrong and where; read it with
 * dsc_last_error(). The library never exits or aborts on user input: only the CLI
 * turns a status into a printed message and an exit code. */
#ifndef DESCENT_ERROR_H
#define DESCENT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dsc_status {
    DSC_OK = 0,
    DSC_ERR_INVALID,     /* an argument or option is invalid */
    DSC_ERR_SHAPE,       /* tensor shapes do not fit */
    DSC_ERR_NOMEM,       /* allocation failed or size overflows */
    DSC_ERR_IO,          /* a file could not be opened, read or written */
    DSC_ERR_FORMAT,      /* a file or string is malformed, truncated or corrupt */
    DSC_ERR_RANGE,       /* a value is out of its valid range */
    DSC_ERR_UNSUPPORTED, /* a valid request this build or op cannot do */
    DSC_ERR_NUMERIC,     /* NaN/Inf met where a finite value is needed */
    DSC_ERR_STATE        /* a call made in the wrong order (e.g. backward before forward) */
} dsc_status;

/* The message of the last error recorded on this thread ("" if none). */
const char *dsc_last_error(void);
/* Short name of a status code, e.g. "shape error". */
const char *dsc_status_name(dsc_status s);
/* Clear the last error of this thread. */
void dsc_clear_error(void);

/* Record an error and return its code. Used by the library; available to callers that
 * build on it. The message gets the source location appended when DSC_DEBUG_LOCATIONS. */
dsc_status dsc_error_at(dsc_status code, const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#define DSC_ERROR(code, ...) dsc_error_at((code), __FILE__, __LINE__, __VA_ARGS__)

/* Propagate a failing status. */
#define DSC_TRY(expr)                       \
    do {                                    \
        dsc_status dsc_try_s_ = (expr);     \
        if (dsc_try_s_ != DSC_OK)           \
            return dsc_try_s_;              \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
