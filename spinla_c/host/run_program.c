/* The emulator's whole-Program runner: runs every Call of a traced Program from the records
 * spinla/emulator.py builds once per Program (format in program.h), so that a training step
 * makes one call into C instead of one per Call.
 *
 * Each host runner (spl_run_* and arm_fill_q15) has a thunk that takes its parameters as one
 * int64 vector: pointers travel as addresses and convert back here, integers narrow to the
 * runner's parameter types by C's usual conversions, so the compiler checks every thunk
 * against the runner's prototype.  Python checks each record against the same prototypes
 * (through cffi) when it builds it. */
#include "../spinla.h"
#include "spl_host.h"
#include "conv.h"
#include "eltwise.h"
#include "image.h"
#include "optim.h"
#include "program.h"

#define P(i) ((void *)(intptr_t)v[i])

typedef uint64_t (*thunk_t)(const int64_t *v);

static uint64_t t_gemm(const int64_t *v)
{
    return spl_run_gemm(P(0), P(1), P(2), v[3], v[4], v[5], P(6), v[7], v[8], v[9], v[10],
                        v[11]);
}

static uint64_t t_copy(const int64_t *v)
{
    spl_run_copy(P(0), P(1), P(2), P(3), P(4), v[5], P(6), v[7], v[8]);
    return 0;
}

static uint64_t t_fill(const int64_t *v)
{
    arm_fill_q15(P(0), v[1], v[2]);
    return 0;
}

static uint64_t t_requant(const int64_t *v)
{
    return spl_run_requant(P(0), P(1), v[2], P(3), v[4], v[5], v[6], v[7], v[8]);
}

static uint64_t t_gather(const int64_t *v)
{
    spl_run_gather(P(0), v[1], P(2), P(3), P(4), v[5], v[6]);
    return 0;
}

static uint64_t t_gather_indexed(const int64_t *v)
{
    return spl_run_gather_indexed(P(0), v[1], v[2], P(3), P(4), P(5), v[6], v[7]);
}

static uint64_t t_eltwise(const int64_t *v)
{
    return spl_run_eltwise(P(0), v[1], P(2), P(3), P(4), P(5), P(6), P(7), P(8), P(9), v[10],
                           P(11), v[12], v[13]);
}

static uint64_t t_lut(const int64_t *v)
{
    return spl_run_lut(v[0], P(1), P(2), v[3], v[4], v[5], v[6], P(7), v[8], v[9]);
}

static uint64_t t_reduce(const int64_t *v)
{
    return spl_run_reduce(v[0], P(1), P(2), v[3], v[4], v[5], v[6], v[7], v[8], P(9), v[10],
                          v[11]);
}

static uint64_t t_reduce_part(const int64_t *v)
{
    spl_run_reduce_part(P(0), P(1), v[2], v[3], v[4], P(5), v[6], v[7]);
    return 0;
}

static uint64_t t_softmax(const int64_t *v)
{
    return spl_run_softmax(v[0], P(1), P(2), v[3], v[4], v[5], v[6], v[7], v[8], P(9), v[10],
                           v[11]);
}

static uint64_t t_warp(const int64_t *v)
{
    spl_run_warp_affine(P(0), P(1), P(2), v[3], v[4], v[5], P(6), v[7], v[8]);
    return 0;
}

static uint64_t t_conv(const int64_t *v)
{
    return spl_run_conv2d(P(0), P(1), P(2), P(3), v[4], P(5), v[6], P(7), v[8], v[9], v[10],
                          v[11], v[12]);
}

static uint64_t t_conv_pack(const int64_t *v)
{
    spl_run_conv2d_pack(P(0), v[1], v[2], v[3], v[4], P(5), v[6], P(7), v[8], P(9), v[10],
                        v[11]);
    return 0;
}

static uint64_t t_conv_gw(const int64_t *v)
{
    spl_run_conv2d_grad_weight(P(0), P(1), P(2), P(3), P(4), v[5], P(6), v[7], v[8]);
    return 0;
}

static uint64_t t_conv_gw_reduce(const int64_t *v)
{
    return spl_run_conv2d_grad_weight_reduce(P(0), v[1], v[2], v[3], v[4], P(5), P(6), P(7),
                                             v[8], v[9], v[10], v[11], v[12]);
}

static uint64_t t_avg_pool(const int64_t *v)
{
    return spl_run_avg_pool2d(P(0), P(1), P(2), P(3), v[4], v[5], v[6], v[7], v[8], P(9),
                              v[10], v[11]);
}

static uint64_t t_max_pool(const int64_t *v)
{
    spl_run_max_pool2d(P(0), P(1), P(2), P(3), P(4), v[5], v[6]);
    return 0;
}

static uint64_t t_avg_pool_grad(const int64_t *v)
{
    return spl_run_avg_pool2d_grad(P(0), P(1), P(2), P(3), v[4], v[5], v[6], v[7], v[8], P(9),
                                   v[10], v[11]);
}

static uint64_t t_max_pool_grad(const int64_t *v)
{
    return spl_run_max_pool2d_grad(P(0), P(1), P(2), P(3), P(4), v[5], P(6), v[7], v[8]);
}

static uint64_t t_sgd(const int64_t *v)
{
    return spl_run_sgd(P(0), P(1), P(2), P(3), P(4), P(5), P(6), v[7], v[8], v[9], v[10],
                       v[11], v[12], v[13], v[14], v[15]);
}

static uint64_t t_adam(const int64_t *v)
{
    return spl_run_adam(P(0), P(1), P(2), P(3), P(4), P(5), P(6), P(7), P(8), v[9], v[10],
                        v[11], v[12], v[13], v[14], v[15], v[16], v[17], v[18]);
}

static const struct {
    const char *name;
    thunk_t fn;
    int32_t nargs;
} ENTRIES[] = {
    {"spl_run_gemm", t_gemm, 12},
    {"spl_run_copy", t_copy, 9},
    {"arm_fill_q15", t_fill, 3},
    {"spl_run_requant", t_requant, 9},
    {"spl_run_gather", t_gather, 7},
    {"spl_run_gather_indexed", t_gather_indexed, 8},
    {"spl_run_eltwise", t_eltwise, 14},
    {"spl_run_lut", t_lut, 10},
    {"spl_run_reduce", t_reduce, 12},
    {"spl_run_reduce_part", t_reduce_part, 8},
    {"spl_run_softmax", t_softmax, 12},
    {"spl_run_warp_affine", t_warp, 9},
    {"spl_run_conv2d", t_conv, 13},
    {"spl_run_conv2d_pack", t_conv_pack, 12},
    {"spl_run_conv2d_grad_weight", t_conv_gw, 9},
    {"spl_run_conv2d_grad_weight_reduce", t_conv_gw_reduce, 13},
    {"spl_run_avg_pool2d", t_avg_pool, 12},
    {"spl_run_max_pool2d", t_max_pool, 7},
    {"spl_run_avg_pool2d_grad", t_avg_pool_grad, 12},
    {"spl_run_max_pool2d_grad", t_max_pool_grad, 9},
    {"spl_run_sgd", t_sgd, 16},
    {"spl_run_adam", t_adam, 19},
};
#define NENTRIES ((int32_t)(sizeof ENTRIES / sizeof ENTRIES[0]))

const char *spl_program_entry(int32_t entry)
{
    return entry >= 0 && entry < NENTRIES ? ENTRIES[entry].name : 0;
}

int32_t spl_run_program(const int64_t *code, int32_t ncalls, void *const *bases, uint32_t run,
                        uint64_t *sat)
{
    const int64_t *c = code;
    for (int32_t i = 0; i < ncalls; i++) {
        int64_t nsteps = c[0];
        uint32_t seed = c[1] ? spl_seed_mix((uint32_t)c[2], run) : 0u;
        uint64_t s = 0;
        c += 3;
        for (int64_t k = 0; k < nsteps; k++) {
            int64_t entry = c[0], nargs = c[1];
            int64_t v[SPL_PROGRAM_MAX_ARGS];
            if (entry < 0 || entry >= NENTRIES || nargs != ENTRIES[entry].nargs)
                return i + 1;
            c += 2;
            for (int64_t a = 0; a < nargs; a++, c += 3) {
                switch (c[0]) {
                case SPL_ARG_INT:
                case SPL_ARG_ADDR:
                    v[a] = c[1];
                    break;
                case SPL_ARG_SEED:
                    v[a] = seed;
                    break;
                case SPL_ARG_BUF:
                    v[a] = (int64_t)(intptr_t)((char *)bases[c[1]] + c[2]);
                    break;
                default:
                    return i + 1;
                }
            }
            s += ENTRIES[entry].fn(v);
        }
        sat[i] = s;
    }
    return 0;
}
