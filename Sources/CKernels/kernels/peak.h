// The rate a core reaches on independent chains of vector multiply-adds:
// what `bench` reports the kernels' speed against, measured rather than
// computed from a nominal clock (a server core under load often runs well
// above the "cpu MHz" that /proc/cpuinfo gives).

#include "microkernel.h"

float ck_multiply_add_chains(long iterations) {
    // Twelve chains, as many as the register tile's accumulators: enough to
    // cover the latency of a multiply-add on two units. Without reassociation
    // (no -ffast-math) no chain can be shortened; each step is 24 VW flops.
    vf c[12];
    for (int k = 0; k < 12; k++) c[k] = 1.0f + 0.001f * (float)k;
    vf b = 0.9999f, d = 1e-4f;
    for (long i = 0; i < iterations; i++)
        for (int k = 0; k < 12; k++) c[k] = c[k] * b + d;
    vf s = 0;
    for (int k = 0; k < 12; k++) s += c[k];
    float total = 0;
    for (int j = 0; j < VW; j++) total += s[j];
    return total;
}
