import Foundation
import Imaging
@testable import Plotting
import XCTest

final class OverlayTests: XCTestCase {
    func testUpsamplingNearestAndBilinear() throws {
        XCTAssertEqual(try Heatmap.upsample([Float(0), 1], grid: GridShape(cols: 2, rows: 1), width: 4, height: 1, mode: .nearest), [0, 0, 1, 1])
        // Same as torch.nn.functional.interpolate(mode="bilinear", align_corners=False).
        XCTAssertEqual(try Heatmap.upsample([0.0, 1], grid: GridShape(cols: 2, rows: 1), width: 4, height: 1, mode: .bilinear), [0, 0.25, 0.75, 1])
        let v = try Heatmap.upsample([0.0, 1, 2, 3, 4, 5], grid: GridShape(cols: 3, rows: 2), width: 6, height: 2, mode: .nearest)
        XCTAssertEqual(v, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    }

    func testMaxCellHasTopColourAnyGridShape() throws {
        // A 5 x 3 grid on a 100 x 45 image (cells 20 x 15 pixels), opaque heatmap.
        let grid = GridShape(cols: 5, rows: 3)
        var att = [Float](repeating: 0.2, count: grid.count)
        att[1 * 5 + 3] = 0.7
        att[2 * 5 + 0] = 0.05
        var o = OverlayOptions(width: 400, height: 260)
        o.alpha = .constant(1)
        o.upsampling = .nearest
        let fig = try Plot.attentionOverlay(image: solidImage(100, 45, (90, 90, 90)), geometry: nil, attention: att, grid: grid, options: o)
        XCTAssertEqual(fig.width, 400)
        XCTAssertEqual(fig.height, 260)
        let p = fig.panels[0]
        XCTAssertEqual(p.frame.width / p.frame.height, 100.0 / 45.0, accuracy: 0.05, "aspect ratio kept")
        XCTAssertEqual(pixel(fig, p.point(x: 3.5 * 20, y: 1.5 * 15)), Colormap.viridis.top.rgba8)
        XCTAssertEqual(pixel(fig, p.point(x: 0.5 * 20, y: 2.5 * 15)), Colormap.viridis.bottom.rgba8)
        XCTAssertEqual(pixel(fig, p.point(x: 1.5 * 20, y: 0.5 * 15)), Colormap.viridis.color(at: 0.15 / 0.65).rgba8)
        // Bilinear: the max cell's centre still reaches the top colour.
        o.upsampling = .bilinear
        o.colormap = .magma
        let fig2 = try Plot.attentionOverlay(image: solidImage(100, 45, (90, 90, 90)), geometry: nil, attention: att, grid: grid, options: o)
        let p2 = fig2.panels[0]
        let c = pixel(fig2, p2.point(x: 3.5 * 20, y: 1.5 * 15))
        let top = Colormap.magma.top.rgba8
        XCTAssertLessThanOrEqual(abs(Int(c.r) - Int(top.r)) + abs(Int(c.g) - Int(top.g)) + abs(Int(c.b) - Int(top.b)), 12, "\(c)")
        let cb = try XCTUnwrap(fig2.colorbar)
        XCTAssertEqual(cb.lo, 0.05, accuracy: 1e-6)
        XCTAssertEqual(cb.hi, 0.7, accuracy: 1e-6)
        XCTAssertEqual(pixel(fig2, PlotPoint(x: cb.frame.midX, y: cb.frame.minY + 0.5)), top)
    }

    func testAlphaBlendFormula() throws {
        var o = OverlayOptions()
        o.alpha = .constant(0.5)
        o.upsampling = .nearest
        let img = try Plot.overlayImage(image: solidImage(8, 8, (100, 100, 100)), geometry: nil, attention: [Float(0), 1, 1, 1],
                                        grid: GridShape(cols: 2, rows: 2), options: o)
        XCTAssertEqual(img.width, 8)
        let top = Colormap.viridis.top.rgba8
        let i = (1 * 8 + 6) * 3
        XCTAssertEqual(Array(img.pixels[i..<i + 3]), [top.r, top.g, top.b].map { UInt8((100 * 0.5 + Double($0) * 0.5).rounded()) })
        // Proportional alpha leaves the image untouched where the value is the minimum.
        o.alpha = .proportional(max: 1)
        let img2 = try Plot.overlayImage(image: solidImage(8, 8, (100, 100, 100)), geometry: nil, attention: [Float(0), 1, 1, 1],
                                         grid: GridShape(cols: 2, rows: 2), options: o)
        XCTAssertEqual(Array(img2.pixels[0..<3]), [100, 100, 100])
        XCTAssertEqual(Array(img2.pixels[i..<i + 3]), [top.r, top.g, top.b])
    }

    /// Original 200 x 100, resized to 100 x 50, centre-cropped to 50 x 50 (cropX 25): the model saw
    /// original x in [50, 150).
    let cropGeometry = ImageGeometry(originalWidth: 200, originalHeight: 100, pad: nil, resizedWidth: 100, resizedHeight: 50,
                                     cropX: 25, cropY: 0, outputWidth: 50, outputHeight: 50)

    /// Left half red, right half blue.
    func twoToneImage() -> RGBImage {
        var px = [UInt8](repeating: 0, count: 200 * 100 * 3)
        for y in 0..<100 {
            for x in 0..<200 {
                let i = (y * 200 + x) * 3
                if x < 100 { px[i] = 220 } else { px[i + 2] = 220 }
            }
        }
        return RGBImage(width: 200, height: 100, pixels: px)
    }

    func testModelInputIsRebuiltThroughTheGeometry() throws {
        var o = OverlayOptions()
        o.alpha = .constant(0)
        let img = try Plot.overlayImage(image: twoToneImage(), geometry: cropGeometry, attention: [Float](repeating: 0, count: 4),
                                        grid: GridShape(cols: 2, rows: 2), options: o)
        XCTAssertEqual(img.width, 50)
        XCTAssertEqual(img.height, 50)
        // Model x = 5 is original x = (5.5 + 25) * 2 = 61 (red); model x = 40 is original 131 (blue).
        XCTAssertEqual(Array(img.pixels[(25 * 50 + 5) * 3..<(25 * 50 + 5) * 3 + 3]), [220, 0, 0])
        XCTAssertEqual(Array(img.pixels[(25 * 50 + 40) * 3..<(25 * 50 + 40) * 3 + 3]), [0, 0, 220])
        // Padding to a square shows the pad fill above and below the original.
        let padded = ImageGeometry(originalWidth: 200, originalHeight: 100, pad: .init(size: 200, offsetX: 0, offsetY: 50),
                                   resizedWidth: 40, resizedHeight: 40, cropX: 0, cropY: 0, outputWidth: 40, outputHeight: 40)
        o.padFill = Color(r8: 10, g8: 200, b8: 30)
        let img2 = try Plot.overlayImage(image: twoToneImage(), geometry: padded, attention: [Float](repeating: 0, count: 4),
                                         grid: GridShape(cols: 2, rows: 2), options: o)
        XCTAssertEqual(Array(img2.pixels[(2 * 40 + 20) * 3..<(2 * 40 + 20) * 3 + 3]), [10, 200, 30])
        XCTAssertEqual(Array(img2.pixels[(20 * 40 + 2) * 3..<(20 * 40 + 2) * 3 + 3]), [220, 0, 0])
    }

    func testOriginalSpaceMapsCellsBackAndVeilsUnseenParts() throws {
        var o = OverlayOptions()
        o.space = .original
        o.alpha = .constant(1)
        o.upsampling = .nearest
        o.unseenVeil = 0.5
        // Max in grid cell (col 1, row 0): model x in [25, 50), y in [0, 25) = original x in [100, 150), y in [0, 50).
        let att: [Float] = [0, 1, 0, 0]
        let img = try Plot.overlayImage(image: twoToneImage(), geometry: cropGeometry, attention: att, grid: GridShape(cols: 2, rows: 2), options: o)
        XCTAssertEqual(img.width, 200)
        XCTAssertEqual(img.height, 100)
        func px(_ x: Int, _ y: Int) -> [UInt8] { Array(img.pixels[(y * 200 + x) * 3..<(y * 200 + x) * 3 + 3]) }
        let top = Colormap.viridis.top.rgba8
        let bottom = Colormap.viridis.bottom.rgba8
        XCTAssertEqual(px(125, 25), [top.r, top.g, top.b])
        XCTAssertEqual(px(75, 25), [bottom.r, bottom.g, bottom.b])
        XCTAssertEqual(px(125, 75), [bottom.r, bottom.g, bottom.b])
        // Original x < 50 was cropped away: the image shows through a 50% light veil, no heat.
        let veiled: UInt8 = 228  // round(220 * 0.5 + 235 * 0.5)
        let veil: UInt8 = 118  // round(0 * 0.5 + 235 * 0.5)
        XCTAssertEqual(px(20, 50), [veiled, veil, veil])
        XCTAssertEqual(px(180, 50), [veil, veil, veiled])
        // Through the figure, the panel's scale is in original-image pixels.
        let fig = try Plot.attentionOverlay(image: twoToneImage(), geometry: cropGeometry, attention: att, grid: GridShape(cols: 2, rows: 2), options: o)
        XCTAssertEqual(fig.panels[0].x.domainHi, 200)
        XCTAssertEqual(pixel(fig, fig.panels[0].point(x: 125, y: 25)), top)
    }

    func testMaskContourOnGridAndPixels() throws {
        var o = OverlayOptions()
        o.alpha = .constant(0)
        o.contourColor = Color(r8: 255, g8: 0, b8: 255)
        o.mask = .grid([false, false, false, false, true, false, false, false, false])
        // 90 x 90 black image, 3 x 3 grid: the centre cell spans pixels [30, 60).
        let img = try Plot.overlayImage(image: solidImage(90, 90, (0, 0, 0)), geometry: nil, attention: [Float](repeating: 0, count: 9),
                                        grid: GridShape(cols: 3, rows: 3), options: o)
        func px(_ x: Int, _ y: Int) -> [UInt8] { Array(img.pixels[(y * 90 + x) * 3..<(y * 90 + x) * 3 + 3]) }
        XCTAssertEqual(px(29, 45), [255, 0, 255])
        XCTAssertEqual(px(30, 45), [255, 0, 255])
        XCTAssertEqual(px(45, 60), [255, 0, 255])
        XCTAssertEqual(px(45, 45), [0, 0, 0], "inside the cell is untouched")
        XCTAssertEqual(px(10, 10), [0, 0, 0], "away from the outline is untouched")
        // The same square given at pixel resolution on the original image.
        var pm = [Bool](repeating: false, count: 90 * 90)
        for y in 30..<60 { for x in 30..<60 { pm[y * 90 + x] = true } }
        o.mask = .pixels(pm, width: 90, height: 90)
        let img2 = try Plot.overlayImage(image: solidImage(90, 90, (0, 0, 0)), geometry: nil, attention: [Float](repeating: 0, count: 9),
                                         grid: GridShape(cols: 3, rows: 3), options: o)
        XCTAssertEqual(img2.pixels, img.pixels)
    }

    func testSmallMultiplesShareOneScale() throws {
        let grid = GridShape(cols: 4, rows: 4)
        let zeros = [Double](repeating: 0, count: 16)
        let ones = [Double](repeating: 1, count: 16)
        let ramp = (0..<16).map { Double($0) / 30 }
        var o = OverlayOptions(width: 700, height: 300)
        o.alpha = .constant(1)
        let fig = try Plot.layerGridOverlay(image: solidImage(64, 64, (128, 128, 128)), geometry: nil, attention: [zeros, ones, ramp],
                                            grid: grid, titles: ["Layer 0", "Layer 1", "Layer 2"], options: o)
        XCTAssertEqual(fig.panels.count, 3)
        XCTAssertEqual(fig.panels.map { $0.title }, ["Layer 0", "Layer 1", "Layer 2"])
        XCTAssertEqual(pixel(fig, fig.panels[0].frame.center), Colormap.viridis.bottom.rgba8)
        XCTAssertEqual(pixel(fig, fig.panels[1].frame.center), Colormap.viridis.top.rgba8)
        let cb = try XCTUnwrap(fig.colorbar)
        XCTAssertEqual(cb.lo, 0)
        XCTAssertEqual(cb.hi, 1)
        // Panels do not overlap and stay on the canvas.
        for (i, a) in fig.panels.enumerated() {
            XCTAssertTrue(a.frame.minX >= 0 && a.frame.maxX <= 700 && a.frame.minY >= 0 && a.frame.maxY <= 300)
            for b in fig.panels[(i + 1)...] { XCTAssertEqual(a.frame.overlapArea(b.frame), 0) }
            XCTAssertLessThan(a.frame.maxX, cb.frame.minX)
        }
    }
}
