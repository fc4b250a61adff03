import Foundation
import Imaging
import Interventions
import Models
import Tokenizers

/// What to ask: a question in the model's template, or a whole prompt with one `<image>`.
public enum PromptSpec: Sendable {
    case question(String)
    case raw(String)
}

/// The attention method of a run.
public enum Method: Sendable {
    case vanilla
    case clvs(CLVSConfig)

    public var name: String {
        switch self {
        case .vanilla: return "vanilla"
        case .clvs: return "clvs"
        }
    }
}

/// Which optional tensors a trace records (the default set stays a few MB per token on a 7B model).
public struct TraceOptions: Sendable, Codable, Equatable {
    /// `steps.{s}.attention`: the full generating row over all keys.
    public var fullRows = true
    /// The logit lens keys (`steps.{s}.lens.*`).
    public var lens = true
    /// k of `steps.{s}.lens.top_ids` / `top_probs`.
    public var lensTopK = 5
    /// `prefill.attention`: every query row of the prefill ([L, H, T, T]; large).
    public var prefillRows = false
    /// `vision.attention.{l}`: the vision tower's attention matrices.
    public var visionAttention = false

    public init() {}
}

/// A checkpoint folder loaded for tracing: model, tokenizer, image preprocessor, EOS ids.
public struct LoadedCheckpoint {
    public let model: LlavaModel
    public let tokenizer: Tokenizer
    public let preprocessorConfig: CLIPPreprocessorConfig
    public let eosTokenIds: Set<Int>

    /// Loads `directory` (config.json, safetensors, preprocessor_config.json, generation_config.json
    /// if present) and the tokenizer from `tokenizerDirectory` (default: the same folder).
    public init(directory: URL, tokenizerDirectory: URL? = nil, precision: Precision = .fp32) throws {
        model = try LlavaModel(directory: directory, precision: precision)
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
    /// The decoded original image.
    public let image: RGBImage
    public let method: Method
    public let options: TraceOptions
    /// The generating rows as applied (after any intervention).
    public let recorder: TraceRecorder
    /// The generating rows before the intervention (nil for vanilla).
    public let preRecorder: TraceRecorder?
    public let clvs: CLVSIntervention?
    public let lens: LogitLensRecorder?
    let prefill: FullAttentionRecorder?
    let vision: FullAttentionRecorder?
}

final class Fanout: GenerationObserver {
    let observers: [GenerationObserver]
    init(_ o: [GenerationObserver]) { observers = o }
    func willRunStep(_ step: Int, queryRows: Int) { for o in observers { o.willRunStep(step, queryRows: queryRows) } }
    func didFinishStep(_ step: GenerationStep) { for o in observers { o.didFinishStep(step) } }
}

/// Runs one image-question pair with greedy decoding, the given method, and records the trace.
public func traceOnePair(_ ckpt: LoadedCheckpoint, imageFile: URL, prompt: PromptSpec, maxNewTokens: Int,
                         padToSquare: Bool = false, method: Method = .vanilla, options: TraceOptions = TraceOptions(),
                         observer: GenerationObserver? = nil, stopAtEOS: Bool = true) throws -> TraceOutcome {
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
    let model = ckpt.model
    let layout = try model.layout(prompt: text, tokenizer: ckpt.tokenizer)
    let tc = model.config.text
    let post = TraceRecorder(layers: tc.numHiddenLayers, heads: tc.numAttentionHeads)
    var hooks: [AttentionHook] = []
    var decoderObservers: [DecoderObserver] = []
    var observers: [GenerationObserver] = [post]
    var preRecorder: TraceRecorder?
    var clvs: CLVSIntervention?
    if case let .clvs(config) = method {
        let r = TraceRecorder(layers: tc.numHiddenLayers, heads: tc.numAttentionHeads)
        let c = try CLVSIntervention(config: config, model: model, layout: layout)
        hooks += [r, c]
        decoderObservers.append(c)
        observers.append(r)
        preRecorder = r
        clvs = c
    }
    hooks.append(post)
    var lens: LogitLensRecorder?
    if options.lens {
        let l = LogitLensRecorder(decoder: model.decoder, topK: options.lensTopK)
        decoderObservers.append(l)
        observers.append(l)
        lens = l
    }
    let prefill = options.prefillRows ? FullAttentionRecorder(tower: .text) : nil
    let vision = options.visionAttention ? FullAttentionRecorder(tower: .vision) : nil
    hooks += [prefill, vision].compactMap { $0 }
    if let observer {
        observers.append(observer)
        if let d = observer as? DecoderObserver { decoderObservers.append(d) }
        if let p = observer as? StepProgress { p.setLayers(tc.numHiddenLayers) }
    }
    let result = try model.generate(
        layout: layout, pixels: pre.pixelValues, width: pre.width, height: pre.height,
        options: GenerationOptions(maxNewTokens: maxNewTokens, stopAtEOS: stopAtEOS, eosTokenIds: ckpt.eosTokenIds),
        hooks: hooks, decoderObservers: decoderObservers, observer: Fanout(observers))
    let answer = ckpt.tokenizer.decode(result.generatedIds, skipSpecialTokens: true)
    return TraceOutcome(result: result, answer: answer, promptText: text, geometry: pre.geometry, image: image,
                        method: method, options: options, recorder: post, preRecorder: preRecorder, clvs: clvs,
                        lens: lens, prefill: prefill, vision: vision)
}
