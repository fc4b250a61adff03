import Foundation
import Interventions
import Models

/// The logit lens of the generating row after every decoder layer, per step: the CLVS
/// uncertainty (top-10 entropy of the raw residual stream's unembedding, no final norm) and the
/// standard lens (final norm applied: full-vocabulary entropy, top-k tokens and probabilities).
/// All layers' unembeddings of a step share one pass over lm_head.
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

    /// Keeps the last row after each layer; the lens is computed once per step.
    private var rows: [Int: [Float]] = [:]

    public func layerFinished(layer l: Int, hidden: UnsafeBufferPointer<Float>, rows n: Int) throws {
        let d = decoder.config.hiddenSize
        rows[l] = Array(hidden[((n - 1) * d)..<(n * d)])
    }

    /// All layers' raw and final-normed rows go through lm_head in one GEMM ([2L, hidden]), so
    /// the unembedding weights are streamed once per step, not twice per layer.
    public func didFinishStep(_ step: GenerationStep) {
        let L = decoder.config.numHiddenLayers, v = decoder.config.vocabSize
        let layers = (0..<L).filter { rows[$0] != nil }
        var stacked: [Float] = []
        for l in layers { stacked += rows[l] ?? [] }
        for l in layers { stacked += decoder.applyFinalNorm(rows[l] ?? []) }
        let logits = decoder.unembed(stacked, count: 2 * layers.count)  // [2 * layers, vocab]
        for (i, l) in layers.enumerated() {
            let raw = Array(logits[(i * v)..<((i + 1) * v)])
            let normed = Array(logits[((layers.count + i) * v)..<((layers.count + i + 1) * v)])
            current.uncertainty[l] = Float(topKUncertainty(raw, k: uncertaintyTopK))
            // Full-vocabulary softmax of the normed logits, in Double.
            let mx = Double(normed.max() ?? 0)
            var z = 0.0, ez = 0.0
            for x in normed { let e = Foundation.exp(Double(x) - mx); z += e; ez += e * (Double(x) - mx) }
            current.entropy[l] = Float(Foundation.log(z) - ez / z)
            for (j, best) in Interventions.topK(normed, k: topK).enumerated() {
                current.topIds[l * topK + j] = best.index
                current.topProbs[l * topK + j] = Float(Foundation.exp(Double(best.value) - mx) / z)
            }
        }
        rows = [:]
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
