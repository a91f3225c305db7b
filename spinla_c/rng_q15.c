/* Counter-based random bits for stochastic rounding.
 *
 * A stream generator (one xorshift state per core) would make the bits depend on how an op is
 * tiled and in which order a core walks its tiles.  Hashing (seed, element index) instead makes
 * them a property of the element alone, so the emulator, any SpiNNaker placement and the NumPy
 * reference agree bit for bit.  The hash is one Marsaglia xorshift32 step over a Weyl-sequence
 * counter, finished by Wellons' "lowbias32" avalanche (two 32-bit multiplies: 4 cycles on the
 * ARM968, vectorisable on the host). */
#include "spinla.h"
#include "spl_rand.h"

uint32_t spl_rand_u32(uint32_t seed, uint32_t index)
{
    return spl_rand_inline(seed, index);
}

/* Derives a fresh seed (per op, per run) from two words; used by the host to give every
 * traced op and every run of a Program its own stream. */
uint32_t spl_seed_mix(uint32_t a, uint32_t b)
{
    return spl_rand_u32(a ^ 0x5BD1E995u, b + 0x27D4EB2Fu);
}
