@testable import Analysis
import XCTest

final class RLETests: XCTestCase {
    private func oracles() throws -> [String: Any] {
        try XCTUnwrap(loadJSONFixture("coco/rle_oracles.json") as? [String: Any])
    }

    /// mask_rows ([h][w]) of the oracle -> row-major bytes.
    private func rowMajor(_ rows: Any?) throws -> [UInt8] {
        let r = try XCTUnwrap(rows as? [[Any]])
        return r.flatMap { $0.map { UInt8(($0 as? Int) ?? 0) } }
    }

    func testToyMasksEncodeDecodeStringAreaBbox() throws {
        let toys = try XCTUnwrap(try oracles()["toy_masks"] as? [[String: Any]])
        XCTAssertEqual(toys.count, 7)
        for t in toys {
            let h = try XCTUnwrap(t["h"] as? Int), w = try XCTUnwrap(t["w"] as? Int)
            let mask = try rowMajor(t["mask_rows"])
            let rle = try RLE(mask: mask, height: h, width: w)
            XCTAssertEqual(rle.counts, ints(t["uncompressed_counts_colmajor"]))
            XCTAssertEqual(rle.compressedString, t["counts"] as? String)
            XCTAssertEqual(rle.area, t["area"] as? Int)
            XCTAssertEqual(rle.bbox, doubles(t["bbox"]))
            XCTAssertEqual(rle.decode(), mask)
            let back = try RLE(compressed: try XCTUnwrap(t["counts"] as? String), height: h, width: w)
            XCTAssertEqual(back, rle)
            // column-major round trip
            let cm = rle.decode(order: .columnMajor)
            XCTAssertEqual(try RLE(mask: cm, height: h, width: w, order: .columnMajor), rle)
        }
    }

    func testToyPolygonsPerPartAndMerged() throws {
        let toys = try XCTUnwrap(try oracles()["toy_polygons"] as? [[String: Any]])
        XCTAssertEqual(toys.count, 3)
        for t in toys {
            let h = try XCTUnwrap(t["h"] as? Int), w = try XCTUnwrap(t["w"] as? Int)
            let polys = try XCTUnwrap(t["poly"] as? [[Any]]).map { $0.compactMap(double) }
            let parts = try RLE.polygons(polys, height: h, width: w)
            XCTAssertEqual(parts.map(\.compressedString), t["per_polygon_counts"] as? [String])
            let merged = try RLE.merge(parts)
            XCTAssertEqual(merged.compressedString, t["merged_counts"] as? String)
            XCTAssertEqual(merged.area, t["area"] as? Int)
            XCTAssertEqual(merged.bbox, doubles(t["bbox"]))
            XCTAssertEqual(merged.decode(), try rowMajor(t["mask_rows"]))
        }
    }

    func testToyBox() throws {
        let t = try XCTUnwrap(try oracles()["toy_bbox"] as? [String: Any])
        let h = try XCTUnwrap(t["h"] as? Int), w = try XCTUnwrap(t["w"] as? Int)
        let rle = try RLE(box: try XCTUnwrap(doubles(t["bbox_xywh"])), height: h, width: w)
        XCTAssertEqual(rle.compressedString, t["counts"] as? String)
        XCTAssertEqual(rle.area, t["area"] as? Int)
        XCTAssertEqual(rle.decode(), try rowMajor(t["mask_rows"]))
    }

    /// Random polygons, boxes and merges against pycocotools `frPyObjects` / `merge`
    /// (Fixtures/raster_fixture.json from make_fixtures.py).
    func testRandomPolygonsBoxesAndMergesMatchPycocotools() throws {
        let f = try XCTUnwrap(loadJSONFixture("raster_fixture.json") as? [String: Any])
        let polys = try XCTUnwrap(f["polygons"] as? [[String: Any]])
        XCTAssertEqual(polys.count, 120)
        for (i, p) in polys.enumerated() {
            let h = try XCTUnwrap(p["h"] as? Int), w = try XCTUnwrap(p["w"] as? Int)
            let rle = try RLE(polygon: try XCTUnwrap(doubles(p["xy"])), height: h, width: w)
            XCTAssertEqual(rle.compressedString, p["counts"] as? String, "polygon \(i)")
            XCTAssertEqual(rle.area, p["area"] as? Int, "polygon \(i)")
            XCTAssertEqual(rle.bbox, doubles(p["bbox"]), "polygon \(i)")
        }
        let boxes = try XCTUnwrap(f["boxes"] as? [[String: Any]])
        XCTAssertEqual(boxes.count, 30)
        for (i, b) in boxes.enumerated() {
            let h = try XCTUnwrap(b["h"] as? Int), w = try XCTUnwrap(b["w"] as? Int)
            let rle = try RLE(box: try XCTUnwrap(doubles(b["box"])), height: h, width: w)
            XCTAssertEqual(rle.compressedString, b["counts"] as? String, "box \(i)")
        }
        let merges = try XCTUnwrap(f["merges"] as? [[String: Any]])
        XCTAssertEqual(merges.count, 30)
        for (i, m) in merges.enumerated() {
            let h = try XCTUnwrap(m["h"] as? Int), w = try XCTUnwrap(m["w"] as? Int)
            let parts = try XCTUnwrap(m["parts"] as? [Any]).compactMap(doubles)
            let rles = try RLE.polygons(parts, height: h, width: w)
            XCTAssertEqual(try RLE.merge(rles).compressedString, m["union"] as? String, "merge \(i)")
            XCTAssertEqual(try RLE.merge(rles, intersect: true).compressedString, m["intersection"] as? String, "merge \(i)")
        }
    }

    func testStringWithNegativeDeltasRoundTrips() throws {
        // Deltas against the run two back are signed: "O" (=31) is -1, "N" is -2.
        let rle = try RLE(compressed: "21120N2", height: 4, width: 3)
        XCTAssertEqual(rle.counts, [2, 1, 1, 3, 1, 1, 3])
        XCTAssertEqual(rle.compressedString, "21120N2")
        let big = try RLE(height: 1000, width: 1000, counts: [123_456, 70_000, 1, 806_543])
        XCTAssertEqual(try RLE(compressed: big.compressedString, height: 1000, width: 1000), big)
    }

    func testBadStringsAreErrors() {
        XCTAssertThrowsError(try RLE(compressed: "23 1", height: 7, width: 1)) { e in
            XCTAssertEqual(e as? MaskError, .badRLECharacter(context: "RLE string", position: 2, character: " "))
        }
        XCTAssertThrowsError(try RLE(compressed: "2p", height: 7, width: 1)) { e in
            guard case .badRLECharacter(_, 1, "p")? = e as? MaskError else { return XCTFail("\(e)") }
        }
        // counts past h*w
        XCTAssertThrowsError(try RLE(compressed: "231N", height: 6, width: 1)) { e in
            XCTAssertEqual(e as? MaskError, .countsDoNotCoverMask(context: "RLE string", sum: 7, expected: 6))
        }
        // too few pixels
        XCTAssertThrowsError(try RLE(compressed: "231N", height: 9, width: 1)) { e in
            guard case .countsDoNotCoverMask(_, 7, 9)? = e as? MaskError else { return XCTFail("\(e)") }
        }
        // negative run: the 4th value is a delta of -3 against the 2nd run (1) -> -2
        XCTAssertThrowsError(try RLE(compressed: "2" + "1" + "1" + "M", height: 4, width: 1)) { e in
            guard case .negativeRun(_, 3, -2)? = e as? MaskError else { return XCTFail("\(e)") }
        }
        // a first value that is itself negative ('@' = 48 + 0x10: sign bit set, no continuation = -16)
        XCTAssertThrowsError(try RLE(compressed: "@", height: 4, width: 1)) { e in
            guard case .negativeRun(_, 0, -16)? = e as? MaskError else { return XCTFail("\(e)") }
        }
        // string ending inside a value ('`' = 48 + 0x30 has the continuation bit)
        XCTAssertThrowsError(try RLE(compressed: "2`", height: 4, width: 1)) { e in
            guard case .malformedRLEString? = e as? MaskError else { return XCTFail("\(e)") }
        }
        // uncompressed counts: negative and wrong sum
        XCTAssertThrowsError(try RLE(height: 2, width: 2, counts: [1, -1, 4])) { e in
            guard case .negativeRun(_, 1, -1)? = e as? MaskError else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try RLE(height: 2, width: 2, counts: [1, 2, 3]))
        XCTAssertThrowsError(try RLE(height: 0, width: 2, counts: []))
        XCTAssertThrowsError(try RLE(mask: [1, 0, 1], height: 2, width: 2))
    }

    func testMergeUnionIntersectionAndSizeMismatch() throws {
        // 3x2 masks, row-major
        let a = try RLE(mask: [1, 0, 1, 0, 0, 0], height: 3, width: 2)
        let b = try RLE(mask: [1, 1, 0, 0, 0, 1], height: 3, width: 2)
        XCTAssertEqual(try a.union(b).decode(), [1, 1, 1, 0, 0, 1])
        XCTAssertEqual(try a.intersection(b).decode(), [1, 0, 0, 0, 0, 0])
        XCTAssertEqual(try a.union(b).counts, [0, 2, 1, 1, 1, 1])
        XCTAssertEqual(a.inverted().decode(), [0, 1, 0, 1, 1, 1])
        // non-canonical input (zero-length inner run) merges to the canonical form
        let nc = try RLE(height: 3, width: 2, counts: [2, 0, 1, 3])
        XCTAssertEqual(try RLE.merge([nc, try RLE.empty(height: 3, width: 2)]).counts, [3, 3])
        XCTAssertEqual(try RLE.merge([nc]).counts, [2, 0, 1, 3], "one mask is returned unchanged, as pycocotools")
        XCTAssertThrowsError(try RLE.merge([a, try RLE.empty(height: 2, width: 3)])) { e in
            guard case .sizeMismatch? = e as? MaskError else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try RLE.merge([]))
    }

    func testBboxOfRunWrappingColumnsSpansFullHeight() throws {
        // ones from (x0, y2) to (x1, y0): wraps a column -> pycocotools gives full height
        let rle = try RLE(height: 3, width: 2, counts: [2, 2, 2])
        XCTAssertEqual(rle.bbox, [0, 0, 2, 3])
        XCTAssertEqual(try RLE.empty(height: 3, width: 2).bbox, [0, 0, 0, 0])
    }

    func testPolygonEdgeCases() throws {
        // a repeated vertex (zero-length edge) does not change the mask
        let square = try RLE(polygon: [1, 1, 8, 1, 8, 6, 1, 6], height: 10, width: 10)
        let repeated = try RLE(polygon: [1, 1, 8, 1, 8, 1, 8, 6, 1, 6], height: 10, width: 10)
        XCTAssertEqual(square, repeated)
        XCTAssertEqual(square.area, 35)
        // fewer than two vertices -> empty
        XCTAssertEqual(try RLE(polygon: [3, 3], height: 5, width: 5).area, 0)
        XCTAssertEqual(try RLE(polygon: [], height: 5, width: 5).area, 0)
        // partly outside the image is clipped, not an error
        XCTAssertEqual(try RLE(polygon: [-5, -5, 20, -5, 20, 20, -5, 20], height: 4, width: 3).area, 12)
        XCTAssertThrowsError(try RLE(polygon: [0, 0, .nan, 1, 2, 2], height: 4, width: 4)) { e in
            guard case .badCoordinate? = e as? MaskError else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try RLE(polygon: [0, 0, 1e12, 1, 2, 2], height: 4, width: 4))
        XCTAssertThrowsError(try RLE(box: [1, 2, 3], height: 4, width: 4))
    }
}
