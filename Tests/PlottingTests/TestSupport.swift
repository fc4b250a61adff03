import Foundation
import Imaging
@testable import Plotting
import XCTest

/// Fixtures folder next to this file.
let fixturesURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// The pixel containing canvas point `p`.
func pixel(_ fig: Figure, _ p: PlotPoint, file: StaticString = #filePath, line: UInt = #line) -> RGBA8 {
    guard let px = fig.pixel(x: Int(p.x.rounded(.down)), y: Int(p.y.rounded(.down))) else {
        XCTFail("point \(p) is outside the \(fig.width)x\(fig.height) canvas", file: file, line: line)
        return RGBA8(r: 0, g: 0, b: 0, a: 0)
    }
    return px
}

let whitePixel = RGBA8(r: 255, g: 255, b: 255, a: 255)

/// Asserts `body` throws exactly `expected`.
func assertThrows<T>(_ expected: PlotError, _ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected \(expected), got no error", file: file, line: line)
    } catch let e as PlotError {
        XCTAssertEqual(e, expected, file: file, line: line)
    } catch {
        XCTFail("expected \(expected), got \(error)", file: file, line: line)
    }
}

/// A solid-colour test image.
func solidImage(_ w: Int, _ h: Int, _ c: (UInt8, UInt8, UInt8)) -> RGBImage {
    RGBImage(width: w, height: h, fill: c)
}

/// Reads width and height from a PNG's IHDR chunk.
func pngSize(_ bytes: [UInt8]) -> (Int, Int)? {
    let sig: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    guard bytes.count >= 24, Array(bytes[0..<8]) == sig, Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
    func be(_ i: Int) -> Int { Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]) }
    return (be(16), be(20))
}
