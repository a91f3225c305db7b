/* Emulator runner of the image-warp family (spinla_c/host/run_warp.c).  Declarations only:
 * cffi reads this file verbatim.  tiles: ntiles pairs [n0, n1) of whole samples. */
void spl_run_warp_affine(const int16_t *x, const int16_t *theta, int16_t *y, int32_t h,
                         int32_t w, int32_t c, const int32_t *tiles, int32_t ntiles,
                         int32_t nthreads);
