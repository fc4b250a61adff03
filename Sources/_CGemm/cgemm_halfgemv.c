// fp32 GEMV on fp16/bf16 weights without a converted copy: the fp32 path's decode step.
//
// C[M, n] = sum_k A[M, k] * f32(W[n, k]) for n in [n_begin, n_end), M small (a decode step has
// M = 1). The weight conversion is exact (fp16 -> fp32 with F16C, bf16 -> fp32 by a shift), so
// this is an fp32 matrix-vector product like the BLAS one the prefill uses, only with its own
// fixed summation order: per output, 8 lanes accumulate k = 8 i + lane with fused multiply-adds,
// the lanes are summed as ((0+4)+(2+6))+((1+5)+(3+7)), then the K % 8 tail is added in k order.
// The order does not depend on n_begin/n_end, so any split over threads gives the same bits.
#include "cgemm_internal.h"

#include <math.h>

#if CGEMM_X86

#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma,f16c")))
#define INLINE inline __attribute__((always_inline))
// Weight rows per pass (independent accumulators; 8 concurrent row streams).
#define ROWS 8

TGT static INLINE __m256 load_w(const uint16_t *p, int bf16) {
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    if (bf16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

TGT static INLINE float w_scalar(uint16_t h, int bf16) {
    uint32_t u = bf16 ? (uint32_t)h << 16 : cgemm_f32_bits_from_f16(h);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

TGT static INLINE float hsum(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);                      // (0+4) (1+5) (2+6) (3+7)
    __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));      // (0+4)+(2+6), (1+5)+(3+7)
    __m128 u = _mm_add_ss(t, _mm_shuffle_ps(t, t, 1));  // sum
    return _mm_cvtss_f32(u);
}

TGT static void gemv_rows(const float *a, int K, const uint16_t *w, int nrows, float *c, int bf16) {
    __m256 acc[ROWS];
    for (int j = 0; j < ROWS; j++) acc[j] = _mm256_setzero_ps();
    const int k8 = K & ~7;
    if (nrows == ROWS) {
        for (int k = 0; k < k8; k += 8) {
            const __m256 x = _mm256_loadu_ps(a + k);
#pragma clang loop unroll(full)
            for (int j = 0; j < ROWS; j++) acc[j] = _mm256_fmadd_ps(x, load_w(w + (size_t)j * K + k, bf16), acc[j]);
        }
    } else {
        for (int k = 0; k < k8; k += 8) {
            const __m256 x = _mm256_loadu_ps(a + k);
            for (int j = 0; j < nrows; j++) acc[j] = _mm256_fmadd_ps(x, load_w(w + (size_t)j * K + k, bf16), acc[j]);
        }
    }
    for (int j = 0; j < nrows; j++) {
        float s = hsum(acc[j]);
        const uint16_t *wr = w + (size_t)j * K;
        for (int k = k8; k < K; k++) s = fmaf(a[k], w_scalar(wr[k], bf16), s);
        c[j] = s;
    }
}

TGT static void half_gemv(int bf16, int M, int K, const float *A, int lda, const uint16_t *W, float *C, int ldc,
                          int n_begin, int n_end) {
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * lda;
        float *c = C + (size_t)i * ldc;
        for (int n = n_begin; n < n_end; n += ROWS) {
            const int rows = (n_end - n) < ROWS ? (n_end - n) : ROWS;
            gemv_rows(a, K, W + (size_t)n * K, rows, c + n, bf16);
        }
    }
}

#endif

int cgemm_half_gemv_f32(int src_dtype, int M, int N, int K, const float *A, int lda, const void *W, float *C,
                        int ldc, int n_begin, int n_end) {
    if (M < 0 || N <= 0 || K <= 0 || lda < K || ldc < N) return CGEMM_EINVAL;
    if (src_dtype != CGEMM_SRC_F16 && src_dtype != CGEMM_SRC_BF16) return CGEMM_EINVAL;
    if (n_begin < 0 || n_end > N || n_begin > n_end) return CGEMM_EINVAL;
    if (!cgemm_kernel_supported(CGEMM_KERNEL_AVX2)) return CGEMM_EINVAL;
    if (M == 0 || n_begin == n_end) return CGEMM_OK;
    if (A == NULL || W == NULL || C == NULL) return CGEMM_EINVAL;
#if CGEMM_X86
    half_gemv(src_dtype == CGEMM_SRC_BF16, M, K, A, lda, (const uint16_t *)W, C, ldc, n_begin, n_end);
    return CGEMM_OK;
#else
    return CGEMM_EINVAL;
#endif
}
