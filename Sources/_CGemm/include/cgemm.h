// bf16 GEMM / GEMV with pre-packed weights, fp32 activations in and out.
//
// Computes C[M, N] = A[M, K] * W[N, K]^T (+ bias[N]) where W is a linear layer's weight as stored
// in a checkpoint (out x in, row-major) and A holds activations (row-major fp32).
//
// Arithmetic (identical on every kernel; every kernel returns the same bits):
//   * A and W are rounded to bfloat16: fp32 -> bf16 round-to-nearest-even; an fp32 subnormal becomes
//     a zero of the same sign; NaN becomes a quiet NaN with the same sign and top payload bits.
//     fp16 weights go fp16 -> fp32 (exact) -> bf16 as above. bf16 weights are copied unchanged.
//   * Per output element, acc = 0 (fp32), then for k-pairs p = 0, 1, ... (K odd: a zero pad ends it):
//       acc = FTZ(fma(a[2p+1], w[2p+1], acc));  acc = FTZ(fma(a[2p], w[2p], acc))
//     where bf16 subnormal inputs count as zero and FTZ replaces a subnormal result with a zero of
//     the same sign. This is exactly what AVX512-BF16 VDPBF16PS does per lane (checked bit for bit
//     on AMD Zen 5 by the tests); the portable kernel emulates it with fmaf, the AVX2 kernel with
//     fp32 FMAs on the widened bf16 values under MXCSR DAZ/FTZ (checked bit for bit on Zen 3).
//   * With a bias: C = acc + bias[n] (one IEEE fp32 addition); without: C = acc.
//   K blocking never changes the order above, so GEMM, GEMV, any thread split and any kernel agree.
//
// Packed weight layout (a panel is CGEMM_PANEL_COLS = 32 output rows of W):
//   Kp = (K + 1) / 2 k-pairs; panels = (N + 31) / 32; 32-bit words ("dwords"):
//   packed_dword[(j * Kp + p) * 32 + c] = bf16(W[32 j + c][2p]) | bf16(W[32 j + c][2p + 1]) << 16
//   with zeros for 32 j + c >= N and for 2p + 1 >= K. Size: panels * Kp * 128 bytes.
//   Panel j occupies bytes [j * Kp * 128, (j + 1) * Kp * 128): packing a vertical concatenation of
//   weights whose N are multiples of 32 (same K) equals concatenating their packed buffers.
//   The buffer should be 64-byte aligned (correct for any 4-byte alignment, faster at 64).
//
// Threads: nothing here starts threads. Work is split by panel ranges [panel_begin, panel_end):
//   disjoint ranges write disjoint columns of C (columns 32*panel_begin ..< min(N, 32*panel_end)),
//   so callers run ranges on their own threads concurrently. Splitting M instead (pass A and C
//   offset by whole rows) is equally valid. Each calling thread keeps a private scratch buffer
//   (thread-local, grown on demand, kept until cgemm_release_scratch; see there for sizes).
//
// Return values: CGEMM_OK, or a negative CGEMM_E* code for invalid arguments / allocation failure
// (nothing is written then).
#ifndef CGEMM_H
#define CGEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Output columns per packed panel.
#define CGEMM_PANEL_COLS 32

/// Weight source element types for packing.
enum {
    CGEMM_SRC_F16 = 0,   // IEEE binary16, little-endian
    CGEMM_SRC_BF16 = 1,  // bfloat16, little-endian
    CGEMM_SRC_F32 = 2,   // IEEE binary32
};

/// Kernel identifiers.
enum {
    CGEMM_KERNEL_PORTABLE = 0,    // plain C (scalar fmaf), any CPU
    CGEMM_KERNEL_AVX512BF16 = 1,  // x86-64 AVX-512F/BW/VL + AVX512-BF16
    CGEMM_KERNEL_AVX2 = 2,        // x86-64 AVX2 + FMA + F16C (fp32 FMAs under MXCSR DAZ/FTZ)
};

/// GEMM algorithm selection for `cgemm_gemm_bf16_packed_ex` (all give identical bits).
enum {
    CGEMM_PATH_AUTO = 0,     // GEMV for M <= CGEMM_GEMV_MAX_M, blocked GEMM otherwise
    CGEMM_PATH_BLOCKED = 1,  // cache-blocked register-tiled GEMM
    CGEMM_PATH_GEMV = 2,     // weight-streaming GEMV (any M; meant for M <= 4)
};

/// Largest M for which CGEMM_PATH_AUTO picks the GEMV path.
#define CGEMM_GEMV_MAX_M 4

/// Status codes.
enum {
    CGEMM_OK = 0,
    CGEMM_EINVAL = -1,  // a size, stride, pointer, dtype, kernel or panel range is invalid
    CGEMM_ENOMEM = -2,  // the thread's scratch buffer could not be allocated
};

/// 1 if `kernel` can run on this CPU and OS, else 0.
int cgemm_kernel_supported(int kernel);
/// The kernel the functions without `_ex` use: AVX512-BF16 when supported, else AVX2, else portable.
/// Setting the environment variable CGEMM_FORCE_PORTABLE=1 before the first call forces portable.
int cgemm_best_kernel(void);

/// Number of 32-column panels for N output columns; 0 if N <= 0.
int cgemm_panel_count(int N);
/// Bytes of the packed buffer for W[N, K]: panels * ceil(K/2) * 128; 0 if N <= 0 or K <= 0.
size_t cgemm_packed_size_bytes(int N, int K);

/// Packs all of W[N, K] (row-major, element type `src_dtype`) into `packed`
/// (`cgemm_packed_size_bytes(N, K)` bytes). Returns CGEMM_OK or CGEMM_EINVAL.
int cgemm_pack_weights_bf16(const void *src, int src_dtype, int N, int K, void *packed);
/// Packs panels [panel_begin, panel_end) only (for splitting the packing over threads).
int cgemm_pack_weights_bf16_panels(const void *src, int src_dtype, int N, int K, void *packed,
                                   int panel_begin, int panel_end);
/// Same with an explicit kernel (an unsupported kernel returns CGEMM_EINVAL).
int cgemm_pack_weights_bf16_ex(int kernel, const void *src, int src_dtype, int N, int K, void *packed,
                               int panel_begin, int panel_end);

/// C[M, N] (row stride ldc >= N) = A[M, K] (row stride lda >= K, fp32) x W^T (+ bias[N] if bias
/// is non-NULL), for output panels [panel_begin, panel_end) only. M == 0 is a no-op.
int cgemm_gemm_bf16_packed(int M, int N, int K, const float *A, int lda, const void *packedB,
                           float *C, int ldc, const float *bias, int panel_begin, int panel_end);
/// Same with an explicit kernel and path.
int cgemm_gemm_bf16_packed_ex(int kernel, int path, int M, int N, int K, const float *A, int lda,
                              const void *packedB, float *C, int ldc, const float *bias,
                              int panel_begin, int panel_end);

/// fp32 GEMV straight from fp16/bf16 weights (the fp32 path's decode step; no bf16 rounding):
/// C[M, n] (row stride ldc >= N) = sum_k A[M, k] (row stride lda >= K) * f32(W[n, k]) for
/// n in [n_begin, n_end), W [N, K] row-major of type CGEMM_SRC_F16 or CGEMM_SRC_BF16 (converted
/// exactly). Per output: 8 fp32 FMA lanes over k = 8 i + lane, lanes summed in a fixed tree, the
/// K % 8 tail added in k order; any n split gives the same bits. Needs the AVX2 kernel's CPU
/// features (cgemm_kernel_supported(CGEMM_KERNEL_AVX2)); otherwise, or for invalid arguments,
/// returns CGEMM_EINVAL and writes nothing. Meant for M <= 4 (each row streams all of W).
int cgemm_half_gemv_f32(int src_dtype, int M, int N, int K, const float *A, int lda, const void *W, float *C,
                        int ldc, int n_begin, int n_end);

/// The K block (in k-pairs) of the AVX512-BF16 blocked GEMM: 192 or 512 (a tuning choice; every
/// value gives the same bits). 0 restores the automatic choice (CGEMM_KBLOCK=192|512 in the
/// environment, else 512 on AMD Zen 4, else 192). Returns CGEMM_OK or CGEMM_EINVAL. Set it
/// before GEMMs run: calls running meanwhile may use either value.
int cgemm_set_k_block(int pairs);
/// The K block the AVX512-BF16 blocked GEMM uses now.
int cgemm_k_block(void);

/// Frees the calling thread's scratch buffer (it is re-allocated on the next call). The blocked
/// GEMM's scratch is about min(M, 648) * K * 2 bytes; GEMV's 8 * K bytes; packing's 32 KiB.
void cgemm_release_scratch(void);

/// fp32 -> bf16 with the rounding described above (`count` values); for tests and callers that
/// want activations in the GEMM's bf16 rounding.
int cgemm_f32_to_bf16_ex(int kernel, const float *src, unsigned short *dst, size_t count);

#ifdef __cplusplus
}
#endif

#endif
