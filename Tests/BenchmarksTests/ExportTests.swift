import Foundation
import Tracing
import XCTest
@testable import Benchmarks

/// An engine answering from a table keyed by "<image path under the image folder>\t<user text>".
final class KeyedEngine: AnswerEngine {
    let root: String
    let table: [String: String]
    init(root: URL, table: [String: String]) {
        self.root = root.standardizedFileURL.path + "/"
        self.table = table
    }

    struct Unknown: Error { let key: String }

    func answer(image: URL, prompt: PromptSpec, maxNewTokens: Int, traceDirectory: URL?) throws -> String {
        guard case let .question(text) = prompt else { throw Unknown(key: "raw prompt") }
        let rel = image.standardizedFileURL.path.replacingOccurrences(of: root, with: "")
        guard let a = table["\(rel)\t\(text)"] else { throw Unknown(key: "\(rel)\t\(text)") }
        return a
    }
}

/// Runner answers scored by this project equal the official scorer on the same answers written in
/// the benchmark's own format (round trip through `OfficialExport`).
final class ExportTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("bench-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let tmp { try? FileManager.default.removeItem(at: tmp) }
    }

    /// Runs `questions` with answers from `table` (empty image files stand in for the images).
    func runAll(_ questions: QuestionSet, _ table: [String: String], suffix: String? = nil) throws -> MergedRun {
        let images = tmp.appendingPathComponent("images")
        for q in questions.questions {
            let u = images.appendingPathComponent(q.image)
            try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: u.path) { try Data().write(to: u) }
        }
        let out = tmp.appendingPathComponent("\(questions.benchmark.rawValue).jsonl")
        var cfg = EvalConfiguration(imageDirectory: images, output: out, maxNewTokens: 1, promptSuffix: suffix)
        cfg.syncEachAnswer = false // the durability is tested elsewhere; 280 fsyncs only cost time here
        try EvalRunner(questions: questions, configuration: cfg, engine: KeyedEngine(root: images, table: table)).run()
        return try MergedRun.merge(files: [out], questions: questions)
    }

    func testMMERunnerPathReproducesLaVINAndTheExportScoresTheSame() throws {
        let qs = try BenchmarkData.load(benchmark: .mme, questions: [Fixture.url("mme/questions")], annotations: nil,
                                        categories: MMEData.clvsPaperSubtasks)
        var table: [String: String] = [:]
        for sub in MMEData.clvsPaperSubtasks {
            for l in try MMEData.readLines(Fixture.url("mme/reference_results_LaVIN/\(sub).txt"), requireResponse: true) {
                table["\(sub)/\(l.image)\t\(MMEData.llavaQuestionText(l.question) + llavaShortAnswerSuffix)"] = l.response
            }
        }
        let run = try runAll(qs, table)
        XCTAssertTrue(run.missing.isEmpty)
        let mine = try XCTUnwrap(try Scoring.score(run, questions: qs).mme)
        let lavin = try MMECalculationPy.scoreResultsFolder(Fixture.url("mme/reference_results_LaVIN"), subtasks: MMEData.clvsPaperSubtasks)
        XCTAssertEqual(mine.subtasks.map(\.score), lavin.subtasks.map(\.score))
        XCTAssertEqual(Py.fixed(mine.perception, 2), "519.17") // 185.00 + 88.33 + 63.33 + 75.00 + 107.50

        let folder = tmp.appendingPathComponent("mme_results")
        XCTAssertEqual(try OfficialExport.write(run.records, questions: qs, to: folder).count, 5)
        let official = try XCTUnwrap(try Scoring.scoreOfficial(answers: folder, questions: qs, benchmark: .mme).mme)
        XCTAssertEqual(official, mine)
    }

    func testPOPEAMBERAndRBenchExportsScoreTheSame() throws {
        // POPE from LLaVA's question file, LLaVA's answers format.
        let pope = try BenchmarkData.load(benchmark: .pope, questions: [Fixture.url("pope/llava_pope_test_subset.jsonl")],
                                          annotations: Fixture.url("pope/pinned"))
        let texts = ["Yes", "No", "No.", "Not sure", "There is no cat", "", "NO", "no"]
        var table: [String: String] = [:]
        for (i, q) in pope.questions.enumerated() { table["\(q.image)\t\(q.text + llavaShortAnswerSuffix)"] = texts[i % texts.count] }
        let popeRun = try runAll(pope, table)
        let popeFile = tmp.appendingPathComponent("pope_answers.jsonl")
        try OfficialExport.write(popeRun.records, questions: pope, to: popeFile)
        let a = try Scoring.score(popeRun, questions: pope).pope
        let b = try Scoring.scoreOfficial(answers: popeFile, questions: pope, benchmark: .pope).pope
        XCTAssertEqual(a, b)
        XCTAssertEqual(a?.count, 3)

        // AMBER: the responses of the fixture, through the runner's normalisation.
        let amber = try BenchmarkData.load(benchmark: .amber, questions: [Fixture.url("amber/query_subset.json")],
                                           annotations: Fixture.url("amber/annotations_subset.json"))
        let responses = try OfficialAnswers.amber(Fixture.url("amber/responses.json"))
        let byID = Dictionary(uniqueKeysWithValues: responses.map { ($0.id, $0.response) })
        table = [:]
        for q in amber.questions { if case let .int(id) = q.questionID { table["\(q.image)\t\(q.text)"] = byID[id] } }
        let amberRun = try runAll(amber, table)
        let amberFile = tmp.appendingPathComponent("amber.json")
        try OfficialExport.write(amberRun.records, questions: amber, to: amberFile)
        XCTAssertEqual(try Scoring.score(amberRun, questions: amber).amber,
                       try Scoring.scoreOfficial(answers: amberFile, questions: amber, benchmark: .amber).amber)
        // The exported responses are the normalised ones: "yes" -> "Yes", "No." -> "No", " No" -> "No".
        let exported = try OfficialAnswers.amber(amberFile).map(\.response)
        XCTAssertEqual(Set(exported), ["Yes", "No", ""])

        // R-Bench with the five subsets.
        let rb = try BenchmarkData.load(benchmark: .rbench, questions: [Fixture.url("rbench/image-level_filterd.json")], annotations: nil,
                                        subsetFiles: RBenchData.subsetFiles([Fixture.url("rbench/nocaps_image-level_rel_ids_holder.json").path]))
        table = [:]
        for (i, q) in rb.questions.enumerated() { table["\(q.image)\t\(q.text)"] = texts[(i * 3) % texts.count] }
        let rbRun = try runAll(rb, table)
        let rbFile = tmp.appendingPathComponent("rbench.jsonl")
        try OfficialExport.write(rbRun.records, questions: rb, to: rbFile)
        XCTAssertEqual(try Scoring.score(rbRun, questions: rb).rbench, try Scoring.scoreOfficial(answers: rbFile, questions: rb, benchmark: .rbench).rbench)
    }
}
