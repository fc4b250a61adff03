import Foundation
import XCTest
@testable import SafeTensors

final class ReaderTests: XCTestCase {
    private struct Expected: Decodable {
        var shape: [Int]
        var float_bits: [UInt32]?
        var ints: [String]?
    }

    private static let dtypeOf: [String: DType] = [
        "f32.matrix": .F32, "f16.vector": .F16, "bf16.vector": .BF16, "f64.vector": .F64,
        "i64.matrix": .I64, "i32.vector": .I32, "i16.vector": .I16, "i8.vector": .I8,
        "u8.matrix": .U8, "u16.vector": .U16, "u32.vector": .U32, "u64.vector": .U64, "u64.big": .U64,
        "bool.matrix": .BOOL, "scalar.f32": .F32, "scalar.i64": .I64, "scalar.bf16": .BF16,
        "empty.f32": .F32, "empty.f16": .F16, "empty.i64": .I64,
    ]

    /// Every tensor of the torch-made fixture reads back exactly (bit patterns for floats).
    func testPythonFixtureReadsExactly() throws {
        let file = try SafeTensorsFile(url: Fixtures.url("dtypes.safetensors"))
        let json = try Data(contentsOf: Fixtures.url("dtypes.expected.json"))
        let expected = try JSONDecoder().decode([String: Expected].self, from: json)
        XCTAssertEqual(Set(file.tensors.keys), Set(expected.keys))
        XCTAssertEqual(file.names, expected.keys.sorted())
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "fixture é"])
        XCTAssertEqual(expected.count, Self.dtypeOf.count)
        for (name, exp) in expected {
            let info = try file.info(name)
            XCTAssertEqual(info.name, name)
            XCTAssertEqual(info.dtype, Self.dtypeOf[name], name)
            XCTAssertEqual(info.shape, exp.shape, name)
            XCTAssertEqual(info.elementCount, exp.shape.reduce(1, *), name)
            XCTAssertEqual(info.byteCount, info.elementCount * info.dtype.byteSize, name)
            XCTAssertEqual(try file.rawBytes(name).count, info.byteCount)
            if let bits = exp.float_bits {
                let values = try file.floats(name)
                XCTAssertEqual(values.map(\.bitPattern), bits, name)
                XCTAssertThrowsError(try file.int64s(name)) { error in
                    guard case SafeTensorsError.wrongDType(_, let t, _, _) = error else { return XCTFail("\(error)") }
                    XCTAssertEqual(t, name)
                }
            } else if let ints = exp.ints {
                if name == "u64.big" {
                    XCTAssertThrowsError(try file.int64s(name)) { error in
                        XCTAssertEqual(error as? SafeTensorsError,
                                       .valueOutOfRange(file: file.url.path, tensor: name, index: 1))
                    }
                } else {
                    XCTAssertEqual(try file.int64s(name), ints.compactMap { Int64($0) }, name)
                    XCTAssertEqual(ints.compactMap { Int64($0) }.count, ints.count)
                }
                XCTAssertThrowsError(try file.floats(name)) { error in
                    XCTAssertTrue("\(error)".contains(name), "\(error)")
                }
            } else {
                XCTFail("fixture entry \(name) has no values")
            }
        }
        // Spot checks that do not depend on the JSON file.
        XCTAssertEqual(try file.floats("scalar.f32"), [3.25])
        XCTAssertEqual(try file.floats("scalar.bf16"), [-0.5])
        XCTAssertEqual(try file.int64s("scalar.i64"), [-7])
        XCTAssertEqual(try file.info("scalar.i64").shape, [])
        XCTAssertEqual(try file.floats("empty.f16"), [])
        XCTAssertEqual(try file.info("empty.f16").shape, [2, 0, 3])
        XCTAssertEqual(try file.int64s("i64.matrix"), [0, 1, -1, .max, .min, 1_234_567_890_123])
        XCTAssertEqual(try file.int64s("bool.matrix"), [1, 0, 0, 1])
        XCTAssertEqual(try file.floats("f64.vector")[2], Float(1.0 / 3.0))
        XCTAssertEqual(try file.floats("f16.vector")[7], 0x1p-24)
    }

    func testOffsetsAreAbsoluteAndContiguous() throws {
        let file = try SafeTensorsFile(url: Fixtures.url("dtypes.safetensors"))
        let infos = file.tensors.values.sorted { ($0.byteOffset, $0.byteCount) < ($1.byteOffset, $1.byteCount) }
        var next = 8 + file.headerLength
        XCTAssertEqual(file.headerLength % 8, 0)
        for info in infos {
            XCTAssertEqual(info.byteOffset, next, info.name)
            next += info.byteCount
        }
        XCTAssertEqual(next, file.fileSize)
        // rawBytes points into the mapping at the absolute offset.
        let f32 = try file.rawBytes("f32.matrix")
        XCTAssertEqual(f32.baseAddress.map { $0 - file.mappedBytes.baseAddress! }, try file.info("f32.matrix").byteOffset)
        XCTAssertEqual(f32.loadUnaligned(fromByteOffset: 8, as: UInt32.self), 0x3f80_0000)
    }

    func testFloatsInto() throws {
        let file = try SafeTensorsFile(url: Fixtures.url("dtypes.safetensors"))
        var buf = [Float](repeating: 0, count: 12)
        try buf.withUnsafeMutableBufferPointer { try file.floats("bf16.vector", into: $0) }
        XCTAssertEqual(buf.map(\.bitPattern), try file.floats("bf16.vector").map(\.bitPattern))
        XCTAssertEqual(buf[2], 1.0)
        var small = [Float](repeating: 0, count: 3)
        XCTAssertThrowsError(try small.withUnsafeMutableBufferPointer { try file.floats("bf16.vector", into: $0) }) { error in
            guard case SafeTensorsError.invalidTensor(_, "bf16.vector", _) = error else { return XCTFail("\(error)") }
        }
    }

    func testMissingTensorAndFile() throws {
        let file = try SafeTensorsFile(url: Fixtures.url("dtypes.safetensors"))
        XCTAssertThrowsError(try file.floats("nope")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .tensorNotFound(file: file.url.path, tensor: "nope"))
            XCTAssertTrue("\(error)".contains("dtypes.safetensors"))
            XCTAssertTrue("\(error)".contains("nope"))
        }
        let missing = Fixtures.url("does-not-exist.safetensors")
        XCTAssertThrowsError(try SafeTensorsFile(url: missing)) { error in
            guard case SafeTensorsError.cannotOpen(let f, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(f, missing.path)
        }
        XCTAssertThrowsError(try SafeTensorsFile(url: Fixtures.directory)) { error in
            guard case SafeTensorsError.cannotOpen(_, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(reason, "not a regular file")
        }
    }

    /// F16/BF16 signalling NaNs come back quiet; everything else is exact (documented behaviour).
    func testHalfNaNPayloadsFromAFile() throws {
        var w = SafeTensorsWriter()
        try w.add("h", shape: [4], dtype: .F16, bytes: [0x01, 0x7c, 0x00, 0x7e, 0xff, 0xfd, 0x00, 0x7c])
        try w.add("b", shape: [2], dtype: .BF16, bytes: [0x01, 0x7f, 0xc1, 0xff])
        let url = try TempDir.make().appendingPathComponent("nan.safetensors")
        try w.write(to: url)
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(try file.floats("h").map(\.bitPattern), [0x7fc0_2000, 0x7fc0_0000, 0xffff_e000, 0x7f80_0000])
        XCTAssertEqual(try file.floats("b").map(\.bitPattern), [0x7f01_0000, 0xffc1_0000])
    }

    /// Many threads reading the same file at once get the same answers.
    func testConcurrentReads() throws {
        let file = try SafeTensorsFile(url: Fixtures.url("dtypes.safetensors"))
        let reference = try file.floats("f16.vector").map(\.bitPattern)
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 64) { _ in
            if (try? file.floats("f16.vector").map(\.bitPattern)) != reference { failures.increment() }
        }
        XCTAssertEqual(failures.value, 0)
    }
}

/// A thread-safe counter for concurrency tests.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// Fresh temporary directories for tests (removed at process exit is not needed: they are tiny).
enum TempDir {
    static func make() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("SafeTensorsTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
