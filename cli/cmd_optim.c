/* descent optim: run an optimizer in float64 on a test function and print the trajectory. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descent/descent.h"

static void optim_usage(FILE *f)
{
    fprintf(f,
            "usage: descent optim --opt SPEC --fn FUNCTION [--x0 X1,X2,...] [--steps N]\n"
            "                     [--print-steps S1,S2,...] [--float32] [--plot out.png]\n\n"
            "Runs an optimizer on a test function (float64 unless --float32) and prints one line per\n"
            "printed step: the step, every coordinate, then f, separated by spaces (%%.17g).\n"
            "Step 0 is the starting point; f of an online function (reddi) is its period average.\n"
            "One step is one step(closure) call, as in torch\n"
            "(L-BFGS evaluates the function several times per step).\n\n"
            "options:\n"
            "  --opt SPEC          optimizer spec, e.g. 'adam:lr=0.01,amsgrad=1', 'sgd:lr=1e-3,momentum=0.9'\n"
            "                      (--help-opt NAME lists an optimizer's options)\n"
            "  --fn FUNCTION       test function (list below), e.g. 'rosenbrock', 'quadratic:d=10,kappa=100'\n"
            "  --x0 LIST           starting point, comma separated; one value is repeated for every\n"
            "                      coordinate (default 1.5)\n"
            "  --steps N           number of steps (default: the largest printed step, or 100)\n"
            "  --print-steps LIST  steps to print (default: every step)\n"
            "  --float32           run the optimizer's float32 path (the function stays float64)\n"
            "  --plot FILE.png     draw the path over log-scaled contours of the function (2-D only;\n"
            "                      start: white square, end: red square, known minimum: white cross)\n"
            "  --help-opt [NAME]   options of one optimizer (or of all)\n"
            "  -h, --help          this help\n\n"
            "functions: %s\n"
            "optimizers: %s\n",
            dsc_testfn_names(), dsc_optim_names());
}

/* Comma-separated doubles; returns the count or -1. */
static long parse_list(const char *s, double *out, long max)
{
    long n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        const double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || n == max)
            return -1;
        out[n++] = v;
        p = end;
        if (*p == ',') {
            p++;
            if (!*p)
                return -1;
        } else if (*p) {
            return -1;
        }
    }
    return n;
}

/* The closure: f and its gradient at params (float64, or float32 converted through x). */
typedef struct optim_cli_ctx {
    const dsc_testfn *fn;
    int f32;
    double *x, *g;
    size_t d;
    int64_t t; /* the step being taken (online functions) */
} optim_cli_ctx;

static double cli_closure(void *ctx, const void *params, void *grads)
{
    optim_cli_ctx *c = ctx;
    if (!c->f32)
        return dsc_testfn_eval_at(c->fn, c->t, params, grads);
    for (size_t i = 0; i < c->d; i++)
        c->x[i] = ((const float *)params)[i];
    const double f = dsc_testfn_eval_at(c->fn, c->t, c->x, c->g);
    for (size_t i = 0; i < c->d; i++)
        ((float *)grads)[i] = (float)c->g[i];
    return f;
}

/* ---- --plot: the path over the function's contours, as a PNG -------------------------------
 * The PNG's zlib stream uses stored (uncompressed) deflate blocks, so no library is needed. */
#define PLOT_W 480
#define PLOT_H 480
#define PLOT_MAX_POINTS 100000

static uint32_t png_crc(const unsigned char *buf, size_t n, uint32_t c)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* single-threaded CLI */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t v = i;
            for (int k = 0; k < 8; k++)
                v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
            table[i] = v;
        }
        ready = 1;
    }
    for (size_t i = 0; i < n; i++)
        c = table[(c ^ buf[i]) & 0xff] ^ (c >> 8);
    return c;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8),
    p[3] = (unsigned char)v;
}

static int png_chunk(FILE *f, const char *type, const unsigned char *data, size_t n)
{
    unsigned char hdr[8];
    put32(hdr, (uint32_t)n);
    memcpy(hdr + 4, type, 4);
    uint32_t crc = png_crc(hdr + 4, 4, 0xffffffffu);
    crc = png_crc(data, n, crc) ^ 0xffffffffu;
    unsigned char tail[4];
    put32(tail, crc);
    return fwrite(hdr, 1, 8, f) == 8 && (n == 0 || fwrite(data, 1, n, f) == n) && fwrite(tail, 1, 4, f) == 4;
}

/* rgb: h rows of w RGB pixels. Returns 0 on success. */
static int write_png(const char *path, const unsigned char *rgb, int w, int h)
{
    const size_t row = 1 + 3 * (size_t)w, raw_n = row * (size_t)h;
    const size_t nblocks = (raw_n + 65534) / 65535, z_n = 2 + raw_n + 5 * nblocks + 4;
    unsigned char *raw = malloc(raw_n), *z = malloc(z_n);
    FILE *f = raw && z ? fopen(path, "wb") : NULL;
    int ok = f != NULL;
    if (ok) {
        for (int y = 0; y < h; y++) {
            raw[(size_t)y * row] = 0; /* filter: none */
            memcpy(raw + (size_t)y * row + 1, rgb + (size_t)y * 3 * (size_t)w, 3 * (size_t)w);
        }
        size_t o = 0;
        z[o++] = 0x78, z[o++] = 0x01; /* zlib header: deflate, 32K window, no dictionary */
        uint32_t a = 1, b = 0;         /* Adler-32 */
        for (size_t done = 0; done < raw_n;) {
            const size_t len = raw_n - done < 65535 ? raw_n - done : 65535;
            z[o++] = done + len == raw_n; /* BFINAL, BTYPE = 00 (stored) */
            z[o++] = (unsigned char)len, z[o++] = (unsigned char)(len >> 8);
            z[o++] = (unsigned char)~len, z[o++] = (unsigned char)(~len >> 8);
            memcpy(z + o, raw + done, len);
            for (size_t i = 0; i < len; i++) {
                a = (a + raw[done + i]) % 65521;
                b = (b + a) % 65521;
            }
            o += len;
            done += len;
        }
        put32(z + o, (b << 16) | a);
        o += 4;
        unsigned char ihdr[13];
        put32(ihdr, (uint32_t)w);
        put32(ihdr + 4, (uint32_t)h);
        ihdr[8] = 8, ihdr[9] = 2, ihdr[10] = 0, ihdr[11] = 0, ihdr[12] = 0; /* 8-bit RGB */
        static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        ok = fwrite(sig, 1, 8, f) == 8 && png_chunk(f, "IHDR", ihdr, 13) && png_chunk(f, "IDAT", z, o) &&
             png_chunk(f, "IEND", NULL, 0);
        ok = fclose(f) == 0 && ok;
    }
    free(raw);
    free(z);
    return ok ? 0 : -1;
}

static void plot_px(unsigned char *rgb, int x, int y, const unsigned char c[3])
{
    if (x >= 0 && x < PLOT_W && y >= 0 && y < PLOT_H)
        memcpy(rgb + 3 * ((size_t)y * PLOT_W + (size_t)x), c, 3);
}

static void plot_square(unsigned char *rgb, int cx, int cy, int r, const unsigned char fill[3])
{
    static const unsigned char black[3] = {0, 0, 0};
    for (int y = -r - 1; y <= r + 1; y++)
        for (int x = -r - 1; x <= r + 1; x++)
            plot_px(rgb, cx + x, cy + y, abs(x) > r || abs(y) > r ? black : fill);
}

/* Viridis-like colormap, t in [0, 1]. */
static void colormap(double t, unsigned char out[3])
{
    static const double stops[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const double u = t * 4;
    int k = (int)u;
    if (k > 3)
        k = 3;
    const double r = u - k;
    for (int c = 0; c < 3; c++)
        out[c] = (unsigned char)(stops[k][c] + r * (stops[k + 1][c] - stops[k][c]) + 0.5);
}

/* Draws the 2-D path pts (np points) over log-scaled contours of fn into a PNG. */
static int plot_path(const char *path, const dsc_testfn *fn, const double *pts, long np)
{
    double lo[2] = {HUGE_VAL, HUGE_VAL}, hi[2] = {-HUGE_VAL, -HUGE_VAL}, xm[2];
    dsc_testfn_min(fn, xm);
    for (long k = 0; k <= np; k++) {
        const double *p = k < np ? pts + 2 * k : xm; /* the path and the known minimum */
        if (!isfinite(p[0]) || !isfinite(p[1]))
            continue;
        for (int c = 0; c < 2; c++) {
            lo[c] = fmin(lo[c], p[c]);
            hi[c] = fmax(hi[c], p[c]);
        }
    }
    for (int c = 0; c < 2; c++) {
        if (!(lo[c] <= hi[c]))
            lo[c] = -1, hi[c] = 1;
        const double span = hi[c] - lo[c] > 1e-12 ? hi[c] - lo[c] : 1;
        lo[c] -= 0.08 * span;
        hi[c] += 0.08 * span;
    }
    double *v = malloc((size_t)PLOT_W * PLOT_H * sizeof *v);
    unsigned char *rgb = malloc((size_t)PLOT_W * PLOT_H * 3);
    if (!v || !rgb) {
        free(v);
        free(rgb);
        return -1;
    }
    double vmin = HUGE_VAL, vmax = -HUGE_VAL;
    for (int y = 0; y < PLOT_H; y++)
        for (int x = 0; x < PLOT_W; x++) {
            const double q[2] = {lo[0] + (x + 0.5) * (hi[0] - lo[0]) / PLOT_W,
                                 hi[1] - (y + 0.5) * (hi[1] - lo[1]) / PLOT_H};
            const double f = dsc_testfn_eval(fn, q, NULL);
            v[(size_t)y * PLOT_W + (size_t)x] = f;
            if (isfinite(f)) {
                vmin = fmin(vmin, f);
                vmax = fmax(vmax, f);
            }
        }
    /* Log scale above the grid's minimum; 16 contour levels. */
    const double floor_ = 1e-6 * (vmax - vmin) + 1e-300, llo = log(floor_), lhi = log(vmax - vmin + floor_);
    for (size_t i = 0; i < (size_t)PLOT_W * PLOT_H; i++)
        v[i] = isfinite(v[i]) ? (log(v[i] - vmin + floor_) - llo) / (lhi - llo > 0 ? lhi - llo : 1) : 1;
    for (int y = 0; y < PLOT_H; y++)
        for (int x = 0; x < PLOT_W; x++) {
            const size_t i = (size_t)y * PLOT_W + (size_t)x;
            unsigned char c[3];
            colormap(v[i], c);
            const int lev = (int)(v[i] * 16);
            const int edge = (x + 1 < PLOT_W && (int)(v[i + 1] * 16) != lev) ||
                             (y + 1 < PLOT_H && (int)(v[i + PLOT_W] * 16) != lev);
            for (int k = 0; k < 3; k++)
                rgb[3 * i + (size_t)k] = edge ? (unsigned char)(c[k] * 0.55) : c[k];
        }
    /* The path: red segments (2 px), start white, end black-bordered red, minimum white cross. */
    static const unsigned char red[3] = {230, 30, 30}, white[3] = {255, 255, 255};
    double px = 0, py = 0;
    int have = 0;
    for (long k = 0; k < np; k++) {
        if (!isfinite(pts[2 * k]) || !isfinite(pts[2 * k + 1])) {
            have = 0;
            continue;
        }
        const double nx = (pts[2 * k] - lo[0]) / (hi[0] - lo[0]) * PLOT_W,
                     ny = (hi[1] - pts[2 * k + 1]) / (hi[1] - lo[1]) * PLOT_H;
        if (have) {
            const double len = fmax(fabs(nx - px), fabs(ny - py));
            const int n = len < 4 * PLOT_W ? (int)len + 1 : 4 * PLOT_W;
            for (int j = 0; j <= n; j++) {
                const int sx = (int)(px + (nx - px) * j / n), sy = (int)(py + (ny - py) * j / n);
                plot_px(rgb, sx, sy, red);
                plot_px(rgb, sx + 1, sy, red);
                plot_px(rgb, sx, sy + 1, red);
            }
        }
        px = nx, py = ny, have = 1;
    }
    const int mx = (int)((xm[0] - lo[0]) / (hi[0] - lo[0]) * PLOT_W), my = (int)((hi[1] - xm[1]) / (hi[1] - lo[1]) * PLOT_H);
    for (int j = -6; j <= 6; j++) {
        plot_px(rgb, mx + j, my, white);
        plot_px(rgb, mx, my + j, white);
    }
    if (np > 0 && isfinite(pts[0]) && isfinite(pts[1]))
        plot_square(rgb, (int)((pts[0] - lo[0]) / (hi[0] - lo[0]) * PLOT_W),
                    (int)((hi[1] - pts[1]) / (hi[1] - lo[1]) * PLOT_H), 3, white);
    if (np > 1 && isfinite(pts[2 * np - 2]) && isfinite(pts[2 * np - 1]))
        plot_square(rgb, (int)((pts[2 * np - 2] - lo[0]) / (hi[0] - lo[0]) * PLOT_W),
                    (int)((hi[1] - pts[2 * np - 1]) / (hi[1] - lo[1]) * PLOT_H), 3, red);
    const int rc = write_png(path, rgb, PLOT_W, PLOT_H);
    free(v);
    free(rgb);
    return rc;
}

static int bad(const char *msg, const char *arg)
{
    fprintf(stderr, "descent optim: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
    fprintf(stderr, "Run 'descent optim --help' for the options.\n");
    return 2;
}

int cmd_optim(int argc, char **argv)
{
    const char *opt_spec = NULL, *fn_spec = NULL, *x0_text = NULL, *print_text = NULL, *plot = NULL;
    long steps = -1;
    int f32 = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *inline_v = NULL;
        char key[64];
        const char *eq = strncmp(a, "--", 2) ? NULL : strchr(a, '=');
        if (eq && (size_t)(eq - a) < sizeof key) { /* --key=value */
            memcpy(key, a, (size_t)(eq - a));
            key[eq - a] = 0;
            a = key;
            inline_v = eq + 1;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            optim_usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--help-opt")) {
            static char buf[16384];
            const char *name = i + 1 < argc && argv[i + 1][0] != '-' ? argv[++i] : NULL;
            fputs(dsc_optim_help(name, buf, sizeof buf), stdout);
            return 0;
        }
        if (!strcmp(a, "--float32")) {
            f32 = 1;
            continue;
        }
        if (!inline_v && i + 1 >= argc)
            return bad("missing value for", a);
        const char *v = inline_v ? inline_v : argv[++i];
        if (!strcmp(a, "--opt"))
            opt_spec = v;
        else if (!strcmp(a, "--fn"))
            fn_spec = v;
        else if (!strcmp(a, "--x0"))
            x0_text = v;
        else if (!strcmp(a, "--print-steps"))
            print_text = v;
        else if (!strcmp(a, "--plot"))
            plot = v;
        else if (!strcmp(a, "--steps")) {
            char *end;
            errno = 0;
            steps = strtol(v, &end, 10);
            if (end == v || *end || errno || steps < 0 || steps > 1000000000L)
                return bad("--steps needs an integer in [0, 1e9], got", v);
        } else {
            return bad("unknown option", a);
        }
    }
    if (!opt_spec)
        return bad("--opt is required", NULL);
    if (!fn_spec)
        return bad("--fn is required", NULL);

    dsc_testfn *fn = NULL;
    if (dsc_testfn_new(fn_spec, &fn) != DSC_OK) {
        fprintf(stderr, "descent optim: %s\n", dsc_last_error());
        return 2;
    }
    const size_t d = dsc_testfn_dim(fn);
    if (plot && d != 2) {
        fprintf(stderr, "descent optim: --plot needs a 2-D function; %s has %zu coordinates\n", fn_spec, d);
        dsc_testfn_free(fn);
        return 2;
    }
    int rc = 2;
    double *pts = NULL;
    long n_pts = 0, stride = 1;
    double *x = calloc(d, sizeof *x), *g = calloc(d, sizeof *g), *x0 = calloc(d, sizeof *x0);
    float *xf = calloc(d, sizeof *xf), *gf = calloc(d, sizeof *gf);
    long n_print = 0, max_print = 4096;
    double *print = calloc((size_t)max_print, sizeof *print);
    dsc_optim *opt = NULL;
    if (!x || !g || !x0 || !xf || !gf || !print) {
        fprintf(stderr, "descent optim: out of memory\n");
        rc = 1;
        goto done;
    }
    for (size_t i = 0; i < d; i++)
        x[i] = 1.5;
    if (x0_text) {
        const long n = parse_list(x0_text, x0, (long)d);
        if (n == 1) {
            for (size_t i = 0; i < d; i++)
                x[i] = x0[0];
        } else if (n == (long)d) {
            memcpy(x, x0, d * sizeof *x);
        } else {
            fprintf(stderr, "descent optim: --x0 '%s' must be 1 or %zu comma-separated numbers for %s\n", x0_text, d,
                    fn_spec);
            goto done;
        }
    }
    if (print_text) {
        n_print = parse_list(print_text, print, max_print);
        if (n_print < 0) {
            fprintf(stderr, "descent optim: --print-steps '%s' must be comma-separated step numbers\n", print_text);
            goto done;
        }
        for (long k = 0; k < n_print; k++)
            if (print[k] < 0 || print[k] != (double)(long)print[k]) {
                fprintf(stderr, "descent optim: --print-steps: '%g' is not a step number\n", print[k]);
                goto done;
            }
    }
    if (steps < 0) {
        steps = n_print ? 0 : 100;
        for (long k = 0; k < n_print; k++)
            if (print[k] > (double)steps)
                steps = (long)print[k];
    }
    if (dsc_optim_new(opt_spec, d, f32 ? DSC_FLOAT32 : DSC_FLOAT64, &opt) != DSC_OK) {
        fprintf(stderr, "descent optim: %s\n", dsc_last_error());
        goto done;
    }
    if (plot) {
        stride = steps / PLOT_MAX_POINTS + 1;
        pts = malloc(2 * (size_t)(steps / stride + 2) * sizeof *pts);
        if (!pts) {
            fprintf(stderr, "descent optim: out of memory\n");
            rc = 1;
            goto done;
        }
    }
    rc = 0;
    double *xs = calloc(d, sizeof *xs), *gs = calloc(d, sizeof *gs);
    optim_cli_ctx cctx = {fn, f32, xs, gs, d, 0};
    if (!xs || !gs) {
        fprintf(stderr, "descent optim: out of memory\n");
        rc = 1;
        steps = -1;
    }
    for (long t = 0; t <= steps; t++) {
        if (t > 0) {
            /* One step = one step(closure) call, as torch (L-BFGS evaluates several times). */
            dsc_status s;
            cctx.t = t;
            if (f32) {
                s = dsc_optim_step_closure(opt, xf, gf, cli_closure, &cctx, NULL);
                for (size_t i = 0; i < d; i++)
                    x[i] = xf[i];
                dsc_testfn_project(fn, x);
                for (size_t i = 0; i < d; i++)
                    xf[i] = (float)x[i];
            } else {
                s = dsc_optim_step_closure(opt, x, g, cli_closure, &cctx, NULL);
                dsc_testfn_project(fn, x);
            }
            if (s != DSC_OK) {
                fprintf(stderr, "descent optim: step %ld: %s\n", t, dsc_last_error());
                rc = 1;
                break;
            }
        } else if (f32) {
            for (size_t i = 0; i < d; i++)
                x[i] = xf[i] = (float)x[i];
        }
        if (pts && (t % stride == 0 || t == steps)) {
            pts[2 * n_pts] = x[0];
            pts[2 * n_pts + 1] = x[1];
            n_pts++;
        }
        int show = !print_text && t > 0;
        for (long k = 0; k < n_print && !show; k++)
            show = print[k] == (double)t;
        if (show) {
            printf("%ld", t);
            for (size_t i = 0; i < d; i++)
                printf(" %.17g", x[i]);
            printf(" %.17g\n", dsc_testfn_eval(fn, x, NULL));
        }
    }
    free(xs);
    free(gs);
    if (pts && plot_path(plot, fn, pts, n_pts) != 0) {
        fprintf(stderr, "descent optim: cannot write the plot '%s'\n", plot);
        rc = 1;
    }
done:
    free(pts);
    dsc_optim_free(opt);
    dsc_testfn_free(fn);
    free(x);
    free(g);
    free(x0);
    free(xf);
    free(gf);
    free(print);
    return rc;
}
