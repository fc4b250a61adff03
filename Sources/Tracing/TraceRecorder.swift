import Foundation
import Models

/// Records, per generation step, the generating row's attention in every decoder layer (the
/// logits are in the `GenerationResult`). Attach it as an attention hook and as the generation observer.
///
/// It records what it sees at its position in the hook list: put it first for the probabilities
/// as the model computed them, after an intervention for the modified ones.
public final class TraceRecorder: AttentionHook, GenerationObserver {
    public let layers: Int
    public let heads: Int
    /// Per finished step: [layers, heads, keys].
    public private(set) var attention: [[Float]] = []
    /// Keys of each finished step.
    public private(set) var keyCounts: [Int] = []
    private var current: [Float] = []
    private var currentKeys = 0
    private var seen = Set<Int>()

    public init(layers: Int, heads: Int) {
        self.layers = layers
        self.heads = heads
    }

    public func willRunStep(_ step: Int, queryRows: Int) {
        current = []
        currentKeys = 0
        seen = []
    }

    public func attention(_ event: AttentionEvent, probabilities: UnsafeMutableBufferPointer<Float>) throws {
        guard event.site.tower == .text else { return }
        let tk = event.keyCount, tq = event.queryCount
        if current.isEmpty {
            currentKeys = tk
            current = [Float](repeating: 0, count: layers * heads * tk)
        }
        guard tk == currentKeys, event.heads == heads, event.site.layer < layers else {
            throw ModelError.invalidInput("trace recorder: attention call \(event.site) does not match the step's shape")
        }
        let l = event.site.layer
        for h in 0..<heads {
            let src = (h * tq + (tq - 1)) * tk
            let dst = (l * heads + h) * tk
            for j in 0..<tk { current[dst + j] = probabilities[src + j] }
        }
        seen.insert(l)
    }

    public func didFinishStep(_ step: GenerationStep) {
        attention.append(current)
        keyCounts.append(currentKeys)
    }
}
