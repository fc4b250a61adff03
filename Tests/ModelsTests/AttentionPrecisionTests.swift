import FastGEMM
import Models
import XCTest

/// The one attention function with bf16 products: the same probabilities (up to bf16 rounding of
/// Q and K) and outputs as fp32, hooks seeing fp32 rows that sum to 1, GQA and the causal mask kept.
final class AttentionPrecisionTests: XCTestCase {
    final class Capture: AttentionHook {
        var probs: [Float] = []
        func attention(_ event: AttentionEvent, probabilities: UnsafeMutableBufferPointer<Float>) throws {
            probs = Array(probabilities)
        }
    }

    func run(_ precision: Precision, tq: Int, tk: Int, heads: Int, kvHeads: Int, headDim: Int, causal: Bool,
             seed: UInt64) throws -> (out: [Float], probs: [Float], q: [Float], k: [Float], v: [Float]) {
        var s = seed
        func r() -> Float {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2_000_001 - 1_000_000) / 1_000_000
        }
        let q = (0..<(tq * heads * headDim)).map { _ in r() * 2 }
        let k = (0..<(tk * kvHeads * headDim)).map { _ in r() * 2 }
        let v = (0..<(tk * kvHeads * headDim)).map { _ in r() }
        var out = [Float](repeating: .nan, count: tq * heads * headDim)
        let hook = Capture()
        try out.withUnsafeMutableBufferPointer { o in
            try attend(site: AttentionSite(tower: .text, layer: 0), q: q, k: k, v: v, tq: tq, tk: tk, heads: heads,
                       kvHeads: kvHeads, headDim: headDim, scale: 1 / Float(headDim).squareRoot(), causal: causal,
                       queryStart: tk - tq, hooks: [hook], precision: precision, out: o.baseAddress!)
        }
        return (out, hook.probs, q, k, v)
    }

    func testFewQueryRowsKeepFP32Products() throws {
        // A decode step (1 row) and a short chunk: bf16 asked for, fp32 products given, bit for bit.
        for (i, tq) in [1, attentionBF16MinQueries - 1].enumerated() {
            let a = try run(.fp32, tq: tq, tk: 40, heads: 4, kvHeads: 2, headDim: 16, causal: true, seed: UInt64(50 + i))
            let b = try run(.bf16, tq: tq, tk: 40, heads: 4, kvHeads: 2, headDim: 16, causal: true, seed: UInt64(50 + i))
            XCTAssertEqual(a.out.map(\.bitPattern), b.out.map(\.bitPattern), "tq \(tq)")
            XCTAssertEqual(a.probs.map(\.bitPattern), b.probs.map(\.bitPattern), "tq \(tq)")
        }
    }

    func bf16(_ x: [Float]) throws -> [Double] {
        var h = [UInt16](repeating: 0, count: x.count)
        try h.withUnsafeMutableBufferPointer { try FastGEMM.roundToBF16(x, $0.baseAddress!, count: x.count) }
        return h.map { Double(Float(bitPattern: UInt32($0) << 16)) }
    }

    func testBF16ProductsStayWithinBF16RoundingOfFP32() throws {
        try XCTSkipIf(GEMMKernel.best == .portable, "this CPU has neither AVX512-BF16 nor AVX2+FMA+F16C")
        // Prefill (tq = tk, causal), a non-causal vision-like call, a chunk after a cache; GQA and
        // MHA; sizes off the 32-column panel and the 12-row tile.
        let cases: [(tq: Int, tk: Int, heads: Int, kvHeads: Int, headDim: Int, causal: Bool)] = [
            (45, 45, 4, 2, 24, true), (50, 50, 3, 3, 20, false), (16, 70, 8, 2, 32, true),
        ]
        for (i, c) in cases.enumerated() {
            let a = try run(.fp32, tq: c.tq, tk: c.tk, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim,
                            causal: c.causal, seed: UInt64(i + 1))
            let b = try run(.bf16, tq: c.tq, tk: c.tk, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim,
                            causal: c.causal, seed: UInt64(i + 1))
            // Scores |q.k| * scale <= 2*2*headDim/sqrt(headDim); bf16 inputs move each product by
            // <= 2^-8 relative, so a score by <= 2^-8 * 4 * sqrt(headDim); a probability p by
            // <= p * 2 * that (softmax), an output by that plus the bf16 rounding of p and v.
            let scoreError = Float(4 * Double(c.headDim).squareRoot() / 256)
            var worstP: Float = 0, worstO: Float = 0, diff = 0
            for (x, y) in zip(a.probs, b.probs) {
                worstP = max(worstP, abs(x - y) / max(x, 1e-6) > 2 * scoreError ? abs(x - y) : 0)
                if x != y { diff += 1 }
            }
            XCTAssertEqual(worstP, 0, "case \(i): a probability moved beyond the bf16 bound")
            XCTAssertGreaterThan(diff, 0, "case \(i): bf16 gave fp32's probabilities bit for bit: were the products bf16?")
            for (x, y) in zip(a.out, b.out) { worstO = max(worstO, abs(x - y)) }
            XCTAssertLessThan(worstO, 4 * scoreError + 2.0 / 256, "case \(i): output")
            // Rows of the bf16 probabilities sum to 1 and respect the causal mask.
            for h in 0..<c.heads {
                for r in 0..<c.tq {
                    let row = Array(b.probs[((h * c.tq + r) * c.tk)..<((h * c.tq + r + 1) * c.tk)])
                    XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5)
                    if c.causal {
                        let last = c.tk - c.tq + r
                        XCTAssertTrue(row[(last + 1)...].allSatisfy { $0 == 0 }, "case \(i): a masked key has weight")
                    }
                }
            }
            XCTAssertFalse(b.out.contains { $0.isNaN }, "case \(i): an output was not written")

            // Exactly what bf16 promises: products of bf16-rounded Q, K (then the scale), and of
            // bf16-rounded probabilities and V, computed here in Double; only the fp32
            // accumulation order may differ.
            let (q16, k16, v16, p16) = (try bf16(b.q), try bf16(b.k), try bf16(b.v), try bf16(b.probs))
            let group = c.heads / c.kvHeads, scale = 1 / Double(c.headDim).squareRoot()
            var worstRef: Double = 0, worstOut: Double = 0
            for h in 0..<c.heads {
                let kvh = h / group
                for r in 0..<c.tq {
                    let last = c.causal ? c.tk - c.tq + r : c.tk - 1
                    var scores = [Double](repeating: -.infinity, count: c.tk)
                    for j in 0...last {
                        var dot = 0.0
                        for d in 0..<c.headDim {
                            dot += q16[(r * c.heads + h) * c.headDim + d] * k16[(j * c.kvHeads + kvh) * c.headDim + d]
                        }
                        scores[j] = dot * scale
                    }
                    let mx = scores.max()!
                    let e = scores.map { exp($0 - mx) }
                    let sum = e.reduce(0, +)
                    for j in 0..<c.tk {
                        worstRef = max(worstRef, abs(e[j] / sum - Double(b.probs[(h * c.tq + r) * c.tk + j])))
                    }
                    for d in 0..<c.headDim {
                        var o = 0.0
                        for j in 0..<c.tk { o += p16[(h * c.tq + r) * c.tk + j] * v16[(j * c.kvHeads + kvh) * c.headDim + d] }
                        worstOut = max(worstOut, abs(o - Double(b.out[(r * c.heads + h) * c.headDim + d])))
                    }
                }
            }
            XCTAssertLessThan(worstRef, 2e-6, "case \(i): probabilities against the bf16-input reference")
            XCTAssertLessThan(worstOut, 2e-6, "case \(i): outputs against the bf16-input reference")
        }
    }
}
