/* Internal helpers shared by the files of src/io. */
#ifndef DSC_IO_INTERNAL_H
#define DSC_IO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Tensor bytes are read and written as the host stores them; the format is little-endian. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "descent's safetensors I/O assumes a little-endian host"
#endif

/* "[2, 3]" into buf. */
const char *dsc_io_shape_str(int ndim, const int64_t *shape, char *buf, size_t size);

#endif
