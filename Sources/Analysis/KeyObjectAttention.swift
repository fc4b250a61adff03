/// How the heads of a layer are pooled into one attention value per image token.
public enum HeadPooling: String, Sendable, Codable, CaseIterable {
    /// Mean over heads (the default of the figures).
    case mean
    /// Max over heads.
    case max
}

/// The attention of the generating token over the image tokens, for every layer and head.
public struct VisualAttention: Sendable, Equatable {
    public let layers: Int
    public let heads: Int
    /// Image tokens (the span's length, row-major over the patch grid).
    public let tokens: Int
    /// [layers, heads, tokens] row-major.
    public let values: [Float]

    /// Checks that `values` has `layers * heads * tokens` finite elements.
    public init(layers: Int, heads: Int, tokens: Int, values: [Float]) throws {
        guard layers > 0, heads > 0, tokens > 0 else {
            throw AttentionAnalysisError.empty(context: "VisualAttention shape [\(layers), \(heads), \(tokens)]")
        }
        guard values.count == layers * heads * tokens else {
            throw AttentionAnalysisError.shapeMismatch(context: "VisualAttention [\(layers), \(heads), \(tokens)]",
                                                       count: values.count, expected: layers * heads * tokens)
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw AttentionAnalysisError.nonFinite(context: "VisualAttention", index: bad)
        }
        self.layers = layers; self.heads = heads; self.tokens = tokens; self.values = values
    }

    /// Head-pooled attention of one layer: [tokens], in Double.
    public func pooled(layer: Int, pooling: HeadPooling = .mean) -> [Double] {
        var out = [Double](repeating: pooling == .max ? -Double.infinity : 0, count: tokens)
        for h in 0..<heads {
            let base = (layer * heads + h) * tokens
            for i in 0..<tokens {
                let v = Double(values[base + i])
                switch pooling {
                case .mean: out[i] += v
                case .max: if v > out[i] { out[i] = v }
                }
            }
        }
        if pooling == .mean { for i in 0..<tokens { out[i] /= Double(heads) } }
        return out
    }
}

/// Key-object attention of one sample, per layer (the method page, "Analyses behind the figures").
public struct KeyObjectAttention: Sendable, Equatable, Codable {
    /// [layers]: `a_l = sum_{i in K} abar_i`, the pooled attention mass on the key object's tokens.
    public let mass: [Double]
    /// [layers]: `sum_{i in V} abar_i`, the pooled attention mass on all image tokens.
    public let visualMass: [Double]
    /// [layers]: `a_l / sum_{i in V} abar_i`, the share of visual attention on the object
    /// (nil where the visual mass is 0).
    public var share: [Double?] { zip(mass, visualMass).map { $1 > 0 ? $0 / $1 : nil } }

    /// Computes `a_l` for every layer. `keyTokens` ([tokens], row-major over the grid) marks the
    /// key object's tokens, e.g. `PatchCoverage.keyTokens()`.
    public init(attention: VisualAttention, keyTokens: [Bool], pooling: HeadPooling = .mean) throws {
        guard keyTokens.count == attention.tokens else {
            throw AttentionAnalysisError.tokenCountMismatch(tokens: attention.tokens, gridCells: keyTokens.count)
        }
        var m: [Double] = [], v: [Double] = []
        for l in 0..<attention.layers {
            let p = attention.pooled(layer: l, pooling: pooling)
            var a = 0.0, s = 0.0
            for i in 0..<p.count {
                s += p[i]
                if keyTokens[i] { a += p[i] }
            }
            m.append(a); v.append(s)
        }
        mass = m
        visualMass = v
    }
}

/// Layer-wise summaries used by Figures 4 and 6.
public enum LayerAnalysis {
    /// The layer with the largest value (`argmax_l a_l`); ties go to the lowest layer.
    public static func peakLayer(_ perLayer: [Double]) throws -> Int {
        guard !perLayer.isEmpty else { throw AttentionAnalysisError.empty(context: "peakLayer") }
        if let bad = perLayer.firstIndex(where: { !$0.isFinite }) {
            throw AttentionAnalysisError.nonFinite(context: "peakLayer", index: bad)
        }
        var best = 0
        for l in 1..<perLayer.count where perLayer[l] > perLayer[best] { best = l }
        return best
    }

    /// Relative increase per layer `(a_l^method - a_l^base) / a_l^base`, clipped above at `clip`
    /// (1.0 = 100%, the method page's rule; no lower clip). Where `a_l^base == 0`: 0 if
    /// `a_l^method` is 0 too, else the clip value (an infinite increase, clipped).
    public static func relativeIncrease(method: [Double], base: [Double], clip: Double = 1.0) throws -> [Double] {
        guard method.count == base.count else {
            throw AttentionAnalysisError.lengthMismatch(context: "relativeIncrease", first: method.count, second: base.count)
        }
        if let bad = method.firstIndex(where: { !$0.isFinite }) {
            throw AttentionAnalysisError.nonFinite(context: "relativeIncrease (method)", index: bad)
        }
        if let bad = base.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            throw AttentionAnalysisError.nonFinite(context: "relativeIncrease (base, must be finite and >= 0)", index: bad)
        }
        return zip(method, base).map { m, b in
            if b == 0 { return m == 0 ? 0 : (m > 0 ? clip : -1) }
            return Swift.min((m - b) / b, clip)
        }
    }

    /// Mean over samples of the clipped relative increase, per layer. Every pair is
    /// (method, base) per-layer series of one sample; all of one length.
    public static func meanRelativeIncrease(_ samples: [(method: [Double], base: [Double])], clip: Double = 1.0) throws -> [Double] {
        guard let first = samples.first else { throw AttentionAnalysisError.empty(context: "meanRelativeIncrease") }
        var sum = [Double](repeating: 0, count: first.method.count)
        for s in samples {
            let r = try relativeIncrease(method: s.method, base: s.base, clip: clip)
            guard r.count == sum.count else {
                throw AttentionAnalysisError.lengthMismatch(context: "meanRelativeIncrease", first: sum.count, second: r.count)
            }
            for l in 0..<r.count { sum[l] += r[l] }
        }
        return sum.map { $0 / Double(samples.count) }
    }

    /// Mean of a per-layer series over a closed layer range (e.g. layers 15...17).
    public static func mean(_ perLayer: [Double], layers: ClosedRange<Int>) throws -> Double {
        guard layers.lowerBound >= 0, layers.upperBound < perLayer.count else {
            throw AttentionAnalysisError.layerOutOfRange(context: "mean over layers", layer: layers.upperBound, layers: perLayer.count)
        }
        return layers.reduce(0.0) { $0 + perLayer[$1] } / Double(layers.count)
    }

    /// Convergence per layer (Fig. 4): layer `l` has converged if its logit-lens top-1 token
    /// equals the final output token and so does every later layer. `top1` is [layers].
    public static func converged(top1: [Int], finalToken: Int) -> [Bool] {
        var out = [Bool](repeating: false, count: top1.count)
        var allLaterMatch = true
        for l in stride(from: top1.count - 1, through: 0, by: -1) {
            allLaterMatch = allLaterMatch && top1[l] == finalToken
            out[l] = allLaterMatch
        }
        return out
    }

    /// Histogram of peak layers: [layerCount] counts of each layer index.
    public static func peakHistogram(_ peaks: [Int], layerCount: Int) throws -> [Int] {
        var h = [Int](repeating: 0, count: layerCount)
        for p in peaks {
            guard p >= 0, p < layerCount else {
                throw AttentionAnalysisError.layerOutOfRange(context: "peakHistogram", layer: p, layers: layerCount)
            }
            h[p] += 1
        }
        return h
    }
}
