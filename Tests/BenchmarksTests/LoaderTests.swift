import Foundation
import XCTest
@testable import Benchmarks

/// Question loaders for every benchmark format, and their errors.
final class LoaderTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("bench-loaders-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let tmp { try? FileManager.default.removeItem(at: tmp) }
    }

    func write(_ name: String, _ text: String) throws -> URL {
        let u = tmp.appendingPathComponent(name)
        try Data(text.utf8).write(to: u)
        return u
    }

    func testPOPESplitFilesAndFolder() throws {
        let set = try BenchmarkData.load(benchmark: .pope, questions: [Fixture.url("pope/head")], annotations: nil)
        XCTAssertEqual(set.questions.count, 36)
        XCTAssertEqual(Scoring.orderedCategories(set.questions.map(\.category)), ["adversarial", "popular", "random"])
        let first = try XCTUnwrap(set.questions.first)
        XCTAssertEqual(first.key, "adversarial/1")
        XCTAssertEqual(first.questionID, .int(1))
        XCTAssertEqual(first.image, "COCO_val2014_000000310196.jpg")
        XCTAssertEqual(first.text, "Is there a snowboard in the image?")
        XCTAssertEqual(first.label, "yes")
        XCTAssertFalse(set.fromLLaVAFile)
        let random = try set.filtered(categories: ["random"])
        XCTAssertEqual(random.questions.count, 12)
        XCTAssertThrowsError(try set.filtered(categories: ["randm"])) { XCTAssertTrue("\($0)".contains("randm"), "\($0)") }
    }

    func testPOPELLaVAQuestionFileTakesLabelsByLineOrder() throws {
        let set = try BenchmarkData.load(benchmark: .pope, questions: [Fixture.url("pope/llava_pope_test_subset.jsonl")],
                                         annotations: Fixture.url("pope/pinned"))
        XCTAssertTrue(set.fromLLaVAFile)
        XCTAssertEqual(set.questions.count, 36)
        let native = try BenchmarkData.load(benchmark: .pope, questions: [Fixture.url("pope/pinned")], annotations: nil)
        // Same keys, texts and labels as the split files; LLaVA's own ids kept.
        XCTAssertEqual(Set(set.questions.map(\.key)), Set(native.questions.map(\.key)))
        let byKey = Dictionary(uniqueKeysWithValues: native.questions.map { ($0.key, $0) })
        for q in set.questions {
            XCTAssertEqual(q.text, byKey[q.key]?.text)
            XCTAssertEqual(q.label, byKey[q.key]?.label)
        }
        XCTAssertEqual(set.questions.first { $0.category == "popular" }?.questionID, .int(20_000_001))
        // LLaVA's file was built from the pinned POPE version: the current files differ at line 11 ("imange" typo fixed).
        XCTAssertThrowsError(try BenchmarkData.load(benchmark: .pope, questions: [Fixture.url("pope/llava_pope_test_subset.jsonl")],
                                                    annotations: Fixture.url("pope/head"))) {
            XCTAssertTrue("\($0)".contains("e3e39262"), "\($0)")
        }
        // Labels are needed.
        XCTAssertThrowsError(try BenchmarkData.load(benchmark: .pope, questions: [Fixture.url("pope/llava_pope_test_subset.jsonl")], annotations: nil)) {
            XCTAssertTrue("\($0)".contains("--annotations"), "\($0)")
        }
    }

    func testAMBERQueriesWithAnnotations() throws {
        let set = try BenchmarkData.load(benchmark: .amber, questions: [Fixture.url("amber/query_subset.json")],
                                         annotations: Fixture.url("amber/annotations_subset.json"))
        XCTAssertEqual(set.questions.count, 36)
        XCTAssertEqual(Set(set.questions.map(\.category)), ["existence", "attribute", "relation"])
        XCTAssertTrue(set.questions.filter { $0.category == "existence" }.allSatisfy { $0.label == "no" })
        XCTAssertEqual(Set(set.questions.map(\.type)).count, 6)
        // A generative id is rejected.
        let gen = try write("gen.json", #"[{"id": 1, "image": "AMBER_1.jpg", "query": "Describe this image."}]"#)
        XCTAssertThrowsError(try BenchmarkData.load(benchmark: .amber, questions: [gen], annotations: Fixture.url("amber/annotations_subset.json"))) {
            XCTAssertTrue("\($0)".contains("generative"), "\($0)")
        }
        let unknown = try write("unknown.json", #"[{"id": 99999, "image": "AMBER_1.jpg", "query": "Is there a cat?"}]"#)
        XCTAssertThrowsError(try BenchmarkData.load(benchmark: .amber, questions: [unknown], annotations: Fixture.url("amber/annotations_subset.json"))) {
            XCTAssertTrue("\($0)".contains("unknown.json[0]") && "\($0)".contains("99999"), "\($0)")
        }
        let badField = try write("bad.json", #"[{"id": "x", "image": "AMBER_1.jpg", "query": "Is there a cat?"}]"#)
        XCTAssertThrowsError(try BenchmarkData.load(benchmark: .amber, questions: [badField], annotations: Fixture.url("amber/annotations_subset.json"))) {
            XCTAssertTrue("\($0)".contains("bad.json") && "\($0)".contains("id"), "\($0)")
        }
    }

    func testRBenchFormat() throws {
        let set = try BenchmarkData.load(benchmark: .rbench, questions: [Fixture.url("rbench/image-level_filterd.json")], annotations: nil)
        XCTAssertEqual(set.questions.count, 14)
        XCTAssertEqual(set.questions[5].label, "")   // null label
        XCTAssertEqual(set.questions[0].key, "100")
        // JSON Lines is not the documented format.
        let jsonl = try write("q.jsonl", #"{"question_id": 1, "image": "a.jpg", "text": "Is it?", "label": "yes"}"# + "\n")
        XCTAssertThrowsError(try BenchmarkData.load(benchmark: .rbench, questions: [jsonl], annotations: nil)) {
            XCTAssertTrue("\($0)".contains("JSON array"), "\($0)")
        }
        let missing = try write("m.json", #"[{"question_id": 1, "image": "a.jpg", "label": "yes"}]"#)
        XCTAssertThrowsError(try BenchmarkData.load(benchmark: .rbench, questions: [missing], annotations: nil)) {
            XCTAssertTrue("\($0)".contains("field '[0].text' is missing") && "\($0)".contains("m.json"), "\($0)")
        }
    }

    func testMMETextAndLLaVAFiles() throws {
        let txt = try BenchmarkData.load(benchmark: .mme, questions: [Fixture.url("mme/questions")], annotations: nil)
        XCTAssertEqual(txt.questions.count, 2374)
        XCTAssertEqual(Scoring.orderedCategories(txt.questions.map(\.category)).prefix(10).map { $0 }, MMEData.perception)
        let q = txt.questions[0]
        XCTAssertEqual(q.key, "existence/000000006040.jpg#1")
        XCTAssertEqual(q.originalText, "Is there a train in this image? Please answer yes or no.")
        XCTAssertEqual(q.text, "Is there a train in this image?")
        XCTAssertEqual(q.image, "existence/000000006040.jpg")

        // LLaVA's llava_mme.jsonl: same keys and labels, and its texts are exactly the stripping rule's.
        let llava = try BenchmarkData.load(benchmark: .mme, questions: [Fixture.url("mme/llava_mme_subset.jsonl")],
                                           annotations: Fixture.url("mme/questions"))
        XCTAssertTrue(llava.fromLLaVAFile)
        let byKey = Dictionary(uniqueKeysWithValues: txt.questions.map { ($0.key, $0) })
        var doubleSpace = 0
        for l in llava.questions {
            let t = try XCTUnwrap(byKey[l.key], l.key)
            XCTAssertEqual(l.label, t.label)
            XCTAssertEqual(l.text, t.text, l.key)  // MMEData.llavaQuestionText reproduces LLaVA's file
            if t.originalText.contains("  Please answer yes or no.") { doubleSpace += 1 }
        }
        XCTAssertEqual(doubleSpace, 7)
        XCTAssertEqual(llava.questions.filter { MMEData.clvsPaperSubtasks.contains($0.category) }.count, 280)

        let bad = try write("existence.txt", "a.jpg\tIs it?\n")
        XCTAssertThrowsError(try BenchmarkData.load(benchmark: .mme, questions: [bad], annotations: nil)) {
            XCTAssertTrue("\($0)".contains("existence.txt:1"), "\($0)")
        }
    }

    func testMissingImagesAreListed() throws {
        let set = try BenchmarkData.load(benchmark: .pope, questions: [Fixture.url("pope/head/coco_pope_random.json")], annotations: nil)
        let images = Set(set.questions.map(\.image))
        // Provide all but two images.
        let present = images.sorted().dropLast(2)
        for name in present { try Data().write(to: tmp.appendingPathComponent(name)) }
        XCTAssertThrowsError(try EvalRunner.resolveImages(set.questions, directory: tmp, benchmark: .pope)) { error in
            guard case let BenchmarkError.missingImages(_, missing, total) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(missing.sorted(), Array(images.sorted().suffix(2)))
            XCTAssertEqual(total, images.count)
            XCTAssertTrue("\(error)".contains("2 of \(images.count) images are missing"), "\(error)")
        }
        // MME: <subtask>/images/<file> is found too.
        let mme = try BenchmarkData.load(benchmark: .mme, questions: [Fixture.url("mme/questions/OCR.txt")], annotations: nil)
        let dir = tmp.appendingPathComponent("OCR/images")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for q in mme.questions { try Data().write(to: dir.appendingPathComponent(String(q.image.dropFirst(4)))) }
        XCTAssertEqual(try EvalRunner.resolveImages(mme.questions, directory: tmp, benchmark: .mme).count, 40)
    }
}
