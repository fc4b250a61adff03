import _COpenBLAS
import Foundation

/// Thin, shape-documented wrappers over OpenBLAS's single-precision GEMM/GEMV.
///
/// The runtime parallelises over independent work items itself (weight tiles, heads) with
/// `Parallel.forEach`, so OpenBLAS is pinned to one thread per call (see `BLAS.configure()`);
/// two levels of threading on two cores only oversubscribe.
public enum BLAS {
    /// Pins OpenBLAS to one thread. Idempotent; called by the runtime before any GEMM.
    public static let configure: Void = {
        openblas_set_num_threads(1)
    }()

    /// C[m, n] = alpha * A[m, k] * op(B) + beta * C, all row-major.
    /// - `transB == true`: B is stored [n, k] (row stride `ldb` >= k) and used transposed.
    /// - `transB == false`: B is stored [k, n] (row stride `ldb` >= n).
    @inline(__always)
    public static func gemm(m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int,
                            b: UnsafePointer<Float>, ldb: Int, transB: Bool,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = configure
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }
}

/// Data-parallel loops over both cores.
public enum Parallel {
    /// Number of worker threads used by `forEach` (the machine's active processor count).
    public static var workers: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    /// Runs `body(i)` for i in 0..<count, spread over the cores; returns when all are done.
    @inline(__always)
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            if count == 1 { body(0) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }

    /// `forEach` for a throwing body: every index runs; afterwards the error of the lowest
    /// failing index, if any, is rethrown.
    public static func forEachThrowing(_ count: Int, _ body: (Int) throws -> Void) throws {
        var failures = [Error?](repeating: nil, count: max(count, 0))
        failures.withUnsafeMutableBufferPointer { failed in
            forEach(count) { i in
                do { try body(i) } catch { failed[i] = error }
            }
        }
        if let first = failures.lazy.compactMap({ $0 }).first { throw first }
    }

    /// Runs `body` on contiguous row ranges covering 0..<rows: one range per worker when there
    /// are at least `minElements` values (rows * elementsPerRow) to share, else one range.
    /// For row-independent work, whose results do not depend on the split.
    public static func rowChunks(_ rows: Int, elementsPerRow: Int, minElements: Int = 1 << 16,
                                 _ body: (Range<Int>) -> Void) {
        let parts = rows * elementsPerRow >= minElements ? min(workers, rows) : 1
        if parts <= 1 {
            if rows > 0 { body(0..<rows) }
            return
        }
        forEach(parts) { p in body((rows * p / parts)..<(rows * (p + 1) / parts)) }
    }
}
