/* Parser of model spec strings. Errors name the offending token and its 1-based position in
 * the string, e.g. "model spec 'cnn:c32k5-q2': bad token 'q2' at position 11 (expected ...)". */
#include "nn/spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *model_names[] = {"mlp", "lenet5", "cnn", "vgg-small", "resnet20"};
#define N_MODELS 5
/* Tokens quoted in messages are cut to 40 characters. */
#define TOKLEN(n) ((int)((n) > 40 ? 40 : (n)))

void dsc_spec_display(const char *text, char *buf, size_t size)
{
    size_t n = strlen(text);
    if (n < size)
        memcpy(buf, text, n + 1);
    else
        snprintf(buf, size, "%.*s...", (int)(size - 4), text);
}

const char *dsc_model_names(void) { return "mlp, lenet5, cnn, vgg-small, resnet20"; }

/* Non-negative decimal integer filling exactly s[0..len). */
static int parse_int(const char *s, size_t len, int64_t *out)
{
    if (len == 0 || len > 9)
        return 0;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int parse_prob(const char *s, size_t len, float *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    if (buf[0] == '-' || buf[0] == '+' || buf[0] == ' ')
        return 0;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end || errno || !(v >= 0 && v < 1))
        return 0;
    *out = (float)v;
    return 1;
}

static dsc_status parse_mlp(const char *text, const char *disp, const char *args, dsc_spec *sp)
{
    if (!*args)
        return DSC_ERROR(DSC_ERR_INVALID, "model spec '%s': mlp needs widths, e.g. mlp:784-256-10", disp);
    const char *p = args;
    /* Widths up to the first ',' */
    for (;;) {
        const char *e = p;
        while (*e && *e != '-' && *e != ',')
            e++;
        int64_t w;
        int pos = (int)(p - text) + 1;
        if (!parse_int(p, (size_t)(e - p), &w) || w <= 0)
            return DSC_ERROR(DSC_ERR_INVALID,
                             "model spec '%s': bad width '%.*s' at position %d (expected a positive integer)", disp,
                             TOKLEN((e - p)), p, pos);
        if (sp->n_widths == DSC_SPEC_MAX)
            return DSC_ERROR(DSC_ERR_INVALID, "model spec '%s': more than %d widths", disp, DSC_SPEC_MAX);
        sp->widths[sp->n_widths++] = w;
        p = e;
        if (*p == '-') {
            p++;
            continue;
        }
        break;
    }
    if (sp->n_widths < 2)
        return DSC_ERROR(DSC_ERR_INVALID,
                         "model spec '%s': mlp needs at least an input and an output width (e.g. mlp:784-10)", disp);
    while (*p == ',') {
        p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *eq = memchr(p, '=', (size_t)(e - p));
        int pos = (int)(p - text) + 1;
        if (!eq)
            return DSC_ERROR(DSC_ERR_INVALID,
                             "model spec '%s': bad option '%.*s' at position %d (expected key=value: act, dropout, "
                             "batchnorm)",
                             disp, TOKLEN((e - p)), p, pos);
        size_t kl = (size_t)(eq - p), vl = (size_t)(e - eq - 1);
        const char *v = eq + 1;
        if (kl == 3 && !strncmp(p, "act", 3)) {
            char buf[32];
            snprintf(buf, sizeof buf, "%.*s", (int)(vl < sizeof buf ? vl : sizeof buf - 1), v);
            if (dsc_activation_parse(buf, &sp->act) != DSC_OK)
                return DSC_ERROR(DSC_ERR_INVALID,
                                 "model spec '%s': unknown activation '%.*s' at position %d (valid: relu, tanh, "
                                 "sigmoid, gelu, silu, leaky_relu, elu)",
                                 disp, TOKLEN(vl), v, (int)(v - text) + 1);
        } else if (kl == 7 && !strncmp(p, "dropout", 7)) {
            if (!parse_prob(v, vl, &sp->dropout))
                return DSC_ERROR(DSC_ERR_INVALID,
                                 "model spec '%s': bad dropout '%.*s' at position %d (expected a probability in [0, 1))",
                                 disp, TOKLEN(vl), v, (int)(v - text) + 1);
        } else if (kl == 9 && !strncmp(p, "batchnorm", 9)) {
            if (vl == 1 && (v[0] == '0' || v[0] == '1'))
                sp->batchnorm = v[0] == '1';
            else
                return DSC_ERROR(DSC_ERR_INVALID, "model spec '%s': bad batchnorm '%.*s' at position %d (expected 0 or 1)",
                                 disp, TOKLEN(vl), v, (int)(v - text) + 1);
        } else {
            return DSC_ERROR(DSC_ERR_INVALID,
                             "model spec '%s': unknown option '%.*s' at position %d (valid: act, dropout, batchnorm)",
                             disp, TOKLEN(kl), p, pos);
        }
        p = e;
    }
    if (*p)
        return DSC_ERROR(DSC_ERR_INVALID, "model spec '%s': unexpected '%.40s' at position %d", disp, p,
                         (int)(p - text) + 1);
    return DSC_OK;
}

/* cOUTkK[sS][pP] */
static int parse_conv(const char *s, size_t len, dsc_cnn_tok *t)
{
    size_t i = 1;
    int64_t v[4] = {0, 0, 1, 0}; /* out, k, stride, pad */
    const char *keys = "cksp";
    int have[4] = {0, 0, 0, 0}, last = -1;
    if (s[0] != 'c')
        return 0;
    int which = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && s[j] >= '0' && s[j] <= '9')
            j++;
        if (!parse_int(s + i, j - i, &v[which]))
            return 0;
        have[which] = 1;
        last = which;
        if (j == len)
            break;
        const char *k = strchr(keys, s[j]);
        if (!k || s[j] == 'c' || (int)(k - keys) <= last)
            return 0; /* keys must come in the order k, s, p, each at most once */
        which = (int)(k - keys);
        i = j + 1;
    }
    if (!have[0] || !have[1] || v[0] <= 0 || v[1] <= 0 || v[2] <= 0)
        return 0;
    t->n = v[0];
    t->k = (int)v[1];
    t->stride = (int)v[2];
    t->pad = (int)v[3];
    return 1;
}

static dsc_status parse_cnn(const char *text, const char *disp, const char *args, dsc_spec *sp)
{
    if (!*args)
        return DSC_ERROR(DSC_ERR_INVALID, "model spec '%s': cnn needs layer tokens, e.g. cnn:c32k5-p2-f128", disp);
    const char *p = args;
    for (;;) {
        const char *e = strchr(p, '-');
        if (!e)
            e = p + strlen(p);
        size_t len = (size_t)(e - p);
        int pos = (int)(p - text) + 1;
        if (sp->n_toks == DSC_SPEC_MAX)
            return DSC_ERROR(DSC_ERR_INVALID, "model spec '%s': more than %d tokens", disp, DSC_SPEC_MAX);
        dsc_cnn_tok *t = &sp->toks[sp->n_toks];
        memset(t, 0, sizeof *t);
        t->pos = pos;
        snprintf(t->text, sizeof t->text, "%.*s", (int)(len < sizeof t->text ? len : sizeof t->text - 1), p);
        int good = 0;
        if (len >= 1) {
            t->kind = p[0];
            switch (p[0]) {
            case 'c': good = parse_conv(p, len, t); break;
            case 'p':
            case 'a': good = parse_int(p + 1, len - 1, &t->n) && t->n > 0; break;
            case 'f': good = parse_int(p + 1, len - 1, &t->n) && t->n > 0; break;
            case 'd': good = parse_prob(p + 1, len - 1, &t->p); break;
            case 'b': good = len == 1; break;
            default: good = 0;
            }
        }
        if (!good)
            return DSC_ERROR(DSC_ERR_INVALID,
                             "model spec '%s': bad token '%.*s' at position %d (expected cOUTkK[sS][pP] conv, pK max "
                             "pool, aK avg pool, fN linear, dP dropout or b batch norm)",
                             disp, TOKLEN(len), p, pos);
        sp->n_toks++;
        if (!*e)
            break;
        p = e + 1;
    }
    return DSC_OK;
}

dsc_status dsc_spec_parse(const char *text, dsc_spec *sp)
{
    if (!text || !sp)
        return DSC_ERROR(DSC_ERR_INVALID, "model spec: NULL argument");
    memset(sp, 0, sizeof *sp);
    sp->act = DSC_ACT_RELU;
    char disp[DSC_SPEC_DISPLAY];
    dsc_spec_display(text, disp, sizeof disp);
    const char *colon = strchr(text, ':');
    size_t nlen = colon ? (size_t)(colon - text) : strlen(text);
    int which = -1;
    for (int i = 0; i < N_MODELS; i++)
        if (strlen(model_names[i]) == nlen && !strncmp(model_names[i], text, nlen))
            which = i;
    if (which < 0)
        return DSC_ERROR(DSC_ERR_INVALID, "model spec '%s': unknown model '%.*s' (valid: %s)", disp, TOKLEN(nlen), text,
                         dsc_model_names());
    sp->model = (dsc_zoo_model)which;
    const char *args = colon ? colon + 1 : "";
    switch (sp->model) {
    case DSC_ZOO_MLP: return parse_mlp(text, disp, args, sp);
    case DSC_ZOO_CNN: return parse_cnn(text, disp, args, sp);
    default:
        if (colon)
            return DSC_ERROR(DSC_ERR_INVALID, "model spec '%s': %s takes no arguments, got '%.40s' at position %d", disp,
                             model_names[which], args, (int)nlen + 2);
        return DSC_OK;
    }
}
