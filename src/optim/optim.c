/* Optimizer driver: spec strings, parameter groups, lazy state, checkpoint access.
 * The update rules are in optim_sgd.c / optim_adaptive.c (templates *_tmpl.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descent/spec.h"
#include "optim/optim_internal.h"

/* The optimizers, in the order of dsc_optim_names(): X(name) with the table
 * dsc_optim_algo_<name>. */
#define OPTIM_LIST(X)                                                                                     \
    X(sgd) X(heavyball) X(nag) X(adagrad) X(adagrad_norm) X(rmsprop) X(adadelta) X(adam) X(adamw) X(adamax) \
        X(nadam) X(radam) X(rprop) X(asgd) X(signum) X(lion) X(lamb) X(lars) X(lbfgs) X(nsgd) X(polyak) X(armijo) X(sam)     \
            X(lookahead) X(average) X(sgd_schedulefree) X(adamw_schedulefree) X(muon) X(zo) X(adafactor)
#define OPTIM_PTR(nm) &dsc_optim_algo_##nm,
#define OPTIM_STR(nm) ", " #nm
static const optim_algo *const algos[] = {OPTIM_LIST(OPTIM_PTR)};
/* A literal, so that no thread ever writes it ("+ 2" skips the leading ", "). */
static const char algo_names[] = OPTIM_LIST(OPTIM_STR);
#define N_ALGOS ((int)(sizeof algos / sizeof algos[0]))


/* ---------------------------------------------------------------------------------------
 * Spec strings: "name" or "name:key=value,key=value" (grammar of include/descent/spec.h). */

#define OPT_MAX_KV 32
typedef struct optim_kv {
    char key[48];
    char val[64];
} optim_kv;

static void trim_copy(char *dst, size_t size, const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len >= size)
        len = size - 1;
    memcpy(dst, s, len);
    dst[len] = 0;
}

/* "k=v,k=v" -> items, through the shared spec parser (include/descent/spec.h). what names
 * the optimizer in messages. */
static dsc_status parse_kv(const char *what, const char *text, optim_kv *items, int *n)
{
    *n = 0;
    if (!text || !*text)
        return DSC_OK;
    const size_t len = strlen(what) + strlen(text) + 2;
    char *full = malloc(len);
    if (!full)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", what);
    snprintf(full, len, "%s:%s", what, text);
    dsc_kvspec kv;
    dsc_status st = dsc_kvspec_parse(full, &kv);
    for (int i = 0; st == DSC_OK && i < kv.n_items; i++) {
        const dsc_kvitem *it = &kv.items[i];
        if (!it->key)
            st = DSC_ERROR(DSC_ERR_INVALID, "%s: option '%s' is not of the form key=value", what, it->value);
        else if (*n == OPT_MAX_KV)
            st = DSC_ERROR(DSC_ERR_INVALID, "%s: more than %d options", what, OPT_MAX_KV);
        else if (strlen(it->key) >= sizeof items[0].key || strlen(it->value) >= sizeof items[0].val)
            st = DSC_ERROR(DSC_ERR_INVALID, "%s: option '%s' is too long", what, it->key);
        else {
            snprintf(items[*n].key, sizeof items[0].key, "%s", it->key);
            snprintf(items[*n].val, sizeof items[0].val, "%s", it->value);
            (*n)++;
        }
    }
    dsc_kvspec_free(&kv);
    free(full);
    return st;
}

static const optim_algo *find_algo(const char *name)
{
    for (int i = 0; i < N_ALGOS; i++)
        if (!strcmp(algos[i]->name, name))
            return algos[i];
    return NULL;
}

const char *dsc_optim_names(void)
{
    return algo_names + 2;
}

static int key_index(const optim_algo *a, const char *key)
{
    for (int k = 0; k < a->n_keys; k++)
        if (!strcmp(a->keys[k].name, key))
            return k;
    return -1;
}

static void key_list(const optim_algo *a, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; k < a->n_keys && len < size; k++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", k ? ", " : "", a->keys[k].name);
}

static void fmt_num(char *buf, size_t size, double v)
{
    if (v == HUGE_VAL) {
        snprintf(buf, size, "inf");
        return;
    }
    if (v == -HUGE_VAL) {
        snprintf(buf, size, "-inf");
        return;
    }
    snprintf(buf, size, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, size, "%.17g", v);
}

static void range_str(const optim_key *k, char *buf, size_t size)
{
    char lo[32], hi[32];
    fmt_num(lo, sizeof lo, k->lo);
    fmt_num(hi, sizeof hi, k->hi);
    snprintf(buf, size, "%c%s, %s%c", k->lo_open ? '(' : '[', lo, hi, k->hi_open ? ')' : ']');
}

/* Parses and range-checks one value of key k. */
static dsc_status parse_value(const optim_algo *a, const optim_key *k, const char *text, double *out)
{
    if (k->kind == KEY_BOOL) {
        if (!strcmp(text, "1") || !strcmp(text, "true")) {
            *out = 1;
            return DSC_OK;
        }
        if (!strcmp(text, "0") || !strcmp(text, "false")) {
            *out = 0;
            return DSC_OK;
        }
        return DSC_ERROR(DSC_ERR_INVALID, "%s: option '%s' takes 0 or 1 (or true/false), got '%s'", a->name, k->name,
                         text);
    }
    if (k->kind == KEY_ENUM) {
        char list[256];
        size_t len = 0;
        list[0] = 0;
        for (int c = 0; k->choices[c]; c++) {
            if (!strcmp(text, k->choices[c])) {
                *out = c;
                return DSC_OK;
            }
            len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s%s", c ? ", " : "",
                                    k->choices[c]);
        }
        return DSC_ERROR(DSC_ERR_INVALID, "%s: option '%s' takes one of %s, got '%s'", a->name, k->name, list, text);
    }
    char *end;
    errno = 0;
    const double v = strtod(text, &end);
    if (end == text || *end || errno == ERANGE || !isfinite(v))
        return DSC_ERROR(DSC_ERR_INVALID, "%s: option '%s' needs a finite number, got '%s'", a->name, k->name, text);
    return (*out = v), DSC_OK;
}

static dsc_status check_range(const optim_algo *a, const double *hp)
{
    for (int i = 0; i < a->n_keys; i++) {
        const optim_key *k = &a->keys[i];
        if (k->kind != KEY_REAL)
            continue;
        const double v = hp[i];
        if (v < k->lo || v > k->hi || (k->lo_open && v == k->lo) || (k->hi_open && v == k->hi)) {
            char r[80], vs[32];
            range_str(k, r, sizeof r);
            fmt_num(vs, sizeof vs, v);
            return DSC_ERROR(DSC_ERR_RANGE, "%s: option '%s' = %s is out of its range %s", a->name, k->name, vs, r);
        }
    }
    return a->check ? a->check(hp) : DSC_OK;
}

/* Applies "k=v,..." to hp (a full set of values) and checks the result. */
static dsc_status apply_options(const optim_algo *a, const char *text, double *hp)
{
    optim_kv kv[OPT_MAX_KV];
    int n;
    DSC_TRY(parse_kv(a->name, text, kv, &n));
    for (int i = 0; i < n; i++) {
        const int k = key_index(a, kv[i].key);
        if (k < 0) {
            char list[512];
            key_list(a, list, sizeof list);
            return DSC_ERROR(DSC_ERR_INVALID, "%s: unknown option '%s'; valid options: %s", a->name, kv[i].key, list);
        }
        DSC_TRY(parse_value(a, &a->keys[k], kv[i].val, &hp[k]));
    }
    return check_range(a, hp);
}

/* ---------------------------------------------------------------------------------------
 * Creation, groups. */

static dsc_status add_seg(optim_group *g, size_t pos, size_t off, size_t len)
{
    if (g->nseg == g->cap) {
        const int cap = g->cap ? 2 * g->cap : 4;
        optim_seg *s = realloc(g->segs, (size_t)cap * sizeof *s);
        if (!s)
            return DSC_ERROR(DSC_ERR_NOMEM, "optimizer: out of memory for parameter groups");
        g->segs = s;
        g->cap = cap;
    }
    memmove(g->segs + pos + 1, g->segs + pos, (size_t)(g->nseg - (int)pos) * sizeof *g->segs);
    g->segs[pos].off = off;
    g->segs[pos].len = len;
    g->nseg++;
    return DSC_OK;
}

/* Wrappers: takes the item "base=..." out of the option text opts (into base; the rest into
 * rest). The value is "[SPEC]" (brackets, any depth) or, unbracketed, the rest of the string. */
static dsc_status split_base(const char *what, const char *opts, char *rest, char *base, size_t size)
{
    base[0] = 0;
    snprintf(rest, size, "%s", opts);
    for (const char *p = opts; *p;) {
        while (*p == ' ')
            p++;
        if (!strncmp(p, "base", 4)) {
            const char *q = p + 4;
            while (*q == ' ')
                q++;
            if (*q == '=') {
                q++;
                while (*q == ' ')
                    q++;
                const char *end;
                if (*q == '[') {
                    int depth = 0;
                    end = q;
                    do {
                        depth += *end == '[' ? 1 : *end == ']' ? -1 : 0;
                        end++;
                    } while (*end && depth > 0);
                    if (depth)
                        return DSC_ERROR(DSC_ERR_INVALID, "%s: unbalanced '[' in base=%s", what, q);
                    snprintf(base, size, "%.*s", (int)(end - q - 2), q + 1);
                    while (*end == ' ')
                        end++;
                    if (*end && *end != ',')
                        return DSC_ERROR(DSC_ERR_INVALID, "%s: unexpected '%s' after base=[...]", what, end);
                } else {
                    snprintf(base, size, "%s", q);
                    end = q + strlen(q);
                }
                /* rest = opts without this item (and one separating comma) */
                size_t head = (size_t)(p - opts);
                while (head > 0 && (opts[head - 1] == ',' || opts[head - 1] == ' '))
                    head--;
                const char *tail = *end == ',' ? end + 1 : end;
                snprintf(rest, size, "%.*s%s%s", (int)head, opts, head && *tail ? "," : "", tail);
                return DSC_OK;
            }
        }
        const char *comma = strchr(p, ',');
        if (!comma)
            break;
        p = comma + 1;
    }
    return DSC_OK;
}

dsc_status dsc_optim_new(const char *spec, size_t n, dsc_dtype dtype, dsc_optim **out)
{
    if (!out)
        return DSC_ERROR(DSC_ERR_INVALID, "dsc_optim_new: out is NULL");
    *out = NULL;
    if (!spec || !*spec)
        return DSC_ERROR(DSC_ERR_INVALID, "optimizer: empty spec; valid optimizers: %s", dsc_optim_names());
    if (dtype != DSC_FLOAT32 && dtype != DSC_FLOAT64)
        return DSC_ERROR(DSC_ERR_INVALID, "optimizer: dtype must be float32 or float64");
    const char *colon = strchr(spec, ':');
    char name[64];
    trim_copy(name, sizeof name, spec, colon ? (size_t)(colon - spec) : strlen(spec));
    const optim_algo *a = find_algo(name);
    if (!a)
        return DSC_ERROR(DSC_ERR_INVALID, "unknown optimizer '%s'; valid optimizers: %s", name, dsc_optim_names());
    double hp[OPT_MAX_KEYS];
    for (int k = 0; k < a->n_keys; k++)
        hp[k] = a->keys[k].def;
    dsc_optim *inner = NULL;
    if (a->wrap_step) {
        const size_t size = strlen(spec) + 1;
        char *rest = malloc(size), *base = malloc(size);
        dsc_status s = rest && base ? split_base(a->name, colon ? colon + 1 : "", rest, base, size)
                                    : DSC_ERROR(DSC_ERR_NOMEM, "optimizer: out of memory");
        if (s == DSC_OK && !base[0])
            s = DSC_ERROR(DSC_ERR_INVALID, "%s: option 'base' (the wrapped optimizer) is required, e.g. "
                                           "%s:base=[sgd:lr=0.1,momentum=0.9]",
                          a->name, a->name);
        if (s == DSC_OK)
            s = apply_options(a, rest, hp);
        if (s == DSC_OK)
            s = dsc_optim_new(base, n, dtype, &inner);
        free(rest);
        free(base);
        DSC_TRY(s);
    } else {
        DSC_TRY(apply_options(a, colon ? colon + 1 : "", hp));
    }

    dsc_optim *o = calloc(1, sizeof *o);
    if (!o) {
        dsc_optim_free(inner);
        return DSC_ERROR(DSC_ERR_NOMEM, "optimizer: out of memory");
    }
    o->inner = inner;
    o->algo = a;
    o->n = n;
    o->dtype = dtype;
    o->groups = calloc(1, sizeof *o->groups);
    if (!o->groups) {
        dsc_optim_free(inner);
        free(o);
        return DSC_ERROR(DSC_ERR_NOMEM, "optimizer: out of memory");
    }
    o->ngroups = 1;
    memcpy(o->groups[0].hp, hp, sizeof hp);
    if (n > 0) {
        dsc_status s = add_seg(&o->groups[0], 0, 0, n);
        if (s) {
            dsc_optim_free(o);
            return s;
        }
    }
    *out = o;
    return DSC_OK;
}

void dsc_optim_free(dsc_optim *opt)
{
    if (!opt)
        return;
    for (int g = 0; g < opt->ngroups; g++)
        free(opt->groups[g].segs);
    free(opt->groups);
    for (int i = 0; i < OPT_MAX_STATE; i++)
        free(opt->buf[i]);
    free(opt->scal);
    free(opt->scratch);
    dsc_optim_free(opt->inner);
    free(opt);
}

dsc_status dsc_optim_add_group(dsc_optim *opt, size_t offset, size_t len, const char *overrides, int *group)
{
    if (!opt)
        return DSC_ERROR(DSC_ERR_INVALID, "dsc_optim_add_group: optimizer is NULL");
    const char *nm = opt->algo->name;
    if (opt->inner) /* wrappers: the groups are the wrapped optimizer's */
        return dsc_optim_add_group(opt->inner, offset, len, overrides, group);
    if (opt->algo->single_group)
        return DSC_ERROR(DSC_ERR_UNSUPPORTED, "%s does not support parameter groups (as torch.optim.LBFGS)", nm);
    if (opt->materialized || opt->steps > 0)
        return DSC_ERROR(DSC_ERR_STATE, "%s: parameter groups must be added before the first step or state access", nm);
    if (len == 0 || offset > opt->n || len > opt->n - offset)
        return DSC_ERROR(DSC_ERR_RANGE, "%s: group [%zu, %zu) is empty or outside the %zu parameters", nm, offset,
                         offset + len, opt->n);
    optim_group *g0 = &opt->groups[0];
    int s = 0;
    while (s < g0->nseg && !(g0->segs[s].off <= offset && offset + len <= g0->segs[s].off + g0->segs[s].len))
        s++;
    if (s == g0->nseg)
        return DSC_ERROR(DSC_ERR_INVALID, "%s: group [%zu, %zu) overlaps a group added before", nm, offset,
                         offset + len);
    double hp[OPT_MAX_KEYS];
    memcpy(hp, g0->hp, sizeof hp);
    DSC_TRY(apply_options(opt->algo, overrides ? overrides : "", hp));

    optim_group *gs = realloc(opt->groups, (size_t)(opt->ngroups + 1) * sizeof *gs);
    if (!gs)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory for parameter groups", nm);
    opt->groups = gs;
    optim_group *ng = &gs[opt->ngroups];
    memset(ng, 0, sizeof *ng);
    memcpy(ng->hp, hp, sizeof hp);
    DSC_TRY(add_seg(ng, 0, offset, len));
    opt->ngroups++;
    /* Carve the slice out of group 0's segment s. */
    g0 = &opt->groups[0];
    const size_t so = g0->segs[s].off, se = so + g0->segs[s].len;
    memmove(g0->segs + s, g0->segs + s + 1, (size_t)(g0->nseg - s - 1) * sizeof *g0->segs);
    g0->nseg--;
    if (offset + len < se)
        DSC_TRY(add_seg(g0, (size_t)s, offset + len, se - offset - len));
    if (so < offset)
        DSC_TRY(add_seg(g0, (size_t)s, so, offset - so));
    if (group)
        *group = opt->ngroups - 1;
    return DSC_OK;
}

/* ---------------------------------------------------------------------------------------
 * State. */

static size_t dtype_size(dsc_dtype t)
{
    return t == DSC_FLOAT64 ? sizeof(double) : sizeof(float);
}

static size_t buffer_len(const dsc_optim *o, int i)
{
    return o->algo->buf_len ? o->algo->buf_len(o->groups[0].hp, o->n, i) : o->n;
}

static int buffer_used(const dsc_optim *o, int i)
{
    if (!o->algo->uses)
        return 1;
    for (int g = 0; g < o->ngroups; g++)
        if (o->algo->uses(o->groups[g].hp, i))
            return 1;
    return 0;
}

static size_t group_len(const optim_group *g)
{
    size_t len = 0;
    for (int s = 0; s < g->nseg; s++)
        len += g->segs[s].len;
    return len;
}

static dsc_status materialize(dsc_optim *o)
{
    if (o->materialized)
        return DSC_OK;
    const optim_algo *a = o->algo;
    for (int i = 0; i < a->n_state; i++) {
        if (!buffer_used(o, i))
            continue;
        const size_t len = buffer_len(o, i);
        o->buf[i] = len <= SIZE_MAX / dtype_size(o->dtype) ? calloc(len ? len : 1, dtype_size(o->dtype)) : NULL;
        if (!o->buf[i])
            return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory for state '%s' (%zu elements)", a->name,
                             a->state_names[i], len);
    }
    if (a->check_layout)
        for (int g = 0; g < o->ngroups; g++)
            DSC_TRY(a->check_layout(&o->groups[g], g));
    if (a->scratch_len) {
        size_t len = 0;
        for (int g = 0; g < o->ngroups; g++) {
            const size_t l = a->scratch_len(o->groups[g].hp, group_len(&o->groups[g]));
            len = l > len ? l : len;
        }
        o->scratch = len <= SIZE_MAX / dtype_size(o->dtype) ? calloc(len ? len : 1, dtype_size(o->dtype)) : NULL;
        if (!o->scratch)
            return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory for %zu elements of scratch space", a->name, len);
        for (int g = 0; g < o->ngroups; g++)
            o->groups[g].scratch = o->scratch;
    }
    if (a->n_scalars) {
        o->scal = calloc((size_t)o->ngroups * (size_t)a->n_scalars, sizeof(double));
        if (!o->scal)
            return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", a->name);
        for (int g = 0; g < o->ngroups; g++)
            o->groups[g].scal = o->scal + (size_t)g * (size_t)a->n_scalars;
    }
    o->materialized = 1;
    return DSC_OK;
}

typedef struct fill_ctx {
    dsc_optim *o;
    const optim_group *g;
} fill_ctx;

static void fill_buffer(void *ctx, int i, double v)
{
    fill_ctx *c = ctx;
    if (i < 0 || i >= c->o->algo->n_state || !c->o->buf[i])
        return;
    for (int s = 0; s < c->g->nseg; s++) {
        const size_t o = c->g->segs[s].off, e = o + c->g->segs[s].len;
        if (c->o->dtype == DSC_FLOAT64)
            for (size_t k = o; k < e; k++)
                ((double *)c->o->buf[i])[k] = v;
        else
            for (size_t k = o; k < e; k++)
                ((float *)c->o->buf[i])[k] = (float)v;
    }
}

static dsc_status lazy_init(dsc_optim *opt);

dsc_status dsc_optim_step(dsc_optim *opt, void *params, const void *grads)
{
    if (!opt || (opt->n && (!params || !grads)))
        return DSC_ERROR(DSC_ERR_INVALID, "dsc_optim_step: NULL optimizer, params or grads");
    if (opt->algo->wrap_step) {
        DSC_TRY(lazy_init(opt));
        opt->steps++;
        return opt->algo->wrap_step(opt, params, (void *)grads, NULL, NULL, NULL);
    }
    if (!opt->algo->step[opt->dtype])
        return DSC_ERROR(DSC_ERR_INVALID, "%s needs a closure: use dsc_optim_step_closure", opt->algo->name);
    DSC_TRY(lazy_init(opt));
    const optim_algo *a = opt->algo;
    const int64_t t = ++opt->steps;
    for (int g = 0; g < opt->ngroups; g++)
        a->step[opt->dtype](&opt->groups[g], t, params, grads, opt->buf);
    return DSC_OK;
}

/* Allocates the state and, before the first step, initializes it from the groups' options. */
static dsc_status lazy_init(dsc_optim *opt)
{
    DSC_TRY(materialize(opt));
    const optim_algo *a = opt->algo;
    if (opt->steps == 0) {
        /* Lazy state initialization from the groups' options now, as torch does. */
        for (int i = 0; i < OPT_MAX_STATE; i++)
            if (opt->buf[i])
                memset(opt->buf[i], 0, buffer_len(opt, i) * dtype_size(opt->dtype));
        if (opt->scal)
            memset(opt->scal, 0, (size_t)opt->ngroups * (size_t)a->n_scalars * sizeof(double));
        for (int g = 0; g < opt->ngroups; g++)
            if (a->init) {
                fill_ctx c = {opt, &opt->groups[g]};
                a->init(&opt->groups[g], fill_buffer, &c);
            }
    }
    return DSC_OK;
}

dsc_status dsc_optim_step_closure(dsc_optim *opt, void *params, void *grads, dsc_closure closure, void *ctx,
                                  double *loss)
{
    if (!opt || !closure)
        return DSC_ERROR(DSC_ERR_INVALID, "dsc_optim_step_closure: NULL optimizer or closure");
    if (opt->n && (!params || !grads))
        return DSC_ERROR(DSC_ERR_INVALID, "dsc_optim_step_closure: NULL params or grads");
    if (opt->algo->wrap_step) {
        DSC_TRY(lazy_init(opt));
        opt->steps++;
        double f = NAN;
        const dsc_status s = opt->algo->wrap_step(opt, params, grads, closure, ctx, &f);
        if (loss)
            *loss = f;
        return s;
    }
    if (opt->algo->closure_step[opt->dtype]) {
        DSC_TRY(lazy_init(opt));
        double f = NAN;
        const optim_closure_args args = {&opt->groups[0], ++opt->steps, opt->n, params, grads, opt->buf,
                                         opt->scratch, closure, ctx, &f};
        const dsc_status s = opt->algo->closure_step[opt->dtype](&args);
        if (loss)
            *loss = f;
        return s;
    }
    const double f = closure(ctx, params, grads);
    if (loss)
        *loss = f;
    return dsc_optim_step(opt, params, grads);
}

int dsc_optim_num_buffers(const dsc_optim *opt)
{
    if (!opt || materialize((dsc_optim *)opt))
        return 0;
    int n = 0;
    for (int i = 0; i < opt->algo->n_state; i++)
        n += opt->buf[i] != NULL;
    return n + (opt->scal != NULL) + (opt->inner ? dsc_optim_num_buffers(opt->inner) : 0);
}

dsc_status dsc_optim_buffer_at(dsc_optim *opt, int i, dsc_optim_buffer *out)
{
    if (!opt || !out)
        return DSC_ERROR(DSC_ERR_INVALID, "dsc_optim_buffer_at: NULL argument");
    DSC_TRY(materialize(opt));
    int k = 0;
    for (int s = 0; s < opt->algo->n_state; s++) {
        if (!opt->buf[s])
            continue;
        if (k++ == i) {
            out->name = opt->algo->state_names[s];
            out->dtype = opt->dtype;
            out->len = buffer_len(opt, s);
            out->data = opt->buf[s];
            return DSC_OK;
        }
    }
    if (opt->scal && k++ == i) {
        out->name = "scalars";
        out->dtype = DSC_FLOAT64;
        out->len = (size_t)opt->ngroups * (size_t)opt->algo->n_scalars;
        out->data = opt->scal;
        return DSC_OK;
    }
    if (opt->inner && i >= k && i - k < 16 && dsc_optim_buffer_at(opt->inner, i - k, out) == DSC_OK) {
        snprintf(opt->names[i - k], sizeof opt->names[0], "base.%s", out->name);
        out->name = opt->names[i - k];
        return DSC_OK;
    }
    return DSC_ERROR(DSC_ERR_RANGE, "%s: state buffer %d does not exist (it has %d)", opt->algo->name, i,
                     dsc_optim_num_buffers(opt));
}

int64_t dsc_optim_steps(const dsc_optim *opt)
{
    return opt ? opt->steps : 0;
}

dsc_status dsc_optim_set_steps(dsc_optim *opt, int64_t steps)
{
    if (!opt || steps < 0)
        return DSC_ERROR(DSC_ERR_RANGE, "dsc_optim_set_steps: NULL optimizer or negative step count");
    DSC_TRY(materialize(opt));
    if (opt->inner)
        DSC_TRY(dsc_optim_set_steps(opt->inner, steps));
    opt->steps = steps;
    return DSC_OK;
}

/* ---------------------------------------------------------------------------------------
 * Hyperparameters. */

static dsc_status check_group(const dsc_optim *opt, int group, const char *fn)
{
    if (!opt)
        return DSC_ERROR(DSC_ERR_INVALID, "%s: optimizer is NULL", fn);
    if (group < 0 || group >= opt->ngroups)
        return DSC_ERROR(DSC_ERR_RANGE, "%s: group %d does not exist (the optimizer has %d)", fn, group,
                         opt->ngroups);
    return DSC_OK;
}

dsc_status dsc_optim_set_hparam(dsc_optim *opt, int group, const char *key, double value)
{
    if (opt && opt->inner && (!key || key_index(opt->algo, key) < 0 || group > 0))
        return dsc_optim_set_hparam(opt->inner, group, key, value);
    DSC_TRY(check_group(opt, group, "dsc_optim_set_hparam"));
    const optim_algo *a = opt->algo;
    const int k = key ? key_index(a, key) : -1;
    if (k < 0) {
        char list[512];
        key_list(a, list, sizeof list);
        return DSC_ERROR(DSC_ERR_INVALID, "%s: unknown option '%s'; valid options: %s", a->name, key ? key : "(null)",
                         list);
    }
    if (!isfinite(value))
        return DSC_ERROR(DSC_ERR_RANGE, "%s: option '%s' must be finite", a->name, key);
    double hp[OPT_MAX_KEYS];
    memcpy(hp, opt->groups[group].hp, sizeof hp);
    hp[k] = a->keys[k].kind == KEY_REAL ? value : (double)(long)value;
    if (a->keys[k].kind == KEY_BOOL && hp[k] != 0 && hp[k] != 1)
        return DSC_ERROR(DSC_ERR_RANGE, "%s: option '%s' takes 0 or 1", a->name, key);
    if (a->keys[k].kind == KEY_ENUM) {
        int nc = 0;
        while (a->keys[k].choices[nc])
            nc++;
        if (hp[k] < 0 || hp[k] >= nc)
            return DSC_ERROR(DSC_ERR_RANGE, "%s: option '%s' takes an index in [0, %d)", a->name, key, nc);
    }
    DSC_TRY(check_range(a, hp));
    if (opt->materialized && (a->buf_len || a->scratch_len)) {
        const size_t gl = group_len(&opt->groups[group]);
        int same = !a->scratch_len || a->scratch_len(hp, gl) == a->scratch_len(opt->groups[group].hp, gl);
        for (int i = 0; i < a->n_state && same && a->buf_len; i++)
            same = a->buf_len(hp, opt->n, i) == a->buf_len(opt->groups[group].hp, opt->n, i);
        if (!same)
            return DSC_ERROR(DSC_ERR_STATE, "%s: '%s' sets the size of the state; it cannot change after the first "
                                            "step",
                             a->name, key);
    }
    if (opt->materialized && a->uses)
        for (int i = 0; i < a->n_state; i++)
            if (!opt->buf[i] && a->uses(hp, i))
                return DSC_ERROR(DSC_ERR_STATE, "%s: setting '%s' needs state '%s' that was not created; set it "
                                                "before the first step",
                                 a->name, key, a->state_names[i]);
    opt->groups[group].hp[k] = hp[k];
    return DSC_OK;
}

dsc_status dsc_optim_get_hparam(const dsc_optim *opt, int group, const char *key, double *value)
{
    if (opt && opt->inner && (!key || key_index(opt->algo, key) < 0 || group > 0))
        return dsc_optim_get_hparam(opt->inner, group, key, value);
    DSC_TRY(check_group(opt, group, "dsc_optim_get_hparam"));
    const int k = key ? key_index(opt->algo, key) : -1;
    if (k < 0)
        return DSC_ERROR(DSC_ERR_INVALID, "%s: unknown option '%s'", opt->algo->name, key ? key : "(null)");
    *value = opt->groups[group].hp[k];
    return DSC_OK;
}

dsc_status dsc_optim_set_lr(dsc_optim *opt, int group, double lr)
{
    return dsc_optim_set_hparam(opt, group, "lr", lr);
}

double dsc_optim_get_lr(const dsc_optim *opt, int group)
{
    if (opt && opt->inner && key_index(opt->algo, "lr") < 0)
        return dsc_optim_get_lr(opt->inner, group);
    if (!opt || group < 0 || group >= opt->ngroups)
        return NAN;
    const int k = key_index(opt->algo, "lr");
    return k < 0 ? NAN : opt->groups[group].hp[k];
}

int dsc_optim_needs_closure(const dsc_optim *opt)
{
    if (!opt)
        return 0;
    if (opt->algo->closure_step[opt->dtype] || opt->algo == &dsc_optim_algo_sam || opt->algo == &dsc_optim_algo_zo)
        return 1;
    return opt->inner ? dsc_optim_needs_closure(opt->inner) : 0;
}

int dsc_optim_num_groups(const dsc_optim *opt)
{
    if (opt && opt->inner)
        return dsc_optim_num_groups(opt->inner);
    return opt ? opt->ngroups : 0;
}

size_t dsc_optim_size(const dsc_optim *opt)
{
    return opt ? opt->n : 0;
}

dsc_dtype dsc_optim_dtype(const dsc_optim *opt)
{
    return opt ? opt->dtype : DSC_FLOAT32;
}

const char *dsc_optim_name(const dsc_optim *opt)
{
    return opt ? opt->algo->name : "";
}

static size_t append(char *buf, size_t size, size_t len, const char *fmt, const char *a, const char *b)
{
    if (len < size)
        len += (size_t)snprintf(buf + len, size - len, fmt, a, b);
    return len;
}

const char *dsc_optim_spec_str(const dsc_optim *opt, int group, char *buf, size_t size)
{
    if (!buf || !size)
        return buf;
    buf[0] = 0;
    if (!opt || group < 0 || group >= dsc_optim_num_groups(opt))
        return buf;
    const optim_algo *a = opt->algo;
    size_t len = append(buf, size, 0, "%s%s", a->name, ":");
    for (int k = 0; k < a->n_keys; k++) {
        char v[40];
        const double x = opt->groups[opt->inner ? 0 : group].hp[k];
        if (a->keys[k].kind == KEY_ENUM)
            snprintf(v, sizeof v, "%s", a->keys[k].choices[(int)x]);
        else
            fmt_num(v, sizeof v, x);
        len = append(buf, size, len, k ? ",%s=" : "%s=", a->keys[k].name, "");
        len = append(buf, size, len, "%s%s", v, "");
    }
    if (opt->inner && len + 8 < size) {
        len = append(buf, size, len, "%s%s", a->n_keys ? "," : "", "base=[");
        dsc_optim_spec_str(opt->inner, group, buf + len, size - len);
        len += strlen(buf + len);
        append(buf, size, len, "%s%s", "]", "");
    }
    return buf;
}

static size_t help_one(const optim_algo *a, char *buf, size_t size, size_t len)
{
    len = append(buf, size, len, "%s: %s\n", a->name, a->summary);
    for (int k = 0; k < a->n_keys; k++) {
        const optim_key *key = &a->keys[k];
        char d[40], r[96];
        if (key->kind == KEY_ENUM) {
            snprintf(d, sizeof d, "%s", key->choices[(int)key->def]);
            size_t rl = (size_t)snprintf(r, sizeof r, "one of");
            for (int c = 0; key->choices[c] && rl < sizeof r; c++)
                rl += (size_t)snprintf(r + rl, sizeof r - rl, " %s", key->choices[c]);
        } else if (key->kind == KEY_BOOL) {
            fmt_num(d, sizeof d, key->def);
            snprintf(r, sizeof r, "0 or 1");
        } else {
            fmt_num(d, sizeof d, key->def);
            range_str(key, r, sizeof r);
        }
        len = append(buf, size, len, "    %-26s", key->name, "");
        len = append(buf, size, len, "default %-8s  %s\n", d, r);
    }
    if (a->wrap_step)
        len = append(buf, size, len, "    %-26s%s\n", "base",
                     "required: the wrapped optimizer, base=[SPEC] or base=SPEC as the last option");
    return len;
}

const char *dsc_optim_help(const char *name, char *buf, size_t size)
{
    if (!buf || !size)
        return buf;
    buf[0] = 0;
    size_t len = 0;
    for (int i = 0; i < N_ALGOS; i++)
        if (!name || !strcmp(name, algos[i]->name))
            len = help_one(algos[i], buf, size, len);
    if (!len)
        snprintf(buf, size, "unknown optimizer '%s'; valid optimizers: %s\n", name, dsc_optim_names());
    return buf;
}
