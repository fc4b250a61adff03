import FastGEMM
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
/// `precision` is that of the two matrix products: fp32 (OpenBLAS sgemm, the parity mode) or
/// bf16 (Q, K, probabilities and V rounded to bf16 and multiplied with fp32 accumulation by the
/// packed GEMM, then the scale applied, as torch's bf16 eager attention orders it) for calls with
/// at least `attentionBF16MinQueries` query rows. Fewer rows (a decode step) keep fp32 products:
/// packing the keys and values would cost as much as the products. Scores, softmax, the hooks and
/// the probabilities they see are fp32 in every case.
///
/// - q: [tq, heads, headDim]; k, v: [tk, kvHeads, headDim]; out: [tq, heads * headDim].
public func attend(site: AttentionSite,
                   q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                   tq: Int, tk: Int, heads: Int, kvHeads: Int, headDim: Int, scale: Float,
                   causal: Bool, queryStart: Int, rotary: RotaryEmbedding? = nil, hooks: [AttentionHook],
                   precision: Precision = .fp32, out: UnsafeMutablePointer<Float>) throws {
    let group = heads / kvHeads
    let qStride = heads * headDim
    let kStride = kvHeads * headDim
    let precision: Precision = tq >= attentionBF16MinQueries ? precision : .fp32
    let probs = UnsafeMutablePointer<Float>.allocate(capacity: heads * tq * tk)  // [heads, tq, tk]
    defer { probs.deallocate() }
    // bf16: each KV head's keys [tk, headDim] and transposed values [headDim, tk] packed once as
    // the GEMM's right-hand side (its "weights").
    let packedKeys = precision == .bf16 ? try packPerKVHead(kvHeads, scratch: tk * headDim) { kvh, tmp in
        for j in 0..<tk { (tmp + j * headDim).update(from: k + j * kStride + kvh * headDim, count: headDim) }
        return try PackedBF16Weights(source: tmp, type: .float32, n: tk, k: headDim)
    } : []
    let packedValues = precision == .bf16 ? try packPerKVHead(kvHeads, scratch: tk * headDim) { kvh, tmp in
        for j in 0..<tk {
            let row = v + j * kStride + kvh * headDim
            for d in 0..<headDim { tmp[d * tk + j] = row[d] }
        }
        return try PackedBF16Weights(source: tmp, type: .float32, n: headDim, k: tk)
    } : []

    try Parallel.forEachThrowing(heads) { h in
        let kvh = h / group
        let p = probs + h * tq * tk
        if precision == .bf16 {
            try packedKeys[kvh].multiply(m: tq, a: q + h * headDim, lda: qStride, c: p, ldc: tk)
            for i in 0..<(tq * tk) { p[i] *= scale }
        } else {
            BLAS.gemm(m: tq, n: tk, k: headDim, alpha: scale,
                      a: q + h * headDim, lda: qStride,
                      b: k + kvh * headDim, ldb: kStride, transB: true,
                      c: p, ldc: tk)
        }
        attentionMaskAndSoftmax(p, tq: tq, tk: tk, causal: causal, queryStart: queryStart)
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

    try Parallel.forEachThrowing(heads) { h in
        let kvh = h / group
        if precision == .bf16 {
            try packedValues[kvh].multiply(m: tq, a: probs + h * tq * tk, lda: tk, c: out + h * headDim, ldc: qStride)
        } else {
            BLAS.gemm(m: tq, n: headDim, k: tk,
                      a: probs + h * tq * tk, lda: tk,
                      b: v + kvh * headDim, ldb: kStride, transB: false,
                      c: out + h * headDim, ldc: qStride)
        }
    }
}

/// Fewest query rows for which `attend` runs its products in bf16 when asked to.
public let attentionBF16MinQueries = 16

/// Packs one right-hand side per KV head in parallel; `make` gets the head and a scratch buffer of
/// `scratch` floats.
private func packPerKVHead(_ kvHeads: Int, scratch: Int, _ make: (Int, UnsafeMutablePointer<Float>) throws -> PackedBF16Weights)
    throws -> [PackedBF16Weights] {
    var made = [PackedBF16Weights?](repeating: nil, count: kvHeads)
    try made.withUnsafeMutableBufferPointer { slots in
        try Parallel.forEachThrowing(kvHeads) { kvh in
            let tmp = UnsafeMutablePointer<Float>.allocate(capacity: scratch)
            defer { tmp.deallocate() }
            slots[kvh] = try make(kvh, tmp)
        }
    }
    return made.compactMap { $0 }  // all set: forEachThrowing returned without an error
}

/// The causal mask (keys after queryStart + i hidden from query row i) and the row softmax of one
/// head's scores [tq, tk].
private func attentionMaskAndSoftmax(_ p: UnsafeMutablePointer<Float>, tq: Int, tk: Int, causal: Bool, queryStart: Int) {
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
