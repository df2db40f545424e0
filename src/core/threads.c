/* Thread count for OpenMP kernels and the BLAS. */
#include "descent/runtime.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef DSC_HAVE_OPENBLAS
void openblas_set_num_threads(int num_threads);
#endif

static int dsc_threads = 0;

void dsc_set_num_threads(int n)
{
#ifdef _OPENMP
    if (n <= 0)
        n = omp_get_num_procs();
    omp_set_num_threads(n);
#else
    if (n <= 0)
        n = 1;
#endif
#ifdef DSC_HAVE_OPENBLAS
#ifdef _OPENMP
    /* OpenBLAS runs in the calling thread; dsc_sgemm splits large GEMMs over the OpenMP
     * threads (see src/core/gemm.c for why one thread pool, not two). */
    openblas_set_num_threads(1);
#else
    openblas_set_num_threads(n);
#endif
#endif
    dsc_threads = n;
}

int dsc_get_num_threads(void)
{
#ifdef _OPENMP
    return dsc_threads > 0 ? dsc_threads : omp_get_max_threads();
#else
    return 1;
#endif
}

const char *dsc_version(void) { return DESCENT_VERSION; }

const char *dsc_thread_backend(void)
{
#ifdef _OPENMP
    return "openmp";
#else
    return "single-thread";
#endif
}
