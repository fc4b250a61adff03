import Foundation
@testable import Plotting
import XCTest

final class ChartTests: XCTestCase {
    func testLineChartSizeAndDataPointsLandWhereTheAxesSay() throws {
        var o = ChartOptions(title: "t", xLabel: "Layer", yLabel: "value", width: 640, height: 400, dpi: 100)
        o.legend = .hidden
        let a = LineSeries(name: "a", x: [0, 1, 2, 3, 4], y: [1, 3, 2, 5, 4])
        let b = LineSeries(name: "b", x: [0, 1, 2, 3, 4], y: [0, 0.5, 4.5, 1, 0], marker: .square)
        let fig = try Plot.lineChart(series: [a, b], options: o)
        XCTAssertEqual(fig.width, 640)
        XCTAssertEqual(fig.height, 400)
        let panel = try XCTUnwrap(fig.panels.first)
        // The mapping is the frame: domain ends land on the frame edges.
        XCTAssertEqual(panel.x.pixel(panel.x.domainLo), panel.frame.minX, accuracy: 1e-9)
        XCTAssertEqual(panel.y.pixel(panel.y.domainLo), panel.frame.maxY, accuracy: 1e-9)
        let ca = Palette.okabeIto[0].rgba8
        let cb = Palette.okabeIto[1].rgba8
        for (x, y) in zip(a.x, a.y) { XCTAssertEqual(pixel(fig, panel.point(x: x, y: y)), ca, "a at (\(x), \(y))") }
        for (x, y) in zip(b.x, b.y) where !(x == 0 && y == 0) { XCTAssertEqual(pixel(fig, panel.point(x: x, y: y)), cb, "b at (\(x), \(y))") }
        // Off the data, the plot area is background.
        XCTAssertEqual(pixel(fig, panel.point(x: 0.5, y: 4.5)), whitePixel)
        XCTAssertEqual(pixel(fig, panel.point(x: 3.5, y: 2.5)), whitePixel)
    }

    func testErrorBandIsShaded() throws {
        var o = ChartOptions(width: 400, height: 300)
        o.legend = .hidden
        let s = LineSeries(name: "s", x: [0, 10], y: [5, 5], band: ErrorBand(lower: [3, 3], upper: [7, 7]), marker: .none)
        let fig = try Plot.lineChart(series: [s], options: o)
        let panel = fig.panels[0]
        let inBand = pixel(fig, panel.point(x: 5, y: 6))
        XCTAssertNotEqual(inBand, whitePixel)
        XCTAssertGreaterThan(inBand.r, Palette.okabeIto[0].rgba8.r, "band is a light tint of the line colour")
        XCTAssertEqual(pixel(fig, panel.point(x: 5, y: 7.15)), whitePixel)
        XCTAssertEqual(pixel(fig, panel.point(x: 5, y: 5)), Palette.okabeIto[0].rgba8)
    }

    func testLegendHasOneSwatchPerSeriesInItsColour() throws {
        var o = ChartOptions(width: 640, height: 400)
        o.legend = .upperLeft
        let series = (0..<4).map { LineSeries(name: "series \($0)", y: [Double($0), Double($0) + 1], style: $0 == 2 ? .dashed : .solid) }
        let fig = try Plot.lineChart(series: series, options: o)
        XCTAssertEqual(fig.legend.map { $0.label }, series.map { $0.name })
        for (i, e) in fig.legend.enumerated() {
            XCTAssertEqual(e.color, Palette.okabeIto[i])
            XCTAssertEqual(pixel(fig, e.center), Palette.okabeIto[i].rgba8, e.label)
            XCTAssertTrue(try XCTUnwrap(fig.legendFrame).contains(e.center))
        }
        // Bars, histograms, scatter (points and fits) too.
        let bars = try Plot.barChart(categories: ["a", "b"], groups: [BarGroup(name: "g0", values: [1, 2]), BarGroup(name: "g1", values: [2, 1]),
                                                                      BarGroup(name: "g2", values: [1, 1], color: Color(hex: 0x123456))])
        XCTAssertEqual(bars.legend.count, 3)
        for (e, c) in zip(bars.legend, [Palette.okabeIto[0], Palette.okabeIto[1], Color(hex: 0x123456)]) {
            XCTAssertEqual(pixel(bars, e.center), c.rgba8, e.label)
        }
        let hist = try Plot.histogram(series: [HistogramSeries(name: "v", integers: [1, 2, 2]), HistogramSeries(name: "c", integers: [2, 3, 3])],
                                      bins: .integers(nil))
        XCTAssertEqual(hist.legend.map { $0.label }, ["v", "c"])
        for (i, e) in hist.legend.enumerated() { XCTAssertEqual(pixel(hist, e.center), Palette.okabeIto[i].rgba8) }
        let sc = try Plot.scatter(series: [ScatterSeries(name: "pts", x: [0, 1], y: [0, 1], alpha: 0.3)],
                                  fits: [FitCurve(name: "fit", kind: .linear(intercept: 0, slope: 1))])
        XCTAssertEqual(sc.legend.map { $0.label }, ["pts", "fit"])
        // The scatter swatch is drawn opaque even when the points are translucent.
        XCTAssertEqual(pixel(sc, sc.legend[0].center), Palette.okabeIto[0].rgba8)
        XCTAssertEqual(pixel(sc, sc.legend[1].center), Palette.okabeIto[1].rgba8)
    }

    func testBestLegendAvoidsDataOrGoesOutside() throws {
        // A rising line leaves the upper-left corner free: the legend goes there, off the data.
        let rising = LineSeries(name: "rising", x: Array(0...20).map(Double.init), y: Array(0...20).map(Double.init))
        let fig = try Plot.lineChart(series: [rising], options: ChartOptions(width: 600, height: 400))
        let lf = try XCTUnwrap(fig.legendFrame)
        let panel = fig.panels[0]
        XCTAssertTrue(lf.minX >= panel.frame.minX && lf.maxX <= panel.frame.maxX && lf.minY >= panel.frame.minY)
        for k in 0...200 {
            let v = Double(k) / 10
            XCTAssertFalse(lf.contains(panel.point(x: v, y: v)), "legend covers the line at \(v)")
        }
        // Data everywhere: no free corner, so the legend moves outside to the right of the axes.
        var ys: [Double] = []
        for k in 0..<200 { ys.append(k % 2 == 0 ? 0 : 1) }
        let zigzag = LineSeries(name: "everywhere", y: ys, marker: .none)
        let fig2 = try Plot.lineChart(series: [zigzag], options: ChartOptions(width: 600, height: 400))
        let lf2 = try XCTUnwrap(fig2.legendFrame)
        XCTAssertGreaterThan(lf2.minX, fig2.panels[0].frame.maxX)
        XCTAssertLessThanOrEqual(lf2.maxX, 600)
        XCTAssertEqual(pixel(fig2, fig2.legend[0].center), Palette.okabeIto[0].rgba8)
    }

    func testDataOutsideTheRangeIsClippedToTheAxes() throws {
        var o = ChartOptions(width: 500, height: 360)
        o.y.range = Bounds(0, 1.05)
        o.x.range = Bounds(0, 4)
        o.legend = .hidden
        let s = LineSeries(name: "wild", x: [-5, 0, 1, 2, 3, 4, 9], y: [50, 0.5, 80, -40, 0.2, 300, 0.5])
        let fig = try Plot.lineChart(series: [s], options: o)
        let f = fig.panels[0].frame
        // Nothing above the axes (no title, and the top tick label sits below the frame top).
        for y in 0..<(Int(f.minY.rounded(.down)) - 1) {
            for x in 0..<fig.width { XCTAssertEqual(fig.pixel(x: x, y: y), whitePixel, "drawn outside the axes at (\(x), \(y))") }
        }
        // Nothing right of the axes either (the x labels stop at the canvas padding).
        for x in (Int(f.maxX.rounded(.up)) + 1)..<fig.width {
            for y in 0..<Int(f.maxY) { XCTAssertEqual(fig.pixel(x: x, y: y), whitePixel, "drawn right of the axes at (\(x), \(y))") }
        }
        // Something was drawn inside (the line between the visible points).
        XCTAssertEqual(pixel(fig, fig.panels[0].point(x: 3, y: 0.2)), Palette.okabeIto[0].rgba8)
    }

    func testLongTextStaysInsideTheCanvas() throws {
        let long = String(repeating: "A very long title that cannot fit ", count: 8)
        var o = ChartOptions(title: long, xLabel: long, yLabel: long, width: 420, height: 300)
        o.legend = .upperRight
        let fig = try Plot.lineChart(series: [LineSeries(name: long, y: [1, 2, 3])], options: o)
        for y in 0..<fig.height {
            XCTAssertEqual(fig.pixel(x: 0, y: y), whitePixel, "left edge at y=\(y)")
            XCTAssertEqual(fig.pixel(x: fig.width - 1, y: y), whitePixel, "right edge at y=\(y)")
        }
        for x in 0..<fig.width {
            XCTAssertEqual(fig.pixel(x: x, y: 0), whitePixel, "top edge at x=\(x)")
            XCTAssertEqual(fig.pixel(x: x, y: fig.height - 1), whitePixel, "bottom edge at x=\(x)")
        }
    }

    func testGroupedBarsHaveTheirHeightsAndColours() throws {
        var o = ChartOptions(width: 600, height: 400)
        o.legend = .hidden
        let g0 = BarGroup(name: "vanilla", values: [10, 20, 30])
        let g1 = BarGroup(name: "CLVS", values: [15, 25, 5], errors: [1, 1, 1])
        let fig = try Plot.barChart(categories: ["x", "y", "z"], groups: [g0, g1], options: o)
        let p = fig.panels[0]
        // Group 0 bars are centred at category - 0.2, group 1 at + 0.2 (group width 0.8).
        for (c, v) in g0.values.enumerated() {
            let cx = Double(c) - 0.2
            XCTAssertEqual(pixel(fig, p.point(x: cx, y: v / 2)), Palette.okabeIto[0].rgba8)
            XCTAssertEqual(pixel(fig, PlotPoint(x: p.x.pixel(cx) - 8, y: p.y.pixel(v) + 2)), Palette.okabeIto[0].rgba8)
            XCTAssertEqual(pixel(fig, PlotPoint(x: p.x.pixel(cx) - 8, y: p.y.pixel(v) - 2)), whitePixel, "bar \(c) is too tall")
        }
        XCTAssertEqual(pixel(fig, p.point(x: 2.2, y: 2.5)), Palette.okabeIto[1].rgba8)
        XCTAssertEqual(p.y.domainLo, 0, "bars start at zero")
    }

    func testHistogramCountsAndBars() throws {
        let h = try Plot.histogramCounts(values: [0, 1, 1, 2, 2, 2], bins: .integers(nil))
        XCTAssertEqual(h.edges, [-0.5, 0.5, 1.5, 2.5])
        XCTAssertEqual(h.counts, [1, 2, 3])
        // numpy.histogram([0, 1, 1, 2, 2, 2], bins=2) -> [1, 5]; with edges [1, 2, 3] -> [1, 3].
        XCTAssertEqual(try Plot.histogramCounts(values: [0, 1, 1, 2, 2, 2], bins: .count(2)).counts, [1, 5])
        XCTAssertEqual(try Plot.histogramCounts(values: [0, 1, 2, 3, 3], bins: .edges([1, 2, 3])).counts, [1, 3])
        XCTAssertEqual(try Plot.histogramCounts(values: [-1, 0.4, 7], bins: .integers(0...3)).counts, [1, 0, 0, 0])

        var o = ChartOptions(width: 500, height: 320)
        o.legend = .hidden
        let fig = try Plot.histogram(series: [HistogramSeries(name: "peaks", integers: [3, 5, 5, 5, 6])], bins: .integers(0...7), options: o)
        let p = fig.panels[0]
        XCTAssertEqual(pixel(fig, p.point(x: 5, y: 1.5)), Palette.okabeIto[0].rgba8)
        XCTAssertEqual(pixel(fig, p.point(x: 5, y: 2.9)), Palette.okabeIto[0].rgba8)
        XCTAssertEqual(pixel(fig, p.point(x: 5, y: 3.1)), whitePixel)
        XCTAssertEqual(pixel(fig, p.point(x: 4, y: 0.5)), whitePixel, "empty bin has no bar")
    }

    func testScatterPointsFitAndAnnotation() throws {
        var o = ChartOptions(width: 600, height: 400)
        o.annotation = "r = \u{2212}0.5\np < 0.001"
        let pts = ScatterSeries(name: "samples", x: [0.1, 0.9], y: [1, 0], size: 8, alpha: 1)
        let fit = FitCurve(name: "logistic", kind: .logistic(intercept: 3, slope: -6), lineWidth: 4)
        let fig = try Plot.scatter(series: [pts], fits: [fit], options: o)
        let p = fig.panels[0]
        XCTAssertEqual(pixel(fig, p.point(x: 0.1, y: 1)), Palette.okabeIto[0].rgba8)
        XCTAssertEqual(pixel(fig, p.point(x: 0.9, y: 0)), Palette.okabeIto[0].rgba8)
        // The logistic passes through P = 0.5 at x = -b0 / b1 = 0.5.
        XCTAssertEqual(pixel(fig, p.point(x: 0.5, y: 0.5)), Palette.okabeIto[1].rgba8)
        XCTAssertEqual(pixel(fig, p.point(x: 0.5, y: 0.8)), whitePixel)
        let af = try XCTUnwrap(fig.annotationFrame)
        let lf = try XCTUnwrap(fig.legendFrame)
        XCTAssertEqual(af.overlapArea(lf), 0, "annotation sits on the legend")
        XCTAssertTrue(af.minX >= p.frame.minX && af.maxX <= p.frame.maxX && af.minY >= p.frame.minY && af.maxY <= p.frame.maxY)
    }

    func testReferenceLineIsDrawn() throws {
        var o = ChartOptions(width: 400, height: 300)
        o.legend = .hidden
        o.referenceLines = [ReferenceLine(axis: .x, value: 2, color: Color(hex: 0x00AA00), style: .solid)]
        let fig = try Plot.lineChart(series: [LineSeries(name: "s", y: [0, 0, 0, 0, 0], marker: .none)], options: o)
        let p = fig.panels[0]
        let c = pixel(fig, PlotPoint(x: p.x.pixel(2), y: p.frame.midY - 40))
        XCTAssertGreaterThan(Int(c.g), Int(c.r) + 60, "reference line colour expected, got \(c)")
    }

    func testMatrixCellOfMaxHasTopColour() throws {
        var values = [[Double]](repeating: [Double](repeating: 0.3, count: 6), count: 5)
        values[3][4] = 0.9
        values[1][2] = 0.1
        let fig = try Plot.layerHeadMatrix(values: values, options: MatrixOptions(width: 500, height: 400))
        XCTAssertEqual(fig.width, 500)
        XCTAssertEqual(fig.height, 400)
        let p = fig.panels[0]
        XCTAssertEqual(pixel(fig, p.point(x: 4, y: 3)), Colormap.viridis.top.rgba8)
        XCTAssertEqual(pixel(fig, p.point(x: 2, y: 1)), Colormap.viridis.bottom.rgba8)
        XCTAssertEqual(pixel(fig, p.point(x: 0, y: 0)), Colormap.viridis.color(at: (0.3 - 0.1) / 0.8).rgba8)
        // Layer 0 is at the top by default.
        XCTAssertLessThan(p.y.pixel(0), p.y.pixel(4))
        let cb = try XCTUnwrap(fig.colorbar)
        XCTAssertEqual(cb.lo, 0.1)
        XCTAssertEqual(cb.hi, 0.9)
        XCTAssertEqual(pixel(fig, PlotPoint(x: cb.frame.midX, y: cb.frame.minY + 0.5)), Colormap.viridis.top.rgba8)
        XCTAssertEqual(pixel(fig, PlotPoint(x: cb.frame.midX, y: cb.frame.maxY - 0.5)), Colormap.viridis.bottom.rgba8)
    }

    func testDPIScalesTextButNotPixelSize() throws {
        let s = [LineSeries(name: "s", y: [1, 2, 3])]
        let lo = try Plot.lineChart(series: s, options: ChartOptions(yLabel: "value", width: 500, height: 300, dpi: 72))
        let hi = try Plot.lineChart(series: s, options: ChartOptions(yLabel: "value", width: 500, height: 300, dpi: 144))
        XCTAssertEqual(hi.width, 500)
        XCTAssertEqual(hi.height, 300)
        // Bigger text takes more room: the axes start further right.
        XCTAssertGreaterThan(hi.panels[0].frame.minX, lo.panels[0].frame.minX + 10)
    }
}
