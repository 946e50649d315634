// Portable element-wise and row kernels (the fallback on CPUs without AVX2/FMA).
#include "../internal.h"

void ck_activate_generic(float *x, long n, float bias, const ck_activation *act) {
    for (long i = 0; i < n; i++) x[i] = ck_act1(x[i] + bias, act);
}

void ck_softmax_rows_generic(long rows, long cols, float *x, long ld, float scale, float *inv_sums) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * ld;
        float m = -INFINITY;
        for (long j = 0; j < cols; j++) m = row[j] > m ? row[j] : m;
        float s = 0;
        for (long j = 0; j < cols; j++) { row[j] = expf((row[j] - m) * scale); s += row[j]; }
        float inv = 1 / s;
        if (inv_sums) { inv_sums[r] = inv; continue; }
        for (long j = 0; j < cols; j++) row[j] *= inv;
    }
}

void ck_layernorm_rows_generic(long rows, long cols, const float *x, long ldx, const float *gamma,
                               const float *beta, float eps, float *y, long ldy) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        float *yr = y + r * ldy;
        float mean = 0;
        for (long j = 0; j < cols; j++) mean += xr[j];
        mean /= (float)cols;
        float var = 0;
        for (long j = 0; j < cols; j++) { float d = xr[j] - mean; var += d * d; }
        var /= (float)cols;
        float inv = 1 / sqrtf(var + eps);
        for (long j = 0; j < cols; j++) {
            float o = (xr[j] - mean) * inv;
            if (gamma) o *= gamma[j];
            if (beta) o += beta[j];
            yr[j] = o;
        }
    }
}

void ck_mean_rows_generic(long rows, long cols, const float *x, long ld, float *y) {
    for (long r = 0; r < rows; r++) {
        float s = 0;
        for (long j = 0; j < cols; j++) s += x[r * ld + j];
        y[r] = s / (float)cols;
    }
}

void ck_binary_generic(int op, long n, const float *a, long inca, const float *b, long incb, float *y,
                       const ck_activation *act) {
    for (long i = 0; i < n; i++) y[i] = ck_act1(ck_bin1(op, a[i * inca], b[i * incb]), act);
}
