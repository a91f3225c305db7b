/* Emulator runners of the element-wise, LUT, reduction and softmax families
 * (run_eltwise.c, run_lut.c, run_reduce.c, run_softmax.c).  Declarations only: cffi reads
 * this file verbatim. */
uint64_t spl_run_eltwise(const int64_t *params, uint32_t seed, const int16_t *a,
                         const int32_t *sa, const int16_t *b, const int32_t *sb,
                         const int16_t *c, const int32_t *sc, int16_t *y, const int32_t *shape,
                         int32_t ndim, const int32_t *tiles, int32_t ntiles, int32_t nthreads);
uint64_t spl_run_lut(int32_t fn, const int16_t *x, int16_t *y, int32_t frac_in,
                     int32_t frac_out, int32_t mode, uint32_t seed, const int32_t *tiles,
                     int32_t ntiles, int32_t nthreads);
uint64_t spl_run_reduce(int32_t op, const int16_t *x, int16_t *y, int32_t outer, int32_t n,
                        int32_t inner, int32_t shift, int32_t mode, uint32_t seed,
                        const int32_t *tiles, int32_t ntiles, int32_t nthreads);
void spl_run_reduce_part(const int16_t *x, int64_t *part, int32_t outer, int32_t n,
                         int32_t inner, const int32_t *tiles, int32_t ntiles, int32_t nthreads);
uint64_t spl_run_softmax(int32_t op, const int16_t *x, int16_t *y, int32_t rows, int32_t n,
                         int32_t frac_in, int32_t frac_out, int32_t mode, uint32_t seed,
                         const int32_t *tiles, int32_t ntiles, int32_t nthreads);
