import Foundation
import Models
import ShapesWorld
import Tracing
import XCTest

/// The shipped shapes model (the CLI's default) answers the held-out questions exactly as
/// transformers does: `Tests/ShapesModel/heldout_transformers.jsonl` holds transformers' greedy
/// token ids (eager attention, fp32 from the fp16 weights) for every held-out question, written by
/// `Tests/ShapesModel/train_shapes_model.py`. The images are regenerated here from the world's seed.
final class ShapesModelParityTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Reference: Decodable {
        let question_id: Int
        let kind: String
        let text: String
        let image: String
        let ids: [Int]
        let answer: String
    }

    func testHeldOutAnswersEqualTransformers() throws {
        let refURL = Self.repo.appendingPathComponent("Tests/ShapesModel/heldout_transformers.jsonl")
        let refs = try String(contentsOf: refURL, encoding: .utf8).split(separator: "\n").map {
            try JSONDecoder().decode(Reference.self, from: Data($0.utf8))
        }
        XCTAssertEqual(refs.count, 2817)
        // Every question with CLVS_HELDOUT_ALL=1; by default every 8th (about 350, each kind).
        let stride = ProcessInfo.processInfo.environment["CLVS_HELDOUT_ALL"] == "1" ? 1 : 8
        let picked = refs.enumerated().filter { $0.offset % stride == 0 }.map(\.element)
        XCTAssertEqual(Set(picked.map(\.kind)), ["existence", "attribute", "relation", "count"])

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shapes-heldout-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let bench = ShapesBenchmark(seed: 1, images: 300)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let ckpt = try LoadedCheckpoint(directory: Self.repo.appendingPathComponent("Sources/clvs-trace/Resources/default-model"))
        var options = TraceOptions()
        options.lens = false
        options.fullRows = false
        var written = Set<String>()
        var mismatches: [String] = []
        for r in picked {
            let image = dir.appendingPathComponent(r.image)
            if !written.contains(r.image) {
                guard let index = Int(r.image.dropFirst("shapes_".count).prefix(6)).map({ $0 - 1 }) else { return XCTFail(r.image) }
                try ShapesWorldIO.writeImage(bench.scenes[index], to: image)
                written.insert(r.image)
            }
            let outcome = try traceOnePair(ckpt, imageFile: image, prompt: .question(r.text), maxNewTokens: 24, options: options)
            var ids = outcome.result.generatedIds
            if let last = ids.last, ckpt.model.config.text.eosTokenIds.contains(last) { ids.removeLast() }
            if ids != r.ids { mismatches.append("\(r.question_id) \(r.text): swift \(ids) vs transformers \(r.ids)") }
        }
        XCTAssertEqual(mismatches, [], "\(mismatches.count) of \(picked.count) answers differ")
    }
}
