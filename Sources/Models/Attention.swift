import Foundation
import Tensors

/// Which tower an attention call belongs to.
public enum Tower: String, Sendable, Codable {
    case vision
    case text
}

/// Identifies one attention module: a tower and a 0-based layer index.
public struct AttentionSite: Hashable, Sendable, Codable, CustomStringConvertible {
    public let tower: Tower
    public let layer: Int
    public init(tower: Tower, layer: Int) {
        self.tower = tower
        self.layer = layer
    }
    public var description: String { "\(tower).\(layer)" }
}

/// Everything a hook can read about one attention call. Pointers are valid only during the call.
public struct AttentionEvent {
    public let site: AttentionSite
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    /// Rows of this call (all new tokens in a prefill, 1 in a decode step).
    public let queryCount: Int
    /// Keys attended to (the whole KV cache for the text tower).
    public let keyCount: Int
    /// Absolute position of query row 0 (the KV-cache length before this call); query row i may
    /// attend keys 0...queryStart+i when `causal`.
    public let queryStart: Int
    public let causal: Bool
    /// Score scale (head_dim^-0.5).
    public let scale: Float
    /// [queryCount, heads, headDim], after RoPE.
    public let queries: UnsafeBufferPointer<Float>
    /// [keyCount, kvHeads, headDim], after RoPE.
    public let keys: UnsafeBufferPointer<Float>
    /// [keyCount, kvHeads, headDim]
    public let values: UnsafeBufferPointer<Float>
    /// The rotary tables the queries and keys were rotated with (text tower); nil for the vision
    /// tower. Rotating a post-RoPE vector by `d` positions moves it to position `p + d`.
    public let rotary: RotaryEmbedding?
}

/// Observes (and may modify) post-softmax attention probabilities. Hooks run in order; a hook
/// sees the changes of the hooks before it.
public protocol AttentionHook: AnyObject {
    /// `probabilities`: [heads, queryCount, keyCount] row-major, post-softmax. Modifications are
    /// what multiplies the values.
    func attention(_ event: AttentionEvent, probabilities: UnsafeMutableBufferPointer<Float>) throws
}

/// The one attention function of the runtime. Every attention of both towers goes through it:
/// scores = scale * Q K^T (per head, GQA by head groups), an optional causal mask, softmax in
/// fp32, the hooks with the probabilities, then probabilities times values.
///
/// - q: [tq, heads, headDim]; k, v: [tk, kvHeads, headDim]; out: [tq, heads * headDim].
public func attend(site: AttentionSite,
                   q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                   tq: Int, tk: Int, heads: Int, kvHeads: Int, headDim: Int, scale: Float,
                   causal: Bool, queryStart: Int, rotary: RotaryEmbedding? = nil, hooks: [AttentionHook],
                   out: UnsafeMutablePointer<Float>) throws {
    let group = heads / kvHeads
    let qStride = heads * headDim
    let kStride = kvHeads * headDim
    let probs = UnsafeMutablePointer<Float>.allocate(capacity: heads * tq * tk)  // [heads, tq, tk]
    defer { probs.deallocate() }

    Parallel.forEach(heads) { h in
        let kvh = h / group
        let p = probs + h * tq * tk
        BLAS.gemm(m: tq, n: tk, k: headDim, alpha: scale,
                  a: q + h * headDim, lda: qStride,
                  b: k + kvh * headDim, ldb: kStride, transB: true,
                  c: p, ldc: tk)
        if causal {
            for i in 0..<tq {
                let limit = queryStart + i  // last visible key
                if limit + 1 < tk {
                    let row = p + i * tk
                    for j in (limit + 1)..<tk { row[j] = -Float.infinity }
                }
            }
        }
        Ops.softmaxRows(p, rows: tq, cols: tk)
    }

    if !hooks.isEmpty {
        let event = AttentionEvent(
            site: site, heads: heads, kvHeads: kvHeads, headDim: headDim, queryCount: tq, keyCount: tk,
            queryStart: queryStart, causal: causal, scale: scale,
            queries: UnsafeBufferPointer(start: q, count: tq * qStride),
            keys: UnsafeBufferPointer(start: k, count: tk * kStride),
            values: UnsafeBufferPointer(start: v, count: tk * kStride), rotary: rotary)
        let buffer = UnsafeMutableBufferPointer(start: probs, count: heads * tq * tk)
        for hook in hooks { try hook.attention(event, probabilities: buffer) }
    }

    Parallel.forEach(heads) { h in
        let kvh = h / group
        BLAS.gemm(m: tq, n: headDim, k: tk,
                  a: probs + h * tq * tk, lda: tk,
                  b: v + kvh * headDim, ldb: kStride, transB: false,
                  c: out + h * headDim, ldc: qStride)
    }
}
