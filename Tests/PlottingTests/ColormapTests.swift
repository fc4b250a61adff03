import Foundation
@testable import Plotting
import XCTest

final class ColormapTests: XCTestCase {
    /// The generated Swift tables equal the committed text tables (the published data) exactly.
    func testTablesMatchPublishedData() throws {
        for (name, map) in [("viridis", Colormap.viridis), ("magma", Colormap.magma)] {
            let text = try String(contentsOf: fixturesURL.appendingPathComponent("colormap_data/\(name).txt"), encoding: .utf8)
            let values = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
            XCTAssertEqual(values.count, 768, name)
            XCTAssertEqual(map.table, values, name)
        }
    }

    func testEndColours() {
        XCTAssertEqual(Colormap.viridis.top.rgba8, RGBA8(r: 253, g: 231, b: 37))
        XCTAssertEqual(Colormap.viridis.bottom.rgba8, RGBA8(r: 68, g: 1, b: 84))
        XCTAssertEqual(Colormap.magma.top.rgba8, RGBA8(r: 252, g: 253, b: 191))
        XCTAssertEqual(Colormap.magma.bottom.rgba8, RGBA8(r: 0, g: 0, b: 4))
        XCTAssertEqual(Colormap.jet.bottom.rgba8, RGBA8(r: 0, g: 0, b: 128))
        XCTAssertEqual(Colormap.jet.top.rgba8, RGBA8(r: 128, g: 0, b: 0))
    }

    func testJetFollowsItsSegments() {
        // Green is 1 on [0.375, 0.64]; blue is 1 on [0.11, 0.34]; red is 1 on [0.66, 0.89].
        for i in 0..<256 {
            let x = Double(i) / 255
            let c = Colormap.jet.table
            if x >= 0.375 && x <= 0.64 { XCTAssertEqual(c[i * 3 + 1], 1, "green at \(i)") }
            if x >= 0.11 && x <= 0.34 { XCTAssertEqual(c[i * 3 + 2], 1, "blue at \(i)") }
            if x >= 0.66 && x <= 0.89 { XCTAssertEqual(c[i * 3], 1, "red at \(i)") }
        }
        // Linear between breakpoints: red at x = 0.505 is (0.505 - 0.35) / 0.31.
        let i = 128
        XCTAssertEqual(Colormap.jet.table[i * 3], (Double(i) / 255 - 0.35) / 0.31, accuracy: 1e-12)
    }

    func testLookupIndexConvention() {
        XCTAssertEqual(Colormap.index(for: 0), 0)
        XCTAssertEqual(Colormap.index(for: 1), 255)
        XCTAssertEqual(Colormap.index(for: 0.5), 128)
        XCTAssertEqual(Colormap.index(for: 254.0 / 256), 254)
        XCTAssertEqual(Colormap.index(for: -3), 0)
        XCTAssertEqual(Colormap.index(for: 7), 255)
        XCTAssertEqual(Colormap.index(for: .nan), 0)
    }

    func testPerceptualMapsGetLighterMonotonically() {
        for map in [Colormap.viridis, Colormap.magma] {
            var last = -1.0
            for i in 0..<256 {
                let l = 0.2126 * map.table[i * 3] + 0.7152 * map.table[i * 3 + 1] + 0.0722 * map.table[i * 3 + 2]
                XCTAssertGreaterThan(l, last, "\(map.name) at \(i)")
                last = l
            }
        }
    }

    func testNamedAndReversed() throws {
        XCTAssertEqual(try Colormap.named("Viridis"), .viridis)
        let r = try Colormap.named("magma_r")
        XCTAssertEqual(r.name, "magma_r")
        XCTAssertEqual(r.top, Colormap.magma.bottom)
        XCTAssertEqual(r.reversed(), .magma)
        XCTAssertThrowsError(try Colormap.named("parula")) { e in
            XCTAssertTrue("\(e)".contains("parula"))
        }
    }

    func testPalettesAreDistinctAndCycle() {
        XCTAssertEqual(Set(Palette.okabeIto.map { $0.rgba8 }).count, Palette.okabeIto.count)
        XCTAssertEqual(Palette.color(0), Palette.okabeIto[0])
        XCTAssertEqual(Palette.color(Palette.okabeIto.count + 1), Palette.okabeIto[1])
        XCTAssertEqual(Palette.okabeIto[0].rgba8, RGBA8(r: 0, g: 0x72, b: 0xB2))
    }
}
