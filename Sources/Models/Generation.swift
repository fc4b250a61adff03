import Foundation

/// Options of greedy decoding.
public struct GenerationOptions: Sendable {
    /// At least 1.
    public var maxNewTokens: Int
    /// Stop after a token in `eosTokenIds` is generated (the EOS is kept in the output).
    public var stopAtEOS: Bool
    public var eosTokenIds: Set<Int>

    public init(maxNewTokens: Int, stopAtEOS: Bool = true, eosTokenIds: Set<Int>) {
        self.maxNewTokens = maxNewTokens
        self.stopAtEOS = stopAtEOS
        self.eosTokenIds = eosTokenIds
    }
}

/// One decoding step: the forward call that produced a token.
public struct GenerationStep: Sendable {
    /// 0 = the prefill.
    public var index: Int
    public var tokenId: Int
    /// [vocab] the logits that chose `tokenId`.
    public var logits: [Float]
}

/// Receives per-step notifications from `LlavaModel.generate` (tracing, progress).
public protocol GenerationObserver: AnyObject {
    /// Called before the forward call of step `step` (0 = prefill) with the number of query rows.
    func willRunStep(_ step: Int, queryRows: Int)
    /// Called after step `step` chose its token.
    func didFinishStep(_ step: GenerationStep)
}

public extension GenerationObserver {
    func willRunStep(_ step: Int, queryRows: Int) {}
    func didFinishStep(_ step: GenerationStep) {}
}

/// The result of a greedy generation.
public struct GenerationResult: Sendable {
    public var layout: TokenLayout
    public var steps: [GenerationStep]
    public var generatedIds: [Int] { steps.map(\.tokenId) }
}

/// Index of the first maximum (as `torch.argmax`).
public func argmax(_ x: [Float]) -> Int {
    guard var bestValue = x.first else { return 0 }
    var best = 0
    for i in x.indices.dropFirst() where x[i] > bestValue {
        best = i
        bestValue = x[i]
    }
    return best
}

extension LlavaModel {
    /// Greedy decoding with the KV cache. Step 0 runs the vision tower, the projector and the
    /// prompt; each later step feeds the previous token.
    public func generate(layout: TokenLayout, pixels: [Float], width: Int, height: Int,
                         options: GenerationOptions, hooks: [AttentionHook] = [],
                         decoderObservers: [DecoderObserver] = [],
                         observer: GenerationObserver? = nil) throws -> GenerationResult {
        guard options.maxNewTokens >= 1 else {
            throw ModelError.invalidInput("max new tokens must be at least 1, found \(options.maxNewTokens)")
        }
        let d = config.text.hiddenSize
        let features = try imageFeatures(pixels: pixels, width: width, height: height, hooks: hooks)
        let projected = project(features, rows: config.imageTokenCount)
        let cache = decoder.makeCache()
        cache.reserve(tokens: layout.inputIds.count + options.maxNewTokens)
        var input = try inputEmbeddings(layout: layout, projected: projected)
        var rows = layout.inputIds.count
        var steps: [GenerationStep] = []
        for s in 0..<options.maxNewTokens {
            observer?.willRunStep(s, queryRows: rows)
            let hidden = try decoder.forward(input, rows: rows, cache: cache, hooks: hooks, observers: decoderObservers)
            let last = Array(hidden[((rows - 1) * d)..<(rows * d)])
            let logits = decoder.logits(hiddenRow: last)
            let token = argmax(logits)
            let step = GenerationStep(index: s, tokenId: token, logits: logits)
            steps.append(step)
            observer?.didFinishStep(step)
            if options.stopAtEOS && options.eosTokenIds.contains(token) { break }
            input = try decoder.embed([token])
            rows = 1
        }
        return GenerationResult(layout: layout, steps: steps)
    }
}
