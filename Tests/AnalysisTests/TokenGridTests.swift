@testable import Analysis
import Imaging
import XCTest

final class TokenGridTests: XCTestCase {
    func testCLIPGeometryBuilder() throws {
        // landscape, no pad: 640x480 -> 448x336, crop 336 starts at x = (448 - 336) / 2 = 56
        var g = try ImageGeometry.clipPreprocessor(originalWidth: 640, originalHeight: 480, padToSquare: false,
                                                   shortestEdge: 336, crop: (336, 336))
        XCTAssertNil(g.pad)
        XCTAssertEqual([g.resizedWidth, g.resizedHeight, g.cropX, g.cropY, g.outputWidth, g.outputHeight], [448, 336, 56, 0, 336, 336])
        // pad to square: 640x480 on a 640 canvas at y = 80
        g = try ImageGeometry.clipPreprocessor(originalWidth: 640, originalHeight: 480, padToSquare: true,
                                               shortestEdge: 336, crop: (336, 336))
        XCTAssertEqual(g.pad, ImageGeometry.Pad(size: 640, offsetX: 0, offsetY: 80))
        XCTAssertEqual([g.resizedWidth, g.resizedHeight, g.cropX, g.cropY], [336, 336, 0, 0])
        // portrait, odd padding: 333x500 -> canvas 500 at x = 83
        g = try ImageGeometry.clipPreprocessor(originalWidth: 333, originalHeight: 500, padToSquare: true,
                                               shortestEdge: 336, crop: (336, 336))
        XCTAssertEqual(g.pad, ImageGeometry.Pad(size: 500, offsetX: 83, offsetY: 0))
        // truncation of the long side: int(336 * 500 / 333) = int(504.50...) = 504; crop y = 84
        g = try ImageGeometry.clipPreprocessor(originalWidth: 333, originalHeight: 500, padToSquare: false,
                                               shortestEdge: 336, crop: (336, 336))
        XCTAssertEqual([g.resizedWidth, g.resizedHeight, g.cropX, g.cropY], [336, 504, 0, 84])
        // odd difference: int((449 - 336) / 2.0) = 56
        g = try ImageGeometry.clipPreprocessor(originalWidth: 449, originalHeight: 336, padToSquare: false,
                                               shortestEdge: 336, crop: (336, 336))
        XCTAssertEqual([g.resizedWidth, g.cropX], [449, 56])
        // crop larger than the image: negative offsets floor((r - c) / 2), as the PIL backend
        // (which the image preprocessor reproduces bit-exactly) pads: floor(-35 / 2) = -18
        g = try ImageGeometry.clipPreprocessor(originalWidth: 300, originalHeight: 300, padToSquare: false,
                                               shortestEdge: nil, crop: (335, 336))
        XCTAssertEqual([g.resizedWidth, g.resizedHeight, g.cropX, g.cropY], [300, 300, -18, -18])
        // a square image gets a trivial pad record (offset 0): the same record the preprocessor returns
        XCTAssertEqual(try ImageGeometry.clipPreprocessor(originalWidth: 50, originalHeight: 50, padToSquare: true,
                                                          shortestEdge: 10, crop: nil).pad,
                       ImageGeometry.Pad(size: 50, offsetX: 0, offsetY: 0))
        XCTAssertThrowsError(try ImageGeometry.clipPreprocessor(originalWidth: 0, originalHeight: 5, padToSquare: false,
                                                                shortestEdge: 3, crop: nil))
        XCTAssertThrowsError(try ImageGeometry.clipPreprocessor(originalWidth: 5, originalHeight: 5, padToSquare: false,
                                                                shortestEdge: 3, crop: (0, 3)))
    }

    /// 20x10 original, rectangle x in [4, 12), y in [2, 6); resize shortest edge to 5 (scale 1/2,
    /// 10x5), crop 6x4 at (2, 0). Output pixel x samples original column 2x + 5 -> 5, 7, 9, 11, 13, 15;
    /// row y samples 2y + 1 -> 1, 3, 5, 7. Set: columns 0...3, rows 1...2.
    func testRectangleThroughResizeAndCrop() throws {
        let w = 20, h = 10
        var mask = [UInt8](repeating: 0, count: w * h)
        for y in 2..<6 { for x in 4..<12 { mask[y * w + x] = 1 } }
        let g = try ImageGeometry.clipPreprocessor(originalWidth: w, originalHeight: h, padToSquare: false,
                                                   shortestEdge: 5, crop: (6, 4))
        XCTAssertEqual([g.resizedWidth, g.resizedHeight, g.cropX, g.cropY], [10, 5, 2, 0])
        let input = try MaskMapping.modelInputMask(mask, width: w, height: h, geometry: g)
        XCTAssertEqual(input, [0, 0, 0, 0, 0, 0,
                               1, 1, 1, 1, 0, 0,
                               1, 1, 1, 1, 0, 0,
                               0, 0, 0, 0, 0, 0])
        // grid 3 columns x 2 rows: 2x2-pixel patches
        let c = try MaskMapping.coverage(modelInputMask: input, width: 6, height: 4, grid: PatchGrid(columns: 3, rows: 2))
        XCTAssertEqual(c.fractions, [0.5, 0.5, 0, 0.5, 0.5, 0])
        XCTAssertEqual(c.anyPixel, [true, true, false, true, true, false])
        XCTAssertEqual(c.patchPixels, [4, 4, 4, 4, 4, 4])
        // the RLE path gives the same
        let rle = try RLE(mask: mask, height: h, width: w)
        XCTAssertEqual(try MaskMapping.coverage(of: rle, geometry: g, grid: PatchGrid(columns: 3, rows: 2)), c)
    }

    /// 8x4 original with its top half set, padded to 8x8 (offset y = 2), resized to 4x4 (no crop).
    /// Output row y samples original row 2y - 1 -> -1 (pad), 1 (set), 3 (unset), 5 (pad).
    func testRectangleThroughPadToSquare() throws {
        let w = 8, h = 4
        var mask = [UInt8](repeating: 0, count: w * h)
        for y in 0..<2 { for x in 0..<w { mask[y * w + x] = 1 } }
        let g = try ImageGeometry.clipPreprocessor(originalWidth: w, originalHeight: h, padToSquare: true,
                                                   shortestEdge: 4, crop: nil)
        XCTAssertEqual(g.pad, ImageGeometry.Pad(size: 8, offsetX: 0, offsetY: 2))
        let input = try MaskMapping.modelInputMask(mask, width: w, height: h, geometry: g)
        XCTAssertEqual(input, [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        let square = try MaskMapping.coverage(modelInputMask: input, width: 4, height: 4, grid: PatchGrid(columns: 2, rows: 2))
        XCTAssertEqual(square.fractions, [0.5, 0.5, 0, 0])
        // non-square grids: 4 columns x 1 row, and 1 column x 4 rows
        let wide = try MaskMapping.coverage(modelInputMask: input, width: 4, height: 4, grid: PatchGrid(columns: 4, rows: 1))
        XCTAssertEqual(wide.fractions, [0.25, 0.25, 0.25, 0.25])
        XCTAssertEqual(wide.keyTokens(minFraction: 0.5), [false, false, false, false])
        XCTAssertEqual(wide.keyTokens(), [true, true, true, true])
        let tall = try MaskMapping.coverage(modelInputMask: input, width: 4, height: 4, grid: PatchGrid(columns: 1, rows: 4))
        XCTAssertEqual(tall.fractions, [0, 1, 0, 0])
    }

    /// 4x4 all set, crop 6x6 (offsets -1): a 1-pixel empty border; 3x3 grid of 2x2 patches.
    func testCropLargerThanImageLeavesEmptyBorder() throws {
        let mask = [UInt8](repeating: 1, count: 16)
        let g = try ImageGeometry.clipPreprocessor(originalWidth: 4, originalHeight: 4, padToSquare: false,
                                                   shortestEdge: nil, crop: (6, 6))
        XCTAssertEqual([g.cropX, g.cropY], [-1, -1])
        let input = try MaskMapping.modelInputMask(mask, width: 4, height: 4, geometry: g)
        let c = try MaskMapping.coverage(modelInputMask: input, width: 6, height: 6, grid: PatchGrid(columns: 3, rows: 3))
        XCTAssertEqual(c.fractions, [0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25])
    }

    func testUnevenPatchesAndErrors() throws {
        // 5 pixels in 2 columns: [0, 2) and [2, 5)
        XCTAssertEqual(MaskMapping.patchRange(0, length: 5, parts: 2), 0..<2)
        XCTAssertEqual(MaskMapping.patchRange(1, length: 5, parts: 2), 2..<5)
        let c = try MaskMapping.coverage(modelInputMask: [1, 1, 0, 0, 1], width: 5, height: 1, grid: PatchGrid(columns: 2, rows: 1))
        XCTAssertEqual(c.patchPixels, [2, 3])
        XCTAssertEqual(c.coveredPixels, [2, 1])
        XCTAssertThrowsError(try MaskMapping.coverage(modelInputMask: [1, 1], width: 2, height: 1, grid: PatchGrid(columns: 3, rows: 1))) { e in
            XCTAssertEqual(e as? GridError, .gridTooFine(columns: 3, rows: 1, width: 2, height: 1))
        }
        XCTAssertThrowsError(try MaskMapping.coverage(modelInputMask: [1, 1], width: 2, height: 1, grid: PatchGrid(columns: 0, rows: 1)))
        let g = try ImageGeometry.clipPreprocessor(originalWidth: 4, originalHeight: 4, padToSquare: false, shortestEdge: nil, crop: nil)
        XCTAssertThrowsError(try MaskMapping.modelInputMask([1], width: 1, height: 1, geometry: g)) { e in
            guard case .maskSizeMismatch? = e as? GridError else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try PixelSize(parsing: "24x24", option: "--grid"), PixelSize(width: 24, height: 24))
        XCTAssertEqual(try PixelSize(parsing: "28X21", option: "--grid"), PixelSize(width: 28, height: 21))
        for bad in ["24", "0x5", "axb", "3x-1", "1x2x3", ""] {
            XCTAssertThrowsError(try PixelSize(parsing: bad, option: "--grid"), bad)
        }
    }

    /// COCO 172648 'truck' union through three geometries vs an independent numpy computation
    /// (Fixtures/make_fixtures.py, same centre-sampling rule).
    func testRealCOCOUnionOnGridMatchesNumpy() throws {
        let fixture = try XCTUnwrap(loadJSONFixture("grid_fixture.json") as? [String: Any])
        let ds = try COCODataset(contentsOf: fixturesURL.appendingPathComponent("coco/instances_val2017_subset.json"))
        let imageID = try XCTUnwrap(fixture["image_id"] as? Int)
        let cat = try ds.category(named: try XCTUnwrap(fixture["category"] as? String))
        let rle = try ds.unionMask(imageID: imageID, categoryID: cat.id)
        XCTAssertEqual(rle.area, fixture["original_area"] as? Int)
        let cases = try XCTUnwrap(fixture["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let crop = try XCTUnwrap(ints(c["crop"])), grid = try XCTUnwrap(ints(c["grid"]))
            let g = try ImageGeometry.clipPreprocessor(originalWidth: rle.width, originalHeight: rle.height,
                                                       padToSquare: c["pad_to_square"] as? Bool ?? false,
                                                       shortestEdge: c["shortest_edge"] as? Int, crop: (crop[0], crop[1]))
            let eg = try XCTUnwrap(c["expected_geometry"] as? [String: Any])
            XCTAssertEqual([g.resizedWidth, g.resizedHeight], ints(eg["resized"]), name)
            XCTAssertEqual([g.cropX, g.cropY], ints(eg["crop_xy"]), name)
            if let pad = ints(eg["pad"]) {
                XCTAssertEqual(g.pad, ImageGeometry.Pad(size: pad[0], offsetX: pad[1], offsetY: pad[2]), name)
            } else {
                XCTAssertNil(g.pad, name)
            }
            let input = try MaskMapping.modelInputMask(rle.decode(), width: rle.width, height: rle.height, geometry: g)
            XCTAssertEqual(input.reduce(0) { $0 + Int($1) }, c["model_input_area"] as? Int, name)
            let cov = try MaskMapping.coverage(of: rle, geometry: g, grid: PatchGrid(columns: grid[0], rows: grid[1]))
            XCTAssertEqual(cov.coveredPixels, ints(c["covered_pixels"]), name)
        }
    }
}
