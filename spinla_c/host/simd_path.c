/* Reports which host SIMD path spl_simd.h selected for this build (spinla info shows it). */
#include "../spinla.h"
#include "../spl_simd.h"
#include "simd.h"

const char *spl_simd_path(void)
{
#if defined(SPL_SIMD_AVX512)
    return "avx512-vnni";
#elif defined(SPL_SIMD_AVX2)
    return "avx2";
#elif defined(SPL_SIMD_NEON)
    return "neon";
#else
    return "portable";
#endif
}
