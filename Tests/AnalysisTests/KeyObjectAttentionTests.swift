@testable import Analysis
import XCTest

final class KeyObjectAttentionTests: XCTestCase {
    /// [layers 2, heads 2, tokens 4]
    private func sample() throws -> VisualAttention {
        try VisualAttention(layers: 2, heads: 2, tokens: 4, values: [
            0.1, 0.2, 0.3, 0.0, // layer 0 head 0
            0.3, 0.0, 0.1, 0.2, // layer 0 head 1
            0.05, 0.05, 0.4, 0.1, // layer 1 head 0
            0.15, 0.25, 0.0, 0.2, // layer 1 head 1
        ])
    }

    func testHeadMeanAndShare() throws {
        let att = try sample()
        // head means: layer 0 [0.2, 0.1, 0.2, 0.1], layer 1 [0.1, 0.15, 0.2, 0.15]; key tokens 0 and 2
        let k = try KeyObjectAttention(attention: att, keyTokens: [true, false, true, false])
        XCTAssertEqual(k.mass[0], 0.4, accuracy: 1e-7)
        XCTAssertEqual(k.mass[1], 0.3, accuracy: 1e-7)
        XCTAssertEqual(k.visualMass[0], 0.6, accuracy: 1e-7)
        XCTAssertEqual(k.visualMass[1], 0.6, accuracy: 1e-7)
        XCTAssertEqual(try XCTUnwrap(k.share[0]), 2.0 / 3.0, accuracy: 1e-7)
        XCTAssertEqual(try XCTUnwrap(k.share[1]), 0.5, accuracy: 1e-7)
        XCTAssertEqual(try LayerAnalysis.peakLayer(k.mass), 0)
    }

    func testHeadMax() throws {
        let att = try sample()
        // head max: layer 0 [0.3, 0.2, 0.3, 0.2], layer 1 [0.15, 0.25, 0.4, 0.2]
        let k = try KeyObjectAttention(attention: att, keyTokens: [true, false, true, false], pooling: .max)
        XCTAssertEqual(k.mass[0], 0.6, accuracy: 1e-7)
        XCTAssertEqual(k.mass[1], 0.55, accuracy: 1e-7)
        XCTAssertEqual(k.visualMass[1], 1.0, accuracy: 1e-7)
        // other key tokens move the peak: tokens 1 and 2 -> layer 0: 0.5, layer 1: 0.65
        let k2 = try KeyObjectAttention(attention: att, keyTokens: [false, true, true, false], pooling: .max)
        XCTAssertEqual(try LayerAnalysis.peakLayer(k2.mass), 1)
    }

    func testZeroVisualMassGivesNilShareAndErrors() throws {
        let att = try VisualAttention(layers: 1, heads: 1, tokens: 2, values: [0, 0])
        let k = try KeyObjectAttention(attention: att, keyTokens: [true, false])
        XCTAssertEqual(k.share, [nil])
        XCTAssertThrowsError(try VisualAttention(layers: 1, heads: 2, tokens: 2, values: [0, 0, 0])) { e in
            XCTAssertEqual(e as? AttentionAnalysisError, .shapeMismatch(context: "VisualAttention [1, 2, 2]", count: 3, expected: 4))
        }
        XCTAssertThrowsError(try VisualAttention(layers: 1, heads: 1, tokens: 2, values: [0, .nan]))
        XCTAssertThrowsError(try KeyObjectAttention(attention: att, keyTokens: [true])) { e in
            XCTAssertEqual(e as? AttentionAnalysisError, .tokenCountMismatch(tokens: 2, gridCells: 1))
        }
    }

    func testPeakLayerTiesAndErrors() throws {
        XCTAssertEqual(try LayerAnalysis.peakLayer([0.1, 0.3, 0.3, 0.2]), 1, "ties go to the lowest layer")
        XCTAssertThrowsError(try LayerAnalysis.peakLayer([]))
        XCTAssertThrowsError(try LayerAnalysis.peakLayer([0.1, .nan]))
        XCTAssertEqual(try LayerAnalysis.peakHistogram([0, 2, 2, 3], layerCount: 4), [1, 0, 2, 1])
        XCTAssertThrowsError(try LayerAnalysis.peakHistogram([4], layerCount: 4))
    }

    func testRelativeIncreaseClippedAt100Percent() throws {
        let r = try LayerAnalysis.relativeIncrease(method: [0.3, 0.5, 0.2, 0, 0.1], base: [0.2, 0.2, 0.4, 0, 0])
        // +50%, +150% clipped to +100%, -50% (no lower clip), 0/0 -> 0, x/0 -> clip
        XCTAssertEqual(r.count, 5)
        XCTAssertEqual(r[0], 0.5, accuracy: 1e-15)
        XCTAssertEqual(r[1], 1.0)
        XCTAssertEqual(r[2], -0.5, accuracy: 1e-15)
        XCTAssertEqual(r[3], 0)
        XCTAssertEqual(r[4], 1.0)
        let mean = try LayerAnalysis.meanRelativeIncrease([
            (method: [0.3, 0.5], base: [0.2, 0.2]), // [0.5, 1.0]
            (method: [0.1, 0.2], base: [0.2, 0.4]), // [-0.5, -0.5]
        ])
        XCTAssertEqual(mean[0], 0, accuracy: 1e-15)
        XCTAssertEqual(mean[1], 0.25, accuracy: 1e-15)
        XCTAssertEqual(try LayerAnalysis.mean([0, 1, 2, 3, 4], layers: 1...3), 2)
        XCTAssertThrowsError(try LayerAnalysis.mean([0, 1], layers: 1...2))
        XCTAssertThrowsError(try LayerAnalysis.relativeIncrease(method: [1], base: [1, 2]))
        XCTAssertThrowsError(try LayerAnalysis.relativeIncrease(method: [1], base: [-1]))
    }

    func testConvergence() {
        XCTAssertEqual(LayerAnalysis.converged(top1: [5, 7, 7, 9, 7, 7], finalToken: 7), [false, false, false, false, true, true])
        XCTAssertEqual(LayerAnalysis.converged(top1: [7, 7], finalToken: 7), [true, true])
        XCTAssertEqual(LayerAnalysis.converged(top1: [7, 3], finalToken: 7), [false, false])
    }

    /// Mask coverage feeds the token selection: a 2x2 grid whose top row is on the object.
    func testCoverageToKeyTokensToAttention() throws {
        let input: [UInt8] = [1, 1, 1, 1, 0, 0, 0, 0] // 4x2 model input, top row set
        let cov = try MaskMapping.coverage(modelInputMask: input, width: 4, height: 2, grid: PatchGrid(columns: 2, rows: 2))
        XCTAssertEqual(cov.keyTokens(), [true, true, false, false])
        let att = try VisualAttention(layers: 1, heads: 1, tokens: 4, values: [0.1, 0.2, 0.3, 0.4])
        let k = try KeyObjectAttention(attention: att, keyTokens: cov.keyTokens())
        XCTAssertEqual(k.mass[0], 0.3, accuracy: 1e-7)
    }
}
