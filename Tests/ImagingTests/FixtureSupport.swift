import Foundation
import XCTest
import Imaging

/// The fixtures made by Fixtures/make_fixtures.py (Pillow + transformers' CLIPImageProcessorPil).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    struct ArrayRef: Decodable {
        var shape: [Int]
        var dtype: String
        var fnv1a64: String
        var file: String?
        /// [index into the flattened array, value]
        var samples: [[Double]]
        var sum: Double?
        var sum_abs: Double?
        var sum_sq: Double?
    }

    struct DecodeCase: Decodable {
        var file: String
        var pil_mode: String
        var width: Int
        var height: Int
        var pixels: ArrayRef
    }

    struct ErrorCase: Decodable {
        var file: String
        var kind: String
    }

    struct ResizeCase: Decodable {
        var name: String
        var source: String
        var crop: [Int]?
        var width: Int
        var height: Int
        var filter: Int
        var pixels: ArrayRef
    }

    struct ClipCase: Decodable {
        var name: String
        var image: String
        var config: String
        var pad_to_square: Bool
        var geometry: ImageGeometry
        var pixel_values: ArrayRef
    }

    struct SweepCase: Decodable {
        var crop: [Int]
        var width: Int
        var height: Int
        var filter: Int
        var fnv1a64: String
    }

    struct Sweep: Decodable {
        var source: String
        var cases: [SweepCase]
    }

    struct Index: Decodable {
        var decode: [DecodeCase]
        var errors: [ErrorCase]
        var resize: [ResizeCase]
        var resize_sweep: Sweep
        var clip: [ClipCase]
    }

    static func index() throws -> Index {
        let data = try Data(contentsOf: url("index.json"))
        return try JSONDecoder().decode(Index.self, from: data)
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(relative)))
    }

    static func floats(_ relative: String) throws -> [Float] {
        let data = try Data(contentsOf: url(relative))
        var out = [Float](repeating: 0, count: data.count / 4)
        data.withUnsafeBytes { raw in
            for i in 0..<out.count {
                out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
        }
        return out
    }
}

/// FNV-1a 64-bit, as make_fixtures.py computes it.
func fnv1a64(_ bytes: UnsafeRawBufferPointer) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes {
        h ^= UInt64(b)
        h = h &* 0x100_0000_01B3
    }
    let s = String(h, radix: 16)
    return String(repeating: "0", count: 16 - s.count) + s
}

func fnv1a64(_ values: [UInt8]) -> String { values.withUnsafeBytes { fnv1a64($0) } }

func fnv1a64(_ values: [Float]) -> String {
    let le = values.map { $0.bitPattern.littleEndian }
    return le.withUnsafeBytes { fnv1a64($0) }
}

/// Crops (x, y, w, h) out of an RGB image (test helper, no padding).
func crop(_ image: RGBImage, _ r: [Int]) -> RGBImage {
    let (x, y, w, h) = (r[0], r[1], r[2], r[3])
    var px = [UInt8]()
    px.reserveCapacity(w * h * 3)
    for yy in y..<(y + h) {
        let s = (yy * image.width + x) * 3
        px.append(contentsOf: image.pixels[s..<(s + w * 3)])
    }
    return RGBImage(width: w, height: h, pixels: px)
}

/// Compares uint8 pixels with a reference: the full array if stored, else the hash and samples.
/// Returns the max abs difference seen (0 when the hash matches).
@discardableResult
func assertEqualPixels(_ actual: [UInt8], _ ref: Fixtures.ArrayRef, _ label: String,
                       file: StaticString = #filePath, line: UInt = #line) throws -> Int {
    XCTAssertEqual(actual.count, ref.shape.reduce(1, *), "\(label): element count", file: file, line: line)
    var maxDiff = 0
    if let f = ref.file {
        let expected = try Fixtures.bytes(f)
        XCTAssertEqual(expected.count, actual.count, "\(label): reference size", file: file, line: line)
        var mismatches = 0
        for i in 0..<min(expected.count, actual.count) where expected[i] != actual[i] {
            mismatches += 1
            maxDiff = max(maxDiff, abs(Int(expected[i]) - Int(actual[i])))
        }
        XCTAssertEqual(mismatches, 0, "\(label): \(mismatches) bytes differ, max diff \(maxDiff)", file: file, line: line)
    }
    for s in ref.samples {
        let i = Int(s[0])
        guard i < actual.count else { XCTFail("\(label): sample index \(i) out of range", file: file, line: line); continue }
        maxDiff = max(maxDiff, abs(Int(actual[i]) - Int(s[1])))
        XCTAssertEqual(Int(actual[i]), Int(s[1]), "\(label): sample at \(i)", file: file, line: line)
    }
    XCTAssertEqual(fnv1a64(actual), ref.fnv1a64, "\(label): hash", file: file, line: line)
    return maxDiff
}

/// Compares float32 values with a reference within `tolerance` (full array, or samples plus
/// sums when only a hash is stored). Returns the max abs difference seen.
@discardableResult
func assertClose(_ actual: [Float], _ ref: Fixtures.ArrayRef, tolerance: Float, _ label: String,
                 file: StaticString = #filePath, line: UInt = #line) throws -> Float {
    XCTAssertEqual(actual.count, ref.shape.reduce(1, *), "\(label): element count", file: file, line: line)
    var maxDiff: Float = 0
    if let f = ref.file {
        let expected = try Fixtures.floats(f)
        XCTAssertEqual(expected.count, actual.count, "\(label): reference size", file: file, line: line)
        for i in 0..<min(expected.count, actual.count) {
            maxDiff = max(maxDiff, abs(expected[i] - actual[i]))
        }
    }
    for s in ref.samples {
        let i = Int(s[0])
        guard i < actual.count else { XCTFail("\(label): sample index \(i) out of range", file: file, line: line); continue }
        maxDiff = max(maxDiff, abs(actual[i] - Float(s[1])))
    }
    XCTAssertLessThanOrEqual(maxDiff, tolerance, "\(label): max abs diff", file: file, line: line)
    if let sum = ref.sum, let sumAbs = ref.sum_abs {
        let a = actual.reduce(0.0) { $0 + Double($1) }
        let b = actual.reduce(0.0) { $0 + abs(Double($1)) }
        let n = Double(actual.count)
        XCTAssertEqual(a, sum, accuracy: n * Double(tolerance), "\(label): sum", file: file, line: line)
        XCTAssertEqual(b, sumAbs, accuracy: n * Double(tolerance), "\(label): sum of abs", file: file, line: line)
    }
    return maxDiff
}
