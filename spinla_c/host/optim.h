/* Emulator runners of the optimiser kernels (optim_q15.c); declarations only (read by cffi). */
uint64_t spl_run_sgd(const int16_t *w, const int16_t *g, const int16_t *v, const int16_t *lr,
                     int16_t *w_out, int16_t *v_out, const int32_t *tiles, int32_t ntiles,
                     int32_t mu, int32_t w_shift, int32_t p_shift, int32_t v_shift,
                     int32_t v_round, int32_t mode, uint32_t seed, int32_t nthreads);
uint64_t spl_run_adam(const int16_t *w, const int16_t *g, const int16_t *m, const int16_t *r,
                      const int16_t *lr, int16_t *w_out, int16_t *m_out, int16_t *r_out,
                      const int32_t *tiles, int32_t ntiles, int32_t beta1, int32_t beta2,
                      int64_t eps, int32_t ratio_max, int32_t w_shift, int32_t g_shift,
                      int32_t mode,
                      uint32_t seed, int32_t nthreads);
uint64_t spl_sqrt_u62(uint64_t v);
uint64_t spl_ratio_q16(uint64_t num, uint64_t den);
