// Bulk IEEE binary16 / bfloat16 <-> binary32 conversions.
//
// All kernels are bit-exact with each other:
//   * f16 -> f32 and bf16 -> f32 are exact (every value, subnormals included; NaN payloads kept,
//     signalling NaNs are returned quiet the way F16C hardware does it).
//   * f32 -> f16 rounds to nearest, ties to even; overflow gives +-inf; results below the half
//     subnormal range give +-0; NaN gives a quiet NaN with the same sign and the top payload bits.
//   * f32 -> bf16 rounds to nearest, ties to even; NaN gives a quiet NaN with the same sign and the
//     top payload bits.
// Pointers need no particular alignment. `count` is a number of elements.
#ifndef CHALF_H
#define CHALF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Kernel identifiers for `chalf_*_kernel` and `chalf_kernel_supported`.
enum {
    CHALF_KERNEL_PORTABLE = 0,  // plain C, auto-vectorisable
    CHALF_KERNEL_AVX2 = 1,      // x86-64 AVX2 + F16C
    CHALF_KERNEL_AVX512 = 2,    // x86-64 AVX-512F (+BW)
};

/// 1 if the kernel can run on this CPU/OS, else 0.
int chalf_kernel_supported(int kernel);
/// The kernel the un-suffixed functions use (the fastest supported one; resolved once).
int chalf_best_kernel(void);

/// src: `count` little-endian binary16 values; dst: `count` floats.
void chalf_f16_to_f32(const void *src, float *dst, size_t count);
/// src: `count` little-endian bfloat16 values; dst: `count` floats.
void chalf_bf16_to_f32(const void *src, float *dst, size_t count);
/// src: `count` floats; dst: `count` little-endian binary16 values.
void chalf_f32_to_f16(const float *src, void *dst, size_t count);
/// src: `count` floats; dst: `count` little-endian bfloat16 values.
void chalf_f32_to_bf16(const float *src, void *dst, size_t count);

/// Same as above with an explicit kernel; an unsupported kernel falls back to the portable one.
void chalf_f16_to_f32_kernel(int kernel, const void *src, float *dst, size_t count);
void chalf_bf16_to_f32_kernel(int kernel, const void *src, float *dst, size_t count);
void chalf_f32_to_f16_kernel(int kernel, const float *src, void *dst, size_t count);
void chalf_f32_to_bf16_kernel(int kernel, const float *src, void *dst, size_t count);

#ifdef __cplusplus
}
#endif

#endif
