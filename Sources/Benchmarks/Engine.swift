import Foundation
import Tracing

/// Something that answers one image-question pair with greedy decoding: the runner's only view
/// of the model and the method.
public protocol AnswerEngine {
    /// The decoded answer (special tokens skipped) for `prompt` about `image`, generating at most
    /// `maxNewTokens` tokens; when `traceDirectory` is given, the trace of this answer is written
    /// there (the folder must not exist or be empty).
    func answer(image: URL, prompt: PromptSpec, maxNewTokens: Int, traceDirectory: URL?) throws -> String
}

/// The unmodified model: `traceOnePair` with greedy decoding, and `writeTrace` when a trace is asked for.
public final class VanillaEngine: AnswerEngine {
    public let checkpoint: LoadedCheckpoint
    /// Pad the image to a square with the mean colour first (LLaVA-1.5's `image_aspect_ratio=pad`,
    /// which its evaluation scripts use).
    public let padToSquare: Bool
    /// Render the standard figures into each trace folder.
    public let traceFigures: Bool

    /// An engine on a loaded checkpoint.
    public init(checkpoint: LoadedCheckpoint, padToSquare: Bool = true, traceFigures: Bool = false) {
        self.checkpoint = checkpoint
        self.padToSquare = padToSquare
        self.traceFigures = traceFigures
    }

    /// Greedy answer with the unmodified model; writes the trace when asked. Without a trace
    /// folder nothing optional is recorded (the logit lens alone costs an unembedding per layer
    /// and step); with one, the trace has the default keys.
    public func answer(image: URL, prompt: PromptSpec, maxNewTokens: Int, traceDirectory: URL?) throws -> String {
        var options = TraceOptions()
        if traceDirectory == nil { options.lens = false }
        let outcome = try traceOnePair(checkpoint, imageFile: image, prompt: prompt, maxNewTokens: maxNewTokens,
                                       padToSquare: padToSquare, method: .vanilla, options: options)
        if let traceDirectory {
            try writeTrace(outcome, checkpoint: checkpoint, imageFile: image, prompt: prompt,
                           options: ["max_new_tokens": "\(maxNewTokens)", "pad_to_square": "\(padToSquare)",
                                     "method": EvalMethod.vanilla.rawValue, "decoding": "greedy"],
                           padToSquare: padToSquare, figures: traceFigures, to: traceDirectory)
        }
        return outcome.answer
    }
}

/// The engine for a method. `clvs` is not available in this build yet: the CLVS intervention
/// lives in the `Interventions` target, which replaces this case.
public func makeEngine(method: EvalMethod, settings: MethodSettings, checkpoint: LoadedCheckpoint,
                       padToSquare: Bool = true, traceFigures: Bool = false) throws -> AnswerEngine {
    guard settings.method == method else {
        throw BenchmarkError.invalidOption(option: "--method", reason: "is \(method.rawValue) but the settings are for \(settings.method.rawValue)")
    }
    switch method {
    case .vanilla:
        return VanillaEngine(checkpoint: checkpoint, padToSquare: padToSquare, traceFigures: traceFigures)
    case .clvs:
        throw BenchmarkError.methodUnavailable("method clvs is not available in this build")
    }
}
