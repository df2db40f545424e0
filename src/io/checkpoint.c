/* Training checkpoints: RUN_DIR/checkpoints/ckpt-epochEEEE-stepSSSSSSSSS.safetensors, a `latest`
 * pointer, keep-N pruning, and loading the newest valid checkpoint (see include/descent/io.h).
 *
 * Every file is replaced atomically, so a crash leaves either the previous set of checkpoints or
 * the new one. The order of a save is: checkpoint file, then `latest`, then pruning; a crash in
 * between leaves the new checkpoint in place, and dsc_checkpoint_load_latest finds it by scanning
 * the names (it does not trust `latest`, which is for people and scripts). A CRC-32 of the
 * tensors, stored in the metadata, catches corruption that keeps the file's structure valid. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "descent/io.h"

/* CRC-32, reflected polynomial 0xEDB88320 (IEEE 802.3; the value zlib's crc32 gives), four bits
 * at a time from a constant table (no lazily built table shared between threads). */
uint32_t dsc_crc32(uint32_t crc, const void *buf, size_t len)
{
    static const uint32_t t[16] = {0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u,
                                   0x4DB26158u, 0x5005713Cu, 0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu,
                                   0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu};
    const unsigned char *p = buf;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = t[crc & 15] ^ (crc >> 4);
        crc = t[crc & 15] ^ (crc >> 4);
    }
    return ~crc;
}

static int cmp_tensor_ptr_name(const void *a, const void *b)
{
    return strcmp((*(const dsc_st_tensor *const *)a)->name, (*(const dsc_st_tensor *const *)b)->name);
}

/* CRC over (name, NUL, bytes) of each tensor in name order: independent of the file layout. */
static dsc_status tensors_crc(const dsc_st_tensor *t, int n, uint32_t *out)
{
    const dsc_st_tensor **p = malloc((size_t)(n ? n : 1) * sizeof *p);
    if (!p)
        return DSC_ERROR(DSC_ERR_NOMEM, "checkpoint: out of memory");
    for (int i = 0; i < n; i++)
        p[i] = &t[i];
    qsort(p, (size_t)n, sizeof *p, cmp_tensor_ptr_name);
    uint32_t c = 0;
    for (int i = 0; i < n; i++) {
        c = dsc_crc32(c, p[i]->name, strlen(p[i]->name) + 1);
        if (p[i]->nbytes)
            c = dsc_crc32(c, p[i]->data, p[i]->nbytes);
    }
    free(p);
    *out = c;
    return DSC_OK;
}

/* "ckpt-epoch<digits>-step<digits>.safetensors" -> epoch, step; 0 if the name does not match. */
static int parse_name(const char *name, int64_t *epoch, int64_t *step)
{
    static const char *const parts[3] = {"ckpt-epoch", "-step", ".safetensors"};
    const char *p = name;
    int64_t v[2];
    for (int k = 0; k < 2; k++) {
        size_t L = strlen(parts[k]);
        if (strncmp(p, parts[k], L) != 0)
            return 0;
        p += L;
        if (*p < '0' || *p > '9')
            return 0;
        int64_t x = 0;
        while (*p >= '0' && *p <= '9') {
            if (x > (INT64_MAX - 9) / 10)
                return 0;
            x = x * 10 + (*p++ - '0');
        }
        v[k] = x;
    }
    if (strcmp(p, parts[2]) != 0)
        return 0;
    *epoch = v[0];
    *step = v[1];
    return 1;
}

static dsc_status ensure_dir(const char *dir)
{
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) {
        struct stat sb;
        if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
            return DSC_OK;
        return DSC_ERROR(DSC_ERR_IO, "%s: exists and is not a directory", dir);
    }
    return DSC_ERROR(DSC_ERR_IO, "%s: cannot create the directory: %s", dir, strerror(errno));
}

static int cmp_entry(const void *a, const void *b)
{
    const dsc_checkpoint_entry *x = a, *y = b;
    if (x->epoch != y->epoch)
        return x->epoch < y->epoch ? -1 : 1;
    if (x->step != y->step)
        return x->step < y->step ? -1 : 1;
    return strcmp(x->path, y->path);
}

dsc_status dsc_checkpoint_list(const char *run_dir, dsc_checkpoint_entry **out, int *n)
{
    char dir[4096];
    *out = NULL;
    *n = 0;
    if (snprintf(dir, sizeof dir, "%s/%s", run_dir, DSC_CKPT_SUBDIR) >= (int)sizeof dir)
        return DSC_ERROR(DSC_ERR_INVALID, "%s: path too long", run_dir);
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return DSC_OK;
        return DSC_ERROR(DSC_ERR_IO, "%s: cannot list: %s", dir, strerror(errno));
    }
    dsc_checkpoint_entry *v = NULL;
    int cnt = 0, cap = 0;
    struct dirent *de;
    dsc_status s = DSC_OK;
    while ((de = readdir(d)) != NULL) {
        int64_t e, st;
        if (!parse_name(de->d_name, &e, &st))
            continue;
        if (cnt == cap) {
            int nc = cap ? cap * 2 : 16;
            dsc_checkpoint_entry *q = realloc(v, (size_t)nc * sizeof *q);
            if (!q) {
                s = DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory listing checkpoints", dir);
                break;
            }
            v = q;
            cap = nc;
        }
        if (snprintf(v[cnt].path, sizeof v[cnt].path, "%s/%s", dir, de->d_name) >= (int)sizeof v[cnt].path)
            continue;
        v[cnt].epoch = e;
        v[cnt].step = st;
        cnt++;
    }
    closedir(d);
    if (s != DSC_OK) {
        free(v);
        return s;
    }
    if (cnt > 1)
        qsort(v, (size_t)cnt, sizeof *v, cmp_entry);
    *out = v;
    *n = cnt;
    return DSC_OK;
}

dsc_status dsc_checkpoint_prune(const char *run_dir, int keep)
{
    if (keep <= 0)
        return DSC_OK;
    dsc_checkpoint_entry *v;
    int n;
    DSC_TRY(dsc_checkpoint_list(run_dir, &v, &n));
    dsc_status s = DSC_OK;
    for (int i = 0; i < n - keep; i++)
        if (remove(v[i].path) != 0 && errno != ENOENT && s == DSC_OK)
            s = DSC_ERROR(DSC_ERR_IO, "%s: cannot remove an old checkpoint: %s", v[i].path, strerror(errno));
    free(v);
    return s;
}

/* Temporary files ("ckpt-….safetensors.tmp.PID", "latest.tmp.PID") left by a process that died
 * mid-write (a crash or a kill between create and rename): removed when that process no longer
 * exists, so crashed runs do not accumulate partial files. Best effort; errors are ignored. */
static void remove_stale_tmp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *t = strstr(de->d_name, ".tmp.");
        if (!t || (strncmp(de->d_name, "ckpt-", 5) != 0 && strncmp(de->d_name, "latest.", 7) != 0))
            continue;
        char *end;
        long pid = strtol(t + 5, &end, 10);
        if (*end != '\0' || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[4400];
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path)
            remove(path);
    }
    closedir(d);
}

dsc_status dsc_checkpoint_save(const char *run_dir, int64_t epoch, int64_t step, const dsc_st_tensor *tensors,
                               int n, const dsc_st_meta *meta, int n_meta, int keep, char *path_out,
                               size_t path_size)
{
    char dir[4096], path[4300], latest[4300], name[128];
    char v_epoch[32], v_step[32], v_crc[16];
    if (!run_dir || !run_dir[0])
        return DSC_ERROR(DSC_ERR_INVALID, "checkpoint: empty run directory");
    if (epoch < 0 || step < 0)
        return DSC_ERROR(DSC_ERR_INVALID, "checkpoint: negative epoch %lld or step %lld", (long long)epoch,
                         (long long)step);
    if (n < 0 || n_meta < 0 || (n && !tensors) || (n_meta && !meta))
        return DSC_ERROR(DSC_ERR_INVALID, "checkpoint: bad tensor or metadata list");
    for (int i = 0; i < n_meta; i++)
        if (meta[i].key && strncmp(meta[i].key, "descent.", 8) == 0)
            return DSC_ERROR(DSC_ERR_INVALID, "checkpoint: metadata key '%s' is reserved (keys starting with 'descent.')",
                             meta[i].key);
    if (snprintf(dir, sizeof dir, "%s/%s", run_dir, DSC_CKPT_SUBDIR) >= (int)sizeof dir)
        return DSC_ERROR(DSC_ERR_INVALID, "%s: path too long", run_dir);
    snprintf(name, sizeof name, "ckpt-epoch%04lld-step%09lld.safetensors", (long long)epoch, (long long)step);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(latest, sizeof latest, "%s/latest", dir);
    DSC_TRY(ensure_dir(run_dir));
    DSC_TRY(ensure_dir(dir));
    remove_stale_tmp(dir);

    uint32_t crc;
    for (int i = 0; i < n; i++)
        if (!tensors[i].name || (tensors[i].nbytes && !tensors[i].data))
            return DSC_ERROR(DSC_ERR_INVALID, "checkpoint: tensor %d has no name or no data", i);
    DSC_TRY(tensors_crc(tensors, n, &crc));
    snprintf(v_epoch, sizeof v_epoch, "%lld", (long long)epoch);
    snprintf(v_step, sizeof v_step, "%lld", (long long)step);
    snprintf(v_crc, sizeof v_crc, "%08" PRIx32, crc);
    dsc_st_meta *all = malloc((size_t)(n_meta + 4) * sizeof *all);
    if (!all)
        return DSC_ERROR(DSC_ERR_NOMEM, "checkpoint: out of memory");
    if (n_meta)
        memcpy(all, meta, (size_t)n_meta * sizeof *all);
    all[n_meta + 0] = (dsc_st_meta){"descent.checkpoint", "1"};
    all[n_meta + 1] = (dsc_st_meta){"descent.epoch", v_epoch};
    all[n_meta + 2] = (dsc_st_meta){"descent.step", v_step};
    all[n_meta + 3] = (dsc_st_meta){"descent.crc32", v_crc};
    dsc_status s = dsc_safetensors_write_file(path, tensors, n, all, n_meta + 4);
    free(all);
    if (s != DSC_OK)
        return s;
    char line[160];
    int k = snprintf(line, sizeof line, "%s\n", name);
    DSC_TRY(dsc_atomic_write_bytes(latest, line, (size_t)k));
    if (path_out && path_size)
        snprintf(path_out, path_size, "%s", path);
    return dsc_checkpoint_prune(run_dir, keep);
}

dsc_status dsc_checkpoint_load(const char *path, dsc_safetensors *out)
{
    DSC_TRY(dsc_safetensors_read_file(path, 0, out));
    const char *want = dsc_safetensors_meta(out, "descent.crc32");
    if (!want) {
        if (dsc_safetensors_meta(out, "descent.checkpoint")) {
            dsc_safetensors_free(out);
            return DSC_ERROR(DSC_ERR_FORMAT, "%s: checkpoint without its 'descent.crc32' metadata", path);
        }
        return DSC_OK; /* a plain safetensors file (e.g. weights written by another tool) */
    }
    uint32_t crc;
    dsc_status s = tensors_crc(out->tensors, out->n_tensors, &crc);
    if (s != DSC_OK) {
        dsc_safetensors_free(out);
        return s;
    }
    char got[16];
    snprintf(got, sizeof got, "%08" PRIx32, crc);
    if (strcmp(got, want) != 0) {
        char stored[20];
        snprintf(stored, sizeof stored, "%.16s", want); /* want lives in *out */
        dsc_safetensors_free(out);
        return DSC_ERROR(DSC_ERR_FORMAT, "%s: checksum mismatch (stored crc32 %s, computed %s): the tensor data are "
                         "corrupt", path, stored, got);
    }
    return DSC_OK;
}

dsc_status dsc_checkpoint_load_latest(const char *run_dir, dsc_checkpoint_warn_fn warn, void *warn_ctx,
                                      dsc_safetensors *out, char *path_out, size_t path_size, int64_t *epoch,
                                      int64_t *step)
{
    memset(out, 0, sizeof *out);
    dsc_checkpoint_entry *v;
    int n;
    DSC_TRY(dsc_checkpoint_list(run_dir, &v, &n));
    int skipped = 0;
    for (int i = n - 1; i >= 0; i--) {
        if (dsc_checkpoint_load(v[i].path, out) == DSC_OK) {
            if (path_out && path_size)
                snprintf(path_out, path_size, "%s", v[i].path);
            if (epoch)
                *epoch = v[i].epoch;
            if (step)
                *step = v[i].step;
            free(v);
            return DSC_OK;
        }
        char msg[6000];
        snprintf(msg, sizeof msg, "skipping checkpoint %s: %s", v[i].path, dsc_last_error());
        if (warn)
            warn(msg, warn_ctx);
        else
            fprintf(stderr, "descent: warning: %s\n", msg);
        skipped++;
    }
    free(v);
    if (n == 0)
        return DSC_ERROR(DSC_ERR_IO, "%s: no checkpoint found in %s/%s", run_dir, run_dir, DSC_CKPT_SUBDIR);
    return DSC_ERROR(DSC_ERR_IO, "%s: none of the %d checkpoints in %s/%s is valid", run_dir, skipped, run_dir,
                     DSC_CKPT_SUBDIR);
}
