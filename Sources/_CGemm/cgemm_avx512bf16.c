// AVX512-BF16 kernels. Every function here carries a target attribute, so the translation unit
// builds with default compiler flags and the code only runs after the runtime CPU check.
#include "cgemm_internal.h"

#if CGEMM_X86

#include <cpuid.h>
#include <immintrin.h>
#include <stdlib.h>

#define TGT __attribute__((target("avx512f,avx512bf16,avx512bw,avx512vl,avx512dq")))
#define INLINE inline __attribute__((always_inline))

// Register tile: MR rows x 32 columns (2 zmm) -> 2*MR accumulators.
#ifndef CGEMM_MR
#define CGEMM_MR 12
#endif
// K block in k-pairs (dwords per packed A row); the B micro-panel is KC * 128 bytes, the A block
// at most MC * KC * 4 bytes (L2). M is cut into equal MR-multiple blocks <= MC. Two K blocks are
// compiled and one is picked per CPU at run time (`kblock`), both measured with
// Tests/Benchmarks/gemm_bench.c: 192 on Zen 5 (48 KiB L1d, 1 MiB L2; B panel in L1), 512 on
// Zen 4 (32 KiB L1d, 1 MiB L2; 420 against 390 GFLOP/s on 2 cores at the 7B shapes: fewer passes
// over C, the B panel served from L2). The K block never changes the arithmetic (see cgemm.h).
#ifndef CGEMM_KCP
#define CGEMM_KCP 192
#endif
#ifndef CGEMM_KCP_LARGE
#define CGEMM_KCP_LARGE 512
#endif
#ifndef CGEMM_MC
#define CGEMM_MC 648
#endif
// Panels per N block: the C block (rows * NCP * 128 bytes) stays in L2 across the K blocks.
#ifndef CGEMM_NCP
#define CGEMM_NCP 4
#endif
#define NCP CGEMM_NCP
// Below this many rows in an M block, N blocks are single panels (B streamed sequentially).
#define SMALL_M 48
#define MR CGEMM_MR
#define KCP_S CGEMM_KCP
#define KCP_L CGEMM_KCP_LARGE
#define MC CGEMM_MC
#if MC % MR != 0
#error "CGEMM_MC must be a multiple of CGEMM_MR"
#endif

// ---------------------------------------------------------------------------------------------
// CPU check: AVX-512 F/BW/VL/DQ + BF16 in CPUID and ZMM/opmask state enabled by the OS (XCR0).

static int detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27))) return 0;  // OSXSAVE
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6u) != 0xE6u) return 0;  // SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    unsigned need = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);  // F, DQ, BW, VL
    if ((b & need) != need) return 0;
    unsigned maxsub = a;
    if (maxsub < 1) return 0;
    __cpuid_count(7, 1, a, b, c, d);
    return (a & (1u << 5)) != 0;  // AVX512_BF16
}

static int supported_cached = -1;

int cgemm_avx512bf16_supported(void) {
    int s = __atomic_load_n(&supported_cached, __ATOMIC_ACQUIRE);
    if (s < 0) {
        s = detect();
        __atomic_store_n(&supported_cached, s, __ATOMIC_RELEASE);
    }
    return s;
}

// ---------------------------------------------------------------------------------------------
// fp32 -> bf16 (VCVTNE2PS2BF16: RNE, subnormal -> signed zero, NaN -> quiet; same as portable).

/// Converts n floats to bf16 into dst as k-pair dwords and zero-fills up to `pairs_out` dwords.
TGT static void cvt_row_pairs(const float *src, int n, uint32_t *dst, int pairs_out) {
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 lo = _mm512_loadu_ps(src + i);
        __m512 hi = _mm512_loadu_ps(src + i + 16);
        _mm512_storeu_si512((void *)(dst + i / 2), (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
    int rem = n - i;
    if (rem > 0) {
        __mmask16 mlo = (__mmask16)(rem >= 16 ? 0xFFFFu : ((1u << rem) - 1u));
        __mmask16 mhi = (__mmask16)(rem >= 32 ? 0xFFFFu : (rem > 16 ? ((1u << (rem - 16)) - 1u) : 0u));
        __m512 lo = _mm512_maskz_loadu_ps(mlo, src + i);
        __m512 hi = _mm512_maskz_loadu_ps(mhi, src + i + 16);
        int dw = (rem + 1) / 2;
        __mmask16 md = (__mmask16)((1u << dw) - 1u);
        _mm512_mask_storeu_epi32(dst + i / 2, md, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
    }
    int done = (n + 1) / 2;
    for (int p = done; p < pairs_out; p++) dst[p] = 0;
}

TGT void cgemm_avx512_f32_to_bf16(const float *src, uint16_t *dst, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        _mm256_storeu_si256((__m256i *)(dst + i), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + i)));
    }
    if (i < count) {
        __mmask16 m = (__mmask16)((1u << (count - i)) - 1u);
        __m256bh r = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
        _mm256_mask_storeu_epi16(dst + i, m, (__m256i)r);
    }
}

// ---------------------------------------------------------------------------------------------
// Micro-kernel: C[mr, 32] (+)= A[mr, 2*kp] * B[2*kp, 32].
// a: packed A rows of `astride` dwords (row r's pair p at a[r * astride + p]);
// b: packed B micro-panel, kp * 32 dwords; c: C tile (row stride ldc); load_c: continue a K split;
// bias: non-NULL on the last K block when a bias is added; m0/m1: column masks (partial panel).

TGT static INLINE void ukernel(const int mr, const int astride, int kp, const uint32_t *restrict a,
                               const uint32_t *restrict b, float *restrict c, int ldc, int load_c,
                               const float *bias, __mmask16 m0, __mmask16 m1, const float *cnext, int nnext) {
    // Warm the next tile's C rows (it is read back on later K blocks and written in any case).
    for (int r = 0; r < nnext; r++) {
        _mm_prefetch((const char *)(cnext + (size_t)r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(cnext + (size_t)r * ldc + 16), _MM_HINT_T0);
    }
    __m512 acc0[MR], acc1[MR];
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        if (load_c) {
            acc0[r] = _mm512_maskz_loadu_ps(m0, c + (size_t)r * ldc);
            acc1[r] = _mm512_maskz_loadu_ps(m1, c + (size_t)r * ldc + 16);
        } else {
            acc0[r] = _mm512_setzero_ps();
            acc1[r] = _mm512_setzero_ps();
        }
    }
    for (int p = 0; p < kp; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(b + (size_t)p * NR));
        __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(b + (size_t)p * NR + 16));
#pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[r * astride + p]);
            acc0[r] = _mm512_dpbf16_ps(acc0[r], av, b0);
            acc1[r] = _mm512_dpbf16_ps(acc1[r], av, b1);
        }
    }
    if (bias) {
        __m512 bv0 = _mm512_maskz_loadu_ps(m0, bias);
        __m512 bv1 = _mm512_maskz_loadu_ps(m1, bias + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            acc0[r] = _mm512_add_ps(acc0[r], bv0);
            acc1[r] = _mm512_add_ps(acc1[r], bv1);
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        _mm512_mask_storeu_ps(c + (size_t)r * ldc, m0, acc0[r]);
        _mm512_mask_storeu_ps(c + (size_t)r * ldc + 16, m1, acc1[r]);
    }
}

typedef void (*ukernel_fn)(int kp, const uint32_t *a, const uint32_t *b, float *c, int ldc, int load_c,
                           const float *bias, __mmask16 m0, __mmask16 m1, const float *cnext, int nnext);

#define UK(R, KC)                                                                                     \
    TGT static void ukernel_##R##_##KC(int kp, const uint32_t *a, const uint32_t *b, float *c, int ldc, \
                                       int load_c, const float *bias, __mmask16 m0, __mmask16 m1,     \
                                       const float *cnext, int nnext) {                               \
        ukernel(R, KC, kp, a, b, c, ldc, load_c, bias, m0, m1, cnext, nnext);                         \
    }
#define UK_ALL(KC) UK(1, KC) UK(2, KC) UK(3, KC) UK(4, KC) UK(5, KC) UK(6, KC) UK(7, KC) UK(8, KC)     \
    UK(9, KC) UK(10, KC) UK(11, KC) UK(12, KC)
#define UK_TABLE(KC)                                                                                  \
    {NULL, ukernel_1_##KC, ukernel_2_##KC, ukernel_3_##KC, ukernel_4_##KC, ukernel_5_##KC,            \
     ukernel_6_##KC, ukernel_7_##KC, ukernel_8_##KC, ukernel_9_##KC, ukernel_10_##KC, ukernel_11_##KC, \
     ukernel_12_##KC}
#if MR != 12
#error "the kernel tables list 12 tile heights"
#endif
UK_ALL(CGEMM_KCP)
UK_ALL(CGEMM_KCP_LARGE)
#define UK_TABLE_OF(KC) UK_TABLE(KC)
static const ukernel_fn ukernels_small_k[] = UK_TABLE_OF(CGEMM_KCP);
static const ukernel_fn ukernels_large_k[] = UK_TABLE_OF(CGEMM_KCP_LARGE);

// The K block of the AVX512-BF16 blocked GEMM: set by cgemm_set_k_block, else CGEMM_KBLOCK=192|512
// in the environment (read once), else 512 on AMD family 19h (Zen 3/4; of these only Zen 4 has
// AVX512-BF16) and 192 elsewhere (Zen 5, Intel).
static int kblock_cached = 0;

static int kblock_auto(void) {
    const char *env = getenv("CGEMM_KBLOCK");
    if (env != NULL && (atoi(env) == KCP_S || atoi(env) == KCP_L)) return atoi(env);
    unsigned a, b, c, d;
    if (__get_cpuid(0, &a, &b, &c, &d) && b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u &&
        __get_cpuid(1, &a, &b, &c, &d)) {  // "AuthenticAMD"
        unsigned base = (a >> 8) & 0xFu;
        unsigned family = base + (base == 0xFu ? ((a >> 20) & 0xFFu) : 0u);
        if (family == 0x19) return KCP_L;
    }
    return KCP_S;
}

static int kblock(void) {
    int kb = __atomic_load_n(&kblock_cached, __ATOMIC_ACQUIRE);
    if (kb == 0) {
        kb = kblock_auto();
        __atomic_store_n(&kblock_cached, kb, __ATOMIC_RELEASE);
    }
    return kb;
}

int cgemm_set_k_block(int pairs) {
    if (pairs != 0 && pairs != KCP_S && pairs != KCP_L) return CGEMM_EINVAL;
    __atomic_store_n(&kblock_cached, pairs == 0 ? kblock_auto() : pairs, __ATOMIC_RELEASE);
    return CGEMM_OK;
}

int cgemm_k_block(void) { return kblock(); }

static inline void panel_masks(int N, int j, __mmask16 *m0, __mmask16 *m1) {
    int cols = N - j * NR;
    if (cols >= NR) {
        *m0 = 0xFFFF;
        *m1 = 0xFFFF;
    } else {
        *m0 = (__mmask16)(cols >= 16 ? 0xFFFFu : ((1u << cols) - 1u));
        *m1 = (__mmask16)(cols > 16 ? ((1u << (cols - 16)) - 1u) : 0u);
    }
}

/// Rows of the next register tile when `rem` rows are left: MR, except that MR plus a short tail
/// (< MR/2 rows) is split into two near-equal tiles (a 1-2 row tile is latency-bound).
static inline int tile_rows(int rem) {
    if (rem <= MR) return rem;
    if (rem < MR + MR / 2) return (rem + 1) / 2;
    return MR;
}

// Blocked GEMM. Loops: M blocks (<= MC rows; the whole A block converted to bf16 once into
// thread scratch as [K block][row][KCP]) > N blocks of NCP panels (their C block stays in L2
// across K blocks) > K blocks (KCP pairs) > panels > MR-row tiles. The B micro-panel
// (KCP * 128 bytes) is reused from L1 (L2 with the large K block) across the MR tiles; the A
// K-block (rows * KCP * 4 bytes) from L2 across the panels of the N block.
TGT static INLINE int blocked(const cgemm_args *g, const int KCP, const ukernel_fn *ukernels) {
    const int K = g->K;
    const size_t kp_total = ((size_t)K + 1) / 2;
    const int nkb = (K + 2 * KCP - 1) / (2 * KCP);
    const int nmb = (g->M + MC - 1) / MC;
    const int mblock = (((g->M + nmb - 1) / nmb + MR - 1) / MR) * MR;  // <= MC (MC is a multiple of MR)
    uint32_t *abuf = (uint32_t *)cgemm_scratch((size_t)mblock * (size_t)nkb * KCP * 4);
    if (abuf == NULL) return CGEMM_ENOMEM;
    for (int m0 = 0; m0 < g->M; m0 += mblock) {
        const int mc = (g->M - m0) < mblock ? (g->M - m0) : mblock;
        for (int kb = 0; kb < nkb; kb++) {
            const int k0 = kb * 2 * KCP;
            const int kc = (K - k0) < 2 * KCP ? (K - k0) : 2 * KCP;
            uint32_t *ablk = abuf + (size_t)kb * mblock * KCP;
            for (int r = 0; r < mc; r++) {
                cvt_row_pairs(g->A + (size_t)(m0 + r) * g->lda + k0, kc, ablk + (size_t)r * KCP, (kc + 1) / 2);
            }
        }
        // Few rows: B bandwidth dominates, so read each panel front to back (one panel per block).
        const int ncp = mc < SMALL_M ? 1 : NCP;
        for (int jc = g->panel_begin; jc < g->panel_end; jc += ncp) {
            const int je = (g->panel_end - jc) < ncp ? g->panel_end : jc + ncp;
            for (int kb = 0; kb < nkb; kb++) {
                const int k0 = kb * 2 * KCP;
                const int kc = (K - k0) < 2 * KCP ? (K - k0) : 2 * KCP;
                const int kcp = (kc + 1) / 2;
                const int last_k = kb == nkb - 1;
                const uint32_t *ablk = abuf + (size_t)kb * mblock * KCP;
                for (int j = jc; j < je; j++) {
                    __mmask16 mk0, mk1;
                    panel_masks(g->N, j, &mk0, &mk1);
                    const uint32_t *bp = g->B + ((size_t)j * kp_total + (size_t)(k0 / 2)) * NR;
                    float *cp = g->C + (size_t)m0 * g->ldc + (size_t)j * NR;
                    const float *bias = (last_k && g->bias) ? g->bias + (size_t)j * NR : NULL;
                    for (int i = 0, mr = 0; i < mc; i += mr) {
                        mr = tile_rows(mc - i);
                        // Prefetch the next tile's C: further down this panel, else the top of the
                        // next panel of this N block, else the top of the N block (next K block).
                        const float *cnext = NULL;
                        int nnext = 0;
                        if (i + mr < mc) {
                            cnext = cp + (size_t)(i + mr) * g->ldc;
                            nnext = (mc - i - mr) < MR ? (mc - i - mr) : MR;
                        } else if (j + 1 < je) {
                            cnext = cp + NR;
                            nnext = mc < MR ? mc : MR;
                        } else if (!last_k) {
                            cnext = g->C + (size_t)m0 * g->ldc + (size_t)jc * NR;
                            nnext = mc < MR ? mc : MR;
                        }
                        ukernels[mr](kcp, ablk + (size_t)i * KCP, bp, cp + (size_t)i * g->ldc, g->ldc, kb > 0, bias,
                                     mk0, mk1, cnext, nnext);
                    }
                }
            }
        }
    }
    return CGEMM_OK;
}

TGT int cgemm_avx512_gemm(const cgemm_args *g) {
    return kblock() == KCP_L ? blocked(g, KCP_L, ukernels_large_k) : blocked(g, KCP_S, ukernels_small_k);
}

// ---------------------------------------------------------------------------------------------
// GEMV (small M): each packed weight byte is read once; two panels per pass for 4*M independent
// accumulation chains. Same per-element operation order as the blocked GEMM.

TGT static INLINE void gemv_pass(const int m, const int two, int kp, const uint32_t *restrict a, size_t astride,
                                 const uint32_t *restrict b, float *restrict c, int ldc, const float *bias,
                                 __mmask16 m0, __mmask16 m1, __mmask16 m2, __mmask16 m3) {
    __m512 acc[4][4];
#pragma clang loop unroll(full)
    for (int r = 0; r < m; r++) {
        acc[r][0] = _mm512_setzero_ps();
        acc[r][1] = _mm512_setzero_ps();
        acc[r][2] = _mm512_setzero_ps();
        acc[r][3] = _mm512_setzero_ps();
    }
    const uint32_t *b2 = b + (size_t)kp * NR;  // next panel
    for (int p = 0; p < kp; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(b + (size_t)p * NR));
        __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(b + (size_t)p * NR + 16));
        __m512bh b2v = b0, b3v = b1;
        if (two) {
            b2v = (__m512bh)_mm512_loadu_si512((const void *)(b2 + (size_t)p * NR));
            b3v = (__m512bh)_mm512_loadu_si512((const void *)(b2 + (size_t)p * NR + 16));
        }
#pragma clang loop unroll(full)
        for (int r = 0; r < m; r++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[(size_t)r * astride + p]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
            if (two) {
                acc[r][2] = _mm512_dpbf16_ps(acc[r][2], av, b2v);
                acc[r][3] = _mm512_dpbf16_ps(acc[r][3], av, b3v);
            }
        }
    }
    if (bias) {
        __m512 v0 = _mm512_maskz_loadu_ps(m0, bias), v1 = _mm512_maskz_loadu_ps(m1, bias + 16);
        __m512 v2 = _mm512_setzero_ps(), v3 = _mm512_setzero_ps();
        if (two) {
            v2 = _mm512_maskz_loadu_ps(m2, bias + 32);
            v3 = _mm512_maskz_loadu_ps(m3, bias + 48);
        }
#pragma clang loop unroll(full)
        for (int r = 0; r < m; r++) {
            acc[r][0] = _mm512_add_ps(acc[r][0], v0);
            acc[r][1] = _mm512_add_ps(acc[r][1], v1);
            if (two) {
                acc[r][2] = _mm512_add_ps(acc[r][2], v2);
                acc[r][3] = _mm512_add_ps(acc[r][3], v3);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < m; r++) {
        float *cr = c + (size_t)r * ldc;
        _mm512_mask_storeu_ps(cr, m0, acc[r][0]);
        _mm512_mask_storeu_ps(cr + 16, m1, acc[r][1]);
        if (two) {
            _mm512_mask_storeu_ps(cr + 32, m2, acc[r][2]);
            _mm512_mask_storeu_ps(cr + 48, m3, acc[r][3]);
        }
    }
}

typedef void (*gemv_fn)(int kp, const uint32_t *a, size_t astride, const uint32_t *b, float *c, int ldc,
                        const float *bias, __mmask16 m0, __mmask16 m1, __mmask16 m2, __mmask16 m3);

#define GV(R, T)                                                                                      \
    TGT static void gemv_##R##_##T(int kp, const uint32_t *a, size_t astride, const uint32_t *b, float *c, \
                                   int ldc, const float *bias, __mmask16 m0, __mmask16 m1, __mmask16 m2, \
                                   __mmask16 m3) {                                                     \
        gemv_pass(R, T, kp, a, astride, b, c, ldc, bias, m0, m1, m2, m3);                            \
    }
GV(1, 0) GV(2, 0) GV(3, 0) GV(4, 0) GV(1, 1) GV(2, 1) GV(3, 1) GV(4, 1)

static const gemv_fn gemv_one[5] = {NULL, gemv_1_0, gemv_2_0, gemv_3_0, gemv_4_0};
static const gemv_fn gemv_two[5] = {NULL, gemv_1_1, gemv_2_1, gemv_3_1, gemv_4_1};

TGT int cgemm_avx512_gemv(const cgemm_args *g) {
    const int K = g->K;
    const size_t kp = ((size_t)K + 1) / 2;
    // Up to 4 rows at a time, each converted in full: [4, kp] dwords.
    uint32_t *abuf = (uint32_t *)cgemm_scratch(4 * kp * 4);
    if (abuf == NULL) return CGEMM_ENOMEM;
    for (int m0 = 0; m0 < g->M; m0 += 4) {
        const int m = (g->M - m0) < 4 ? (g->M - m0) : 4;
        for (int r = 0; r < m; r++) cvt_row_pairs(g->A + (size_t)(m0 + r) * g->lda, K, abuf + (size_t)r * kp, (int)kp);
        float *crow = g->C + (size_t)m0 * g->ldc;
        int j = g->panel_begin;
        for (; j + 2 <= g->panel_end; j += 2) {
            __mmask16 a0, a1, b0, b1;
            panel_masks(g->N, j, &a0, &a1);
            panel_masks(g->N, j + 1, &b0, &b1);
            gemv_two[m]((int)kp, abuf, kp, g->B + (size_t)j * kp * NR, crow + (size_t)j * NR, g->ldc,
                        g->bias ? g->bias + (size_t)j * NR : NULL, a0, a1, b0, b1);
        }
        if (j < g->panel_end) {
            __mmask16 a0, a1;
            panel_masks(g->N, j, &a0, &a1);
            gemv_one[m]((int)kp, abuf, kp, g->B + (size_t)j * kp * NR, crow + (size_t)j * NR, g->ldc,
                        g->bias ? g->bias + (size_t)j * NR : NULL, a0, a1, 0, 0);
        }
    }
    return CGEMM_OK;
}

// ---------------------------------------------------------------------------------------------
// Packing: convert each of a panel's 32 weight rows to bf16 pairs (vectorised), then transpose
// [32 rows, kp] -> [kp, 32] into the packed panel.

/// Converts W[row, k0 ..< k0 + kc] to bf16 pairs in dst (zero-padding an odd kc).
TGT static void convert_row_avx512(const void *src, int dtype, size_t row, int K, int k0, int kc, uint32_t *dst) {
    const size_t base = row * (size_t)K + (size_t)k0;
    if (dtype == CGEMM_SRC_F32) {
        cvt_row_pairs((const float *)src + base, kc, dst, (kc + 1) / 2);
        return;
    }
    const uint16_t *s = (const uint16_t *)src + base;
    uint16_t *d = (uint16_t *)dst;
    int k = 0;
    if (dtype == CGEMM_SRC_BF16) {
        memcpy(d, s, (size_t)kc * 2);
        k = kc;
    } else {
        for (; k + 32 <= kc; k += 32) {
            __m512 lo = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + k)));
            __m512 hi = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + k + 16)));
            _mm512_storeu_si512((void *)(d + k), (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
        }
        for (; k < kc; k++) d[k] = cgemm_bf16_from_f32_bits(cgemm_f32_bits_from_f16(s[k]));
    }
    if (kc & 1) d[kc] = 0;
}

/// In-register transpose of a 16x16 dword matrix (r[i] = row i): swaps the off-diagonal d x d
/// blocks for d = 8, 4, 2, 1 (one two-source permute per row and level).
TGT static INLINE void transpose16x16(__m512i r[16]) {
    for (int d = 8; d >= 1; d >>= 1) {
        int ia[16], ib[16];
        for (int x = 0; x < 16; x++) {
            ia[x] = (x & d) ? 16 + x - d : x;
            ib[x] = (x & d) ? 16 + x : x + d;
        }
        const __m512i idx_a = _mm512_loadu_si512((const void *)ia);
        const __m512i idx_b = _mm512_loadu_si512((const void *)ib);
        for (int a = 0; a < 16; a++) {
            if (a & d) continue;
            __m512i ra = r[a], rb = r[a + d];
            r[a] = _mm512_permutex2var_epi32(ra, idx_a, rb);
            r[a + d] = _mm512_permutex2var_epi32(ra, idx_b, rb);
        }
    }
}

// Packing in chunks of PACK_PAIRS k-pairs: convert the chunk of each of the panel's 32 rows into
// a [32, PACK_PAIRS] L1 buffer, then transpose it 16 x 16 dwords at a time into the panel.
#define PACK_PAIRS 256
TGT int cgemm_avx512_pack(const void *src, int dtype, int N, int K, uint32_t *packed, int panel_begin,
                          int panel_end) {
    const size_t kp = ((size_t)K + 1) / 2;
    uint32_t *tmp = (uint32_t *)cgemm_scratch((size_t)NR * PACK_PAIRS * 4);  // [32, PACK_PAIRS]
    if (tmp == NULL) return CGEMM_ENOMEM;
    const int aligned = ((uintptr_t)packed & 63u) == 0;
    for (int j = panel_begin; j < panel_end; j++) {
        uint32_t *dst = packed + (size_t)j * kp * NR;
        for (size_t c0 = 0; c0 < kp; c0 += PACK_PAIRS) {
            const size_t pc = (kp - c0) < PACK_PAIRS ? (kp - c0) : PACK_PAIRS;
            const int k0 = (int)(2 * c0);
            const int kc = (K - k0) < (int)(2 * pc) ? (K - k0) : (int)(2 * pc);
            for (int c = 0; c < NR; c++) {
                size_t n = (size_t)j * NR + (size_t)c;
                if (n < (size_t)N) {
                    convert_row_avx512(src, dtype, n, K, k0, kc, tmp + (size_t)c * PACK_PAIRS);
                } else {
                    memset(tmp + (size_t)c * PACK_PAIRS, 0, pc * 4);
                }
            }
            size_t p0 = 0;
            for (; p0 + 16 <= pc; p0 += 16) {
                for (int h = 0; h < 2; h++) {
                    __m512i r[16];
                    for (int i = 0; i < 16; i++) {
                        r[i] = _mm512_loadu_si512((const void *)(tmp + (size_t)(16 * h + i) * PACK_PAIRS + p0));
                    }
                    transpose16x16(r);
                    if (aligned) {  // non-temporal: the packed weights are not read back soon
                        for (int q = 0; q < 16; q++) {
                            _mm512_stream_si512((void *)(dst + (c0 + p0 + (size_t)q) * NR + 16 * h), r[q]);
                        }
                    } else {
                        for (int q = 0; q < 16; q++) {
                            _mm512_storeu_si512((void *)(dst + (c0 + p0 + (size_t)q) * NR + 16 * h), r[q]);
                        }
                    }
                }
            }
            for (; p0 < pc; p0++) {
                for (int c = 0; c < NR; c++) dst[(c0 + p0) * NR + (size_t)c] = tmp[(size_t)c * PACK_PAIRS + p0];
            }
        }
    }
    _mm_sfence();
    return CGEMM_OK;
}

#endif
