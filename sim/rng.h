/* Deterministic pseudo-random numbers: xoshiro256** seeded through splitmix64.
 * One generator per simulation (seeded from sim.seed); never global. */
#ifndef IMS_SIM_RNG_H
#define IMS_SIM_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ims_rng {
    uint64_t s[4];
} ims_rng;

void ims_rng_seed(ims_rng *r, uint64_t seed);
uint64_t ims_rng_next(ims_rng *r);
/* Uniform in [0, bound) without modulo bias; bound 0 returns 0. */
uint64_t ims_rng_below(ims_rng *r, uint64_t bound);
/* Uniform double in [0, 1). */
double ims_rng_unit(ims_rng *r);
/* An independent generator for a sub-model, derived from this one's stream. */
void ims_rng_fork(ims_rng *r, ims_rng *child);

#ifdef __cplusplus
}
#endif
#endif
