/* Emulator runners of the convolution and pooling families (spinla_c/host/run_conv.c,
 * run_pool.c).  geom arrays follow spl_conv2d_t / spl_pool2d_t field order; scratch holds
 * nthreads blocks of `per` elements, one per host thread (a core's DTCM scratch). */
uint64_t spl_run_conv2d(const int16_t *x, const int16_t *wt, int16_t *y, const int32_t *geom,
                        int32_t ldw, const int32_t *tiles, int32_t ntiles, int16_t *scratch,
                        int32_t scratch_rows, int32_t shift, int32_t mode, uint32_t seed,
                        int32_t nthreads);
void spl_run_conv2d_pack(const int16_t *w, int32_t kh, int32_t kw, int32_t cin, int32_t cout,
                         const int16_t *table, int32_t flip, int16_t *dst, int32_t ldd,
                         const int32_t *tiles, int32_t ntiles, int32_t nthreads);
void spl_run_conv2d_grad_weight(const int16_t *x, const int16_t *delta, int64_t *part,
                                const int32_t *geom, const int32_t *tiles, int32_t ntiles,
                                int16_t *scratch, int32_t scratch_cols, int32_t nthreads);
uint64_t spl_run_conv2d_grad_weight_reduce(const int64_t *part, int32_t nparts, int32_t k,
                                           int32_t cin, int32_t cout, const int16_t *table,
                                           int16_t *dw, const int32_t *tiles, int32_t ntiles,
                                           int32_t shift, int32_t mode, uint32_t seed,
                                           int32_t nthreads);
uint64_t spl_run_avg_pool2d(const int16_t *x, int16_t *y, const int32_t *geom,
                            const int32_t *tiles, int32_t ntiles, int32_t mult, int32_t shift,
                            int32_t mode, uint32_t seed, int32_t *scratch, int32_t per,
                            int32_t nthreads);
void spl_run_max_pool2d(const int16_t *x, int16_t *y, int16_t *arg, const int32_t *geom,
                        const int32_t *tiles, int32_t ntiles, int32_t nthreads);
uint64_t spl_run_avg_pool2d_grad(const int16_t *d, int16_t *dx, const int32_t *geom,
                                 const int32_t *tiles, int32_t ntiles, int32_t mult,
                                 int32_t shift, int32_t mode, uint32_t seed, int32_t *scratch,
                                 int32_t per, int32_t nthreads);
uint64_t spl_run_max_pool2d_grad(const int16_t *d, const int16_t *arg, int16_t *dx,
                                 const int32_t *geom, const int32_t *tiles, int32_t ntiles,
                                 int32_t *scratch, int32_t per, int32_t nthreads);
