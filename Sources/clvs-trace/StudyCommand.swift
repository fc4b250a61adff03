import ArgumentParser
import Benchmarks
import Foundation
import Tracing

/// `clvs-trace study`: the paper's multi-trace studies (convergence, key-object attention).
struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Studies over many traces: convergence vs uncertainty (Fig. 4), key-object attention (Fig. 2, 6).",
        subcommands: [StudyConvergenceCommand.self, StudyKeyObjectsCommand.self, StudySweepCommand.self])
}

/// `clvs-trace study convergence`.
struct StudyConvergenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convergence",
        abstract: "Lens uncertainty U and convergence per trace and layer; point-biserial r, logistic fit, Figure 4.")

    @Option(name: .long, parsing: .upToNextOption, help: "Trace directories, or folders holding trace directories.")
    var traces: [String]

    @Option(help: "Generation step (0 = the first generated token).")
    var step: Int = 0

    @Flag(help: "Replace a non-empty output directory.")
    var force = false

    @Option(help: "Output directory: convergence.csv, convergence.json, figure4.png.")
    var out: String

    func validate() throws {
        if traces.isEmpty { throw ValidationError("--traces needs at least one directory") }
        if step < 0 { throw ValidationError("--step must be >= 0, found \(step)") }
    }

    func run() throws {
        do {
            let outURL = URL(fileURLWithPath: out)
            try TraceWriter.checkWritable(outURL, force: force)
            let dirs = try StudyTraces.discover(traces.map { URL(fileURLWithPath: $0) })
            let study = try ConvergenceStudy.compute(traces: dirs, step: step)
            try study.write(to: outURL, force: force)
            print(String(decoding: try study.json(), as: UTF8.self))
        } catch {
            failWith(error)
        }
    }
}

/// `clvs-trace study key-objects`.
struct StudyKeyObjectsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key-objects",
        abstract: "Key-object attention of paired vanilla/CLVS traces: peak layers, relative increase, Figures 6 and 2.")

    @Option(name: .long, parsing: .upToNextOption, help: "Vanilla trace directories (or folders of them).")
    var vanilla: [String]

    @Option(name: .long, parsing: .upToNextOption, help: "CLVS trace directories (or folders of them).")
    var clvs: [String]

    @Option(help: "COCO instances JSON.")
    var annotations: String

    @Option(help: "Key-object category for every trace (default: each trace's options.key_object).")
    var category: String?

    @Option(name: .customLong("image-id"), help: "COCO image id for every trace (default: options.image_id, else the digits of the image file name).")
    var imageID: Int?

    @Option(help: "Layer range A-B for the mean relative increase (default: the middle three layers).")
    var layers: String?

    @Option(help: "Generation step (0 = the first generated token).")
    var step: Int = 0

    @Flag(help: "Replace a non-empty output directory.")
    var force = false

    @Option(help: "Output directory: key_objects.csv/.json, figure6_peaks.png, figure6_relative_increase.png, figure2_mean.png.")
    var out: String

    func validate() throws {
        if vanilla.isEmpty || clvs.isEmpty { throw ValidationError("--vanilla and --clvs each need at least one directory") }
        if step < 0 { throw ValidationError("--step must be >= 0, found \(step)") }
    }

    func run() throws {
        do {
            let outURL = URL(fileURLWithPath: out)
            try TraceWriter.checkWritable(outURL, force: force)
            let v = try StudyTraces.discover(vanilla.map { URL(fileURLWithPath: $0) })
            let c = try StudyTraces.discover(clvs.map { URL(fileURLWithPath: $0) })
            let study = try KeyObjectStudy.compute(vanilla: v, clvs: c, annotations: URL(fileURLWithPath: annotations),
                                                   category: category, imageID: imageID, layers: layers, step: step)
            if !study.unpaired.isEmpty {
                FileHandle.standardError.write(Data("warning: skipped \(study.unpaired.count) unpaired trace(s): \(study.unpaired.joined(separator: ", "))\n".utf8))
            }
            try study.write(to: outURL, force: force)
            print(String(decoding: try study.json(), as: UTF8.self))
        } catch {
            failWith(error)
        }
    }
}

/// `clvs-trace study sweep`: a benchmark over a grid of gamma or lambda (Figures 7 and 8).
struct StudySweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a benchmark with CLVS over a grid of gamma or lambda (plus vanilla); sweep.csv/.json and Figure 7/8-style curves.",
        discussion: "Answers go to OUT/answers/answers_<param>_<value>.jsonl and OUT/answers/answers_vanilla.jsonl, resumable like `eval`.")

    @OptionGroup var data: BenchmarkDataOptions

    @Option(help: "Image folder the question files' image names are relative to.")
    var images: String

    @OptionGroup(title: "Model")
    var checkpoint: ModelOptions

    @Option(help: "gamma | lambda")
    var param: SweepParameter

    @Option(parsing: .upToNextOption, help: "Values of the parameter, each in [0, 1].")
    var values: [Double]

    @Option(help: "CLVS smoothing weight when gamma is swept (default 0.8).")
    var lambda: Double?

    @Option(help: "CLVS memory weight when lambda is swept (default 0.8).")
    var gamma: Double?

    @Option(help: "CLVS uncertainty threshold (default 0.5).")
    var delta: Double?

    @Flag(help: "Skip the vanilla baseline.")
    var noVanilla = false

    @Option(help: "Only the first N questions.")
    var limit: Int?

    @Option(help: "Maximum number of generated tokens per answer.")
    var maxNewTokens: Int = 16

    @Option(help: ArgumentHelp("Text appended to every question (default: the benchmark's, as `eval`)."))
    var promptSuffix: String?

    @Flag(help: "Do not pad images to a square.")
    var noPadToSquare = false

    @Option(help: "Output directory (created; answers in it are resumed).")
    var out: String

    func validate() throws {
        _ = try data.kind()
        if data.questions.isEmpty { throw ValidationError("give --questions") }
        if values.isEmpty { throw ValidationError("--values needs at least one value") }
        if let bad = values.first(where: { !($0 >= 0 && $0 <= 1) }) { throw ValidationError("--values must be in [0, 1], found \(bad)") }
        if param == .gamma && gamma != nil { throw ValidationError("--gamma is the swept parameter; give --values") }
        if param == .lambda && lambda != nil { throw ValidationError("--lambda is the swept parameter; give --values") }
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1, found \(maxNewTokens)") }
        if let limit, limit < 1 { throw ValidationError("--limit must be >= 1, found \(limit)") }
    }

    func run() throws {
        do {
            let questions = try data.load()
            let outURL = URL(fileURLWithPath: out)
            let answers = outURL.appendingPathComponent("answers")
            do { try FileManager.default.createDirectory(at: answers, withIntermediateDirectories: true) } catch {
                throw BenchmarkError.io(path: answers.path, reason: "cannot create the folder")
            }
            var plan: [(Double?, MethodSettings)] = noVanilla ? [] : [(nil, .vanilla)]
            for v in values {
                plan.append((v, try MethodSettings.make(method: .clvs, lambda: param == .lambda ? v : lambda,
                                                        gamma: param == .gamma ? v : gamma, delta: delta)))
            }
            let ckpt = try checkpoint.load()
            var runs: [SweepRun] = []
            for (k, (value, settings)) in plan.enumerated() {
                let config = EvalConfiguration(
                    imageDirectory: URL(fileURLWithPath: images),
                    output: SweepResult.answersFile(in: answers, parameter: param, value: value), settings: settings,
                    maxNewTokens: maxNewTokens, promptSuffix: promptSuffix.map(BenchmarkPrompts.unescape), limit: limit)
                let engine = try makeEngine(method: settings.method, settings: settings, checkpoint: ckpt, padToSquare: !noPadToSquare)
                let runner = EvalRunner(questions: questions, configuration: config, engine: engine)
                runner.onStart = { [unowned runner] done, total in
                    runner.progress = EvalProgress(total: total, resumed: done, label: "[\(k + 1)/\(plan.count)] \(settings.summary)")
                }
                let summary = try runner.run()
                var merged = try MergedRun.merge(files: [config.output], questions: questions, expected: summary.selected)
                let keys = Set(summary.selected.map(\.key))
                merged.records = merged.records.filter { keys.contains($0.key) }
                let report = try Scoring.score(merged, questions: questions, expected: summary.selected.count)
                runs.append(SweepRun(value: value, settings: settings, report: report))
            }
            let result = SweepResult(parameter: param, benchmark: questions.benchmark,
                                     vanilla: runs.first { $0.value == nil }, runs: runs.filter { $0.value != nil })
            var files: [(String, Data)] = [("sweep.csv", Data(result.csv().utf8)), ("sweep.json", try result.json())]
            for (name, fig) in try result.figures() { files.append((name, Data(try fig.pngData()))) }
            for (name, data) in files {
                let url = outURL.appendingPathComponent(name)
                do { try data.write(to: url, options: .atomic) } catch {
                    throw BenchmarkError.io(path: url.path, reason: "cannot write")
                }
            }
            print(result.csv(), terminator: "")
            FileHandle.standardError.write(Data("wrote \(files.map(\.0).joined(separator: ", ")) to \(out)\n".utf8))
        } catch {
            failWith(error)
        }
    }
}

extension SweepParameter: ExpressibleByArgument {}
