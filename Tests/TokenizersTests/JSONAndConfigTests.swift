import Foundation
import XCTest
@testable import Tokenizers

/// The JSON cursor's `TokenizerError`s and the tokenizer_config.json handling of `load(directory:)`.
final class JSONAndConfigTests: XCTestCase {
    /// The parser itself is tested in JSONCoreTests; this checks the cursor's errors are
    /// `TokenizerError`s naming the file and the field.
    func testCursorErrorsAreTokenizerErrors() throws {
        let v = try parseJSON(Data(#"[0, -12, 3.5, {"k": null}]"#.utf8), file: "t.json")
        let items = try JSONCursor(v, file: "t.json").array()
        XCTAssertEqual(try items[1].int(), -12)
        let c = JSONCursor(items[2].value, path: "x", file: "t.json")
        XCTAssertThrowsError(try c.int()) { e in
            XCTAssertEqual(e as? TokenizerError, .invalidField(file: "t.json", field: "x", reason: "expected an integer, found a fractional or out-of-range number"))
        }
        XCTAssertThrowsError(try items[3].field("k")) { e in
            XCTAssertEqual(e as? TokenizerError, .missingField(file: "t.json", field: "[3].k"))
        }
        XCTAssertThrowsError(try JSONCursor(v, file: "t.json").field("k")) { e in
            XCTAssertEqual(e as? TokenizerError, .invalidField(file: "t.json", field: "<root>", reason: "expected an object, found an array"))
        }
        XCTAssertThrowsError(try parseJSON(Data("[1,]".utf8), file: "t.json")) { e in
            XCTAssertEqual(e as? TokenizerError, .malformedJSON(file: "t.json", byteOffset: 3, reason: "unexpected character ']', expected a value"))
        }
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
