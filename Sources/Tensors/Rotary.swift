import Foundation

/// Rotary position embedding tables in the "rotate half" convention of Hugging Face Llama.
///
/// `cos`/`sin` rows are computed exactly as transformers does in fp32:
/// `inv_freq[i] = 1 / theta^(2i / d)`, `freq = inv_freq * position`, the table row is
/// `cat(freq, freq)`, optionally multiplied by an attention scaling factor.
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    public let theta: Float
    /// Linear position-interpolation factor (`rope_type: linear`); 1 = none.
    public let linearFactor: Float
    public let attentionScaling: Float
    /// [headDim / 2]
    public let inverseFrequencies: [Float]

    public init(headDim: Int, theta: Float, linearFactor: Float = 1, attentionScaling: Float = 1) {
        self.headDim = headDim
        self.theta = theta
        self.linearFactor = linearFactor
        self.attentionScaling = attentionScaling
        let half = headDim / 2
        var inv = [Float](repeating: 0, count: half)
        for i in 0..<half {
            let exponent = Float(2 * i) / Float(headDim)
            inv[i] = (1 / powf(theta, exponent)) / linearFactor
        }
        self.inverseFrequencies = inv
    }

    /// Rotates `rows` vectors in place. x: [rows, heads, headDim] row-major (row stride
    /// `heads * headDim`); `positions[r]` is the position of row r.
    public func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, positions: [Int]) {
        let half = headDim / 2
        var cosT = [Float](repeating: 0, count: half)
        var sinT = [Float](repeating: 0, count: half)
        for r in 0..<rows {
            let p = Float(positions[r])
            for i in 0..<half {
                let f = inverseFrequencies[i] * p
                cosT[i] = cosf(f) * attentionScaling
                sinT[i] = sinf(f) * attentionScaling
            }
            for h in 0..<heads {
                let v = x + (r * heads + h) * headDim
                for i in 0..<half {
                    let a = v[i], b = v[i + half]
                    v[i] = a * cosT[i] - b * sinT[i]
                    v[i + half] = b * cosT[i] + a * sinT[i]
                }
            }
        }
    }
}
