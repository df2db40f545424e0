/* Demo: train an MLP (64-128-10, ReLU) on the 1,797 8x8 digit images with momentum SGD, using
 * only the engine (graph, ops, flat buffers). Prints progress per epoch, a final summary line
 * and writes a loss curve (CSV and, when gnuplot is installed, a PNG).
 *
 * usage: train_digits DATA/digits.csv.gz OUT_DIR [epochs] */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "descent/descent.h"

#define N_ALL 1797
#define D 64
#define K 10
#define N_TRAIN 1500
#define BATCH 32

static int load_digits(const char *path, float *x, float *y)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        fprintf(stderr, "train_digits: cannot open %s\n", path);
        return -1;
    }
    char line[4096];
    int n = 0;
    while (n < N_ALL && gzgets(f, line, sizeof line)) {
        char *p = line;
        for (int j = 0; j <= D; j++) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || v < 0 || v > 16 || (j == D && v > 9)) {
                fprintf(stderr, "train_digits: %s line %d field %d is malformed\n", path, n + 1, j + 1);
                gzclose(f);
                return -1;
            }
            if (j < D)
                x[n * D + j] = (float)v / 16.0f;
            else
                y[n] = (float)v;
            p = end + (*end == ',');
        }
        n++;
    }
    gzclose(f);
    if (n != N_ALL) {
        fprintf(stderr, "train_digits: %s has %d rows, expected %d\n", path, n, N_ALL);
        return -1;
    }
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: train_digits DATA/digits.csv.gz OUT_DIR [epochs]\n");
        return 2;
    }
    int epochs = argc > 3 ? atoi(argv[3]) : 30;
    static float X[N_ALL * D], Y[N_ALL];
    if (load_digits(argv[1], X, Y))
        return 1;

    /* Shuffle once (seeded) and split into train and test. */
    dsc_rng rng = dsc_rng_seed(0);
    int64_t perm[N_ALL];
    dsc_rng_permutation(&rng, perm, N_ALL);

    dsc_graph *g = dsc_graph_new();
    int64_t xs[2] = {BATCH, D}, ys[1] = {BATCH}, w1s[2] = {128, D}, b1s[1] = {128}, w2s[2] = {K, 128}, b2s[1] = {K};
    dsc_id x = dsc_input(g, "x", 2, xs), y = dsc_input(g, "y", 1, ys);
    dsc_id w1 = dsc_param(g, "0.weight", 2, w1s), b1 = dsc_param(g, "0.bias", 1, b1s);
    dsc_id w2 = dsc_param(g, "2.weight", 2, w2s), b2 = dsc_param(g, "2.bias", 1, b2s);
    dsc_id h = dsc_relu(g, dsc_linear(g, x, w1, b1));
    dsc_id logits = dsc_linear(g, h, w2, b2);
    dsc_id loss = dsc_cross_entropy(g, logits, y, dsc_ce_defaults());
    if (dsc_graph_compile(g, loss) != DSC_OK) {
        fprintf(stderr, "train_digits: %s\n", dsc_last_error());
        return 1;
    }
    /* PyTorch's default Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
    size_t P;
    float *theta = dsc_graph_params(g, &P), *grad = dsc_graph_grads(g, NULL);
    for (int i = 0; i < dsc_graph_param_count(g); i++) {
        dsc_shape s;
        size_t off;
        dsc_graph_param_info(g, i, NULL, &s, &off);
        float bound = 1.0f / sqrtf((float)(i < 2 ? D : 128));
        dsc_rng_fill_uniform(&rng, theta + off, (size_t)dsc_shape_numel(&s), -bound, bound);
    }
    float *vel = calloc(P, sizeof(float));
    char csv[1024];
    snprintf(csv, sizeof csv, "%s/loss.csv", argv[2]);
    FILE *log = fopen(csv, "w");
    if (!log || !vel) {
        fprintf(stderr, "train_digits: cannot write %s (does the directory exist?)\n", csv);
        return 1;
    }
    fprintf(log, "epoch,train_loss,test_acc\n");
    float xb[BATCH * D], yb[BATCH];
    const float lr = 0.05f, mom = 0.9f;
    double train_time = 0, last_loss = 0, acc = 0;
    for (int ep = 1; ep <= epochs; ep++) {
        int64_t order[N_TRAIN];
        dsc_rng_permutation(&rng, order, N_TRAIN);
        double sum = 0;
        int nb = 0;
        double t0 = now();
        for (int s = 0; s + BATCH <= N_TRAIN; s += BATCH, nb++) {
            for (int b = 0; b < BATCH; b++) {
                int64_t r = perm[order[s + b]];
                memcpy(xb + b * D, X + r * D, D * sizeof(float));
                yb[b] = Y[r];
            }
            dsc_graph_set_input(g, x, xb, BATCH * D);
            dsc_graph_set_input(g, y, yb, BATCH);
            dsc_graph_forward(g);
            dsc_graph_backward(g);
            sum += dsc_graph_loss(g);
            for (size_t k = 0; k < P; k++) { /* heavy-ball momentum SGD (torch's SGD form) */
                vel[k] = mom * vel[k] + grad[k];
                theta[k] -= lr * vel[k];
            }
        }
        train_time += now() - t0;
        /* Test accuracy on the held-out 297 images. */
        int correct = 0, seen = 0;
        for (int s = N_TRAIN; s < N_ALL; s += BATCH) {
            int bsz = N_ALL - s < BATCH ? N_ALL - s : BATCH;
            dsc_graph_set_batch(g, bsz);
            for (int b = 0; b < bsz; b++) {
                memcpy(xb + b * D, X + perm[s + b] * D, D * sizeof(float));
                yb[b] = Y[perm[s + b]];
            }
            dsc_graph_set_input(g, x, xb, (size_t)bsz * D);
            dsc_graph_set_input(g, y, yb, (size_t)bsz);
            dsc_graph_forward(g);
            dsc_tensor lg = dsc_node_value(g, logits);
            for (int b = 0; b < bsz; b++) {
                int best = 0;
                for (int c = 1; c < K; c++)
                    if (lg.data[b * K + c] > lg.data[b * K + best])
                        best = c;
                correct += best == (int)yb[b];
                seen++;
            }
        }
        dsc_graph_set_batch(g, BATCH);
        last_loss = sum / nb;
        acc = (double)correct / seen;
        fprintf(log, "%d,%.6f,%.4f\n", ep, last_loss, acc);
        printf("epoch %3d/%d  train_loss %.4f  test_acc %.4f\n", ep, epochs, last_loss, acc);
        fflush(stdout);
    }
    fclose(log);
    printf("final: epochs=%d train_loss=%.4f test_acc=%.4f time_s=%.3f samples_per_s=%.0f\n", epochs, last_loss,
           acc, train_time, (double)epochs * (N_TRAIN / BATCH * BATCH) / train_time);
    free(vel);
    dsc_graph_free(g);
    return 0;
}
