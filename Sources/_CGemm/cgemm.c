// Dispatch, argument checks, scratch buffers and the portable (plain C) kernels.
#include "cgemm_internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

// ---------------------------------------------------------------------------------------------
// Scratch: one growing 64-byte-aligned buffer per calling thread (freed at process exit only).

static _Thread_local void *tl_buf = NULL;
static _Thread_local size_t tl_cap = 0;

void *cgemm_scratch(size_t bytes) {
    if (bytes == 0) bytes = 64;
    if (bytes <= tl_cap) return tl_buf;
    size_t cap = (bytes + 65535u) & ~(size_t)65535u;
    void *p = aligned_alloc(64, cap);
    if (p == NULL) return NULL;
    free(tl_buf);
    tl_buf = p;
    tl_cap = cap;
    return p;
}

void cgemm_release_scratch(void) {
    free(tl_buf);
    tl_buf = NULL;
    tl_cap = 0;
}

// ---------------------------------------------------------------------------------------------
// Dispatch.

int cgemm_kernel_supported(int kernel) {
    switch (kernel) {
    case CGEMM_KERNEL_PORTABLE:
        return 1;
    case CGEMM_KERNEL_AVX512BF16:
#if CGEMM_X86
        return cgemm_avx512bf16_supported();
#else
        return 0;
#endif
    case CGEMM_KERNEL_AVX2:
#if CGEMM_X86
        return cgemm_avx2_supported();
#else
        return 0;
#endif
    default:
        return 0;
    }
}

static int best_kernel_cached = -1;

int cgemm_best_kernel(void) {
    int k = __atomic_load_n(&best_kernel_cached, __ATOMIC_ACQUIRE);
    if (k >= 0) return k;
    const char *force = getenv("CGEMM_FORCE_PORTABLE");
    if (force != NULL && force[0] == '1') {
        k = CGEMM_KERNEL_PORTABLE;
    } else {
        k = cgemm_kernel_supported(CGEMM_KERNEL_AVX512BF16) ? CGEMM_KERNEL_AVX512BF16
            : cgemm_kernel_supported(CGEMM_KERNEL_AVX2)     ? CGEMM_KERNEL_AVX2
                                                             : CGEMM_KERNEL_PORTABLE;
    }
    __atomic_store_n(&best_kernel_cached, k, __ATOMIC_RELEASE);
    return k;
}

int cgemm_panel_count(int N) {
    if (N <= 0) return 0;
    return (int)(((long)N + NR - 1) / NR);
}

size_t cgemm_packed_size_bytes(int N, int K) {
    if (N <= 0 || K <= 0) return 0;
    size_t panels = (size_t)cgemm_panel_count(N);
    size_t kp = ((size_t)K + 1) / 2;
    return panels * kp * (size_t)NR * 4u;
}

// ---------------------------------------------------------------------------------------------
// Portable packing.

static void convert_row_portable(const void *src, int dtype, size_t row, int K, uint16_t *dst) {
    if (dtype == CGEMM_SRC_BF16) {
        memcpy(dst, (const uint16_t *)src + row * (size_t)K, (size_t)K * 2);
    } else if (dtype == CGEMM_SRC_F16) {
        const uint16_t *s = (const uint16_t *)src + row * (size_t)K;
        for (int k = 0; k < K; k++) dst[k] = cgemm_bf16_from_f32_bits(cgemm_f32_bits_from_f16(s[k]));
    } else {
        const float *s = (const float *)src + row * (size_t)K;
        for (int k = 0; k < K; k++) dst[k] = cgemm_bf16_from_f32(s[k]);
    }
}

static int pack_portable(const void *src, int dtype, int N, int K, uint32_t *packed,
                         int panel_begin, int panel_end) {
    size_t kp = ((size_t)K + 1) / 2;
    // One panel's rows as bf16, [NR, 2 * kp] (pad column zero).
    uint16_t *tmp = (uint16_t *)cgemm_scratch((size_t)NR * kp * 4);
    if (tmp == NULL) return CGEMM_ENOMEM;
    for (int j = panel_begin; j < panel_end; j++) {
        for (int c = 0; c < NR; c++) {
            uint16_t *row = tmp + (size_t)c * kp * 2;
            size_t n = (size_t)j * NR + (size_t)c;
            if (n < (size_t)N) {
                convert_row_portable(src, dtype, n, K, row);
                if (K & 1) row[K] = 0;
            } else {
                memset(row, 0, kp * 4);
            }
        }
        uint32_t *dst = packed + (size_t)j * kp * NR;
        for (size_t p = 0; p < kp; p++) {
            for (int c = 0; c < NR; c++) {
                const uint16_t *row = tmp + (size_t)c * kp * 2;
                dst[p * NR + (size_t)c] = (uint32_t)row[2 * p] | ((uint32_t)row[2 * p + 1] << 16);
            }
        }
    }
    return CGEMM_OK;
}

int cgemm_pack_weights_bf16_ex(int kernel, const void *src, int src_dtype, int N, int K, void *packed,
                               int panel_begin, int panel_end) {
    if (src == NULL || packed == NULL || N <= 0 || K <= 0) return CGEMM_EINVAL;
    if (src_dtype != CGEMM_SRC_F16 && src_dtype != CGEMM_SRC_BF16 && src_dtype != CGEMM_SRC_F32) return CGEMM_EINVAL;
    int panels = cgemm_panel_count(N);
    if (panel_begin < 0 || panel_end > panels || panel_begin > panel_end) return CGEMM_EINVAL;
    if (!cgemm_kernel_supported(kernel)) return CGEMM_EINVAL;
    if (panel_begin == panel_end) return CGEMM_OK;
#if CGEMM_X86
    if (kernel == CGEMM_KERNEL_AVX512BF16) {
        return cgemm_avx512_pack(src, src_dtype, N, K, (uint32_t *)packed, panel_begin, panel_end);
    }
    if (kernel == CGEMM_KERNEL_AVX2) {
        return cgemm_avx2_pack(src, src_dtype, N, K, (uint32_t *)packed, panel_begin, panel_end);
    }
#endif
    return pack_portable(src, src_dtype, N, K, (uint32_t *)packed, panel_begin, panel_end);
}

int cgemm_pack_weights_bf16_panels(const void *src, int src_dtype, int N, int K, void *packed,
                                   int panel_begin, int panel_end) {
    return cgemm_pack_weights_bf16_ex(cgemm_best_kernel(), src, src_dtype, N, K, packed, panel_begin, panel_end);
}

int cgemm_pack_weights_bf16(const void *src, int src_dtype, int N, int K, void *packed) {
    return cgemm_pack_weights_bf16_ex(cgemm_best_kernel(), src, src_dtype, N, K, packed, 0, cgemm_panel_count(N));
}

// ---------------------------------------------------------------------------------------------
// Portable GEMM: the reference order, one output element at a time.

static inline float bf16_daz(uint32_t h16) {
    uint32_t h = h16 & 0xFFFFu;
    if ((h & 0x7F80u) == 0) h &= 0x8000u;
    uint32_t u = h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline float ftz(float x) {
    if (fabsf(x) < FLT_MIN) return copysignf(0.0f, x);
    return x;
}

/// One VDPBF16PS lane step: odd element first, then even; each a fused multiply-add then FTZ.
static inline float dp_step(float acc, uint32_t a, uint32_t w) {
    acc = ftz(fmaf(bf16_daz(a >> 16), bf16_daz(w >> 16), acc));
    acc = ftz(fmaf(bf16_daz(a), bf16_daz(w), acc));
    return acc;
}

static int gemm_portable(const cgemm_args *g) {
    size_t kp = ((size_t)g->K + 1) / 2;
    uint32_t *arow = (uint32_t *)cgemm_scratch(kp * 4);
    if (arow == NULL) return CGEMM_ENOMEM;
    for (int i = 0; i < g->M; i++) {
        const float *a = g->A + (size_t)i * (size_t)g->lda;
        uint16_t *a16 = (uint16_t *)arow;
        for (int k = 0; k < g->K; k++) a16[k] = cgemm_bf16_from_f32(a[k]);
        if (g->K & 1) a16[g->K] = 0;
        float *c = g->C + (size_t)i * (size_t)g->ldc;
        for (int j = g->panel_begin; j < g->panel_end; j++) {
            const uint32_t *panel = g->B + (size_t)j * kp * NR;
            for (int col = 0; col < NR; col++) {
                int n = j * NR + col;
                if (n >= g->N) break;
                float acc = 0.0f;
                for (size_t p = 0; p < kp; p++) acc = dp_step(acc, arow[p], panel[p * NR + (size_t)col]);
                c[n] = g->bias ? acc + g->bias[n] : acc;
            }
        }
    }
    return CGEMM_OK;
}

int cgemm_gemm_bf16_packed_ex(int kernel, int path, int M, int N, int K, const float *A, int lda,
                              const void *packedB, float *C, int ldc, const float *bias,
                              int panel_begin, int panel_end) {
    if (M < 0 || N <= 0 || K <= 0) return CGEMM_EINVAL;
    if (lda < K || ldc < N) return CGEMM_EINVAL;
    int panels = cgemm_panel_count(N);
    if (panel_begin < 0 || panel_end > panels || panel_begin > panel_end) return CGEMM_EINVAL;
    if (path != CGEMM_PATH_AUTO && path != CGEMM_PATH_BLOCKED && path != CGEMM_PATH_GEMV) return CGEMM_EINVAL;
    if (!cgemm_kernel_supported(kernel)) return CGEMM_EINVAL;
    if (M == 0 || panel_begin == panel_end) return CGEMM_OK;
    if (A == NULL || packedB == NULL || C == NULL) return CGEMM_EINVAL;
    cgemm_args g = {M, N, K, lda, ldc, panel_begin, panel_end, A, (const uint32_t *)packedB, C, bias};
#if CGEMM_X86
    const int gemv = path == CGEMM_PATH_GEMV || (path == CGEMM_PATH_AUTO && M <= CGEMM_GEMV_MAX_M);
    if (kernel == CGEMM_KERNEL_AVX512BF16) return gemv ? cgemm_avx512_gemv(&g) : cgemm_avx512_gemm(&g);
    if (kernel == CGEMM_KERNEL_AVX2) return gemv ? cgemm_avx2_gemv(&g) : cgemm_avx2_gemm(&g);
#endif
    return gemm_portable(&g);
}

int cgemm_gemm_bf16_packed(int M, int N, int K, const float *A, int lda, const void *packedB,
                           float *C, int ldc, const float *bias, int panel_begin, int panel_end) {
    return cgemm_gemm_bf16_packed_ex(cgemm_best_kernel(), CGEMM_PATH_AUTO, M, N, K, A, lda, packedB, C, ldc,
                                     bias, panel_begin, panel_end);
}

int cgemm_f32_to_bf16_ex(int kernel, const float *src, unsigned short *dst, size_t count) {
    if (!cgemm_kernel_supported(kernel)) return CGEMM_EINVAL;
    if (count == 0) return CGEMM_OK;
    if (src == NULL || dst == NULL) return CGEMM_EINVAL;
#if CGEMM_X86
    if (kernel == CGEMM_KERNEL_AVX512BF16) {
        cgemm_avx512_f32_to_bf16(src, dst, count);
        return CGEMM_OK;
    }
    if (kernel == CGEMM_KERNEL_AVX2) {
        cgemm_avx2_f32_to_bf16(src, dst, count);
        return CGEMM_OK;
    }
#endif
    for (size_t i = 0; i < count; i++) dst[i] = cgemm_bf16_from_f32(src[i]);
    return CGEMM_OK;
}

#if !CGEMM_X86
// No AVX512-BF16 kernel on this architecture: the K block is fixed.
int cgemm_set_k_block(int pairs) { return pairs == 0 || pairs == 192 || pairs == 512 ? CGEMM_OK : CGEMM_EINVAL; }
int cgemm_k_block(void) { return 192; }
#endif
