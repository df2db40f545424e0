/* Schedule spec strings: `kind:key=value,...` with nested schedules in [brackets] and lists
 * joined by '+' (grammar in include/descent/schedule.h and docs/ALGORITHMS.md).
 *
 * The nesting is resolved here; the flat part goes through the generic parser (descent/spec.h)
 * with every nested value replaced by a placeholder "@i", so typed getters, ranges and the
 * "unknown key (valid keys: ...)" messages are the generic ones. build() fills the node
 * (src/optim/schedule_internal.h) that schedule.c evaluates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descent/schedule.h"
#include "descent/spec.h"
#include "optim/schedule_internal.h"

#define MAX_NESTED 16

typedef struct raw_spec {
    const char *text;       /* the spec as given (for messages) */
    dsc_kvspec kv;          /* flat spec, nested values replaced by "@i" */
    char *nested[MAX_NESTED];
    int n_nested;
} raw_spec;

static void raw_free(raw_spec *r)
{
    dsc_kvspec_free(&r->kv);
    for (int i = 0; i < r->n_nested; i++)
        free(r->nested[i]);
    r->n_nested = 0;
}

static char *dup_range(const char *a, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, a, n);
        s[n] = 0;
    }
    return s;
}

/* Checks that brackets balance in text[0..n). */
static int balanced(const char *t, size_t n)
{
    int d = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '[')
            d++;
        else if (t[i] == ']' && --d < 0)
            return 0;
    }
    return d == 0;
}

static dsc_status raw_parse(const char *text, raw_spec *r)
{
    memset(r, 0, sizeof *r);
    r->text = text;
    size_t len = strlen(text);
    if (!balanced(text, len))
        return DSC_ERROR(DSC_ERR_INVALID, "schedule '%s': unbalanced [brackets]", text);
    /* flat copy: at most the text plus short placeholders */
    size_t cap = len + 8 * MAX_NESTED + 2;
    char *flat = malloc(cap);
    if (!flat)
        return DSC_ERROR(DSC_ERR_NOMEM, "schedule '%s': out of memory", text);
    size_t fl = 0;
    const char *colon = strchr(text, ':');
    const char *lb = strchr(text, '[');
    if (lb && (!colon || lb < colon)) {
        free(flat);
        return DSC_ERROR(DSC_ERR_INVALID, "schedule '%s': expected kind:key=value,... (a bracket before the kind)",
                         text);
    }
    size_t nl = colon ? (size_t)(colon - text) : len;
    memcpy(flat, text, nl);
    fl = nl;
    if (colon) {
        flat[fl++] = ':';
        const char *p = colon + 1;
        int first = 1;
        while (*p) {
            /* one item: up to the next ',' outside brackets; `then=` without a bracket takes the rest */
            const char *e = p;
            int d = 0;
            while (*p == ' ')
                p++;
            e = p;
            int rest = !strncmp(p, "then=", 5) && p[5] != '[';
            while (*e && (rest || d > 0 || *e != ',')) {
                if (*e == '[')
                    d++;
                else if (*e == ']')
                    d--;
                e++;
            }
            const char *eq = memchr(p, '=', (size_t)(e - p));
            int nested = eq && (rest || memchr(eq, '[', (size_t)(e - eq)));
            if (!first)
                flat[fl++] = ',';
            first = 0;
            if (nested) {
                if (r->n_nested == MAX_NESTED) {
                    free(flat);
                    return DSC_ERROR(DSC_ERR_INVALID, "schedule '%s': more than %d nested values", text, MAX_NESTED);
                }
                size_t kl = (size_t)(eq - p) + 1;
                memcpy(flat + fl, p, kl);
                fl += kl;
                fl += (size_t)snprintf(flat + fl, cap - fl, "@%d", r->n_nested);
                r->nested[r->n_nested] = dup_range(eq + 1, (size_t)(e - eq - 1));
                if (!r->nested[r->n_nested]) {
                    free(flat);
                    return DSC_ERROR(DSC_ERR_NOMEM, "schedule '%s': out of memory", text);
                }
                r->n_nested++;
            } else {
                memcpy(flat + fl, p, (size_t)(e - p));
                fl += (size_t)(e - p);
            }
            p = *e ? e + 1 : e;
            if (*e == ',' && !*p) {
                free(flat);
                return DSC_ERROR(DSC_ERR_INVALID, "schedule '%s': empty item at the end", text);
            }
        }
    }
    flat[fl] = 0;
    dsc_status st = dsc_kvspec_parse(flat, &r->kv);
    free(flat);
    if (st == DSC_OK && !*r->kv.name)
        st = DSC_ERROR(DSC_ERR_INVALID, "schedule '%s': no kind (valid kinds: %s)", text, dsc_schedule_names());
    return st;
}

/* The nested text behind a placeholder value, or NULL. */
static const char *nested_of(const raw_spec *r, const char *key)
{
    const char *v = dsc_kvspec_find(&r->kv, key);
    if (!v)
        return NULL;
    if (v[0] == '@') {
        int i = atoi(v + 1);
        if (i >= 0 && i < r->n_nested)
            return r->nested[i];
    }
    return v;
}

static dsc_status parse_node(const char *text, int depth, dsc_schedule **out);

/* A schedule given as "[spec]" or "spec". */
static dsc_status parse_child(const char *owner, const char *t, size_t n, int depth, dsc_schedule **out)
{
    while (n > 0 && *t == ' ')
        t++, n--;
    while (n > 0 && t[n - 1] == ' ')
        n--;
    if (n >= 2 && t[0] == '[' && t[n - 1] == ']' && balanced(t + 1, n - 2))
        t++, n -= 2;
    if (n == 0)
        return DSC_ERROR(DSC_ERR_INVALID, "%s: empty nested schedule", owner);
    char *s = dup_range(t, n);
    if (!s)
        return DSC_ERROR(DSC_ERR_NOMEM, "%s: out of memory", owner);
    dsc_status st = parse_node(s, depth + 1, out);
    free(s);
    return st;
}

/* "a+b+[c,d]+..." split at '+' outside brackets into children. */
static dsc_status parse_children(const char *owner, const char *list, int depth, dsc_schedule **ch, int *n)
{
    *n = 0;
    const char *p = list;
    for (;;) {
        const char *e = p;
        int d = 0;
        while (*e && (d > 0 || *e != '+')) {
            if (*e == '[')
                d++;
            else if (*e == ']')
                d--;
            e++;
        }
        if (*n == DSC_SCHED_MAX_LIST)
            return DSC_ERROR(DSC_ERR_INVALID, "%s: more than %d schedules", owner, DSC_SCHED_MAX_LIST);
        DSC_TRY(parse_child(owner, p, (size_t)(e - p), depth, &ch[*n]));
        (*n)++;
        if (!*e)
            return DSC_OK;
        p = e + 1;
    }
}

/* "30+60+90" -> integers (non-decreasing if increasing is set). */
static dsc_status parse_int_list(const char *owner, const char *key, const char *v, int64_t *out, int *n,
                                 int increasing)
{
    *n = 0;
    const char *p = v;
    char what[96];
    snprintf(what, sizeof what, "%s: %s", owner, key);
    for (;;) {
        const char *e = strchr(p, '+');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char buf[32];
        if (len == 0 || len >= sizeof buf)
            return DSC_ERROR(DSC_ERR_INVALID, "%s=%s: expected integers joined by '+', e.g. 30+60+90", what, v);
        memcpy(buf, p, len);
        buf[len] = 0;
        if (*n == DSC_SCHED_MAX_LIST)
            return DSC_ERROR(DSC_ERR_INVALID, "%s: more than %d values", what, DSC_SCHED_MAX_LIST);
        int64_t x;
        DSC_TRY(dsc_parse_int64(buf, what, &x));
        if (x < 0)
            return DSC_ERROR(DSC_ERR_RANGE, "%s=%s: %lld is negative", what, v, (long long)x);
        if (increasing && *n > 0 && x <= out[*n - 1])
            return DSC_ERROR(DSC_ERR_INVALID, "%s=%s: values must increase", what, v);
        out[(*n)++] = x;
        if (!e)
            return DSC_OK;
        p = e + 1;
    }
}

static dsc_schedule *new_node(int kind)
{
    dsc_schedule *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->kind = kind;
    s->max_lr = s->base_lr = NAN;
    s->factor = 1;
    return s;
}

#define BIG 1e300
#define IBIG ((int64_t)1 << 40)

static const char *const keys_constant[] = {"factor", "total_iters", NULL};
static const char *const keys_step[] = {"step_size", "gamma", NULL};
static const char *const keys_multistep[] = {"milestones", "gamma", NULL};
static const char *const keys_exponential[] = {"gamma", NULL};
static const char *const keys_invtime[] = {"decay_rate", "decay_steps", "power", "staircase", NULL};
static const char *const keys_poly[] = {"total_iters", "power", NULL};
static const char *const keys_linear[] = {"start_factor", "end_factor", "total_iters", NULL};
static const char *const keys_cosine[] = {"t_max", "eta_min", NULL};
static const char *const keys_restarts[] = {"t_0", "t_mult", "eta_min", NULL};
static const char *const keys_warmup[] = {"steps", "start_factor", "then", NULL};
static const char *const keys_onecycle[] = {"max_lr",        "total_steps",    "epochs",        "steps_per_epoch",
                                            "pct_start",     "anneal_strategy", "cycle_momentum", "base_momentum",
                                            "max_momentum",  "div_factor",     "final_div_factor", "three_phase",
                                            NULL};
static const char *const keys_cyclic[] = {"base_lr",      "max_lr", "step_size_up",   "step_size_down", "mode",
                                          "gamma",        "cycle_momentum", "base_momentum", "max_momentum", NULL};
static const char *const keys_plateau[] = {"mode",   "factor", "patience", "threshold", "threshold_mode",
                                           "cooldown", "min_lr", "eps",     NULL};
static const char *const keys_wsd[] = {"warmup", "stable", "decay", "decay_type", "start_factor", "end_factor", NULL};
static const char *const keys_sequential[] = {"schedules", "milestones", NULL};
static const char *const keys_chain[] = {"schedules", NULL};
static const char *const keys_batch[] = {"rule", "batch", "base_batch", "then", NULL};
static const char *const keys_inv_l[] = {"L", NULL};
static const char *const keys_two_mu_l[] = {"mu", "L", NULL};
static const char *const keys_dgsqrt[] = {"D", "G", "T", "anytime", "sigma", NULL};
static const char *const keys_smooth_sgd[] = {"L", "delta", "sigma", "T", "batch", NULL};
static const char *const keys_pl_decay[] = {"mu", NULL};
static const char *const keys_chebyshev[] = {"mu", "L", "n", NULL};

static const char *const *const kind_keys[DSC_SCHED_KIND_COUNT] = {
    keys_constant, keys_step,     keys_multistep, keys_exponential, keys_invtime, keys_poly,      keys_linear,
    keys_cosine,   keys_restarts, keys_warmup,    keys_onecycle,    keys_cyclic,  keys_plateau,   keys_wsd,
    keys_sequential, keys_chain,  keys_batch,     keys_inv_l,       keys_two_mu_l, keys_dgsqrt,   keys_pl_decay,
    keys_chebyshev, keys_smooth_sgd};

const char *dsc_schedule_help(char *buf, size_t size)
{
    size_t len = 0;
    if (!buf || size == 0)
        return buf;
    buf[0] = 0;
    for (int k = 0; k < DSC_SCHED_KIND_COUNT && len < size; k++) {
        len += (size_t)snprintf(buf + len, size - len, "  %-18s", dsc_sched_kind_name(k));
        for (int i = 0; kind_keys[k][i] && len < size; i++)
            len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", kind_keys[k][i]);
        if (len < size)
            len += (size_t)snprintf(buf + len, size - len, "\n");
    }
    return buf;
}

static dsc_status need(const raw_spec *r, const char *key, const char *example)
{
    if (!dsc_kvspec_has(&r->kv, key))
        return DSC_ERROR(DSC_ERR_INVALID, "%s: missing %s (e.g. '%s')", r->kv.name, key, example);
    return DSC_OK;
}

static dsc_status positive(const raw_spec *r, const char *key, double v)
{
    if (!(v > 0))
        return DSC_ERROR(DSC_ERR_RANGE, "%s: %s=%g must be > 0", r->kv.name, key, v);
    return DSC_OK;
}

static dsc_status build(raw_spec *r, int depth, dsc_schedule *s)
{
    const dsc_kvspec *kv = &r->kv;
    const char *name = kv->name;
    if (dsc_kvspec_n_positional(kv) > 0) {
        /* most likely a list written with ',' */
        char keys[256];
        size_t len = 0;
        keys[0] = 0;
        for (int i = 0; kind_keys[s->kind][i] && len < sizeof keys; i++)
            len += (size_t)snprintf(keys + len, sizeof keys - len, "%s%s", i ? ", " : "", kind_keys[s->kind][i]);
        return DSC_ERROR(DSC_ERR_INVALID,
                         "%s: unexpected value '%s' (expected key=value; lists are joined with '+', e.g. "
                         "milestones=30+60+90, and nested schedules go in [brackets]; valid keys: %s)",
                         name, dsc_kvspec_positional(kv, 0), keys);
    }
    DSC_TRY(dsc_kvspec_check(kv, kind_keys[s->kind], 0));
    switch (s->kind) {
    case DSC_SCHED_CONSTANT:
        DSC_TRY(dsc_kvspec_double(kv, "factor", 1.0, 0, 1, &s->factor));
        DSC_TRY(dsc_kvspec_int(kv, "total_iters", 0, 0, IBIG, &s->total));
        break;
    case DSC_SCHED_STEP:
        DSC_TRY(need(r, "step_size", "step:step_size=30,gamma=0.1"));
        DSC_TRY(dsc_kvspec_int(kv, "step_size", 1, 1, IBIG, &s->step_size));
        DSC_TRY(dsc_kvspec_double(kv, "gamma", 0.1, 0, BIG, &s->gamma));
        break;
    case DSC_SCHED_MULTISTEP: {
        DSC_TRY(need(r, "milestones", "multistep:milestones=30+60+90,gamma=0.1"));
        DSC_TRY(parse_int_list(name, "milestones", dsc_kvspec_find(kv, "milestones"), s->ms, &s->n_ms, 0));
        DSC_TRY(dsc_kvspec_double(kv, "gamma", 0.1, 0, BIG, &s->gamma));
        break;
    }
    case DSC_SCHED_EXPONENTIAL:
        DSC_TRY(need(r, "gamma", "exponential:gamma=0.9"));
        DSC_TRY(dsc_kvspec_double(kv, "gamma", 1, 0, BIG, &s->gamma));
        break;
    case DSC_SCHED_INVTIME:
        DSC_TRY(need(r, "decay_rate", "inverse_time:decay_rate=0.5,decay_steps=100"));
        DSC_TRY(dsc_kvspec_double(kv, "decay_rate", 1, 0, BIG, &s->rate));
        DSC_TRY(dsc_kvspec_int(kv, "decay_steps", 1, 1, IBIG, &s->step_size));
        DSC_TRY(dsc_kvspec_double(kv, "power", 1, 0, BIG, &s->power));
        DSC_TRY(dsc_kvspec_bool(kv, "staircase", 0, &s->staircase));
        break;
    case DSC_SCHED_POLY:
        DSC_TRY(dsc_kvspec_int(kv, "total_iters", 5, 1, IBIG, &s->total));
        DSC_TRY(dsc_kvspec_double(kv, "power", 1.0, 0, BIG, &s->power));
        break;
    case DSC_SCHED_LINEAR:
        DSC_TRY(dsc_kvspec_double(kv, "start_factor", 1.0 / 3, 0, 1, &s->start_factor));
        DSC_TRY(dsc_kvspec_double(kv, "end_factor", 1.0, 0, 1, &s->end_factor));
        DSC_TRY(dsc_kvspec_int(kv, "total_iters", 5, 1, IBIG, &s->total));
        break;
    case DSC_SCHED_COSINE:
        DSC_TRY(need(r, "t_max", "cosine:t_max=100,eta_min=0"));
        DSC_TRY(dsc_kvspec_int(kv, "t_max", 1, 1, IBIG, &s->t_max));
        DSC_TRY(dsc_kvspec_double(kv, "eta_min", 0, -BIG, BIG, &s->eta_min));
        break;
    case DSC_SCHED_RESTARTS:
        DSC_TRY(need(r, "t_0", "cosine_restarts:t_0=10,t_mult=2"));
        DSC_TRY(dsc_kvspec_int(kv, "t_0", 1, 1, IBIG, &s->t_0));
        DSC_TRY(dsc_kvspec_int(kv, "t_mult", 1, 1, 1 << 20, &s->t_mult));
        DSC_TRY(dsc_kvspec_double(kv, "eta_min", 0, -BIG, BIG, &s->eta_min));
        break;
    case DSC_SCHED_WARMUP: {
        DSC_TRY(need(r, "steps", "warmup:steps=5,then=cosine:t_max=100"));
        int64_t w;
        DSC_TRY(dsc_kvspec_int(kv, "steps", 0, 0, IBIG, &w));
        double f;
        DSC_TRY(dsc_kvspec_double(kv, "start_factor", 0, 0, 1, &f));
        const char *then = nested_of(r, "then");
        dsc_schedule *child = NULL;
        if (then)
            DSC_TRY(parse_child(name, then, strlen(then), depth, &child));
        else if (!(child = new_node(DSC_SCHED_CONSTANT)))
            return DSC_ERROR(DSC_ERR_NOMEM, "warmup: out of memory");
        dsc_schedule *lin = new_node(DSC_SCHED_LINEAR);
        if (!lin) {
            dsc_schedule_free(child);
            return DSC_ERROR(DSC_ERR_NOMEM, "warmup: out of memory");
        }
        lin->start_factor = f;
        lin->end_factor = 1;
        lin->total = w > 0 ? w : 1;
        s->ch[0] = lin;
        s->ch[1] = child;
        s->n_ch = 2;
        s->ms[0] = w;
        s->n_ms = 1;
        break;
    }
    case DSC_SCHED_ONECYCLE: {
        static const char *const strategies[] = {"cos", "linear", NULL};
        DSC_TRY(dsc_kvspec_double(kv, "max_lr", NAN, 0, BIG, &s->max_lr));
        if (dsc_kvspec_has(kv, "total_steps")) {
            DSC_TRY(dsc_kvspec_int(kv, "total_steps", 1, 1, IBIG, &s->total));
        } else if (dsc_kvspec_has(kv, "epochs") && dsc_kvspec_has(kv, "steps_per_epoch")) {
            int64_t e, spe;
            DSC_TRY(dsc_kvspec_int(kv, "epochs", 1, 1, IBIG, &e));
            DSC_TRY(dsc_kvspec_int(kv, "steps_per_epoch", 1, 1, IBIG, &spe));
            s->total = e * spe;
        } else {
            return DSC_ERROR(DSC_ERR_INVALID,
                             "onecycle: give total_steps, or epochs and steps_per_epoch (e.g. 'onecycle:total_steps=1000')");
        }
        DSC_TRY(dsc_kvspec_double(kv, "pct_start", 0.3, 0, 1, &s->pct_start));
        DSC_TRY(dsc_kvspec_choice(kv, "anneal_strategy", strategies, 0, &s->anneal));
        DSC_TRY(dsc_kvspec_bool(kv, "cycle_momentum", 1, &s->cycle_momentum));
        DSC_TRY(dsc_kvspec_double(kv, "base_momentum", 0.85, -BIG, BIG, &s->base_momentum));
        DSC_TRY(dsc_kvspec_double(kv, "max_momentum", 0.95, -BIG, BIG, &s->max_momentum));
        DSC_TRY(dsc_kvspec_double(kv, "div_factor", 25., 0, BIG, &s->div_factor));
        DSC_TRY(dsc_kvspec_double(kv, "final_div_factor", 1e4, 0, BIG, &s->final_div_factor));
        DSC_TRY(positive(r, "div_factor", s->div_factor));
        DSC_TRY(positive(r, "final_div_factor", s->final_div_factor));
        DSC_TRY(dsc_kvspec_bool(kv, "three_phase", 0, &s->three_phase));
        /* torch's phase ends: pct*T - 1, (2 pct T - 2), T - 1 */
        double T = (double)s->total;
        s->phase_end[0] = (double)(s->pct_start * T) - 1;
        if (s->three_phase) {
            s->phase_end[1] = (double)(2 * s->pct_start * T) - 2;
            s->phase_end[2] = T - 1;
            s->n_phases = 3;
        } else {
            s->phase_end[1] = T - 1;
            s->n_phases = 2;
        }
        /* torch divides by end_step - start_step: refuse exactly empty phases (other odd
         * phase lengths, e.g. negative ones for tiny totals, torch computes, and so do we) */
        double prev = 0;
        for (int i = 0; i < s->n_phases; i++) {
            if (s->phase_end[i] == prev)
                return DSC_ERROR(DSC_ERR_RANGE,
                                 "onecycle: phase %d is empty with total_steps=%lld and pct_start=%g (torch divides "
                                 "by zero here); use more steps or another pct_start",
                                 i + 1, (long long)s->total, s->pct_start);
            prev = s->phase_end[i];
        }
        break;
    }
    case DSC_SCHED_CYCLIC: {
        static const char *const modes[] = {"triangular", "triangular2", "exp_range", NULL};
        DSC_TRY(need(r, "max_lr", "cyclic:max_lr=0.1,step_size_up=2000"));
        DSC_TRY(dsc_kvspec_double(kv, "base_lr", NAN, 0, BIG, &s->base_lr));
        DSC_TRY(dsc_kvspec_double(kv, "max_lr", 0, 0, BIG, &s->max_lr));
        DSC_TRY(dsc_kvspec_int(kv, "step_size_up", 2000, 1, IBIG, &s->up));
        DSC_TRY(dsc_kvspec_int(kv, "step_size_down", s->up, 1, IBIG, &s->down));
        DSC_TRY(dsc_kvspec_choice(kv, "mode", modes, 0, &s->mode));
        DSC_TRY(dsc_kvspec_double(kv, "gamma", 1., 0, BIG, &s->gamma));
        DSC_TRY(dsc_kvspec_bool(kv, "cycle_momentum", 1, &s->cycle_momentum));
        DSC_TRY(dsc_kvspec_double(kv, "base_momentum", 0.8, -BIG, BIG, &s->base_momentum));
        DSC_TRY(dsc_kvspec_double(kv, "max_momentum", 0.9, -BIG, BIG, &s->max_momentum));
        break;
    }
    case DSC_SCHED_PLATEAU: {
        static const char *const modes[] = {"min", "max", NULL};
        static const char *const tmodes[] = {"rel", "abs", NULL};
        if (depth > 0)
            return DSC_ERROR(DSC_ERR_INVALID,
                             "reduce_on_plateau cannot be nested in another schedule (it reads a metric; torch's "
                             "ReduceLROnPlateau is not an _LRScheduler either)");
        DSC_TRY(dsc_kvspec_choice(kv, "mode", modes, 0, &s->mode));
        DSC_TRY(dsc_kvspec_double(kv, "factor", 0.1, 0, BIG, &s->factor));
        if (!(s->factor < 1.0))
            return DSC_ERROR(DSC_ERR_RANGE, "reduce_on_plateau: factor=%g must be < 1", s->factor);
        DSC_TRY(dsc_kvspec_int(kv, "patience", 10, 0, IBIG, &s->patience));
        DSC_TRY(dsc_kvspec_double(kv, "threshold", 1e-4, -BIG, BIG, &s->threshold));
        DSC_TRY(dsc_kvspec_choice(kv, "threshold_mode", tmodes, 0, &s->threshold_mode));
        DSC_TRY(dsc_kvspec_int(kv, "cooldown", 0, 0, IBIG, &s->cooldown));
        DSC_TRY(dsc_kvspec_double(kv, "min_lr", 0, 0, BIG, &s->min_lr));
        DSC_TRY(dsc_kvspec_double(kv, "eps", 1e-8, 0, BIG, &s->eps));
        s->best = s->mode == 0 ? INFINITY : -INFINITY;
        break;
    }
    case DSC_SCHED_WSD: {
        static const char *const types[] = {"linear", "cosine", "sqrt", NULL};
        DSC_TRY(need(r, "decay", "wsd:warmup=100,stable=800,decay=100"));
        DSC_TRY(dsc_kvspec_int(kv, "warmup", 0, 0, IBIG, &s->warmup));
        DSC_TRY(dsc_kvspec_int(kv, "stable", 0, 0, IBIG, &s->stable));
        DSC_TRY(dsc_kvspec_int(kv, "decay", 1, 1, IBIG, &s->decay));
        DSC_TRY(dsc_kvspec_choice(kv, "decay_type", types, 0, &s->decay_type));
        DSC_TRY(dsc_kvspec_double(kv, "start_factor", 0, 0, 1, &s->start_factor));
        DSC_TRY(dsc_kvspec_double(kv, "end_factor", 0, 0, 1, &s->end_factor));
        break;
    }
    case DSC_SCHED_SEQUENTIAL: {
        DSC_TRY(need(r, "schedules", "sequential:milestones=5,schedules=[linear:total_iters=5]+[cosine:t_max=95]"));
        DSC_TRY(need(r, "milestones", "sequential:milestones=5,schedules=[...]+[...]"));
        DSC_TRY(parse_children(name, nested_of(r, "schedules"), depth, s->ch, &s->n_ch));
        DSC_TRY(parse_int_list(name, "milestones", dsc_kvspec_find(kv, "milestones"), s->ms, &s->n_ms, 1));
        if (s->n_ms != s->n_ch - 1)
            return DSC_ERROR(DSC_ERR_INVALID, "sequential: %d schedules need %d milestones, got %d", s->n_ch,
                             s->n_ch - 1, s->n_ms);
        break;
    }
    case DSC_SCHED_CHAIN:
        DSC_TRY(need(r, "schedules", "chain:schedules=[constant:factor=0.1,total_iters=2]+[exponential:gamma=0.9]"));
        DSC_TRY(parse_children(name, nested_of(r, "schedules"), depth, s->ch, &s->n_ch));
        break;
    case DSC_SCHED_BATCH_SCALE: {
        static const char *const rules[] = {"none", "linear", "sqrt", NULL};
        DSC_TRY(need(r, "batch", "batch_scale:rule=linear,batch=1024,base_batch=256,then=cosine:t_max=90"));
        DSC_TRY(dsc_kvspec_choice(kv, "rule", rules, 1, &s->rule));
        DSC_TRY(dsc_kvspec_double(kv, "batch", 1, 0, BIG, &s->batch));
        DSC_TRY(dsc_kvspec_double(kv, "base_batch", 256, 0, BIG, &s->base_batch));
        DSC_TRY(positive(r, "batch", s->batch));
        DSC_TRY(positive(r, "base_batch", s->base_batch));
        s->factor = dsc_batch_scale_lr(1.0, (dsc_batch_rule)s->rule, s->batch, s->base_batch);
        const char *then = nested_of(r, "then");
        if (then) {
            DSC_TRY(parse_child(name, then, strlen(then), depth, &s->ch[0]));
        } else if (!(s->ch[0] = new_node(DSC_SCHED_CONSTANT))) {
            return DSC_ERROR(DSC_ERR_NOMEM, "batch_scale: out of memory");
        }
        s->n_ch = 1;
        break;
    }
    case DSC_SCHED_INV_L:
        DSC_TRY(need(r, "L", "inv_l:L=10"));
        DSC_TRY(dsc_kvspec_double(kv, "L", 1, 0, BIG, &s->L));
        DSC_TRY(positive(r, "L", s->L));
        break;
    case DSC_SCHED_TWO_MU_L:
        DSC_TRY(need(r, "mu", "two_mu_l:mu=1,L=10"));
        DSC_TRY(need(r, "L", "two_mu_l:mu=1,L=10"));
        DSC_TRY(dsc_kvspec_double(kv, "mu", 1, 0, BIG, &s->mu));
        DSC_TRY(dsc_kvspec_double(kv, "L", 1, 0, BIG, &s->L));
        DSC_TRY(positive(r, "L", s->L));
        break;
    case DSC_SCHED_DGSQRT:
        DSC_TRY(need(r, "D", "dgsqrt:D=1,G=1,T=1000"));
        DSC_TRY(need(r, "G", "dgsqrt:D=1,G=1,T=1000"));
        DSC_TRY(dsc_kvspec_double(kv, "D", 1, 0, BIG, &s->D));
        DSC_TRY(dsc_kvspec_double(kv, "G", 1, 0, BIG, &s->G));
        DSC_TRY(positive(r, "G", s->G));
        DSC_TRY(dsc_kvspec_bool(kv, "anytime", 0, &s->anytime));
        if (!s->anytime)
            DSC_TRY(need(r, "T", "dgsqrt:D=1,G=1,T=1000 (or anytime=1 for D/(G sqrt(k+1)))"));
        DSC_TRY(dsc_kvspec_int(kv, "T", 1, 1, IBIG, &s->T));
        DSC_TRY(dsc_kvspec_double(kv, "sigma", 0, 0, BIG, &s->sigma));
        break;
    case DSC_SCHED_SMOOTH_SGD:
        DSC_TRY(need(r, "L", "smooth_sgd:L=10,delta=1,sigma=0.5,T=1000"));
        DSC_TRY(dsc_kvspec_double(kv, "L", 1, 0, BIG, &s->L));
        DSC_TRY(positive(r, "L", s->L));
        DSC_TRY(dsc_kvspec_double(kv, "sigma", 0, 0, BIG, &s->sigma));
        if (s->sigma > 0) {
            DSC_TRY(need(r, "delta", "smooth_sgd:L=10,delta=1,sigma=0.5,T=1000 (delta >= f(x0) - f*)"));
            DSC_TRY(need(r, "T", "smooth_sgd:L=10,delta=1,sigma=0.5,T=1000"));
        }
        DSC_TRY(dsc_kvspec_double(kv, "delta", 1, 0, BIG, &s->delta));
        DSC_TRY(dsc_kvspec_int(kv, "T", 1, 1, IBIG, &s->T));
        DSC_TRY(dsc_kvspec_double(kv, "batch", 1, 0, BIG, &s->batch));
        DSC_TRY(positive(r, "batch", s->batch));
        break;
    case DSC_SCHED_PL_DECAY:
        DSC_TRY(need(r, "mu", "pl_decay:mu=0.1"));
        DSC_TRY(dsc_kvspec_double(kv, "mu", 1, 0, BIG, &s->mu));
        DSC_TRY(positive(r, "mu", s->mu));
        break;
    case DSC_SCHED_CHEBYSHEV:
        DSC_TRY(need(r, "mu", "chebyshev:mu=1,L=10"));
        DSC_TRY(need(r, "L", "chebyshev:mu=1,L=10"));
        DSC_TRY(dsc_kvspec_double(kv, "mu", 1, 0, BIG, &s->mu));
        DSC_TRY(dsc_kvspec_double(kv, "L", 1, 0, BIG, &s->L));
        DSC_TRY(positive(r, "mu", s->mu));
        if (!(s->L > s->mu))
            return DSC_ERROR(DSC_ERR_RANGE, "chebyshev: need L > mu > 0, got mu=%g, L=%g", s->mu, s->L);
        DSC_TRY(dsc_kvspec_int(kv, "n", 2, 1, 1 << 20, &s->n));
        break;
    default:
        break;
    }
    return DSC_OK;
}

static dsc_status parse_node(const char *text, int depth, dsc_schedule **out)
{
    *out = NULL;
    if (depth > 16)
        return DSC_ERROR(DSC_ERR_INVALID, "schedule '%s': nested more than 16 deep", text);
    raw_spec r;
    dsc_status st = raw_parse(text, &r);
    if (st != DSC_OK) {
        raw_free(&r);
        return st;
    }
    int k = dsc_sched_kind_from_name(r.kv.name);
    if (k < 0) {
        st = DSC_ERROR(DSC_ERR_INVALID, "schedule '%s': unknown kind '%s' (valid kinds: %s)", text, r.kv.name,
                       dsc_schedule_names());
        raw_free(&r);
        return st;
    }
    dsc_schedule *s = new_node(k);
    if (!s) {
        raw_free(&r);
        return DSC_ERROR(DSC_ERR_NOMEM, "schedule '%s': out of memory", text);
    }
    st = build(&r, depth, s);
    raw_free(&r);
    if (st != DSC_OK) {
        dsc_schedule_free(s);
        return st;
    }
    if (k == DSC_SCHED_WARMUP && s->ms[0] == 0) {
        /* no warm-up steps: just the schedule that follows */
        dsc_schedule *c = s->ch[1];
        s->ch[1] = NULL;
        s->n_ch = 1;
        dsc_schedule_free(s);
        s = c;
    }
    *out = s;
    return DSC_OK;
}

dsc_status dsc_schedule_new(const char *spec, dsc_schedule **out)
{
    if (!out)
        return DSC_ERROR(DSC_ERR_INVALID, "dsc_schedule_new: out is NULL");
    *out = NULL;
    if (!spec || !*spec)
        return DSC_ERROR(DSC_ERR_INVALID, "schedule: empty spec (valid kinds: %s)", dsc_schedule_names());
    return parse_node(spec, 0, out);
}
