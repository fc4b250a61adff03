// AVX2 + FMA + F16C kernels: the same arithmetic as the portable kernel and VDPBF16PS (cgemm.h),
// for x86-64 CPUs without AVX512-BF16 (Zen 2/3, Haswell ... Ice Lake client). Every function
// carries a target attribute, so the translation unit builds with default flags and the code only
// runs after the runtime CPU check.
//
// How the exact VDPBF16PS arithmetic is reproduced with fp32 FMAs:
//   * a packed dword holds bf16(W[n][2p]) in its low half and bf16(W[n][2p+1]) in its high half,
//     so `dword << 16` is the even weight as fp32 and `dword & 0xFFFF0000` the odd one (exact);
//   * activations are rounded to bf16 once (the cgemm.h rule) and kept as fp32 values in scratch;
//   * each accumulator takes fma(odd) then fma(even) per k-pair, in k order;
//   * the kernels run with MXCSR.DAZ (bf16 subnormal inputs read as zero) and MXCSR.FTZ (a
//     subnormal result becomes a zero of the same sign) set, and restore MXCSR before the bias is
//     added in a separate pass, which is therefore a plain IEEE addition as in the portable kernel.
#include "cgemm_internal.h"

#if CGEMM_X86

#include <cpuid.h>
#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma,f16c")))
#define INLINE inline __attribute__((always_inline))

// Register tile: MR rows x 16 columns (half a packed panel, 2 ymm) -> 2*MR accumulators, plus the
// four widened weight vectors, the odd-half mask and a broadcast: 2*MR + 6 <= 16 ymm registers.
#ifndef CGEMM_AVX2_MR
#define CGEMM_AVX2_MR 4
#endif
// K block in k-pairs: the A block (MC rows * 2 * KCP fp32 = 160 KiB) sits in L2, a half panel's
// B slice (KCP * 64 bytes) in L1. Tuned on Zen 3 (32 KiB L1d, 512 KiB L2): with 2 threads on
// M = 626 rows this order runs at 110-155 GFLOP/s against OpenBLAS sgemm's 135-160 on the same
// shapes (the machine's timings vary by +-25 % between runs); blocking N first with the whole
// A block in scratch fell to 60-100 GFLOP/s once A left L3.
#ifndef CGEMM_AVX2_KCP
#define CGEMM_AVX2_KCP 128
#endif
#ifndef CGEMM_AVX2_MC
#define CGEMM_AVX2_MC 160
#endif
#define MR CGEMM_AVX2_MR
#define KCP CGEMM_AVX2_KCP
#define MC CGEMM_AVX2_MC
#if MC % MR != 0
#error "CGEMM_AVX2_MC must be a multiple of CGEMM_AVX2_MR"
#endif
#define MXCSR_DAZ 0x0040u
#define MXCSR_FTZ 0x8000u

// ---------------------------------------------------------------------------------------------
// CPU check: AVX2 + FMA + F16C in CPUID and YMM state enabled by the OS (XCR0).

static int detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const unsigned need1 = (1u << 12) | (1u << 27) | (1u << 28) | (1u << 29);  // FMA, OSXSAVE, AVX, F16C
    if ((c & need1) != need1) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0x6u) != 0x6u) return 0;  // SSE and AVX state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 5)) != 0;  // AVX2
}

static int supported_cached = -1;

int cgemm_avx2_supported(void) {
    int s = __atomic_load_n(&supported_cached, __ATOMIC_ACQUIRE);
    if (s < 0) {
        s = detect();
        __atomic_store_n(&supported_cached, s, __ATOMIC_RELEASE);
    }
    return s;
}

// ---------------------------------------------------------------------------------------------
// fp32 -> bf16, eight lanes: the cgemm.h rule (NaN -> quiet NaN, zero exponent -> signed zero,
// else round to nearest even). Returns 32-bit lanes holding the bf16 bits in their low half.

TGT static INLINE __m256i bf16_bits8(__m256 x) {
    const __m256i u = _mm256_castps_si256(x);
    const __m256i top = _mm256_srli_epi32(u, 16);
    const __m256i absu = _mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF));
    const __m256i is_nan = _mm256_cmpgt_epi32(absu, _mm256_set1_epi32(0x7F800000));
    const __m256i zero_exp = _mm256_cmpeq_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7F800000)),
                                                _mm256_setzero_si256());
    const __m256i lsb = _mm256_and_si256(top, _mm256_set1_epi32(1));
    const __m256i rne = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), lsb), 16);
    const __m256i qnan = _mm256_or_si256(top, _mm256_set1_epi32(0x40));
    const __m256i szero = _mm256_and_si256(top, _mm256_set1_epi32(0x8000));
    __m256i r = _mm256_blendv_epi8(rne, qnan, is_nan);
    return _mm256_blendv_epi8(r, szero, zero_exp);
}

/// Sixteen bf16 values (two vectors of 32-bit lanes from bf16_bits8, in order) as 16 uint16.
TGT static INLINE __m256i pack16(__m256i lo, __m256i hi) {
    // packus interleaves 128-bit lanes: [lo0-3, hi0-3, lo4-7, hi4-7]; restore the order.
    return _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xD8);
}

TGT void cgemm_avx2_f32_to_bf16(const float *src, uint16_t *dst, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m256i lo = bf16_bits8(_mm256_loadu_ps(src + i));
        __m256i hi = bf16_bits8(_mm256_loadu_ps(src + i + 8));
        _mm256_storeu_si256((__m256i *)(dst + i), pack16(lo, hi));
    }
    for (; i < count; i++) dst[i] = cgemm_bf16_from_f32(src[i]);
}

/// Activations of one row, k0 ..< k0 + kc, rounded to bf16 and stored as fp32 values in dst
/// (zero-padded up to `out` values).
TGT static void round_row_f32(const float *src, int kc, float *dst, int out) {
    int i = 0;
    for (; i + 8 <= kc; i += 8) {
        __m256i b = bf16_bits8(_mm256_loadu_ps(src + i));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(b, 16)));
    }
    for (; i < kc; i++) {
        uint32_t u = (uint32_t)cgemm_bf16_from_f32(src[i]) << 16;
        memcpy(dst + i, &u, 4);
    }
    for (; i < out; i++) dst[i] = 0.0f;
}

// ---------------------------------------------------------------------------------------------
// Column masks for a partial half panel (cols valid columns of 16).

TGT static INLINE void half_masks(int cols, __m256i *m0, __m256i *m1) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    *m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), idx);
    *m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8), idx);
}

// Micro-kernel: C[mr, 16] (+)= A[mr, 2*kp] * B[2*kp, 16] for half `b` of a packed panel
// (pair p's 16 dwords at b + 32 p). a: row r's values at a + r * astride (fp32, bf16-rounded);
// load_c: continue a K split; full: all 16 columns valid, else masks m0/m1.

TGT static INLINE void ukernel(const int mr, int kp, const float *restrict a, int astride,
                               const uint32_t *restrict b, float *restrict c, int ldc, int load_c,
                               int full, __m256i m0, __m256i m1) {
    __m256 acc0[MR], acc1[MR];
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        if (load_c) {
            const float *cr = c + (size_t)r * ldc;
            acc0[r] = full ? _mm256_loadu_ps(cr) : _mm256_maskload_ps(cr, m0);
            acc1[r] = full ? _mm256_loadu_ps(cr + 8) : _mm256_maskload_ps(cr + 8, m1);
        } else {
            acc0[r] = _mm256_setzero_ps();
            acc1[r] = _mm256_setzero_ps();
        }
    }
    const __m256i odd_mask = _mm256_set1_epi32((int)0xFFFF0000u);
    for (int p = 0; p < kp; p++) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(b + (size_t)p * NR));
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(b + (size_t)p * NR + 8));
        const __m256 wo0 = _mm256_castsi256_ps(_mm256_and_si256(w0, odd_mask));
        const __m256 wo1 = _mm256_castsi256_ps(_mm256_and_si256(w1, odd_mask));
        const __m256 we0 = _mm256_castsi256_ps(_mm256_slli_epi32(w0, 16));
        const __m256 we1 = _mm256_castsi256_ps(_mm256_slli_epi32(w1, 16));
#pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            const __m256 ao = _mm256_broadcast_ss(a + (size_t)r * astride + 2 * p + 1);
            acc0[r] = _mm256_fmadd_ps(ao, wo0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(ao, wo1, acc1[r]);
        }
#pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            const __m256 ae = _mm256_broadcast_ss(a + (size_t)r * astride + 2 * p);
            acc0[r] = _mm256_fmadd_ps(ae, we0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(ae, we1, acc1[r]);
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        float *cr = c + (size_t)r * ldc;
        if (full) {
            _mm256_storeu_ps(cr, acc0[r]);
            _mm256_storeu_ps(cr + 8, acc1[r]);
        } else {
            _mm256_maskstore_ps(cr, m0, acc0[r]);
            _mm256_maskstore_ps(cr + 8, m1, acc1[r]);
        }
    }
}

typedef void (*ukernel_fn)(int kp, const float *a, int astride, const uint32_t *b, float *c, int ldc, int load_c,
                           int full, __m256i m0, __m256i m1);

#define UK(R)                                                                                           \
    TGT static void ukernel_##R(int kp, const float *a, int astride, const uint32_t *b, float *c, int ldc, \
                                int load_c, int full, __m256i m0, __m256i m1) {                          \
        ukernel(R, kp, a, astride, b, c, ldc, load_c, full, m0, m1);                                     \
    }
UK(1) UK(2) UK(3) UK(4)
#if MR > 4
UK(5)
#endif

static const ukernel_fn ukernels[] = {
    NULL, ukernel_1, ukernel_2, ukernel_3, ukernel_4,
#if MR > 4
    ukernel_5,
#endif
};

/// C[rows, panel columns] += bias, with the caller's (default) MXCSR: one IEEE addition each.
static void add_bias(const cgemm_args *g, int m0, int rows) {
    const int n0 = g->panel_begin * NR;
    const int n1 = (g->panel_end * NR) < g->N ? g->panel_end * NR : g->N;
    for (int i = m0; i < m0 + rows; i++) {
        float *c = g->C + (size_t)i * g->ldc;
        for (int n = n0; n < n1; n++) c[n] = c[n] + g->bias[n];
    }
}

// Blocked GEMM (GotoBLAS order). Loops: M blocks (<= MC rows) > K blocks (KCP pairs; the block's
// activations rounded into thread scratch [rows][2 KCP] fp32, which stays in L2) > panels > half
// panels > MR-row tiles. The half panel's B slice (KCP * 64 of its KCP * 128 bytes) is reused from
// L1 across the tiles; C tiles are accumulated through memory across K blocks, the next tile's
// rows prefetched while the current one runs.
TGT int cgemm_avx2_gemm(const cgemm_args *g) {
    const int K = g->K;
    const size_t kp_total = ((size_t)K + 1) / 2;
    const int nkb = (K + 2 * KCP - 1) / (2 * KCP);
    const int nmb = (g->M + MC - 1) / MC;
    const int mblock = (((g->M + nmb - 1) / nmb + MR - 1) / MR) * MR;  // <= MC
    const int astride = 2 * KCP;
    float *abuf = (float *)cgemm_scratch((size_t)mblock * (size_t)astride * 4);
    if (abuf == NULL) return CGEMM_ENOMEM;
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | MXCSR_DAZ | MXCSR_FTZ);
    for (int m0 = 0; m0 < g->M; m0 += mblock) {
        const int mc = (g->M - m0) < mblock ? (g->M - m0) : mblock;
        for (int kb = 0; kb < nkb; kb++) {
            const int k0 = kb * 2 * KCP;
            const int kc = (K - k0) < 2 * KCP ? (K - k0) : 2 * KCP;
            const int kcp = (kc + 1) / 2;
            for (int r = 0; r < mc; r++) {
                round_row_f32(g->A + (size_t)(m0 + r) * g->lda + k0, kc, abuf + (size_t)r * astride, 2 * kcp);
            }
            for (int j = g->panel_begin; j < g->panel_end; j++) {
                const uint32_t *bp = g->B + ((size_t)j * kp_total + (size_t)(k0 / 2)) * NR;
                for (int h = 0; h < 2; h++) {
                    const int cols = g->N - (j * NR + 16 * h);
                    if (cols <= 0) break;
                    const int full = cols >= 16;
                    __m256i mk0, mk1;
                    half_masks(cols, &mk0, &mk1);
                    float *cp = g->C + (size_t)m0 * g->ldc + (size_t)j * NR + 16 * h;
                    for (int i = 0; i < mc; i += MR) {
                        const int mr = (mc - i) < MR ? (mc - i) : MR;
                        if (kb > 0) {  // the next tile's C rows (this half panel, else the next one's top)
                            const float *nx = i + MR < mc ? cp + (size_t)(i + MR) * g->ldc : cp + 16;
                            const int nr = i + MR < mc ? ((mc - i - MR) < MR ? (mc - i - MR) : MR) : MR;
                            for (int r = 0; r < nr && r < mc; r++) _mm_prefetch((const char *)(nx + (size_t)r * g->ldc), _MM_HINT_T0);
                        }
                        ukernels[mr](kcp, abuf + (size_t)i * astride, astride, bp + 16 * h,
                                     cp + (size_t)i * g->ldc, g->ldc, kb > 0, full, mk0, mk1);
                    }
                }
            }
        }
    }
    _mm_setcsr(csr);
    if (g->bias) add_bias(g, 0, g->M);
    return CGEMM_OK;
}

// ---------------------------------------------------------------------------------------------
// GEMV (small M): each packed weight byte is read once per pair of rows; a whole panel
// (4 column groups) per pass gives 4 * R independent accumulation chains, and a single row takes
// two full panels per pass (8 chains, two weight streams).

TGT static INLINE void gemv_pass(const int R, int kp, const float *restrict a, size_t astride,
                                 const uint32_t *restrict b, float *restrict c, int ldc, int cols) {
    __m256 acc[2][4];
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) {
        for (int q = 0; q < 4; q++) acc[r][q] = _mm256_setzero_ps();
    }
    const __m256i odd_mask = _mm256_set1_epi32((int)0xFFFF0000u);
    for (int p = 0; p < kp; p++) {
        __m256 ao[2], ae[2];
#pragma clang loop unroll(full)
        for (int r = 0; r < R; r++) {
            ao[r] = _mm256_broadcast_ss(a + (size_t)r * astride + 2 * p + 1);
            ae[r] = _mm256_broadcast_ss(a + (size_t)r * astride + 2 * p);
        }
#pragma clang loop unroll(full)
        for (int q = 0; q < 4; q++) {
            const __m256i w = _mm256_loadu_si256((const __m256i *)(b + (size_t)p * NR + 8 * q));
            const __m256 wo = _mm256_castsi256_ps(_mm256_and_si256(w, odd_mask));
            const __m256 we = _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
#pragma clang loop unroll(full)
            for (int r = 0; r < R; r++) {
                acc[r][q] = _mm256_fmadd_ps(ao[r], wo, acc[r][q]);
                acc[r][q] = _mm256_fmadd_ps(ae[r], we, acc[r][q]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++) {
        float *cr = c + (size_t)r * ldc;
        if (cols >= NR) {
            for (int q = 0; q < 4; q++) _mm256_storeu_ps(cr + 8 * q, acc[r][q]);
        } else {
            float tmp[NR];
            for (int q = 0; q < 4; q++) _mm256_storeu_ps(tmp + 8 * q, acc[r][q]);
            memcpy(cr, tmp, (size_t)cols * 4);
        }
    }
}

TGT static void gemv_1(int kp, const float *a, size_t astride, const uint32_t *b, float *c, int ldc, int cols) {
    gemv_pass(1, kp, a, astride, b, c, ldc, cols);
}
TGT static void gemv_2(int kp, const float *a, size_t astride, const uint32_t *b, float *c, int ldc, int cols) {
    gemv_pass(2, kp, a, astride, b, c, ldc, cols);
}

/// One row against two consecutive full panels (b, b + kp * 32): 8 accumulation chains and two
/// weight streams, the same per-element operation order as gemv_pass.
TGT static void gemv_1x2(int kp, const float *restrict a, const uint32_t *restrict b, float *restrict c) {
    __m256 acc[8];
    for (int q = 0; q < 8; q++) acc[q] = _mm256_setzero_ps();
    const __m256i odd_mask = _mm256_set1_epi32((int)0xFFFF0000u);
    const uint32_t *b2 = b + (size_t)kp * NR;
    for (int p = 0; p < kp; p++) {
        const __m256 ao = _mm256_broadcast_ss(a + 2 * p + 1);
        const __m256 ae = _mm256_broadcast_ss(a + 2 * p);
#pragma clang loop unroll(full)
        for (int q = 0; q < 8; q++) {
            const uint32_t *src = q < 4 ? b + (size_t)p * NR + 8 * q : b2 + (size_t)p * NR + 8 * (q - 4);
            const __m256i w = _mm256_loadu_si256((const __m256i *)src);
            acc[q] = _mm256_fmadd_ps(ao, _mm256_castsi256_ps(_mm256_and_si256(w, odd_mask)), acc[q]);
            acc[q] = _mm256_fmadd_ps(ae, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)), acc[q]);
        }
    }
    for (int q = 0; q < 8; q++) _mm256_storeu_ps(c + 8 * q, acc[q]);
}

TGT int cgemm_avx2_gemv(const cgemm_args *g) {
    const int K = g->K;
    const size_t kp = ((size_t)K + 1) / 2;
    // Two rows at a time, each rounded in full: [2, 2 kp] fp32.
    float *abuf = (float *)cgemm_scratch(2 * 2 * kp * 4);
    if (abuf == NULL) return CGEMM_ENOMEM;
    const unsigned csr = _mm_getcsr();
    _mm_setcsr(csr | MXCSR_DAZ | MXCSR_FTZ);
    for (int m0 = 0; m0 < g->M; m0 += 2) {
        const int m = (g->M - m0) < 2 ? (g->M - m0) : 2;
        for (int r = 0; r < m; r++) {
            round_row_f32(g->A + (size_t)(m0 + r) * g->lda, K, abuf + (size_t)r * 2 * kp, (int)(2 * kp));
        }
        float *crow = g->C + (size_t)m0 * g->ldc;
        for (int j = g->panel_begin; j < g->panel_end; j++) {
            const int cols = g->N - j * NR;
            const uint32_t *bp = g->B + (size_t)j * kp * NR;
            if (m == 1 && j + 1 < g->panel_end && cols >= 2 * NR) {
                gemv_1x2((int)kp, abuf, bp, crow + (size_t)j * NR);
                j++;
                continue;
            }
            if (m == 2) {
                gemv_2((int)kp, abuf, 2 * kp, bp, crow + (size_t)j * NR, g->ldc, cols);
            } else {
                gemv_1((int)kp, abuf, 2 * kp, bp, crow + (size_t)j * NR, g->ldc, cols);
            }
        }
    }
    _mm_setcsr(csr);
    if (g->bias) add_bias(g, 0, g->M);
    return CGEMM_OK;
}

// ---------------------------------------------------------------------------------------------
// Packing: each of a panel's 32 weight rows converted to bf16 pairs in chunks, then the
// [32 rows, pairs] chunk transposed 8 x 8 dwords at a time into the panel.

/// W[row, k0 ..< k0 + kc] as bf16 pairs in dst (an odd kc padded with a zero).
TGT static void convert_row_avx2(const void *src, int dtype, size_t row, int K, int k0, int kc, uint32_t *dst) {
    const size_t base = row * (size_t)K + (size_t)k0;
    uint16_t *d = (uint16_t *)dst;
    int k = 0;
    if (dtype == CGEMM_SRC_BF16) {
        memcpy(d, (const uint16_t *)src + base, (size_t)kc * 2);
        k = kc;
    } else if (dtype == CGEMM_SRC_F16) {
        const uint16_t *s = (const uint16_t *)src + base;
        for (; k + 16 <= kc; k += 16) {
            __m256 lo = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + k)));
            __m256 hi = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + k + 8)));
            _mm256_storeu_si256((__m256i *)(d + k), pack16(bf16_bits8(lo), bf16_bits8(hi)));
        }
        for (; k < kc; k++) d[k] = cgemm_bf16_from_f32_bits(cgemm_f32_bits_from_f16(s[k]));
    } else {
        const float *s = (const float *)src + base;
        for (; k + 16 <= kc; k += 16) {
            __m256i lo = bf16_bits8(_mm256_loadu_ps(s + k));
            __m256i hi = bf16_bits8(_mm256_loadu_ps(s + k + 8));
            _mm256_storeu_si256((__m256i *)(d + k), pack16(lo, hi));
        }
        for (; k < kc; k++) d[k] = cgemm_bf16_from_f32(s[k]);
    }
    if (kc & 1) d[kc] = 0;
}

/// In-register transpose of an 8x8 dword matrix (r[i] = row i).
TGT static INLINE void transpose8x8(__m256i r[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
    }
}

#define PACK_PAIRS 256
TGT int cgemm_avx2_pack(const void *src, int dtype, int N, int K, uint32_t *packed, int panel_begin, int panel_end) {
    const size_t kp = ((size_t)K + 1) / 2;
    uint32_t *tmp = (uint32_t *)cgemm_scratch((size_t)NR * PACK_PAIRS * 4);  // [32, PACK_PAIRS]
    if (tmp == NULL) return CGEMM_ENOMEM;
    for (int j = panel_begin; j < panel_end; j++) {
        uint32_t *dst = packed + (size_t)j * kp * NR;
        for (size_t c0 = 0; c0 < kp; c0 += PACK_PAIRS) {
            const size_t pc = (kp - c0) < PACK_PAIRS ? (kp - c0) : PACK_PAIRS;
            const int k0 = (int)(2 * c0);
            const int kc = (K - k0) < (int)(2 * pc) ? (K - k0) : (int)(2 * pc);
            for (int c = 0; c < NR; c++) {
                size_t n = (size_t)j * NR + (size_t)c;
                if (n < (size_t)N) {
                    convert_row_avx2(src, dtype, n, K, k0, kc, tmp + (size_t)c * PACK_PAIRS);
                } else {
                    memset(tmp + (size_t)c * PACK_PAIRS, 0, pc * 4);
                }
            }
            size_t p0 = 0;
            for (; p0 + 8 <= pc; p0 += 8) {
                for (int h = 0; h < 4; h++) {  // rows 8h ..< 8h + 8 of the panel
                    __m256i r[8];
                    for (int i = 0; i < 8; i++) {
                        r[i] = _mm256_loadu_si256((const __m256i *)(tmp + (size_t)(8 * h + i) * PACK_PAIRS + p0));
                    }
                    transpose8x8(r);
                    for (int q = 0; q < 8; q++) {
                        _mm256_storeu_si256((__m256i *)(dst + (c0 + p0 + (size_t)q) * NR + 8 * h), r[q]);
                    }
                }
            }
            for (; p0 < pc; p0++) {
                for (int c = 0; c < NR; c++) dst[(c0 + p0) * NR + (size_t)c] = tmp[(size_t)c * PACK_PAIRS + p0];
            }
        }
    }
    return CGEMM_OK;
}

#endif
