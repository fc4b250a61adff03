import Foundation
import Interventions
import Models

/// The logit lens of the generating row after every decoder layer, per step: the CLVS
/// uncertainty (top-10 entropy of the raw residual stream's unembedding, no final norm) and the
/// standard lens (final norm applied: full-vocabulary entropy, top-k tokens and probabilities).
/// Both unembeddings share one pass over lm_head.
public final class LogitLensRecorder: DecoderObserver, GenerationObserver {
    /// One step's lens: [layers] and [layers * k].
    public struct Step: Sendable {
        public var uncertainty: [Float]
        public var entropy: [Float]
        public var topIds: [Int]
        public var topProbs: [Float]
    }

    let decoder: LlamaDecoder
    public let topK: Int
    public let uncertaintyTopK: Int
    public private(set) var steps: [Step] = []
    private var current: Step

    public init(decoder: LlamaDecoder, topK: Int = 5, uncertaintyTopK: Int = 10) {
        self.decoder = decoder
        self.topK = max(1, topK)
        self.uncertaintyTopK = uncertaintyTopK
        let L = decoder.config.numHiddenLayers
        current = Step(uncertainty: Array(repeating: .nan, count: L), entropy: Array(repeating: .nan, count: L),
                       topIds: Array(repeating: -1, count: L * max(1, topK)), topProbs: Array(repeating: 0, count: L * max(1, topK)))
    }

    public func willRunStep(_ step: Int, queryRows: Int) {
        let L = decoder.config.numHiddenLayers
        current = Step(uncertainty: Array(repeating: .nan, count: L), entropy: Array(repeating: .nan, count: L),
                       topIds: Array(repeating: -1, count: L * topK), topProbs: Array(repeating: 0, count: L * topK))
    }

    public func layerFinished(layer l: Int, hidden: UnsafeBufferPointer<Float>, rows: Int) throws {
        let d = decoder.config.hiddenSize, v = decoder.config.vocabSize
        let row = Array(hidden[((rows - 1) * d)..<(rows * d)])
        let both = decoder.unembed(row + decoder.applyFinalNorm(row), count: 2)  // [2, vocab]
        let raw = Array(both[0..<v]), normed = Array(both[v..<(2 * v)])
        current.uncertainty[l] = Float(topKUncertainty(raw, k: uncertaintyTopK))
        // Full-vocabulary softmax of the normed logits, in Double.
        let mx = Double(normed.max() ?? 0)
        var z = 0.0, ez = 0.0
        for x in normed { let e = Foundation.exp(Double(x) - mx); z += e; ez += e * (Double(x) - mx) }
        current.entropy[l] = Float(Foundation.log(z) - ez / z)
        for (i, best) in Interventions.topK(normed, k: topK).enumerated() {
            current.topIds[l * topK + i] = best.index
            current.topProbs[l * topK + i] = Float(Foundation.exp(Double(best.value) - mx) / z)
        }
    }

    public func didFinishStep(_ step: GenerationStep) {
        steps.append(current)
    }
}

/// Keeps whole attention matrices of the first forward call: the vision tower's layers, or every
/// query row of the prefill (opt-in: [L, H, T, T] is large for real models).
final class FullAttentionRecorder: AttentionHook {
    let tower: Tower
    private(set) var layers: [Int: [Float]] = [:]
    private(set) var shape: (heads: Int, queries: Int, keys: Int) = (0, 0, 0)
    private var done = false

    init(tower: Tower) { self.tower = tower }

    func attention(_ event: AttentionEvent, probabilities: UnsafeMutableBufferPointer<Float>) throws {
        guard event.site.tower == tower, !done else { return }
        if tower == .text, event.site.layer == 0, !layers.isEmpty { done = true; return }
        layers[event.site.layer] = Array(probabilities)
        shape = (event.heads, event.queryCount, event.keyCount)
    }
}
