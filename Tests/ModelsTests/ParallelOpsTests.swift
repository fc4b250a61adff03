import XCTest
import Tensors

/// Activations and norms split long inputs over the cores; every element (row) must come out as
/// it does alone.
final class ParallelOpsTests: XCTestCase {
    func values(_ count: Int, seed s: UInt64) -> [Float] {
        var seed = s
        return (0..<count).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: seed >> 11) % 2_000_001 - 1_000_000) / 100_000  // [-10, 10]
        }
    }

    struct Failed: Error, Equatable { let index: Int }

    func testForEachThrowingRunsEveryIndexAndRethrowsTheLowestFailure() {
        let n = 64
        var ran = [Int](repeating: 0, count: n)
        XCTAssertThrowsError(try ran.withUnsafeMutableBufferPointer { seen in
            try Parallel.forEachThrowing(n) { i in
                seen[i] += 1
                if i % 7 == 3 { throw Failed(index: i) }
            }
        }) { XCTAssertEqual($0 as? Failed, Failed(index: 3)) }
        XCTAssertEqual(ran, [Int](repeating: 1, count: n))
        XCTAssertNoThrow(try Parallel.forEachThrowing(n) { _ in })
        XCTAssertNoThrow(try Parallel.forEachThrowing(0) { _ in XCTFail("no index to run") })
    }

    func testParallelNormsEqualRowByRow() {
        let rows = 301, cols = 512  // above the split threshold, rows not a multiple of the workers
        let input = values(rows * cols, seed: 7)
        let w = values(cols, seed: 8), b = values(cols, seed: 9)
        var whole = input, alone = input
        whole.withUnsafeMutableBufferPointer { Ops.rmsNorm($0.baseAddress!, rows: rows, cols: cols, weight: w, eps: 1e-5) }
        alone.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows { Ops.rmsNorm(p.baseAddress! + r * cols, rows: 1, cols: cols, weight: w, eps: 1e-5) }
        }
        XCTAssertEqual(whole.map(\.bitPattern), alone.map(\.bitPattern), "rmsNorm")
        XCTAssertNotEqual(whole.map(\.bitPattern), input.map(\.bitPattern))
        // Row 0 of an RMSNorm has mean square 1 before the weight.
        let row = (0..<cols).map { Double(whole[$0]) / Double(w[$0]) }
        XCTAssertEqual(row.map { $0 * $0 }.reduce(0, +) / Double(cols), 1, accuracy: 1e-3)
        whole = input
        alone = input
        whole.withUnsafeMutableBufferPointer { Ops.layerNorm($0.baseAddress!, rows: rows, cols: cols, weight: w, bias: b, eps: 1e-5) }
        alone.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows { Ops.layerNorm(p.baseAddress! + r * cols, rows: 1, cols: cols, weight: w, bias: b, eps: 1e-5) }
        }
        XCTAssertEqual(whole.map(\.bitPattern), alone.map(\.bitPattern), "layerNorm")
    }

    func testParallelApplyEqualsElementwiseForEveryActivation() {
        let count = Activation.parallelThreshold * 2 + 37  // split into parts with a short tail
        let input = values(count, seed: 0x9E3779B97F4A7C15)
        let up: [Float] = input.reversed()
        for act in Activation.allCases {
            var alone = input
            alone.withUnsafeMutableBufferPointer { p in
                for i in 0..<count { act.apply(p.baseAddress! + i, count: 1) }  // below the threshold: serial
            }
            var whole = input
            whole.withUnsafeMutableBufferPointer { act.apply($0.baseAddress!, count: count) }
            XCTAssertEqual(whole.map(\.bitPattern), alone.map(\.bitPattern), "\(act)")
            XCTAssertNotEqual(whole.map(\.bitPattern), input.map(\.bitPattern), "\(act) changed nothing")

            var gated = input
            gated.withUnsafeMutableBufferPointer { g in
                up.withUnsafeBufferPointer { act.applyGated(g.baseAddress!, times: $0.baseAddress!, count: count) }
            }
            let expected = zip(alone, up).map { $0 * $1 }
            XCTAssertEqual(gated.map(\.bitPattern), expected.map(\.bitPattern), "\(act) gated")
        }
    }

    func testSiLUValues() {
        var x: [Float] = [-2, 0, 1, 3]
        x.withUnsafeMutableBufferPointer { Activation.silu.apply($0.baseAddress!, count: 4) }
        for (got, v) in zip(x, [-2, 0, 1, 3] as [Double]) {
            XCTAssertEqual(Double(got), v / (1 + exp(-v)), accuracy: 1e-6)
        }
    }
}
