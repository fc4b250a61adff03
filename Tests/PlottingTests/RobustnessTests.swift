import Foundation
import Imaging
@testable import Plotting
import XCTest

final class RobustnessTests: XCTestCase {
    func testBadChartInputsAreTypedErrors() {
        assertThrows(.emptyData(context: "Plot.lineChart", field: "series"), try Plot.lineChart(series: []))
        assertThrows(.emptyData(context: "Plot.lineChart", field: "series[0].y"), try Plot.lineChart(series: [LineSeries(name: "e", y: [])]))
        assertThrows(.nonFinite(context: "Plot.lineChart", field: "series[1].y", index: 2),
                     try Plot.lineChart(series: [LineSeries(name: "a", y: [1]), LineSeries(name: "b", y: [1, 2, .nan])]))
        assertThrows(.nonFinite(context: "Plot.lineChart", field: "series[0].x", index: 0),
                     try Plot.lineChart(series: [LineSeries(name: "a", x: [.infinity], y: [1])]))
        assertThrows(.lengthMismatch(context: "Plot.lineChart", field: "series[0].x", expected: 3, actual: 2),
                     try Plot.lineChart(series: [LineSeries(name: "a", x: [0, 1], y: [1, 2, 3])]))
        assertThrows(.lengthMismatch(context: "Plot.lineChart", field: "series[0].band.upper", expected: 2, actual: 1),
                     try Plot.lineChart(series: [LineSeries(name: "a", y: [1, 2], band: ErrorBand(lower: [0, 1], upper: [2]))]))
        assertThrows(.emptyData(context: "Plot.barChart", field: "categories"), try Plot.barChart(categories: [], groups: []))
        assertThrows(.lengthMismatch(context: "Plot.barChart", field: "groups[0].values", expected: 2, actual: 1),
                     try Plot.barChart(categories: ["a", "b"], groups: [BarGroup(name: "g", values: [1])]))
        assertThrows(.invalidArgument(context: "Plot.barChart", field: "groups[0].errors[1]", reason: "must be >= 0"),
                     try Plot.barChart(categories: ["a", "b"], groups: [BarGroup(name: "g", values: [1, 2], errors: [0, -1])]))
        assertThrows(.emptyData(context: "Plot.histogram", field: "series[0].values"),
                     try Plot.histogram(series: [HistogramSeries(name: "h", values: [])], bins: .count(3)))
        assertThrows(.invalidArgument(context: "Plot.histogramCounts", field: "bins.edges[2]", reason: "edges must be strictly increasing"),
                     try Plot.histogramCounts(values: [1], bins: .edges([0, 1, 1])))
        assertThrows(.invalidArgument(context: "Plot.histogramCounts", field: "bins", reason: "count must be in 1...100000 (got 0)"),
                     try Plot.histogramCounts(values: [1], bins: .count(0)))
        assertThrows(.lengthMismatch(context: "Plot.scatter", field: "series[0].y", expected: 2, actual: 1),
                     try Plot.scatter(series: [ScatterSeries(name: "s", x: [1, 2], y: [1])]))
        assertThrows(.nonFinite(context: "Plot.scatter", field: "fits[0].y", index: 0),
                     try Plot.scatter(series: [ScatterSeries(name: "s", x: [1], y: [1])],
                                      fits: [FitCurve(name: "f", kind: .points(x: [0], y: [.nan]))]))
        var o = ChartOptions()
        o.y.range = Bounds(1, 1)
        XCTAssertThrowsError(try Plot.lineChart(series: [LineSeries(name: "a", y: [1, 2])], options: o)) { e in
            XCTAssertTrue("\(e)".contains("options.y.range"), "\(e)")
        }
        assertThrows(.invalidSize(context: "Canvas", width: -10, height: 300),
                     try Plot.lineChart(series: [LineSeries(name: "a", y: [1])], options: ChartOptions(width: -10, height: 300)))
        assertThrows(.canvasTooSmall(context: "Plot.lineChart", width: 40, height: 30),
                     try Plot.lineChart(series: [LineSeries(name: "a", y: [1])], options: ChartOptions(xLabel: "x", yLabel: "y", width: 40, height: 30)))
        assertThrows(.nonFinite(context: "Plot.layerHeadMatrix", field: "values[1]", index: 0),
                     try Plot.layerHeadMatrix(values: [[1.0, 2], [.nan, 1]]))
        assertThrows(.lengthMismatch(context: "Plot.layerHeadMatrix", field: "values[1]", expected: 2, actual: 3),
                     try Plot.layerHeadMatrix(values: [[1.0, 2], [1, 2, 3]]))
        assertThrows(.emptyData(context: "Plot.layerHeadMatrix", field: "values"), try Plot.layerHeadMatrix(values: [[Double]]()))
    }

    func testBadOverlayInputsAreTypedErrors() {
        let img = solidImage(20, 10, (0, 0, 0))
        let g = GridShape(cols: 2, rows: 2)
        let four: [Float] = [0, 1, 2, 3]
        assertThrows(.invalidGrid(context: "Plot.attentionOverlay", cols: 0, rows: 2),
                     try Plot.attentionOverlay(image: img, geometry: nil, attention: [Float](), grid: GridShape(cols: 0, rows: 2)))
        assertThrows(.invalidGrid(context: "Heatmap.upsample", cols: 3, rows: -1),
                     try Heatmap.upsample([Float](), grid: GridShape(cols: 3, rows: -1), width: 4, height: 4, mode: .nearest))
        assertThrows(.lengthMismatch(context: "Plot.attentionOverlay", field: "attention", expected: 4, actual: 3),
                     try Plot.attentionOverlay(image: img, geometry: nil, attention: [Float](repeating: 0, count: 3), grid: g))
        assertThrows(.nonFinite(context: "Plot.attentionOverlay", field: "attention", index: 1),
                     try Plot.attentionOverlay(image: img, geometry: nil, attention: [0, Float.nan, 0, 0], grid: g))
        assertThrows(.lengthMismatch(context: "Plot.layerGridOverlay", field: "attention[1]", expected: 4, actual: 1),
                     try Plot.layerGridOverlay(image: img, geometry: nil, attention: [four, [0]], grid: g))
        assertThrows(.emptyData(context: "Plot.layerGridOverlay", field: "attention"),
                     try Plot.layerGridOverlay(image: img, geometry: nil, attention: [[Float]](), grid: g))
        assertThrows(.lengthMismatch(context: "Plot.layerGridOverlay", field: "titles", expected: 2, actual: 1),
                     try Plot.layerGridOverlay(image: img, geometry: nil, attention: [four, four], grid: g, titles: ["a"]))
        assertThrows(.invalidImage(context: "Plot.attentionOverlay", reason: "pixels has 5 bytes, expected 20x10x3"),
                     try Plot.attentionOverlay(image: RGBImage(width: 20, height: 10, pixels: [0, 0, 0, 0, 0]), geometry: nil, attention: four, grid: g))
        assertThrows(.invalidImage(context: "Plot.attentionOverlay", reason: "size 0x10 is invalid"),
                     try Plot.attentionOverlay(image: RGBImage(width: 0, height: 10, pixels: []), geometry: nil, attention: four, grid: g))
        let geo = ImageGeometry(originalWidth: 30, originalHeight: 10, pad: nil, resizedWidth: 30, resizedHeight: 10, cropX: 0, cropY: 0,
                                outputWidth: 30, outputHeight: 10)
        XCTAssertThrowsError(try Plot.attentionOverlay(image: img, geometry: geo, attention: four, grid: g)) { e in
            XCTAssertTrue("\(e)".contains("geometry.originalWidth"), "\(e)")
        }
        var bad = geo
        bad.originalWidth = 20
        bad.resizedWidth = 0
        XCTAssertThrowsError(try Plot.attentionOverlay(image: img, geometry: bad, attention: four, grid: g)) { e in
            XCTAssertTrue("\(e)".contains("geometry.resizedWidth"), "\(e)")
        }
        var o = OverlayOptions()
        o.mask = .grid([true])
        assertThrows(.lengthMismatch(context: "Plot.attentionOverlay", field: "options.mask (grid)", expected: 4, actual: 1),
                     try Plot.attentionOverlay(image: img, geometry: nil, attention: four, grid: g, options: o))
        o.mask = .pixels([true], width: 5, height: 5)
        XCTAssertThrowsError(try Plot.attentionOverlay(image: img, geometry: nil, attention: four, grid: g, options: o))
        o.mask = nil
        o.range = .fixed(1, 0)
        XCTAssertThrowsError(try Plot.attentionOverlay(image: img, geometry: nil, attention: four, grid: g, options: o)) { e in
            XCTAssertTrue("\(e)".contains("options.range"), "\(e)")
        }
        o.range = .auto
        o.alpha = .constant(1.5)
        XCTAssertThrowsError(try Plot.attentionOverlay(image: img, geometry: nil, attention: four, grid: g, options: o))
        assertThrows(.invalidSize(context: "Plot.overlayImage", width: 0, height: 5),
                     try Plot.overlayImage(image: img, geometry: nil, attention: four, grid: g, width: 0, height: 5))
        assertThrows(.canvasTooSmall(context: "Plot.attentionOverlay", width: 30, height: 30),
                     try Plot.attentionOverlay(image: img, geometry: nil, attention: four, grid: g, options: OverlayOptions(width: 30, height: 30)))
    }

    func testConstantDataIsAValidPlot() throws {
        // All-equal values: a unit range around them, the bottom colour for maps.
        let fig = try Plot.lineChart(series: [LineSeries(name: "flat", y: [2, 2, 2])], options: ChartOptions(width: 300, height: 200))
        XCTAssertEqual(pixel(fig, fig.panels[0].point(x: 1, y: 2)), Palette.okabeIto[0].rgba8)
        let m = try Plot.layerHeadMatrix(values: [[0.5, 0.5], [0.5, 0.5]], options: MatrixOptions(width: 300, height: 300))
        XCTAssertEqual(pixel(m, m.panels[0].point(x: 1, y: 1)), Colormap.viridis.bottom.rgba8)
        let single = try Plot.scatter(series: [ScatterSeries(name: "one", x: [3], y: [4], alpha: 1)], options: ChartOptions(width: 300, height: 200))
        XCTAssertEqual(pixel(single, single.panels[0].point(x: 3, y: 4)), Palette.okabeIto[0].rgba8)
    }

    func testExtremeValuesDoNotTrap() throws {
        // Data far outside a fixed range is clipped, not converted to out-of-range integers.
        var o = ChartOptions(width: 300, height: 200)
        o.y.range = Bounds(0, 1)
        let bars = try Plot.barChart(categories: ["a", "b"], groups: [BarGroup(name: "g", values: [1e300, -1e300])], options: o)
        XCTAssertEqual(pixel(bars, bars.panels[0].point(x: -0.2, y: 0.5)), Palette.okabeIto[0].rgba8)
        _ = try Plot.lineChart(series: [LineSeries(name: "big", y: [1e300, -1e300, 0])], options: o)
        // A range at a magnitude where ticks cannot be told apart still renders (without ticks).
        o.y.range = Bounds(1e30, 1e30 + 1e16)
        _ = try Plot.lineChart(series: [LineSeries(name: "far", y: [1e30, 1e30])], options: o)
        // A data range that overflows is an error naming the axis.
        XCTAssertThrowsError(try Plot.lineChart(series: [LineSeries(name: "huge", y: [-1.7e308, 1.7e308])])) { e in
            XCTAssertTrue("\(e)".contains("options.y.range"), "\(e)")
        }
        XCTAssertThrowsError(try Plot.histogramCounts(values: [1], bins: .integers(Int.min...Int.max)))
    }

    func testErrorMessagesNameTheField() {
        let e = PlotError.nonFinite(context: "Plot.lineChart", field: "series[1].y", index: 4)
        XCTAssertEqual(e.description, "Plot.lineChart: series[1].y[4] is not a finite number")
        XCTAssertTrue(PlotError.io(path: "/x/y.png", reason: "denied").description.contains("/x/y.png"))
    }
}
