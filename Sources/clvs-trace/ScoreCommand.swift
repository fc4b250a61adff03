import ArgumentParser
import Benchmarks
import Foundation

/// Options naming a benchmark's question files (shared by `eval` and `score`).
struct BenchmarkDataOptions: ParsableArguments {
    @Option(help: "pope | amber | rbench | mme")
    var benchmark: String

    @Option(help: ArgumentHelp("Question file or folder (repeatable). POPE: coco_pope_<split>.json file(s) or their folder, or LLaVA's llava_pope_test.jsonl; AMBER: query_discriminative*.json; R-Bench: image-level_filterd.json; MME: folder of <subtask>.txt (or one), or llava_mme.jsonl."))
    var questions: [String] = []

    @Option(help: ArgumentHelp("Ground truth kept apart from the questions: AMBER annotations.json; for LLaVA's question files the folder of coco_pope_<split>.json (POPE) or of MME <subtask>.txt (MME)."))
    var annotations: String?

    @Option(name: .customLong("subset-ids"), help: ArgumentHelp("R-Bench subset id file(s), e.g. nocaps_image-level_rel_ids_1.json (repeatable; a path containing 'holder' means the files 1..5, as eval.py)."))
    var subsetIDs: [String] = []

    @Option(help: "Comma-separated splits / AMBER dimensions (existence, attribute, relation) / MME subtasks to keep.")
    var categories: String?

    func kind() throws -> BenchmarkKind {
        guard let k = BenchmarkKind(rawValue: benchmark) else {
            throw ValidationError("--benchmark must be one of \(BenchmarkKind.allCases.map(\.rawValue).joined(separator: ", ")), found '\(benchmark)'")
        }
        return k
    }

    func load() throws -> QuestionSet {
        try BenchmarkData.load(benchmark: try kind(), questions: questions.map { URL(fileURLWithPath: $0) },
                               annotations: annotations.map { URL(fileURLWithPath: $0) },
                               subsetFiles: RBenchData.subsetFiles(subsetIDs),
                               categories: categories.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } })
    }
}

/// `clvs-trace score`: scores answers files (runner shards merged, or a benchmark's own format).
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score answers with the official scorer (and optionally the CLVS paper's): runner JSONL shards are merged (duplicates rejected, gaps reported).")

    @OptionGroup var data: BenchmarkDataOptions

    @Option(help: "Answers file (repeatable: shards are merged) or, for MME official results, the results folder.")
    var answers: [String] = []

    @Option(help: "auto | runner | official | clvs-paper")
    var format: String = "auto"

    @Option(help: "official | clvs-paper | both (the CLVS paper's eval.py applies to POPE and R-Bench)")
    var scorer: String = "official"

    @Option(help: "Write the merged runner answers (question order) to this JSONL file.")
    var mergedOut: String?

    @Option(help: ArgumentHelp("Also write the merged runner answers in the benchmark's own answer format here (POPE: LLaVA answers JSONL or a folder of <split>.jsonl; AMBER: JSON; R-Bench: JSONL; MME: a results folder), for the official scripts."))
    var export: String?

    @Flag(help: "Print the scores as JSON instead of a table.")
    var json = false

    @Flag(help: "Exit with status 2 when questions have no answer.")
    var requireComplete = false

    func validate() throws {
        if answers.isEmpty { throw ValidationError("give at least one --answers file") }
        if AnswerFormat(rawValue: format) == nil { throw ValidationError("--format must be auto, runner, official or clvs-paper, found '\(format)'") }
        if ScorerChoice(rawValue: scorer) == nil { throw ValidationError("--scorer must be official, clvs-paper or both, found '\(scorer)'") }
        _ = try data.kind()
    }

    func run() throws {
        do {
            let kind = try data.kind()
            let urls = answers.map { URL(fileURLWithPath: $0) }
            for u in urls where !FileManager.default.fileExists(atPath: u.path) {
                throw BenchmarkError.io(path: u.path, reason: "does not exist")
            }
            let requested = AnswerFormat(rawValue: format) ?? .auto
            let formats = Set(urls.map { requested == .auto ? OfficialAnswers.detect($0) : requested })
            guard formats.count == 1, let fmt = formats.first else {
                throw BenchmarkError.invalidOption(option: "--answers", reason: "the files are in different formats; score them separately")
            }
            let questions = data.questions.isEmpty ? nil : try data.load()
            if fmt != .runner && (mergedOut != nil || export != nil) {
                throw BenchmarkError.invalidOption(option: mergedOut != nil ? "--merged-out" : "--export", reason: "applies to runner answers")
            }
            if fmt == .official && scorer != ScorerChoice.official.rawValue {
                throw BenchmarkError.invalidOption(option: "--scorer", reason: "applies to runner answers; official answer files are scored with the official scorer")
            }
            let report: ScoreReport
            switch fmt {
            case .runner, .auto:
                guard let questions else { throw BenchmarkError.invalidOption(option: "--questions", reason: "runner answers are scored against their question files") }
                let merged = try MergedRun.merge(files: urls, questions: questions)
                if let mergedOut { try RunFile.write(merged.records, to: URL(fileURLWithPath: mergedOut)) }
                if let export { try OfficialExport.write(merged.records, questions: questions, to: URL(fileURLWithPath: export)) }
                report = try Scoring.score(merged, questions: questions, scorer: ScorerChoice(rawValue: scorer) ?? .official)
            case .official:
                guard urls.count == 1, let url = urls.first else {
                    throw BenchmarkError.invalidOption(option: "--answers", reason: "official answer files are scored one at a time")
                }
                report = try Scoring.scoreOfficial(answers: url, questions: questions, benchmark: kind)
            case .clvsPaper:
                guard urls.count == 1, let url = urls.first else {
                    throw BenchmarkError.invalidOption(option: "--answers", reason: "CLVS paper answer files are scored one at a time")
                }
                report = try Scoring.scoreCLVSPaper(answers: url, benchmark: kind)
            }
            if json {
                let enc = JSONEncoder()
                enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try enc.encode(report), as: UTF8.self))
            } else {
                print(report.render())
            }
            if requireComplete && !report.isComplete { Foundation.exit(2) }
        } catch {
            failWith(error)
        }
    }
}
