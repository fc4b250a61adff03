// Internal declarations shared by the portable, AVX512-BF16 and AVX2 translation units.
#ifndef CGEMM_INTERNAL_H
#define CGEMM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "cgemm.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define CGEMM_X86 1
#else
#define CGEMM_X86 0
#endif

#define NR CGEMM_PANEL_COLS

/// Rounds fp32 bits to bf16 bits: subnormal -> signed zero, NaN -> quiet NaN, else RNE.
static inline uint16_t cgemm_bf16_from_f32_bits(uint32_t u) {
    if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu) != 0) {
        return (uint16_t)((u >> 16) | 0x0040u);
    }
    if ((u & 0x7F800000u) == 0) {
        return (uint16_t)((u >> 16) & 0x8000u);
    }
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

static inline uint16_t cgemm_bf16_from_f32(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    return cgemm_bf16_from_f32_bits(u);
}

/// Exact IEEE binary16 -> binary32 bits (subnormals normalised, NaN made quiet like F16C).
static inline uint32_t cgemm_f32_bits_from_f16(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t man = h & 0x3FFu;
    if (exp == 0x1Fu) {
        return sign | 0x7F800000u | (man << 13) | (man ? 0x00400000u : 0u);
    }
    if (exp == 0) {
        if (man == 0) return sign;
        int e = -1;
        do { man <<= 1; e++; } while ((man & 0x400u) == 0);
        man &= 0x3FFu;
        return sign | ((uint32_t)(127 - 15 - e) << 23) | (man << 13);
    }
    return sign | ((exp + 112u) << 23) | (man << 13);
}

/// Thread-local scratch of at least `bytes` bytes, 64-byte aligned; NULL if allocation fails.
void *cgemm_scratch(size_t bytes);

/// Validated arguments passed to kernels.
typedef struct {
    int M, N, K, lda, ldc, panel_begin, panel_end;
    const float *A;
    const uint32_t *B;
    float *C;
    const float *bias;
} cgemm_args;

#if CGEMM_X86
int cgemm_avx512bf16_supported(void);
int cgemm_avx512_gemm(const cgemm_args *a);
int cgemm_avx512_gemv(const cgemm_args *a);
int cgemm_avx512_pack(const void *src, int src_dtype, int N, int K, uint32_t *packed,
                      int panel_begin, int panel_end);
void cgemm_avx512_f32_to_bf16(const float *src, uint16_t *dst, size_t count);
int cgemm_avx2_supported(void);
int cgemm_avx2_gemm(const cgemm_args *a);
int cgemm_avx2_gemv(const cgemm_args *a);
int cgemm_avx2_pack(const void *src, int src_dtype, int N, int K, uint32_t *packed,
                    int panel_begin, int panel_end);
void cgemm_avx2_f32_to_bf16(const float *src, uint16_t *dst, size_t count);
#endif

#endif
