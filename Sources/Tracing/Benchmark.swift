import Foundation
import Imaging
import Interventions
import Models

/// Wall-clock timings of one prefill (vision tower + projector + prompt) and one cached decode step.
public struct BenchResult: Codable, Sendable {
    public var prefillSeconds: [Double]
    /// The vision tower + projector part of each prefill.
    public var visionSeconds: [Double]
    public var decodeSeconds: [Double]
    public var promptTokens: Int
    public var peakRSSGiB: Double
    public var loadSeconds: Double

    public var prefillMedian: Double { median(prefillSeconds) }
    public var visionMedian: Double { median(visionSeconds) }
    public var decodeMedian: Double { median(decodeSeconds) }
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Peak resident set size of this process in GiB (`getrusage`, Linux reports KiB).
public func peakRSSGiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / (1024 * 1024)
}

/// The preprocessed image and the prompt's token layout of a benchmark input.
func benchmarkInputs(_ ckpt: LoadedCheckpoint, imageFile: URL, prompt: PromptSpec) throws -> (PreprocessedImage, TokenLayout) {
    let pre = try CLIPImagePreprocessor(config: ckpt.preprocessorConfig)(try ImageIO.load(imageFile))
    let text: String
    switch prompt {
    case let .question(q): text = PromptTemplate.llava15.render(q)
    case let .raw(p): text = p
    }
    return (pre, try ckpt.model.layout(prompt: text, tokenizer: ckpt.tokenizer))
}

/// Times `repeats` prefills (each from an empty cache) and one decode step after each.
public func benchmarkPrefillDecode(_ ckpt: LoadedCheckpoint, imageFile: URL, prompt: PromptSpec,
                                   repeats: Int, warmup: Int = 1, loadSeconds: Double = 0) throws -> BenchResult {
    let model = ckpt.model
    let (pre, layout) = try benchmarkInputs(ckpt, imageFile: imageFile, prompt: prompt)
    let d = model.config.text.hiddenSize
    var prefill: [Double] = [], decode: [Double] = [], vision: [Double] = []
    for r in 0..<(warmup + max(1, repeats)) {
        let t0 = Date()
        let features = try model.imageFeatures(pixels: pre.pixelValues, width: pre.width, height: pre.height)
        let projected = model.project(features, rows: model.config.imageTokenCount)
        let tv = Date()
        let input = try model.inputEmbeddings(layout: layout, projected: projected)
        let cache = model.decoder.makeCache()
        cache.reserve(tokens: layout.inputIds.count + 1)
        let rows = layout.inputIds.count
        let hidden = try model.decoder.forward(input, rows: rows, cache: cache)
        let logits = model.decoder.logits(hiddenRow: Array(hidden[((rows - 1) * d)..<(rows * d)]))
        let t1 = Date()
        let next = try model.decoder.embed([argmax(logits)])
        let h2 = try model.decoder.forward(next, rows: 1, cache: cache)
        _ = model.decoder.logits(hiddenRow: h2)
        let t2 = Date()
        if r >= warmup {
            prefill.append(t1.timeIntervalSince(t0))
            decode.append(t2.timeIntervalSince(t1))
            vision.append(tv.timeIntervalSince(t0))
        }
        let tag = r < warmup ? " (warm-up)" : ""
        let line = "run \(r + 1)/\(warmup + max(1, repeats)): " +
            String(format: "prefill %.3fs (vision %.3fs) decode %.3fs", t1.timeIntervalSince(t0), tv.timeIntervalSince(t0), t2.timeIntervalSince(t1)) + tag + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
    return BenchResult(prefillSeconds: prefill, visionSeconds: vision, decodeSeconds: decode, promptTokens: layout.inputIds.count,
                       peakRSSGiB: peakRSSGiB(), loadSeconds: loadSeconds)
}

/// Wall-clock cost of CLVS plus the default trace against vanilla without any hook, on the same
/// input: each repeat runs prefill + `newTokens - 1` decode steps once vanilla (`generate` with no
/// hooks or observers) and once with `traceOnePair(method: .clvs)` and the default `TraceOptions`
/// (image rows pre/post, masses, CLVS memory, logit lens) followed by `assembleTrace` and the
/// serialisation of `trace.safetensors` + `trace.json` in memory (no figures, no disk write). The two alternate so both see the
/// same machine state (the order flips every repeat).
public struct TraceOverheadResult: Codable, Sendable {
    public var vanillaSeconds: [Double]
    public var tracedSeconds: [Double]
    /// Bytes of `trace.safetensors` + `trace.json` of the last traced run.
    public var traceBytes: Int
    public var newTokens: Int
    public var vanillaMedian: Double { median(vanillaSeconds) }
    public var tracedMedian: Double { median(tracedSeconds) }
    /// traced / vanilla - 1 (medians).
    public var overhead: Double { tracedMedian / vanillaMedian - 1 }
    /// Median over repeats of traced / vanilla - 1 within each repeat (robust to drifts of the
    /// machine's speed between repeats).
    public var pairedOverhead: Double { median(zip(tracedSeconds, vanillaSeconds).map { $0 / $1 - 1 }) }
}

public func benchmarkTraceOverhead(_ ckpt: LoadedCheckpoint, imageFile: URL, prompt: PromptSpec, clvs: CLVSConfig,
                                   newTokens: Int = 2, repeats: Int, warmup: Int = 1) throws -> TraceOverheadResult {
    guard newTokens >= 1 else { throw ModelError.invalidInput("new tokens must be at least 1, found \(newTokens)") }
    let model = ckpt.model
    let (pre, layout) = try benchmarkInputs(ckpt, imageFile: imageFile, prompt: prompt)
    // EOS off in both so that they decode the same number of tokens.
    let genOptions = GenerationOptions(maxNewTokens: newTokens, stopAtEOS: false, eosTokenIds: [])
    var vanilla: [Double] = [], traced: [Double] = []
    var bytes = 0
    for r in 0..<(warmup + max(1, repeats)) {
        // Alternate which of the two runs first, so that neither always inherits the other's
        // memory and cache state.
        var plainTime = 0.0, tracedTime = 0.0
        var plainCount = 0, tracedCount = 0
        for part in (r % 2 == 0 ? [0, 1] : [1, 0]) {
            let t0 = Date()
            if part == 0 {
                let plain = try model.generate(layout: layout, pixels: pre.pixelValues, width: pre.width, height: pre.height,
                                               options: genOptions)
                plainTime = Date().timeIntervalSince(t0)
                plainCount = plain.generatedIds.count
            } else {
                let outcome = try traceOnePair(ckpt, imageFile: imageFile, prompt: prompt, maxNewTokens: newTokens,
                                               method: .clvs(clvs), stopAtEOS: false)
                let (w, manifest) = try assembleTrace(outcome, checkpoint: ckpt, imageFile: imageFile, prompt: prompt,
                                                      options: [:], padToSquare: false)
                let files = try w.files(manifest: manifest)
                tracedTime = Date().timeIntervalSince(t0)
                tracedCount = outcome.result.generatedIds.count
                bytes = files.reduce(0) { $0 + $1.1.count }
            }
        }
        guard tracedCount == plainCount else {
            throw ModelError.invalidInput("trace overhead: the traced run decoded \(tracedCount) tokens, vanilla \(plainCount)")
        }
        if r >= warmup {
            vanilla.append(plainTime)
            traced.append(tracedTime)
        }
        let tag = r < warmup ? " (warm-up)" : ""
        FileHandle.standardError.write(Data((String(format: "run %d/%d: vanilla %.3fs, clvs + trace %.3fs",
                                                    r + 1, warmup + max(1, repeats), plainTime, tracedTime) + tag + "\n").utf8))
    }
    return TraceOverheadResult(vanillaSeconds: vanilla, tracedSeconds: traced, traceBytes: bytes, newTokens: newTokens)
}
