/* Data layer: spec parser, readers (valid, truncated, corrupt, hostile input), embedded sets,
 * named IDX sets, generators, conversions. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testing.h"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/dsc_test_data_XXXXXX");
        if (!mkdtemp(tmpdir))
            snprintf(tmpdir, sizeof tmpdir, "/tmp");
    }
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static const char *write_file(const char *name, const void *data, size_t len)
{
    const char *p = tmp_path(name);
    FILE *f = fopen(p, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", p);
        dsc_test_failures++;
        return p;
    }
    fwrite(data, 1, len, f);
    fclose(f);
    return p;
}
static const char *write_text(const char *name, const char *text) { return write_file(name, text, strlen(text)); }

static dsc_data_opts opts(void)
{
    dsc_data_opts o;
    dsc_data_opts_init(&o);
    return o;
}

/* ------------------------------------------------------------------------------------------ spec */

static void test_spec_parse(void)
{
    dsc_kvspec s;
    CHECK_OK(dsc_kvspec_parse("spirals:n=1000, noise = 0.1 ,flag=yes", &s));
    CHECK(strcmp(s.name, "spirals") == 0);
    CHECK(s.n_items == 3);
    CHECK(strcmp(dsc_kvspec_find(&s, "noise"), "0.1") == 0);
    int64_t n;
    double noise;
    int flag;
    CHECK_OK(dsc_kvspec_int(&s, "n", 5, 1, 100000, &n));
    CHECK(n == 1000);
    CHECK_OK(dsc_kvspec_double(&s, "noise", 0, 0, 1, &noise));
    CHECK(noise == 0.1);
    CHECK_OK(dsc_kvspec_bool(&s, "flag", 0, &flag));
    CHECK(flag == 1);
    CHECK_OK(dsc_kvspec_int(&s, "absent", 7, 0, 10, &n));
    CHECK(n == 7);
    static const char *const keys[] = {"n", "noise", "flag", NULL};
    CHECK_OK(dsc_kvspec_check(&s, keys, 0));
    static const char *const fewer[] = {"n", "noise", NULL};
    CHECK_ERR(dsc_kvspec_check(&s, fewer, 0), DSC_ERR_INVALID, "unknown key 'flag' (valid keys: n, noise)");
    CHECK_ERR(dsc_kvspec_double(&s, "noise", 0, 0.5, 1, &noise), DSC_ERR_RANGE, "spirals: noise=0.1 is out of range");
    CHECK_ERR(dsc_kvspec_bool(&s, "n", 0, &flag), DSC_ERR_INVALID, "n=1000 is not a boolean");
    dsc_kvspec_free(&s);

    /* Name only, positional values, values with ':' and '='. */
    CHECK_OK(dsc_kvspec_parse("digits", &s));
    CHECK(strcmp(s.name, "digits") == 0 && s.n_items == 0);
    dsc_kvspec_free(&s);
    CHECK_OK(dsc_kvspec_parse("mlp:784-256-10,act=relu,path=a:b=c", &s));
    CHECK(dsc_kvspec_n_positional(&s) == 1);
    CHECK(strcmp(dsc_kvspec_positional(&s, 0), "784-256-10") == 0);
    CHECK(dsc_kvspec_positional(&s, 1) == NULL);
    CHECK(strcmp(dsc_kvspec_find(&s, "path"), "a:b=c") == 0);
    static const char *const mk[] = {"act", "path", NULL};
    CHECK_OK(dsc_kvspec_check(&s, mk, 1));
    CHECK_ERR(dsc_kvspec_check(&s, mk, 0), DSC_ERR_INVALID, "unexpected value '784-256-10'");
    static const char *const acts[] = {"tanh", "relu", NULL};
    int ci;
    CHECK_OK(dsc_kvspec_choice(&s, "act", acts, 0, &ci));
    CHECK(ci == 1);
    CHECK_ERR(dsc_kvspec_choice(&s, "path", acts, 0, &ci), DSC_ERR_INVALID, "valid: tanh, relu");
    dsc_kvspec_free(&s);

    /* Integers: hex, exact scientific; errors. */
    CHECK_OK(dsc_kvspec_parse("x:a=1e5,b=0x10,c=2.5,d=abc,e=1e400,f=-3", &s));
    CHECK_OK(dsc_kvspec_int(&s, "a", 0, 0, INT64_MAX, &n));
    CHECK(n == 100000);
    CHECK_OK(dsc_kvspec_int(&s, "b", 0, 0, INT64_MAX, &n));
    CHECK(n == 16);
    CHECK_ERR(dsc_kvspec_int(&s, "c", 0, 0, 10, &n), DSC_ERR_INVALID, "x: c=2.5 is not an integer");
    CHECK_ERR(dsc_kvspec_double(&s, "d", 0, 0, 10, &noise), DSC_ERR_INVALID, "x: d=abc is not a number");
    CHECK_ERR(dsc_kvspec_double(&s, "e", 0, -1e300, 1e300, &noise), DSC_ERR_RANGE, "not a finite number");
    CHECK_ERR(dsc_kvspec_int(&s, "f", 0, 0, 10, &n), DSC_ERR_RANGE, "x: f=-3 is out of range [0, 10]");
    dsc_kvspec_free(&s);

    /* Grammar errors. */
    CHECK_ERR(dsc_kvspec_parse("a:n=1,n=2", &s), DSC_ERR_INVALID, "key 'n' given twice");
    dsc_kvspec_free(&s);
    CHECK_ERR(dsc_kvspec_parse("a:n=", &s), DSC_ERR_INVALID, "key 'n' has an empty value");
    dsc_kvspec_free(&s);
    CHECK_ERR(dsc_kvspec_parse("a:n=1,,m=2", &s), DSC_ERR_INVALID, "empty item at position 7");
    dsc_kvspec_free(&s);
    CHECK_ERR(dsc_kvspec_parse("a:", &s), DSC_ERR_INVALID, "nothing after ':'");
    dsc_kvspec_free(&s);
    CHECK_ERR(dsc_kvspec_parse("a:1x=2", &s), DSC_ERR_INVALID, "invalid key '1x'");
    dsc_kvspec_free(&s);
    char big[1024] = "a:";
    for (int i = 0; i < 70; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "k%d=1,", i);
    big[strlen(big) - 1] = '\0';
    CHECK_ERR(dsc_kvspec_parse(big, &s), DSC_ERR_INVALID, "more than 64 items");
    dsc_kvspec_free(&s);
}

/* ------------------------------------------------------------------------------------------ CSV */

static void test_csv_valid(void)
{
    dsc_data_opts o = opts();
    dsc_dataset ds;
    const char *p = write_text("a.csv", "x1,x2,label\r\n1.5,-2,0\r\n\r\n3,4e-3,2\n0.1,7,1\n");
    CHECK_OK(dsc_dataset_load(p, NULL, NULL, &ds));
    CHECK(ds.n == 3 && ds.d == 2 && ds.num_classes == 3 && !ds.sparse && ds.dtype == DSC_DATA_F32);
    CHECK(ds.x[0] == 1.5f && ds.x[1] == -2.0f && ds.x[2] == 3.0f && ds.x[3] == 4e-3f && ds.x[4] == 0.1f);
    CHECK(ds.y[0] == 0 && ds.y[1] == 2 && ds.y[2] == 1);
    CHECK(ds.feature_names && strcmp(ds.feature_names[1], "x2") == 0);
    CHECK(strcmp(ds.name, "a.csv") == 0);
    dsc_dataset_free(&ds);

    /* float64, label by name, as a regression target. */
    o.dtype = DSC_DATA_F64;
    CHECK_ERR(dsc_dataset_load_opts("nonexistent-dir/a.csv", &o, &ds), DSC_ERR_IO, "nonexistent-dir/a.csv: no such file");
    o.csv_label = "x1";
    o.task = DSC_TASK_REGRESSION;
    CHECK_OK(dsc_dataset_load_opts(p, &o, &ds));
    CHECK(ds.d == 2 && ds.num_classes == 0 && ds.x64 && ds.y64);
    CHECK(ds.y64[0] == 1.5 && ds.y64[2] == 0.1 && ds.x64[0] == -2 && ds.x64[1] == 0 && ds.x64[5] == 1);
    dsc_dataset_free(&ds);

    /* Options in the spec: label by index, no header, label=none. */
    const char *q = write_text("b.csv", "1,2,3\n4,5,6\n");
    char spec[600];
    snprintf(spec, sizeof spec, "%s:label=0", q);
    CHECK_OK(dsc_dataset_load(spec, NULL, NULL, &ds));
    CHECK(ds.n == 2 && ds.d == 2 && ds.y[1] == 4 && ds.x[0] == 2 && ds.x[3] == 6 && !ds.feature_names);
    CHECK(ds.num_classes == 5);
    dsc_dataset_free(&ds);
    snprintf(spec, sizeof spec, "%s:label=none", q);
    CHECK_OK(dsc_dataset_load(spec, NULL, NULL, &ds));
    CHECK(ds.d == 3 && !ds.y && ds.x[5] == 6);
    dsc_dataset_free(&ds);
    snprintf(spec, sizeof spec, "%s:label=-2,task=regression", q);
    CHECK_OK(dsc_dataset_load(spec, NULL, NULL, &ds));
    CHECK(ds.num_classes == 0 && ds.y[0] == 2 && ds.x[1] == 3);
    dsc_dataset_free(&ds);
    snprintf(spec, sizeof spec, "%s:lable=1", q);
    CHECK_ERR(dsc_dataset_load(spec, NULL, NULL, &ds), DSC_ERR_INVALID, "unknown key 'lable'");
    /* Non-integral labels read as regression. */
    CHECK_OK(dsc_dataset_load(write_text("r.csv", "1,0.5\n2,1.25\n"), NULL, NULL, &ds));
    CHECK(ds.num_classes == 0 && ds.y[1] == 1.25f);
    dsc_dataset_free(&ds);
}

static void test_csv_errors(void)
{
    dsc_dataset ds;
    CHECK_ERR(dsc_dataset_load(write_text("rag.csv", "1,2,0\n3,4,1\n5,6\n"), NULL, NULL, &ds), DSC_ERR_FORMAT,
              "rag.csv:3: 2 fields, expected 3 (as in line 1)");
    CHECK_ERR(dsc_dataset_load(write_text("nn.csv", "a,b,c\n1,2,0\n3,x4,1\n"), NULL, NULL, &ds), DSC_ERR_FORMAT,
              "nn.csv:3: field 2 ('x4') is not a number");
    CHECK_ERR(dsc_dataset_load(write_text("empty.csv", "1,,0\n"), NULL, NULL, &ds), DSC_ERR_FORMAT,
              "empty.csv:1: field 2 ('') is empty");
    CHECK_ERR(dsc_dataset_load(write_text("nan.csv", "1,nan,0\n"), NULL, NULL, &ds), DSC_ERR_FORMAT,
              "field 2 ('nan') is not a finite number");
    CHECK_ERR(dsc_dataset_load(write_text("hdr.csv", "a,b\n"), NULL, NULL, &ds), DSC_ERR_FORMAT, "no data lines");
    CHECK_ERR(dsc_dataset_load(write_text("none.csv", "\n\n"), NULL, NULL, &ds), DSC_ERR_FORMAT, "no data lines");
    dsc_data_opts o = opts();
    o.csv_label = "zz";
    CHECK_ERR(dsc_dataset_load_opts(write_text("n2.csv", "a,b\n1,2\n"), &o, &ds), DSC_ERR_INVALID,
              "no column named 'zz' (columns: a, b)");
    o.csv_label = "5";
    CHECK_ERR(dsc_dataset_load_opts(tmp_path("n2.csv"), &o, &ds), DSC_ERR_RANGE, "label column 5 is out of range");
    o.csv_label = NULL;
    o.csv_header = 0;
    CHECK_ERR(dsc_dataset_load_opts(tmp_path("n2.csv"), &o, &ds), DSC_ERR_FORMAT, "n2.csv:1: field 1 ('a')");
    /* A UTF-8 byte-order mark before the header. */
    dsc_data_opts ob = opts();
    ob.csv_label = "a";
    CHECK_OK(dsc_dataset_load_opts(write_text("bom.csv", "\xEF\xBB\xBF" "a,b\n1,2\n"), &ob, &ds));
    CHECK(ds.n == 1 && ds.y[0] == 1 && ds.x[0] == 2);
    dsc_dataset_free(&ds);
    CHECK_OK(dsc_dataset_load(write_text("bom2.csv", "\xEF\xBB\xBF" "1,2\n3,4\n"), NULL, NULL, &ds));
    CHECK(ds.n == 2 && ds.x[0] == 1 && ds.y[1] == 4);
    dsc_dataset_free(&ds);
    /* From memory, not NUL-terminated: the number at the very end of the buffer. */
    char mem[8] = {'1', ',', '2', '\n', '3', ',', '4', '5'};
    CHECK_OK(dsc_csv_read_mem(mem, sizeof mem, "mem", NULL, &ds));
    CHECK(ds.n == 2 && ds.y[1] == 45);
    dsc_dataset_free(&ds);
    CHECK(ds.x == NULL); /* free zeroes */
}

/* ---------------------------------------------------------------------------------------- LIBSVM */

static void test_libsvm(void)
{
    dsc_dataset ds;
    dsc_data_opts o = opts();
    o.layout = DSC_LAYOUT_NATIVE;
    o.dtype = DSC_DATA_F64;
    char p[512];
    snprintf(p, sizeof p, "%s", write_text("a.libsvm", "# a comment line\n+1 1:0.5 3:2\n-1 qid:3 2:1.5 # trailing\n\n+1 4:-1e-2\n"));
    CHECK_OK(dsc_dataset_load_opts(p, &o, &ds));
    CHECK(ds.sparse && ds.n == 3 && ds.d == 4 && ds.nnz == 4 && ds.num_classes == 2);
    CHECK(ds.row_ptr[0] == 0 && ds.row_ptr[1] == 2 && ds.row_ptr[2] == 3 && ds.row_ptr[3] == 4);
    CHECK(ds.col_idx[0] == 0 && ds.col_idx[1] == 2 && ds.col_idx[2] == 1 && ds.col_idx[3] == 3);
    CHECK(ds.val64[0] == 0.5 && ds.val64[1] == 2 && ds.val64[2] == 1.5 && ds.val64[3] == -1e-2);
    CHECK(ds.y64[0] == 1 && ds.y64[1] == 0 && ds.y64[2] == 1);
    CHECK(ds.class_values && ds.class_values[0] == -1 && ds.class_values[1] == 1);
    double pm[3];
    CHECK_OK(dsc_dataset_labels_pm1(&ds, pm));
    CHECK(pm[0] == 1 && pm[1] == -1 && pm[2] == 1);
    CHECK(dsc_dataset_value(&ds, 0, 2) == 2 && dsc_dataset_value(&ds, 0, 1) == 0 && dsc_dataset_value(&ds, 2, 3) == -1e-2);
    dsc_dataset_free(&ds);

    /* Dense float32 (default layout), n_features option. */
    char spec[600];
    snprintf(spec, sizeof spec, "%s:n_features=6", p);
    CHECK_OK(dsc_dataset_load(spec, NULL, NULL, &ds));
    CHECK(!ds.sparse && ds.d == 6 && ds.x[0] == 0.5f && ds.x[2] == 2 && ds.x[6 + 1] == 1.5f && ds.x[12 + 3] == -1e-2f);
    dsc_dataset_free(&ds);
    /* Multi-class labels 1..3 map to classes 0..2; real labels are regression. */
    CHECK_OK(dsc_dataset_load(write_text("m.svm", "3 1:1\n1 2:1\n2 1:2\n"), NULL, NULL, &ds));
    CHECK(ds.num_classes == 3 && ds.y[0] == 2 && ds.y[1] == 0 && ds.class_values[2] == 3);
    dsc_dataset_free(&ds);
    CHECK_OK(dsc_dataset_load(write_text("r.svm", "0.5 1:1\n-2.25 2:1\n"), NULL, NULL, &ds));
    CHECK(ds.num_classes == 0 && ds.y[1] == -2.25f);
    dsc_dataset_free(&ds);

    CHECK_ERR(dsc_dataset_load(write_text("z.svm", "1 1:1\n1 0:3\n"), NULL, NULL, &ds), DSC_ERR_FORMAT,
              "z.svm:2: '0:3' has index 0, but LIBSVM indices are 1-based");
    CHECK_ERR(dsc_dataset_load(write_text("dec.svm", "1 3:1 2:1\n"), NULL, NULL, &ds), DSC_ERR_FORMAT,
              "dec.svm:1: '2:1' has index 2 after index 3 (indices must increase)");
    CHECK_ERR(dsc_dataset_load(write_text("dup.svm", "1 3:1 3:1\n"), NULL, NULL, &ds), DSC_ERR_FORMAT,
              "has index 3 after index 3");
    CHECK_ERR(dsc_dataset_load(write_text("col.svm", "1 3:1 4\n"), NULL, NULL, &ds), DSC_ERR_FORMAT,
              "col.svm:1: '4' is missing ':'");
    CHECK_ERR(dsc_dataset_load(write_text("val.svm", "1 3:x\n"), NULL, NULL, &ds), DSC_ERR_FORMAT,
              "'3:x' has a value that is not a finite number");
    CHECK_ERR(dsc_dataset_load(write_text("lab.svm", "one 3:1\n"), NULL, NULL, &ds), DSC_ERR_FORMAT,
              "lab.svm:1: 'one' is not a numeric label");
    CHECK_ERR(dsc_dataset_load(write_text("big.svm", "1 99999999999:1\n"), NULL, NULL, &ds), DSC_ERR_FORMAT,
              "beyond the");
    /* A tiny file with a huge index: fine as CSR, refused (not attempted) as 8 GB dense. */
    CHECK_ERR(dsc_dataset_load(write_text("wide.svm", "1 2147483647:1\n"), NULL, NULL, &ds), DSC_ERR_NOMEM,
              "exceed the size limit");
    CHECK_OK(dsc_dataset_load_opts(tmp_path("wide.svm"), &o, &ds));
    CHECK(ds.sparse && ds.d == 2147483647 && ds.nnz == 1 && ds.col_idx[0] == 2147483646);
    dsc_dataset_free(&ds);
    snprintf(spec, sizeof spec, "%s:n_features=2", p);
    CHECK_ERR(dsc_dataset_load(spec, NULL, NULL, &ds), DSC_ERR_FORMAT, "'3:2' has index 3 beyond the 2 features");
    CHECK_ERR(dsc_dataset_load(write_text("e.svm", "# nothing\n"), NULL, NULL, &ds), DSC_ERR_FORMAT, "no data lines");
}

/* ------------------------------------------------------------------------------------------ IDX */

static size_t idx_make(unsigned char *b, int type, int ndim, const uint32_t *dims, const void *data, size_t dlen)
{
    b[0] = 0;
    b[1] = 0;
    b[2] = (unsigned char)type;
    b[3] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++) {
        b[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        b[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        b[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        b[7 + 4 * i] = (unsigned char)dims[i];
    }
    memcpy(b + 4 + 4 * ndim, data, dlen);
    return 4 + 4 * (size_t)ndim + dlen;
}

static void test_idx(void)
{
    unsigned char b[256];
    dsc_array a;
    uint32_t dims[3] = {2, 2, 3};
    unsigned char px[12] = {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255};
    size_t len = idx_make(b, 0x08, 3, dims, px, 12);
    CHECK_OK(dsc_idx_read_mem(b, len, "img", DSC_DATA_F32, &a));
    CHECK(a.ndim == 3 && a.dim[0] == 2 && a.dim[1] == 2 && a.dim[2] == 3 && a.numel == 12);
    CHECK(((float *)a.data)[5] == 5 && ((float *)a.data)[11] == 255);
    dsc_array_free(&a);
    /* Big-endian int16 and float64. */
    uint32_t d1[1] = {2};
    unsigned char s16[4] = {0xff, 0xfe, 0x01, 0x00};
    len = idx_make(b, 0x0B, 1, d1, s16, 4);
    CHECK_OK(dsc_idx_read_mem(b, len, "s16", DSC_DATA_F64, &a));
    CHECK(((double *)a.data)[0] == -2 && ((double *)a.data)[1] == 256);
    dsc_array_free(&a);
    unsigned char f64[8] = {0x3f, 0xf8, 0, 0, 0, 0, 0, 0}; /* 1.5 */
    len = idx_make(b, 0x0E, 1, (uint32_t[]){1}, f64, 8);
    CHECK_OK(dsc_idx_read_mem(b, len, "f64", DSC_DATA_F64, &a));
    CHECK(((double *)a.data)[0] == 1.5);
    dsc_array_free(&a);

    /* Hostile: huge dims with a tiny file (no allocation may happen), wrong magic, bad type, short
     * data, trailing bytes, truncated header, zero dims. */
    uint32_t huge[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
    len = idx_make(b, 0x08, 3, huge, px, 12);
    CHECK_ERR(dsc_idx_read_mem(b, len, "huge", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "huge: IDX dimensions overflow");
    uint32_t big2[2] = {0x7fffffffu, 0x10u};
    len = idx_make(b, 0x08, 2, big2, px, 12);
    CHECK_ERR(dsc_idx_read_mem(b, len, "big", DSC_DATA_F32, &a), DSC_ERR_FORMAT,
              "declares 2147483647 x 16 elements of 1 bytes, but the file has 12 data bytes");
    len = idx_make(b, 0x08, 3, dims, px, 12);
    b[1] = 8;
    CHECK_ERR(dsc_idx_read_mem(b, len, "magic", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "magic: not an IDX file");
    b[1] = 0;
    b[2] = 0x07;
    CHECK_ERR(dsc_idx_read_mem(b, len, "type", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "byte 2 (element type) is 0x07");
    b[2] = 0x08;
    CHECK_ERR(dsc_idx_read_mem(b, len - 1, "short", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "truncated or wrong dimensions");
    CHECK_ERR(dsc_idx_read_mem(b, 9, "hdr", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "IDX header truncated");
    CHECK_ERR(dsc_idx_read_mem(b, 3, "tiny", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "too short");
    b[len] = 7;
    CHECK_ERR(dsc_idx_read_mem(b, len + 1, "trail", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "trailing bytes");
    b[3] = 0;
    CHECK_ERR(dsc_idx_read_mem(b, len, "nd0", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "number of dimensions) is 0");
    CHECK(a.data == NULL);
    /* A file that is missing. */
    CHECK_ERR(dsc_idx_read_file(tmp_path("missing.idx"), DSC_DATA_F32, 0, &a), DSC_ERR_IO, "cannot open");
}

/* ----------------------------------------------------------------------------------------- gzip */

static const unsigned char gz_csv[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\x33\xd4\x31\xe2\x32\xd6\x31\xe1\x02"
                                      "\x00\x47\x93\x6c\xaf\x08\x00\x00\x00";

static void test_gzip(void)
{
    dsc_dataset ds;
    void *out;
    size_t olen;
    dsc_status st = dsc_data_gunzip(gz_csv, sizeof gz_csv - 1, "mem.gz", 0, &out, &olen);
    if (st == DSC_ERR_UNSUPPORTED) {
        printf("  (no zlib in this build: checking the message only)\n");
        CHECK(strstr(dsc_last_error(), "no zlib") != NULL);
        CHECK_ERR(dsc_dataset_load(write_file("g.csv.gz", gz_csv, sizeof gz_csv - 1), NULL, NULL, &ds),
                  DSC_ERR_UNSUPPORTED, "g.csv.gz: the file is gzip-compressed");
        return;
    }
    CHECK_OK(st);
    CHECK(olen == 8 && memcmp(out, "1,2\n3,4\n", 8) == 0);
    free(out);
    CHECK_OK(dsc_dataset_load(write_file("g.csv.gz", gz_csv, sizeof gz_csv - 1), NULL, NULL, &ds));
    CHECK(ds.n == 2 && ds.d == 1 && ds.x[1] == 3 && ds.y[1] == 4);
    dsc_dataset_free(&ds);
    /* Truncated and corrupt gzip, and the decompressed-size cap (a gzip bomb is refused). */
    CHECK_ERR(dsc_data_gunzip(gz_csv, 20, "trunc.gz", 0, &out, &olen), DSC_ERR_FORMAT, "trunc.gz: truncated gzip");
    unsigned char bad[sizeof gz_csv];
    memcpy(bad, gz_csv, sizeof bad);
    bad[10] = 0xff;
    CHECK_ERR(dsc_data_gunzip(bad, sizeof bad - 1, "bad.gz", 0, &out, &olen), DSC_ERR_FORMAT, "bad.gz: corrupt gzip");
    CHECK_ERR(dsc_data_gunzip(gz_csv, sizeof gz_csv - 1, "cap.gz", 4, &out, &olen), DSC_ERR_NOMEM, "size limit");
}

/* ----------------------------------------------------------------------------------------- .npy */

static size_t npy_make(unsigned char *b, int major, const char *dict, const void *data, size_t dlen)
{
    size_t off = major == 1 ? 10 : 12, hl = strlen(dict);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = 0;
    b[8] = (unsigned char)(hl & 0xff);
    b[9] = (unsigned char)(hl >> 8);
    if (major != 1) {
        b[10] = 0;
        b[11] = 0;
    }
    memcpy(b + off, dict, hl);
    memcpy(b + off + hl, data, dlen);
    return off + hl + dlen;
}

static void test_npy(void)
{
    unsigned char b[512];
    dsc_array a;
    unsigned char u8[6] = {1, 2, 3, 4, 5, 255};
    size_t len = npy_make(b, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }   \n", u8, 6);
    CHECK_OK(dsc_npy_read_mem(b, len, "u8", DSC_DATA_F32, &a));
    CHECK(a.ndim == 2 && a.dim[0] == 2 && a.dim[1] == 3 && ((float *)a.data)[5] == 255);
    dsc_array_free(&a);
    int32_t i4[2] = {-7, 1 << 20};
    len = npy_make(b, 2, "{\"descr\": \"<i4\", \"shape\": (2,), \"fortran_order\": False}\n", i4, 8);
    CHECK_OK(dsc_npy_read_mem(b, len, "i4v2", DSC_DATA_F64, &a));
    CHECK(a.ndim == 1 && ((double *)a.data)[0] == -7 && ((double *)a.data)[1] == 1048576);
    dsc_array_free(&a);
    int64_t i8[1] = {-123456789012LL};
    len = npy_make(b, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }\n", i8, 8);
    CHECK_OK(dsc_npy_read_mem(b, len, "i8", DSC_DATA_F64, &a));
    CHECK(((double *)a.data)[0] == -123456789012.0);
    dsc_array_free(&a);

    /* Round trip through dsc_npy_write, then dsc_dataset_load with a labels companion. */
    double x[6] = {0.1, -2, 3e-300, 4, 5, 6};
    CHECK_OK(dsc_npy_write(tmp_path("f.npy"), x, DSC_DATA_F64, 3, 2));
    double y[3] = {0, 1, 1};
    CHECK_OK(dsc_npy_write(tmp_path("f.labels.npy"), y, DSC_DATA_F64, 3, 0));
    dsc_data_opts o = opts();
    o.dtype = DSC_DATA_F64;
    dsc_dataset ds;
    CHECK_OK(dsc_dataset_load_opts(tmp_path("f.npy"), &o, &ds));
    CHECK(ds.n == 3 && ds.d == 2 && ds.x64[0] == 0.1 && ds.x64[2] == 3e-300 && ds.num_classes == 2 && ds.y64[2] == 1);
    dsc_dataset_free(&ds);
    float xf[4] = {1.25f, 2, 3, 4};
    CHECK_OK(dsc_npy_write(tmp_path("g.npy"), xf, DSC_DATA_F32, 4, 0));
    CHECK_OK(dsc_dataset_load(tmp_path("g.npy"), NULL, NULL, &ds));
    CHECK(ds.n == 4 && ds.d == 1 && ds.x[0] == 1.25f && ds.y == NULL);
    dsc_dataset_free(&ds);

    /* Hostile and unsupported headers. */
    float f4[4] = {0};
    len = npy_make(b, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }\n", f4, 16);
    CHECK_ERR(dsc_npy_read_mem(b, len, "fo", DSC_DATA_F32, &a), DSC_ERR_UNSUPPORTED, "fo: fortran_order is True");
    len = npy_make(b, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }\n", f4, 16);
    CHECK_ERR(dsc_npy_read_mem(b, len, "be", DSC_DATA_F32, &a), DSC_ERR_UNSUPPORTED, "be: .npy dtype '>f4' is not supported");
    len = npy_make(b, 1, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }\n", f4, 16);
    CHECK_ERR(dsc_npy_read_mem(b, len, "cx", DSC_DATA_F32, &a), DSC_ERR_UNSUPPORTED, "'<c8' is not supported");
    len = npy_make(b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807, 4), }\n", f4, 16);
    CHECK_ERR(dsc_npy_read_mem(b, len, "ovf", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "ovf: .npy shape overflows");
    len = npy_make(b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 4), }\n", f4, 16);
    CHECK_ERR(dsc_npy_read_mem(b, len, "ovf2", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "overflows 64 bits");
    len = npy_make(b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 4), }\n", f4, 16);
    CHECK_ERR(dsc_npy_read_mem(b, len, "big", DSC_DATA_F32, &a), DSC_ERR_FORMAT,
              "big: .npy shape needs 400000000 elements of 4 bytes, but 16 data bytes follow");
    len = npy_make(b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", f4, 12);
    CHECK_ERR(dsc_npy_read_mem(b, len, "short", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "truncated or wrong shape");
    len = npy_make(b, 1, "{'descr': '<f4', 'shape': (2, 2), }\n", f4, 16);
    CHECK_ERR(dsc_npy_read_mem(b, len, "nofo", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "lacks 'fortran_order'");
    len = npy_make(b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 2], }\n", f4, 16);
    CHECK_ERR(dsc_npy_read_mem(b, len, "list", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "'shape' must be a tuple");
    len = npy_make(b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'x': 1}\n", f4, 16);
    CHECK_ERR(dsc_npy_read_mem(b, len, "key", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "unknown key");
    len = npy_make(b, 1, "{'descr': '<f4", f4, 0);
    CHECK_ERR(dsc_npy_read_mem(b, len, "unterm", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "unterminated string");
    len = npy_make(b, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }\n", f4, 16);
    b[8] = 0xff; /* header length past the end */
    CHECK_ERR(dsc_npy_read_mem(b, len, "hlen", DSC_DATA_F32, &a), DSC_ERR_FORMAT, "runs past the end");
    b[6] = 9;
    CHECK_ERR(dsc_npy_read_mem(b, len, "ver", DSC_DATA_F32, &a), DSC_ERR_UNSUPPORTED, "format version 9.0");
    CHECK_ERR(dsc_npy_read_mem("\x93NUMPX\x01\x00\x00\x00", 10, "magic", DSC_DATA_F32, &a), DSC_ERR_FORMAT,
              "magic: not a .npy file");
    CHECK(a.data == NULL);
    /* Labels companion with the wrong count. */
    CHECK_OK(dsc_npy_write(tmp_path("h.npy"), x, DSC_DATA_F64, 3, 2));
    CHECK_OK(dsc_npy_write(tmp_path("h.labels.npy"), y, DSC_DATA_F64, 2, 0));
    CHECK_ERR(dsc_dataset_load(tmp_path("h.npy"), NULL, NULL, &ds), DSC_ERR_SHAPE, "has 2 values, expected 3");
}

/* ----------------------------------------------------------------------------------- load/names */

static void test_load_names(void)
{
    dsc_dataset ds;
    CHECK_ERR(dsc_dataset_load("digitz", NULL, NULL, &ds), DSC_ERR_INVALID,
              "unknown data set 'digitz' (valid names: digits, iris, wine, breast-cancer, fashion-mnist, mnist, linreg");
    CHECK_ERR(dsc_dataset_load(write_text("x.parquet", "1"), NULL, NULL, &ds), DSC_ERR_INVALID,
              "unknown file extension (known: .csv, .libsvm, .svm, .npy");
    CHECK_ERR(dsc_dataset_load("no/such/file.csv", NULL, NULL, &ds), DSC_ERR_IO, "no/such/file.csv: no such file");
    CHECK_ERR(dsc_dataset_load("iris:n=3", NULL, NULL, &ds), DSC_ERR_INVALID, "takes no options");
    CHECK_ERR(dsc_dataset_load("iris", NULL, "test", &ds), DSC_ERR_UNSUPPORTED, "iris has only one split");
    CHECK_ERR(dsc_dataset_load("spirals", NULL, "valid", &ds), DSC_ERR_INVALID, "unknown split 'valid'");
    CHECK_ERR(dsc_dataset_load("spirals:n=10,nosie=1", NULL, NULL, &ds), DSC_ERR_INVALID,
              "spirals: unknown key 'nosie' (valid keys: n, noise, turns, seed, n_test)");
    CHECK_ERR(dsc_dataset_load("", NULL, NULL, &ds), DSC_ERR_INVALID, "no data set given");
    int n;
    const dsc_data_info *r = dsc_data_registry(&n);
    CHECK(n == 13 && strcmp(r[0].name, "digits") == 0);
    for (int i = 0; i < n; i++)
        if (r[i].kind == DSC_DATA_GENERATOR) {
            /* Every generator loads with its defaults (small n to keep it quick). */
            char spec[64];
            snprintf(spec, sizeof spec, "%s:n=50", r[i].name);
            CHECK_OK(dsc_dataset_load(spec, NULL, NULL, &ds));
            CHECK(ds.n == 50 && (ds.y || ds.y64));
            dsc_dataset_free(&ds);
        }
}

/* ------------------------------------------------------------------------------------- embedded */

static const char *shared_data(const char *file)
{
    /* $DSC_SHARED_DATA, the shared folder next to the checkout, or the repository's data/. */
    static char p[600];
    const char *dirs[3] = {getenv("DSC_SHARED_DATA"), DSC_SOURCE_DIR "/../shared/data", DSC_SOURCE_DIR "/data"};
    for (int i = 0; i < 3; i++) {
        if (!dirs[i])
            continue;
        snprintf(p, sizeof p, "%s/%s", dirs[i], file);
        if (access(p, R_OK) == 0)
            return p;
    }
    return NULL;
}

/* Every value of an embedded set equals the source CSV's (read by the CSV reader, in float64). */
static void compare_with_source(const char *set, const char *file, int skip_first_line)
{
    const char *p = shared_data(file);
    if (!p) {
        printf("  (skipped comparing %s with %s: file absent)\n", set, file);
        return;
    }
    void *buf;
    size_t len;
    dsc_status st = dsc_data_read_file(p, 0, &buf, &len);
    if (st == DSC_ERR_UNSUPPORTED) {
        printf("  (skipped %s: no zlib)\n", file);
        return;
    }
    CHECK_OK(st);
    if (st != DSC_OK)
        return;
    const char *text = buf;
    size_t off = 0;
    if (skip_first_line)
        while (off < len && text[off++] != '\n') {
        }
    dsc_data_opts o = opts();
    o.dtype = DSC_DATA_F64;
    o.csv_header = 0;
    dsc_dataset src, emb, emb32;
    CHECK_OK(dsc_csv_read_mem(text + off, len - off, p, &o, &src));
    CHECK_OK(dsc_dataset_load_opts(set, &o, &emb));
    CHECK_OK(dsc_dataset_load(set, NULL, NULL, &emb32));
    CHECK(src.n == emb.n && src.d == emb.d);
    if (src.n == emb.n && src.d == emb.d) {
        int64_t bad = 0;
        for (int64_t k = 0; k < src.n * src.d; k++) {
            bad += src.x64[k] != emb.x64[k];
            bad += (float)src.x64[k] != emb32.x[k];
        }
        for (int64_t i = 0; i < src.n; i++)
            bad += src.y64[i] != emb.y64[i];
        CHECK(bad == 0);
    }
    dsc_dataset_free(&src);
    dsc_dataset_free(&emb);
    dsc_dataset_free(&emb32);
    free(buf);
}

static void test_embedded(void)
{
    static const struct {
        const char *name;
        int64_t n, d, k;
        int64_t counts0;
    } sets[] = {{"digits", 1797, 64, 10, 178}, {"breast-cancer", 569, 30, 2, 212}, {"iris", 150, 4, 3, 50}, {"wine", 178, 13, 3, 59}};
    for (int s = 0; s < 4; s++) {
        dsc_dataset ds;
        CHECK_OK(dsc_dataset_load(sets[s].name, NULL, NULL, &ds));
        CHECK(ds.n == sets[s].n && ds.d == sets[s].d && ds.num_classes == sets[s].k);
        int64_t counts[10];
        CHECK_OK(dsc_dataset_class_counts(&ds, counts));
        CHECK(counts[0] == sets[s].counts0);
        CHECK(ds.class_names != NULL);
        dsc_dataset_free(&ds);
    }
    dsc_dataset ds;
    dsc_data_opts o = opts();
    o.dtype = DSC_DATA_F64;
    CHECK_OK(dsc_dataset_load_opts("iris", &o, &ds));
    CHECK(ds.x64[0] == 5.1 && ds.x64[1] == 3.5 && ds.x64[2] == 1.4 && ds.x64[3] == 0.2 && ds.y64[0] == 0);
    CHECK(ds.x64[149 * 4 + 0] == 5.9 && ds.y64[149] == 2);
    CHECK(strcmp(ds.class_names[2], "virginica") == 0 && strcmp(ds.feature_names[0], "sepal length (cm)") == 0);
    dsc_dataset_free(&ds);
    CHECK_OK(dsc_dataset_load("breast-cancer", NULL, NULL, &ds));
    CHECK(ds.x[0] == 17.99f && ds.x[3] == 1001.0f && ds.x[14] == 0.006399f && ds.y[0] == 0);
    CHECK(strcmp(ds.feature_names[29], "worst fractal dimension") == 0);
    dsc_dataset_free(&ds);
    CHECK_OK(dsc_dataset_load("wine", NULL, NULL, &ds));
    CHECK(ds.x[0] == 14.23f && ds.x[12] == 1065.0f && ds.y[177] == 2);
    dsc_dataset_free(&ds);
    CHECK_OK(dsc_dataset_load("digits", NULL, NULL, &ds));
    CHECK(ds.feat_ndim == 3 && ds.feat_shape[0] == 1 && ds.feat_shape[1] == 8 && ds.feat_shape[2] == 8);
    CHECK(ds.x[2] == 5 && ds.x[3] == 13 && ds.x[4] == 9 && ds.y[0] == 0 && ds.y[1] == 1);
    dsc_dataset_free(&ds);
    compare_with_source("iris", "iris.csv", 1);
    compare_with_source("wine", "wine_data.csv", 1);
    compare_with_source("breast-cancer", "breast_cancer.csv", 1);
    compare_with_source("digits", "digits.csv.gz", 0);
}

/* -------------------------------------------------------------------------------- fashion-mnist */

static void test_fashion_mnist(void)
{
    dsc_dataset ds;
    dsc_status st = dsc_dataset_load("fashion-mnist", NULL, "test", &ds);
    if (st == DSC_ERR_IO || st == DSC_ERR_UNSUPPORTED) {
        printf("  (skipped: Fashion-MNIST not available: %s)\n", dsc_last_error());
        CHECK(strstr(dsc_last_error(), "fashion-mnist") != NULL);
        return;
    }
    CHECK_OK(st);
    CHECK(ds.n == 10000 && ds.d == 784 && ds.num_classes == 10 && ds.feat_ndim == 3 && ds.feat_shape[1] == 28);
    int64_t counts[10];
    CHECK_OK(dsc_dataset_class_counts(&ds, counts));
    for (int c = 0; c < 10; c++)
        CHECK(counts[c] == 1000);
    float mx = 0;
    for (int64_t k = 0; k < ds.n * ds.d; k++)
        mx = ds.x[k] > mx ? ds.x[k] : mx;
    CHECK(mx == 1.0f);
    CHECK(ds.y[0] == 9 && strcmp(ds.class_names[9], "Ankle boot") == 0); /* the first test image is an ankle boot */
    dsc_dataset_free(&ds);
    CHECK_OK(dsc_dataset_load("fashion-mnist", NULL, "train", &ds));
    CHECK(ds.n == 60000 && ds.d == 784);
    dsc_dataset_free(&ds);
    /* A data dir without the files falls through to the system directory; a bad split is refused. */
    CHECK_OK(dsc_dataset_load("fashion-mnist", tmpdir, "test", &ds));
    dsc_dataset_free(&ds);
    CHECK_ERR(dsc_dataset_load("fashion-mnist", NULL, "val", &ds), DSC_ERR_INVALID, "unknown split 'val'");
}

/* Files in a data dir are found first; a corrupt one is reported with its path. */
static void test_idx_named_dir(void)
{
    unsigned char b[64];
    uint32_t dims[3] = {2, 2, 2};
    unsigned char px[8] = {0, 255, 51, 102, 1, 2, 3, 4};
    size_t len = idx_make(b, 0x08, 3, dims, px, 8);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/mnist", tmp_path(""));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot create %s\n", dir);
        dsc_test_failures++;
        return;
    }
    {
        char p[600];
        snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", dir);
        FILE *f = fopen(p, "wb");
        fwrite(b, 1, len, f);
        fclose(f);
        unsigned char lb[16];
        size_t ll = idx_make(lb, 0x08, 1, (uint32_t[]){2}, (unsigned char[]){7, 3}, 2);
        snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", dir);
        f = fopen(p, "wb");
        fwrite(lb, 1, ll, f);
        fclose(f);
        dsc_dataset ds;
        CHECK_OK(dsc_dataset_load("mnist", tmpdir, "test", &ds));
        CHECK(ds.n == 2 && ds.d == 4 && ds.x[1] == 1.0f && ds.x[2] == 0.2f && ds.y[0] == 7 && ds.y[1] == 3);
        dsc_dataset_free(&ds);
        /* Labels out of 0..9. */
        ll = idx_make(lb, 0x08, 1, (uint32_t[]){2}, (unsigned char[]){7, 30}, 2);
        f = fopen(p, "wb");
        fwrite(lb, 1, ll, f);
        fclose(f);
        CHECK_ERR(dsc_dataset_load("mnist", tmpdir, "test", &ds), DSC_ERR_FORMAT, "label 1 of");
        /* Count mismatch. */
        ll = idx_make(lb, 0x08, 1, (uint32_t[]){3}, (unsigned char[]){7, 3, 1}, 3);
        f = fopen(p, "wb");
        fwrite(lb, 1, ll, f);
        fclose(f);
        CHECK_ERR(dsc_dataset_load("mnist", tmpdir, "test", &ds), DSC_ERR_FORMAT, "expected [n, rows, cols] and [n]");
    }
}

/* ----------------------------------------------------------------------------------- generators */

static int same_data(const dsc_dataset *a, const dsc_dataset *b)
{
    if (a->n != b->n || a->d != b->d || a->num_classes != b->num_classes)
        return 0;
    for (int64_t i = 0; i < a->n; i++) {
        if (dsc_dataset_label(a, i) != dsc_dataset_label(b, i))
            return 0;
        for (int64_t j = 0; j < a->d; j++)
            if (dsc_dataset_value(a, i, j) != dsc_dataset_value(b, i, j))
                return 0;
    }
    return 1;
}

static void test_generators_deterministic(void)
{
    static const char *const specs[] = {"linreg:n=64,d=5", "linreg:n=64,d=5,cond=30", "logistic:n=64,d=5",
                                        "logistic:n=64,d=50,density=0.1", "blobs:n=64,classes=4", "spirals:n=64",
                                        "xor:n=64,d=3,noise=0.1", "teacher:n=64,classes=3,depth=2",
                                        "sparse:n=64,d=40,k=5,density=0.2"};
    dsc_data_opts o = opts();
    o.layout = DSC_LAYOUT_NATIVE;
    for (int s = 0; s < (int)(sizeof specs / sizeof specs[0]); s++) {
        dsc_dataset a, b, c, t;
        char spec[128];
        CHECK_OK(dsc_dataset_load_opts(specs[s], &o, &a));
        CHECK_OK(dsc_dataset_load_opts(specs[s], &o, &b));
        snprintf(spec, sizeof spec, "%s,seed=7", specs[s]);
        CHECK_OK(dsc_dataset_load_opts(spec, &o, &c));
        o.split = "test";
        CHECK_OK(dsc_dataset_load_opts(specs[s], &o, &t));
        o.split = NULL;
        if (!same_data(&a, &b) || same_data(&a, &c) || same_data(&a, &t)) {
            fprintf(stderr, "generator %s: not deterministic or not seed/split dependent\n", specs[s]);
            dsc_test_failures++;
        }
        dsc_dataset_free(&a);
        dsc_dataset_free(&b);
        dsc_dataset_free(&c);
        dsc_dataset_free(&t);
    }
    /* The seed can come from the options too. */
    dsc_dataset a, b;
    o.seed = 7;
    CHECK_OK(dsc_dataset_load_opts("spirals:n=30", &o, &a));
    CHECK_OK(dsc_dataset_load_opts("spirals:n=30,seed=7", NULL, &b));
    CHECK(same_data(&a, &b));
    dsc_dataset_free(&a);
    dsc_dataset_free(&b);
}

/* Eigenvalues of a symmetric d×d matrix (cyclic Jacobi); a is destroyed. */
static void sym_eig(double *a, int d, double *ev)
{
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (int p = 0; p < d; p++)
            for (int q = p + 1; q < d; q++)
                off += a[p * d + q] * a[p * d + q];
        if (off < 1e-30)
            break;
        for (int p = 0; p < d; p++)
            for (int q = p + 1; q < d; q++) {
                double apq = a[p * d + q];
                if (fabs(apq) < 1e-300)
                    continue;
                double theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < d; k++) {
                    double akp = a[k * d + p], akq = a[k * d + q];
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for (int k = 0; k < d; k++) {
                    double apk = a[p * d + k], aqk = a[q * d + k];
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
            }
    }
    for (int i = 0; i < d; i++)
        ev[i] = a[i * d + i];
}

static void test_generators_properties(void)
{
    dsc_dataset ds;
    /* linreg: cond(X) within 1% of the request, for float32 and float64 storage. */
    for (int f64 = 0; f64 < 2; f64++) {
        dsc_data_opts o = opts();
        o.dtype = f64 ? DSC_DATA_F64 : DSC_DATA_F32;
        CHECK_OK(dsc_dataset_load_opts("linreg:n=300,d=6,cond=100,noise=0", &o, &ds));
        double G[36] = {0}, ev[6];
        for (int64_t i = 0; i < ds.n; i++)
            for (int p = 0; p < 6; p++)
                for (int q = 0; q < 6; q++)
                    G[p * 6 + q] += dsc_dataset_value(&ds, i, p) * dsc_dataset_value(&ds, i, q);
        sym_eig(G, 6, ev);
        double mn = ev[0], mx = ev[0];
        for (int k = 1; k < 6; k++) {
            mn = fmin(mn, ev[k]);
            mx = fmax(mx, ev[k]);
        }
        CHECK_REL(sqrt(mx / mn), 100.0, 0.01, 1.0);
        CHECK_REL(mx / (double)ds.n, 1.0, 0.01, 1.0); /* largest eigenvalue of X^T X / n is 1 */
        dsc_dataset_free(&ds);
    }
    CHECK_ERR(dsc_dataset_load("linreg:n=3,d=5,cond=10", NULL, NULL, &ds), DSC_ERR_INVALID, "cond= needs n >= d");
    CHECK_ERR(dsc_dataset_load("linreg:n=0", NULL, NULL, &ds), DSC_ERR_RANGE, "linreg: n=0 is out of range");
    /* linreg with noise=0 is exactly linear: the same w* explains train and test (solve from d rows). */

    /* spirals, blobs, xor: balanced classes. */
    int64_t counts[4];
    CHECK_OK(dsc_dataset_load("spirals:n=1001,noise=0.2", NULL, NULL, &ds));
    CHECK_OK(dsc_dataset_class_counts(&ds, counts));
    CHECK(counts[0] == 501 && counts[1] == 500 && ds.d == 2);
    dsc_dataset_free(&ds);
    CHECK_OK(dsc_dataset_load("blobs:n=400,classes=4,d=3", NULL, NULL, &ds));
    CHECK_OK(dsc_dataset_class_counts(&ds, counts));
    CHECK(counts[0] == 100 && counts[3] == 100 && ds.d == 3);
    dsc_dataset_free(&ds);
    CHECK_OK(dsc_dataset_load("xor:n=2000", NULL, NULL, &ds));
    CHECK_OK(dsc_dataset_class_counts(&ds, counts));
    CHECK(counts[0] > 900 && counts[1] > 900);
    int ok = 1;
    for (int64_t i = 0; i < ds.n; i++)
        ok &= ((ds.x[2 * i] > 0) ^ (ds.x[2 * i + 1] > 0)) == (int)ds.y[i];
    CHECK(ok);
    dsc_dataset_free(&ds);

    /* logistic separable: a linear classifier through the origin separates it — check that the
     * perceptron converges (it does in finitely many steps iff the data are separable). */
    CHECK_OK(dsc_dataset_load("logistic:n=200,d=3,separable=1", NULL, NULL, &ds));
    double w[3] = {0, 0, 0};
    int mistakes = 1;
    for (int epoch = 0; epoch < 2000 && mistakes; epoch++) {
        mistakes = 0;
        for (int64_t i = 0; i < ds.n; i++) {
            double s = 0, y = ds.y[i] ? 1 : -1;
            for (int j = 0; j < 3; j++)
                s += w[j] * ds.x[i * 3 + j];
            if (s * y <= 0) {
                mistakes++;
                for (int j = 0; j < 3; j++)
                    w[j] += y * ds.x[i * 3 + j];
            }
        }
    }
    CHECK(mistakes == 0);
    dsc_dataset_free(&ds);

    /* Sparse designs: CSR with about density*d entries per row, sorted distinct columns. */
    dsc_data_opts o = opts();
    o.layout = DSC_LAYOUT_NATIVE;
    o.dtype = DSC_DATA_F64;
    CHECK_OK(dsc_dataset_load_opts("logistic:n=500,d=2000,density=0.01", &o, &ds));
    CHECK(ds.sparse && ds.nnz == 500 * 20 && ds.num_classes == 2);
    int sorted = 1;
    for (int64_t i = 0; i < ds.n; i++)
        for (int64_t k = ds.row_ptr[i] + 1; k < ds.row_ptr[i + 1]; k++)
            sorted &= ds.col_idx[k] > ds.col_idx[k - 1];
    CHECK(sorted);
    dsc_dataset_free(&ds);
    /* sparse regression: exactly k features matter (noise=0: y is a function of k columns). */
    CHECK_OK(dsc_dataset_load_opts("sparse:n=100,d=30,k=4,noise=0", &o, &ds));
    CHECK(!ds.sparse || ds.sparse); /* dense design by default */
    dsc_dataset_free(&ds);
    /* teacher regression is a smooth function; classification labels in range. */
    CHECK_OK(dsc_dataset_load("teacher:n=300,classes=4,d=5", NULL, NULL, &ds));
    CHECK(ds.num_classes == 4);
    CHECK_OK(dsc_dataset_class_counts(&ds, counts));
    CHECK(counts[0] + counts[1] + counts[2] + counts[3] == 300);
    dsc_dataset_free(&ds);
    CHECK_ERR(dsc_dataset_load("teacher:classes=1", NULL, NULL, &ds), DSC_ERR_RANGE, "classes=1");
}

/* ---------------------------------------------------------------------------------- conversions */

static void test_conversions(void)
{
    dsc_data_opts o = opts();
    o.layout = DSC_LAYOUT_NATIVE;
    dsc_dataset a, b, c;
    CHECK_OK(dsc_dataset_load_opts("sparse:n=40,d=30,density=0.1", &o, &a));
    CHECK(a.sparse);
    CHECK_OK(dsc_dataset_copy(&a, &b));
    CHECK_OK(dsc_dataset_densify(&b, 0));
    CHECK(!b.sparse && b.x && same_data(&a, &b));
    CHECK_OK(dsc_dataset_copy(&b, &c));
    CHECK_OK(dsc_dataset_sparsify(&c));
    CHECK(c.sparse && c.nnz == a.nnz && same_data(&a, &c));
    CHECK_OK(dsc_dataset_to_dtype(&c, DSC_DATA_F64));
    CHECK(c.val64 && !c.val && c.y64 && same_data(&a, &c));
    CHECK_ERR(dsc_dataset_densify(&c, 100), DSC_ERR_NOMEM, "size limit");
    dsc_dataset_free(&a);
    dsc_dataset_free(&b);
    dsc_dataset_free(&c);
    /* The layout option converts dense sets to CSR. */
    o.layout = DSC_LAYOUT_CSR;
    CHECK_OK(dsc_dataset_load_opts("iris", &o, &a));
    CHECK(a.sparse && a.nnz == 600 && dsc_dataset_value(&a, 0, 0) == 5.1f);
    dsc_dataset_free(&a);
    /* The size cap applies to loads. */
    o.layout = DSC_LAYOUT_DENSE;
    o.max_bytes = 1000;
    CHECK_ERR(dsc_dataset_load_opts("digits", &o, &a), DSC_ERR_NOMEM, "exceed the size limit");
}

static void test_subset_split_standardize(void)
{
    dsc_dataset ds, a, b;
    CHECK_OK(dsc_dataset_load("iris", NULL, NULL, &ds));
    int64_t idx[3] = {149, 0, 0};
    CHECK_OK(dsc_dataset_subset(&ds, idx, 3, &a));
    CHECK(a.n == 3 && a.d == 4 && a.x[0] == 5.9f && a.x[4] == 5.1f && a.y[0] == 2 && a.y[2] == 0 && a.num_classes == 3);
    CHECK(strcmp(a.class_names[1], "versicolor") == 0 && strcmp(a.feature_names[3], "petal width (cm)") == 0);
    dsc_dataset_free(&a);
    idx[0] = 150;
    CHECK_ERR(dsc_dataset_subset(&ds, idx, 3, &a), DSC_ERR_RANGE, "subset index 150 is out of range [0, 150)");
    CHECK_OK(dsc_dataset_split(&ds, 0.2, 5, &a, &b));
    CHECK(a.n == 120 && b.n == 30);
    /* Every example lands in exactly one part: the sums of all values agree. */
    double sa = 0, sb = 0, s0 = 0;
    for (int64_t k = 0; k < 600; k++)
        s0 += ds.x[k];
    for (int64_t k = 0; k < a.n * 4; k++)
        sa += a.x[k];
    for (int64_t k = 0; k < b.n * 4; k++)
        sb += b.x[k];
    CHECK_NEAR(sa + sb, s0, 1e-9 * s0);
    double mean[4], sd[4];
    CHECK_OK(dsc_dataset_standardize(&a, mean, sd));
    for (int j = 0; j < 4; j++) {
        double m = 0, v = 0;
        for (int64_t i = 0; i < a.n; i++)
            m += a.x[i * 4 + j];
        m /= (double)a.n;
        for (int64_t i = 0; i < a.n; i++)
            v += (a.x[i * 4 + j] - m) * (a.x[i * 4 + j] - m);
        CHECK_NEAR(m, 0, 1e-6);
        CHECK_NEAR(v / (double)a.n, 1, 1e-5);
        CHECK(sd[j] > 0.1);
    }
    CHECK_OK(dsc_dataset_apply_standardize(&b, mean, sd));
    dsc_dataset_free(&a);
    dsc_dataset_free(&b);
    dsc_dataset_free(&ds);
    /* CSR: subset keeps rows exactly; standardize only scales. */
    dsc_data_opts o = opts();
    o.layout = DSC_LAYOUT_NATIVE;
    o.dtype = DSC_DATA_F64;
    CHECK_OK(dsc_dataset_load_opts("sparse:n=50,d=40,density=0.1", &o, &ds));
    int64_t rows[2] = {7, 3};
    CHECK_OK(dsc_dataset_subset(&ds, rows, 2, &a));
    CHECK(a.sparse && a.nnz == (ds.row_ptr[8] - ds.row_ptr[7]) + (ds.row_ptr[4] - ds.row_ptr[3]));
    int same = 1;
    for (int j = 0; j < 40; j++)
        same &= dsc_dataset_value(&a, 1, j) == dsc_dataset_value(&ds, 3, j) && dsc_dataset_label(&a, 0) == dsc_dataset_label(&ds, 7);
    CHECK(same);
    int64_t nnz = a.nnz;
    CHECK_OK(dsc_dataset_standardize(&a, NULL, NULL));
    CHECK(a.sparse && a.nnz == nnz);
    dsc_dataset_free(&a);
    dsc_dataset_free(&ds);
}

static void cleanup(void)
{
    if (strncmp(tmpdir, "/tmp/dsc_test_data_", 19) == 0) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

DSC_TEST_MAIN("data", TEST(test_spec_parse), TEST(test_csv_valid), TEST(test_csv_errors), TEST(test_libsvm),
              TEST(test_idx), TEST(test_gzip), TEST(test_npy), TEST(test_load_names), TEST(test_embedded),
              TEST(test_fashion_mnist), TEST(test_idx_named_dir), TEST(test_generators_deterministic),
              TEST(test_generators_properties), TEST(test_conversions), TEST(test_subset_split_standardize), TEST(cleanup))
