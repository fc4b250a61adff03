import Foundation
import XCTest
import Imaging

final class WritePNGTests: XCTestCase {
    var dir = FileManager.default.temporaryDirectory

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("clvs-img-write-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func testRGBRoundTripAndNoTempFileLeft() throws {
        let image = try ImageIO.load(Fixtures.url("images/ycc420.jpg"))
        let url = dir.appendingPathComponent("out.png")
        try ImageIO.writePNG(image, to: url)
        XCTAssertEqual(try ImageIO.load(url), image)
        // Overwrites an existing file in place.
        let other = RGBImage(width: 3, height: 2, fill: (10, 20, 30))
        try ImageIO.writePNG(other, to: url)
        XCTAssertEqual(try ImageIO.load(url), other)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.png"])
    }

    func testGrayRoundTrip() throws {
        let gray: [UInt8] = (0..<(7 * 5)).map { UInt8($0 * 7) }
        let url = dir.appendingPathComponent("gray.png")
        try ImageIO.writePNG(gray: gray, width: 7, height: 5, to: url)
        let back = try ImageIO.load(url)
        XCTAssertEqual(back.width, 7)
        XCTAssertEqual(back.height, 5)
        XCTAssertEqual(back.pixels, gray.flatMap { [$0, $0, $0] })
        let data = try Data(contentsOf: url)
        XCTAssertEqual(data[25], 0, "IHDR colour type should be 0 (gray)")
    }

    func testWriteErrorsAreTyped() {
        let url = dir.appendingPathComponent("bad.png")
        XCTAssertThrowsError(try ImageIO.writePNG(gray: [1, 2, 3], width: 2, height: 2, to: url)) { error in
            guard case let ImageIOError.invalidImage(file, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(file, url.path)
        }
        XCTAssertThrowsError(try ImageIO.writePNG(RGBImage(width: 0, height: 0, pixels: []), to: url))
        let missingDir = dir.appendingPathComponent("no/such/dir/x.png")
        XCTAssertThrowsError(try ImageIO.writePNG(RGBImage(width: 1, height: 1, fill: (0, 0, 0)), to: missingDir)) { error in
            guard case ImageIOError.writeFailed = error else { return XCTFail("got \(error)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }
}
