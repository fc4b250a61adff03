import Foundation
import Tensors

/// One Llama decoder layer's parameters.
struct LlamaLayer {
    var inputNorm: [Float], postNorm: [Float]
    var q: Linear, k: Linear, v: Linear, o: Linear
    var gate: Linear, up: Linear, down: Linear
}

/// Keys and values of every decoder layer for the tokens processed so far.
public final class KVCache: @unchecked Sendable {
    /// Per layer: [length, kvHeads * headDim].
    var keys: [[Float]]
    var values: [[Float]]
    public private(set) var length = 0
    let width: Int

    public init(layers: Int, kvHeads: Int, headDim: Int) {
        keys = Array(repeating: [], count: layers)
        values = Array(repeating: [], count: layers)
        width = kvHeads * headDim
    }

    /// Reserves room for `tokens` positions in every layer, so decoding never reallocates (and
    /// copies) the whole cache when it grows past the prompt.
    public func reserve(tokens: Int) {
        for i in keys.indices {
            keys[i].reserveCapacity(tokens * width)
            values[i].reserveCapacity(tokens * width)
        }
    }

    func append(layer: Int, k: [Float], v: [Float]) {
        keys[layer].append(contentsOf: k)
        values[layer].append(contentsOf: v)
    }

    func advance(by n: Int) { length += n }
}

/// Observes the residual stream after each decoder layer (logit lens, parity dumps).
public protocol DecoderObserver: AnyObject {
    /// hidden: [rows, hiddenSize], the residual stream after layer `layer` for the rows of this call.
    func layerFinished(layer: Int, hidden: UnsafeBufferPointer<Float>, rows: Int) throws
}

/// The Llama decoder of LLaVA (Hugging Face `LlamaModel` + `lm_head`): RMSNorm, rotate-half
/// RoPE, grouped-query attention through `attend`, SiLU-gated MLP.
public final class LlamaDecoder: @unchecked Sendable {
    public let config: LlamaTextConfig
    /// Precision of the linear layers and of the attention products.
    public let precision: Precision
    let embed: StoredMatrix       // [vocab, hidden]
    let layers: [LlamaLayer]
    let finalNorm: [Float]        // [hidden]
    let lmHead: Linear            // [vocab, hidden]
    public let rotary: RotaryEmbedding

    static let prefix = "model.language_model."

    /// Whether lm_head shares the embedding matrix (tied and not stored separately).
    static func isTied(_ c: LlamaTextConfig, store: WeightStore, tieEmbeddings: Bool) -> Bool {
        (tieEmbeddings || c.tieWordEmbeddings) && !store.has("lm_head.weight")
    }

    /// Declares the decoder's tensors on `store`.
    static func declare(_ c: LlamaTextConfig, on store: WeightStore, tieEmbeddings: Bool) {
        let p = Self.prefix
        let d = c.hiddenSize, inner = c.intermediateSize
        let qd = c.numAttentionHeads * c.headDim, kvd = c.numKeyValueHeads * c.headDim
        store.expect(p + "embed_tokens.weight", [c.vocabSize, d])
        store.expect(p + "norm.weight", [d])
        if !isTied(c, store: store, tieEmbeddings: tieEmbeddings) { store.expect("lm_head.weight", [c.vocabSize, d]) }
        func expectLinear(_ name: String, _ o: Int, _ i: Int, bias: Bool) {
            store.expect(name + ".weight", [o, i])
            if bias { store.expect(name + ".bias", [o]) }
        }
        for l in 0..<c.numHiddenLayers {
            let lp = p + "layers.\(l)."
            expectLinear(lp + "self_attn.q_proj", qd, d, bias: c.attentionBias)
            expectLinear(lp + "self_attn.k_proj", kvd, d, bias: c.attentionBias)
            expectLinear(lp + "self_attn.v_proj", kvd, d, bias: c.attentionBias)
            expectLinear(lp + "self_attn.o_proj", d, qd, bias: c.attentionBias)
            expectLinear(lp + "mlp.gate_proj", inner, d, bias: c.mlpBias)
            expectLinear(lp + "mlp.up_proj", inner, d, bias: c.mlpBias)
            expectLinear(lp + "mlp.down_proj", d, inner, bias: c.mlpBias)
            store.expect(lp + "input_layernorm.weight", [d])
            store.expect(lp + "post_attention_layernorm.weight", [d])
        }
    }

    /// Loads the decoder (after `store.verify()`).
    init(config c: LlamaTextConfig, store: WeightStore, tieEmbeddings: Bool, precision: Precision = .fp32) throws {
        self.config = c
        self.precision = precision
        let p = Self.prefix
        let d = c.hiddenSize, inner = c.intermediateSize
        let qd = c.numAttentionHeads * c.headDim, kvd = c.numKeyValueHeads * c.headDim
        let tied = Self.isTied(c, store: store, tieEmbeddings: tieEmbeddings)
        self.embed = try store.matrix(p + "embed_tokens.weight", rows: c.vocabSize, cols: d)
        self.finalNorm = try store.floats(p + "norm.weight")
        self.lmHead = try Linear(weight: tied ? embed : try store.matrix("lm_head.weight", rows: c.vocabSize, cols: d), bias: nil,
                                 packing: precision == .bf16 && !tied)
        func lin(_ name: String, _ o: Int, _ i: Int, bias: Bool) throws -> Linear {
            try store.linear(name, rows: o, cols: i, bias: bias, precision: precision)
        }
        var ls: [LlamaLayer] = []
        for l in 0..<c.numHiddenLayers {
            let lp = p + "layers.\(l)."
            ls.append(LlamaLayer(
                inputNorm: try store.floats(lp + "input_layernorm.weight"),
                postNorm: try store.floats(lp + "post_attention_layernorm.weight"),
                q: try lin(lp + "self_attn.q_proj", qd, d, bias: c.attentionBias),
                k: try lin(lp + "self_attn.k_proj", kvd, d, bias: c.attentionBias),
                v: try lin(lp + "self_attn.v_proj", kvd, d, bias: c.attentionBias),
                o: try lin(lp + "self_attn.o_proj", d, qd, bias: c.attentionBias),
                gate: try lin(lp + "mlp.gate_proj", inner, d, bias: c.mlpBias),
                up: try lin(lp + "mlp.up_proj", inner, d, bias: c.mlpBias),
                down: try lin(lp + "mlp.down_proj", d, inner, bias: c.mlpBias)))
        }
        self.layers = ls
        self.rotary = c.rotary
    }

    public func makeCache() -> KVCache {
        KVCache(layers: config.numHiddenLayers, kvHeads: config.numKeyValueHeads, headDim: config.headDim)
    }

    /// Token embeddings. ids: [n] -> [n, hidden].
    public func embed(_ ids: [Int]) throws -> [Float] {
        let d = config.hiddenSize
        var out = [Float](repeating: 0, count: ids.count * d)
        for (i, id) in ids.enumerated() {
            guard id >= 0, id < config.vocabSize else {
                throw ModelError.invalidInput("token id \(id) is outside the vocabulary (\(config.vocabSize))")
            }
            out.withUnsafeMutableBufferPointer { op in embed.convertRows(id, 1, into: op.baseAddress! + i * d) }
        }
        return out
    }

    /// Runs the new rows `x` [rows, hidden] through every layer, appending to `cache`, and
    /// returns the residual stream after the last layer (before the final norm), [rows, hidden].
    public func forward(_ input: [Float], rows: Int, cache: KVCache, hooks: [AttentionHook] = [],
                        observers: [DecoderObserver] = []) throws -> [Float] {
        let c = config
        let d = c.hiddenSize
        guard input.count == rows * d else { throw ModelError.invalidInput("decoder input has \(input.count) values, expected \(rows * d)") }
        let start = cache.length
        let positions = Array(start..<(start + rows))
        var x = input
        for (l, L) in layers.enumerated() {
            var h = x
            rmsNorm(&h, rows: rows, cols: d, L.inputNorm, c.rmsNormEps)
            var q = L.q(h, rows: rows), k = L.k(h, rows: rows)
            let v = L.v(h, rows: rows)
            q.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress!, rows: rows, heads: c.numAttentionHeads, positions: positions) }
            k.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress!, rows: rows, heads: c.numKeyValueHeads, positions: positions) }
            cache.append(layer: l, k: k, v: v)
            let tk = start + rows
            var attn = [Float](repeating: 0, count: rows * c.numAttentionHeads * c.headDim)
            try q.withUnsafeBufferPointer { qp in
                try cache.keys[l].withUnsafeBufferPointer { kp in
                    try cache.values[l].withUnsafeBufferPointer { vp in
                        try attn.withUnsafeMutableBufferPointer { op in
                            try attend(site: AttentionSite(tower: .text, layer: l),
                                       q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!,
                                       tq: rows, tk: tk, heads: c.numAttentionHeads, kvHeads: c.numKeyValueHeads,
                                       headDim: c.headDim, scale: 1 / Float(c.headDim).squareRoot(),
                                       causal: true, queryStart: start, rotary: rotary, hooks: hooks, precision: precision,
                                       out: op.baseAddress!)
                        }
                    }
                }
            }
            Ops.addInPlace(&x, L.o(attn, rows: rows))
            h = x
            rmsNorm(&h, rows: rows, cols: d, L.postNorm, c.rmsNormEps)
            var g = L.gate(h, rows: rows)
            let u = L.up(h, rows: rows)
            g.withUnsafeMutableBufferPointer { gp in
                u.withUnsafeBufferPointer { up in c.hiddenAct.applyGated(gp.baseAddress!, times: up.baseAddress!, count: gp.count) }
            }
            Ops.addInPlace(&x, L.down(g, rows: rows))
            if !observers.isEmpty {
                try x.withUnsafeBufferPointer { h in
                    for o in observers { try o.layerFinished(layer: l, hidden: h, rows: rows) }
                }
            }
        }
        cache.advance(by: rows)
        return x
    }

    /// The final RMSNorm applied to one hidden row [hidden] (the logit lens uses it too).
    public func applyFinalNorm(_ row: [Float]) -> [Float] {
        var h = row
        rmsNorm(&h, rows: 1, cols: config.hiddenSize, finalNorm, config.rmsNormEps)
        return h
    }

    /// lm_head on several rows at once (one pass over the weights): rows [n, hidden] -> [n, vocab].
    /// No final norm is applied.
    public func unembed(_ rows: [Float], count: Int) -> [Float] {
        lmHead(rows, rows: count)
    }

    /// Final norm + lm_head on one hidden row [hidden] -> logits [vocab].
    public func logits(hiddenRow: [Float], applyNorm: Bool = true) -> [Float] {
        var h = hiddenRow
        if applyNorm { rmsNorm(&h, rows: 1, cols: config.hiddenSize, finalNorm, config.rmsNormEps) }
        return lmHead(h, rows: 1)
    }
}
