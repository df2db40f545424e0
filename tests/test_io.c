/* safetensors reader/writer (reference test vectors, committed PyTorch-side fixtures, byte-identical
 * writing, every dtype, hostile files), atomic writes with injected failures, checkpoints
 * (keep-N, latest valid skipping corrupt files), and a PyTorch load of what descent writes. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testing.h"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char buf[8][512];
    static int k;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/dsc_test_io_XXXXXX");
        if (!mkdtemp(tmpdir))
            snprintf(tmpdir, sizeof tmpdir, "/tmp");
    }
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    *len = 0;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b)
        *len = (size_t)n;
    return b;
}

static void spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        dsc_test_failures++;
        return;
    }
    fwrite(data, 1, len, f);
    fclose(f);
}

static void *fixture(const char *name, size_t *len)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/tests/fixtures/safetensors/%s", dsc_test_source_dir(), name);
    void *b = slurp(p, len);
    if (!b) {
        fprintf(stderr, "missing fixture %s\n", p);
        dsc_test_failures++;
    }
    return b;
}

/* The fixtures' formula (tools/gen_safetensors_fixture.py): ((i*7 + k*13) % 101 - 50) / 64. */
static double fval(int k, int64_t i) { return (double)(((i * 7 + k * 13) % 101) - 50) / 64.0; }

static float *ffill(int k, int64_t n)
{
    float *x = malloc((size_t)(n ? n : 1) * sizeof *x);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)fval(k, i);
    return x;
}

/* ------------------------------------------------------------------------------- basics */

static void test_dtypes_crc(void)
{
    CHECK(strcmp(dsc_st_dtype_name(DSC_ST_F32), "F32") == 0);
    CHECK(dsc_st_dtype_size(DSC_ST_F64) == 8 && dsc_st_dtype_size(DSC_ST_BF16) == 2 && dsc_st_dtype_size(DSC_ST_BOOL) == 1);
    CHECK(dsc_st_dtype_parse("I64") == DSC_ST_I64);
    CHECK(dsc_st_dtype_parse("F33") == -1);
    CHECK(dsc_st_dtype_name((dsc_st_dtype)99) == NULL);
    for (int d = 0; d < DSC_ST_DTYPE_COUNT; d++)
        CHECK(dsc_st_dtype_parse(dsc_st_dtype_name((dsc_st_dtype)d)) == d);
    CHECK(dsc_crc32(0, "123456789", 9) == 0xCBF43926u); /* the standard check value */
    CHECK(dsc_crc32(dsc_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
}

/* The reference implementation's own test vectors (safetensors/src/tensor.rs). */
static void test_reference_vectors(void)
{
    float v[6] = {0, 1, 2, 3, 4, 5};
    int64_t sh[3] = {1, 2, 3}, sh4[4] = {1, 1, 2, 3};
    void *buf;
    size_t len;
    /* test_serialization: "attn.0" F32 [1,2,3]; the header is exactly 64 bytes, no padding. */
    dsc_st_tensor t = dsc_st_tensor_make("attn.0", DSC_ST_F32, 3, sh, v);
    CHECK_OK(dsc_safetensors_serialize(&t, 1, NULL, 0, &buf, &len));
    const char *h1 = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
    CHECK(len == 8 + 64 + 24);
    CHECK(((unsigned char *)buf)[0] == 64 && memcmp((char *)buf + 8, h1, 64) == 0);
    CHECK(memcmp((char *)buf + 72, v, 24) == 0);
    free(buf);
    /* test_serialization_forced_alignement: "attn0" [1,1,2,3]: 65 bytes of JSON + 7 spaces. */
    t = dsc_st_tensor_make("attn0", DSC_ST_F32, 4, sh4, v);
    CHECK_OK(dsc_safetensors_serialize(&t, 1, NULL, 0, &buf, &len));
    CHECK(len == 8 + 72 + 24 && ((unsigned char *)buf)[0] == 72);
    CHECK(memcmp((char *)buf + 8 + 65, "       ", 7) == 0);
    free(buf);
    /* test_empty: no tensors; then metadata {"framework": "pt"}. */
    CHECK_OK(dsc_safetensors_serialize(NULL, 0, NULL, 0, &buf, &len));
    CHECK(len == 16 && memcmp(buf, "\x08\0\0\0\0\0\0\0{}      ", 16) == 0);
    free(buf);
    dsc_st_meta m = {"framework", "pt"};
    CHECK_OK(dsc_safetensors_serialize(NULL, 0, &m, 1, &buf, &len));
    CHECK(len == 48 && ((unsigned char *)buf)[0] == 40 &&
          memcmp((char *)buf + 8, "{\"__metadata__\":{\"framework\":\"pt\"}}     ", 40) == 0);
    dsc_safetensors st;
    CHECK_OK(dsc_safetensors_read_mem(buf, len, "empty", &st));
    CHECK(st.n_tensors == 0 && st.n_meta == 1 && strcmp(dsc_safetensors_meta(&st, "framework"), "pt") == 0);
    dsc_safetensors_free(&st);
    free(buf);
}

/* ------------------------------------------------------------------------------- fixtures */

/* tests/fixtures/safetensors/mlp_bn.safetensors: the state_dict of torch_models.build(
 * "mlp:64-32-10,batchnorm=1") with formula values, metadata {"format": "pt"}. */
static const struct {
    const char *name;
    int ndim;
    int64_t shape[2];
} mlp_bn[] = {
    {"0.weight", 2, {32, 64}}, {"0.bias", 1, {32}},         {"1.weight", 1, {32}},
    {"1.bias", 1, {32}},       {"1.running_mean", 1, {32}}, {"1.running_var", 1, {32}},
    {"1.num_batches_tracked", 0, {0}}, {"3.weight", 2, {10, 32}}, {"3.bias", 1, {10}},
};
#define N_MLP_BN ((int)(sizeof mlp_bn / sizeof mlp_bn[0]))

static void test_fixture_mlp_bn(void)
{
    size_t flen;
    unsigned char *file = fixture("mlp_bn.safetensors", &flen);
    if (!file)
        return;
    dsc_safetensors st;
    CHECK_OK(dsc_safetensors_read_mem(file, flen, "mlp_bn.safetensors", &st));
    CHECK(st.n_tensors == N_MLP_BN);
    CHECK(st.n_meta == 1 && strcmp(dsc_safetensors_meta(&st, "format"), "pt") == 0);
    /* File order: I64 first, then the F32 ones by name. */
    if (st.n_tensors == N_MLP_BN) {
        CHECK(strcmp(st.tensors[0].name, "1.num_batches_tracked") == 0);
        CHECK(strcmp(st.tensors[1].name, "0.bias") == 0 && strcmp(st.tensors[2].name, "0.weight") == 0);
        CHECK(strcmp(st.tensors[8].name, "3.weight") == 0);
    }
    float *vals[N_MLP_BN] = {0};
    dsc_st_tensor ts[N_MLP_BN];
    int64_t counter = 1234567890123;
    for (int k = 0; k < N_MLP_BN; k++) {
        int64_t n = 1;
        for (int d = 0; d < mlp_bn[k].ndim; d++)
            n *= mlp_bn[k].shape[d];
        if (mlp_bn[k].ndim == 0) {
            int64_t got = 0;
            CHECK_OK(dsc_safetensors_get(&st, "mlp_bn", mlp_bn[k].name, DSC_ST_I64, 0, NULL, &got));
            CHECK(got == counter);
            ts[k] = dsc_st_tensor_make(mlp_bn[k].name, DSC_ST_I64, 0, NULL, &counter);
            continue;
        }
        vals[k] = ffill(k, n);
        float *got = malloc((size_t)n * sizeof *got);
        CHECK_OK(dsc_safetensors_get(&st, "mlp_bn", mlp_bn[k].name, DSC_ST_F32, mlp_bn[k].ndim, mlp_bn[k].shape, got));
        CHECK(memcmp(got, vals[k], (size_t)n * sizeof *got) == 0);
        free(got);
        ts[k] = dsc_st_tensor_make(mlp_bn[k].name, DSC_ST_F32, mlp_bn[k].ndim, mlp_bn[k].shape, vals[k]);
    }
    /* Shape and dtype checks of the getter. */
    float dummy[64];
    int64_t wrong[2] = {32, 65};
    CHECK_ERR(dsc_safetensors_get(&st, "mlp_bn", "0.weight", DSC_ST_F32, 2, wrong, dummy), DSC_ERR_SHAPE,
              "tensor '0.weight' has shape [32, 64], expected [32, 65]");
    CHECK_ERR(dsc_safetensors_get(&st, "mlp_bn", "0.bias", DSC_ST_F64, 1, wrong, dummy), DSC_ERR_FORMAT,
              "has dtype F32, expected F64");
    CHECK_ERR(dsc_safetensors_get(&st, "mlp_bn", "4.weight", DSC_ST_F32, 1, wrong, dummy), DSC_ERR_FORMAT,
              "no tensor named '4.weight'");
    dsc_tensor bias;
    int64_t bd = 10;
    CHECK_OK(dsc_tensor_new(&bias, 1, &bd));
    CHECK_OK(dsc_safetensors_get_f32(&st, "mlp_bn", "3.bias", &bias));
    CHECK(bias.data[9] == (float)fval(8, 9));
    CHECK_ERR(dsc_safetensors_get_f32(&st, "mlp_bn", "0.bias", &bias), DSC_ERR_SHAPE, "has shape [32], expected [10]");
    dsc_tensor_free(&bias);
    /* Strided destination: a transposed view of a [64, 32] buffer receives 0.weight [32, 64]. */
    dsc_tensor wt, view;
    int64_t wd[2] = {64, 32};
    CHECK_OK(dsc_tensor_new(&wt, 2, wd));
    CHECK_OK(dsc_tensor_transpose(&wt, 0, 1, &view));
    CHECK_OK(dsc_safetensors_get_f32(&st, "mlp_bn", "0.weight", &view));
    CHECK(wt.data[5 * 32 + 3] == (float)fval(0, 3 * 64 + 5));
    dsc_tensor_free(&wt);
    dsc_safetensors_free(&st);

    /* Our writer, given the same tensors (in state_dict order) and metadata: the same bytes. */
    dsc_st_meta meta = {"format", "pt"};
    void *buf;
    size_t len;
    CHECK_OK(dsc_safetensors_serialize(ts, N_MLP_BN, &meta, 1, &buf, &len));
    CHECK(len == flen && memcmp(buf, file, flen) == 0);
    free(buf);
    /* And through a file. */
    const char *p = tmp_path("mlp_bn.safetensors");
    CHECK_OK(dsc_safetensors_write_file(p, ts, N_MLP_BN, &meta, 1));
    unsigned char *again = slurp(p, &len);
    CHECK(again && len == flen && memcmp(again, file, flen) == 0);
    free(again);
    for (int k = 0; k < N_MLP_BN; k++)
        free(vals[k]);
    free(file);
}

static void test_fixture_mixed(void)
{
    size_t flen;
    unsigned char *file = fixture("mixed.safetensors", &flen);
    if (!file)
        return;
    dsc_safetensors st;
    CHECK_OK(dsc_safetensors_read_mem(file, flen, "mixed.safetensors", &st));
    CHECK(st.n_tensors == 7 && st.n_meta == 2);
    CHECK(strcmp(dsc_safetensors_meta(&st, "note"), "line1\nline2 \xc3\xa9 \"quoted\"") == 0);
    CHECK(strcmp(dsc_safetensors_meta(&st, "epoch"), "3") == 0);
    int64_t step = 0;
    CHECK_OK(dsc_safetensors_get(&st, "mixed", "step", DSC_ST_I64, 0, NULL, &step));
    CHECK(step == -(((int64_t)1) << 40) - 3);
    double a[5];
    int64_t five = 5;
    CHECK_OK(dsc_safetensors_get(&st, "mixed", "a.f64", DSC_ST_F64, 1, &five, a));
    for (int i = 0; i < 5; i++)
        CHECK(a[i] == fval(1, i));
    int32_t r[4];
    int64_t four = 4;
    CHECK_OK(dsc_safetensors_get(&st, "mixed", "rng", DSC_ST_I32, 1, &four, r));
    CHECK(r[0] == 2147483647 && r[1] == -5 && r[3] == 7);
    unsigned char u[5];
    CHECK_OK(dsc_safetensors_get(&st, "mixed", "bytes", DSC_ST_U8, 1, &five, u));
    CHECK(u[2] == 127 && u[4] == 255);
    const dsc_st_tensor *e = dsc_safetensors_find(&st, "empty");
    CHECK(e && e->ndim == 2 && e->shape[0] == 0 && e->shape[1] == 3 && e->nbytes == 0);
    const dsc_st_tensor *q = dsc_safetensors_find(&st, "caf\xc3\xa9 \"q\"\t\\");
    CHECK(q && q->nbytes == 8);
    /* Re-serializing what we read (file order is not the input order the writer needs). */
    void *buf;
    size_t len;
    CHECK_OK(dsc_safetensors_serialize(st.tensors, st.n_tensors, st.meta, st.n_meta, &buf, &len));
    CHECK(len == flen && memcmp(buf, file, flen) == 0);
    free(buf);
    dsc_safetensors_free(&st);
    free(file);

    file = fixture("empty.safetensors", &flen);
    if (file) {
        CHECK_OK(dsc_safetensors_read_mem(file, flen, "empty.safetensors", &st));
        CHECK(st.n_tensors == 0 && st.n_meta == 0);
        dsc_safetensors_free(&st);
        free(file);
    }
}

/* Every dtype, with random bytes (any bit pattern must survive), a scalar and an empty tensor. */
static void test_roundtrip_all_dtypes(void)
{
    dsc_st_tensor ts[DSC_ST_DTYPE_COUNT + 2];
    unsigned char *bufs[DSC_ST_DTYPE_COUNT];
    char names[DSC_ST_DTYPE_COUNT][16];
    uint64_t x = 88172645463325252ull;
    for (int d = 0; d < DSC_ST_DTYPE_COUNT; d++) {
        int64_t sh[3] = {2, 1 + d % 3, 3};
        size_t nb = (size_t)(sh[0] * sh[1] * sh[2]) * dsc_st_dtype_size((dsc_st_dtype)d);
        bufs[d] = malloc(nb);
        for (size_t i = 0; i < nb; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            bufs[d][i] = (unsigned char)x;
        }
        snprintf(names[d], sizeof names[d], "t%02d.%s", 14 - d, dsc_st_dtype_name((dsc_st_dtype)d));
        ts[d] = dsc_st_tensor_make(names[d], (dsc_st_dtype)d, 3, sh, bufs[d]);
    }
    double scalar = 3.25;
    ts[DSC_ST_DTYPE_COUNT] = dsc_st_tensor_make("scalar", DSC_ST_F64, 0, NULL, &scalar);
    int64_t z[2] = {4, 0};
    ts[DSC_ST_DTYPE_COUNT + 1] = dsc_st_tensor_make("zero", DSC_ST_F32, 2, z, NULL);
    dsc_st_meta meta[3] = {{"zeta", "last"}, {"alpha", "first \xe2\x82\xac"}, {"ctl", "\x01\x1f"}};
    const char *p = tmp_path("all.safetensors");
    CHECK_OK(dsc_safetensors_write_file(p, ts, DSC_ST_DTYPE_COUNT + 2, meta, 3));
    dsc_safetensors st;
    CHECK_OK(dsc_safetensors_read_file(p, 0, &st));
    CHECK(st.n_tensors == DSC_ST_DTYPE_COUNT + 2 && st.n_meta == 3);
    if (st.n_meta == 3) /* written sorted */
        CHECK(strcmp(st.meta[0].key, "alpha") == 0 && strcmp(st.meta[1].key, "ctl") == 0);
    CHECK(strcmp(dsc_safetensors_meta(&st, "ctl"), "\x01\x1f") == 0);
    CHECK(strcmp(dsc_safetensors_meta(&st, "alpha"), "first \xe2\x82\xac") == 0);
    for (int d = 0; d < DSC_ST_DTYPE_COUNT + 2; d++) {
        const dsc_st_tensor *t = dsc_safetensors_find(&st, ts[d].name);
        CHECK(t != NULL);
        if (!t)
            continue;
        CHECK(t->dtype == ts[d].dtype && t->ndim == ts[d].ndim && t->nbytes == ts[d].nbytes);
        for (int k = 0; k < t->ndim; k++)
            CHECK(t->shape[k] == ts[d].shape[k]);
        if (t->nbytes)
            CHECK(memcmp(t->data, ts[d].data, t->nbytes) == 0);
        /* Data offsets are aligned to the element size (the reason for the dtype sort). */
        size_t off = (size_t)((const unsigned char *)t->data - (const unsigned char *)st.tensors[0].data);
        CHECK(off % dsc_st_dtype_size(t->dtype) == 0);
    }
    /* File order: U64 first (descending dtype), BOOL last before... the empty/scalar by dtype. */
    CHECK(st.tensors[0].dtype == DSC_ST_U64 && st.tensors[st.n_tensors - 1].dtype == DSC_ST_BOOL);
    /* The size cap applies. */
    dsc_safetensors st2;
    CHECK_ERR(dsc_safetensors_read_file(p, 64, &st2), DSC_ERR_FORMAT, "exceed the size limit");
    CHECK_ERR(dsc_safetensors_read_file(tmp_path("absent.safetensors"), 0, &st2), DSC_ERR_IO, "absent.safetensors");
    dsc_safetensors_free(&st);
    for (int d = 0; d < DSC_ST_DTYPE_COUNT; d++)
        free(bufs[d]);
}

static void test_writer_validation(void)
{
    float v[4] = {0};
    int64_t sh = 4, neg = -1;
    void *buf;
    size_t len;
    dsc_st_tensor ts[2] = {dsc_st_tensor_make("a", DSC_ST_F32, 1, &sh, v), dsc_st_tensor_make("a", DSC_ST_F32, 1, &sh, v)};
    CHECK_ERR(dsc_safetensors_serialize(ts, 2, NULL, 0, &buf, &len), DSC_ERR_INVALID, "duplicate tensor name 'a'");
    ts[1].name = "__metadata__";
    CHECK_ERR(dsc_safetensors_serialize(ts, 2, NULL, 0, &buf, &len), DSC_ERR_INVALID, "invalid name");
    ts[1] = dsc_st_tensor_make("b", DSC_ST_F32, 1, &sh, v);
    ts[1].nbytes = 12;
    CHECK_ERR(dsc_safetensors_serialize(ts, 2, NULL, 0, &buf, &len), DSC_ERR_INVALID, "has 12 bytes, expected 16");
    ts[1] = dsc_st_tensor_make("b", DSC_ST_F32, 1, &neg, v);
    CHECK_ERR(dsc_safetensors_serialize(ts, 2, NULL, 0, &buf, &len), DSC_ERR_INVALID, "tensor 'b'");
    ts[1] = dsc_st_tensor_make("b\xff", DSC_ST_F32, 1, &sh, v);
    CHECK_ERR(dsc_safetensors_serialize(ts, 2, NULL, 0, &buf, &len), DSC_ERR_INVALID, "not UTF-8");
    dsc_st_meta m[2] = {{"k", "1"}, {"k", "2"}};
    CHECK_ERR(dsc_safetensors_serialize(ts, 1, m, 2, &buf, &len), DSC_ERR_INVALID, "duplicate metadata key 'k'");
}

/* ------------------------------------------------------------------------------- hostile files */

/* A file from a header string (padded as given) and `data_len` data bytes. */
static unsigned char *mk(const char *header, size_t data_len, size_t *len)
{
    size_t n = strlen(header);
    *len = 8 + n + data_len;
    unsigned char *b = calloc(1, *len);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(b + 8, header, n);
    return b;
}

static void hostile(const char *header, size_t data_len, const char *substr, int line)
{
    size_t len;
    unsigned char *b = mk(header, data_len, &len);
    dsc_safetensors st;
    dsc_clear_error();
    dsc_status s = dsc_safetensors_read_mem(b, len, "hostile.safetensors", &st);
    if (s != DSC_ERR_FORMAT || !strstr(dsc_last_error(), substr) || !strstr(dsc_last_error(), "hostile.safetensors")) {
        fprintf(stderr, "test_io.c:%d: %s -> %s '%s'; expected format error with '%s'\n", line, header,
                dsc_status_name(s), dsc_last_error(), substr);
        dsc_test_failures++;
    }
    CHECK(st.n_tensors == 0 && st.tensors == NULL);
    dsc_safetensors_free(&st);
    free(b);
}
#define HOSTILE(h, n, sub) hostile((h), (n), (sub), __LINE__)

static void test_hostile(void)
{
    const char *ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    size_t len;
    unsigned char *b = mk(ok, 8, &len);
    dsc_safetensors st;
    CHECK_OK(dsc_safetensors_read_mem(b, len, "ok", &st));
    dsc_safetensors_free(&st);
    /* Too short, header size beyond the file or absurd. */
    CHECK_ERR(dsc_safetensors_read_mem(b, 5, "short.st", &st), DSC_ERR_FORMAT, "shorter than the 8-byte");
    b[0] = 200;
    CHECK_ERR(dsc_safetensors_read_mem(b, len, "big.st", &st), DSC_ERR_FORMAT, "truncated");
    b[0] = 0, b[1] = 0, b[2] = 0, b[3] = 0x10;
    CHECK_ERR(dsc_safetensors_read_mem(b, len, "huge.st", &st), DSC_ERR_FORMAT, "exceeds the limit");
    b[7] = 0xff;
    CHECK_ERR(dsc_safetensors_read_mem(b, len, "huge.st", &st), DSC_ERR_FORMAT, "exceeds the limit");
    free(b);
    /* Every truncation of a valid file is refused (never a crash). */
    b = mk(ok, 8, &len);
    for (size_t k = 0; k < len; k++) {
        dsc_status s = dsc_safetensors_read_mem(b, k, "cut.st", &st);
        CHECK(s == DSC_ERR_FORMAT);
        dsc_safetensors_free(&st);
    }
    /* Trailing bytes. */
    unsigned char *b2 = mk(ok, 12, &len);
    CHECK_ERR(dsc_safetensors_read_mem(b2, len, "trail.st", &st), DSC_ERR_FORMAT, "trailing bytes");
    free(b2);
    free(b);

    HOSTILE("[1,2]", 0, "does not start with '{'");
    HOSTILE("", 0, "does not start with '{'");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "expected ',' or '}'");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}x", 8, "unexpected bytes after");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "'a': data_offsets [0, 8] are out of range");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "'b': data_offsets [4, 12] overlap tensor 'a'");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "leave a gap: bytes [4, 8)");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "leave a gap");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
            "'a': shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "end before they begin");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
            "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "duplicate tensor name 'a'");
    HOSTILE("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "duplicate metadata key 'k'");
    HOSTILE("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate key '__metadata__'");
    HOSTILE("{\"__metadata__\":{\"k\":1}}", 0, "metadata value of 'k' is not a string");
    HOSTILE("{\"__metadata__\":[\"k\"]}", 0, "'__metadata__' must be an object");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "duplicate key 'dtype'");
    HOSTILE("{\"a\":{\"dtype\":\"F31\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype 'F31'");
    HOSTILE("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype must be a string");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "non-negative integers");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4, "must be integers");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 4, "leading zero");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}}", 4, "too large");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}", 4, "overflows");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, "exactly 2 entries");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 0, "'a': missing 'data_offsets'");
    HOSTILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4, "unknown key 'x'");
    HOSTILE("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1,
            "more than 16 dimensions");
    HOSTILE("{\"a\":[]}", 0, "'a': expected an object");
    HOSTILE("{\"a\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "invalid UTF-8");
    HOSTILE("{\"a\xc0\x80\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "invalid UTF-8"); /* overlong */
    HOSTILE("{\"a\xed\xa0\x80\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "invalid UTF-8"); /* surrogate */
    HOSTILE("{\"a\\ud800\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "surrogate");
    HOSTILE("{\"a\\u0000\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "NUL character");
    HOSTILE("{\"a\\x\":{}}", 0, "invalid escape");
    HOSTILE("{\"a\tb\":{}}", 0, "control character");
    HOSTILE("{\"a", 0, "unterminated string");
    HOSTILE("{\"a\":", 0, "expected an object");
    /* Accepted: escapes, whitespace, any tensor order, trailing padding. */
    const char *esc = " {\"\\u00e9\\ud83d\\ude00\\/\" : { \"shape\" : [ 1 ] , \"data_offsets\":[0,1],\"dtype\":\"U8\"}}\n\t ";
    b = mk(esc + 1, 1, &len);
    CHECK_OK(dsc_safetensors_read_mem(b, len, "esc", &st));
    CHECK(st.n_tensors == 1 && strcmp(st.tensors[0].name, "\xc3\xa9\xf0\x9f\x98\x80/") == 0);
    dsc_safetensors_free(&st);
    free(b);
}

/* Random corruption of a valid file: every outcome must be OK or a format error (ASan checks the
 * reads), and a successful parse must still describe an in-bounds, consistent file. */
static void test_corruption_sweep(void)
{
    size_t flen;
    unsigned char *file = fixture("mixed.safetensors", &flen);
    if (!file)
        return;
    unsigned char *b = malloc(flen);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    int ok = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(b, file, flen);
        for (int k = 0; k < 1 + it % 3; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t pos = (size_t)(x % (uint64_t)(it < 1500 ? 8 + 200 : flen));
            b[pos] = (unsigned char)(x >> 32);
        }
        dsc_safetensors st;
        dsc_status s = dsc_safetensors_read_mem(b, flen, "corrupt", &st);
        CHECK(s == DSC_OK || s == DSC_ERR_FORMAT);
        if (s == DSC_OK) {
            ok++;
            size_t total = 0;
            for (int i = 0; i < st.n_tensors; i++)
                total += st.tensors[i].nbytes;
            CHECK(8 + st.header_size + total == flen);
        }
        dsc_safetensors_free(&st);
    }
    CHECK(ok > 0); /* data-byte flips keep the file valid */
    free(b);
    free(file);
}

/* ------------------------------------------------------------------------------- atomic writes */

static const char *fail_stage;
static int hook(const char *stage, const char *path, void *ctx)
{
    (void)path;
    (void)ctx;
    return fail_stage && strcmp(stage, fail_stage) == 0;
}

static int count_tmp_files(void)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += strstr(de->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    return n;
}

static void test_atomic(void)
{
    const char *p = tmp_path("atomic.txt");
    CHECK_OK(dsc_atomic_write_bytes(p, "old", 3));
    size_t len;
    char *c = slurp(p, &len);
    CHECK(c && len == 3 && memcmp(c, "old", 3) == 0);
    free(c);
    static const char *const stages[] = {"open", "write", "flush", "fsync", "rename"};
    dsc_atomic_set_fail_hook(hook, NULL);
    for (int i = 0; i < 5; i++) {
        fail_stage = stages[i];
        CHECK_ERR(dsc_atomic_write_bytes(p, "new content", 11), DSC_ERR_IO, "atomic.txt");
        c = slurp(p, &len);
        CHECK(c && len == 3 && memcmp(c, "old", 3) == 0);
        free(c);
        CHECK(count_tmp_files() == 0);
    }
    /* A safetensors write failing late leaves the old file too. */
    fail_stage = "rename";
    float v = 1;
    dsc_st_tensor t = dsc_st_tensor_make("x", DSC_ST_F32, 0, NULL, &v);
    CHECK_ERR(dsc_safetensors_write_file(p, &t, 1, NULL, 0), DSC_ERR_IO, "cannot rename");
    c = slurp(p, &len);
    CHECK(c && len == 3 && memcmp(c, "old", 3) == 0);
    free(c);
    fail_stage = NULL;
    dsc_atomic_set_fail_hook(NULL, NULL);
    CHECK(count_tmp_files() == 0);
    /* A directory that does not exist: nothing created. */
    CHECK_ERR(dsc_atomic_write_bytes(tmp_path("no/such/dir/f"), "x", 1), DSC_ERR_IO, "cannot create the temporary file");
    CHECK_OK(dsc_atomic_write_bytes(p, "new", 3));
    c = slurp(p, &len);
    CHECK(c && len == 3 && memcmp(c, "new", 3) == 0);
    free(c);
}

/* ------------------------------------------------------------------------------- checkpoints */

typedef struct warn_log {
    int n;
    char last[2048];
} warn_log;

static void on_warn(const char *msg, void *ctx)
{
    warn_log *w = ctx;
    w->n++;
    snprintf(w->last, sizeof w->last, "%s", msg);
}

static dsc_status save_epoch(const char *run, int64_t e, int keep)
{
    float w[6];
    for (int i = 0; i < 6; i++)
        w[i] = (float)(e * 10 + i);
    int64_t sh[2] = {2, 3};
    int64_t step = e * 100;
    dsc_st_tensor ts[2] = {dsc_st_tensor_make("fc.weight", DSC_ST_F32, 2, sh, w),
                           dsc_st_tensor_make("train.step", DSC_ST_I64, 0, NULL, &step)};
    dsc_st_meta m = {"model", "mlp:3-2"};
    return dsc_checkpoint_save(run, e, step, ts, 2, &m, 1, keep, NULL, 0);
}

static void test_checkpoints(void)
{
    char run[600];
    snprintf(run, sizeof run, "%s", tmp_path("run1"));
    dsc_safetensors st;
    warn_log wl = {0};
    CHECK_ERR(dsc_checkpoint_load_latest(run, on_warn, &wl, &st, NULL, 0, NULL, NULL), DSC_ERR_IO, "no checkpoint found");
    for (int e = 1; e <= 5; e++)
        CHECK_OK(save_epoch(run, e, 3));
    dsc_checkpoint_entry *v;
    int n;
    CHECK_OK(dsc_checkpoint_list(run, &v, &n));
    CHECK(n == 3);
    if (n == 3)
        CHECK(v[0].epoch == 3 && v[2].epoch == 5 && v[2].step == 500 &&
              strstr(v[2].path, "/checkpoints/ckpt-epoch0005-step000000500.safetensors"));
    free(v);
    char lp[700], path[1024];
    snprintf(lp, sizeof lp, "%s/checkpoints/latest", run);
    size_t len;
    char *c = slurp(lp, &len);
    CHECK(c && len == strlen("ckpt-epoch0005-step000000500.safetensors\n") &&
          memcmp(c, "ckpt-epoch0005-step000000500.safetensors\n", len) == 0);
    free(c);
    /* Reserved metadata keys. */
    dsc_st_meta bad = {"descent.epoch", "9"};
    CHECK_ERR(dsc_checkpoint_save(run, 9, 9, NULL, 0, &bad, 1, 0, NULL, 0), DSC_ERR_INVALID, "reserved");

    int64_t e = -1, s = -1;
    CHECK_OK(dsc_checkpoint_load_latest(run, on_warn, &wl, &st, path, sizeof path, &e, &s));
    CHECK(e == 5 && s == 500 && wl.n == 0);
    CHECK(strcmp(dsc_safetensors_meta(&st, "descent.epoch"), "5") == 0);
    CHECK(strcmp(dsc_safetensors_meta(&st, "model"), "mlp:3-2") == 0);
    float w[6];
    int64_t sh[2] = {2, 3};
    CHECK_OK(dsc_safetensors_get(&st, path, "fc.weight", DSC_ST_F32, 2, sh, w));
    CHECK(w[5] == 55.0f);
    dsc_safetensors_free(&st);

    /* Truncate the newest: it is skipped with a warning naming it; epoch 4 loads. */
    unsigned char *f5 = slurp(path, &len);
    spit(path, f5, len - 3);
    CHECK_OK(dsc_checkpoint_load_latest(run, on_warn, &wl, &st, NULL, 0, &e, &s));
    CHECK(e == 4 && wl.n == 1 && strstr(wl.last, "ckpt-epoch0005") && strstr(wl.last, "out of range"));
    dsc_safetensors_free(&st);
    /* Flip a data byte of epoch 4 (structure still valid): the checksum catches it; epoch 3 loads. */
    char p4[1024];
    snprintf(p4, sizeof p4, "%s/checkpoints/ckpt-epoch0004-step000000400.safetensors", run);
    unsigned char *f4 = slurp(p4, &len);
    CHECK(f4 != NULL);
    if (f4) {
        f4[len - 9] ^= 0x40; /* inside fc.weight (the last tensor: F32 after the I64) */
        spit(p4, f4, len);
        CHECK_ERR(dsc_checkpoint_load(p4, &st), DSC_ERR_FORMAT, "checksum mismatch");
    }
    wl.n = 0;
    CHECK_OK(dsc_checkpoint_load_latest(run, on_warn, &wl, &st, NULL, 0, &e, &s));
    CHECK(e == 3 && s == 300 && wl.n == 2 && strstr(wl.last, "checksum mismatch"));
    dsc_safetensors_free(&st);
    /* Saving again after a resume from epoch 3 replaces 4 and 5's place in the order. */
    CHECK_OK(save_epoch(run, 4, 2));
    CHECK_OK(dsc_checkpoint_list(run, &v, &n));
    CHECK(n == 2 && v[0].epoch == 4 && v[1].epoch == 5); /* the corrupt 5 still sorts last */
    free(v);
    free(f4);
    free(f5);
    /* keep 0 keeps all; prune explicitly. */
    char run2[600];
    snprintf(run2, sizeof run2, "%s", tmp_path("run2"));
    CHECK_OK(save_epoch(run2, 0, 0));
    /* A temporary file of a dead process (pid beyond the kernel's maximum) is cleaned up. */
    snprintf(path, sizeof path, "%s/checkpoints/ckpt-epoch0001-step000000100.safetensors.tmp.999999999", run2);
    spit(path, "partial", 7);
    for (int k = 1; k < 4; k++)
        CHECK_OK(save_epoch(run2, k, 0));
    CHECK(access(path, F_OK) != 0);
    CHECK_OK(dsc_checkpoint_list(run2, &v, &n));
    CHECK(n == 4);
    free(v);
    CHECK_OK(dsc_checkpoint_prune(run2, 1));
    CHECK_OK(dsc_checkpoint_list(run2, &v, &n));
    CHECK(n == 1 && v[0].epoch == 3);
    free(v);
    /* All corrupt. */
    snprintf(path, sizeof path, "%s/checkpoints/ckpt-epoch0003-step000000300.safetensors", run2);
    spit(path, "garbage", 7);
    wl.n = 0;
    CHECK_ERR(dsc_checkpoint_load_latest(run2, on_warn, &wl, &st, NULL, 0, NULL, NULL), DSC_ERR_IO,
              "none of the 1 checkpoints");
    CHECK(wl.n == 1);
    /* A run directory that is a file. */
    CHECK_ERR(save_epoch(lp, 1, 0), DSC_ERR_IO, "latest");
}

/* What descent writes loads into the PyTorch twin (tools/gen_safetensors_fixture.py --check):
 * C names only (no num_batches_tracked), float32 formula values. Skipped without torch. */
static void test_torch_load(void)
{
    if (getenv("DSC_TEST_NO_PYTHON") || access("/usr/bin/python3", X_OK) != 0 ||
        system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
        printf("  (skipped: no /usr/bin/python3 with torch)\n");
        return;
    }
    float *vals[N_MLP_BN] = {0};
    dsc_st_tensor ts[N_MLP_BN];
    int n = 0;
    for (int k = 0; k < N_MLP_BN; k++) {
        if (mlp_bn[k].ndim == 0)
            continue;
        vals[k] = ffill(k, mlp_bn[k].shape[0] * (mlp_bn[k].ndim == 2 ? mlp_bn[k].shape[1] : 1));
        ts[n++] = dsc_st_tensor_make(mlp_bn[k].name, DSC_ST_F32, mlp_bn[k].ndim, mlp_bn[k].shape, vals[k]);
    }
    const char *p = tmp_path("descent_mlp_bn.safetensors");
    CHECK_OK(dsc_safetensors_write_file(p, ts, n, NULL, 0));
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tools/gen_safetensors_fixture.py --check %s", dsc_test_source_dir(),
             p);
    CHECK(system(cmd) == 0);
    for (int k = 0; k < N_MLP_BN; k++)
        free(vals[k]);
}

static void cleanup(void)
{
    char cmd[400];
    if (strncmp(tmpdir, "/tmp/dsc_test_io_", 17) == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

DSC_TEST_MAIN("io", TEST(test_dtypes_crc), TEST(test_reference_vectors), TEST(test_fixture_mlp_bn),
              TEST(test_fixture_mixed), TEST(test_roundtrip_all_dtypes), TEST(test_writer_validation),
              TEST(test_hostile), TEST(test_corruption_sweep), TEST(test_atomic), TEST(test_checkpoints),
              TEST(test_torch_load), TEST(cleanup))
