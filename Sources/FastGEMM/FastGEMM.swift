import _CGemm
import Dispatch

/// Errors from packing and GEMM calls; each message names the function and the argument.
public enum FastGEMMError: Error, CustomStringConvertible, Equatable {
    /// An argument is out of range (function, argument, detail).
    case invalidArgument(function: String, argument: String, detail: String)
    /// The C layer returned an error code (function, code).
    case kernelFailure(function: String, code: Int32)

    public var description: String {
        switch self {
        case let .invalidArgument(function, argument, detail):
            return "FastGEMM.\(function): invalid \(argument): \(detail)"
        case let .kernelFailure(function, code):
            let what = Int(code) == Int(CGEMM_ENOMEM) ? "scratch allocation failed" : "invalid arguments"
            return "FastGEMM.\(function): \(what) (code \(code))"
        }
    }
}

/// Element type of a weight matrix handed to `PackedBF16Weights`.
public enum WeightSourceType: Int32, Sendable {
    /// IEEE binary16 (rounded to bf16 through fp32, round-to-nearest-even).
    case float16 = 0
    /// bfloat16 (copied unchanged).
    case bfloat16 = 1
    /// IEEE binary32 (rounded to bf16, round-to-nearest-even; subnormals to signed zero).
    case float32 = 2

    /// Bytes per element.
    public var byteWidth: Int { self == .float32 ? 4 : 2 }
}

/// Which implementation runs a call. All kernels return bit-identical results.
public enum GEMMKernel: Int32, Sendable, CaseIterable {
    /// Plain C (scalar fused multiply-adds); runs on any CPU.
    case portable = 0
    /// AVX-512 with AVX512-BF16 dot products (`vdpbf16ps`).
    case avx512bf16 = 1
    /// AVX2 + FMA + F16C: fp32 FMAs on the widened bf16 values under MXCSR DAZ/FTZ.
    case avx2 = 2

    /// True if this kernel can run on this CPU.
    public var isSupported: Bool { cgemm_kernel_supported(rawValue) != 0 }

    /// The fastest supported kernel: AVX512-BF16, else AVX2, else portable (portable if
    /// CGEMM_FORCE_PORTABLE=1 was set at first use).
    public static var best: GEMMKernel { GEMMKernel(rawValue: cgemm_best_kernel()) ?? .portable }
}

/// GEMM algorithm; all paths return bit-identical results.
public enum GEMMPath: Int32, Sendable {
    /// GEMV for m <= `FastGEMM.gemvMaxRows`, blocked GEMM above.
    case auto = 0
    /// Cache-blocked, register-tiled GEMM (prefill).
    case blocked = 1
    /// Weight-streaming GEMV (decode).
    case gemv = 2
}

/// How `multiplyParallel` divides C between threads.
public enum GEMMSplit: Sendable {
    /// `.rows` when m >= `FastGEMM.rowSplitMinRowsPerThread` * threads, else `.panels`.
    case auto
    /// Contiguous ranges of 32-column panels (threads read disjoint weights).
    case panels
    /// Contiguous ranges of rows (threads convert disjoint activations; all read every weight).
    case rows
}

/// Constants and helpers of the bf16 GEMM layer.
public enum FastGEMM {
    /// Output columns per packed panel.
    public static let panelColumns = Int(CGEMM_PANEL_COLS)
    /// `GEMMSplit.auto` splits rows when every thread gets at least this many rows.
    public static let rowSplitMinRowsPerThread = 64

    /// Largest m for which `.auto` uses the GEMV path.
    public static let gemvMaxRows = Int(CGEMM_GEMV_MAX_M)

    /// Panels for `n` output columns.
    public static func panelCount(n: Int) -> Int { (max(n, 0) + panelColumns - 1) / panelColumns }

    /// Part `part` of `parts` balanced contiguous slices of `0..<panelCount`.
    public static func panelRange(panelCount: Int, parts: Int, part: Int) -> Range<Int> {
        let p = max(parts, 1)
        let lo = panelCount * part / p
        let hi = panelCount * (part + 1) / p
        return lo..<hi
    }

    /// Frees the calling thread's scratch buffer (about min(m, 648) * k * 2 bytes after a prefill
    /// GEMM); the next call on this thread allocates it again.
    public static func releaseThreadScratch() { cgemm_release_scratch() }

    /// fp32 -> bf16 bits with the GEMM's rounding. `source` [count], `destination` [count].
    public static func roundToBF16(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<UInt16>,
                                   count: Int, kernel: GEMMKernel = .best) throws {
        let rc = cgemm_f32_to_bf16_ex(kernel.rawValue, source, destination, count)
        if rc != 0 { throw FastGEMMError.kernelFailure(function: "roundToBF16", code: rc) }
    }
}

/// A linear layer's weight W [n, k] (out x in, row-major as in a checkpoint) packed once into the
/// blocked bf16 layout of `cgemm.h` (panels of 32 output rows, k-pairs interleaved). Owns a
/// 64-byte-aligned buffer of `byteCount` bytes (n rounded up to 32, k up to even, 2 bytes each).
public final class PackedBF16Weights: @unchecked Sendable {
    /// Output features (rows of W).
    public let n: Int
    /// Input features (columns of W).
    public let k: Int
    /// Number of 32-column panels.
    public let panelCount: Int
    /// Size of the packed buffer in bytes.
    public let byteCount: Int
    /// The packed buffer (read-only after init).
    public let storage: UnsafeMutableRawPointer

    /// Packs `source` ([n, k] row-major of `type`), splitting the panels over `threads` threads.
    public init(source: UnsafeRawPointer, type: WeightSourceType, n: Int, k: Int,
                threads: Int = 1, kernel: GEMMKernel = .best) throws {
        guard n > 0, n <= Int(Int32.max) else {
            throw FastGEMMError.invalidArgument(function: "PackedBF16Weights.init", argument: "n", detail: "\(n) not in 1...\(Int32.max)")
        }
        guard k > 0, k <= Int(Int32.max) - 1 else {
            throw FastGEMMError.invalidArgument(function: "PackedBF16Weights.init", argument: "k", detail: "\(k) not in 1...\(Int32.max - 1)")
        }
        guard kernel.isSupported else {
            throw FastGEMMError.invalidArgument(function: "PackedBF16Weights.init", argument: "kernel", detail: "\(kernel) not supported on this CPU")
        }
        self.n = n
        self.k = k
        panelCount = FastGEMM.panelCount(n: n)
        byteCount = Int(cgemm_packed_size_bytes(Int32(n), Int32(k)))
        storage = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        let parts = max(1, min(threads, panelCount))
        let codes = UnsafeMutablePointer<Int32>.allocate(capacity: parts)
        defer { codes.deallocate() }
        let dst = storage, pc = panelCount
        let body: (Int) -> Void = { part in
            let r = FastGEMM.panelRange(panelCount: pc, parts: parts, part: part)
            codes[part] = cgemm_pack_weights_bf16_ex(kernel.rawValue, source, type.rawValue, Int32(n), Int32(k), dst,
                                                     Int32(r.lowerBound), Int32(r.upperBound))
        }
        if parts == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: body) }
        // All stored properties are set, so a throw here runs deinit, which frees `storage`.
        for i in 0..<parts where codes[i] != 0 {
            throw FastGEMMError.kernelFailure(function: "PackedBF16Weights.init", code: codes[i])
        }
    }

    /// Packs `source` after checking it holds exactly n * k elements of `type`.
    public convenience init(source: UnsafeRawBufferPointer, type: WeightSourceType, n: Int, k: Int,
                            threads: Int = 1, kernel: GEMMKernel = .best) throws {
        let (count, overflow) = n.multipliedReportingOverflow(by: k)
        let (bytes, overflow2) = count.multipliedReportingOverflow(by: type.byteWidth)
        guard n > 0, k > 0, !overflow, !overflow2, source.count == bytes, let base = source.baseAddress else {
            throw FastGEMMError.invalidArgument(function: "PackedBF16Weights.init", argument: "source",
                                                detail: "\(source.count) bytes for [\(n), \(k)] \(type) weights")
        }
        try self.init(source: base, type: type, n: n, k: k, threads: threads, kernel: kernel)
    }

    deinit { storage.deallocate() }

    /// c [m, n] (row stride ldc) = a [m, k] (row stride lda, fp32) x W^T (+ bias [n]) for the
    /// output panels `panels` only (columns 32*lowerBound ..< min(n, 32*upperBound)).
    /// Disjoint panel ranges may run concurrently on different threads.
    public func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                         bias: UnsafePointer<Float>? = nil, panels: Range<Int>? = nil,
                         kernel: GEMMKernel = .best, path: GEMMPath = .auto) throws {
        let r = panels ?? 0..<panelCount
        try check(m: m, lda: lda, ldc: ldc, panels: r, kernel: kernel)
        let rc = cgemm_gemm_bf16_packed_ex(kernel.rawValue, path.rawValue, Int32(m), Int32(n), Int32(k), a, Int32(lda),
                                           storage, c, Int32(ldc), bias, Int32(r.lowerBound), Int32(r.upperBound))
        if rc != 0 { throw FastGEMMError.kernelFailure(function: "multiply", code: rc) }
    }

    /// Same as `multiply` over all of C, split into `threads` parts run with
    /// `DispatchQueue.concurrentPerform`: balanced panel ranges (`.panels`: each thread streams its
    /// own weights; the only option for decode) or balanced row ranges (`.rows`: each thread
    /// converts only its own rows of `a`, no duplicated work; prefill). Results are bit-identical.
    public func multiplyParallel(m: Int, a: UnsafePointer<Float>, lda: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                                 bias: UnsafePointer<Float>? = nil, threads: Int, split: GEMMSplit = .auto,
                                 kernel: GEMMKernel = .best, path: GEMMPath = .auto) throws {
        try check(m: m, lda: lda, ldc: ldc, panels: 0..<panelCount, kernel: kernel)
        let split = split != .auto ? split : (m >= FastGEMM.rowSplitMinRowsPerThread * max(threads, 1) ? .rows : .panels)
        let parts = max(1, min(threads, split == .panels ? panelCount : max(m, 1)))
        if parts == 1 {
            try multiply(m: m, a: a, lda: lda, c: c, ldc: ldc, bias: bias, kernel: kernel, path: path)
            return
        }
        let codes = UnsafeMutablePointer<Int32>.allocate(capacity: parts)
        defer { codes.deallocate() }
        let (nn, kk, pc, st) = (Int32(n), Int32(k), panelCount, UnsafeRawPointer(storage))
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            if split == .panels {
                let r = FastGEMM.panelRange(panelCount: pc, parts: parts, part: part)
                codes[part] = cgemm_gemm_bf16_packed_ex(kernel.rawValue, path.rawValue, Int32(m), nn, kk, a, Int32(lda),
                                                        st, c, Int32(ldc), bias, Int32(r.lowerBound), Int32(r.upperBound))
            } else {
                let r = FastGEMM.panelRange(panelCount: m, parts: parts, part: part)  // rows
                codes[part] = cgemm_gemm_bf16_packed_ex(kernel.rawValue, path.rawValue, Int32(r.count), nn, kk,
                                                        a + r.lowerBound * lda, Int32(lda), st, c + r.lowerBound * ldc,
                                                        Int32(ldc), bias, 0, Int32(pc))
            }
        }
        for i in 0..<parts where codes[i] != 0 {
            throw FastGEMMError.kernelFailure(function: "multiplyParallel", code: codes[i])
        }
    }

    private func check(m: Int, lda: Int, ldc: Int, panels: Range<Int>, kernel: GEMMKernel) throws {
        let f = "multiply"
        guard m >= 0, m <= Int(Int32.max) else {
            throw FastGEMMError.invalidArgument(function: f, argument: "m", detail: "\(m) not in 0...\(Int32.max)")
        }
        guard lda >= k, lda <= Int(Int32.max) else {
            throw FastGEMMError.invalidArgument(function: f, argument: "lda", detail: "\(lda) < k = \(k) or too large")
        }
        guard ldc >= n, ldc <= Int(Int32.max) else {
            throw FastGEMMError.invalidArgument(function: f, argument: "ldc", detail: "\(ldc) < n = \(n) or too large")
        }
        guard panels.lowerBound >= 0, panels.upperBound <= panelCount else {
            throw FastGEMMError.invalidArgument(function: f, argument: "panels", detail: "\(panels) not within 0..<\(panelCount)")
        }
        guard kernel.isSupported else {
            throw FastGEMMError.invalidArgument(function: f, argument: "kernel", detail: "\(kernel) not supported on this CPU")
        }
    }
}

/// fp32 matrix-vector products straight from fp16/bf16 weights (no converted copy, no bf16
/// rounding): the fp32 path's decode step. See `cgemm_half_gemv_f32` in `cgemm.h` for the
/// summation order; results do not depend on how the outputs are split over threads.
public enum HalfGEMV {
    /// True if this CPU runs it (the AVX2 kernel's features: AVX2, FMA, F16C).
    public static var isSupported: Bool { GEMMKernel.avx2.isSupported }

    /// c[i, n] (row stride ldc) = sum_k a[i, k] (row stride lda) * w[n, k] for i < m and n in
    /// `columns`; `w` [n, k] row-major fp16 (`.float16`) or bf16 (`.bfloat16`).
    public static func multiply(type: WeightSourceType, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                w: UnsafeRawPointer, c: UnsafeMutablePointer<Float>, ldc: Int, columns: Range<Int>) throws {
        guard type != .float32 else {
            throw FastGEMMError.invalidArgument(function: "HalfGEMV.multiply", argument: "type", detail: "fp32 weights need no conversion; use BLAS")
        }
        guard m >= 0, m <= Int(Int32.max), n > 0, n <= Int(Int32.max), k > 0, k <= Int(Int32.max),
              lda >= k, lda <= Int(Int32.max), ldc >= n, ldc <= Int(Int32.max),
              columns.lowerBound >= 0, columns.upperBound <= n else {
            throw FastGEMMError.invalidArgument(function: "HalfGEMV.multiply", argument: "shape",
                                                detail: "m \(m) n \(n) k \(k) lda \(lda) ldc \(ldc) columns \(columns)")
        }
        let src = type == .float16 ? Int32(CGEMM_SRC_F16) : Int32(CGEMM_SRC_BF16)
        let rc = cgemm_half_gemv_f32(src, Int32(m), Int32(n), Int32(k), a, Int32(lda), w, c, Int32(ldc),
                                     Int32(columns.lowerBound), Int32(columns.upperBound))
        if rc != 0 { throw FastGEMMError.kernelFailure(function: "HalfGEMV.multiply", code: rc) }
    }
}
