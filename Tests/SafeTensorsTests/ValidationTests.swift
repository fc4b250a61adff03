import Foundation
import XCTest
@testable import SafeTensors

/// Hand-made bad files: each must fail with the right typed error, naming the file and the field.
final class ValidationTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try TempDir.make()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    /// Writes `length (LE u64) + header + data`; `length` defaults to the header's byte count.
    private func make(_ header: String, data: [UInt8] = [], length: UInt64? = nil, name: String = #function) throws -> URL {
        try make(bytes: Array(header.utf8), data: data, length: length, name: name)
    }

    private func make(bytes header: [UInt8], data: [UInt8] = [], length: UInt64? = nil, name: String = #function) throws -> URL {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: (length ?? UInt64(header.count)).littleEndian) { bytes += $0 }
        bytes += header + data
        let url = dir.appendingPathComponent(name.replacingOccurrences(of: "()", with: "") + ".safetensors")
        try Data(bytes).write(to: url)
        return url
    }

    /// Opens `url`, expecting failure; returns the error after checking its message names the file
    /// and every string in `mentions`.
    @discardableResult
    private func expectError(_ url: URL, mentions: [String] = [], file: StaticString = #filePath, line: UInt = #line) -> SafeTensorsError? {
        do {
            _ = try SafeTensorsFile(url: url)
            XCTFail("opened a bad file", file: file, line: line)
            return nil
        } catch let error as SafeTensorsError {
            let message = error.description
            XCTAssertTrue(message.contains(url.path), "message lacks the file: \(message)", file: file, line: line)
            for m in mentions {
                XCTAssertTrue(message.contains(m), "message lacks \(m): \(message)", file: file, line: line)
            }
            return error
        } catch {
            XCTFail("untyped error \(error)", file: file, line: line)
            return nil
        }
    }

    private let okEntry = #""t":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}"#

    // MARK: file and header framing

    func testFileShorterThan8Bytes() throws {
        for size in [0, 1, 7] {
            let url = dir.appendingPathComponent("short\(size).safetensors")
            try Data(repeating: 0, count: size).write(to: url)
            XCTAssertEqual(expectError(url), .fileTooSmall(file: url.path, size: size))
        }
    }

    func testHeaderLengthTooLarge() throws {
        let url = try make("{}", length: 100_000_001)
        XCTAssertEqual(expectError(url), .headerTooLarge(file: url.path, headerLength: 100_000_001, limit: 100_000_000))
        let huge = try make("{}", length: .max, name: "huge")
        XCTAssertEqual(expectError(huge), .headerTooLarge(file: huge.path, headerLength: .max, limit: 100_000_000))
    }

    func testHeaderLengthPastEndOfFile() throws {
        let url = try make("{}      ", length: 9)
        XCTAssertEqual(expectError(url), .headerExceedsFile(file: url.path, headerLength: 9, fileSize: 16))
    }

    func testHeaderNotUTF8() throws {
        let url = try make(bytes: [0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])
        XCTAssertEqual(expectError(url), .headerNotUTF8(file: url.path))
    }

    func testHeaderNotJSON() throws {
        for (i, header) in [#"{"t":"#, #"{"t":1,}"#, "{} x", #"{"a" 1}"#, "{'a':1}", #"{"a":01}"#,
                            #"{"a":"\x"}"#, "{\"a\":\"\u{1}\"}", #"{"a":"\ud800"}"#, "", "nul"].enumerated() {
            let url = try make(header, name: "json\(i)")
            guard case .headerInvalidJSON? = expectError(url, mentions: ["not valid JSON"]) else {
                return XCTFail("header \(header)")
            }
        }
        // Absurd nesting is an error, not a stack overflow.
        let deep = try make(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), name: "deep")
        guard case .headerInvalidJSON? = expectError(deep, mentions: ["nesting"]) else { return XCTFail() }
    }

    func testHeaderNotAnObject() throws {
        for (i, header) in ["[]", #""text""#, "12", "null"].enumerated() {
            let url = try make(header, name: "notobj\(i)")
            XCTAssertEqual(expectError(url), .headerNotObject(file: url.path))
        }
    }

    func testDuplicateKey() throws {
        let url = try make("{\(okEntry),\(okEntry)}", data: [1, 2])
        XCTAssertEqual(expectError(url), .duplicateKey(file: url.path, context: "the header", key: "t"))
        let inner = try make(#"{"t":{"dtype":"U8","dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#, data: [1, 2], name: "inner")
        XCTAssertEqual(expectError(inner), .duplicateKey(file: inner.path, context: "entry \"t\"", key: "dtype"))
    }

    /// Names that differ in bytes but are equal as Swift Strings (canonically equivalent) would
    /// collide in the String-keyed tables, so they are rejected as duplicates too.
    func testCanonicallyEquivalentNamesAreDuplicates() throws {
        let names = ["\u{E9}", "e\u{301}"]
        let header = "{\"\(names[0])\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
            + "\"\(names[1])\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}"
        let url = try make(header, data: [1, 2])
        guard case let .duplicateKey(_, context, key)? = expectError(url, mentions: ["duplicate key"]) else { return XCTFail() }
        XCTAssertEqual(context, "the header")
        XCTAssertEqual(Array(key.unicodeScalars), Array(names[1].unicodeScalars))
        let meta = try make("{\"__metadata__\":{\"\u{C5}\":\"a\",\"\u{212B}\":\"b\"},\(okEntry)}", data: [1, 2], name: "meta")
        guard case let .duplicateKey(_, metaContext, _)? = expectError(meta) else { return XCTFail() }
        XCTAssertEqual(metaContext, "entry \"__metadata__\"")
        // Byte-distinct keys inside an entry that the reader ignores are not an error.
        let extra = try make("{\"t\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2],\"\u{C5}\":1,\"\u{212B}\":2}}",
                             data: [1, 2], name: "extra")
        XCTAssertEqual(try SafeTensorsFile(url: extra).tensors.count, 1)
    }

    // MARK: metadata

    func testMetadataValuesMustBeStrings() throws {
        let url = try make(#"{"__metadata__":{"ok":"x","n":1},"# + okEntry + "}", data: [1, 2])
        XCTAssertEqual(expectError(url, mentions: ["__metadata__", "\"n\""]),
                       .invalidMetadata(file: url.path, key: "n", reason: "expected a string value, found number"))
        let notObject = try make(#"{"__metadata__":["a"],"# + okEntry + "}", data: [1, 2], name: "arr")
        XCTAssertEqual(expectError(notObject, mentions: ["__metadata__"]),
                       .invalidMetadata(file: notObject.path, key: "", reason: "expected an object, found array"))
    }

    // MARK: entries

    func testEntryNotAnObject() throws {
        let url = try make(#"{"t":[1,2]}"#)
        XCTAssertEqual(expectError(url, mentions: ["\"t\""]), .entryNotObject(file: url.path, tensor: "t"))
    }

    func testMissingFields() throws {
        let cases = [
            ("dtype", #"{"t":{"shape":[2],"data_offsets":[0,2]}}"#),
            ("shape", #"{"t":{"dtype":"U8","data_offsets":[0,2]}}"#),
            ("data_offsets", #"{"t":{"dtype":"U8","shape":[2]}}"#),
        ]
        for (field, header) in cases {
            let url = try make(header, data: [1, 2], name: "missing_\(field)")
            XCTAssertEqual(expectError(url, mentions: ["\"t\"", field]), .missingField(file: url.path, tensor: "t", field: field))
        }
    }

    func testUnknownAndUnsupportedDType() throws {
        let unknown = try make(#"{"t":{"dtype":"u8","shape":[2],"data_offsets":[0,2]}}"#, data: [1, 2])
        XCTAssertEqual(expectError(unknown, mentions: ["dtype", "u8"]), .unknownDType(file: unknown.path, tensor: "t", dtype: "u8"))
        let fp8 = try make(#"{"t":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#, data: [1, 2], name: "fp8")
        XCTAssertEqual(expectError(fp8), .unsupportedDType(file: fp8.path, tensor: "t", dtype: "F8_E4M3"))
        let number = try make(#"{"t":{"dtype":7,"shape":[2],"data_offsets":[0,2]}}"#, data: [1, 2], name: "num")
        XCTAssertEqual(expectError(number), .invalidField(file: number.path, tensor: "t", field: "dtype", reason: "expected a string, found number"))
    }

    func testBadShapes() throws {
        let cases: [(String, String)] = [
            ("[-1]", "element 0: negative value -1"),
            ("[2,-0]", "element 1: negative value -0"),
            ("[1.5]", "element 0: 1.5 is not an integer"),
            ("[2.0]", "element 0: 2.0 is not an integer"),
            ("[1e2]", "element 0: 1e2 is not an integer"),
            ("[\"2\"]", "element 0: expected a non-negative integer, found string"),
            ("[99999999999999999999]", "element 0: 99999999999999999999 is too large"),
            ("2", "expected an array, found number"),
        ]
        for (i, (shape, reason)) in cases.enumerated() {
            let url = try make(#"{"t":{"dtype":"U8","shape":"# + shape + #","data_offsets":[0,2]}}"#, data: [1, 2], name: "shape\(i)")
            XCTAssertEqual(expectError(url, mentions: ["\"t\"", "shape"]),
                           .invalidField(file: url.path, tensor: "t", field: "shape", reason: reason))
        }
    }

    func testShapeProductOverflow() throws {
        let url = try make(#"{"t":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#)
        XCTAssertEqual(expectError(url, mentions: ["\"t\"", "overflow"]),
                       .shapeOverflow(file: url.path, tensor: "t", shape: ["4294967296", "4294967296"]))
        // The element count fits, the byte count does not.
        let bytes = try make(#"{"t":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}}"#, name: "bytes")
        XCTAssertEqual(expectError(bytes), .shapeOverflow(file: bytes.path, tensor: "t", shape: ["2305843009213693952"]))
        // As in the crate, the fold overflows before it reaches a zero dimension.
        let zeroLast = try make(#"{"t":{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}"#, name: "zl")
        guard case .shapeOverflow? = expectError(zeroLast) else { return XCTFail() }
    }

    func testBadOffsetFields() throws {
        let cases: [(String, String)] = [
            ("[0,1,2]", "expected 2 elements, found 3"),
            ("[0]", "expected 2 elements, found 1"),
            ("[-1,2]", "element 0: negative value -1"),
            ("[0,2.5]", "element 1: 2.5 is not an integer"),
            ("{}", "expected an array, found object"),
        ]
        for (i, (offsets, reason)) in cases.enumerated() {
            let url = try make(#"{"t":{"dtype":"U8","shape":[2],"data_offsets":"# + offsets + "}}", data: [1, 2], name: "off\(i)")
            XCTAssertEqual(expectError(url, mentions: ["\"t\"", "data_offsets"]),
                           .invalidField(file: url.path, tensor: "t", field: "data_offsets", reason: reason))
        }
    }

    func testBeginAfterEnd() throws {
        let url = try make(#"{"t":{"dtype":"U8","shape":[2],"data_offsets":[2,0]}}"#, data: [1, 2])
        // Sorted by (begin, end), [2, 0] comes first; begin > end is reported before contiguity.
        XCTAssertEqual(expectError(url, mentions: ["\"t\"", "data_offsets"]), .offsetsReversed(file: url.path, tensor: "t", begin: 2, end: 0))
    }

    func testEndPastDataSection() throws {
        let url = try make(#"{"t":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#, data: [1, 2])
        XCTAssertEqual(expectError(url, mentions: ["\"t\""]), .offsetsPastEnd(file: url.path, tensor: "t", end: 4, dataSize: 2))
    }

    func testByteCountMismatch() throws {
        let url = try make(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: [1, 2, 3, 4])
        XCTAssertEqual(expectError(url, mentions: ["\"t\""]), .byteCountMismatch(file: url.path, tensor: "t", expected: 8, actual: 4))
        let zeroD = try make(#"{"t":{"dtype":"F32","shape":[],"data_offsets":[0,0]}}"#, name: "zeroD")
        XCTAssertEqual(expectError(zeroD), .byteCountMismatch(file: zeroD.path, tensor: "t", expected: 4, actual: 0))
    }

    func testOverlapAndHoles() throws {
        let overlap = try make(#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#,
                               data: [UInt8](repeating: 0, count: 6))
        XCTAssertEqual(expectError(overlap, mentions: ["\"b\"", "overlaps"]),
                       .offsetsNotContiguous(file: overlap.path, tensor: "b", begin: 2, expectedBegin: 4))
        let hole = try make(#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}}"#,
                            data: [UInt8](repeating: 0, count: 8), name: "hole")
        XCTAssertEqual(expectError(hole, mentions: ["\"b\"", "hole"]),
                       .offsetsNotContiguous(file: hole.path, tensor: "b", begin: 6, expectedBegin: 4))
        let notAtZero = try make(#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}"#, data: [0, 0, 0, 0], name: "nz")
        XCTAssertEqual(expectError(notAtZero), .offsetsNotContiguous(file: notAtZero.path, tensor: "a", begin: 2, expectedBegin: 0))
        let sameRange = try make(#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"I16","shape":[1],"data_offsets":[0,2]}}"#,
                                 data: [0, 0], name: "same")
        guard case .offsetsNotContiguous? = expectError(sameRange) else { return XCTFail() }
    }

    func testTrailingBytesNotCovered() throws {
        let url = try make("{\(okEntry)}", data: [1, 2, 3])
        XCTAssertEqual(expectError(url, mentions: ["not fully covered"]), .incompleteDataSection(file: url.path, covered: 2, dataSize: 3))
        let emptyHeaderWithData = try make("{}", data: [9], name: "empty")
        XCTAssertEqual(expectError(emptyHeaderWithData), .incompleteDataSection(file: emptyHeaderWithData.path, covered: 0, dataSize: 1))
    }

    // MARK: things the crate accepts

    func testAcceptedEdgeCases() throws {
        // Whitespace around the JSON, null metadata, unknown extra fields, entries out of offset
        // order, two empty tensors at the same offset, a 0-d tensor, escapes in names.
        let header = #"  {"z":{"dtype":"I16","shape":[],"data_offsets":[2,4],"extra":[1,{"x":null}]},"__metadata__":null,"#
            + #""e1":{"dtype":"F32","shape":[0,5],"data_offsets":[4,4]},"e2":{"dtype":"U8","shape":[0],"data_offsets":[4,4]},"#
            + #""a\u00e9\"\n\ud83d\ude00":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}   "#
        let url = try make(header, data: [7, 8, 0xfe, 0xff])
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.metadata, [:])
        XCTAssertEqual(Set(file.names), ["z", "e1", "e2", "aé\"\n😀"])
        XCTAssertEqual(try file.int64s("z"), [-2])
        XCTAssertEqual(try file.int64s("aé\"\n😀"), [7, 8])
        XCTAssertEqual(try file.floats("e1"), [])
        XCTAssertEqual(try file.info("e2").byteOffset, 8 + file.headerLength + 4)
        // The empty file of the format: "{}" padded, no data.
        let empty = try make("{}      ", name: "emptyOK")
        XCTAssertEqual(try SafeTensorsFile(url: empty).tensors.count, 0)
    }

    /// The data section starts right after the header even if the header is not padded, so tensors
    /// may be misaligned; every accessor must still work.
    func testMisalignedData() throws {
        let header = #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"f":{"dtype":"F32","shape":[2],"data_offsets":[1,9]},"#
            + #""h":{"dtype":"F16","shape":[1],"data_offsets":[9,11]},"d":{"dtype":"F64","shape":[1],"data_offsets":[11,19]},"#
            + #""i":{"dtype":"I64","shape":[1],"data_offsets":[19,27]}}"#
        var data: [UInt8] = [5]
        withUnsafeBytes(of: Float(1.5)) { data += $0 }
        withUnsafeBytes(of: Float(-2)) { data += $0 }
        data += [0x00, 0x3c]
        withUnsafeBytes(of: Double(0.25)) { data += $0 }
        withUnsafeBytes(of: Int64(-3)) { data += $0 }
        let file = try SafeTensorsFile(url: try make(header, data: data))
        XCTAssertEqual(try file.floats("f"), [1.5, -2])
        XCTAssertEqual(try file.floats("h"), [1])
        XCTAssertEqual(try file.floats("d"), [0.25])
        XCTAssertEqual(try file.int64s("i"), [-3])
        XCTAssertEqual(try file.int64s("a"), [5])
    }
}
