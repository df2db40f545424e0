/* Atomic file replacement: write "<path>.tmp.<pid>", flush, fsync, rename over path, fsync the
 * directory (so the rename itself survives a crash). rename(2) is atomic on POSIX file systems:
 * a reader sees the old file or the new one, never a partial one. Any failure removes the
 * temporary file and leaves path as it was. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "descent/io.h"

static int (*fail_hook)(const char *stage, const char *path, void *ctx);
static void *fail_ctx;

void dsc_atomic_set_fail_hook(int (*hook)(const char *stage, const char *path, void *ctx), void *ctx)
{
    fail_hook = hook;
    fail_ctx = ctx;
}

/* Non-zero: the test hook asks this stage to fail (errno set to EIO, as a failing disk would). */
static int injected(const char *stage, const char *path)
{
    if (fail_hook && fail_hook(stage, path, fail_ctx)) {
        errno = EIO;
        return 1;
    }
    return 0;
}

dsc_status dsc_io_fwrite(FILE *f, const void *buf, size_t len, const char *path)
{
    if (len && fwrite(buf, 1, len, f) != len)
        return DSC_ERROR(DSC_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return DSC_OK;
}

/* fsync the directory holding path (POSIX leaves the rename's durability to it). */
static int fsync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (injected("fsync_dir", path))
        return -1;
    int fd = open(dir, O_RDONLY);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    /* Some file systems refuse fsync on directories (EINVAL); the data itself is synced. */
    if (r != 0 && (errno == EINVAL || errno == EBADF))
        r = 0;
    close(fd);
    return r;
}

dsc_status dsc_atomic_write(const char *path, dsc_atomic_writer writer, void *ctx)
{
    char tmp[4200];
    if (!path || !path[0] || !writer)
        return DSC_ERROR(DSC_ERR_INVALID, "atomic write: empty path or no writer");
    int k = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (k < 0 || (size_t)k >= sizeof tmp)
        return DSC_ERROR(DSC_ERR_INVALID, "%s: path too long", path);
    FILE *f = injected("open", path) ? NULL : fopen(tmp, "wb");
    if (!f)
        return DSC_ERROR(DSC_ERR_IO, "%s: cannot create the temporary file %s: %s", path, tmp, strerror(errno));
    dsc_status s = writer(f, tmp, ctx);
    if (s == DSC_OK && injected("write", path))
        s = DSC_ERROR(DSC_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
    if (s == DSC_OK && (injected("flush", path) || fflush(f) != 0))
        s = DSC_ERROR(DSC_ERR_IO, "%s: flush failed: %s", tmp, strerror(errno));
    if (s == DSC_OK && (injected("fsync", path) || fsync(fileno(f)) != 0))
        s = DSC_ERROR(DSC_ERR_IO, "%s: fsync failed: %s", tmp, strerror(errno));
    if (fclose(f) != 0 && s == DSC_OK)
        s = DSC_ERROR(DSC_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
    if (s == DSC_OK && (injected("rename", path) || rename(tmp, path) != 0))
        s = DSC_ERROR(DSC_ERR_IO, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
    if (s != DSC_OK) {
        remove(tmp);
        return s;
    }
    if (fsync_dir(path) != 0)
        return DSC_ERROR(DSC_ERR_IO, "%s: written, but syncing its directory failed: %s", path, strerror(errno));
    return DSC_OK;
}

typedef struct bytes_ctx {
    const void *buf;
    size_t len;
} bytes_ctx;

static dsc_status write_bytes(FILE *f, const char *tmp_path, void *ctx)
{
    const bytes_ctx *b = ctx;
    return dsc_io_fwrite(f, b->buf, b->len, tmp_path);
}

dsc_status dsc_atomic_write_bytes(const char *path, const void *buf, size_t len)
{
    bytes_ctx b = {buf, len};
    return dsc_atomic_write(path, write_bytes, &b);
}
