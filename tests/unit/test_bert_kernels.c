/* Kernels of the BERT engine: AVX2 and portable tables against double-precision
 * references (GEMMs in fp32 / bf16 / int8, erf, exp, GELU, softmax, LayerNorm,
 * attention, quantisation), packing, CPU detection and the thread fan-out. */
#include <math.h>
#include "kz_test.h"
#include "nn/kernels_int.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static float frand(void) { /* uniform [-1, 1) */
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (float)((int32_t)(g_rng >> 40) - (1 << 23)) / (float)(1 << 23);
}

/* The tables to test: portable always, AVX2 when this CPU has it. */
static int tables(const kz_nn_kern *t[2]) {
    t[0] = kz__nn_kern_portable();
    t[1] = kz__nn_kern_avx2();
    return t[1] ? 2 : 1;
}

static double gelu_ref(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }
static double gelu_tanh_ref(double x) {
    return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}
static double epi_ref(double x, kz_nn_epi e) {
    return e == KZ_NN_EPI_GELU        ? gelu_ref(x)
           : e == KZ_NN_EPI_GELU_TANH ? gelu_tanh_ref(x)
           : e == KZ_NN_EPI_RELU      ? (x > 0 ? x : 0)
                                      : x;
}

KZ_TEST(cpu_features_match_compiler) {
    unsigned f = kz__nn_cpu_features();
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    KZ_CHECK_INT(!!(f & KZ_CPU_AVX2), avx2);
    KZ_CHECK((kz__nn_kern_avx2() != NULL) == avx2);
    printf("  cpu: avx2+fma=%d avx512f=%d avx512vnni=%d avxvnni=%d avx512bf16=%d\n", !!(f & KZ_CPU_AVX2),
           !!(f & KZ_CPU_AVX512F), !!(f & KZ_CPU_AVX512VNNI), !!(f & KZ_CPU_AVXVNNI),
           !!(f & KZ_CPU_AVX512BF16));
}

KZ_TEST(force_portable_env) {
    setenv("KZ_NN_FORCE_PORTABLE", "1", 1);
    KZ_CHECK(kz__nn_kern_best() == kz__nn_kern_portable());
    setenv("KZ_NN_FORCE_PORTABLE", "0", 1);
    KZ_CHECK(kz__nn_kern_best() == (kz__nn_kern_avx2() ? kz__nn_kern_avx2() : kz__nn_kern_portable()));
    unsetenv("KZ_NN_FORCE_PORTABLE");
}

KZ_TEST(erf_within_1e6_of_erff) {
    const kz_nn_kern *t[2];
    int nt = tables(t);
    enum { N = 200001 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++) x[i] = -10.0f + 20.0f * (float)i / (float)(N - 1);
    for (int ti = 0; ti < nt; ti++) {
        t[ti]->erf(x, y, N);
        double mx = 0;
        for (int i = 0; i < N; i++) mx = fmax(mx, fabs((double)y[i] - (double)erff(x[i])));
        printf("  %s erf: max |err| vs erff %.3g\n", t[ti]->name, mx);
        KZ_CHECK(mx <= 1e-6);
    }
    free(x);
    free(y);
}

KZ_TEST(exp_relative_error) {
    const kz_nn_kern *t[2];
    int nt = tables(t);
    enum { N = 100003 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++) x[i] = -87.0f + 175.0f * (float)i / (float)(N - 1);
    for (int ti = 0; ti < nt; ti++) {
        t[ti]->exp(x, y, N);
        double mx = 0;
        for (int i = 0; i < N; i++) mx = fmax(mx, fabs((double)y[i] / exp((double)x[i]) - 1.0));
        printf("  %s exp: max rel err %.3g\n", t[ti]->name, mx);
        KZ_CHECK(mx <= 5e-7);
    }
    free(x);
    free(y);
}

KZ_TEST(gelu_both_variants) {
    const kz_nn_kern *t[2];
    int nt = tables(t);
    enum { N = 40001 };
    float *x = malloc(N * sizeof(float)), *y = malloc(N * sizeof(float));
    for (int ti = 0; ti < nt; ti++)
        for (int v = 0; v < 2; v++) {
            for (int i = 0; i < N; i++) y[i] = x[i] = -12.0f + 24.0f * (float)i / (float)(N - 1);
            if (v == 0)
                t[ti]->gelu(y, N);
            else
                t[ti]->gelu_tanh(y, N);
            double mx = 0;
            for (int i = 0; i < N; i++) {
                double r = v == 0 ? gelu_ref(x[i]) : gelu_tanh_ref(x[i]);
                mx = fmax(mx, fabs(y[i] - r) / (1.0 + fabs(r)));
            }
            printf("  %s gelu%s: max err %.3g\n", t[ti]->name, v ? "_tanh" : "", mx);
            KZ_CHECK(mx <= 1e-6);
        }
    free(x);
    free(y);
}

KZ_TEST(softmax_masked_and_tails) {
    const kz_nn_kern *t[2];
    int nt = tables(t);
    float x[64];
    double r[64];
    for (int ti = 0; ti < nt; ti++) {
        for (uint32_t n = 1; n <= 41; n++) {
            for (uint32_t i = 0; i < n; i++) x[i] = 8.0f * frand();
            if (n > 3) x[1] = -INFINITY, x[n - 1] = -INFINITY; /* padding keys */
            double mx = -INFINITY, s = 0;
            for (uint32_t i = 0; i < n; i++) mx = fmax(mx, x[i]);
            for (uint32_t i = 0; i < n; i++) s += r[i] = exp((double)x[i] - mx);
            x[n] = 123.0f; /* must stay untouched */
            t[ti]->softmax(x, n);
            KZ_CHECK(x[n] == 123.0f);
            for (uint32_t i = 0; i < n; i++)
                if (fabs(x[i] - r[i] / s) > 1e-6) {
                    kz_test_fail(__FILE__, __LINE__, "%s softmax n=%u i=%u: %g vs %g", t[ti]->name, n, i,
                                 x[i], r[i] / s);
                    return;
                }
            if (n > 3) KZ_CHECK(x[1] == 0.0f && x[n - 1] == 0.0f);
        }
        /* a fully masked row gives zeros, not NaN */
        for (int i = 0; i < 13; i++) x[i] = -INFINITY;
        t[ti]->softmax(x, 13);
        for (int i = 0; i < 13; i++) KZ_CHECK(x[i] == 0.0f);
    }
}

KZ_TEST(layernorm_with_residual) {
    const kz_nn_kern *t[2];
    int nt = tables(t);
    const uint32_t ns[] = {1, 7, 8, 13, 312, 771};
    for (int ti = 0; ti < nt; ti++)
        for (size_t z = 0; z < sizeof ns / sizeof ns[0]; z++) {
            uint32_t n = ns[z];
            float *x = malloc(n * 4), *res = malloc(n * 4), *g = malloc(n * 4), *b = malloc(n * 4);
            double *v = malloc(n * 8), mean = 0, var = 0;
            for (uint32_t i = 0; i < n; i++) {
                x[i] = 3.0f * frand() + 0.5f;
                res[i] = frand();
                g[i] = 1.0f + 0.5f * frand();
                b[i] = 0.1f * frand();
                v[i] = (double)x[i] + res[i];
                mean += v[i];
            }
            mean /= n;
            for (uint32_t i = 0; i < n; i++) var += (v[i] - mean) * (v[i] - mean);
            var /= n;
            t[ti]->add_ln(x, res, n, g, b, 1e-12f);
            double mx = 0;
            for (uint32_t i = 0; i < n; i++)
                mx = fmax(mx, fabs(x[i] - ((v[i] - mean) / sqrt(var + 1e-12) * g[i] + b[i])));
            free(x), free(res), free(g), free(b), free(v);
            if (n > 1) KZ_CHECK(mx < 2e-5);
        }
}

KZ_TEST(quant_u7_bounds_and_agreement) {
    const kz_nn_kern *t[2];
    int nt = tables(t);
    uint8_t q[2][352];
    float s[2];
    int32_t zp[2];
    float x[320];
    for (int round = 0; round < 50; round++) {
        uint32_t n = 1 + (uint32_t)(round * 37 % 320);
        float off = round % 3 == 0 ? 2.0f : round % 3 == 1 ? -2.0f : 0.0f;
        for (uint32_t i = 0; i < n; i++) x[i] = 4.0f * frand() + off;
        if (round == 7) memset(x, 0, sizeof x);
        for (int ti = 0; ti < nt; ti++) {
            memset(q[ti], 0xee, sizeof q[ti]);
            t[ti]->quant_u7(x, n, 352, q[ti], &s[ti], &zp[ti]);
            KZ_CHECK(zp[ti] >= 0 && zp[ti] <= 127);
            for (uint32_t i = 0; i < 352; i++) KZ_CHECK(q[ti][i] <= 127);
            for (uint32_t i = n; i < 352; i++) KZ_CHECK(q[ti][i] == 0);
            for (uint32_t i = 0; i < n; i++)
                KZ_CHECK(fabsf(x[i] - s[ti] * (float)((int)q[ti][i] - zp[ti])) <=
                         0.5f * s[ti] * 1.001f + 1e-7f);
        }
        if (nt == 2) {
            KZ_CHECK(s[0] == s[1] && zp[0] == zp[1]);
            KZ_CHECK(memcmp(q[0], q[1], 352) == 0);
        }
    }
}

/* Random linear layer; returns W [n][k] and bias [n]. */
static void rand_linear(uint32_t n, uint32_t k, float **w, float **b) {
    *w = malloc((size_t)n * k * sizeof(float));
    *b = malloc(n * sizeof(float));
    for (size_t i = 0; i < (size_t)n * k; i++) (*w)[i] = frand() * 0.5f;
    for (uint32_t i = 0; i < n; i++) (*b)[i] = frand();
}

KZ_TEST(gemm_fp32_and_bf16_match_reference) {
    const kz_nn_kern *t[2];
    int nt = tables(t);
    const uint32_t shapes[][3] = {{1, 13, 8},  {3, 24, 1},    {4, 50, 33},
                                  {9, 97, 64}, {26, 72, 312}, {70, 25, 17}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        uint32_t M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
        float *w, *bias, *a = malloc((size_t)M * (K + 3) * sizeof(float));
        rand_linear(N, K, &w, &bias);
        const size_t lda = K + 3, ldc = N + 5;
        for (size_t i = 0; i < (size_t)M * lda; i++) a[i] = frand();
        for (int fmt = 0; fmt < 2; fmt++) {
            kz_nn_src src = {.w = w, .b = bias, .n = N};
            kz_nn_packed pk;
            KZ_CHECK_INT(kz__nn_pack(&src, 1, K, fmt ? KZ_NN_W_BF16 : KZ_NN_W_F32, &pk), 0);
            KZ_CHECK(pk.n_pad % KZ_NN_NR == 0 && pk.n_pad >= N);
            for (int ti = 0; ti < nt; ti++)
                for (int epi = 0; epi < 4; epi++) {
                    float *c = malloc((size_t)M * ldc * sizeof(float));
                    for (size_t i = 0; i < (size_t)M * ldc; i++) c[i] = 777.0f;
                    kz_nn_gemm g = {
                        .rows = M, .a = a, .lda = lda, .w = &pk, .c = c, .ldc = ldc, .epi = (kz_nn_epi)epi};
                    if (fmt)
                        t[ti]->gemm_bf16(&g);
                    else
                        t[ti]->gemm_f32(&g);
                    double mx = 0;
                    for (uint32_t m = 0; m < M; m++) {
                        for (uint32_t j = 0; j < N; j++) {
                            double s = bias[j];
                            for (uint32_t i = 0; i < K; i++) {
                                double wv = fmt ? kz__bf16_to_f32(kz__f32_to_bf16(w[(size_t)j * K + i]))
                                                : w[(size_t)j * K + i];
                                s += (double)a[m * lda + i] * wv;
                            }
                            mx =
                                fmax(mx, fabs(c[m * ldc + j] - epi_ref(s, (kz_nn_epi)epi)) / (1.0 + fabs(s)));
                        }
                        for (uint32_t j = N; j < ldc; j++) KZ_CHECK(c[m * ldc + j] == 777.0f);
                    }
                    free(c);
                    if (mx > 2e-5) {
                        kz_test_fail(__FILE__, __LINE__, "%s %s M=%u N=%u K=%u epi=%d: max err %g",
                                     t[ti]->name, fmt ? "bf16" : "fp32", M, N, K, epi, mx);
                        return;
                    }
                }
            kz__nn_packed_free(&pk);
        }
        free(w), free(bias), free(a);
    }
}

KZ_TEST(gemm_panel_range) {
    const kz_nn_kern *t[2];
    int nt = tables(t);
    float *w, *bias, a[5 * 16];
    rand_linear(60, 16, &w, &bias);
    for (int i = 0; i < 5 * 16; i++) a[i] = frand();
    kz_nn_src src = {.w = w, .b = bias, .n = 60};
    kz_nn_packed pk;
    KZ_CHECK_INT(kz__nn_pack(&src, 1, 16, KZ_NN_W_F32, &pk), 0);
    for (int ti = 0; ti < nt; ti++) {
        float full[5 * 60], part[5 * 60];
        kz_nn_gemm g = {.rows = 5, .a = a, .lda = 16, .w = &pk, .c = full, .ldc = 60};
        t[ti]->gemm_f32(&g);
        for (uint32_t p = 0; p < pk.n_pad / KZ_NN_NR; p++) {
            g.c = part, g.p0 = p, g.p1 = p + 1;
            t[ti]->gemm_f32(&g);
        }
        KZ_CHECK(memcmp(full, part, sizeof full) == 0);
    }
    kz__nn_packed_free(&pk);
    free(w), free(bias);
}

KZ_TEST(gemm_int8_exact_integer_sums) {
    const kz_nn_kern *t[2];
    int nt = tables(t);
    const uint32_t shapes[][3] = {{1, 13, 8},  {5, 24, 3},    {4, 50, 33},
                                  {9, 97, 64}, {26, 72, 312}, {67, 30, 1201}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        uint32_t M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
        float *w, *bias;
        rand_linear(N, K, &w, &bias);
        /* pre-quantised weights with the extreme values, as a .kzm file may hold */
        int8_t *wq = malloc((size_t)N * K);
        float *ws = malloc(N * sizeof(float));
        for (size_t i = 0; i < (size_t)N * K; i++)
            wq[i] = (int8_t)(i % 5 == 0 ? -128 : i % 7 == 0 ? 127 : (int)(frand() * 127));
        for (uint32_t j = 0; j < N; j++) ws[j] = 0.01f + 0.001f * (float)j;
        const size_t ldq = (K + 3) / 4 * 4 + 4, ldc = N;
        uint8_t *aq = calloc((size_t)M * ldq, 1);
        float *as = malloc(M * sizeof(float));
        int32_t *az = malloc(M * sizeof(int32_t));
        for (uint32_t m = 0; m < M; m++) {
            for (uint32_t i = 0; i < K; i++)
                aq[m * ldq + i] = (uint8_t)(m == 0 ? 127 : (frand() + 1.0f) * 63.5f);
            as[m] = 0.02f + 0.001f * (float)m;
            az[m] = (int32_t)(m * 13 % 128);
        }
        for (int pre = 0; pre < 2; pre++) {
            kz_nn_src src = {
                .w = w, .b = bias, .n = N, .w_q8 = pre ? wq : NULL, .w_q8_scale = pre ? ws : NULL};
            kz_nn_packed pk;
            KZ_CHECK_INT(kz__nn_pack(&src, 1, K, KZ_NN_W_S8, &pk), 0);
            float *out[2] = {malloc((size_t)M * ldc * 4), malloc((size_t)M * ldc * 4)};
            for (int ti = 0; ti < nt; ti++) {
                kz_nn_gemm g = {.rows = M,
                                .aq = aq,
                                .ldaq = ldq,
                                .ascale = as,
                                .azp = az,
                                .w = &pk,
                                .c = out[ti],
                                .ldc = ldc};
                t[ti]->gemm_s8(&g);
                /* reference: exact integer sums from the packed weights */
                for (uint32_t m = 0; m < M; m++)
                    for (uint32_t j = 0; j < N; j++) {
                        int64_t s = 0, cs = 0;
                        for (uint32_t i = 0; i < K; i++) {
                            int8_t qv =
                                ((const int8_t *)
                                     pk.w)[(size_t)(j / KZ_NN_NR) * pk.k_pad * KZ_NN_NR +
                                           (size_t)(i / 4) * KZ_NN_NR * 4 + (j % KZ_NN_NR) * 4 + i % 4];
                            if (pre) KZ_CHECK(qv == wq[(size_t)j * K + i]);
                            s += (int64_t)aq[m * ldq + i] * qv;
                            cs += qv;
                        }
                        KZ_CHECK(cs == pk.colsum[j]);
                        double ref =
                            (double)as[m] * pk.wscale[j] * (double)(s - (int64_t)az[m] * cs) + bias[j];
                        double got = out[ti][m * ldc + j];
                        if (fabs(got - ref) > 1e-5 * (1.0 + fabs(ref))) {
                            kz_test_fail(__FILE__, __LINE__, "%s int8 M=%u N=%u K=%u (%u,%u): %g vs %g",
                                         t[ti]->name, M, N, K, m, j, got, ref);
                            return;
                        }
                    }
            }
            /* the oneDNN-path epilogue (int32 rows -> dequantised floats) agrees too */
            int32_t *acc = malloc((size_t)M * N * sizeof(int32_t));
            for (uint32_t m = 0; m < M; m++)
                for (uint32_t j = 0; j < N; j++) {
                    int64_t s = 0;
                    for (uint32_t i = 0; i < K; i++)
                        s += (int64_t)aq[m * ldq + i] *
                             ((const int8_t *)
                                  pk.w)[(size_t)(j / KZ_NN_NR) * pk.k_pad * KZ_NN_NR +
                                        (size_t)(i / 4) * KZ_NN_NR * 4 + (j % KZ_NN_NR) * 4 + i % 4];
                    acc[m * N + j] = (int32_t)s;
                }
            for (int ti = 0; ti < nt; ti++) {
                float *o = malloc((size_t)M * N * 4);
                t[ti]->epi_s32(acc, N, o, N, M, as, az, &pk, KZ_NN_EPI_NONE);
                for (size_t i = 0; i < (size_t)M * N; i++)
                    KZ_CHECK(fabsf(o[i] - out[0][i]) <= 1e-5f * (1 + fabsf(o[i])));
                free(o);
            }
            free(acc);
            free(out[0]), free(out[1]);
            kz__nn_packed_free(&pk);
        }
        free(w), free(bias), free(wq), free(ws), free(aq), free(as), free(az);
    }
}

KZ_TEST(weight_quantisation_row) {
    float w[9] = {0.5f, -1.0f, 0.25f, 0.0f, 1e-3f, -0.75f, 1.0f, 0.1f, -0.1f};
    int8_t q[9];
    float s = kz__nn_quant_row_s8(w, 9, q);
    KZ_CHECK(fabsf(s - 1.0f / 127.0f) < 1e-9f);
    KZ_CHECK_INT(q[1], -127);
    KZ_CHECK_INT(q[6], 127);
    KZ_CHECK_INT(q[3], 0);
    for (int i = 0; i < 9; i++) KZ_CHECK(fabsf(w[i] - s * q[i]) <= 0.5f * s + 1e-7f);
    float z[4] = {0};
    KZ_CHECK(kz__nn_quant_row_s8(z, 4, q) == 0.0f && q[0] == 0 && q[3] == 0);
}

KZ_TEST(attention_matches_reference) {
    const kz_nn_kern *t[2];
    int nt = tables(t);
    const uint32_t Ts[] = {1, 5, 8, 17, 26, 33}, dhs[] = {2, 26, 64, 13};
    for (size_t ti_ = 0; ti_ < sizeof Ts / sizeof Ts[0]; ti_++)
        for (size_t di = 0; di < sizeof dhs / sizeof dhs[0]; di++) {
            uint32_t T = Ts[ti_], dh = dhs[di];
            size_t ld = 3 * dh + 5, ldc = dh + 3;
            float *qkv = malloc((T * ld + 8) * sizeof(float)), *ctx = malloc(T * ldc * sizeof(float));
            float *scr = kz__nn_alloc(kz__nn_attn_scratch(T, dh) * sizeof(float));
            size_t Tp = (T + 7) & ~7u;
            float *kt = malloc(dh * Tp * sizeof(float));
            for (size_t i = 0; i < T * ld + 8; i++) qkv[i] = 2.0f * frand();
            for (int k = 0; k < nt; k++) {
                for (size_t i = 0; i < T * ldc; i++) ctx[i] = 555.0f;
                for (size_t i = 0; i < dh * Tp; i++) kt[i] = NAN;
                t[k]->transpose(qkv + dh, ld, T, dh, kt, Tp);
                for (uint32_t d = 0; d < dh; d++)
                    for (uint32_t j = 0; j < Tp; j++)
                        KZ_CHECK(kt[d * Tp + j] == (j < T ? qkv[j * ld + dh + d] : 0.0f));
                kz_nn_attn a = {.q = qkv,
                                .k = qkv + dh,
                                .v = qkv + 2 * dh,
                                .ld = ld,
                                .kt = kt,
                                .ldkt = Tp,
                                .ctx = ctx,
                                .ldc = ldc,
                                .T = T,
                                .dh = dh,
                                .scale = 1.0f / sqrtf((float)dh),
                                .scratch = scr};
                t[k]->attn(&a);
                double mx = 0;
                for (uint32_t i = 0; i < T; i++) {
                    double s[64], mxs = -1e300, sum = 0;
                    for (uint32_t j = 0; j < T; j++) {
                        s[j] = 0;
                        for (uint32_t d = 0; d < dh; d++)
                            s[j] += (double)qkv[i * ld + d] * qkv[j * ld + dh + d];
                        s[j] /= sqrt((double)dh);
                        mxs = fmax(mxs, s[j]);
                    }
                    for (uint32_t j = 0; j < T; j++) sum += s[j] = exp(s[j] - mxs);
                    for (uint32_t d = 0; d < dh; d++) {
                        double o = 0;
                        for (uint32_t j = 0; j < T; j++) o += s[j] / sum * qkv[j * ld + 2 * dh + d];
                        mx = fmax(mx, fabs(o - ctx[i * ldc + d]));
                    }
                    for (uint32_t d = dh; d < ldc; d++) KZ_CHECK(ctx[i * ldc + d] == 555.0f);
                }
                if (mx > 1e-5) {
                    kz_test_fail(__FILE__, __LINE__, "%s attention T=%u dh=%u: max err %g", t[k]->name, T, dh,
                                 mx);
                    return;
                }
            }
            free(qkv), free(ctx), free(kt);
            kz__nn_free(scr);
        }
}

static void add_task(void *arg, uint32_t i, uint32_t tid) {
    ((uint32_t *)arg)[i] += i + 1;
    if (tid >= 2) ((uint32_t *)arg)[i] += 1000; /* tid must stay below the thread count */
}

KZ_TEST(parallel_runs_every_task_once) {
    uint32_t v[37] = {0};
    kz_nn_pool *p = kz__nn_pool_new(2);
    KZ_CHECK(p != NULL);
    KZ_CHECK_INT(kz__nn_pool_threads(p), 2);
    for (int round = 0; round < 200; round++) kz__nn_parallel(p, 37, add_task, v); /* many short jobs */
    for (uint32_t i = 0; i < 37; i++) KZ_CHECK_INT(v[i], 200 * (i + 1));
    kz__nn_pool_free(p);
    KZ_CHECK(kz__nn_pool_new(1) == NULL);
    memset(v, 0, sizeof v);
    kz__nn_parallel(NULL, 5, add_task, v);
    for (uint32_t i = 0; i < 5; i++) KZ_CHECK_INT(v[i], i + 1);
}

KZ_TEST(pack_rejects_empty) {
    kz_nn_packed pk;
    kz_nn_src src = {.w = NULL, .n = 0};
    KZ_CHECK_INT(kz__nn_pack(&src, 1, 8, KZ_NN_W_F32, &pk), KZ_EINVAL);
}
