/* Memory bandwidth of optimizer steps (issue 4, "Performance (bench/)").
 *
 * Usage: bench_optim [--n N] [--stream-n N] [--threads 1,2] [--trials T] [--algos sgd,adam,adamw,lion]
 *
 * 1. STREAM-style kernels (McCalpin's STREAM, float32) over three arrays of --stream-n
 *    elements (default 20M = 80 MB each, 240 MB in all, far beyond the 32 MB L3):
 *      copy   c = a            8 bytes/element  (read a, write c)
 *      scale  b = s*c          8
 *      add    c = a + b       12
 *      triad  a = b + s*c     12
 *      update b = b + s*a     12  (not in STREAM: read-modify-write, the optimizers' pattern)
 *    Bytes are counted as STREAM counts them: each array read or written once, no
 *    write-allocate traffic. (The CPU does read the destination line of copy/scale/add/triad
 *    before writing it unless it streams the store, so their true traffic is higher and their
 *    GB/s understate the bus rate; "update" writes what it has just read, so its count is the
 *    true traffic, as for the optimizers.) Each kernel: best of T trials, in two passes, one
 *    before and one after the optimizer steps (pass=pre|post); the reference is the best of
 *    both, so that a pass slowed by other load does not make the reference easy.
 *
 * 2. dsc_optim_step over --n float32 parameters (default 10M, 40 MB per vector), one group,
 *    after two warm-up steps (state allocated and touched). Bytes per parameter and step,
 *    counted analytically from the update rule (every vector read or written once per step,
 *    4 bytes per element; state is read-modify-write, the gradient only read):
 *      sgd   (momentum 0.9)  read p, g, b;     write p, b      = 5 x 4 = 20 bytes
 *      adam                  read p, g, m, v;  write p, m, v   = 7 x 4 = 28 bytes
 *      adamw (wd 0.01)       read p, g, m, v;  write p, m, v   = 7 x 4 = 28 bytes
 *      lion                  read p, g, m;     write p, m      = 5 x 4 = 20 bytes
 *    That is the minimum any implementation must move; a kernel that makes several passes
 *    (torch's foreach ops: one pass per operation) moves more, and shows a lower GB/s.
 *
 * Output, one line per measurement (key=value, as the other bench programs):
 *   bench=stream kernel=K pass=pre|post threads=T n=N bytes=B best_s=S gbs=G load=L
 *   bench=stream kernel=max threads=T n=N gbs=G copy_gbs=C     (best over kernels and passes)
 *   bench=optim impl=descent algo=A threads=T n=N bytes_per_param=P steps=S best_s= median_s=
 *     gbs_best= gbs_median= ref_copy_gbs= ref_max_gbs= frac_copy= frac_max= load=L checksum=C
 * frac_copy: gbs_best / the copy bandwidth at the same thread count (the yardstick);
 * frac_max: gbs_best / the best of the five kernels at that thread count (the strictest one).
 * frac_paired: each timed step runs right after one "update" kernel; the median over the
 * steps of (step GB/s / that update's GB/s). Both of a pair see the same load, so this ratio
 * holds on a shared machine where best-of figures of separate passes may not. (The update
 * timings of the pairs also count for the update reference.)
 * load: the 1-minute load average at the time (the machine may be shared). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "descent/optim.h"
#include "descent/runtime.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double load1(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static float *falloc(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, n * sizeof(float) + 64)) {
        fprintf(stderr, "bench_optim: out of memory (%zu floats)\n", n);
        exit(1);
    }
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Deterministic pseudo-random fill in [lo, lo + width). */
static void fill(float *x, size_t n, uint64_t seed, float lo, float width)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
#pragma omp parallel for schedule(static) firstprivate(s)
    for (size_t i = 0; i < n; i++) {
        uint64_t z = s + (uint64_t)i * 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        x[i] = lo + width * (float)((double)(z >> 40) / 16777216.0);
    }
}

enum { K_COPY, K_SCALE, K_ADD, K_TRIAD, K_UPDATE, NK };
static const char *const knames[NK] = {"copy", "scale", "add", "triad", "update"};
static const int kbytes[NK] = {8, 8, 12, 12, 12};

static void stream_kernel(int k, float *restrict a, float *restrict b, float *restrict c, size_t n)
{
    const float s = 3.0f;
    switch (k) {
    case K_COPY:
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++)
            c[i] = a[i];
        break;
    case K_SCALE:
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++)
            b[i] = s * c[i];
        break;
    case K_ADD:
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++)
            c[i] = a[i] + b[i];
        break;
    case K_TRIAD:
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] + s * c[i];
        break;
    default: /* update: keeps b bounded (s small) */
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++)
            b[i] = b[i] + 1e-7f * a[i];
        break;
    }
}

/* One STREAM pass: each kernel once to warm up, then best of `trials`; gbs[k] keeps the
 * best over passes. */
static void stream_pass(float *a, float *b, float *c, size_t sn, int trials, int nt, int omp_t, const char *pass,
                        double *gbs)
{
    for (int k = 0; k < NK; k++) {
        stream_kernel(k, a, b, c, sn); /* warm-up */
        double best = HUGE_VAL;
        for (int r = 0; r < trials; r++) {
            const double t0 = now_s();
            stream_kernel(k, a, b, c, sn);
            const double dt = now_s() - t0;
            if (dt < best)
                best = dt;
        }
        const double bytes = (double)kbytes[k] * (double)sn, v = bytes / best * 1e-9;
        if (v > gbs[k])
            gbs[k] = v;
        printf("bench=stream kernel=%s pass=%s threads=%d omp_threads=%d n=%zu bytes=%.0f best_s=%.6f gbs=%.2f "
               "load=%.2f\n",
               knames[k], pass, nt, omp_t, sn, bytes, best, v, load1());
        fflush(stdout);
    }
}

/* Whole-name membership in a comma-separated list ("adam" is not in "adamw"). */
static int name_in_list(const char *name, const char *list)
{
    const size_t len = strlen(name);
    for (const char *q = list; (q = strstr(q, name)); q += len)
        if ((q == list || q[-1] == ',') && (q[len] == ',' || q[len] == 0))
            return 1;
    return 0;
}

typedef struct result {
    int algo;
    double best, median, load, checksum, paired;
} result;

int main(int argc, char **argv)
{
    size_t n = 10000000, sn = 20000000;
    int trials = 10;
    char threads_arg[64] = "1,2", algos_arg[128] = "sgd,adam,adamw,lion";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc)
            n = (size_t)atof(argv[++i]);
        else if (!strcmp(argv[i], "--stream-n") && i + 1 < argc)
            sn = (size_t)atof(argv[++i]);
        else if (!strcmp(argv[i], "--trials") && i + 1 < argc)
            trials = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            snprintf(threads_arg, sizeof threads_arg, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--algos") && i + 1 < argc)
            snprintf(algos_arg, sizeof algos_arg, "%s", argv[++i]);
        else {
            fprintf(stderr,
                    "usage: %s [--n N] [--stream-n N] [--threads 1,2] [--trials T] [--algos sgd,adam,adamw,lion]\n",
                    argv[0]);
            return 2;
        }
    }
    if (trials < 1)
        trials = 1;
    int threads[8], nthr = 0;
    for (char *tok = strtok(threads_arg, ","); tok && nthr < 8; tok = strtok(NULL, ","))
        threads[nthr++] = atoi(tok);

    /* Spec and bytes per parameter of each optimizer (see the header comment). */
    static const struct {
        const char *name, *spec;
        int bytes;
    } algos[] = {
        {"sgd", "sgd:lr=0.01,momentum=0.9", 20},
        {"adam", "adam:lr=1e-3", 28},
        {"adamw", "adamw:lr=1e-3,weight_decay=0.01", 28},
        {"lion", "lion:lr=1e-4,weight_decay=0.01", 20},
    };
    const int nalgo = (int)(sizeof algos / sizeof algos[0]);

    double *times = malloc((size_t)trials * sizeof(double)), *ratios = malloc((size_t)trials * sizeof(double));
    result res[8];
    float *a = falloc(sn), *b = falloc(sn), *c = falloc(sn);
    float *p = falloc(n), *g = falloc(n), *p0 = falloc(n);
    fill(p0, n, 1, -1.0f, 2.0f);
    fill(g, n, 2, -0.01f, 0.02f);

    for (int ti = 0; ti < nthr; ti++) {
        const int nt = threads[ti];
        dsc_set_num_threads(nt);
#ifdef _OPENMP
        const int omp_t = omp_get_max_threads();
#else
        const int omp_t = 1;
#endif
        /* STREAM before and after the optimizer steps; the reference is the best of both
         * (the machine may be shared: a slow pass must not make the reference easy). */
        fill(a, sn, 3, 1.0f, 1.0f);
        fill(b, sn, 4, 1.0f, 1.0f);
        fill(c, sn, 5, 1.0f, 1.0f);
        double gbs[NK] = {0}, maxgbs = 0;
        stream_pass(a, b, c, sn, trials, nt, omp_t, "pre", gbs);

        /* Optimizer steps */
        int nres = 0;
        for (int ai = 0; ai < nalgo; ai++) {
            if (!name_in_list(algos[ai].name, algos_arg))
                continue;
            memcpy(p, p0, n * sizeof(float));
            dsc_optim *opt = NULL;
            if (dsc_optim_new(algos[ai].spec, n, DSC_FLOAT32, &opt)) {
                fprintf(stderr, "bench_optim: %s: %s\n", algos[ai].spec, dsc_last_error());
                return 1;
            }
            for (int w = 0; w < 2; w++)
                dsc_optim_step(opt, p, g);
            /* Each timed step right after one "update" STREAM kernel: the pair sees the same
             * load, so the ratio of their GB/s is robust on a shared machine (frac_paired);
             * the update timings also count for the reference. */
            const double ubytes = (double)kbytes[K_UPDATE] * (double)sn,
                         sbytes = (double)algos[ai].bytes * (double)n;
            for (int r = 0; r < trials; r++) {
                const double t0 = now_s();
                stream_kernel(K_UPDATE, a, b, c, sn);
                const double t1 = now_s();
                dsc_optim_step(opt, p, g);
                const double t2 = now_s();
                times[r] = t2 - t1;
                ratios[r] = (sbytes / (t2 - t1)) / (ubytes / (t1 - t0));
                if (ubytes / (t1 - t0) * 1e-9 > gbs[K_UPDATE])
                    gbs[K_UPDATE] = ubytes / (t1 - t0) * 1e-9;
            }
            qsort(times, (size_t)trials, sizeof(double), cmp_double);
            qsort(ratios, (size_t)trials, sizeof(double), cmp_double);
            double sum = 0;
            for (size_t i = 0; i < n; i += 997)
                sum += p[i];
            res[nres++] = (result){ai, times[0], times[trials / 2], load1(), sum, ratios[trials / 2]};
            dsc_optim_free(opt);
        }

        stream_pass(a, b, c, sn, trials, nt, omp_t, "post", gbs);
        for (int k = 0; k < NK; k++)
            if (gbs[k] > maxgbs)
                maxgbs = gbs[k];
        printf("bench=stream kernel=max threads=%d n=%zu gbs=%.2f copy_gbs=%.2f\n", nt, sn, maxgbs, gbs[K_COPY]);
        for (int r = 0; r < nres; r++) {
            const int ai = res[r].algo;
            const double bytes = (double)algos[ai].bytes * (double)n;
            const double gb = bytes / res[r].best * 1e-9, gm = bytes / res[r].median * 1e-9;
            printf("bench=optim impl=descent algo=%s threads=%d n=%zu bytes_per_param=%d steps=%d best_s=%.6f "
                   "median_s=%.6f gbs_best=%.2f gbs_median=%.2f ref_copy_gbs=%.2f ref_max_gbs=%.2f frac_copy=%.3f "
                   "frac_max=%.3f frac_paired=%.3f load=%.2f checksum=%.6e\n",
                   algos[ai].name, nt, n, algos[ai].bytes, trials, res[r].best, res[r].median, gb, gm, gbs[K_COPY],
                   maxgbs, gb / gbs[K_COPY], gb / maxgbs, res[r].paired, res[r].load, res[r].checksum);
        }
        fflush(stdout);
    }
    free(a);
    free(b);
    free(c);
    free(p);
    free(g);
    free(p0);
    free(times);
    free(ratios);
    return 0;
}
