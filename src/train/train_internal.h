/* Shared helpers of src/train (not installed). */
#ifndef DSC_TRAIN_INTERNAL_H
#define DSC_TRAIN_INTERNAL_H

#include "descent/io.h"
#include "descent/train.h"

void dsc_train_count_correct(const float *logits, const float *y, int64_t b, int64_t c, int64_t *top1,
                             int64_t *top5);
int dsc_train_model_tensors(dsc_model *m, dsc_st_tensor *out, int max);
int dsc_train_model_tensor_count(dsc_model *m);
dsc_status dsc_train_model_from(dsc_model *m, const dsc_safetensors *st, const char *what);

#endif
