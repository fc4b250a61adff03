import FastGEMM
import XCTest

/// `HalfGEMV` (the fp32 path's decode GEMV on fp16/bf16 weights) against an independent model of
/// its documented summation order, bit for bit, and against fp64 within fp32 rounding.
final class HalfGEMVTests: XCTestCase {
    /// Per output: 8 fused lanes over k = 8 i + lane, lanes summed ((0+4)+(2+6))+((1+5)+(3+7)),
    /// then the K % 8 tail fused in k order.
    func model(_ a: [Float], _ w: [Float], m: Int, n: Int, k: Int) -> [Float] {
        var out = [Float](repeating: 0, count: m * n)
        let k8 = k / 8 * 8
        for i in 0..<m {
            for j in 0..<n {
                var lane = [Float](repeating: 0, count: 8)
                for kk in 0..<k8 { lane[kk % 8] = lane[kk % 8].addingProduct(a[i * k + kk], w[j * k + kk]) }
                var s = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]))
                for kk in k8..<k { s = s.addingProduct(a[i * k + kk], w[j * k + kk]) }
                out[i * n + j] = s
            }
        }
        return out
    }

    func run(_ type: WeightSourceType, bits: [UInt16], a: [Float], m: Int, n: Int, k: Int, split: [Range<Int>]) throws -> [Float] {
        var c = [Float](repeating: .nan, count: m * n)
        try a.withUnsafeBufferPointer { ap in
            try bits.withUnsafeBytes { wp in
                try c.withUnsafeMutableBufferPointer { cp in
                    for r in split {
                        try HalfGEMV.multiply(type: type, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, w: wp.baseAddress!,
                                              c: cp.baseAddress!, ldc: n, columns: r)
                    }
                }
            }
        }
        return c
    }

    func testMatchesTheOrderModelBitForBitAndAnySplit() throws {
        try XCTSkipUnless(HalfGEMV.isSupported, "this CPU has no AVX2+FMA+F16C")
        var rng = Rng(5)
        for (m, n, k) in [(1, 1, 1), (1, 9, 7), (2, 17, 8), (1, 70, 203), (4, 33, 64), (3, 8, 4099)] {
            let a = (0..<(m * k)).map { _ in rng.normal(1) }
            let wf = (0..<(n * k)).map { _ in rng.normal(0.05) }
            for type in [WeightSourceType.float16, .bfloat16] {
                let bits: [UInt16] = type == .float16 ? wf.map { Float16($0).bitPattern } : wf.map(modelBF16)
                let w: [Float] = type == .float16 ? bits.map { Float(Float16(bitPattern: $0)) } : bits.map(bf16ToFloat)
                let expected = model(a, w, m: m, n: n, k: k)
                let whole = try run(type, bits: bits, a: a, m: m, n: n, k: k, split: [0..<n])
                let cut = n / 3
                let parts = try run(type, bits: bits, a: a, m: m, n: n, k: k, split: [cut..<n, 0..<cut])
                for i in 0..<(m * n) {
                    XCTAssertEqual(whole[i].bitPattern, expected[i].bitPattern, "\(type) m\(m) n\(n) k\(k) [\(i)]: \(whole[i]) vs \(expected[i])")
                    XCTAssertEqual(parts[i].bitPattern, whole[i].bitPattern, "\(type) split m\(m) n\(n) k\(k) [\(i)]")
                    var ref = 0.0
                    for kk in 0..<k { ref += Double(a[(i / n) * k + kk]) * Double(w[(i % n) * k + kk]) }
                    let scale = (0..<k).reduce(0.0) { $0 + abs(Double(a[(i / n) * k + $1]) * Double(w[(i % n) * k + $1])) }
                    XCTAssertLessThanOrEqual(abs(Double(whole[i]) - ref), Double(k) * 0x1p-23 * scale + 1e-30, "fp64 check")
                }
            }
        }
    }

    func testBadArgumentsThrowAndWriteNothing() throws {
        try XCTSkipUnless(HalfGEMV.isSupported, "this CPU has no AVX2+FMA+F16C")
        let a: [Float] = [1, 2], w: [UInt16] = [0, 0, 0, 0]
        var c: [Float] = [7, 7]
        try a.withUnsafeBufferPointer { ap in
            try w.withUnsafeBytes { wp in
                try c.withUnsafeMutableBufferPointer { cp in
                    XCTAssertThrowsError(try HalfGEMV.multiply(type: .float16, m: 1, n: 2, k: 2, a: ap.baseAddress!, lda: 1,
                                                               w: wp.baseAddress!, c: cp.baseAddress!, ldc: 2, columns: 0..<2))
                    XCTAssertThrowsError(try HalfGEMV.multiply(type: .float16, m: 1, n: 2, k: 2, a: ap.baseAddress!, lda: 2,
                                                               w: wp.baseAddress!, c: cp.baseAddress!, ldc: 2, columns: 0..<3))
                    XCTAssertThrowsError(try HalfGEMV.multiply(type: .float32, m: 1, n: 2, k: 2, a: ap.baseAddress!, lda: 2,
                                                               w: wp.baseAddress!, c: cp.baseAddress!, ldc: 2, columns: 0..<2))
                }
            }
        }
        XCTAssertEqual(c, [7, 7])
    }
}
