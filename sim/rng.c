#include "sim/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void ims_rng_seed(ims_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t ims_rng_next(ims_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t ims_rng_below(ims_rng *r, uint64_t bound)
{
    if (bound == 0)
        return 0;
    /* Reject the lowest (2^64 mod bound) values so every residue is equally likely. */
    uint64_t threshold = (0 - bound) % bound;
    uint64_t x;
    do {
        x = ims_rng_next(r);
    } while (x < threshold);
    return x % bound;
}

double ims_rng_unit(ims_rng *r)
{
    return (double)(ims_rng_next(r) >> 11) * 0x1.0p-53;
}

void ims_rng_fork(ims_rng *r, ims_rng *child)
{
    ims_rng_seed(child, ims_rng_next(r));
}
