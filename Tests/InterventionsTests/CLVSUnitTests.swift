import Foundation
@testable import Interventions
@testable import Models
import SafeTensors
import Tensors
import XCTest

let modelsFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("ModelsTests/Fixtures")

/// CLVS behaviour that needs no reference dump.
final class CLVSUnitTests: XCTestCase {
    func loadGQA() throws -> (LlavaModel, TokenLayout, [Float]) {
        let dir = modelsFixtures.appendingPathComponent("llava-tiny-gqa")
        let ref = try SafeTensorsFile(url: dir.appendingPathComponent("reference/reference.safetensors"))
        let model = try LlavaModel(directory: dir)
        let c = model.config
        let ids = try ref.int64s("input_ids").map(Int.init)
        let start = try XCTUnwrap(ids.firstIndex(of: c.imageTokenIndex))
        let layout = TokenLayout(inputIds: ids, image: ImageSpan(start: start, count: c.imageTokenCount, gridOffset: 0,
                                                                  gridColumns: c.vision.gridSide, gridRows: c.vision.gridSide))
        return (model, layout, try ref.floats("pixel_values"))
    }

    func run(_ model: LlavaModel, _ layout: TokenLayout, _ px: [Float], _ clvs: CLVSIntervention?, steps: Int = 1) throws -> GenerationResult {
        let s = model.config.vision.imageSize
        return try model.generate(layout: layout, pixels: px, width: s, height: s,
                                  options: GenerationOptions(maxNewTokens: steps, stopAtEOS: false, eosTokenIds: []),
                                  hooks: clvs.map { [$0] } ?? [], decoderObservers: clvs.map { [$0] } ?? [])
    }

    /// lambda = 1 (additive with weight 0), no unified positions, no termination: CLVS changes nothing.
    func testNeutralSettingsEqualVanilla() throws {
        let (model, layout, px) = try loadGQA()
        let vanilla = try run(model, layout, px, nil, steps: 2)
        var c = CLVSConfig(lambda: 1, gamma: 0.8, delta: 0.5)
        c.unifiedPositions = false
        c.earlyTermination = false
        let clvs = try CLVSIntervention(config: c, model: model, layout: layout)
        let neutral = try run(model, layout, px, clvs, steps: 2)
        XCTAssertEqual(vanilla.generatedIds, neutral.generatedIds)
        // Renormalising a row whose sum is 1 up to rounding changes only the last bits.
        for s in 0..<2 { XCTAssertLessThanOrEqual(maxDiff(vanilla.steps[s].logits, neutral.steps[s].logits), 1e-5) }
        XCTAssertEqual(clvs.records.count, 2)
        XCTAssertTrue(clvs.records.allSatisfy { $0.stopLayer == nil && $0.uncertainty.allSatisfy(\.isNaN) })
    }

    /// The default method changes the logits, records one call per step, and a threshold above 1
    /// stops at the first checked layer.
    func testDefaultAndFirstCheckStop() throws {
        let (model, layout, px) = try loadGQA()
        let vanilla = try run(model, layout, px, nil)
        let clvs = try CLVSIntervention(config: CLVSConfig(), model: model, layout: layout)
        let r = try run(model, layout, px, clvs, steps: 3)
        XCTAssertEqual(clvs.records.count, 3)
        XCTAssertGreaterThan(maxDiff(vanilla.steps[0].logits, r.steps[0].logits), 1e-3)
        let L = model.config.text.numHiddenLayers
        XCTAssertTrue(clvs.records.allSatisfy { $0.memoryAfterLayer.count == L && $0.memoryAfterLayer.allSatisfy { $0.count == layout.image.count } })

        let stopper = try CLVSIntervention(config: CLVSConfig(lambda: 0.8, gamma: 0.8, delta: 1.01), model: model, layout: layout)
        _ = try run(model, layout, px, stopper)
        let first = CLVSConfig().checkStart(layers: L)
        XCTAssertEqual(stopper.records[0].stopLayer, first)
        // After stopping, the memory is frozen.
        XCTAssertEqual(maxDiff(stopper.records[0].memoryAfterLayer[L - 1], stopper.records[0].memoryAfterLayer[first]), 0)
    }

    func testValidation() {
        for (c, name) in [(CLVSConfig(lambda: 2.5, gamma: 0.8, delta: 0.5), "lambda"), (CLVSConfig(lambda: -0.1, gamma: 0.8, delta: 0.5), "lambda"),
                          (CLVSConfig(lambda: 0.8, gamma: 1.5, delta: 0.5), "gamma"), (CLVSConfig(lambda: 0.8, gamma: 0.8, delta: .nan), "delta"),
                          (CLVSConfig(lambda: .infinity, gamma: 0.8, delta: 0.5), "lambda")] {
            XCTAssertThrowsError(try c.validate()) { e in
                guard case let InterventionError.invalidSetting(n, _, _) = e else { return XCTFail("\(e)") }
                XCTAssertEqual(n, name)
            }
        }
        var k = CLVSConfig()
        k.topK = 1
        XCTAssertThrowsError(try k.validate())
        var f = CLVSConfig()
        f.firstCheckLayer = 40
        XCTAssertThrowsError(try f.validate(layers: 32))
        XCTAssertNoThrow(try CLVSConfig(lambda: 2, gamma: 0, delta: -1).validate(layers: 32, vocabulary: 100))
    }

    func testTopKUncertainty() {
        XCTAssertEqual(topKUncertainty([Float](repeating: 3, count: 50), k: 10), 1, accuracy: 1e-12)
        XCTAssertEqual(topKUncertainty([100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], k: 10), 0, accuracy: 1e-12)
        // Only the top k enter: two equal maxima among 10 -> entropy of (~0.5, ~0.5, ~0...).
        let two = topKUncertainty([50, 50] + [Float](repeating: 0, count: 30), k: 10)
        XCTAssertEqual(two, log(2) / log(10), accuracy: 1e-12)
        XCTAssertEqual(topK([1, 5, 3, 5, 2], k: 3).map(\.index), [1, 3, 2])
    }

    /// Smoothing on a hand-made event: memory from layer 0 (no unified positions), then at layer 1
    /// only the last row changes: convex mix on the image keys, whole-row renormalisation.
    func testSmoothingArithmetic() throws {
        let (model, layout, _) = try loadGQA()
        var c = CLVSConfig(lambda: 0.5, gamma: 0.8, delta: 0.5)
        c.unifiedPositions = false
        let clvs = try CLVSIntervention(config: c, model: model, layout: layout)
        let H = 2, Q = 2, K = layout.image.end + 2
        var rng = SystemRandomNumberGenerator()
        func randomRows() -> [Float] {
            var p = (0..<(H * Q * K)).map { _ in Float.random(in: 0.1...1, using: &rng) }
            for r in 0..<(H * Q) {
                let s = p[(r * K)..<((r + 1) * K)].reduce(0, +)
                for j in 0..<K { p[r * K + j] /= s }
            }
            return p
        }
        let zeros = [Float](repeating: 0, count: K * H * 8)
        func event(_ layer: Int, _ buf: UnsafeBufferPointer<Float>) -> AttentionEvent {
            AttentionEvent(site: AttentionSite(tower: .text, layer: layer), heads: H, kvHeads: H, headDim: 8, queryCount: Q,
                           keyCount: K, queryStart: K - Q, causal: true, scale: 1, queries: buf, keys: buf, values: buf, rotary: nil)
        }
        var p0 = randomRows()
        try zeros.withUnsafeBufferPointer { z in try p0.withUnsafeMutableBufferPointer { try clvs.attention(event(0, z), probabilities: $0) } }
        let span = layout.image.range
        let memory = span.map { v in max(p0[(0 * Q + 1) * K + v], p0[(1 * Q + 1) * K + v]) }
        XCTAssertEqual(maxDiff(clvs.memory, memory), 0)
        try zeros.withUnsafeBufferPointer { z in try clvs.layerFinished(layer: 0, hidden: z, rows: Q) }
        let p1 = randomRows()
        var q1 = p1
        try zeros.withUnsafeBufferPointer { z in try q1.withUnsafeMutableBufferPointer { try clvs.attention(event(1, z), probabilities: $0) } }
        for h in 0..<H {
            XCTAssertEqual(maxDiff(Array(q1[(h * Q * K)..<((h * Q + 1) * K)]), Array(p1[(h * Q * K)..<((h * Q + 1) * K)])), 0, "row 0 untouched")
            let base = (h * Q + 1) * K
            var expect = Array(p1[base..<(base + K)])
            for (i, v) in span.enumerated() { expect[v] = 0.5 * expect[v] + 0.5 * memory[i] }
            let s = expect.reduce(0, +)
            for j in 0..<K { XCTAssertEqual(q1[base + j], expect[j] / s, accuracy: 1e-7) }
        }
    }

    /// The unified row equals attention computed directly from pre-RoPE vectors rotated to the
    /// unified positions (the re-rotation of post-RoPE keys is exact up to rounding).
    func testUnifiedPositionsReRotation() throws {
        let (model, layout, _) = try loadGQA()
        let rotary = model.decoder.rotary
        let H = 4, KV = 2, D = 8, K = layout.image.end + 3
        let clvs = try CLVSIntervention(config: CLVSConfig(), model: model, layout: layout)
        var g = SplitMix(seed: 7)
        let qRaw = (0..<(H * D)).map { _ in g.nextFloat() }
        let kRaw = (0..<(K * KV * D)).map { _ in g.nextFloat() }
        var q = qRaw, k = kRaw
        q.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress!, rows: 1, heads: H, positions: [K - 1]) }
        k.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress!, rows: K, heads: KV, positions: Array(0..<K)) }
        var probs = [Float](repeating: 1 / Float(K), count: H * K)
        try q.withUnsafeBufferPointer { qp in try k.withUnsafeBufferPointer { kp in try probs.withUnsafeMutableBufferPointer { pp in
            let e = AttentionEvent(site: AttentionSite(tower: .text, layer: 0), heads: H, kvHeads: KV, headDim: D, queryCount: 1, keyCount: K,
                                   queryStart: K - 1, causal: true, scale: 1 / Float(D).squareRoot(), queries: qp, keys: kp, values: kp, rotary: rotary)
            try clvs.attention(e, probabilities: pp)
        } } }
        // Direct: rotate the raw vectors to the unified positions.
        let s = layout.image.start, n = layout.image.count
        let uni = (0..<K).map { $0 < s ? $0 : ($0 < s + n ? s : $0 - (n - 1)) }
        var qu = qRaw, ku = kRaw
        qu.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress!, rows: 1, heads: H, positions: [uni[K - 1]]) }
        ku.withUnsafeMutableBufferPointer { rotary.apply($0.baseAddress!, rows: K, heads: KV, positions: uni) }
        for h in 0..<H {
            var row = (0..<K).map { j in (0..<D).map { qu[h * D + $0] * ku[(j * KV + h / 2) * D + $0] }.reduce(0, +) / Float(D).squareRoot() }
            row.withUnsafeMutableBufferPointer { Ops.softmaxRows($0.baseAddress!, rows: 1, cols: K) }
            for j in 0..<K { XCTAssertEqual(probs[h * K + j], row[j], accuracy: 2e-6) }
        }
        XCTAssertEqual(clvs.memory.count, n)
    }
}

/// Largest absolute difference (infinity if the lengths differ).
func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) * 2 - 1 }
}
