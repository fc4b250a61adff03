import Foundation
import XCTest
@testable import Benchmarks

/// Fixture paths, relative to this file.
enum Fixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    /// `expected_official.json`: numbers the official scripts printed (see make_expected.py).
    static func expected() throws -> [String: Any] {
        let d = try Data(contentsOf: url("expected_official.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: d) as? [String: Any])
    }

    /// A Python repr string as the exact Double.
    static func double(_ any: Any?, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let s = try XCTUnwrap(any as? String, file: file, line: line)
        return try XCTUnwrap(Double(s), file: file, line: line)
    }
}

/// The official scorers against the numbers the official scripts compute, and one hand-made case
/// per parsing quirk.
final class ScorerTests: XCTestCase {
    // MARK: MME

    func testMMELaVINReferenceGivesTheLeaderboardNumbers() throws {
        let r = try MMECalculationPy.scoreResultsFolder(Fixture.url("mme/reference_results_LaVIN"))
        let score = Dictionary(uniqueKeysWithValues: r.subtasks.map { ($0.subtask, $0.score) })
        XCTAssertEqual(Py.fixed(try XCTUnwrap(score["existence"]), 2), "185.00")
        XCTAssertEqual(Py.fixed(try XCTUnwrap(score["count"]), 2), "88.33")
        XCTAssertEqual(Py.fixed(try XCTUnwrap(score["position"]), 2), "63.33")
        XCTAssertEqual(Py.fixed(try XCTUnwrap(score["color"]), 2), "75.00")
        XCTAssertEqual(Py.fixed(try XCTUnwrap(score["OCR"]), 2), "107.50")
        XCTAssertEqual(r.perceptionSubtasks, MMEData.perception)
        XCTAssertEqual(Py.fixed(r.perception, 2), "963.61")
        // The exact double the script's float sum gives (0 + acc*100 + acc+*100 per subtask, summed in its order).
        XCTAssertEqual(r.perception, 963.6114445778312)
        XCTAssertEqual(score["count"], 88.33333333333334)
        XCTAssertEqual(Py.fixed(r.cognition, 2), "249.64")
        // The report prints the same.
        var report = ScoreReport(benchmark: .mme, answered: 2374, expected: nil)
        report.mme = r
        XCTAssertTrue(report.render().contains("Perception total: 963.61 (all 10 subtasks)"), report.render())
    }

    /// One image pair per quirk of `calculation.py`'s parsing, in a results folder with CRLF lines.
    func testMMEParsingQuirks() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mme-quirks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rows: [(String, String, String)] = [
            ("1.jpg", "Yes", "Yes\n"),
            ("1.jpg", "No", "No\r\n"),               // CRLF reads as "\n" (universal newlines): "no\n" -> no
            ("2.jpg", "Yes", "Yeah, I think so\n"),  // "yeah" has neither "yes" nor "no" -> other
            ("2.jpg", "No", "Not really\n"),         // "not " contains "no" -> no
            ("3.jpg", "Yes", "I think yes\n"),       // only the first 4 characters: "i th" -> other
            ("3.jpg", "No", "none\n"),               // -> no
            ("4.jpg", "Yes", "YES\n"),               // lower-cased -> yes
            ("4.jpg", "No", "nO\n"),                 // -> no
            ("5.jpg", "Yes", "\n"),                  // empty -> other
            ("5.jpg", "No", "know\n"),               // "know" contains "no" -> no (right, by accident)
            ("6.jpg", "Yes", "no yes\n"),            // "no y" -> no
            ("6.jpg", "No", "yes"),                  // last line without newline: exactly "yes"
        ]
        let text = rows.map { "\($0.0)\tIs it? Please answer yes or no.\t\($0.1)\t\($0.2)" }.joined()
        try Data(text.utf8).write(to: dir.appendingPathComponent("existence.txt"))
        XCTAssertEqual(MMECalculationPy.parse("yeah"), "other")
        XCTAssertEqual(MMECalculationPy.parse("not sure"), "no")
        XCTAssertEqual(MMECalculationPy.parse("I think yes"), "other")
        XCTAssertEqual(MMECalculationPy.parse("no\n"), "no")
        let r = try MMECalculationPy.scoreResultsFolder(dir)
        let s = try XCTUnwrap(r.subtasks.first)
        XCTAssertEqual(s.questions, 12)
        XCTAssertEqual(s.other, 3)
        XCTAssertEqual(s.accuracy, 7.0 / 12.0)
        XCTAssertEqual(s.accuracyPlus, 2.0 / 6.0)
        XCTAssertEqual(s.score, 91.66666666666666) // Python: 0 + 7/12*100 + 2/6*100
        XCTAssertEqual(r.perceptionSubtasks, ["existence"])

        // An odd number of lines, a line with 3 fields, a ground truth that is not Yes/No.
        try Data("1.jpg\tq\tYes\tyes\n".utf8).write(to: dir.appendingPathComponent("existence.txt"))
        XCTAssertThrowsError(try MMECalculationPy.scoreResultsFolder(dir)) { XCTAssertTrue("\($0)".contains("two lines per image"), "\($0)") }
        try Data("1.jpg\tq\tYes\n1.jpg\tq\tNo\tno\n".utf8).write(to: dir.appendingPathComponent("existence.txt"))
        XCTAssertThrowsError(try MMECalculationPy.scoreResultsFolder(dir)) { XCTAssertTrue("\($0)".contains("existence.txt:1"), "\($0)") }
        try Data("1.jpg\tq\tMaybe\tyes\n1.jpg\tq\tNo\tno\n".utf8).write(to: dir.appendingPathComponent("existence.txt"))
        XCTAssertThrowsError(try MMECalculationPy.scoreResultsFolder(dir)) { XCTAssertTrue("\($0)".contains("'Maybe'"), "\($0)") }
    }

    func testMMEPrefixCountsCodePointsNotCharacters() {
        // Swift sees "\r\n" as one Character; Python's [:4] counts 2 code points, so "\r\nyes" -> "\r\nye" -> other.
        XCTAssertEqual(MMECalculationPy.parse("\r\nyes"), "other")
        XCTAssertEqual(MMECalculationPy.parse(" yes"), "yes")
        XCTAssertEqual(MMECalculationPy.parse("  yes"), "other")
    }

    // MARK: POPE

    func testPOPEParsingQuirks() {
        XCTAssertTrue(POPEEvaluatePy.parsesAsYes("Yes, there is a dog."))
        XCTAssertFalse(POPEEvaluatePy.parsesAsYes("No."))
        XCTAssertTrue(POPEEvaluatePy.parsesAsYes("No\nThere is a cat"))     // newline is not a separator
        XCTAssertTrue(POPEEvaluatePy.parsesAsYes("NO"))                     // case-sensitive
        XCTAssertTrue(POPEEvaluatePy.parsesAsYes("Not sure"))
        XCTAssertFalse(POPEEvaluatePy.parsesAsYes("I do not think so"))
        XCTAssertTrue(POPEEvaluatePy.parsesAsYes(""))
        XCTAssertTrue(POPEEvaluatePy.parsesAsYes("There is a cat. No dog.")) // first sentence only
        XCTAssertFalse(POPEEvaluatePy.parsesAsYes("no,"))
        XCTAssertTrue(POPEEvaluatePy.parsesAsYes("yes,no"))                  // "yesno"
        XCTAssertTrue(POPEEvaluatePy.parsesAsYes("no\tthanks"))
        XCTAssertFalse(POPEEvaluatePy.parsesAsYes("There is no cat"))
        XCTAssertTrue(POPEEvaluatePy.labelIsYes("No"))                       // only exactly 'no' is negative
        XCTAssertFalse(POPEEvaluatePy.labelIsYes("no"))
    }

    func testPOPEEvaluatePyMatchesTheOfficialScript() throws {
        let e = try XCTUnwrap(try Fixture.expected()["pope_evaluate_py"] as? [String: Any])
        let answers = try OfficialAnswers.pope(Fixture.url("pope/quirks_answers.jsonl")).map(\.text)
        let labels = try POPEData.labels(of: Fixture.url("pope/quirks_labels.json"))
        XCTAssertEqual(answers.count, labels.count + 2)
        let m = POPEEvaluatePy.score(answers: answers, labels: labels)
        XCTAssertEqual(m.confusion, BinaryConfusion(tp: e["TP"] as? Int ?? -1, fp: e["FP"] as? Int ?? -1, tn: e["TN"] as? Int ?? -1, fn: e["FN"] as? Int ?? -1))
        XCTAssertEqual(m.accuracy, try Fixture.double(e["accuracy"]))
        XCTAssertEqual(m.precision, try Fixture.double(e["precision"]))
        XCTAssertEqual(m.recall, try Fixture.double(e["recall"]))
        XCTAssertEqual(m.f1, try Fixture.double(e["f1"]))
        // zip: the two extra answers count in the yes-ratio only.
        XCTAssertEqual(m.yesRatio, try Fixture.double(e["yes_ratio"]))
        XCTAssertEqual(m.answers, 16)
        XCTAssertEqual(m.confusion.total, 14)
    }

    func testPOPEDivisionByZeroIsReportedNotCrashed() {
        let m = POPEEvaluatePy.score(answers: ["No", "No"], labels: ["no", "no"])
        XCTAssertNil(m.precision)
        XCTAssertNil(m.recall)
        XCTAssertNil(m.f1)
        XCTAssertEqual(m.accuracy, 1)
        XCTAssertEqual(m.yesRatio, 0)
        let empty = POPEEvaluatePy.score(answers: [], labels: ["no"])
        XCTAssertNil(empty.yesRatio)
        XCTAssertNil(empty.accuracy)
    }

    func testLLaVAEvalPopeMatchesTheOfficialScript() throws {
        let e = try XCTUnwrap(try Fixture.expected()["llava_eval_pope_py"] as? [String: [String: Any]])
        let qs = try BenchmarkData.load(benchmark: .pope, questions: [Fixture.url("pope/llava_pope_test_subset.jsonl")],
                                        annotations: Fixture.url("pope/pinned"))
        let report = try Scoring.scoreOfficial(answers: Fixture.url("pope/llava_answers.jsonl"), questions: qs, benchmark: .pope)
        let pope = try XCTUnwrap(report.pope)
        XCTAssertEqual(pope.map(\.name), ["adversarial", "popular", "random"])
        for p in pope {
            let x = try XCTUnwrap(e[p.name])
            XCTAssertEqual(p.metrics.answers, x["samples"] as? Int)
            XCTAssertEqual(p.metrics.confusion, BinaryConfusion(tp: x["TP"] as? Int ?? -1, fp: x["FP"] as? Int ?? -1, tn: x["TN"] as? Int ?? -1, fn: x["FN"] as? Int ?? -1))
            XCTAssertEqual(p.metrics.accuracy, try Fixture.double(x["accuracy"]), p.name)
            XCTAssertEqual(p.metrics.precision, try Fixture.double(x["precision"]), p.name)
            XCTAssertEqual(p.metrics.recall, try Fixture.double(x["recall"]), p.name)
            XCTAssertEqual(p.metrics.f1, try Fixture.double(x["f1"]), p.name)
            XCTAssertEqual(p.metrics.yesRatio, try Fixture.double(x["yes_ratio"]), p.name)
        }
        // An answer to an id the question file does not have is eval_pope.py's KeyError.
        XCTAssertThrowsError(try LLaVAEvalPope.score(answers: [.init(questionID: .int(99999), text: "Yes")], categoryOf: [:], labels: [:]))
        // POPE answers without ids and several splits: line-order matching is ambiguous.
        let splits = try BenchmarkData.load(benchmark: .pope, questions: [Fixture.url("pope/pinned")], annotations: nil)
        XCTAssertThrowsError(try Scoring.scoreOfficial(answers: Fixture.url("pope/quirks_answers.jsonl"), questions: splits, benchmark: .pope)) {
            XCTAssertTrue("\($0)".contains("line order"), "\($0)")
        }
    }

    // MARK: AMBER

    func testAMBERMatchesTheOfficialScriptIncludingEpsilonsAndRounding() throws {
        let e = try XCTUnwrap(try Fixture.expected()["amber_inference_py"] as? [String: [String: Any]])
        let qs = try BenchmarkData.load(benchmark: .amber, questions: [Fixture.url("amber/query_subset.json")],
                                        annotations: Fixture.url("amber/annotations_subset.json"))
        let report = try Scoring.scoreOfficial(answers: Fixture.url("amber/responses.json"), questions: qs, benchmark: .amber)
        let a = try XCTUnwrap(report.amber)
        let rows: [(String, AMBERMetrics)] = [("Descriminative Task", a.all), ("Exsitence", a.existence), ("Attribute", a.attribute),
                                              ("State", a.state), ("Number", a.number), ("Action", a.action), ("Relation", a.relation)]
        for (name, m) in rows {
            let x = try XCTUnwrap(e[name], name)
            XCTAssertEqual(m.accuracy, try Fixture.double(x["Accuracy"]), name)
            XCTAssertEqual(m.precision, try Fixture.double(x["Precision"]), name)
            XCTAssertEqual(m.recall, try Fixture.double(x["Recall"]), name)
            XCTAssertEqual(m.f1, try Fixture.double(x["F1"]), name)
        }
        // The 0.001 start of the counters shows: 1 right "No" of 1 answered gives 99.9, not 100.
        XCTAssertEqual(a.state.precision, 99.9)
        XCTAssertTrue(report.render().contains("Descriminative (all)"))
    }

    func testAMBERExactStringRule() throws {
        let truth: [Int: AMBERData.Truth] = [1: .init(type: "discriminative-hallucination", truth: "no"),
                                            2: .init(type: "discriminative-attribute-state", truth: "yes")]
        // "no" (lower case), "No." and " No" are not "No": wrong, and not counted as answered No.
        for bad in ["no", "No.", " No", "NO", "No, there is not"] {
            let r = try AMBERInferencePy.score([.init(id: 1, response: bad)], annotations: truth)
            XCTAssertEqual(r.existence.accuracy, 0, bad)
            XCTAssertEqual(r.existence.precision, 0, bad)
        }
        let ok = try AMBERInferencePy.score([.init(id: 1, response: "No"), .init(id: 2, response: "Yes")], annotations: truth)
        // 1 / (1 + 0.001) * 100 = 99.90..., rounded to 99.9.
        XCTAssertEqual(ok.existence.accuracy, 99.9)
        XCTAssertEqual(ok.existence.recall, 99.9)
        // F1 from the rounded P and R with existence's 0.001: 2*.999*.999/(.999+.999+.001)*100 = 99.85 -> 99.8 (binary value below the tie).
        XCTAssertEqual(ok.existence.f1, Py.round(2 * 0.999 * 0.999 / (0.999 + 0.999 + 0.001) * 100, 1))
        XCTAssertEqual(ok.all.accuracy, Py.round(2 / 2.001 * 100, 1))
        XCTAssertThrowsError(try AMBERInferencePy.score([.init(id: 7, response: "No")], annotations: truth))
        XCTAssertThrowsError(try AMBERInferencePy.score([.init(id: 0, response: "No")], annotations: truth))
        // The runner's normalisation to the exact strings.
        XCTAssertEqual(AMBERResponseNormalizer.normalize("Yes, there is a dog."), "Yes")
        XCTAssertEqual(AMBERResponseNormalizer.normalize(" no"), "No")
        XCTAssertEqual(AMBERResponseNormalizer.normalize("Not really"), "Not really")
        XCTAssertEqual(AMBERResponseNormalizer.normalize("Nope"), "Nope")
        XCTAssertEqual(AMBERResponseNormalizer.normalize(""), "")
    }

    // MARK: R-Bench

    func testRBenchMatchesTheOfficialScript() throws {
        let e = try XCTUnwrap(try Fixture.expected()["rbench_eval_py"] as? [String: Any])
        let qs = try BenchmarkData.load(benchmark: .rbench, questions: [Fixture.url("rbench/image-level_filterd.json")], annotations: nil,
                                        subsetFiles: RBenchData.subsetFiles([Fixture.url("rbench/nocaps_image-level_rel_ids_holder.json").path]))
        XCTAssertEqual(qs.rbenchSubsets.map(\.name), (1...5).map { "nocaps_image-level_rel_ids_\($0).json" })
        let report = try Scoring.scoreOfficial(answers: Fixture.url("rbench/answers.jsonl"), questions: qs, benchmark: .rbench)
        let r = try XCTUnwrap(report.rbench)
        let subsets = try XCTUnwrap(e["subsets"] as? [[String]])
        for (s, x) in zip(r.subsets, subsets) {
            let m = s.metrics
            XCTAssertEqual(m.accuracy, Double(x[0]), s.name)
            XCTAssertEqual(m.precision, Double(x[1]), s.name)
            XCTAssertEqual(m.recall, Double(x[2]), s.name)
            XCTAssertEqual(m.f1, Double(x[3]), s.name)
            XCTAssertEqual(m.yesRatio, Double(x[4]), s.name)
        }
        XCTAssertEqual(r.average, try XCTUnwrap(e["average"] as? [String]).compactMap(Double.init))
        // 113 has no answer: skipped (twice in subset 3, which lists it twice).
        XCTAssertEqual(r.subsets[2].skipped, 2)
    }

    func testRBenchQuirks() throws {
        XCTAssertTrue(RBenchEvalPy.labelIsNo("No"))
        XCTAssertTrue(RBenchEvalPy.labelIsNo("unknown"))   // contains "no"
        XCTAssertTrue(RBenchEvalPy.labelIsNo("None"))
        XCTAssertFalse(RBenchEvalPy.labelIsNo(""))         // empty/null label: positive
        XCTAssertFalse(RBenchEvalPy.labelIsNo("Yes"))
        // Epsilons: a perfect subset gives P = 1/(1+1e-5)-ish, not 1.
        let s = try RBenchEvalPy.scoreSubset(ids: [.int(1), .int(2)], answers: [.int(1): "Yes", .int(2): "No"],
                                             labels: [.int(1): "yes", .int(2): "no"], name: "t")
        XCTAssertEqual(s.metrics.precision, 1 / (1 + 0.00001))
        XCTAssertEqual(s.metrics.accuracy, 1)
        // An id missing from the question file is eval.py's KeyError.
        XCTAssertThrowsError(try RBenchEvalPy.scoreSubset(ids: [.int(3)], answers: [.int(3): "Yes"], labels: [:], name: "t"))
        // Python keeps int and str ids apart: "1" does not answer 1.
        let typed = try RBenchEvalPy.scoreSubset(ids: [.int(1)], answers: [.string("1"): "Yes"], labels: [.int(1): "yes"], name: "t")
        XCTAssertEqual(typed.skipped, 1)
        XCTAssertNil(typed.metrics.yesRatio)
        // NumPy's round differs from Python's: rint(2.675 * 100) / 100 = 2.68, round(2.675, 2) = 2.67.
        XCTAssertEqual(Py.numpyRound(2.675, 2), 2.68)
        XCTAssertEqual(Py.round(2.675, 2), 2.67)
    }

    // MARK: CLVS paper

    func testCLVSPaperScorerMatchesItsScript() throws {
        let e = try XCTUnwrap(try Fixture.expected()["clvs_paper_eval_py"] as? [String: Any])
        let report = try Scoring.scoreCLVSPaper(answers: Fixture.url("clvs_paper/answers.jsonl"), benchmark: .rbench)
        let m = try XCTUnwrap(report.clvsPaper?.first?.metrics)
        XCTAssertEqual(m.denominator, e["total_questions"] as? Int)
        XCTAssertEqual(m.unknown, e["unknown"] as? Int)
        XCTAssertEqual(m.precision, try Fixture.double(e["precision"]))
        XCTAssertEqual(m.recall, try Fixture.double(e["recall"]))
        XCTAssertEqual(m.f1, try Fixture.double(e["f1"]))
        XCTAssertEqual(m.accuracy, try Fixture.double(e["accuracy"]))
        XCTAssertEqual(m.yes, try Fixture.double(e["yes_proportion"]))
        XCTAssertEqual(m.unknownPercent, try Fixture.double(e["unknown_prop"]))
    }

    func testCLVSPaperSubstringRuleAndNPlusOne() {
        // All right, yet accuracy is 2/3: the N+1 denominator.
        let m = CLVSPaperEvalPy.score([(label: "Yes", output: "Yes"), (label: "No", output: "No")])
        XCTAssertEqual(m.accuracy, 2.0 / 3.0 * 100)
        XCTAssertEqual(m.precision, 100)
        // Substrings: "I don't know" contains "no" -> right for label no; "Not sure, yes" contains "yes" -> right for yes.
        let s = CLVSPaperEvalPy.score([(label: "no", output: "I don't know"), (label: "yes", output: "Not sure, yes"),
                                       (label: "yes", output: "Nothing"), (label: "maybe", output: "yes")])
        XCTAssertEqual(s.confusion, BinaryConfusion(tp: 1, fp: 0, tn: 1, fn: 1))
        XCTAssertEqual(s.unknown, 1)
        XCTAssertEqual(s.denominator, 5)
    }

    // MARK: Python semantics

    func testPythonSemantics() throws {
        XCTAssertEqual(Py.round(74.85, 1), 74.8)    // binary value below the tie
        XCTAssertEqual(Py.round(0.125, 2), 0.12)    // exact tie -> even
        XCTAssertEqual(Py.round(0.05, 1), 0.1)
        XCTAssertEqual(Py.round(33.33333, 1), 33.3)
        XCTAssertEqual(Py.strip("\u{1C} yes \u{85}"), "yes") // Python's whitespace includes 0x1C-0x1F and NEL
        XCTAssertEqual(Py.split("a  b", on: " "), ["a", "", "b"])
        XCTAssertTrue(Py.contains("know", "no"))
        XCTAssertFalse(Py.equal("e\u{301}", "\u{E9}"))  // Swift's == says equal; Python's does not
        XCTAssertEqual(Py.prefix("\r\nabc", 3), "\r\na")
        let lines = try Py.readLines(data: Data("a\r\nb\rc\nd".utf8), name: "t")
        XCTAssertEqual(lines, ["a\n", "b\n", "c\n", "d"])
        XCTAssertThrowsError(try Py.readLines(data: Data([0x61, 0xFF, 0x0A]), name: "bad.txt")) { XCTAssertTrue("\($0)".contains("bad.txt")) }
    }
}
