/* RK4 steps of Lorenz-63 and Lorenz-96 ensembles, in place, for float64 states on the CPU.
 *
 * Built and loaded by native.py (ctypes). Members go LANES at a time, one per vector lane,
 * through all their stages and steps while they sit in the L1 cache, so a step is one pass over
 * the ensemble in memory, and a small ensemble costs one call instead of one launch per tensor
 * operation. The arithmetic is that
 * of systems.rk4 over the systems' tendencies, in the same order: a stage input and each
 * accumulation are fused multiply-adds, as torch.add(x, k, alpha=a) computes them on CPUs
 * with FMA; everything else is rounded operation by operation (built with -ffp-contract=off).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const double STAGE[3] = {0.5, 0.5, 1.0}; /* stage input x + STAGE * dt * k */
static const double WEIGHT[3] = {2.0, 2.0, 1.0}; /* k2, k3, k4 in k1 + 2 k2 + 2 k3 + k4 */

#define LANES 8 /* members advanced together, one per vector lane */

/* Lorenz-96 tendency of LANES members, k_i = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + F, from y:
 * (n + 3) rows of LANES, row 0 = site n-2, row 1 = site n-1, row 2 + i = site i, row n + 2 =
 * site 0 (the wrap rows are filled here). */
static void l96_tendency(double *restrict y, double *restrict k, int64_t n, double forcing) {
    for (int j = 0; j < LANES; j++) {
        y[j] = y[n * LANES + j];
        y[LANES + j] = y[(n + 1) * LANES + j];
        y[(n + 2) * LANES + j] = y[2 * LANES + j];
    }
    for (int64_t i = 0; i < n; i++) {
        const double *next = y + (i + 3) * LANES, *back2 = y + i * LANES;
        const double *back1 = y + (i + 1) * LANES, *here = y + (i + 2) * LANES;
        double *out = k + i * LANES;
        for (int j = 0; j < LANES; j++)
            out[j] = (next[j] - back2[j]) * back1[j] - here[j] + forcing;
    }
}

/* x (members, n), row-major: each member advanced by steps RK4 steps of dt, LANES members at
 * a time held site-major (a site's LANES values side by side). Returns 0, or -1 when the
 * scratch memory could not be allocated (x untouched). */
int lorenz96_rk4(double *restrict x, int64_t members, int64_t n, double forcing, double dt,
                 int64_t steps) {
    const size_t rows = (size_t)n + 3, values = (size_t)n * LANES;
    double *scratch = aligned_alloc(64, sizeof(double) * LANES * (2 * rows + 2 * (size_t)n));
    if (scratch == NULL)
        return -1;
    double *state = scratch, *stage = scratch + rows * LANES, *k = scratch + 2 * rows * LANES;
    double *total = k + values, *ring = state + 2 * LANES, *stage_ring = stage + 2 * LANES;
    for (int64_t m0 = 0; m0 < members; m0 += LANES) {
        const int64_t count = members - m0 < LANES ? members - m0 : LANES;
        for (int j = 0; j < LANES; j++) { /* lanes past the last member repeat it */
            const double *member = x + (m0 + (j < count ? j : count - 1)) * n;
            for (int64_t i = 0; i < n; i++)
                ring[i * LANES + j] = member[i];
        }
        for (int64_t s = 0; s < steps; s++) {
            l96_tendency(state, total, n, forcing);
            const double *previous = total;
            for (int st = 0; st < 3; st++) {
                const double c = STAGE[st] * dt, w = WEIGHT[st];
                for (size_t i = 0; i < values; i++)
                    stage_ring[i] = fma(c, previous[i], ring[i]);
                l96_tendency(stage, k, n, forcing);
                for (size_t i = 0; i < values; i++)
                    total[i] = fma(w, k[i], total[i]);
                previous = k;
            }
            for (size_t i = 0; i < values; i++)
                ring[i] = fma(dt / 6.0, total[i], ring[i]);
        }
        for (int64_t j = 0; j < count; j++) {
            double *member = x + (m0 + j) * n;
            for (int64_t i = 0; i < n; i++)
                member[i] = ring[i * LANES + j];
        }
    }
    free(scratch);
    return 0;
}

/* Lorenz-63 tendency of a block: (sigma (v - u), u (rho - w) - v, u v - beta w). */
static void l63_tendency(const double *restrict z, double *restrict k, double sigma, double rho,
                         double beta) {
    const double *u = z, *v = z + LANES, *w = z + 2 * LANES;
    for (int j = 0; j < LANES; j++) {
        k[j] = sigma * (v[j] - u[j]);
        k[LANES + j] = u[j] * (rho - w[j]) - v[j];
        k[2 * LANES + j] = u[j] * v[j] - beta * w[j];
    }
}

/* x (members, 3), row-major: each member advanced by steps RK4 steps of dt. Returns 0. */
int lorenz63_rk4(double *restrict x, int64_t members, double sigma, double rho, double beta,
                 double dt, int64_t steps) {
    for (int64_t m0 = 0; m0 < members; m0 += LANES) {
        int64_t count = members - m0 < LANES ? members - m0 : LANES;
        double state[3 * LANES], stage[3 * LANES], k[3 * LANES], total[3 * LANES];
        for (int j = 0; j < LANES; j++) /* lanes past the last member repeat it */
            for (int c = 0; c < 3; c++)
                state[c * LANES + j] = x[3 * (m0 + (j < count ? j : count - 1)) + c];
        for (int64_t s = 0; s < steps; s++) {
            l63_tendency(state, total, sigma, rho, beta);
            const double *previous = total;
            for (int j = 0; j < 3; j++) {
                for (int i = 0; i < 3 * LANES; i++)
                    stage[i] = fma(STAGE[j] * dt, previous[i], state[i]);
                l63_tendency(stage, k, sigma, rho, beta);
                for (int i = 0; i < 3 * LANES; i++)
                    total[i] = fma(WEIGHT[j], k[i], total[i]);
                previous = k;
            }
            for (int i = 0; i < 3 * LANES; i++)
                state[i] = fma(dt / 6.0, total[i], state[i]);
        }
        for (int64_t j = 0; j < count; j++)
            for (int c = 0; c < 3; c++)
                x[3 * (m0 + j) + c] = state[c * LANES + j];
    }
    return 0;
}
