// Bulk binary16 / bfloat16 <-> binary32 conversions; see include/chalf.h for the exact semantics.
//
// Three kernels, all bit-identical:
//   portable  branch-free C on integer bit patterns (vectorisable by the compiler on any target);
//   avx2      x86-64 F16C (vcvtph2ps / vcvtps2ph with round-to-nearest-even) and AVX2 integer ops;
//   avx512    the same with 512-bit registers.
// The x86 kernels are compiled with per-function `target` attributes, so the rest of the package
// keeps the baseline instruction set; `chalf_best_kernel` checks CPUID and XGETBV once at run time.

#include "chalf.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define CHALF_X86 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define CHALF_X86 0
#endif

// ---------------------------------------------------------------------------------------------
// Portable scalar kernels (also used for the tails of the SIMD loops).

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t load_u16(const unsigned char *p) {
    return (uint16_t)(p[0] | ((uint16_t)p[1] << 8));
}

static inline void store_u16(unsigned char *p, uint16_t v) {
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)(v >> 8);
}

// binary16 -> binary32 bit pattern, exact.
static inline uint32_t half_to_float_bits(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t mag = h & 0x7fffu;
    // Normal numbers: shift the exponent/mantissa into place and re-bias (127 - 15 = 112).
    uint32_t normal = (mag << 13) + 0x38000000u;
    // Infinity / NaN: all-ones exponent; NaNs come back quiet (bit 22 set), like F16C.
    uint32_t special = (mag << 13) | 0x7f800000u | (mag > 0x7c00u ? 0x00400000u : 0u);
    // Zero and subnormals: mag * 2^-24, exact (mag < 2^10 converts exactly, the product is a
    // normal float or zero, so flush-to-zero/denormals-are-zero modes cannot change it).
    uint32_t sub = f32_bits((float)(int32_t)mag * 0x1p-24f);
    uint32_t r = mag < 0x0400u ? sub : (mag >= 0x7c00u ? special : normal);
    return sign | r;
}

// binary32 -> binary16, round to nearest, ties to even.
static inline uint16_t float_bits_to_half(uint32_t x) {
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t a = x & 0x7fffffffu;
    // [2^-14, 2^16): re-bias, then round the 13 dropped bits to nearest even. A carry out of the
    // mantissa bumps the exponent, and 65520 and up lands exactly on 0x7c00 (infinity).
    uint32_t n = a - 0x38000000u;
    n = (n + 0x0fffu + ((n >> 13) & 1u)) >> 13;
    // Below 2^-14: a + 0.5 puts the value in [0.5, 1) whose ulp is 2^-24 (the half subnormal
    // step), so the FPU does the round-to-nearest-even; the mantissa bits are the result
    // (1024 = smallest normal). Float subnormal inputs give 0 with or without DAZ.
    uint32_t s = f32_bits(bits_f32(a) + 0.5f) - 0x3f000000u;
    // NaN: quiet, keep the top 9 payload bits (F16C behaviour).
    uint32_t nan = 0x7e00u | ((a >> 13) & 0x03ffu);
    uint32_t r = a > 0x7f800000u ? nan
               : (a >= 0x47800000u ? 0x7c00u : (a >= 0x38800000u ? n : s));
    return (uint16_t)(sign | r);
}

// binary32 -> bfloat16, round to nearest, ties to even; NaN stays NaN (quiet, sign kept).
static inline uint16_t float_bits_to_bf16(uint32_t x) {
    uint32_t rounded = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
    uint32_t nan = (x >> 16) | 0x0040u;
    return (uint16_t)((x & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
}

static void f16_to_f32_portable(const unsigned char *src, float *dst, size_t count) {
    for (size_t i = 0; i < count; i++) {
        dst[i] = bits_f32(half_to_float_bits(load_u16(src + 2 * i)));
    }
}

static void bf16_to_f32_portable(const unsigned char *src, float *dst, size_t count) {
    for (size_t i = 0; i < count; i++) {
        dst[i] = bits_f32((uint32_t)load_u16(src + 2 * i) << 16);
    }
}

static void f32_to_f16_portable(const float *src, unsigned char *dst, size_t count) {
    for (size_t i = 0; i < count; i++) {
        float f;
        memcpy(&f, src + i, 4);
        store_u16(dst + 2 * i, float_bits_to_half(f32_bits(f)));
    }
}

static void f32_to_bf16_portable(const float *src, unsigned char *dst, size_t count) {
    for (size_t i = 0; i < count; i++) {
        float f;
        memcpy(&f, src + i, 4);
        store_u16(dst + 2 * i, float_bits_to_bf16(f32_bits(f)));
    }
}

// ---------------------------------------------------------------------------------------------
// x86-64 kernels.

#if CHALF_X86

#define CHALF_AVX2 __attribute__((target("avx,avx2,f16c")))
#define CHALF_AVX512 __attribute__((target("avx,avx2,f16c,avx512f,avx512bw")))

CHALF_AVX2
static void f16_to_f32_avx2(const unsigned char *src, float *dst, size_t count) {
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m128i h0 = _mm_loadu_si128((const __m128i *)(src + 2 * i));
        __m128i h1 = _mm_loadu_si128((const __m128i *)(src + 2 * i + 16));
        __m128i h2 = _mm_loadu_si128((const __m128i *)(src + 2 * i + 32));
        __m128i h3 = _mm_loadu_si128((const __m128i *)(src + 2 * i + 48));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h0));
        _mm256_storeu_ps(dst + i + 8, _mm256_cvtph_ps(h1));
        _mm256_storeu_ps(dst + i + 16, _mm256_cvtph_ps(h2));
        _mm256_storeu_ps(dst + i + 24, _mm256_cvtph_ps(h3));
    }
    for (; i + 8 <= count; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + 2 * i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    f16_to_f32_portable(src + 2 * i, dst + i, count - i);
}

CHALF_AVX2
static void f32_to_f16_avx2(const float *src, unsigned char *dst, size_t count) {
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m128i h0 = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
        __m128i h1 = _mm256_cvtps_ph(_mm256_loadu_ps(src + i + 8), _MM_FROUND_TO_NEAREST_INT);
        __m128i h2 = _mm256_cvtps_ph(_mm256_loadu_ps(src + i + 16), _MM_FROUND_TO_NEAREST_INT);
        __m128i h3 = _mm256_cvtps_ph(_mm256_loadu_ps(src + i + 24), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(dst + 2 * i), h0);
        _mm_storeu_si128((__m128i *)(dst + 2 * i + 16), h1);
        _mm_storeu_si128((__m128i *)(dst + 2 * i + 32), h2);
        _mm_storeu_si128((__m128i *)(dst + 2 * i + 48), h3);
    }
    for (; i + 8 <= count; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(dst + 2 * i), h);
    }
    f32_to_f16_portable(src + i, dst + 2 * i, count - i);
}

CHALF_AVX2
static void bf16_to_f32_avx2(const unsigned char *src, float *dst, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m128i h0 = _mm_loadu_si128((const __m128i *)(src + 2 * i));
        __m128i h1 = _mm_loadu_si128((const __m128i *)(src + 2 * i + 16));
        __m256i w0 = _mm256_slli_epi32(_mm256_cvtepu16_epi32(h0), 16);
        __m256i w1 = _mm256_slli_epi32(_mm256_cvtepu16_epi32(h1), 16);
        _mm256_storeu_si256((__m256i *)(dst + i), w0);
        _mm256_storeu_si256((__m256i *)(dst + i + 8), w1);
    }
    bf16_to_f32_portable(src + 2 * i, dst + i, count - i);
}

// 8 floats -> 8 rounded bfloat16 values in the low 16 bits of each 32-bit lane.
CHALF_AVX2
static inline __m256i bf16_round8_avx2(__m256i x) {
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i bias = _mm256_set1_epi32(0x7fff);
    const __m256i absMask = _mm256_set1_epi32(0x7fffffff);
    const __m256i infBits = _mm256_set1_epi32(0x7f800000);
    const __m256i quiet = _mm256_set1_epi32(0x0040);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(x, 16), one);
    __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(x, _mm256_add_epi32(bias, lsb)), 16);
    __m256i nan = _mm256_or_si256(_mm256_srli_epi32(x, 16), quiet);
    __m256i isNaN = _mm256_cmpgt_epi32(_mm256_and_si256(x, absMask), infBits);
    return _mm256_blendv_epi8(rounded, nan, isNaN);
}

CHALF_AVX2
static void f32_to_bf16_avx2(const float *src, unsigned char *dst, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m256i a = bf16_round8_avx2(_mm256_loadu_si256((const __m256i *)(src + i)));
        __m256i b = bf16_round8_avx2(_mm256_loadu_si256((const __m256i *)(src + i + 8)));
        // Values are <= 0xffff, so unsigned-saturating packing is exact; fix the lane order.
        __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xd8);
        _mm256_storeu_si256((__m256i *)(dst + 2 * i), packed);
    }
    f32_to_bf16_portable(src + i, dst + 2 * i, count - i);
}

CHALF_AVX512
static void f16_to_f32_avx512(const unsigned char *src, float *dst, size_t count) {
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m256i h0 = _mm256_loadu_si256((const __m256i *)(src + 2 * i));
        __m256i h1 = _mm256_loadu_si256((const __m256i *)(src + 2 * i + 32));
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(h0));
        _mm512_storeu_ps(dst + i + 16, _mm512_cvtph_ps(h1));
    }
    if (i < count) {
        f16_to_f32_avx2(src + 2 * i, dst + i, count - i);
    }
}

CHALF_AVX512
static void f32_to_f16_avx512(const float *src, unsigned char *dst, size_t count) {
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m256i h0 = _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
        __m256i h1 = _mm512_cvtps_ph(_mm512_loadu_ps(src + i + 16), _MM_FROUND_TO_NEAREST_INT);
        _mm256_storeu_si256((__m256i *)(dst + 2 * i), h0);
        _mm256_storeu_si256((__m256i *)(dst + 2 * i + 32), h1);
    }
    if (i < count) {
        f32_to_f16_avx2(src + i, dst + 2 * i, count - i);
    }
}

CHALF_AVX512
static void bf16_to_f32_avx512(const unsigned char *src, float *dst, size_t count) {
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m256i h0 = _mm256_loadu_si256((const __m256i *)(src + 2 * i));
        __m256i h1 = _mm256_loadu_si256((const __m256i *)(src + 2 * i + 32));
        _mm512_storeu_si512((void *)(dst + i), _mm512_slli_epi32(_mm512_cvtepu16_epi32(h0), 16));
        _mm512_storeu_si512((void *)(dst + i + 16), _mm512_slli_epi32(_mm512_cvtepu16_epi32(h1), 16));
    }
    if (i < count) {
        bf16_to_f32_avx2(src + 2 * i, dst + i, count - i);
    }
}

CHALF_AVX512
static void f32_to_bf16_avx512(const float *src, unsigned char *dst, size_t count) {
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i bias = _mm512_set1_epi32(0x7fff);
    const __m512i absMask = _mm512_set1_epi32(0x7fffffff);
    const __m512i infBits = _mm512_set1_epi32(0x7f800000);
    const __m512i quiet = _mm512_set1_epi32(0x0040);
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512i x = _mm512_loadu_si512((const void *)(src + i));
        __m512i hi = _mm512_srli_epi32(x, 16);
        __m512i lsb = _mm512_and_si512(hi, one);
        __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(x, _mm512_add_epi32(bias, lsb)), 16);
        __mmask16 isNaN = _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, absMask), infBits);
        __m512i r = _mm512_mask_or_epi32(rounded, isNaN, hi, quiet);
        _mm256_storeu_si256((__m256i *)(dst + 2 * i), _mm512_cvtepi32_epi16(r));
    }
    if (i < count) {
        f32_to_bf16_avx2(src + i, dst + 2 * i, count - i);
    }
}

static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

static int detect_kernel(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) {
        return CHALF_KERNEL_PORTABLE;
    }
    int osxsave = (ecx >> 27) & 1;
    int avx = (ecx >> 28) & 1;
    int f16c = (ecx >> 29) & 1;
    if (!osxsave || !avx || !f16c) {
        return CHALF_KERNEL_PORTABLE;
    }
    uint64_t xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) {  // SSE and AVX state enabled by the OS
        return CHALF_KERNEL_PORTABLE;
    }
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        return CHALF_KERNEL_PORTABLE;
    }
    int avx2 = (ebx >> 5) & 1;
    int avx512f = (ebx >> 16) & 1;
    int avx512bw = (ebx >> 30) & 1;
    if (!avx2) {
        return CHALF_KERNEL_PORTABLE;
    }
    if (avx512f && avx512bw && (xcr0 & 0xe6) == 0xe6) {  // opmask + ZMM state enabled
        return CHALF_KERNEL_AVX512;
    }
    return CHALF_KERNEL_AVX2;
}

#else

static int detect_kernel(void) { return CHALF_KERNEL_PORTABLE; }

#endif

// ---------------------------------------------------------------------------------------------
// Dispatch.

// Highest supported kernel, -1 until detected. Detection is idempotent, so a benign race between
// threads only repeats it; the atomic builtins keep the access well-defined.
static int detected_kernel = -1;

static int highest_kernel(void) {
    int k = __atomic_load_n(&detected_kernel, __ATOMIC_RELAXED);
    if (k < 0) {
        k = detect_kernel();
        __atomic_store_n(&detected_kernel, k, __ATOMIC_RELAXED);
    }
    return k;
}

int chalf_kernel_supported(int kernel) {
    return kernel >= CHALF_KERNEL_PORTABLE && kernel <= highest_kernel();
}

int chalf_best_kernel(void) {
    return highest_kernel();
}

static int usable(int kernel) {
    return chalf_kernel_supported(kernel) ? kernel : CHALF_KERNEL_PORTABLE;
}

void chalf_f16_to_f32_kernel(int kernel, const void *src, float *dst, size_t count) {
    switch (usable(kernel)) {
#if CHALF_X86
    case CHALF_KERNEL_AVX512: f16_to_f32_avx512((const unsigned char *)src, dst, count); return;
    case CHALF_KERNEL_AVX2: f16_to_f32_avx2((const unsigned char *)src, dst, count); return;
#endif
    default: f16_to_f32_portable((const unsigned char *)src, dst, count); return;
    }
}

void chalf_bf16_to_f32_kernel(int kernel, const void *src, float *dst, size_t count) {
    switch (usable(kernel)) {
#if CHALF_X86
    case CHALF_KERNEL_AVX512: bf16_to_f32_avx512((const unsigned char *)src, dst, count); return;
    case CHALF_KERNEL_AVX2: bf16_to_f32_avx2((const unsigned char *)src, dst, count); return;
#endif
    default: bf16_to_f32_portable((const unsigned char *)src, dst, count); return;
    }
}

void chalf_f32_to_f16_kernel(int kernel, const float *src, void *dst, size_t count) {
    switch (usable(kernel)) {
#if CHALF_X86
    case CHALF_KERNEL_AVX512: f32_to_f16_avx512(src, (unsigned char *)dst, count); return;
    case CHALF_KERNEL_AVX2: f32_to_f16_avx2(src, (unsigned char *)dst, count); return;
#endif
    default: f32_to_f16_portable(src, (unsigned char *)dst, count); return;
    }
}

void chalf_f32_to_bf16_kernel(int kernel, const float *src, void *dst, size_t count) {
    switch (usable(kernel)) {
#if CHALF_X86
    case CHALF_KERNEL_AVX512: f32_to_bf16_avx512(src, (unsigned char *)dst, count); return;
    case CHALF_KERNEL_AVX2: f32_to_bf16_avx2(src, (unsigned char *)dst, count); return;
#endif
    default: f32_to_bf16_portable(src, (unsigned char *)dst, count); return;
    }
}

void chalf_f16_to_f32(const void *src, float *dst, size_t count) {
    chalf_f16_to_f32_kernel(highest_kernel(), src, dst, count);
}

void chalf_bf16_to_f32(const void *src, float *dst, size_t count) {
    chalf_bf16_to_f32_kernel(highest_kernel(), src, dst, count);
}

void chalf_f32_to_f16(const float *src, void *dst, size_t count) {
    chalf_f32_to_f16_kernel(highest_kernel(), src, dst, count);
}

void chalf_f32_to_bf16(const float *src, void *dst, size_t count) {
    chalf_f32_to_bf16_kernel(highest_kernel(), src, dst, count);
}
