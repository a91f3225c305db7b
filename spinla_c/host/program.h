/* The emulator's whole-Program runner (spinla_c/host/run_program.c): one C call runs every
 * Call of a traced Program, in order, from records that spinla/emulator.py builds once per
 * Program.  Declarations only: cffi reads this file verbatim (the enums reach Python as
 * lib.SPL_ARG_* and lib.SPL_PROGRAM_MAX_ARGS, their one definition).
 *
 * Records (int64 words, calls back to back):
 *   call:  nsteps, stochastic, seed        then nsteps steps
 *   step:  entry, nargs                    then nargs arguments of 3 words (kind, a, b)
 * entry numbers a host runner (spl_program_entry(entry) is its name, e.g. "spl_run_gemm");
 * the arguments are its parameters in order:
 *   SPL_ARG_INT   the integer a
 *   SPL_ARG_SEED  the call's stochastic-rounding seed: spl_seed_mix(seed, run) when
 *                 stochastic, else 0 (as the per-call walker computes it)
 *   SPL_ARG_ADDR  the address a (a constant array kept alive by the caller; 0 is NULL)
 *   SPL_ARG_BUF   bases[a] + b bytes (bases: the arena, the Program's inputs, constants and
 *                 outputs, bound for this run)
 * The saturation count of call i goes to sat[i].  Returns 0, or i + 1 when call i's record is
 * malformed (an unknown entry, a wrong argument count or kind); calls before it have run. */
enum { SPL_ARG_INT = 0, SPL_ARG_SEED = 1, SPL_ARG_ADDR = 2, SPL_ARG_BUF = 3 };
enum { SPL_PROGRAM_MAX_ARGS = 24 };
int32_t spl_run_program(const int64_t *code, int32_t ncalls, void *const *bases, uint32_t run,
                        uint64_t *sat);
const char *spl_program_entry(int32_t entry);
