import Foundation
import Models
import SafeTensors
import Tracing
import XCTest

/// The same weights under every supported name layout give the same logits, and the attention
/// hook sees (and can change) every attention of both towers.
final class LayoutAndHookTests: XCTestCase {
    let gqa = fixtures.appendingPathComponent("llava-tiny-gqa")

    func prefillLogits(_ dir: URL, hooks: [AttentionHook] = []) throws -> (LlavaModel, [Float]) {
        let ref = try SafeTensorsFile(url: gqa.appendingPathComponent("reference/reference.safetensors"))
        let model = try LlavaModel(directory: dir)
        let c = model.config
        let ids = try ref.int64s("input_ids").map(Int.init)
        let start = try XCTUnwrap(ids.firstIndex(of: c.imageTokenIndex))
        let layout = TokenLayout(inputIds: ids, image: ImageSpan(start: start, count: c.imageTokenCount, gridOffset: 0,
                                                                  gridColumns: c.vision.gridSide, gridRows: c.vision.gridSide))
        let r = try model.generate(layout: layout, pixels: try ref.floats("pixel_values"), width: c.vision.imageSize,
                                   height: c.vision.imageSize, options: GenerationOptions(maxNewTokens: 1, eosTokenIds: []),
                                   hooks: hooks)
        return (model, r.steps[0].logits)
    }

    func testEveryLayoutLoadsToTheSameModel() throws {
        let ref = try SafeTensorsFile(url: gqa.appendingPathComponent("reference/reference.safetensors"))
        let expected = try ref.floats("prefill_logits")
        let source = try SafeTensorsFile(url: gqa.appendingPathComponent("model.safetensors"))
        for layout in [LlavaWeightLayout.transformers4, .hub, .hubFlatVision] {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clvs-layout-\(layout.rawValue)-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            for f in ["config.json", "preprocessor_config.json"] {
                try FileManager.default.copyItem(at: gqa.appendingPathComponent(f), to: dir.appendingPathComponent(f))
            }
            var w = SafeTensorsWriter()
            for name in source.names {  // stored names of the fixture are the canonical (transformers 5) names
                let info = try source.info(name)
                try w.add(layout.storedName(name), shape: info.shape, floats: try source.floats(name), as: .F16)
            }
            try w.write(to: dir.appendingPathComponent("model.safetensors"))
            let (model, logits) = try prefillLogits(dir)
            XCTAssertEqual(model.weightLayout, layout)
            XCTAssertLessThanOrEqual(maxAbsDiff(logits, expected), Tol.logits, "\(layout)")
        }
    }

    final class SiteCounter: AttentionHook {
        var sites: [AttentionSite] = []
        var rowSumsOK = true
        func attention(_ e: AttentionEvent, probabilities p: UnsafeMutableBufferPointer<Float>) throws {
            sites.append(e.site)
            for r in 0..<(e.heads * e.queryCount) {
                let s = p[(r * e.keyCount)..<((r + 1) * e.keyCount)].reduce(0, +)
                if abs(s - 1) > 1e-5 { rowSumsOK = false }
            }
            if e.causal, e.queryCount > 1, p[1] != 0 { rowSumsOK = false }  // row 0 may only see key 0
        }
    }

    func testHookSeesEveryAttentionOfBothTowers() throws {
        let counter = SiteCounter()
        let (model, _) = try prefillLogits(gqa, hooks: [counter])
        let c = model.config
        let vision = (0..<c.visionLayersNeeded).map { AttentionSite(tower: .vision, layer: $0) }
        let text = (0..<c.text.numHiddenLayers).map { AttentionSite(tower: .text, layer: $0) }
        XCTAssertEqual(counter.sites, vision + text)
        XCTAssertTrue(counter.rowSumsOK)
    }

    /// Replaces the last row's attention of decoder layer 0 with all mass on the first token.
    final class SinkEverything: AttentionHook {
        func attention(_ e: AttentionEvent, probabilities p: UnsafeMutableBufferPointer<Float>) throws {
            guard e.site == AttentionSite(tower: .text, layer: 0) else { return }
            for h in 0..<e.heads {
                let row = (h * e.queryCount + e.queryCount - 1) * e.keyCount
                for j in 0..<e.keyCount { p[row + j] = j == 0 ? 1 : 0 }
            }
        }
    }

    func testHookModificationsChangeTheOutput() throws {
        let (_, plain) = try prefillLogits(gqa)
        let counter = SiteCounter()
        let (_, observed) = try prefillLogits(gqa, hooks: [counter])
        XCTAssertEqual(plain, observed, "a read-only hook must not change anything")
        let (_, modified) = try prefillLogits(gqa, hooks: [SinkEverything()])
        XCTAssertGreaterThan(maxAbsDiff(plain, modified), 1e-3, "modified probabilities must multiply the values")
    }
}
