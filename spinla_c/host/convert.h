/* Host-side data conversion before an upload (spinla/nn/data.py): not a kernel of the board,
 * the host's own work of turning a data set into q15.  Declarations only (cffi cdef). */
void spl_lut_u8_to_i16(const uint8_t *src, int16_t *dst, int64_t n, const int16_t *table,
                       int32_t nthreads);
