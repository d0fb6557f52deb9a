/* What the build knows about OpenMP. */
#include "fastnn.h"
#ifdef _OPENMP
#include <omp.h>
#endif

int fnn_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

/* omp_get_max_threads(): OMP_NUM_THREADS when set, else the cores OpenMP sees. */
int fnn_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
