@testable import Plotting
import XCTest

final class TicksTests: XCTestCase {
    func testNiceStepsAreOneTwoFive() {
        XCTAssertEqual(Ticks.niceStep(0.13), 0.2, accuracy: 1e-15)
        XCTAssertEqual(Ticks.niceStep(3), 5)
        XCTAssertEqual(Ticks.niceStep(7), 10)
        XCTAssertEqual(Ticks.niceStep(1), 1)
        XCTAssertEqual(Ticks.niceStep(0.01), 0.01, accuracy: 1e-17)
        XCTAssertEqual(Ticks.niceStep(1200), 2000)
        XCTAssertEqual(Ticks.niceStep(.nan), 1)
        XCTAssertEqual(Ticks.coarser(1), 2)
        XCTAssertEqual(Ticks.coarser(2), 5)
        XCTAssertEqual(Ticks.coarser(5), 10)
        XCTAssertEqual(Ticks.coarser(0.05), 0.1, accuracy: 1e-15)
    }

    func testValuesAreMultiplesInsideTheRange() {
        let v = Ticks.values(lo: -0.07, hi: 0.31, step: 0.1)
        XCTAssertEqual(v.count, 4)
        XCTAssertEqual(v[0], 0)
        XCTAssertEqual(v[3], 0.3, accuracy: 1e-12)
        XCTAssertEqual(Ticks.values(lo: 0, hi: 1, step: 0.25), [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(Ticks.values(lo: 1, hi: 0, step: 1), [])
        XCTAssertEqual(Ticks.values(lo: 0, hi: 1, step: 0), [])
    }

    func testLabels() {
        XCTAssertEqual(Ticks.label(0.30000000000000004, step: 0.1, format: .auto), "0.3")
        XCTAssertEqual(Ticks.label(-2, step: 1, format: .auto), "\u{2212}2")
        XCTAssertEqual(Ticks.label(-0.00001, step: 0.1, format: .auto), "0.0")
        XCTAssertEqual(Ticks.label(0.25, step: 0.05, format: .percent), "25%")
        XCTAssertEqual(Ticks.label(0.125, step: 0.005, format: .percent), "12.5%")
        XCTAssertEqual(Ticks.label(7.6, step: 1, format: .integer), "8")
        XCTAssertEqual(Ticks.label(3.14159, step: 1, format: .decimals(2)), "3.14")
        XCTAssertEqual(Ticks.label(1_500_000, step: 500_000, format: .auto), "1.5e+06")
        XCTAssertEqual(Ticks.label(25, step: 5, format: .auto), "25")
    }

    func testTickLabelsAreThinnedUntilTheyDoNotOverlap() throws {
        let canvas = try Canvas(width: 300, height: 200, dpi: 100)
        let style = TextStyle(size: 9)
        var model = AxisModel(lo: 100_000, hi: 900_000, options: AxisOptions())
        let ticks = numericTicks(canvas, model, length: 300, vertical: false, style: style)
        XCTAssertGreaterThanOrEqual(ticks.count, 2)
        let ppu = 300.0 / 800_000
        for k in 1..<ticks.count {
            let gap = (ticks[k].value - ticks[k - 1].value) * ppu
            let half = (canvas.measure(ticks[k].label, style).width + canvas.measure(ticks[k - 1].label, style).width) / 2
            XCTAssertGreaterThan(gap, half, "labels \(ticks[k - 1].label) and \(ticks[k].label) overlap")
        }
        // Integer axes never get fractional ticks, and explicit ticks are thinned, not dropped at random.
        model = AxisModel(lo: -0.5, hi: 3.5, options: AxisOptions(integerTicks: true))
        let ints = numericTicks(canvas, model, length: 400, vertical: false, style: style)
        XCTAssertEqual(ints.map { $0.value }, [0, 1, 2, 3])
        model = AxisModel(lo: 0, hi: 100, options: AxisOptions(ticks: Array(stride(from: 0.0, through: 100, by: 1))))
        let thinned = numericTicks(canvas, model, length: 150, vertical: false, style: style)
        XCTAssertLessThan(thinned.count, 101)
        XCTAssertEqual(thinned.first?.value, 0)
        let step = thinned[1].value - thinned[0].value
        for k in 1..<thinned.count { XCTAssertEqual(thinned[k].value - thinned[k - 1].value, step) }
    }
}
