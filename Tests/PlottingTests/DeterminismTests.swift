import Foundation
import Imaging
@testable import Plotting
import XCTest

final class DeterminismTests: XCTestCase {
    /// One figure of every kind, from fixed data.
    func renderAll() throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        var o = ChartOptions(title: "Determinism", xLabel: "Layer", yLabel: "Value", width: 420, height: 280)
        o.annotation = "r = 0.5"
        out.append(try Plot.lineChart(series: [LineSeries(name: "a", y: [1, 3, 2], band: ErrorBand(lower: [0, 2, 1], upper: [2, 4, 3])),
                                               LineSeries(name: "b", y: [2, 1, 3], style: .dotted)], options: o).pngData())
        out.append(try Plot.barChart(categories: ["Existence", "Count"], groups: [BarGroup(name: "v", values: [1, 2], errors: [0.1, 0.2])],
                                     bar: BarStyle(valueLabels: true), options: o).pngData())
        out.append(try Plot.histogram(series: [HistogramSeries(name: "h", values: [0.1, 0.5, 0.52, 0.9])], bins: .count(4), options: o).pngData())
        out.append(try Plot.scatter(series: [ScatterSeries(name: "s", x: [0, 0.5, 1], y: [1, 0, 1], yJitter: 0.05)],
                                    fits: [FitCurve(name: "f", kind: .logistic(intercept: 1, slope: -2))], options: o).pngData())
        let img = solidImage(48, 32, (30, 60, 90))
        let att = (0..<24).map { Float($0) }
        var ov = OverlayOptions(title: "overlay", width: 300, height: 240)
        ov.mask = .grid((0..<24).map { $0 % 5 == 0 })
        out.append(try Plot.attentionOverlay(image: img, geometry: nil, attention: att, grid: GridShape(cols: 6, rows: 4), options: ov).pngData())
        out.append(try Plot.layerGridOverlay(image: img, geometry: nil, attention: [att, att.reversed()], grid: GridShape(cols: 6, rows: 4),
                                             titles: ["L0", "L1"], options: ov).pngData())
        out.append(try Plot.layerHeadMatrix(values: [[0.1, 0.2], [0.3, 0.4]], options: MatrixOptions(width: 300, height: 260)).pngData())
        return out
    }

    func testSameInputGivesIdenticalBytes() throws {
        let a = try renderAll()
        let b = try renderAll()
        XCTAssertEqual(a.count, 7)
        for (i, (x, y)) in zip(a, b).enumerated() {
            XCTAssertFalse(x.isEmpty)
            XCTAssertEqual(x, y, "figure \(i) differs between two renders")
        }
    }
}
