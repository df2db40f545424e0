/* Config files (flat JSON objects) and run logs (metrics.jsonl / metrics.csv): valid input, syntax
 * errors with line and column, wrong types, hostile input, write/read round trips. */
#include <stdlib.h>
#include <string.h>

#include "descent/config.h"
#include "testing.h"

/* A build configured with -DDSC_WITH_CJSON=OFF has no JSON reader: those tests check that it says so. */
static int have_json(void)
{
    dsc_config c;
    dsc_status st = dsc_config_parse("{}", 2, "probe", 0, &c);
    dsc_config_free(&c);
    if (st == DSC_ERR_UNSUPPORTED) {
        CHECK(strstr(dsc_last_error(), "libcjson-dev") != NULL);
        fprintf(stderr, "  (built without cJSON: JSON checks skipped)\n");
        return 0;
    }
    return 1;
}

static dsc_status parse(const char *text, int flags, dsc_config *c)
{
    return dsc_config_parse(text, strlen(text), "cfg.json", flags, c);
}

/* The last error contains want. */
static int err_has(const char *want)
{
    if (strstr(dsc_last_error(), want))
        return 1;
    fprintf(stderr, "  error message '%s' lacks '%s'\n", dsc_last_error(), want);
    return 0;
}

static void test_valid(void)
{
    if (!have_json())
        return;
    dsc_config c;
    CHECK_OK(parse("\xEF\xBB\xBF{\n  \"model\": \"mlp:784-256-10,act=relu\",\n  \"epochs\": 2,\n"
                   "  \"lr\": 1e-3, \"momentum\": 0.1, \"big\": 1e20, \"neg\": -0.0, \"augment\": true,\n"
                   "  \"shuffle\": false, \"name\": \"caf\\u00e9 \\\"q\\\"\", \"empty\": \"\"\n}\n",
                   0, &c));
    CHECK(c.n == 10);
    if (c.n == 10) {
        CHECK(!strcmp(c.entries[0].key, "model")); /* file order */
        CHECK(!strcmp(c.entries[0].value, "mlp:784-256-10,act=relu"));
        CHECK(c.entries[0].type == DSC_CONFIG_STRING);
        CHECK(!strcmp(dsc_config_get(&c, "epochs"), "2"));
        CHECK(c.entries[1].type == DSC_CONFIG_NUMBER && c.entries[1].number == 2);
        CHECK(!strcmp(dsc_config_get(&c, "lr"), "0.001"));
        CHECK(!strcmp(dsc_config_get(&c, "momentum"), "0.1"));
        CHECK(!strcmp(dsc_config_get(&c, "big"), "100000000000000000000") ||
              !strcmp(dsc_config_get(&c, "big"), "1e+20"));
        CHECK(!strcmp(dsc_config_get(&c, "neg"), "0"));
        CHECK(!strcmp(dsc_config_get(&c, "augment"), "true"));
        CHECK(dsc_config_find(&c, "augment")->type == DSC_CONFIG_BOOL);
        CHECK(!strcmp(dsc_config_get(&c, "shuffle"), "false"));
        CHECK(!strcmp(dsc_config_get(&c, "name"), "caf\xc3\xa9 \"q\""));
        CHECK(!strcmp(dsc_config_get(&c, "empty"), ""));
        CHECK(dsc_config_get(&c, "missing") == NULL);
    }
    dsc_config_free(&c);
    /* Shortest round-trip text for numbers that are not integers. */
    CHECK_OK(parse("{\"a\": 0.30000000000000004, \"b\": 2.5e-7, \"c\": 123456789012}", 0, &c));
    CHECK(c.n == 3 && !strcmp(c.entries[0].value, "0.30000000000000004"));
    CHECK(c.n == 3 && strtod(c.entries[1].value, NULL) == 2.5e-7 && strlen(c.entries[1].value) <= 7);
    CHECK(c.n == 3 && !strcmp(c.entries[2].value, "123456789012"));
    dsc_config_free(&c);
    CHECK_OK(parse("{}", 0, &c));
    CHECK(c.n == 0);
    dsc_config_free(&c);
}

static void test_syntax_errors(void)
{
    if (!have_json())
        return;
    dsc_config c;
    /* A missing comma on line 3: the error points at line 3. */
    CHECK_STATUS(parse("{\n  \"a\": 1,\n  \"b\": 2\n  \"c\": 3\n}", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("cfg.json:") && err_has("JSON syntax error"));
    CHECK(strstr(dsc_last_error(), "cfg.json:4:3:") != NULL); /* at the key after the missing comma */
    CHECK(c.n == 0 && c.entries == NULL);
    /* Trailing comma. */
    CHECK_STATUS(parse("{\"a\": 1,}", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("cfg.json:1:"));
    /* Truncated. */
    CHECK_STATUS(parse("{\"a\": \"abc", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("cfg.json:1:"));
    /* Garbage after the object. */
    CHECK_STATUS(parse("{\"a\": 1}\n\nx", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("cfg.json:3:1:"));
    /* Comments are not JSON. */
    CHECK_STATUS(parse("{\n// comment\n\"a\": 1}", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("cfg.json:2:"));
    /* Empty input, and a NUL byte inside. */
    CHECK_STATUS(parse("", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("the text is empty"));
    CHECK_STATUS(dsc_config_parse("{\"a\":\0 1}", 9, "cfg.json", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("cfg.json:1:6: NUL byte"));
}

static void test_wrong_types(void)
{
    if (!have_json())
        return;
    dsc_config c;
    CHECK_STATUS(parse("[1, 2]", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("top level is an array"));
    CHECK_STATUS(parse("\"adam\"", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("top level is a string"));
    CHECK_STATUS(parse("{\"opt\": {\"lr\": 0.1}}", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("key 'opt' has an object") && err_has("nested objects are not supported"));
    CHECK_STATUS(parse("{\"epochs\": 1, \"milestones\": [30, 60]}", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("key 'milestones' has an array") && err_has("'+'"));
    CHECK_STATUS(parse("{\"seed\": null}", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("key 'seed' has null"));
    CHECK_STATUS(parse("{\"a\": 1, \"a\": 2}", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("key 'a' appears twice"));
    CHECK_STATUS(parse("{\"\": 1}", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("empty key"));
    CHECK_STATUS(parse("{\"lr\": 1e999}", 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("key 'lr'") && err_has("out of range"));
    /* Lenient: nulls kept, nested values skipped. */
    CHECK_OK(parse("{\"a\": null, \"b\": {\"c\": 1}, \"d\": [1], \"e\": \"x\"}", DSC_CONFIG_LENIENT, &c));
    CHECK(c.n == 2 && dsc_config_find(&c, "a") && dsc_config_find(&c, "a")->type == DSC_CONFIG_NULL);
    CHECK(dsc_config_get(&c, "b") == NULL && !strcmp(dsc_config_get(&c, "e"), "x"));
    dsc_config_free(&c);
}

static void test_hostile(void)
{
    if (!have_json())
        return;
    dsc_config c;
    /* Deep nesting: refused by cJSON's nesting limit or as a nested value, without a crash. */
    size_t n = 100000;
    char *deep = malloc(2 * n + 16);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    CHECK_STATUS(parse(deep, 0, &c), DSC_ERR_FORMAT);
    deep[0] = '{';
    CHECK_STATUS(parse(deep, 0, &c), DSC_ERR_FORMAT);
    free(deep);
    /* Too many keys. */
    size_t cap = (DSC_CONFIG_MAX_ENTRIES + 10) * 16 + 16;
    char *many = malloc(cap);
    size_t len = 0;
    len += (size_t)snprintf(many + len, cap - len, "{");
    for (int i = 0; i < DSC_CONFIG_MAX_ENTRIES + 1; i++)
        len += (size_t)snprintf(many + len, cap - len, "%s\"k%d\":%d", i ? "," : "", i, i);
    snprintf(many + len, cap - len, "}");
    CHECK_STATUS(parse(many, 0, &c), DSC_ERR_FORMAT);
    CHECK(err_has("more than"));
    free(many);
    /* Invalid escapes and a lone surrogate; very long number. */
    CHECK_STATUS(parse("{\"a\": \"\\x\"}", 0, &c), DSC_ERR_FORMAT);
    CHECK_STATUS(parse("{\"a\": \"\\ud800\"}", 0, &c), DSC_ERR_FORMAT);
    dsc_config_free(&c);
    char num[300] = "{\"a\": 1";
    memset(num + 7, '0', 200);
    strcpy(num + 207, "}");
    dsc_status st = parse(num, 0, &c);
    CHECK(st == DSC_OK || st == DSC_ERR_FORMAT);
    dsc_config_free(&c);
    /* A missing file. */
    CHECK_STATUS(dsc_config_read("/nonexistent/cfg.json", 0, &c), DSC_ERR_IO);
    CHECK(err_has("/nonexistent/cfg.json: cannot open"));
}

static void test_write_roundtrip(void)
{
    if (!have_json())
        return;
    dsc_config c = {0}, d;
    CHECK_OK(dsc_config_set(&c, "model", "mlp:784-10", DSC_CONFIG_STRING));
    CHECK_OK(dsc_config_set(&c, "epochs", "3", DSC_CONFIG_NUMBER));
    CHECK_OK(dsc_config_set(&c, "lr", "1e-3", DSC_CONFIG_NUMBER));
    CHECK_OK(dsc_config_set(&c, "odd", "nan", DSC_CONFIG_NUMBER)); /* not JSON: written as a string */
    CHECK_OK(dsc_config_set(&c, "augment", "true", DSC_CONFIG_BOOL));
    CHECK_OK(dsc_config_set(&c, "text", "tab\there \"quoted\" \\ \x01 caf\xc3\xa9", DSC_CONFIG_STRING));
    CHECK_OK(dsc_config_set(&c, "epochs", "4", DSC_CONFIG_NUMBER)); /* replaces */
    CHECK(c.n == 6);
    char path[512];
    snprintf(path, sizeof path, "%s/test_config_out.json", DSC_BINARY_DIR);
    CHECK_OK(dsc_config_write_file(path, &c));
    CHECK_OK(dsc_config_read(path, 0, &d));
    CHECK(d.n == 6);
    if (d.n == 6) {
        CHECK(!strcmp(d.entries[0].value, "mlp:784-10"));
        CHECK(!strcmp(d.entries[1].value, "4") && d.entries[1].type == DSC_CONFIG_NUMBER);
        CHECK(!strcmp(d.entries[2].value, "0.001"));
        CHECK(!strcmp(d.entries[3].value, "nan") && d.entries[3].type == DSC_CONFIG_STRING);
        CHECK(d.entries[4].type == DSC_CONFIG_BOOL && d.entries[4].number == 1);
        CHECK(!strcmp(d.entries[5].value, c.entries[5].value));
    }
    dsc_config_free(&c);
    dsc_config_free(&d);
    remove(path);
}

static void test_runlog_jsonl(void)
{
    if (!have_json())
        return;
    const char *text =
        "{\"kind\":\"step\",\"step\":10,\"epoch\":1,\"train_loss\":0.9,\"lr\":0.001,\"time_s\":0.1}\n"
        "\n"
        "{\"kind\":\"step\",\"step\":20,\"epoch\":1,\"train_loss\":0.7,\"lr\":0.001,\"time_s\":0.2,\"new\":5}\r\n"
        "{\"kind\":\"epoch\",\"epoch\":1,\"step\":20,\"train_loss\":0.8,\"test_loss\":0.75,\"test_acc\":0.8,"
        "\"note\":\"text\",\"nested\":{\"a\":1},\"flag\":true,\"bad\":null}\n"
        "{\"kind\":\"step\",\"step\":30,\"train_loss\":\"nan\"}\n"
        "{\"kind\":\"step\",\"step\":40,\"train_l"; /* truncated last line */
    dsc_runlog log;
    CHECK_OK(dsc_runlog_parse_jsonl(text, strlen(text), "m.jsonl", &log));
    CHECK(log.nrows == 4 && log.skipped == 1 && log.first_skipped_line == 6);
    int step = dsc_runlog_find(&log, "step"), loss = dsc_runlog_find(&log, "train_loss");
    int acc = dsc_runlog_find(&log, "test_acc"), nw = dsc_runlog_find(&log, "new");
    CHECK(step >= 0 && loss >= 0 && acc >= 0 && nw >= 0);
    CHECK(dsc_runlog_find(&log, "note") < 0 && dsc_runlog_find(&log, "nested") < 0 &&
          dsc_runlog_find(&log, "kind") < 0 && dsc_runlog_find(&log, "flag") < 0);
    CHECK(dsc_runlog_find(&log, "bad") >= 0);
    if (log.nrows == 4 && step >= 0 && loss >= 0 && acc >= 0 && nw >= 0) {
        CHECK(log.kind[0] == DSC_RUNLOG_STEP && log.kind[2] == DSC_RUNLOG_EPOCH);
        CHECK(log.col[step][1] == 20 && log.col[loss][2] == 0.8);
        CHECK(isnan(log.col[acc][0]) && log.col[acc][2] == 0.8);
        CHECK(isnan(log.col[nw][0]) && log.col[nw][1] == 5 && isnan(log.col[nw][2]));
        CHECK(isnan(log.col[loss][3]));
    }
    dsc_runlog_free(&log);
    CHECK_STATUS(dsc_runlog_parse_jsonl("", 0, "m.jsonl", &log), DSC_ERR_FORMAT);
    CHECK(err_has("m.jsonl: no metrics"));
    dsc_runlog_free(&log);
    CHECK_STATUS(dsc_runlog_parse_jsonl("xx\n[1]\n", 7, "m.jsonl", &log), DSC_ERR_FORMAT);
    dsc_runlog_free(&log);
    /* Many rows: the column arrays grow past their first capacities, with a column that appears late. */
    size_t cap = 2000 * 64, len = 0;
    char *big = malloc(cap);
    for (int i = 0; i < 2000; i++)
        len += (size_t)snprintf(big + len, cap - len, i < 100 ? "{\"step\":%d}\n" : "{\"step\":%d,\"late\":%d}\n",
                                i, i);
    CHECK_OK(dsc_runlog_parse_jsonl(big, len, "big", &log));
    int late = dsc_runlog_find(&log, "late");
    CHECK(log.nrows == 2000 && late == 1);
    if (log.nrows == 2000 && late == 1)
        CHECK(isnan(log.col[late][99]) && log.col[late][1999] == 1999 && log.col[0][1999] == 1999);
    dsc_runlog_free(&log);
    free(big);
}

static void test_runlog_csv(void)
{
    const char *text = "kind,step,epoch,train_loss,test_acc,step\r\n"
                       "step,10,1,0.9,,99\n"
                       "epoch,20,1,0.8,0.85\n"
                       "step,30,2,abc,,\n"
                       "step,1,2,3,4,5,6,7\n" /* too many fields: skipped */
                       "\"epoch\",40,2,0.5,0.9\n";
    dsc_runlog log;
    CHECK_OK(dsc_runlog_parse_csv(text, strlen(text), "m.csv", &log));
    CHECK(log.nrows == 4 && log.skipped == 1 && log.first_skipped_line == 5);
    int step = dsc_runlog_find(&log, "step"), acc = dsc_runlog_find(&log, "test_acc");
    int loss = dsc_runlog_find(&log, "train_loss");
    CHECK(log.ncols == 4 && step >= 0 && acc >= 0 && loss >= 0);
    if (log.nrows == 4 && step >= 0 && acc >= 0 && loss >= 0) {
        CHECK(log.kind[0] == DSC_RUNLOG_STEP && log.kind[1] == DSC_RUNLOG_EPOCH && log.kind[3] == DSC_RUNLOG_EPOCH);
        CHECK(log.col[step][0] == 10 && log.col[step][3] == 40); /* the first 'step' column wins */
        CHECK(isnan(log.col[acc][0]) && log.col[acc][1] == 0.85 && log.col[acc][3] == 0.9);
        CHECK(isnan(log.col[loss][2]));
    }
    dsc_runlog_free(&log);
    CHECK_STATUS(dsc_runlog_parse_csv("kind,step\n", 10, "m.csv", &log), DSC_ERR_FORMAT);
    CHECK(err_has("header but no data rows"));
    dsc_runlog_free(&log);
    CHECK_STATUS(dsc_runlog_read("/nonexistent-run", &log), DSC_ERR_IO);
    CHECK(err_has("/nonexistent-run: no metrics.jsonl or metrics.csv"));
    dsc_runlog_free(&log);
}

DSC_TEST_MAIN("config", TEST(test_valid), TEST(test_syntax_errors), TEST(test_wrong_types), TEST(test_hostile),
              TEST(test_write_roundtrip), TEST(test_runlog_jsonl), TEST(test_runlog_csv))
