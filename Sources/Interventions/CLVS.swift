import Foundation
import Models
import Tensors

/// Normalised top-k entropy of a logit vector: softmax over the k largest logits only,
/// `U = -sum p ln p / ln k`, in [0, 1] (Eq. 8's uncertainty).
public func topKUncertainty(_ logits: [Float], k: Int) -> Double {
    let top = topK(logits, k: k).map { Double($0.value) }
    guard top.count >= 2, let mx = top.first else { return 0 }
    let e = top.map { Foundation.exp($0 - mx) }
    let z = e.reduce(0, +)
    var h = 0.0
    for v in e where v > 0 { let p = v / z; h -= p * Foundation.log(p) }
    return h / Foundation.log(Double(top.count))
}

/// The `k` largest entries, largest first (ties: lower index first, as `torch.topk` on CPU).
public func topK(_ x: [Float], k: Int) -> [(index: Int, value: Float)] {
    let k = min(k, x.count)
    guard k > 0 else { return [] }
    var best: [(index: Int, value: Float)] = []
    best.reserveCapacity(k + 1)
    for (i, v) in x.enumerated() {
        if best.count == k, let last = best.last, !(v > last.value) { continue }
        var pos = best.count
        while pos > 0 && v > best[pos - 1].value { pos -= 1 }
        best.insert((i, v), at: pos)
        if best.count > k { best.removeLast() }
    }
    return best
}

/// Cross-Layer Vision Smoothing as an attention hook plus a decoder observer, exactly as
/// `clvs-method.md` states it. Attach the same instance to `generate`'s `hooks` and
/// `decoderObservers`.
///
/// Per forward call (each generated token; the state resets when decoder layer 0 is reached):
/// 1. layer 0: the last row's attention is recomputed with unified image positions over all keys
///    in the cache (post-RoPE keys re-rotated by the position difference), replaces that row in
///    every head, and initialises the memory `m[v] = pool_h U_h[t, v]`;
/// 2. layers l >= 1 while active: `orig = pool_h A_h[t, V]` (before the change), each head's
///    visual entries smoothed with `m` (convex if lambda < 1, additive otherwise), whole row
///    renormalised;
/// 3. after layer l, for l >= L/2 + 1: top-k uncertainty of the unembedded residual (no final
///    norm by default); U < delta stops smoothing for the rest of this call;
/// 4. if still active: `m = gamma m + (1 - gamma) orig`.
/// Only the last query row is modified. The image span comes from the prompt's token layout.
public final class CLVSIntervention: AttentionHook, DecoderObserver {
    /// What happened in one forward call.
    public struct CallRecord: Sendable {
        /// The layer whose check stopped smoothing, or nil if it never stopped.
        public var stopLayer: Int?
        /// [layers][imageTokens]: the memory after each layer (frozen once stopped).
        public var memoryAfterLayer: [[Float]]
        /// [layers]: the checked uncertainty, NaN where no check ran.
        public var uncertainty: [Float]
    }

    public let config: CLVSConfig
    /// Key positions of the image tokens.
    public let span: Range<Int>
    public let layers: Int
    let decoder: LlamaDecoder
    let checkStart: Int

    /// One record per finished forward call, in order.
    public private(set) var records: [CallRecord] = []
    public private(set) var memory: [Float] = []
    public private(set) var active = true
    private var current: CallRecord?
    private var orig: [Float]?
    private var lastRow = 0

    public init(config: CLVSConfig, model: LlavaModel, layout: TokenLayout) throws {
        let L = model.config.text.numHiddenLayers
        try config.validate(layers: L, vocabulary: model.config.text.vocabSize)
        guard L >= 2 else { throw InterventionError.unsupported("CLVS needs at least 2 decoder layers; the model has \(L)") }
        guard layout.image.count >= 1, layout.image.end <= layout.inputIds.count else {
            throw InterventionError.unsupported("CLVS needs an image span inside the prompt (found \(layout.image.range) in \(layout.inputIds.count) tokens)")
        }
        self.config = config
        self.span = layout.image.range
        self.layers = L
        self.decoder = model.decoder
        self.checkStart = config.checkStart(layers: L)
    }

    /// Unified position of an ordinary position: image tokens all at N_s, later tokens shifted down.
    func unified(_ p: Int) -> Int {
        if p < span.lowerBound { return p }
        if p < span.upperBound { return span.lowerBound }
        return p - (span.count - 1)
    }

    func pool(_ probs: UnsafeMutableBufferPointer<Float>, heads: Int, rowBase: (Int) -> Int) -> [Float] {
        var out = [Float](repeating: config.headPooling == .max ? -.infinity : 0, count: span.count)
        for h in 0..<heads {
            let base = rowBase(h)
            for (i, v) in span.enumerated() {
                let a = probs[base + v]
                if config.headPooling == .max { out[i] = max(out[i], a) } else { out[i] += a }
            }
        }
        if config.headPooling == .mean { for i in out.indices { out[i] /= Float(heads) } }
        return out
    }

    public func attention(_ event: AttentionEvent, probabilities probs: UnsafeMutableBufferPointer<Float>) throws {
        guard event.site.tower == .text else { return }
        let l = event.site.layer, H = event.heads, K = event.keyCount, t = event.queryCount - 1
        guard span.upperBound <= K else {
            throw InterventionError.unsupported("CLVS: the image span \(span) is outside the \(K) keys of this call")
        }
        let rowBase: (Int) -> Int = { h in (h * event.queryCount + t) * K }
        if l == 0 {
            // A new forward call: reset the state.
            active = true
            orig = nil
            lastRow = t
            current = CallRecord(stopLayer: nil, memoryAfterLayer: Array(repeating: [], count: layers),
                                 uncertainty: Array(repeating: .nan, count: layers))
            if config.unifiedPositions { try replaceWithUnified(event, probs) }
            memory = pool(probs, heads: H, rowBase: rowBase)
            return
        }
        guard active else { return }
        orig = pool(probs, heads: H, rowBase: rowBase)
        let lam = config.lambda
        for h in 0..<H {
            let base = rowBase(h)
            for (i, v) in span.enumerated() {
                probs[base + v] = lam < 1 ? lam * probs[base + v] + (1 - lam) * memory[i] : probs[base + v] + (lam - 1) * memory[i]
            }
            var sum: Float = 0
            for j in 0..<K { sum += probs[base + j] }
            if sum > 0 { for j in 0..<K { probs[base + j] /= sum } }
        }
    }

    /// Step 1: the last row of every head recomputed with unified positions over all keys.
    func replaceWithUnified(_ e: AttentionEvent, _ probs: UnsafeMutableBufferPointer<Float>) throws {
        guard let rotary = e.rotary else {
            throw InterventionError.unsupported("CLVS: the attention call \(e.site) carries no rotary tables")
        }
        let H = e.heads, D = e.headDim, KV = e.kvHeads, K = e.keyCount, t = e.queryCount - 1
        let group = H / KV
        let pt = e.queryStart + t
        // Query row t re-rotated to its unified position: [H, D].
        var q = Array(e.queries[(t * H * D)..<((t + 1) * H * D)])
        q.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress!, rows: 1, heads: H, positions: [unified(pt) - pt]) }
        // Keys re-rotated to unified positions: [K, KV, D] (keys before the image are unchanged).
        var k = Array(e.keys)
        let first = span.lowerBound
        let moved = K - first
        if moved > 0 {
            let deltas = (first..<K).map { unified($0) - $0 }
            k.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress! + first * KV * D, rows: moved, heads: KV, positions: deltas) }
        }
        var row = [Float](repeating: 0, count: K)
        for h in 0..<H {
            let kvh = h / group
            for j in 0..<K {
                var dot: Float = 0
                let qb = h * D, kb = (j * KV + kvh) * D
                for d in 0..<D { dot += q[qb + d] * k[kb + d] }
                row[j] = dot * e.scale
            }
            if e.causal, pt + 1 < K { for j in (pt + 1)..<K { row[j] = -.infinity } }
            row.withUnsafeMutableBufferPointer { Ops.softmaxRows($0.baseAddress!, rows: 1, cols: K) }
            let base = (h * e.queryCount + t) * K
            for j in 0..<K { probs[base + j] = row[j] }
        }
    }

    public func layerFinished(layer l: Int, hidden: UnsafeBufferPointer<Float>, rows: Int) throws {
        guard var rec = current else { return }
        if l > 0, active, let o = orig {
            if config.earlyTermination, config.delta > 0, l >= checkStart {
                let d = decoder.config.hiddenSize
                let h = Array(hidden[((rows - 1) * d)..<(rows * d)])
                let u = topKUncertainty(decoder.logits(hiddenRow: h, applyNorm: config.uncertaintyFinalNorm), k: config.topK)
                rec.uncertainty[l] = Float(u)
                if u < Double(config.delta) {
                    active = false
                    rec.stopLayer = l
                }
            }
            if active {
                let g = config.gamma
                for i in memory.indices { memory[i] = g * memory[i] + (1 - g) * o[i] }
            }
        }
        orig = nil
        rec.memoryAfterLayer[l] = memory
        if l == layers - 1 {
            records.append(rec)
            current = nil
        } else {
            current = rec
        }
    }
}
