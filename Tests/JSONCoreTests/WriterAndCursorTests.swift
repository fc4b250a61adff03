import XCTest
@testable import JSONCore

/// The string writer used for safetensors headers, and the path-naming cursor.
final class WriterTests: XCTestCase {
    func written(_ s: String) -> String {
        var out: [UInt8] = []
        JSONWriter.appendString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func testEscapesLikeSerdeJSON() {
        XCTAssertEqual(written("plain"), #""plain""#)
        XCTAssertEqual(written("a\"b\\c/d"), #""a\"b\\c/d""#)
        XCTAssertEqual(written("\u{8}\u{C}\n\r\t"), #""\b\f\n\r\t""#)
        XCTAssertEqual(written("\u{0}\u{1}\u{1F}\u{7F}"), "\"\\u0000\\u0001\\u001f\u{7F}\"")
        XCTAssertEqual(written("é\u{2581}😀"), "\"é\u{2581}😀\"")
        var out: [UInt8] = []
        JSONWriter.appendInt(-42, to: &out)
        JSONWriter.appendInt(Int.max, to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "-42\(Int.max)")
    }

    func testWrittenStringsParseBackToTheSameBytes() throws {
        let samples = ["", "x", "\u{0}\u{1F}\"\\/", "e\u{301}", "\u{E9}", "\u{10FFFF}", String(repeating: "ab\n", count: 50)]
        for s in samples {
            var out: [UInt8] = []
            JSONWriter.appendString(s, to: &out)
            XCTAssertEqual(try JSONParser.parse(out), .string(Array(s.utf8)), s.debugDescription)
        }
    }
}

/// A reporter whose errors record the path and reason.
struct TestReporter: JSONErrorReporter {
    enum Failure: Error, Equatable {
        case missing(String)
        case invalid(String, String)
    }

    func missing(path: String) -> Failure { .missing(path) }
    func invalid(path: String, reason: String) -> Failure { .invalid(path, reason) }
}

final class CursorTests: XCTestCase {
    func cursor(_ text: String) throws -> JSONCursor<TestReporter> {
        JSONCursor(try JSONParser.parse(Array(text.utf8)), reporter: TestReporter())
    }

    func assertFailure(_ expected: TestReporter.Failure, file: StaticString = #filePath, line: UInt = #line,
                       _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? TestReporter.Failure, expected, file: file, line: line)
        }
    }

    func testPathsAndTypedAccessors() throws {
        let root = try cursor(#"{"model": {"vocab": {"a": 0}, "merges": ["a b", ["c", "d"]], "n": null,"#
                              + #" "f": 0.5, "i": -3, "b": true, "s": "é"}}"#)
        let model = try root.field("model")
        XCTAssertEqual(model.path, "model")
        XCTAssertEqual(try model.field("vocab").path, "model.vocab")
        let merges = try model.field("merges").array()
        XCTAssertEqual(merges.map(\.path), ["model.merges[0]", "model.merges[1]"])
        XCTAssertEqual(try merges[1].array()[0].path, "model.merges[1][0]")
        XCTAssertEqual(try merges[0].string(), "a b")
        XCTAssertEqual(try merges[0].bytes(), Array("a b".utf8))
        XCTAssertEqual(try model.field("f").double(), 0.5)
        XCTAssertEqual(try model.field("i").int(), -3)
        XCTAssertEqual(try model.field("i").double(), -3)
        XCTAssertEqual(try model.field("b").bool(), true)
        XCTAssertEqual(try model.field("s").string(), "é")
        XCTAssertEqual(try model.field("vocab").members().map(\.keyString), ["a"])
        XCTAssertEqual(root.childPath("x"), "x")
        XCTAssertEqual(model.childPath("x"), "model.x")
    }

    func testMissingNullAndHas() throws {
        let model = try cursor(#"{"model": {"n": null, "a": 1}}"#).field("model")
        XCTAssertTrue(model.has("n"))
        XCTAssertFalse(model.has("zz"))
        XCTAssertNil(try model.optionalField("n"))
        XCTAssertNil(try model.optionalField("zz"))
        XCTAssertEqual(try model.optionalField("a")?.int(), 1)
        assertFailure(.missing("model.n")) { _ = try model.field("n") }
        assertFailure(.missing("model.zz")) { _ = try model.field("zz") }
        let nullCursor = JSONCursor(JSONValue.null, path: "p", reporter: TestReporter())
        XCTAssertTrue(nullCursor.isNull)
    }

    func testTypeErrorsNameThePathAndBothTypes() throws {
        let root = try cursor(#"{"a": [1], "s": "x", "f": 1.5, "big": 9223372036854775808}"#)
        assertFailure(.invalid("a", "expected an object, found an array")) { _ = try root.field("a").field("k") }
        assertFailure(.invalid("s", "expected a boolean, found a string")) { _ = try root.field("s").bool() }
        assertFailure(.invalid("s", "expected an integer, found a string")) { _ = try root.field("s").int() }
        assertFailure(.invalid("s", "expected a number, found a string")) { _ = try root.field("s").double() }
        assertFailure(.invalid("s", "expected an array, found a string")) { _ = try root.field("s").array() }
        assertFailure(.invalid("s", "expected an object, found a string")) { _ = try root.field("s").members() }
        assertFailure(.invalid("a[0]", "expected a string, found a number")) { _ = try root.field("a").array()[0].string() }
        assertFailure(.invalid("f", "expected an integer, found a fractional or out-of-range number")) { _ = try root.field("f").int() }
        assertFailure(.invalid("big", "expected an integer, found a fractional or out-of-range number")) { _ = try root.field("big").int() }
        assertFailure(.invalid("", "expected an object, found an array")) { _ = try self.cursor("[]").optionalField("k") }
        XCTAssertEqual(root.invalid("custom"), .invalid("", "custom"))
        XCTAssertEqual(try root.field("s").typeError("a list"), .invalid("s", "expected a list, found a string"))
    }

    func testLookupTakesTheLastDuplicateAndComparesBytes() throws {
        let root = try cursor("{\"k\": 1, \"k\": 2, \"\u{E9}\": 3}")
        XCTAssertEqual(try root.field("k").int(), 2)
        XCTAssertEqual(try root.field("\u{E9}").int(), 3)
        XCTAssertNil(try root.optionalField("e\u{301}"))
    }
}
