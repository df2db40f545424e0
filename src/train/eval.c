/* Evaluation over a data set in eval mode, and model weights files (safetensors, PyTorch names). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "descent/graph.h"
#include "descent/io.h"
#include "train/train_internal.h"

/* Counts correct top-1 and top-5 predictions of logits [b, c] against labels y (ties: the lower
 * class index wins, as torch.argmax / torch.topk on CPU for distinct values). */
void dsc_train_count_correct(const float *logits, const float *y, int64_t b, int64_t c, int64_t *top1,
                             int64_t *top5)
{
    for (int64_t i = 0; i < b; i++) {
        const float *l = logits + i * c;
        const int64_t label = (int64_t)y[i];
        int64_t best = 0;
        for (int64_t k = 1; k < c; k++)
            if (l[k] > l[best])
                best = k;
        *top1 += best == label;
        if (top5 && label >= 0 && label < c) {
            /* rank of the label: classes scoring strictly higher, or equal with a lower index */
            int64_t rank = 0;
            for (int64_t k = 0; k < c; k++)
                rank += l[k] > l[label] || (l[k] == l[label] && k < label);
            *top5 += rank < 5;
        }
    }
}

dsc_status dsc_evaluate(dsc_model *m, const dsc_dataset *ds, double *loss, double *acc, double *top5)
{
    if (!m || !m->g || !ds)
        return DSC_ERROR(DSC_ERR_INVALID, "evaluate: NULL model or data set");
    if (ds->sparse || ds->dtype != DSC_DATA_F32 || !ds->x || !ds->y || ds->n < 1)
        return DSC_ERROR(DSC_ERR_INVALID, "evaluate: data set '%s' must be dense float32 with labels", ds->name);
    dsc_graph *g = m->g;
    const int was_training = dsc_graph_training(g);
    const int64_t batch0 = dsc_graph_batch(g), B = m->batch;
    const dsc_shape xs = dsc_node_shape(g, m->input);
    const int64_t d = dsc_shape_numel(&xs) / xs.dim[0];
    if (d != ds->d)
        return DSC_ERROR(DSC_ERR_SHAPE, "evaluate: the model takes %lld features per example, '%s' has %lld",
                         (long long)d, ds->name, (long long)ds->d);
    dsc_graph_set_training(g, 0);
    double loss_sum = 0;
    int64_t c1 = 0, c5 = 0;
    dsc_status st = DSC_OK;
    const int64_t C = m->num_classes;
    for (int64_t s = 0; s < ds->n && st == DSC_OK; s += B) {
        const int64_t b = ds->n - s < B ? ds->n - s : B;
        st = dsc_graph_set_batch(g, b);
        if (st == DSC_OK)
            st = dsc_graph_set_input(g, m->input, ds->x + s * d, (size_t)(b * d));
        if (st == DSC_OK)
            st = dsc_graph_set_input(g, m->target, ds->y + s, (size_t)b);
        if (st == DSC_OK)
            st = dsc_graph_forward(g);
        if (st != DSC_OK)
            break;
        /* The loss is the batch mean: weight it by the batch size for the mean over all examples. */
        loss_sum += (double)dsc_graph_loss(g) * (double)b;
        dsc_tensor lg = dsc_node_value(g, m->logits);
        dsc_train_count_correct(lg.data + lg.offset, ds->y + s, b, C, &c1, C > 5 ? &c5 : NULL);
    }
    dsc_graph_set_batch(g, batch0);
    dsc_graph_set_training(g, was_training);
    if (st != DSC_OK)
        return st;
    if (loss)
        *loss = loss_sum / (double)ds->n;
    if (acc)
        *acc = (double)c1 / (double)ds->n;
    if (top5)
        *top5 = C > 5 ? (double)c5 / (double)ds->n : NAN;
    return DSC_OK;
}

/* Appends the model's parameters and buffers (state_dict names) to a tensor list. */
int dsc_train_model_tensors(dsc_model *m, dsc_st_tensor *out, int max)
{
    dsc_graph *g = m->g;
    float *p = dsc_graph_params(g, NULL), *b = dsc_graph_buffers(g, NULL);
    int n = 0;
    for (int i = 0; i < dsc_graph_param_count(g) && n < max; i++) {
        const char *name;
        dsc_shape s;
        size_t off;
        dsc_graph_param_info(g, i, &name, &s, &off);
        out[n++] = dsc_st_tensor_make(name, DSC_ST_F32, s.ndim, s.dim, p + off);
    }
    for (int i = 0; i < dsc_graph_buffer_count(g) && n < max; i++) {
        const char *name;
        dsc_shape s;
        size_t off;
        dsc_graph_buffer_info(g, i, &name, &s, &off);
        out[n++] = dsc_st_tensor_make(name, DSC_ST_F32, s.ndim, s.dim, b + off);
    }
    return n;
}

int dsc_train_model_tensor_count(dsc_model *m)
{
    return dsc_graph_param_count(m->g) + dsc_graph_buffer_count(m->g);
}

/* Copies every parameter and buffer of m out of a loaded file, checking names and shapes. */
dsc_status dsc_train_model_from(dsc_model *m, const dsc_safetensors *st, const char *what)
{
    dsc_graph *g = m->g;
    float *p = dsc_graph_params(g, NULL), *b = dsc_graph_buffers(g, NULL);
    for (int i = 0; i < dsc_graph_param_count(g); i++) {
        const char *name;
        dsc_shape s;
        size_t off;
        dsc_graph_param_info(g, i, &name, &s, &off);
        DSC_TRY(dsc_safetensors_get(st, what, name, DSC_ST_F32, s.ndim, s.dim, p + off));
    }
    for (int i = 0; i < dsc_graph_buffer_count(g); i++) {
        const char *name;
        dsc_shape s;
        size_t off;
        dsc_graph_buffer_info(g, i, &name, &s, &off);
        DSC_TRY(dsc_safetensors_get(st, what, name, DSC_ST_F32, s.ndim, s.dim, b + off));
    }
    return DSC_OK;
}

dsc_status dsc_model_load_weights(dsc_model *m, const char *path)
{
    if (!m || !m->g || !path)
        return DSC_ERROR(DSC_ERR_INVALID, "load weights: NULL argument");
    dsc_safetensors st;
    dsc_status s = dsc_safetensors_read_file(path, 0, &st);
    if (s == DSC_OK)
        s = dsc_train_model_from(m, &st, path);
    dsc_safetensors_free(&st);
    return s;
}

dsc_status dsc_model_save_weights(dsc_model *m, const char *path)
{
    if (!m || !m->g || !path)
        return DSC_ERROR(DSC_ERR_INVALID, "save weights: NULL argument");
    const int n = dsc_train_model_tensor_count(m);
    dsc_st_tensor *t = malloc((size_t)(n > 0 ? n : 1) * sizeof *t);
    if (!t)
        return DSC_ERROR(DSC_ERR_NOMEM, "save weights: out of memory");
    dsc_train_model_tensors(m, t, n);
    const dsc_st_meta meta[1] = {{"format", "pt"}};
    dsc_status s = dsc_safetensors_write_file(path, t, n, meta, 1);
    free(t);
    return s;
}
