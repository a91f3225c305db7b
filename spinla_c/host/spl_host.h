/* Host-side runners of the emulator: each walks a Program call's tile list (in C, across host
 * threads) and invokes the freestanding kernel on every tile.  Not part of the ARM build.
 * This file is read verbatim by cffi's cdef, so it holds declarations only, no macros. */
uint64_t spl_run_gemm(const int16_t *a, const int16_t *bt, int16_t *c, int32_t M, int32_t N,
                      int32_t K, const int32_t *tiles, int32_t ntiles, int32_t shift,
                      int32_t mode, uint32_t seed, int32_t nthreads);
void spl_run_copy(const int16_t *src, const int32_t *src_strides, int16_t *dst,
                  const int32_t *dst_strides, const int32_t *shape, int32_t ndim,
                  const int32_t *tiles, int32_t ntiles, int32_t nthreads);
uint64_t spl_run_requant(const int16_t *src, int16_t *dst, int32_t n, const int32_t *tiles,
                         int32_t ntiles, int32_t shift, int32_t mode, uint32_t seed,
                         int32_t nthreads);
uint32_t spl_rand_u32(uint32_t seed, uint32_t index);
uint32_t spl_seed_mix(uint32_t a, uint32_t b);
void arm_fill_q15(int16_t *dst, int32_t n, int16_t value);
void spl_run_gather(const int16_t *src, int32_t row_len, const int32_t *rows, int16_t *dst,
                    const int32_t *tiles, int32_t ntiles, int32_t nthreads);
uint64_t spl_run_gather_indexed(const int16_t *src, int32_t nsrc, int32_t row_len,
                                const int32_t *rows, int16_t *dst, const int32_t *tiles,
                                int32_t ntiles, int32_t nthreads);
