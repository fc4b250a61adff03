import _CHalf

/// The SIMD kernel family used for the bulk half-precision conversions.
///
/// All kernels produce bit-identical results; they differ only in speed. The un-suffixed
/// `convert*` functions use `HalfConversionKernel.best`.
public enum HalfConversionKernel: String, CaseIterable, Sendable {
    /// Plain C, works everywhere.
    case portable
    /// x86-64 F16C + AVX2.
    case avx2
    /// x86-64 AVX-512F/BW.
    case avx512

    var cValue: Int32 {
        switch self {
        case .portable: return Int32(CHALF_KERNEL_PORTABLE)
        case .avx2: return Int32(CHALF_KERNEL_AVX2)
        case .avx512: return Int32(CHALF_KERNEL_AVX512)
        }
    }

    /// Whether this CPU and OS can run the kernel.
    public var isSupported: Bool { chalf_kernel_supported(cValue) != 0 }

    /// The fastest kernel this machine supports (detected once via CPUID/XGETBV).
    public static var best: HalfConversionKernel {
        switch chalf_best_kernel() {
        case Int32(CHALF_KERNEL_AVX512): return .avx512
        case Int32(CHALF_KERNEL_AVX2): return .avx2
        default: return .portable
        }
    }
}

/// Converts `count` little-endian IEEE binary16 values at `src` (any alignment) to floats at `dst`.
/// Exact for every bit pattern; signalling NaNs come back quiet, NaN payloads are kept.
public func convertF16ToF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    chalf_f16_to_f32(src, dst, count)
}

/// Converts `count` little-endian bfloat16 values at `src` (any alignment) to floats at `dst` (exact).
public func convertBF16ToF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    chalf_bf16_to_f32(src, dst, count)
}

/// Converts `count` floats to little-endian IEEE binary16 at `dst` (any alignment).
/// Rounds to nearest, ties to even; overflow gives infinity, tiny values give subnormals or zero;
/// NaN gives a quiet NaN with the same sign and the top payload bits.
public func convertF32ToF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
    guard count > 0 else { return }
    chalf_f32_to_f16(src, dst, count)
}

/// Converts `count` floats to little-endian bfloat16 at `dst` (any alignment).
/// Rounds to nearest, ties to even; NaN stays NaN (quiet, same sign, top payload bits).
public func convertF32ToBF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
    guard count > 0 else { return }
    chalf_f32_to_bf16(src, dst, count)
}

/// `convertF16ToF32` with an explicit kernel (an unsupported one falls back to `.portable`).
public func convertF16ToF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int,
                            kernel: HalfConversionKernel) {
    guard count > 0 else { return }
    chalf_f16_to_f32_kernel(kernel.cValue, src, dst, count)
}

/// `convertBF16ToF32` with an explicit kernel (an unsupported one falls back to `.portable`).
public func convertBF16ToF32(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int,
                             kernel: HalfConversionKernel) {
    guard count > 0 else { return }
    chalf_bf16_to_f32_kernel(kernel.cValue, src, dst, count)
}

/// `convertF32ToF16` with an explicit kernel (an unsupported one falls back to `.portable`).
public func convertF32ToF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int,
                            kernel: HalfConversionKernel) {
    guard count > 0 else { return }
    chalf_f32_to_f16_kernel(kernel.cValue, src, dst, count)
}

/// `convertF32ToBF16` with an explicit kernel (an unsupported one falls back to `.portable`).
public func convertF32ToBF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int,
                             kernel: HalfConversionKernel) {
    guard count > 0 else { return }
    chalf_f32_to_bf16_kernel(kernel.cValue, src, dst, count)
}

/// Scalar binary16 bit pattern -> Float (exact; same result as `convertF16ToF32`).
@inlinable
public func halfBitsToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let mag = UInt32(h & 0x7fff)
    if mag < 0x0400 {
        let v = Float(mag) * 0x1p-24
        return Float(bitPattern: sign | v.bitPattern)
    }
    if mag >= 0x7c00 {
        let quiet: UInt32 = mag > 0x7c00 ? 0x0040_0000 : 0
        return Float(bitPattern: sign | (mag << 13) | 0x7f80_0000 | quiet)
    }
    return Float(bitPattern: sign | ((mag << 13) + 0x3800_0000))
}

/// Scalar bfloat16 bit pattern -> Float (exact).
@inlinable
public func bf16BitsToFloat(_ b: UInt16) -> Float {
    Float(bitPattern: UInt32(b) << 16)
}

/// Scalar Float -> binary16 bit pattern (round to nearest even; same result as `convertF32ToF16`).
@inlinable
public func floatToHalfBits(_ f: Float) -> UInt16 {
    let x = f.bitPattern
    let sign = (x >> 16) & 0x8000
    let a = x & 0x7fff_ffff
    let r: UInt32
    if a > 0x7f80_0000 {
        r = 0x7e00 | ((a >> 13) & 0x03ff)
    } else if a >= 0x4780_0000 {
        r = 0x7c00
    } else if a >= 0x3880_0000 {
        let n = a &- 0x3800_0000
        r = (n &+ 0x0fff &+ ((n >> 13) & 1)) >> 13
    } else {
        r = (Float(bitPattern: a) + 0.5).bitPattern &- 0x3f00_0000
    }
    return UInt16(truncatingIfNeeded: sign | r)
}

/// Scalar Float -> bfloat16 bit pattern (round to nearest even; NaN stays NaN).
@inlinable
public func floatToBF16Bits(_ f: Float) -> UInt16 {
    let x = f.bitPattern
    if (x & 0x7fff_ffff) > 0x7f80_0000 {
        return UInt16(truncatingIfNeeded: (x >> 16) | 0x0040)
    }
    return UInt16(truncatingIfNeeded: (x &+ 0x7fff &+ ((x >> 16) & 1)) >> 16)
}
