import Foundation
import Interventions
import Tracing
import XCTest
@testable import Benchmarks

/// An engine that answers from a table (by question text) and records what it was asked.
final class ScriptedEngine: AnswerEngine {
    var answers: [String: String]
    var asked: [String] = []
    var failAfter: Int?

    init(answers: [String: String]) { self.answers = answers }

    struct Stop: Error {}

    func answer(image: URL, prompt: PromptSpec, maxNewTokens: Int, traceDirectory: URL?) throws -> String {
        if let failAfter, asked.count >= failAfter { throw Stop() }
        guard case let .question(text) = prompt else { throw Stop() }
        asked.append(text)
        if let traceDirectory {
            try FileManager.default.createDirectory(at: traceDirectory, withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: traceDirectory.appendingPathComponent("trace.json"))
        }
        return answers[text] ?? " No \n"
    }
}

/// The resumable runner, shards and merging, with a scripted engine (no model).
final class RunnerTests: XCTestCase {
    var tmp: URL!
    var questions: QuestionSet!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("bench-runner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp.appendingPathComponent("images"), withIntermediateDirectories: true)
        questions = try BenchmarkData.load(benchmark: .pope, questions: [Fixture.url("pope/head/coco_pope_random.json"),
                                                                         Fixture.url("pope/head/coco_pope_popular.json")], annotations: nil)
        for q in questions.questions { try Data().write(to: tmp.appendingPathComponent("images").appendingPathComponent(q.image)) }
    }

    override func tearDownWithError() throws {
        if let tmp { try? FileManager.default.removeItem(at: tmp) }
    }

    func config(_ out: String, shard: Shard? = nil, limit: Int? = nil, trace: Bool = false) -> EvalConfiguration {
        EvalConfiguration(imageDirectory: tmp.appendingPathComponent("images"), output: tmp.appendingPathComponent(out),
                          maxNewTokens: 4, shard: shard, limit: limit, traceDirectory: trace ? tmp.appendingPathComponent("traces") : nil)
    }

    func testRunWritesOneLinePerAnswerWithTheDocumentedPrompt() throws {
        let engine = ScriptedEngine(answers: ["Is there a snowboard in the image?\nAnswer the question using a single word or phrase.": "Yes"])
        let runner = EvalRunner(questions: questions, configuration: config("a.jsonl", limit: 3), engine: engine)
        let summary = try runner.run()
        XCTAssertEqual(summary.answeredNow, 3)
        XCTAssertEqual(engine.asked.count, 3)
        XCTAssertTrue(engine.asked.allSatisfy { $0.hasSuffix("\nAnswer the question using a single word or phrase.") })
        let c = try RunFile.read(tmp.appendingPathComponent("a.jsonl"))
        XCTAssertEqual(c.records.map(\.record.key), ["random/1", "random/2", "random/3"])
        let r = c.records[1].record
        XCTAssertEqual(r.rawAnswer, " No \n")
        XCTAssertEqual(r.answer, "No")
        XCTAssertEqual(r.parsedAnswer, "no")
        XCTAssertEqual(r.method, .vanilla)
        XCTAssertEqual(r.settings, .vanilla)
        XCTAssertEqual(r.maxNewTokens, 4)
        XCTAssertEqual(c.records[0].record.parsedAnswer, "yes")
        // The line is plain JSON with the documented keys.
        let text = try String(contentsOf: tmp.appendingPathComponent("a.jsonl"), encoding: .utf8)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data((text.split(separator: "\n").first ?? "").utf8)) as? [String: Any])
        for k in ["question_id", "raw_answer", "parsed_answer", "label", "method", "settings", "key", "prompt"] { XCTAssertNotNil(obj[k], k) }
    }

    func testResumeSkipsAnsweredAndCutsAPartialLine() throws {
        let out = tmp.appendingPathComponent("r.jsonl")
        let first = ScriptedEngine(answers: [:])
        first.failAfter = 5 // "killed" while answering the 6th
        XCTAssertThrowsError(try EvalRunner(questions: questions, configuration: config("r.jsonl"), engine: first).run())
        XCTAssertEqual(try RunFile.read(out).records.count, 5)
        // A line cut by a kill at the worst moment.
        let cut = Data(#"{"benchmark":"pope","key":"random/6","ques"#.utf8)
        let h = try FileHandle(forWritingTo: out)
        h.seekToEndOfFile()
        h.write(cut)
        h.closeFile()
        XCTAssertEqual(try RunFile.read(out).partialBytes, cut.count)
        // Scoring ignores it.
        let merged = try MergedRun.merge(files: [out], questions: questions)
        XCTAssertEqual(merged.records.count, 5)
        XCTAssertEqual(merged.missing.count, 19)
        XCTAssertTrue(merged.notes.first?.contains("partial last line") ?? false)

        let second = ScriptedEngine(answers: [:])
        let summary = try EvalRunner(questions: questions, configuration: config("r.jsonl"), engine: second).run()
        XCTAssertEqual(summary.resumed, 5)
        XCTAssertEqual(summary.answeredNow, 19)
        XCTAssertEqual(summary.truncatedBytes, cut.count)
        XCTAssertEqual(second.asked.count, 19)
        let c = try RunFile.read(out)
        XCTAssertEqual(c.partialBytes, 0)
        XCTAssertEqual(c.records.map(\.record.key), questions.questions.map(\.key))
        // Nothing left to do.
        let third = ScriptedEngine(answers: [:])
        XCTAssertEqual(try EvalRunner(questions: questions, configuration: config("r.jsonl"), engine: third).run().answeredNow, 0)
        XCTAssertTrue(third.asked.isEmpty)
    }

    func testResumeRefusesAnotherMethodPromptOrBrokenLine() throws {
        try EvalRunner(questions: questions, configuration: config("m.jsonl", limit: 2), engine: ScriptedEngine(answers: [:])).run()
        var other = config("m.jsonl")
        other.maxNewTokens = 8
        XCTAssertThrowsError(try EvalRunner(questions: questions, configuration: other, engine: ScriptedEngine(answers: [:])).run()) {
            XCTAssertTrue("\($0)".contains("max-new-tokens 4"), "\($0)")
        }
        var suffix = config("m.jsonl")
        suffix.promptSuffix = ""
        XCTAssertThrowsError(try EvalRunner(questions: questions, configuration: suffix, engine: ScriptedEngine(answers: [:])).run()) {
            XCTAssertTrue("\($0)".contains("another prompt"), "\($0)")
        }
        var clvs = config("m.jsonl")
        clvs.settings = try MethodSettings.make(method: .clvs, lambda: nil, gamma: nil, delta: nil)
        XCTAssertThrowsError(try EvalRunner(questions: questions, configuration: clvs, engine: ScriptedEngine(answers: [:])).run()) {
            XCTAssertTrue("\($0)".contains("vanilla"), "\($0)")
        }
        // A complete line that is not a record is an error naming the line, not silently dropped.
        let h = try FileHandle(forWritingTo: tmp.appendingPathComponent("m.jsonl"))
        h.seekToEndOfFile()
        h.write(Data("{\"oops\": 1}\n".utf8))
        h.closeFile()
        XCTAssertThrowsError(try EvalRunner(questions: questions, configuration: config("m.jsonl"), engine: ScriptedEngine(answers: [:])).run()) {
            XCTAssertTrue("\($0)".contains("m.jsonl:3"), "\($0)")
        }
    }

    func testShardsPartitionAndMergeRejectsDuplicatesAndReportsGaps() throws {
        let n = 3
        var seen: [String] = []
        for k in 0..<n {
            let s = try Shard(index: k, count: n)
            XCTAssertEqual(s.select(questions.questions).count, 8)
            try EvalRunner(questions: questions, configuration: config("s\(k).jsonl", shard: s), engine: ScriptedEngine(answers: [:])).run()
            seen += try RunFile.read(tmp.appendingPathComponent("s\(k).jsonl")).records.map(\.record.key)
        }
        XCTAssertEqual(seen.sorted(), questions.questions.map(\.key).sorted())
        XCTAssertEqual(try Shard(parsing: "1/3").select(Array(0..<7)), [1, 4])
        XCTAssertThrowsError(try Shard(parsing: "3/3"))
        XCTAssertThrowsError(try Shard(parsing: "a/3"))

        let files = (0..<n).map { tmp.appendingPathComponent("s\($0).jsonl") }
        let merged = try MergedRun.merge(files: files, questions: questions)
        XCTAssertEqual(merged.records.map(\.key), questions.questions.map(\.key)) // question order
        XCTAssertTrue(merged.missing.isEmpty)
        XCTAssertEqual(try MergedRun.merge(files: files, questions: questions).records.first?.shard, "0/3")

        // The same shard twice: duplicates are rejected with their keys and files.
        XCTAssertThrowsError(try MergedRun.merge(files: files + [files[1]], questions: questions)) { error in
            guard case let BenchmarkError.duplicateAnswers(keys, dupFiles) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(keys.count, 8)
            XCTAssertEqual(dupFiles, [files[1].path])
        }
        // Gaps: two shards of three.
        let partial = try MergedRun.merge(files: Array(files.prefix(2)), questions: questions)
        XCTAssertEqual(partial.missing, try Shard(index: 2, count: 3).select(questions.questions).map(\.key))
        let report = try Scoring.score(partial, questions: questions)
        XCTAssertFalse(report.isComplete)
        XCTAssertTrue(report.render().contains("INCOMPLETE: 8 question(s)"), report.render())
        // Answers to another question set are refused.
        let other = try BenchmarkData.load(benchmark: .pope, questions: [Fixture.url("pope/head/coco_pope_adversarial.json")], annotations: nil)
        XCTAssertThrowsError(try MergedRun.merge(files: files, questions: other)) { XCTAssertTrue("\($0)".contains("not in the questions"), "\($0)") }
    }

    func testScoresOfRunnerOutputEqualTheOfficialScorerOnTheSameAnswers() throws {
        // The hand-made POPE cases, answered by the scripted engine, scored from the runner file.
        let labels = try BenchmarkData.load(benchmark: .pope, questions: [Fixture.url("pope/quirks_labels.json")], annotations: nil)
        let answers = try OfficialAnswers.pope(Fixture.url("pope/quirks_answers.jsonl")).map(\.text)
        var table: [String: String] = [:]
        for (q, a) in zip(labels.questions, answers) { table[q.text + llavaShortAnswerSuffix] = a }
        for q in labels.questions { try Data().write(to: tmp.appendingPathComponent("images").appendingPathComponent(q.image)) }
        try EvalRunner(questions: labels, configuration: config("q.jsonl"), engine: ScriptedEngine(answers: table)).run()
        let report = try Scoring.score(try MergedRun.merge(files: [tmp.appendingPathComponent("q.jsonl")], questions: labels), questions: labels, scorer: .both)
        // The runner strips the answers (as LLaVA does): only " No" style differences could change parsing; these have none.
        let expected = POPEEvaluatePy.score(answers: answers.prefix(labels.questions.count).map { Py.strip($0) }, labels: labels.questions.map(\.label))
        XCTAssertEqual(report.pope?.first?.metrics, expected)
        XCTAssertEqual(report.clvsPaper?.first?.metrics.denominator, labels.questions.count + 1)
    }

    func testTraceFoldersOfInterruptedRunsAreReplaced() throws {
        let traces = tmp.appendingPathComponent("traces")
        let stale = traces.appendingPathComponent("random_1")
        try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: stale.appendingPathComponent("trace.json"))
        try FileManager.default.createDirectory(at: traces.appendingPathComponent(".random_2.partial-123"), withIntermediateDirectories: true)
        try EvalRunner(questions: questions, configuration: config("t.jsonl", limit: 2, trace: true), engine: ScriptedEngine(answers: [:])).run()
        XCTAssertEqual(try String(contentsOf: stale.appendingPathComponent("trace.json"), encoding: .utf8), "{}")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: traces.path).sorted(), ["random_1", "random_2"])
        XCTAssertEqual(try RunFile.read(tmp.appendingPathComponent("t.jsonl")).records.last?.record.trace, traces.appendingPathComponent("random_2").path)
        // A non-trace folder in the way is not deleted.
        let blocker = traces.appendingPathComponent("random_3")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
        try Data().write(to: blocker.appendingPathComponent("notes.txt"))
        XCTAssertThrowsError(try EvalRunner(questions: questions, configuration: config("t.jsonl", limit: 3, trace: true), engine: ScriptedEngine(answers: [:])).run())
        XCTAssertTrue(FileManager.default.fileExists(atPath: blocker.appendingPathComponent("notes.txt").path))
    }

    func testMethodSettingsAndEngineFactory() throws {
        let c = CLVSConfig()
        XCTAssertEqual(Float(MethodSettings.clvsDefaults.lambda), c.lambda)
        XCTAssertEqual(Float(MethodSettings.clvsDefaults.gamma), c.gamma)
        XCTAssertEqual(Float(MethodSettings.clvsDefaults.delta), c.delta)
        XCTAssertEqual(try MethodSettings.make(method: .clvs, lambda: nil, gamma: nil, delta: nil),
                       MethodSettings(method: .clvs, lambda: 0.8, gamma: 0.8, delta: 0.5))
        XCTAssertThrowsError(try MethodSettings.make(method: .vanilla, lambda: 0.5, gamma: nil, delta: nil)) { XCTAssertTrue("\($0)".contains("--lambda")) }
        XCTAssertThrowsError(try MethodSettings.make(method: .clvs, lambda: nil, gamma: 1.5, delta: nil)) { XCTAssertTrue("\($0)".contains("--gamma")) }
        XCTAssertThrowsError(try MethodSettings.make(method: .clvs, lambda: -1, gamma: nil, delta: nil)) { XCTAssertTrue("\($0)".contains("--lambda")) }
        XCTAssertThrowsError(try MethodSettings.make(method: .clvs, lambda: 2.5, gamma: nil, delta: nil)) { XCTAssertTrue("\($0)".contains("[0, 2]")) }
        XCTAssertThrowsError(try MethodSettings.make(method: .clvs, lambda: nil, gamma: nil, delta: .nan)) { XCTAssertTrue("\($0)".contains("--delta")) }
        let s = try MethodSettings.make(method: .clvs, lambda: 1.2, gamma: 0.7, delta: 0)
        XCTAssertEqual(s.summary, "clvs(lambda=1.2, gamma=0.7, delta=0.0)")
        // The settings are recorded in every line as JSON.
        let enc = try JSONEncoder().encode(s)
        XCTAssertEqual(try JSONDecoder().decode(MethodSettings.self, from: enc), s)
        XCTAssertEqual(BenchmarkPrompts.unescape("\\nAnswer\\t\\\\x"), "\nAnswer\t\\x")
    }

    func testProgressLine() {
        var now = Date(timeIntervalSince1970: 0)
        var written: [String] = []
        let p = EvalProgress(total: 100, resumed: 40, label: "pope", interactive: false, write: { written.append($0) }, clock: { now })
        now = Date(timeIntervalSince1970: 20)
        // 10 new answers in 20 s: 2 s/q, 50 left -> 100 s.
        XCTAssertEqual(p.line(done: 50), "pope [###############...............] 50/100  2.00 s/q  ETA 1m40s")
        p.update(done: 50)
        p.update(done: 51) // same 5 % step: not printed again in a log
        XCTAssertEqual(written.count, 1)
        XCTAssertEqual(EvalProgress.duration(7300), "2h01m")
    }
}
