/* The data sets compiled into the library (generated table in embedded_data.c). */
#ifndef DSC_DATA_EMBEDDED_H
#define DSC_DATA_EMBEDDED_H

#include <stddef.h>
#include <stdint.h>

#define DSC_EMBEDDED_COUNT 4

typedef struct dsc_embedded_set {
    const char *name;
    int n, d, num_classes;
    int feat_ndim;
    int64_t feat_shape[3];
    const double *x64;         /* n*d values (decimal tokens of the source CSV), or NULL */
    const char *const *x_u8;   /* n strings of d characters 'A'+v (values 0..25), or NULL */
    const char *y;             /* n characters '0'+class */
    const char *const *class_names;
    const char *const *feature_names; /* or NULL */
    const char *summary;
} dsc_embedded_set;

extern const dsc_embedded_set dsc_embedded_sets[DSC_EMBEDDED_COUNT];

#endif
