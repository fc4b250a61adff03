import Foundation
import XCTest
import Imaging

final class ResizeTests: XCTestCase {
    /// Bit-exact with Pillow's Image.resize for every filter case in the fixtures
    /// (up, down, one axis only, odd sizes, both orientations, the real 640x425 -> 505x336).
    func testResizeEqualsPillow() throws {
        let index = try Fixtures.index()
        var sources: [String: RGBImage] = [:]
        var bicubicCases = 0
        for c in index.resize {
            if sources[c.source] == nil { sources[c.source] = try ImageIO.load(Fixtures.url(c.source)) }
            guard let full = sources[c.source] else { return XCTFail("no source \(c.source)") }
            let src = c.crop.map { crop(full, $0) } ?? full
            guard let filter = ResampleFilter(rawValue: c.filter) else { return XCTFail("filter \(c.filter)") }
            let out = try resize(src, width: c.width, height: c.height, filter: filter)
            XCTAssertEqual(out.width, c.width, c.name)
            XCTAssertEqual(out.height, c.height, c.name)
            let maxDiff = try assertEqualPixels(out.pixels, c.pixels, c.name)
            XCTAssertEqual(maxDiff, 0, c.name)
            if filter == .bicubic {
                bicubicCases += 1
                XCTAssertEqual(try resizeBicubic(src, width: c.width, height: c.height), out)
            }
        }
        XCTAssertGreaterThanOrEqual(bicubicCases, 9)
    }

    /// 204 random sizes (1 px up to 2x, both pass orders and the order rule's boundary, all
    /// filters) on four small crops: every output's hash equals Pillow's.
    func testRandomSizesSweepEqualsPillow() throws {
        let sweep = try Fixtures.index().resize_sweep
        XCTAssertGreaterThanOrEqual(sweep.cases.count, 200)
        let full = try ImageIO.load(Fixtures.url(sweep.source))
        var mismatches: [String] = []
        var verticalFirst = 0
        for c in sweep.cases {
            let src = crop(full, c.crop)
            guard let filter = ResampleFilter(rawValue: c.filter) else { return XCTFail("filter \(c.filter)") }
            let out = try resize(src, width: c.width, height: c.height, filter: filter)
            if c.height < src.height && src.height - c.height > 2 * (src.width - c.width) && c.width != src.width {
                verticalFirst += 1
            }
            if fnv1a64(out.pixels) != c.fnv1a64 {
                mismatches.append("\(src.width)x\(src.height)->\(c.width)x\(c.height) filter \(c.filter)")
            }
        }
        XCTAssertEqual(mismatches, [])
        XCTAssertGreaterThan(verticalFirst, 20, "the sweep should exercise the vertical-first order")
    }

    func testSameSizeIsIdentity() throws {
        let image = try ImageIO.load(Fixtures.url("images/png_rgb.png"))
        XCTAssertEqual(try resizeBicubic(image, width: image.width, height: image.height), image)
    }

    func testInvalidInputsThrow() {
        let image = RGBImage(width: 4, height: 3, fill: (1, 2, 3))
        XCTAssertThrowsError(try resizeBicubic(image, width: 0, height: 3))
        XCTAssertThrowsError(try resizeBicubic(image, width: 5, height: -1))
        let broken = RGBImage(width: 4, height: 3, pixels: [1, 2, 3])
        XCTAssertThrowsError(try resizeBicubic(broken, width: 8, height: 6)) { error in
            XCTAssertEqual(error as? ImagingError, .inconsistentImage(width: 4, height: 3, pixelCount: 3))
        }
        XCTAssertThrowsError(try centerCrop(broken, width: 2, height: 2))
        XCTAssertThrowsError(try padToSquare(broken, fill: (0, 0, 0)))
    }

    /// A constant image stays constant under every filter (weights are normalised).
    func testConstantImageStaysConstant() throws {
        let image = RGBImage(width: 13, height: 7, fill: (200, 17, 255))
        for filter in ResampleFilter.allCases {
            for (w, h) in [(5, 3), (31, 19), (13, 20), (2, 7)] {
                let out = try resize(image, width: w, height: h, filter: filter)
                XCTAssertEqual(out, RGBImage(width: w, height: h, fill: (200, 17, 255)), "\(filter) \(w)x\(h)")
            }
        }
    }
}

final class ImageOpsTests: XCTestCase {
    func makeImage(width: Int, height: Int) -> RGBImage {
        var px = [UInt8]()
        for y in 0..<height {
            for x in 0..<width { px += [UInt8(x), UInt8(y), UInt8((x + y) % 256)] }
        }
        return RGBImage(width: width, height: height, pixels: px)
    }

    func testCenterCropInsideAndPadded() throws {
        let image = makeImage(width: 7, height: 4)
        let inside = try centerCrop(image, width: 3, height: 2)
        // offsets (7-3)//2 = 2, (4-2)//2 = 1
        XCTAssertEqual(Array(inside.pixels[0..<3]), [2, 1, 3])
        XCTAssertEqual(Array(inside.pixels[15..<18]), [4, 2, 6])
        // Crop larger than the image: offsets (7-9)//2 = -1, (4-7)//2 = -2; zeros outside.
        XCTAssertEqual(centerCropOffsets(sourceWidth: 7, sourceHeight: 4, width: 9, height: 7).x, -1)
        XCTAssertEqual(centerCropOffsets(sourceWidth: 7, sourceHeight: 4, width: 9, height: 7).y, -2)
        let padded = try centerCrop(image, width: 9, height: 7)
        XCTAssertEqual(Array(padded.pixels[0..<3]), [0, 0, 0])
        let p = (2 * 9 + 1) * 3  // output (1, 2) is source (0, 0)
        XCTAssertEqual(Array(padded.pixels[p..<(p + 3)]), [0, 0, 0])
        let q = (3 * 9 + 2) * 3  // output (2, 3) is source (1, 1)
        XCTAssertEqual(Array(padded.pixels[q..<(q + 3)]), [1, 1, 2])
        XCTAssertEqual(padded.pixels.filter { $0 != 0 }.count, image.pixels.filter { $0 != 0 }.count)
    }

    func testPadToSquarePlacement() throws {
        let wide = makeImage(width: 6, height: 3)
        let w = try padToSquare(wide, fill: (9, 8, 7))
        XCTAssertEqual(w.width, 6)
        XCTAssertEqual(w.height, 6)
        XCTAssertEqual(ImageGeometry.Pad.square(width: 6, height: 3), ImageGeometry.Pad(size: 6, offsetX: 0, offsetY: 1))
        XCTAssertEqual(Array(w.pixels[0..<3]), [9, 8, 7])
        XCTAssertEqual(Array(w.pixels[(6 * 3 + 5) * 3..<((6 * 3 + 5) * 3 + 3)]), [5, 2, 7])
        let tall = makeImage(width: 3, height: 6)
        let t = try padToSquare(tall, fill: (1, 1, 1))
        XCTAssertEqual(ImageGeometry.Pad.square(width: 3, height: 6), ImageGeometry.Pad(size: 6, offsetX: 1, offsetY: 0))
        XCTAssertEqual(Array(t.pixels[3..<6]), [0, 0, 0])
        XCTAssertEqual(Array(t.pixels[0..<3]), [1, 1, 1])
        let square = makeImage(width: 4, height: 4)
        XCTAssertEqual(try padToSquare(square, fill: (1, 1, 1)), square)
    }
}
