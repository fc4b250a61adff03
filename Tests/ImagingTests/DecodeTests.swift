import Foundation
import XCTest
import Imaging

final class DecodeTests: XCTestCase {
    /// Every fixture image decodes to exactly Pillow's `Image.open(f).convert("RGB")`.
    func testDecodedPixelsEqualPillow() throws {
        let index = try Fixtures.index()
        XCTAssertGreaterThanOrEqual(index.decode.count, 18)
        for c in index.decode {
            let image = try ImageIO.load(Fixtures.url(c.file))
            XCTAssertEqual(image.width, c.width, c.file)
            XCTAssertEqual(image.height, c.height, c.file)
            try assertEqualPixels(image.pixels, c.pixels, c.file)
        }
    }

    /// The fixture set covers the formats the brief asks for (so the test above means something).
    func testFixtureCoverage() throws {
        let modes = Dictionary(grouping: try Fixtures.index().decode, by: \.pil_mode).mapValues(\.count)
        for mode in ["RGB", "RGBA", "L", "LA", "P", "I;16", "CMYK"] {
            XCTAssertNotNil(modes[mode], "no fixture decoded by Pillow as \(mode)")
        }
    }

    /// The format comes from the magic bytes: a JPEG named .png still decodes as a JPEG.
    func testSniffsByContentNotExtension() throws {
        let data = try Data(contentsOf: Fixtures.url("images/gray.jpg"))
        let viaName = try ImageIO.decode(data: data, name: "misleading.png")
        let viaFile = try ImageIO.load(Fixtures.url("images/gray.jpg"))
        XCTAssertEqual(viaName, viaFile)
        XCTAssertEqual(ImageIO.sniff(data), .jpeg)
        XCTAssertEqual(ImageIO.sniff(try Data(contentsOf: Fixtures.url("images/png_rgb.png"))), .png)
    }

    /// Alpha is dropped, not composited: RGBA and RGB versions of the same pixels decode the same.
    func testAlphaIsDropped() throws {
        let rgb = try ImageIO.load(Fixtures.url("images/png_rgb.png"))
        let rgba = try ImageIO.load(Fixtures.url("images/png_rgba.png"))
        let interlaced = try ImageIO.load(Fixtures.url("images/png_rgb_interlaced.png"))
        XCTAssertEqual(rgb, rgba)
        XCTAssertEqual(rgb, interlaced)
    }

    /// 16-bit gray is Pillow's "I;16": values above 255 clip to 255 in convert("RGB").
    func testSixteenBitGrayClips() throws {
        let image = try ImageIO.load(Fixtures.url("images/png_gray16.png"))
        XCTAssertTrue(image.pixels.contains(255))
        XCTAssertTrue(image.pixels.contains { $0 < 255 })
    }

    func testMaxPixelsLimit() throws {
        let url = Fixtures.url("images/png_rgb.png")
        XCTAssertThrowsError(try ImageIO.load(url, maxPixels: 100)) { error in
            guard case let ImageIOError.tooLarge(file, width, height, _) = error else {
                return XCTFail("expected tooLarge, got \(error)")
            }
            XCTAssertEqual(file, url.path)
            XCTAssertEqual(width, 23)
            XCTAssertEqual(height, 17)
        }
        let jpg = Fixtures.url("images/gray.jpg")
        XCTAssertThrowsError(try ImageIO.load(jpg, maxPixels: 100)) { error in
            guard case ImageIOError.tooLarge = error else { return XCTFail("expected tooLarge, got \(error)") }
        }
    }
}

final class DecodeErrorTests: XCTestCase {
    func testErrorFixturesThrowTypedErrorsNamingTheFile() throws {
        let index = try Fixtures.index()
        XCTAssertEqual(Set(index.errors.map(\.kind)), ["empty", "truncated", "unknownFormat", "corrupt", "unsupportedFormat"])
        for c in index.errors {
            let url = Fixtures.url(c.file)
            XCTAssertThrowsError(try ImageIO.load(url), c.file) { error in
                guard let e = error as? ImageIOError else { return XCTFail("\(c.file): untyped error \(error)") }
                let kind: String
                switch e {
                case .empty: kind = "empty"
                case .truncated: kind = "truncated"
                case .unknownFormat: kind = "unknownFormat"
                case .corrupt: kind = "corrupt"
                case .unsupportedFormat: kind = "unsupportedFormat"
                default: kind = "other: \(e)"
                }
                XCTAssertEqual(kind, c.kind, "\(c.file): \(e)")
                XCTAssertTrue(e.description.contains(url.path), "message does not name the file: \(e)")
            }
        }
    }

    func testMissingFileIsUnreadable() {
        let url = Fixtures.url("images/does-not-exist.png")
        XCTAssertThrowsError(try ImageIO.load(url)) { error in
            guard case let ImageIOError.unreadable(file, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(file, url.path)
        }
    }

    /// Every prefix of a PNG or JPEG that cuts into the image data throws a typed error (never
    /// crashes). A PNG missing only its 12-byte IEND chunk still decodes, as in Pillow.
    func testEveryTruncationThrowsCleanly() throws {
        for name in ["images/png_palette4_interlaced.png", "images/png_rgb16.png", "images/progressive.jpg",
                     "images/ycc420.jpg", "images/cmyk.jpg"] {
            let data = try Data(contentsOf: Fixtures.url(name))
            let mustFailBelow = name.hasSuffix(".png") ? data.count - 12 : data.count
            for n in stride(from: 0, to: mustFailBelow, by: 5) {
                XCTAssertThrowsError(try ImageIO.decode(data: data.prefix(n), name: name), "\(name) cut at \(n)") { error in
                    XCTAssertTrue(error is ImageIOError, "\(name) cut at \(n): \(error)")
                }
            }
            XCTAssertNoThrow(try ImageIO.decode(data: data, name: name))
        }
    }

    /// Flipped bytes in the compressed data never crash the decoders.
    func testCorruptedBytesNeverCrash() throws {
        var rng = SplitMix64(seed: 42)
        for name in ["images/png_rgb.png", "images/ycc422.jpg", "images/cmyk.jpg"] {
            let original = [UInt8](try Data(contentsOf: Fixtures.url(name)))
            for _ in 0..<60 {
                var bytes = original
                for _ in 0..<4 {
                    let i = 8 + Int(rng.next() % UInt64(bytes.count - 8))
                    bytes[i] = UInt8(truncatingIfNeeded: rng.next())
                }
                if let image = try? ImageIO.decode(data: Data(bytes), name: name) {
                    XCTAssertEqual(image.pixels.count, image.width * image.height * 3)
                }
            }
        }
    }
}

/// A tiny deterministic PRNG for tests.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
