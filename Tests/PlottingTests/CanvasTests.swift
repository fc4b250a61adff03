import Foundation
@testable import Plotting
import XCTest

final class CanvasTests: XCTestCase {
    func testSizeBackgroundAndBounds() throws {
        let c = try Canvas(width: 321, height: 123, dpi: 150)
        XCTAssertEqual(c.width, 321)
        XCTAssertEqual(c.height, 123)
        XCTAssertEqual(c.scale, 150.0 / 72.0, accuracy: 1e-12)
        XCTAssertEqual(c.pixel(x: 0, y: 0), whitePixel)
        XCTAssertEqual(c.pixel(x: 320, y: 122), whitePixel)
        XCTAssertNil(c.pixel(x: 321, y: 0))
        XCTAssertNil(c.pixel(x: 0, y: -1))
    }

    func testPixelReadbackUndoesByteOrderAndPremultiplication() throws {
        let c = try Canvas(width: 20, height: 10, background: nil)
        XCTAssertEqual(c.pixel(x: 5, y: 5), RGBA8(r: 0, g: 0, b: 0, a: 0))
        c.fillPixels(x0: 0, y0: 0, x1: 10, y1: 10, Color(hex: 0x336699))
        XCTAssertEqual(c.pixel(x: 3, y: 3), RGBA8(r: 0x33, g: 0x66, b: 0x99, a: 255))
        // Half-transparent pure red is stored premultiplied (~128, 0, 0, ~128): reads back as red.
        c.fillPixels(x0: 10, y0: 0, x1: 20, y1: 10, Color(r: 1, g: 0, b: 0, a: 0.5))
        let p = try XCTUnwrap(c.pixel(x: 15, y: 5))
        XCTAssertEqual(p.r, 255)
        XCTAssertEqual(p.g, 0)
        XCTAssertEqual(p.b, 0)
        XCTAssertTrue((127...128).contains(p.a), "alpha \(p.a)")
        // The whole-buffer readback agrees with the single-pixel one.
        let all = c.rgbaPixels()
        XCTAssertEqual(Array(all[(3 * 20 + 3) * 4..<(3 * 20 + 3) * 4 + 4]), [0x33, 0x66, 0x99, 255])
        let rgb = c.toRGBImage(background: .white)
        XCTAssertEqual(Array(rgb.pixels[(3 * 20 + 3) * 3..<(3 * 20 + 3) * 3 + 3]), [0x33, 0x66, 0x99])
    }

    func testInvalidSizesAndDPIThrow() {
        assertThrows(.invalidSize(context: "Canvas", width: 0, height: 10), try Canvas(width: 0, height: 10))
        assertThrows(.invalidSize(context: "Canvas", width: -5, height: 10), try Canvas(width: -5, height: 10))
        assertThrows(.invalidSize(context: "Canvas", width: 10, height: 20000), try Canvas(width: 10, height: 20000))
        assertThrows(.invalidDPI(context: "Canvas", dpi: 0), try Canvas(width: 10, height: 10, dpi: 0))
        do {
            _ = try Canvas(width: 10, height: 10, dpi: .nan)
            XCTFail("NaN dpi accepted")
        } catch let e as PlotError {
            guard case .invalidDPI = e else { return XCTFail("wrong error \(e)") }
            XCTAssertTrue(e.description.contains("dpi"))
        } catch { XCTFail("\(error)") }
    }

    func testWritePNGRenamesIntoPlaceAndMatchesPNGData() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plotting-test-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try Canvas(width: 37, height: 21)
        c.fillPixels(x0: 5, y0: 5, x1: 20, y1: 15, Color(hex: 0xD55E00))
        let url = dir.appendingPathComponent("out.png")
        try c.writePNG(to: url)
        let written = [UInt8](try Data(contentsOf: url))
        XCTAssertEqual(written, try c.pngData())
        let size = try XCTUnwrap(pngSize(written))
        XCTAssertEqual(size.0, 37)
        XCTAssertEqual(size.1, 21)
        // Only the final file is left (no temporary).
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.png"])
        // Overwriting works the same way.
        try c.writePNG(to: url)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.png"])
    }

    func testWritePNGIntoMissingDirectoryThrowsIOError() throws {
        let c = try Canvas(width: 4, height: 4)
        let url = URL(fileURLWithPath: "/nonexistent-dir-\(UUID().uuidString)/x.png")
        do {
            try c.writePNG(to: url)
            XCTFail("write into a missing directory succeeded")
        } catch let e as PlotError {
            guard case .io(let path, _) = e else { return XCTFail("wrong error \(e)") }
            XCTAssertEqual(path, url.path)
        }
    }

    func testClippingKeepsTheVisiblePartOnly() {
        let r = PlotRect(x: 0, y: 0, width: 4, height: 4)
        let seg = Clip.segment(PlotPoint(x: -10, y: 2), PlotPoint(x: 10, y: 2), r)
        XCTAssertEqual(seg?.0, PlotPoint(x: 0, y: 2))
        XCTAssertEqual(seg?.1, PlotPoint(x: 4, y: 2))
        XCTAssertNil(Clip.segment(PlotPoint(x: -10, y: 5), PlotPoint(x: 10, y: 5), r))
        XCTAssertNil(Clip.segment(PlotPoint(x: .nan, y: 1), PlotPoint(x: 1, y: 1), r))
        let runs = Clip.polyline([PlotPoint(x: 1, y: 1), PlotPoint(x: 1e300, y: 1), PlotPoint(x: 3, y: 3), PlotPoint(x: 2, y: 3)], r)
        XCTAssertEqual(runs.count, 2)
        XCTAssertEqual(runs[0], [PlotPoint(x: 1, y: 1), PlotPoint(x: 4, y: 1)])
        XCTAssertEqual(runs[1].last, PlotPoint(x: 2, y: 3))
        let poly = Clip.polygon([PlotPoint(x: -5, y: -5), PlotPoint(x: 9, y: -5), PlotPoint(x: 9, y: 9), PlotPoint(x: -5, y: 9)], r)
        XCTAssertEqual(Set(poly.map { "\($0.x),\($0.y)" }), ["0.0,0.0", "4.0,0.0", "4.0,4.0", "0.0,4.0"])
    }

    func testTextIsDrawnAntialiased() throws {
        let c = try Canvas(width: 120, height: 40, dpi: 100)
        let r = c.drawText("Layer 12", at: PlotPoint(x: 10, y: 20), style: TextStyle(size: 12, color: .black), h: .left, v: .middle)
        XCTAssertGreaterThan(r.width, 30)
        var dark = 0
        var grey = 0
        for y in 0..<40 {
            for x in 0..<120 {
                let p = try XCTUnwrap(c.pixel(x: x, y: y))
                if p.r < 60 { dark += 1 } else if p.r < 230 { grey += 1 }
            }
        }
        XCTAssertGreaterThan(dark, 20, "text was not drawn")
        XCTAssertGreaterThan(grey, 10, "text edges are not antialiased")
    }
}
