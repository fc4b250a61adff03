import Foundation
import Imaging
import Models
import Tokenizers

/// What to ask: a question in the model's template, or a whole prompt with one `<image>`.
public enum PromptSpec: Sendable {
    case question(String)
    case raw(String)
}

/// A checkpoint folder loaded for tracing: model, tokenizer, image preprocessor, EOS ids.
public struct LoadedCheckpoint {
    public let model: LlavaModel
    public let tokenizer: Tokenizer
    public let preprocessorConfig: CLIPPreprocessorConfig
    public let eosTokenIds: Set<Int>

    /// Loads `directory` (config.json, safetensors, preprocessor_config.json, generation_config.json
    /// if present) and the tokenizer from `tokenizerDirectory` (default: the same folder).
    public init(directory: URL, tokenizerDirectory: URL? = nil) throws {
        model = try LlavaModel(directory: directory)
        tokenizer = try Tokenizer.load(directory: tokenizerDirectory ?? directory)
        preprocessorConfig = try CLIPPreprocessorConfig.load(url: directory.appendingPathComponent("preprocessor_config.json"))
        var eos = Set(model.config.text.eosTokenIds)
        let gen = directory.appendingPathComponent("generation_config.json")
        if FileManager.default.fileExists(atPath: gen.path) {
            let j = try JSONObject.load(gen)
            if let ids = try j.intList("eos_token_id") { eos = Set(ids) }
        }
        if eos.isEmpty, let e = tokenizer.eosTokenId { eos = [e] }
        eosTokenIds = eos
    }
}

/// The outcome of tracing one image-question pair.
public struct TraceOutcome {
    public let result: GenerationResult
    public let answer: String
    public let promptText: String
    public let geometry: ImageGeometry
    public let recorder: TraceRecorder
    /// The decoded original image.
    public let image: RGBImage
}

/// Runs one image-question pair with greedy decoding and records the trace.
public func traceOnePair(_ ckpt: LoadedCheckpoint, imageFile: URL, prompt: PromptSpec, maxNewTokens: Int,
                         padToSquare: Bool = false, observer: GenerationObserver? = nil) throws -> TraceOutcome {
    guard maxNewTokens >= 1 else {
        throw ModelError.invalidInput("--max-new-tokens must be at least 1, found \(maxNewTokens)")
    }
    let image = try ImageIO.load(imageFile)
    let pre = try CLIPImagePreprocessor(config: ckpt.preprocessorConfig, padToSquare: padToSquare)(image)
    let text: String
    switch prompt {
    case let .question(q): text = PromptTemplate.llava15.render(q)
    case let .raw(p): text = PromptTemplate.raw.render(p)
    }
    let layout = try ckpt.model.layout(prompt: text, tokenizer: ckpt.tokenizer)
    let tc = ckpt.model.config.text
    let recorder = TraceRecorder(layers: tc.numHiddenLayers, heads: tc.numAttentionHeads)
    final class Fanout: GenerationObserver {
        let observers: [GenerationObserver]
        init(_ o: [GenerationObserver]) { observers = o }
        func willRunStep(_ step: Int, queryRows: Int) { for o in observers { o.willRunStep(step, queryRows: queryRows) } }
        func didFinishStep(_ step: GenerationStep) { for o in observers { o.didFinishStep(step) } }
    }
    let fan = Fanout([recorder] + (observer.map { [$0] } ?? []))
    let result = try ckpt.model.generate(
        layout: layout, pixels: pre.pixelValues, width: pre.width, height: pre.height,
        options: GenerationOptions(maxNewTokens: maxNewTokens, eosTokenIds: ckpt.eosTokenIds),
        hooks: [recorder], observer: fan)
    let answer = ckpt.tokenizer.decode(result.generatedIds, skipSpecialTokens: true)
    return TraceOutcome(result: result, answer: answer, promptText: text, geometry: pre.geometry, recorder: recorder,
                        image: image)
}

/// Builds the trace tensors and manifest for an outcome and writes them to `directory`, with the
/// standard figures unless `figures` is false (all in one atomic rename).
/// Returns the names of the files written.
@discardableResult
public func writeTrace(_ outcome: TraceOutcome, checkpoint ckpt: LoadedCheckpoint, imageFile: URL,
                       prompt: PromptSpec, options: [String: String], padToSquare: Bool, figures: Bool = true,
                       to directory: URL) throws -> [String] {
    var w = TraceWriter()
    let layout = outcome.result.layout
    try w.add(.inputIds, shape: [layout.inputIds.count], ints: layout.inputIds)
    try w.add(.generatedIds, shape: [outcome.result.steps.count], ints: outcome.result.generatedIds)
    let cfg = ckpt.model.config
    for (s, step) in outcome.result.steps.enumerated() {
        try w.add(.stepLogits(step: s), shape: [step.logits.count], floats: step.logits)
        let keys = outcome.recorder.keyCounts[s]
        try w.add(.stepAttention(step: s), shape: [cfg.text.numHiddenLayers, cfg.text.numAttentionHeads, keys],
                  floats: outcome.recorder.attention[s])
    }
    let question: String?
    let template: String
    switch prompt {
    case let .question(q): question = q; template = "llava15"
    case .raw: question = nil; template = "raw"
    }
    let manifest = TraceManifest(
        model: .init(directory: ckpt.model.directory.path, modelType: "llava", weightLayout: ckpt.model.weightLayout.rawValue,
                     textLayers: cfg.text.numHiddenLayers, textHeads: cfg.text.numAttentionHeads,
                     textKeyValueHeads: cfg.text.numKeyValueHeads, vocabSize: cfg.text.vocabSize,
                     visionLayers: cfg.vision.numHiddenLayers, imageSize: cfg.vision.imageSize, patchSize: cfg.vision.patchSize),
        prompt: .init(template: template, question: question, text: outcome.promptText),
        image: .init(file: imageFile.path, padToSquare: padToSquare, geometry: outcome.geometry),
        inputLength: layout.inputIds.count, imageSpan: layout.image, options: options,
        answer: outcome.answer, generatedIds: outcome.result.generatedIds, keys: [])
    var extra: [(String, Data)] = []
    if figures {
        let view = TraceView(manifest: manifest, attention: outcome.recorder.attention, keyCounts: outcome.recorder.keyCounts)
        extra = try standardFigures(view, image: outcome.image)
    }
    try w.write(to: directory, manifest: manifest, extra: extra)
    return ["trace.safetensors", "trace.json"] + extra.map(\.0)
}
