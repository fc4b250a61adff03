import Foundation
import XCTest
@testable import SafeTensors

final class WriterTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try TempDir.make()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private func source() throws -> SafeTensorsFile {
        try SafeTensorsFile(url: Fixtures.url("writer_source.safetensors"))
    }

    /// Same tensors as `safetensors.torch.save_file` in make_fixtures.py -> identical bytes
    /// (F16/BF16 rounded by our converters, compared with torch's `.half()` / `.bfloat16()`).
    func testByteIdenticalToTorchSaveFile() throws {
        let src = try source()
        let f = try src.floats("src.f32")
        XCTAssertEqual(f.count, 108)
        let i64 = try src.int64s("src.i64")
        let i32 = try src.int64s("src.i32").map { Int32($0) }
        var w = SafeTensorsWriter(metadata: ["format": "pt"])
        // Added in a different order from Python's dict on purpose.
        try w.add("empty.i32", shape: [3, 0], int32s: [])
        try w.add("z\u{fc}", shape: [1], floats: Array(f[0..<1]), as: .F16)
        // make_fixtures.py leaves the NaN out of w.bf16 (torch writes NaN as 0xFFFF).
        let noNaN = f.filter { !$0.isNaN }
        XCTAssertEqual(noNaN.count, 107)
        try w.add("w.bf16", shape: [107], floats: noNaN, as: .BF16)
        try w.add("scalar", shape: [], floats: [2.5])
        try w.add("a.2", shape: [3], floats: Array(f[3..<6]))
        try w.add("w.f16", shape: [4, 27], floats: f, as: .F16)
        try w.add("idx.i64", shape: [2, 3], int64s: i64)
        try w.add("\u{e9}t\u{e9}", shape: [1], floats: Array(f[0..<1]), as: .F16)
        try w.add("q\"uote\\back\tslash\n\u{1}", shape: [2], floats: Array(f[0..<2]))
        try w.add("empty", shape: [0, 3], floats: [], as: .F16)
        try w.add("B.upper", shape: [2], floats: Array(f[6..<8]))
        try w.add("w.f32", shape: [9, 12], floats: f)
        try w.add("idx.i32", shape: [6], int32s: i32)
        try w.add("a.10", shape: [3], floats: Array(f[0..<3]))
        let ours = try w.serialized()
        let python = try Data(contentsOf: Fixtures.url("writer_torch.safetensors"))
        XCTAssertEqual(ours.count, python.count)
        XCTAssertTrue(ours == python, firstDifference(ours, python))
        // And through the file path (atomic write).
        let url = dir.appendingPathComponent("torch_like.safetensors")
        try w.write(to: url)
        XCTAssertEqual(try Data(contentsOf: url), python)
    }

    /// Same tensors as `safetensors.numpy.save_file` (no metadata) -> identical bytes.
    func testByteIdenticalToNumpySaveFile() throws {
        let src = try source()
        let f = try src.floats("src.f32")
        var w = SafeTensorsWriter()
        try w.add("f32", shape: [2, 54], floats: f)
        try w.add("f16", shape: [108], floats: f, as: .F16)
        try w.add("i64", shape: [6], int64s: try src.int64s("src.i64"))
        try w.add("i32", shape: [3, 2], int32s: try src.int64s("src.i32").map { Int32($0) })
        try w.add("u8", shape: [1, 6], dtype: .U8, bytes: Array(try src.rawBytes("src.u8")))
        try w.add("f64", shape: [4], dtype: .F64, bytes: Array(try src.rawBytes("src.f64")))
        try w.add("flags", shape: [3], dtype: .BOOL, bytes: Array(try src.rawBytes("src.bool")))
        try w.add("zero_d", shape: [], int64s: [7])
        let ours = try w.serialized()
        let python = try Data(contentsOf: Fixtures.url("writer_numpy.safetensors"))
        XCTAssertTrue(ours == python, firstDifference(ours, python))
    }

    /// Known bytes from the Rust crate's own serialisation tests (a header of exactly 64 bytes,
    /// and the empty file with and without metadata).
    func testCrateSerializationBytes() throws {
        var w = SafeTensorsWriter()
        try w.add("attn.0", shape: [1, 2, 3], floats: [0, 1, 2, 3, 4, 5])
        let header = #"{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}"#
        var expected: [UInt8] = [64, 0, 0, 0, 0, 0, 0, 0] + Array(header.utf8)
        XCTAssertEqual(header.utf8.count, 64)
        for v: Float in [0, 1, 2, 3, 4, 5] { withUnsafeBytes(of: v) { expected += $0 } }
        XCTAssertEqual(Array(try w.serialized()), expected)

        XCTAssertEqual(Array(try SafeTensorsWriter().serialized()), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32])
        let withMeta = Array(try SafeTensorsWriter(metadata: ["framework": "pt"]).serialized())
        XCTAssertEqual(withMeta, [40, 0, 0, 0, 0, 0, 0, 0] + Array(#"{"__metadata__":{"framework":"pt"}}     "#.utf8))
    }

    func testRoundTrip() throws {
        var rng = SplitMix64(seed: 99)
        let values = (0..<1000).map { _ in Float(Int64(bitPattern: rng.next() % 2_000_001) - 1_000_000) / 1024 }
        let meta = ["zeta": "last", "alpha": "first", "quote\"": "line\nbreak", "unicode": "\u{e9}\u{1f600}"]
        var w = SafeTensorsWriter(metadata: meta)
        try w.add("f32", shape: [10, 100], floats: values)
        try w.add("f16", shape: [1000], floats: values, as: .F16)
        try w.add("bf16", shape: [1000], floats: values, as: .BF16)
        try w.add("i64", shape: [2, 2], int64s: [.min, -1, 0, .max])
        try w.add("i32", shape: [3], int32s: [.min, 0, .max])
        try w.add("u16", shape: [2], dtype: .U16, bytes: [0xff, 0xff, 0x01, 0x00])
        XCTAssertEqual(w.count, 6)
        let url = dir.appendingPathComponent("round.safetensors")
        try w.write(to: url)
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.metadata, meta)
        XCTAssertEqual(file.names, ["bf16", "f16", "f32", "i32", "i64", "u16"])
        XCTAssertEqual(try file.floats("f32"), values)
        XCTAssertEqual(try file.info("f32").shape, [10, 100])
        // values are multiples of 2^-10 below 2^10 in magnitude: 21 significant bits at most, so
        // F16/BF16 round them; compare with the scalar reference rounding.
        XCTAssertEqual(try file.floats("f16").map(\.bitPattern), values.map { Reference.halfToFloatBits(Reference.floatToHalfBits($0)) })
        XCTAssertEqual(try file.floats("bf16").map(\.bitPattern), values.map { UInt32(Reference.floatToBF16Bits($0)) << 16 })
        XCTAssertEqual(try file.int64s("i64"), [.min, -1, 0, .max])
        XCTAssertEqual(try file.int64s("i32"), [Int64(Int32.min), 0, Int64(Int32.max)])
        XCTAssertEqual(try file.int64s("u16"), [65535, 1])
        // Metadata keys are written in byte-wise sorted order.
        let text = String(decoding: try Data(contentsOf: url).prefix(8 + file.headerLength), as: UTF8.self)
        let positions = ["alpha", "quote", "unicode", "zeta"].compactMap { text.range(of: "\"\($0)")?.lowerBound }
        XCTAssertEqual(positions.count, 4)
        XCTAssertEqual(positions, positions.sorted())
    }

    func testWriterRejectsBadTensors() throws {
        var w = SafeTensorsWriter()
        try w.add("ok", shape: [2], floats: [1, 2])
        func expect(_ tensor: String, _ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try body(), file: file, line: line) { error in
                guard case SafeTensorsError.invalidTensor(let f, let t, _) = error else {
                    return XCTFail("\(error)", file: file, line: line)
                }
                XCTAssertEqual(t, tensor, file: file, line: line)
                XCTAssertEqual(f, "(SafeTensorsWriter)", file: file, line: line)
            }
        }
        expect("ok") { try w.add("ok", shape: [1], floats: [1]) }
        expect("__metadata__") { try w.add("__metadata__", shape: [1], floats: [1]) }
        expect("count") { try w.add("count", shape: [2, 2], floats: [1, 2, 3]) }
        expect("neg") { try w.add("neg", shape: [-1], int64s: []) }
        expect("over") { try w.add("over", shape: [Int.max, 2], int32s: []) }
        expect("asInt") { try w.add("asInt", shape: [1], floats: [1], as: .I32) }
        expect("bytes") { try w.add("bytes", shape: [2], dtype: .F32, bytes: [0, 0, 0, 0]) }
        XCTAssertEqual(w.count, 1)
    }

    func testAtomicWrite() throws {
        let url = dir.appendingPathComponent("out.safetensors")
        var w = SafeTensorsWriter()
        try w.add("a", shape: [1], floats: [1])
        try w.write(to: url)
        try w.add("b", shape: [1], floats: [2])
        try w.write(to: url)  // replaces the old file
        XCTAssertEqual(try SafeTensorsFile(url: url).names, ["a", "b"])
        // No temporary files are left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.safetensors"])
        let bad = dir.appendingPathComponent("no/such/dir/out.safetensors")
        XCTAssertThrowsError(try w.write(to: bad)) { error in
            guard case SafeTensorsError.writeFailed(let f, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(f, bad.path)
        }
    }

    private func firstDifference(_ a: Data, _ b: Data) -> String {
        let x = Array(a), y = Array(b)
        for i in 0..<min(x.count, y.count) where x[i] != y[i] {
            let lo = max(0, i - 40)
            return "first difference at byte \(i): ours …\(String(decoding: x[lo..<min(x.count, i + 40)], as: UTF8.self))… python …\(String(decoding: y[lo..<min(y.count, i + 40)], as: UTF8.self))…"
        }
        return "lengths \(x.count) vs \(y.count)"
    }
}
