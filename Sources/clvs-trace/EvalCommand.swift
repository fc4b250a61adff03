import ArgumentParser
import Benchmarks
import Foundation
import Models
import Tracing

/// `clvs-trace eval`: run a model on a benchmark, resumable, shardable; print the scores.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Answer a benchmark's questions (greedy), appending one JSONL line per answer; resumable and shardable; prints the scores.")

    @OptionGroup var data: BenchmarkDataOptions

    @Option(help: "Image folder the question files' image names are relative to (COCO val2014, AMBER, MME release, ...).")
    var images: String

    @OptionGroup(title: "Model")
    var checkpoint: ModelOptions

    @Option(help: "vanilla | clvs")
    var method: String = "vanilla"

    @Option(help: "CLVS smoothing weight (default 0.8).")
    var lambda: Double?

    @Option(help: "CLVS memory weight (default 0.8).")
    var gamma: Double?

    @Option(help: "CLVS uncertainty threshold (default 0.5; <= 0 disables early termination).")
    var delta: Double?

    @Option(help: "Answers file (JSONL). An existing file is resumed: answered questions are skipped.")
    var out: String

    @Option(help: "Run shard K of N (0-based K): the questions at positions p with p % N == K.")
    var shard: String?

    @Option(help: "Only the first N questions (of the shard).")
    var limit: Int?

    @Option(help: "Keep a trace folder per question here (<trace-dir>/<key with / and # as _>).")
    var traceDir: String?

    @Flag(help: "Also render the standard figures into each trace folder.")
    var traceFigures = false

    @Option(help: "Maximum number of generated tokens per answer (LLaVA's evaluation default: 128).")
    var maxNewTokens: Int = 128

    @Option(help: ArgumentHelp("Text appended to every question (\\n and \\t are unescaped). Default: POPE and MME \"\\nAnswer the question using a single word or phrase.\", AMBER and R-Bench none."))
    var promptSuffix: String?

    @Flag(help: "Do not pad images to a square (LLaVA-1.5's evaluation pads with the mean colour).")
    var noPadToSquare = false

    @Option(help: "Scores printed at the end: official | clvs-paper | both.")
    var scorer: String = "official"

    func validate() throws {
        _ = try data.kind()
        if data.questions.isEmpty { throw ValidationError("give --questions") }
        if EvalMethod(rawValue: method) == nil { throw ValidationError("--method must be vanilla or clvs, found '\(method)'") }
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1, found \(maxNewTokens)") }
        if let limit, limit < 0 { throw ValidationError("--limit must be >= 0, found \(limit)") }
        if ScorerChoice(rawValue: scorer) == nil { throw ValidationError("--scorer must be official, clvs-paper or both, found '\(scorer)'") }
        if out.isEmpty { throw ValidationError("--out must name a file") }
    }

    func run() throws {
        do {
            let m = EvalMethod(rawValue: method) ?? .vanilla
            let settings = try MethodSettings.make(method: m, lambda: lambda, gamma: gamma, delta: delta)
            let questions = try data.load()
            let config = EvalConfiguration(
                imageDirectory: URL(fileURLWithPath: images), output: URL(fileURLWithPath: out), settings: settings,
                maxNewTokens: maxNewTokens, promptSuffix: promptSuffix.map(BenchmarkPrompts.unescape),
                shard: try shard.map { try Shard(parsing: $0) }, limit: limit, traceDirectory: traceDir.map { URL(fileURLWithPath: $0) })
            // Check the images before loading the model.
            let probe = EvalRunner(questions: questions, configuration: config, engine: NoEngine())
            _ = try EvalRunner.resolveImages(try probe.selection(), directory: config.imageDirectory, benchmark: questions.benchmark)

            let ckpt = try checkpoint.load()
            let engine = try makeEngine(method: m, settings: settings, checkpoint: ckpt, padToSquare: !noPadToSquare, traceFigures: traceFigures)
            let runner = EvalRunner(questions: questions, configuration: config, engine: engine)
            runner.onStart = { [unowned runner] done, total in
                FileHandle.standardError.write(Data("\(questions.benchmark.rawValue): \(total) questions selected, \(done) already answered in \(out)\n".utf8))
                runner.progress = EvalProgress(total: total, resumed: done, label: "\(questions.benchmark.rawValue) \(settings.summary)")
            }
            let summary = try runner.run()
            if summary.truncatedBytes > 0 {
                FileHandle.standardError.write(Data("resumed: removed a partial last line (\(summary.truncatedBytes) bytes) left by an interrupted run\n".utf8))
            }
            var merged = try MergedRun.merge(files: [config.output], questions: questions, expected: summary.selected)
            let selectedKeys = Set(summary.selected.map(\.key))
            merged.records = merged.records.filter { selectedKeys.contains($0.key) }
            let report = try Scoring.score(merged, questions: questions, expected: summary.selected.count,
                                           scorer: ScorerChoice(rawValue: scorer) ?? .official)
            print(report.render())
        } catch {
            failWith(error)
        }
    }
}

/// Placeholder engine for checking a selection before the model is loaded.
private struct NoEngine: AnswerEngine {
    func answer(image: URL, prompt: PromptSpec, maxNewTokens: Int, traceDirectory: URL?) throws -> String {
        throw BenchmarkError.invalidOption(option: "--model", reason: "no model is loaded while the selection is checked")
    }
}
