import Foundation
import XCTest
@testable import JSONCore

/// The parser: accepted syntax, exact strings and numbers, every rejection with its byte offset.
final class ParserTests: XCTestCase {
    func parse(_ s: String, _ options: JSONParser.Options = JSONParser.Options()) throws -> JSONValue {
        try JSONParser.parse(Array(s.utf8), options: options)
    }

    /// The parse error for `bytes`, or a test failure.
    func parseError(_ bytes: [UInt8], _ options: JSONParser.Options = JSONParser.Options(),
                    file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        do {
            let v = try JSONParser.parse(bytes, options: options)
            XCTFail("parsed \(String(decoding: bytes.prefix(40), as: UTF8.self).debugDescription) as \(v)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func parseError(_ s: String, _ options: JSONParser.Options = JSONParser.Options(),
                    file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        parseError(Array(s.utf8), options, file: file, line: line)
    }

    // MARK: strings

    func testStringEscapesAndExactBytes() throws {
        let v = try parse(#"{"k": "a\"b\\c\/d\b\f\n\r\t\u00e9\u2581\ud83d\ude00", "é": 1, "e\u0301": 2}"#)
        guard case .string(let s)? = v.member("k") else { return XCTFail("k must be a string") }
        XCTAssertEqual(s, Array("a\"b\\c/d\u{8}\u{c}\n\r\t\u{e9}\u{2581}\u{1F600}".utf8))
        // Canonically equivalent keys stay distinct.
        guard case .object(let members) = v else { return XCTFail("object expected") }
        XCTAssertEqual(members.count, 3)
        XCTAssertEqual(members[1].key, [0xC3, 0xA9])
        XCTAssertEqual(members[2].key, [0x65, 0xCC, 0x81])
    }

    func testCanonicallyEquivalentKeysStayDistinct() throws {
        // U+00E9 vs e + U+0301, and U+212B ANGSTROM SIGN vs U+00C5: equal as Swift Strings.
        XCTAssertEqual("\u{E9}", "e\u{301}")
        let text = "{\"\u{E9}\": 1, \"e\u{301}\": 2, \"\u{212B}\": 3, \"\u{C5}\": 4}"
        let v = try parse(text, JSONParser.Options(rejectDuplicateKeys: true))
        guard case .object(let members) = v else { return XCTFail("object expected") }
        XCTAssertEqual(members.map(\.key), [[0xC3, 0xA9], [0x65, 0xCC, 0x81], [0xE2, 0x84, 0xAB], [0xC3, 0x85]])
        XCTAssertEqual(v.member("\u{E9}")?.number?.intValue, 1)
        XCTAssertEqual(v.member("e\u{301}")?.number?.intValue, 2)
        XCTAssertEqual(v.member("\u{212B}")?.number?.intValue, 3)
        XCTAssertEqual(v.member("\u{C5}")?.number?.intValue, 4)
        XCTAssertTrue(members[0].hasKey("\u{E9}"))
        XCTAssertFalse(members[0].hasKey("e\u{301}"))
        // Escaped and raw spellings of the same code points are the same key.
        XCTAssertEqual(try parse(#"{"\u00e9": 5}"#).member("\u{E9}")?.number?.intValue, 5)
    }

    func testStringValueView() throws {
        let v = try parse(#"["x\u0000y", "\ud83d\ude00", ""]"#)
        guard case .array(let a) = v else { return XCTFail("array expected") }
        XCTAssertEqual(a[0].stringValue, "x\u{0}y")
        XCTAssertEqual(a[1].stringValue, "\u{1F600}")
        guard case .string(let emoji) = a[1] else { return XCTFail() }
        XCTAssertEqual(emoji, [0xF0, 0x9F, 0x98, 0x80])
        XCTAssertEqual(a[2].stringValue, "")
        XCTAssertNil(JSONValue.null.stringValue)
    }

    func testRawMultibyteUTF8IsKeptAsIs() throws {
        let text = "[\"a\u{E9}\u{2581}\u{1F600}z\", \"\u{10FFFF}\"]"
        guard case .array(let a) = try parse(text) else { return XCTFail() }
        guard case .string(let s0) = a[0], case .string(let s1) = a[1] else { return XCTFail() }
        XCTAssertEqual(s0, Array("a\u{E9}\u{2581}\u{1F600}z".utf8))
        XCTAssertEqual(s1, [0xF4, 0x8F, 0xBF, 0xBF])
    }

    func testInvalidEscapes() {
        // (text, offset): the offset is the escape letter or the first bad hex digit / missing byte.
        let cases: [(String, Int)] = [
            (#"["\x"]"#, 3), (#"["\'"]"#, 3), (#"["\U0041"]"#, 3), (#"["\u12"]"#, 4), (#"["\u12G4"]"#, 4),
            ("[\"\\\"", 4), ("[\"\\", 3), (#"["\ "]"#, 3),
        ]
        for (text, offset) in cases {
            guard case .syntax(let off, _)? = parseError(text) else { XCTFail(text); continue }
            XCTAssertEqual(off, offset, text)
        }
    }

    /// Decision: lone UTF-16 surrogate escapes are rejected (the value model is UTF-8, which
    /// cannot encode them; serde_json rejects them too).
    func testLoneSurrogatesAreRejected() {
        let cases: [(String, Int, String)] = [
            (#"["\ud800"]"#, 8, "lone leading surrogate"),
            (#"["\ud800x"]"#, 8, "lone leading surrogate"),
            (#"["\udbff\u0041"]"#, 14, "invalid trailing surrogate"),
            (#"["\ud800\ud800"]"#, 14, "invalid trailing surrogate"),
            (#"["\udc00"]"#, 8, "lone trailing surrogate"),
            (#"["\uDFFF\uD800"]"#, 8, "lone trailing surrogate"),
        ]
        for (text, offset, reason) in cases {
            guard case .syntax(let off, let why)? = parseError(text) else { XCTFail(text); continue }
            XCTAssertEqual(off, offset, text)
            XCTAssertTrue(why.contains(reason), "\(text): \(why)")
        }
        // The same code points as a proper pair are fine (upper-case hex too).
        XCTAssertEqual(try parse(#""\uD834\uDD1E""#), .string(Array("\u{1D11E}".utf8)))
    }

    func testInvalidUTF8IsRejected() {
        let bad: [[UInt8]] = [
            [0xC3, 0x28],              // lead byte without continuation
            [0x80],                    // stray continuation byte
            [0xC0, 0x80],              // overlong NUL
            [0xE0, 0x80, 0x80],        // overlong 3-byte
            [0xED, 0xA0, 0x80],        // encoded surrogate U+D800
            [0xF0, 0x80, 0x80, 0x80],  // overlong 4-byte
            [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
            [0xF5, 0x80, 0x80, 0x80],  // invalid lead byte
            [0xFF],
            [0xE2, 0x82],              // truncated before the closing quote
        ]
        for seq in bad {
            let doc = Array(#"{"a": "x"#.utf8) + seq + Array(#""}"#.utf8)
            guard case .syntax(let off, let why)? = parseError(doc) else { XCTFail("\(seq)"); continue }
            XCTAssertEqual(off, 8, "\(seq)")
            XCTAssertTrue(why.contains("UTF-8"), why)
        }
        // Non-ASCII outside a string, and a byte-order mark, are not JSON.
        XCTAssertEqual(parseError([0xC3, 0xA9])?.offset, 0)
        XCTAssertEqual(parseError([0xEF, 0xBB, 0xBF] + Array("{}".utf8))?.offset, 0)
    }

    func testControlCharactersInStrings() {
        for b: UInt8 in [0x00, 0x01, 0x09, 0x0A, 0x1F] {
            guard case .syntax(let off, let why)? = parseError([0x22, 0x61, b, 0x22]) else { XCTFail("\(b)"); continue }
            XCTAssertEqual(off, 2)
            XCTAssertTrue(why.contains("control character"), why)
        }
        XCTAssertEqual(try? JSONParser.parse([0x22, 0x7F, 0x22]), .string([0x7F]))  // DEL is allowed
    }

    // MARK: numbers

    func testNumbersAndLiterals() throws {
        let v = try parse(#"[0, -12, 3.5, 1e3, 2E-2, true, false, null, 9007199254740993]"#)
        guard case .array(let a) = v else { return XCTFail("array expected") }
        let numbers = a.compactMap(\.number)
        XCTAssertEqual(numbers.map(\.doubleValue), [0, -12, 3.5, 1000, 0.02, 9007199254740992])
        XCTAssertEqual(numbers.map(\.intValue), [0, -12, nil, nil, nil, 9007199254740993])
        XCTAssertEqual(a[5], .bool(true))
        XCTAssertEqual(a[6], .bool(false))
        XCTAssertEqual(a[7], .null)
    }

    func testNumbersKeepTheirText() throws {
        let texts = ["0", "-0", "-0.0", "1e-06", "1E+2", "0.00392156862745098", "123456789012345678901234567890", "2.50"]
        let v = try parse("[" + texts.joined(separator: ",") + "]")
        guard case .array(let a) = v else { return XCTFail() }
        XCTAssertEqual(a.compactMap(\.number).map(\.text), texts)
        XCTAssertEqual(a.compactMap(\.number).map(\.description), texts)
    }

    func testDoublesAreCorrectlyRounded() throws {
        // Linux Foundation's NSDecimalNumber path gives ...795 for the first one.
        let cases: [(String, Double)] = [
            ("0.00392156862745098", 0.00392156862745098), ("0.9998968482114295", 0.9998968482114295),
            ("1e-06", 1e-06), ("1e-05", 1e-05), ("0.1", 0.1), ("2.2250738585072014e-308", 2.2250738585072014e-308),
            ("4.9e-324", Double(bitPattern: 1)), ("5e-324", .leastNonzeroMagnitude), ("1.7976931348623157e308", 1.7976931348623157e308),
            ("9007199254740993", 9007199254740992), ("0.30000000000000004", 0.30000000000000004),
        ]
        for (text, expected) in cases {
            let d = try XCTUnwrap(try parse(text).number).doubleValue
            XCTAssertEqual(d.bitPattern, expected.bitPattern, text)
        }
        XCTAssertEqual(try parse("1e400").number?.doubleValue, .infinity)
        XCTAssertEqual(try parse("-1e400").number?.doubleValue, -.infinity)
        XCTAssertEqual(try parse("1e-400").number?.doubleValue, 0)
        let negZero = try XCTUnwrap(try parse("-0").number)
        XCTAssertEqual(negZero.doubleValue, 0)
        XCTAssertEqual(negZero.doubleValue.sign, .minus)
        XCTAssertEqual(negZero.intValue, 0)
        XCTAssertTrue(negZero.isNegative)
        XCTAssertTrue(negZero.isIntegerLiteral)
    }

    func testIntegersAreExactWithOverflowDetection() throws {
        func int(_ text: String) throws -> Int? { try XCTUnwrap(try parse(text).number).intValue }
        XCTAssertEqual(try int("9223372036854775807"), Int.max)
        XCTAssertEqual(try int("-9223372036854775808"), Int.min)
        XCTAssertNil(try int("9223372036854775808"))
        XCTAssertNil(try int("-9223372036854775809"))
        XCTAssertNil(try int("99999999999999999999999"))
        XCTAssertEqual(try int("9007199254740993"), 9007199254740993)  // not representable as a Double
        XCTAssertEqual(try int("-1"), -1)
        XCTAssertNil(try int("1.0"))
        XCTAssertNil(try int("1e3"))
        XCTAssertNil(try int("1E0"))
        let big = try XCTUnwrap(try parse("9223372036854775808").number)
        XCTAssertTrue(big.isIntegerLiteral)
        XCTAssertFalse(big.isNegative)
        XCTAssertEqual(big.doubleValue, 9223372036854775808.0)
        XCTAssertFalse(try XCTUnwrap(try parse("-1.5e2").number).isIntegerLiteral)
    }

    func testMalformedNumbers() {
        let cases: [(String, Int)] = [
            ("-", 1), ("-a", 1), ("01", 1), ("-01", 2), ("1.", 2), ("1.e3", 2), (".5", 0), ("1e", 2), ("1e+", 3),
            ("+1", 0), ("0x10", 1), ("1.5.", 3), ("NaN", 0), ("Infinity", 0), ("-Infinity", 1), ("1 2", 2),
        ]
        for (text, offset) in cases {
            guard case .syntax(let off, _)? = parseError(text) else { XCTFail(text); continue }
            XCTAssertEqual(off, offset, text)
        }
    }

    // MARK: structure

    func testDuplicateKeysLastWins() throws {
        let v = try parse(#"{"a": 1, "a": 2}"#)
        XCTAssertEqual(v.member("a")?.number?.intValue, 2)
        guard case .object(let members) = v else { return XCTFail() }
        XCTAssertEqual(members.count, 2)  // both kept, in order
        XCTAssertEqual(members.map { $0.value.number?.intValue }, [1, 2])
    }

    func testDuplicateKeysRejectedWhenAsked() {
        let reject = JSONParser.Options(rejectDuplicateKeys: true)
        XCTAssertEqual(parseError(#"{"a": 1, "b": 2, "a": 3}"#, reject), .duplicateKey(offset: 17, path: [], key: [0x61]))
        XCTAssertEqual(parseError(#"{"t": [0, {"x": 1, "y": {}, "x": 2}]}"#, reject),
                       .duplicateKey(offset: 28, path: [.key([0x74]), .index(1)], key: [0x78]))
        // A duplicate found inside a later member of the same object names the member path.
        let e = parseError(#"{"ok": {"k": 1}, "t": {"dtype": "U8", "dtype": "U8"}}"#, reject)
        XCTAssertEqual(e, .duplicateKey(offset: 38, path: [.key(Array("t".utf8))], key: Array("dtype".utf8)))
        XCTAssertEqual(e?.reason, "duplicate key \"dtype\"")
        XCTAssertEqual(e?.description, "byte 38: duplicate key \"dtype\"")
        // Escaped and raw spellings of one key are duplicates; the same key in sibling objects is not.
        XCTAssertEqual(parseError(#"{"a": 1, "\u0061": 2}"#, reject)?.offset, 9)
        XCTAssertNoThrow(try parse(#"[{"a": 1}, {"a": 2}, {"b": {"a": 3}}]"#, reject))
        // A syntax error after a duplicate: the duplicate (found first) is reported.
        XCTAssertEqual(parseError(#"{"a": 1, "a": 2,"#, reject)?.offset, 9)
    }

    func testNestingLimit() throws {
        func nested(_ n: Int, inner: String = "") -> String {
            String(repeating: "[", count: n) + inner + String(repeating: "]", count: n)
        }
        // Default: 512 levels of containers.
        XCTAssertNoThrow(try parse(nested(512)))
        XCTAssertNoThrow(try parse(nested(512, inner: "1")))
        guard case .syntax(let off, let why)? = parseError(nested(513)) else { return XCTFail() }
        XCTAssertEqual(off, 512)
        XCTAssertTrue(why.contains("nesting"), why)
        XCTAssertEqual(parseError(String(repeating: "[", count: 600))?.offset, 512)
        // Objects count the same; a custom limit.
        let limit = JSONParser.Options(maxDepth: 3)
        XCTAssertNoThrow(try parse(#"{"a": [{"b": 1}]}"#, limit))
        XCTAssertEqual(parseError(#"{"a": [{"b": []}]}"#, limit)?.offset, 13)
        // Absurd nesting is an error, not a stack overflow.
        let deep = String(repeating: "[{\"k\":", count: 50_000)
        XCTAssertTrue(parseError(deep)?.reason.contains("nesting") ?? false)
        XCTAssertEqual(parseError(nested(100_000), JSONParser.Options(maxDepth: 128))?.offset, 128)
    }

    func testAcceptedDocuments() throws {
        XCTAssertEqual(try parse(" \t\r\n{ } \n"), .object([]))
        XCTAssertEqual(try parse("[ ]"), .array([]))
        XCTAssertEqual(try parse("\"s\""), .string([0x73]))
        XCTAssertEqual(try parse(" 7 ").number?.intValue, 7)
        XCTAssertEqual(try parse("null"), .null)
        let v = try parse(#"{"a": [1, {"b": null}, "c"], "d": {}}"#)
        XCTAssertEqual(v.member("d"), .object([]))
        guard case .array(let a)? = v.member("a") else { return XCTFail() }
        XCTAssertEqual(a.count, 3)
        XCTAssertEqual(a[1].member("b"), .null)
        XCTAssertNil(a[1].member("z"))
        XCTAssertNil(a[0].member("b"))  // not an object
    }

    /// Every malformed input the Tokenizers suite checked, with its offset.
    func testMalformedVariantsFromTheTokenizerSuite() {
        let bad: [(String, Int)] = [
            ("", 0), ("{", 1), ("[1, 2", 5), ("{\"a\": tru}", 6), ("{\"a\": 1} x", 9), ("{\"a\": 01}", 7),
            ("{\"a\": \"\\ud800\"}", 13), ("{\"a\": \"\\q\"}", 8), ("{\"a\": \"x\ny\"}", 8), ("{'a': 1}", 1),
            ("{\"a\": -}", 7), ("{\"a\": 1.}", 8), (String(repeating: "[", count: 600), 512),
            ("{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\",}", 43),
        ]
        for (text, offset) in bad {
            guard case .syntax(let off, _)? = parseError(text) else { XCTFail(text); continue }
            XCTAssertEqual(off, offset, "offset for \(text.prefix(20).debugDescription)")
        }
        XCTAssertEqual(parseError(Array("{\"a\": \"".utf8) + [0xC3, 0x28] + Array("\"}".utf8))?.offset, 7)
    }

    /// Every malformed header the SafeTensors suite checked (it parses with a 128-level limit and
    /// duplicate rejection), plus a few more syntax errors.
    func testMalformedVariantsFromTheSafeTensorsSuite() {
        let options = JSONParser.Options(maxDepth: 128, rejectDuplicateKeys: true)
        let bad: [(String, Int)] = [
            (#"{"t":"#, 5), (#"{"t":1,}"#, 7), ("{} x", 3), (#"{"a" 1}"#, 5), ("{'a':1}", 1), (#"{"a":01}"#, 6),
            (#"{"a":"\x"}"#, 7), ("{\"a\":\"\u{1}\"}", 6), (#"{"a":"\ud800"}"#, 12), ("", 0), ("nul", 0),
            ("[1,]", 3), ("[1 2]", 3), (#"{"a":1 "b":2}"#, 7), ("{,}", 1), ("[,1]", 1), ("/* c */ {}", 0),
            ("{}// c", 2), ("truex", 4), ("nulL", 0), (#"{"a":1}}"#, 7), ("]", 0), (#"{"a"}"#, 4), (#"{1:2}"#, 1),
        ]
        for (text, offset) in bad {
            guard case .syntax(let off, _)? = parseError(text, options) else { XCTFail(text); continue }
            XCTAssertEqual(off, offset, text)
        }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        guard case .syntax(_, let why)? = parseError(deep, options) else { return XCTFail() }
        XCTAssertTrue(why.contains("nesting"), why)
    }

    func testEntryPointsAgree() throws {
        let text = #"{"a": [1, "é", {"b": true}]}"#
        let fromArray = try JSONParser.parse(Array(text.utf8))
        let fromData = try JSONParser.parse(Data(text.utf8))
        let fromRaw = try Data(text.utf8).withUnsafeBytes { raw throws(JSONParseError) in try JSONParser.parse(raw) }
        let fromUTF8View = try JSONParser.parse(text.utf8)
        let lazyBytes = text.utf8.lazy.map { $0 }  // no contiguous storage: copied first
        XCTAssertNil(lazyBytes.withContiguousStorageIfAvailable { _ in 0 })
        let fromNonContiguous = try JSONParser.parse(lazyBytes)
        XCTAssertEqual(fromArray, fromData)
        XCTAssertEqual(fromArray, fromRaw)
        XCTAssertEqual(fromArray, fromUTF8View)
        XCTAssertEqual(fromArray, fromNonContiguous)
        XCTAssertThrowsError(try JSONParser.parse("[1,]".utf8.lazy.map { $0 })) { e in
            XCTAssertEqual((e as? JSONParseError)?.offset, 3)
        }
        XCTAssertEqual(parseError([UInt8]())?.offset, 0)
    }

    func testTypeNames() throws {
        let v = try parse(#"[null, true, 1, "s", [], {}]"#)
        guard case .array(let a) = v else { return XCTFail() }
        XCTAssertEqual(a.map(\.typeName), ["null", "boolean", "number", "string", "array", "object"])
        XCTAssertEqual(a.map(\.typeNameWithArticle), ["null", "a boolean", "a number", "a string", "an array", "an object"])
        XCTAssertEqual(a.map(\.isNull), [true, false, false, false, false, false])
    }
}

extension JSONValue {
    /// The number, if this is one (test convenience).
    var number: JSONNumber? {
        if case .number(let n) = self { return n }
        return nil
    }
}
