import Foundation
import XCTest
@testable import Tokenizers

/// The byte-exact JSON reader and the tokenizer_config.json handling of `load(directory:)`.
final class JSONAndConfigTests: XCTestCase {
    func parse(_ s: String) throws -> JSONValue { try JSONParser(file: "t.json").parse(Data(s.utf8)) }

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

    func testNumbersAndLiterals() throws {
        let v = try parse(#"[0, -12, 3.5, 1e3, 2E-2, true, false, null, 9007199254740993]"#)
        guard case .array(let a) = v else { return XCTFail("array expected") }
        guard case .number(0, 0) = a[0], case .number(-12, -12) = a[1], case .number(3.5, nil) = a[2],
              case .number(1000, nil) = a[3], case .number(0.02, nil) = a[4], case .bool(true) = a[5],
              case .bool(false) = a[6], case .null = a[7], case .number(_, 9007199254740993) = a[8] else {
            return XCTFail("unexpected values \(a)")
        }
        let c = JSONCursor(a[2], path: "x", file: "t.json")
        XCTAssertThrowsError(try c.int()) { e in
            XCTAssertEqual(e as? TokenizerError, .invalidField(file: "t.json", field: "x", reason: "expected an integer, found a fractional or out-of-range number"))
        }
    }

    func testDuplicateKeysLastWins() throws {
        let v = try parse(#"{"a": 1, "a": 2}"#)
        guard case .number(_, 2)? = v.member("a") else { return XCTFail("last duplicate should win") }
    }

    func tempDirWithTokenizer() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("tokenizer.json"),
                                                   withDestinationURL: fixturesURL.appendingPathComponent("tokenizer.json"))
        return dir
    }

    func testLoadDirectoryWithoutConfigKeepsTemplate() throws {
        let dir = try tempDirWithTokenizer()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tok = try Tokenizer.load(directory: dir)
        XCTAssertEqual(tok.encode("Hello"), [1, 15043])
        XCTAssertEqual(tok.bosTokenId, 1)  // inferred from the template
        XCTAssertNil(tok.eosTokenId)
    }

    func testConfigAddBosFalseAndAddEosTrue() throws {
        let dir = try tempDirWithTokenizer()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cfg = #"{"add_bos_token": false, "add_eos_token": true, "bos_token": {"content": "<s>", "__type": "AddedToken"}, "eos_token": "</s>"}"#
        try Data(cfg.utf8).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        let tok = try Tokenizer.load(directory: dir)
        XCTAssertEqual(tok.encode("Hello"), [15043, 2])
        XCTAssertEqual(tok.encode("Hello", addSpecialTokens: false), [15043])
        XCTAssertEqual(tok.bosTokenId, 1)
        XCTAssertEqual(tok.eosTokenId, 2)
    }

    func testSpecialTokensMapSuppliesNamesAndConfigOverrides() throws {
        let dir = try tempDirWithTokenizer()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(#"{"bos_token": "<s>", "eos_token": "<pad>"}"#.utf8).write(to: dir.appendingPathComponent("special_tokens_map.json"))
        var tok = try Tokenizer.load(directory: dir)
        XCTAssertEqual(tok.eosTokenId, 32001)
        XCTAssertEqual(tok.encode("Hello"), [1, 15043])  // no add_* flags: template of tokenizer.json
        try Data(#"{"eos_token": "</s>"}"#.utf8).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        tok = try Tokenizer.load(directory: dir)
        XCTAssertEqual(tok.eosTokenId, 2)
    }
}
