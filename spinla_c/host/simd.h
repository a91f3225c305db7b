/* The host SIMD path the kernels were compiled with (spinla_c/host/simd_path.c):
 * "avx512-vnni", "avx2", "neon" or "portable".  Read verbatim by cffi's cdef. */
const char *spl_simd_path(void);
