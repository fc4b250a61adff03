import Foundation
import Interventions
import Tracing

/// Something that answers one image-question pair with greedy decoding: the runner's only view
/// of the model and the method.
public protocol AnswerEngine {
    /// The decoded answer (special tokens skipped) for `prompt` about `image`, generating at most
    /// `maxNewTokens` tokens; when `traceDirectory` is given, the trace of this answer is written
    /// there (the folder must not exist or be empty).
    func answer(image: URL, prompt: PromptSpec, maxNewTokens: Int, traceDirectory: URL?) throws -> String
    /// The same, with notes about the question recorded in the trace's `options` (e.g.
    /// `key_object`, `label`), which the studies read.
    func answer(image: URL, prompt: PromptSpec, maxNewTokens: Int, traceDirectory: URL?, traceNotes: [String: String]) throws -> String
}

extension AnswerEngine {
    /// Engines that write no traces ignore the notes.
    public func answer(image: URL, prompt: PromptSpec, maxNewTokens: Int, traceDirectory: URL?, traceNotes: [String: String]) throws -> String {
        try answer(image: image, prompt: prompt, maxNewTokens: maxNewTokens, traceDirectory: traceDirectory)
    }
}

/// The model with a method (vanilla or CLVS): `traceOnePair` with greedy decoding, and
/// `writeTrace` when a trace is asked for.
public final class ModelEngine: AnswerEngine {
    public let checkpoint: LoadedCheckpoint
    public let method: Tracing.Method
    /// Pad the image to a square with the mean colour first (LLaVA-1.5's `image_aspect_ratio=pad`,
    /// which its evaluation scripts use).
    public let padToSquare: Bool
    /// Render the standard figures into each trace folder.
    public let traceFigures: Bool

    /// An engine on a loaded checkpoint.
    public init(checkpoint: LoadedCheckpoint, method: Tracing.Method = .vanilla, padToSquare: Bool = true, traceFigures: Bool = false) {
        self.checkpoint = checkpoint
        self.method = method
        self.padToSquare = padToSquare
        self.traceFigures = traceFigures
    }

    /// Greedy answer; writes the trace when asked. Without a trace folder nothing optional is
    /// recorded (the logit lens alone costs an unembedding pass per step); with one, the trace has
    /// the default keys.
    public func answer(image: URL, prompt: PromptSpec, maxNewTokens: Int, traceDirectory: URL?) throws -> String {
        try answer(image: image, prompt: prompt, maxNewTokens: maxNewTokens, traceDirectory: traceDirectory, traceNotes: [:])
    }

    public func answer(image: URL, prompt: PromptSpec, maxNewTokens: Int, traceDirectory: URL?, traceNotes: [String: String]) throws -> String {
        var options = TraceOptions()
        if traceDirectory == nil {
            options.lens = false
            options.fullRows = false
        }
        let outcome = try traceOnePair(checkpoint, imageFile: image, prompt: prompt, maxNewTokens: maxNewTokens,
                                       padToSquare: padToSquare, method: method, options: options)
        if let traceDirectory {
            try writeTrace(outcome, checkpoint: checkpoint, imageFile: image, prompt: prompt,
                           options: traceNotes.merging(["max_new_tokens": "\(maxNewTokens)", "pad_to_square": "\(padToSquare)",
                                                        "method": method.name, "decoding": "greedy"]) { _, new in new },
                           padToSquare: padToSquare, figures: traceFigures, to: traceDirectory)
        }
        return outcome.answer
    }
}

/// The engine for a method; CLVS settings are validated against the model (layers, vocabulary).
public func makeEngine(method: EvalMethod, settings: MethodSettings, checkpoint: LoadedCheckpoint,
                       padToSquare: Bool = true, traceFigures: Bool = false) throws -> AnswerEngine {
    guard settings.method == method else {
        throw BenchmarkError.invalidOption(option: "--method", reason: "is \(method.rawValue) but the settings are for \(settings.method.rawValue)")
    }
    switch method {
    case .vanilla:
        return ModelEngine(checkpoint: checkpoint, method: .vanilla, padToSquare: padToSquare, traceFigures: traceFigures)
    case .clvs:
        let defaults = CLVSConfig()
        let config = CLVSConfig(lambda: Float(settings.lambda ?? Double(defaults.lambda)),
                                gamma: Float(settings.gamma ?? Double(defaults.gamma)),
                                delta: Float(settings.delta ?? Double(defaults.delta)))
        let text = checkpoint.model.config.text
        try config.validate(layers: text.numHiddenLayers, vocabulary: text.vocabSize)
        return ModelEngine(checkpoint: checkpoint, method: .clvs(config), padToSquare: padToSquare, traceFigures: traceFigures)
    }
}
