import ArgumentParser
import Foundation
import Models
import Tracing

/// `clvs-trace bench`: time one prefill and one cached decode step (compare with
/// `Tests/Benchmarks/bench_hf.py` on the same checkpoint and input).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time prefill (vision tower + projector + prompt) and one cached decode step; print JSON.")

    @OptionGroup(title: "Model")
    var checkpoint: ModelOptions
    @Option(help: "Image file (default: the embedded sample image).")
    var image: String?
    @Option(help: "Question in the LLaVA-1.5 template.")
    var question: String = "Is there a dog in the image?"
    @Option(help: "Timed repetitions (median reported).")
    var repeats: Int = 3
    @Option(help: "Untimed warm-up runs.")
    var warmup: Int = 1
    @Flag(help: "Instead: time prefill + one decode step vanilla without hooks against CLVS with the default trace (assembled and serialised in memory), alternating, and report the overhead.")
    var traceOverhead = false
    @OptionGroup(title: "CLVS (with --trace-overhead)")
    var clvs: CLVSOptions

    func validate() throws {
        if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup must be >= 0") }
    }

    func run() throws {
        do {
            let imageURL = try image.map { URL(fileURLWithPath: $0) } ?? EmbeddedResources.defaultImage
            let t0 = Date()
            let ckpt = try checkpoint.load()
            let load = Date().timeIntervalSince(t0)
            if traceOverhead {
                let r = try benchmarkTraceOverhead(ckpt, imageFile: imageURL, prompt: .question(question),
                                                   clvs: clvs.config, repeats: repeats, warmup: warmup)
                let json: [String: Any] = [
                    "impl": "clvs-trace (Swift)", "precision": checkpoint.precision.rawValue,
                    "vanilla_s": r.vanillaMedian, "clvs_trace_s": r.tracedMedian, "overhead": r.overhead, "paired_overhead": r.pairedOverhead,
                    "vanilla_runs": r.vanillaSeconds, "clvs_trace_runs": r.tracedSeconds,
                    "new_tokens": r.newTokens, "trace_bytes": r.traceBytes, "peak_rss_gib": peakRSSGiB(),
                ]
                let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            let r = try benchmarkPrefillDecode(ckpt, imageFile: imageURL, prompt: .question(question),
                                               repeats: repeats, warmup: warmup, loadSeconds: load)
            let json: [String: Any] = [
                "impl": "clvs-trace (Swift)", "precision": checkpoint.precision.rawValue,
                "prefill_s": r.prefillMedian, "decode_s": r.decodeMedian, "vision_s": r.visionMedian,
                "vision_runs": r.visionSeconds,
                "prefill_runs": r.prefillSeconds, "decode_runs": r.decodeSeconds,
                "prompt_tokens": r.promptTokens, "peak_rss_gib": r.peakRSSGiB,
                "load_s": r.loadSeconds, "threads": ProcessInfo.processInfo.activeProcessorCount,
            ]
            let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } catch {
            failWith(error)
        }
    }
}
