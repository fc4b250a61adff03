import Foundation

/// Element-wise and row-wise fp32 kernels. Every function documents the shapes it expects;
/// rows are contiguous (row-major) unless a stride is given.
public enum Ops {
    /// x[i] += y[i]
    @inline(__always)
    public static func addInPlace(_ x: inout [Float], _ y: [Float]) {
        x.withUnsafeMutableBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                for i in 0..<min(xp.count, yp.count) { xp[i] += yp[i] }
            }
        }
    }

    /// Adds `bias` [cols] to every row of `x` [rows, cols].
    public static func addBias(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * cols
            for c in 0..<cols { row[c] += bias[c] }
        }
    }

    /// RMSNorm as Llama computes it: in fp32, `x * rsqrt(mean(x^2) + eps) * weight`.
    /// x: [rows, cols] in place; weight: [cols].
    public static func rmsNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                               weight: UnsafePointer<Float>, eps: Float) {
        Parallel.rowChunks(rows, elementsPerRow: cols) { range in rmsNormRows(x, range, cols: cols, weight: weight, eps: eps) }
    }

    private static func rmsNormRows(_ x: UnsafeMutablePointer<Float>, _ range: Range<Int>, cols: Int,
                                    weight: UnsafePointer<Float>, eps: Float) {
        for r in range {
            let row = x + r * cols
            var ss: Float = 0
            for c in 0..<cols { ss += row[c] * row[c] }
            let inv = 1 / (ss / Float(cols) + eps).squareRoot()
            for c in 0..<cols { row[c] = (row[c] * inv) * weight[c] }
        }
    }

    /// LayerNorm over the last dimension with biased variance, as torch computes it.
    /// x: [rows, cols] in place; weight, bias: [cols].
    public static func layerNorm(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float) {
        Parallel.rowChunks(rows, elementsPerRow: cols) { range in
            layerNormRows(x, range, cols: cols, weight: weight, bias: bias, eps: eps)
        }
    }

    private static func layerNormRows(_ x: UnsafeMutablePointer<Float>, _ range: Range<Int>, cols: Int,
                                      weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float) {
        for r in range {
            let row = x + r * cols
            // Two-pass in Double for the statistics: torch's fp32 kernel uses a Welford/
            // pairwise reduction; a double-precision two-pass result rounds to the same fp32
            // value within an ulp, closer than a naive fp32 sum.
            var mean = 0.0
            for c in 0..<cols { mean += Double(row[c]) }
            mean /= Double(cols)
            var v = 0.0
            for c in 0..<cols { let d = Double(row[c]) - mean; v += d * d }
            v /= Double(cols)
            let inv = Float(1 / (v + Double(eps)).squareRoot())
            let m = Float(mean)
            for c in 0..<cols { row[c] = (row[c] - m) * inv * weight[c] + bias[c] }
        }
    }

    /// Numerically stable softmax of each row, in place. x: [rows, cols].
    /// Entries equal to -infinity get probability exactly 0 (masked keys).
    public static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let row = x + r * cols
            var mx = -Float.infinity
            for c in 0..<cols where row[c] > mx { mx = row[c] }
            if mx == -Float.infinity {  // fully masked row: leave zeros (never happens causally)
                for c in 0..<cols { row[c] = 0 }
                continue
            }
            var sum: Float = 0
            for c in 0..<cols {
                let e = expf(row[c] - mx)
                row[c] = e
                sum += e
            }
            let inv = 1 / sum
            for c in 0..<cols { row[c] *= inv }
        }
    }
}

/// Activation functions by their Hugging Face names (`ACT2FN`).
public enum Activation: String, Sendable, Codable, CaseIterable {
    case gelu                       // exact, erf-based
    case geluPytorchTanh = "gelu_pytorch_tanh"
    case geluNew = "gelu_new"       // tanh approximation
    case quickGelu = "quick_gelu"   // x * sigmoid(1.702 x)
    case silu
    case swish
    case relu

    /// Element counts from which `apply` and `applyGated` split the work over the cores (each
    /// element is computed alone, so the split never changes a result).
    public static let parallelThreshold = 1 << 16

    /// Applies the activation in place to `count` values.
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.rowChunks(count, elementsPerRow: 1, minElements: Activation.parallelThreshold) { r in
            applySerial(x + r.lowerBound, count: r.count)
        }
    }

    /// x[i] = act(x[i]) * y[i] for i < count (the gated MLP's SiLU(gate) * up), in one pass.
    public func applyGated(_ x: UnsafeMutablePointer<Float>, times y: UnsafePointer<Float>, count: Int) {
        Parallel.rowChunks(count, elementsPerRow: 1, minElements: Activation.parallelThreshold) { r in
            applySerial(x + r.lowerBound, count: r.count)
            for i in r { x[i] *= y[i] }
        }
    }

    private func applySerial(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .gelu:
            for i in 0..<count { let v = x[i]; x[i] = 0.5 * v * (1 + erff(v * Float(0.7071067811865476))) }
        case .geluPytorchTanh, .geluNew:
            let k = Float(0.7978845608028654)  // sqrt(2/pi)
            for i in 0..<count {
                let v = x[i]
                x[i] = 0.5 * v * (1 + tanhf(k * (v + 0.044715 * v * v * v)))
            }
        case .quickGelu:
            for i in 0..<count { let v = x[i]; x[i] = v * (1 / (1 + expf(-1.702 * v))) }
        case .silu, .swish:
            for i in 0..<count { let v = x[i]; x[i] = v / (1 + expf(-v)) }
        case .relu:
            for i in 0..<count where x[i] < 0 { x[i] = 0 }
        }
    }
}
