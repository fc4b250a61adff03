import Foundation
import Tensors

/// One CLIP encoder layer's parameters.
struct CLIPLayer {
    var ln1w: [Float], ln1b: [Float], ln2w: [Float], ln2b: [Float]
    var q: Linear, k: Linear, v: Linear, o: Linear
    var fc1: Linear, fc2: Linear
}

/// The CLIP ViT vision tower of LLaVA (Hugging Face `CLIPVisionModel`): patch embedding as a
/// GEMM, class token, learned position embeddings, pre-layernorm, pre-LN encoder layers with
/// quick-GELU MLPs. Runs only the layers the selected hidden states need.
public final class CLIPVisionTower: @unchecked Sendable {
    public let config: CLIPVisionConfig
    /// Precision of the linear layers and of the attention products.
    public let precision: Precision
    let patchWeight: Linear          // [hidden, channels * patch * patch]
    let classEmbedding: [Float]      // [hidden]
    let positionEmbedding: [Float]   // [numPatches + 1, hidden]
    let preLNw: [Float], preLNb: [Float]
    let layers: [CLIPLayer]

    static let prefix = "model.vision_tower."

    /// Declares this tower's tensors on `store`: all layers and the post-layernorm, which a
    /// strict load must account for even though LLaVA does not use them.
    static func declare(_ c: CLIPVisionConfig, on store: WeightStore) {
        let p = Self.prefix
        let d = c.hiddenSize, inner = c.intermediateSize
        store.expect(p + "embeddings.class_embedding", [d])
        store.expect(p + "embeddings.patch_embedding.weight", [d, c.numChannels, c.patchSize, c.patchSize])
        store.expect(p + "embeddings.position_embedding.weight", [c.numPatches + 1, d])
        store.expect(p + "pre_layrnorm.weight", [d]); store.expect(p + "pre_layrnorm.bias", [d])
        store.expect(p + "post_layernorm.weight", [d]); store.expect(p + "post_layernorm.bias", [d])
        for l in 0..<c.numHiddenLayers {
            let lp = p + "encoder.layers.\(l)."
            for n in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                store.expect(lp + "self_attn.\(n).weight", [d, d]); store.expect(lp + "self_attn.\(n).bias", [d])
            }
            store.expect(lp + "mlp.fc1.weight", [inner, d]); store.expect(lp + "mlp.fc1.bias", [inner])
            store.expect(lp + "mlp.fc2.weight", [d, inner]); store.expect(lp + "mlp.fc2.bias", [d])
            for n in ["layer_norm1", "layer_norm2"] {
                store.expect(lp + "\(n).weight", [d]); store.expect(lp + "\(n).bias", [d])
            }
        }
    }

    /// Loads the tensors needed for the first `layersNeeded` layers (after `store.verify()`).
    init(config c: CLIPVisionConfig, store: WeightStore, layersNeeded: Int, precision: Precision = .fp32) throws {
        self.config = c
        self.precision = precision
        let p = Self.prefix
        let d = c.hiddenSize, inner = c.intermediateSize
        let patchIn = c.numChannels * c.patchSize * c.patchSize
        self.patchWeight = try Linear(weight: try store.matrix(p + "embeddings.patch_embedding.weight", rows: d, cols: patchIn),
                                      bias: nil, packing: precision == .bf16)
        self.classEmbedding = try store.floats(p + "embeddings.class_embedding")
        self.positionEmbedding = try store.floats(p + "embeddings.position_embedding.weight")
        self.preLNw = try store.floats(p + "pre_layrnorm.weight")
        self.preLNb = try store.floats(p + "pre_layrnorm.bias")
        func lin(_ name: String, _ rows: Int, _ cols: Int) throws -> Linear {
            try store.linear(name, rows: rows, cols: cols, bias: true, precision: precision)
        }
        var ls: [CLIPLayer] = []
        for l in 0..<min(layersNeeded, c.numHiddenLayers) {
            let lp = p + "encoder.layers.\(l)."
            ls.append(CLIPLayer(
                ln1w: try store.floats(lp + "layer_norm1.weight"), ln1b: try store.floats(lp + "layer_norm1.bias"),
                ln2w: try store.floats(lp + "layer_norm2.weight"), ln2b: try store.floats(lp + "layer_norm2.bias"),
                q: try lin(lp + "self_attn.q_proj", d, d), k: try lin(lp + "self_attn.k_proj", d, d),
                v: try lin(lp + "self_attn.v_proj", d, d), o: try lin(lp + "self_attn.out_proj", d, d),
                fc1: try lin(lp + "mlp.fc1", inner, d), fc2: try lin(lp + "mlp.fc2", d, inner)))
        }
        self.layers = ls
    }

    /// Runs the tower on one image and returns the requested hidden states.
    ///
    /// - pixels: [channels, imageSize, imageSize] (normalised pixel values).
    /// - hiddenStates: indices (0 = embeddings after pre-layernorm, i = output of layer i).
    /// - Returns: one [numPatches + 1, hidden] array per requested index, in order.
    public func hiddenStates(pixels: [Float], width: Int, height: Int, indices: [Int],
                             hooks: [AttentionHook] = []) throws -> [[Float]] {
        let c = config
        guard width == c.imageSize, height == c.imageSize else {
            throw ModelError.invalidInput("pixel values are \(width)x\(height), but the vision tower expects \(c.imageSize)x\(c.imageSize) (vision_config.image_size)")
        }
        guard pixels.count == c.numChannels * width * height else {
            throw ModelError.invalidInput("pixel values hold \(pixels.count) values, expected \(c.numChannels * width * height)")
        }
        let d = c.hiddenSize, ps = c.patchSize, side = c.gridSide, np = c.numPatches
        let t = np + 1
        let patchIn = c.numChannels * ps * ps
        // im2col: patches [np, channels * ps * ps], element order (channel, ky, kx) as the conv weight.
        var patches = [Float](repeating: 0, count: np * patchIn)
        for py in 0..<side {
            for px in 0..<side {
                let base = (py * side + px) * patchIn
                for ch in 0..<c.numChannels {
                    for ky in 0..<ps {
                        let src = ch * width * height + (py * ps + ky) * width + px * ps
                        let dst = base + ch * ps * ps + ky * ps
                        for kx in 0..<ps { patches[dst + kx] = pixels[src + kx] }
                    }
                }
            }
        }
        let patchEmb = patchWeight(patches, rows: np)  // [np, d]
        // x: [t, d] = [class; patches] + positions
        var x = [Float](repeating: 0, count: t * d)
        for j in 0..<d { x[j] = classEmbedding[j] + positionEmbedding[j] }
        for i in 0..<np {
            for j in 0..<d { x[(i + 1) * d + j] = patchEmb[i * d + j] + positionEmbedding[(i + 1) * d + j] }
        }
        x.withUnsafeMutableBufferPointer { xp in
            preLNw.withUnsafeBufferPointer { w in
                preLNb.withUnsafeBufferPointer { b in
                    Ops.layerNorm(xp.baseAddress!, rows: t, cols: d, weight: w.baseAddress!, bias: b.baseAddress!, eps: c.layerNormEps)
                }
            }
        }
        var results = [[Float]?](repeating: nil, count: indices.count)
        func capture(_ index: Int) {
            for (k, want) in indices.enumerated() where want == index { results[k] = x }
        }
        capture(0)
        for (l, layer) in layers.enumerated() {
            if !indices.contains(where: { $0 > l }) { break }
            try forwardLayer(layer, index: l, x: &x, t: t, hooks: hooks)
            capture(l + 1)
        }
        return try results.enumerated().map { k, r in
            guard let r else { throw ModelError.invalidInput("CLIP hidden state \(indices[k]) was not computed") }
            return r
        }
    }

    func forwardLayer(_ L: CLIPLayer, index: Int, x: inout [Float], t: Int, hooks: [AttentionHook]) throws {
        let c = config
        let d = c.hiddenSize
        var h = x
        layerNorm(&h, rows: t, cols: d, L.ln1w, L.ln1b, c.layerNormEps)
        let q = L.q(h, rows: t), k = L.k(h, rows: t), v = L.v(h, rows: t)
        var attn = [Float](repeating: 0, count: t * d)
        try q.withUnsafeBufferPointer { qp in
            try k.withUnsafeBufferPointer { kp in
                try v.withUnsafeBufferPointer { vp in
                    try attn.withUnsafeMutableBufferPointer { op in
                        try attend(site: AttentionSite(tower: .vision, layer: index),
                                   q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!,
                                   tq: t, tk: t, heads: c.numAttentionHeads, kvHeads: c.numAttentionHeads,
                                   headDim: c.headDim, scale: 1 / Float(c.headDim).squareRoot(),
                                   causal: false, queryStart: 0, hooks: hooks, precision: precision,
                                   out: op.baseAddress!)
                    }
                }
            }
        }
        Ops.addInPlace(&x, L.o(attn, rows: t))
        h = x
        layerNorm(&h, rows: t, cols: d, L.ln2w, L.ln2b, c.layerNormEps)
        var f = L.fc1(h, rows: t)
        f.withUnsafeMutableBufferPointer { fp in c.hiddenAct.apply(fp.baseAddress!, count: fp.count) }
        Ops.addInPlace(&x, L.fc2(f, rows: t))
    }
}

/// LayerNorm on a Swift array (wrapper over `Ops.layerNorm`).
func layerNorm(_ x: inout [Float], rows: Int, cols: Int, _ w: [Float], _ b: [Float], _ eps: Float) {
    x.withUnsafeMutableBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
            b.withUnsafeBufferPointer { bp in
                Ops.layerNorm(xp.baseAddress!, rows: rows, cols: cols, weight: wp.baseAddress!, bias: bp.baseAddress!, eps: eps)
            }
        }
    }
}

/// RMSNorm on a Swift array (wrapper over `Ops.rmsNorm`).
func rmsNorm(_ x: inout [Float], rows: Int, cols: Int, _ w: [Float], _ eps: Float) {
    x.withUnsafeMutableBufferPointer { xp in
        w.withUnsafeBufferPointer { wp in
            Ops.rmsNorm(xp.baseAddress!, rows: rows, cols: cols, weight: wp.baseAddress!, eps: eps)
        }
    }
}
