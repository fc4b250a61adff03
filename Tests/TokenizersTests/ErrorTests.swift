import Foundation
import XCTest
@testable import Tokenizers

/// Bad input gives a typed error naming the file and the field, never a crash.
final class ErrorTests: XCTestCase {
    /// A tiny valid BPE tokenizer.json; tests break one thing at a time.
    static let tinyModel = """
        {"type": "BPE", "unk_token": "<unk>", "fuse_unk": true, "byte_fallback": false,
         "vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3},
         "merges": ["a b"]}
        """

    static func tiny(model: String = tinyModel, extra: String = "") -> String {
        """
        {"version": "1.0", "truncation": null, "padding": null,
         "added_tokens": [{"id": 0, "content": "<unk>", "single_word": false, "lstrip": false,
                           "rstrip": false, "normalized": false, "special": true}],
         "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
         \(extra)
         "model": \(model)}
        """
    }

    func loadError(_ json: String, name: String = "tiny.json", file: StaticString = #filePath, line: UInt = #line) -> TokenizerError? {
        do {
            _ = try Tokenizer(data: Data(json.utf8), sourceName: name)
            XCTFail("expected an error", file: file, line: line)
            return nil
        } catch let e as TokenizerError {
            return e
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
            return nil
        }
    }

    func testTinyTokenizerWorks() throws {
        let tok = try Tokenizer(data: Data(Self.tiny().utf8), sourceName: "tiny.json")
        XCTAssertEqual(tok.encode("abab"), [3, 3])
        XCTAssertEqual(tok.encode("aba"), [3, 1])
        XCTAssertEqual(tok.encode("axxb"), [1, 0, 2])  // unknown characters fused into one <unk>
        XCTAssertEqual(tok.vocabularySize, 4)
        XCTAssertEqual(tok.decode([3, 1]), "ab a")  // no decoder: tokens joined by spaces
        XCTAssertNil(tok.bosTokenId)
    }

    func testMissingFile() {
        let url = URL(fileURLWithPath: "/nonexistent/dir/tokenizer.json")
        XCTAssertThrowsError(try Tokenizer(tokenizerFile: url)) { error in
            XCTAssertEqual(error as? TokenizerError, .fileNotFound(file: "/nonexistent/dir/tokenizer.json"))
            XCTAssertTrue("\(error)".contains("/nonexistent/dir/tokenizer.json"))
        }
        XCTAssertThrowsError(try Tokenizer.load(directory: URL(fileURLWithPath: "/nonexistent/dir"))) { error in
            XCTAssertEqual(error as? TokenizerError, .fileNotFound(file: "/nonexistent/dir/tokenizer.json"))
        }
    }

    func testMalformedJSONFileNamesFileAndOffset() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("tokenizer.json")
        try Data("{\"version\": \"1.0\", \"model\": {\"type\": \"BPE\",}".utf8).write(to: url)
        XCTAssertThrowsError(try Tokenizer(tokenizerFile: url)) { error in
            guard case .malformedJSON(let file, let offset, _)? = error as? TokenizerError else {
                return XCTFail("wrong error \(error)")
            }
            XCTAssertEqual(file, url.path)
            XCTAssertEqual(offset, 43)  // the '}' after the trailing comma
        }
    }

    func testMalformedJSONVariants() {
        let bad: [(String, Int)] = [
            ("", 0), ("{", 1), ("[1, 2", 5), ("{\"a\": tru}", 6), ("{\"a\": 1} x", 9), ("{\"a\": 01}", 7),
            ("{\"a\": \"\\ud800\"}", 13), ("{\"a\": \"\\q\"}", 8), ("{\"a\": \"x\ny\"}", 8), ("{'a': 1}", 1),
            ("{\"a\": -}", 7), ("{\"a\": 1.}", 8), (String(repeating: "[", count: 600), 512),
        ]
        for (text, offset) in bad {
            guard let e = loadError(text) else { continue }
            guard case .malformedJSON(let file, let off, _) = e else { XCTFail("\(text): wrong error \(e)"); continue }
            XCTAssertEqual(file, "tiny.json")
            XCTAssertEqual(off, offset, "offset for \(text.prefix(20).debugDescription)")
        }
        // Invalid UTF-8 inside a string.
        var bytes = Array("{\"a\": \"".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("\"}".utf8)
        XCTAssertThrowsError(try Tokenizer(data: Data(bytes), sourceName: "bin.json")) { error in
            guard case .malformedJSON("bin.json", 7, _)? = error as? TokenizerError else { return XCTFail("\(error)") }
        }
    }

    func testUnknownModelType() {
        let e = loadError(Self.tiny(model: "{\"type\": \"WordPiece\", \"vocab\": {}}"))
        XCTAssertEqual(e, .unsupported(file: "tiny.json", field: "model.type", value: "\"WordPiece\""))
        XCTAssertTrue("\(e.map { "\($0)" } ?? "")".contains("model.type"))
    }

    func testMissingModelVocab() {
        let e = loadError(Self.tiny(model: "{\"type\": \"BPE\", \"merges\": []}"))
        XCTAssertEqual(e, .missingField(file: "tiny.json", field: "model.vocab"))
        XCTAssertEqual(e?.description, "tiny.json: missing required field `model.vocab`")
        XCTAssertEqual(loadError("{\"version\": \"1.0\"}"), .missingField(file: "tiny.json", field: "model"))
        XCTAssertEqual(loadError(Self.tiny(model: "{\"vocab\": {}}")), .missingField(file: "tiny.json", field: "model.type"))
    }

    func testMergeNamingUnknownToken() {
        let model = """
            {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a c"]}
            """
        XCTAssertEqual(loadError(Self.tiny(model: model)), .unknownToken(file: "tiny.json", field: "model.merges[1]", token: "c"))
        // Pair form, and a merge whose result is not in the vocabulary.
        let model2 = """
            {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"], ["b", "a"]]}
            """
        XCTAssertEqual(loadError(Self.tiny(model: model2)), .unknownToken(file: "tiny.json", field: "model.merges[1]", token: "ba"))
        let model3 = """
            {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b c"]}
            """
        guard case .invalidField("tiny.json", "model.merges[0]", _)? = loadError(Self.tiny(model: model3)) else {
            return XCTFail("expected invalidField for a three-part merge")
        }
    }

    func testWrongTypesAndUnsupportedComponents() {
        let m1 = "{\"type\": \"BPE\", \"vocab\": {\"a\": \"zero\"}, \"merges\": []}"
        guard case .invalidField("tiny.json", "model.vocab[\"a\"]", _)? = loadError(Self.tiny(model: m1)) else {
            return XCTFail("expected invalidField for a string id")
        }
        let m2 = "{\"type\": \"BPE\", \"vocab\": {\"a\": -1}, \"merges\": []}"
        guard case .invalidField("tiny.json", "model.vocab[\"a\"]", _)? = loadError(Self.tiny(model: m2)) else {
            return XCTFail("expected invalidField for a negative id")
        }
        let m3 = "{\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [], \"unk_token\": \"<unk>\"}"
        XCTAssertEqual(loadError(Self.tiny(model: m3)), .unknownToken(file: "tiny.json", field: "model.unk_token", token: "<unk>"))
        let m4 = "{\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [], \"dropout\": 0.1}"
        guard case .unsupported("tiny.json", "model.dropout", _)? = loadError(Self.tiny(model: m4)) else {
            return XCTFail("expected unsupported dropout")
        }
        XCTAssertEqual(loadError(Self.tiny(extra: "\"normalizer\": {\"type\": \"BertNormalizer\"},")),
                       .unsupported(file: "tiny.json", field: "normalizer.type", value: "\"BertNormalizer\""))
        XCTAssertEqual(
            loadError(Self.tiny(extra: "\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFC\"}, {\"type\": \"Precompiled\"}]},")),
            .unsupported(file: "tiny.json", field: "normalizer.normalizers[1].type", value: "\"Precompiled\""))
        XCTAssertEqual(loadError(Self.tiny(extra: "\"decoder\": {\"type\": \"WordPiece\"},")),
                       .unsupported(file: "tiny.json", field: "decoder.type", value: "\"WordPiece\""))
        XCTAssertEqual(loadError(Self.tiny(extra: "\"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},")),
                       .unsupported(file: "tiny.json", field: "pre_tokenizer.type", value: "\"BertPreTokenizer\""))
        XCTAssertEqual(loadError(Self.tiny(extra: "\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}], \"special_tokens\": {}},")),
                       .unknownToken(file: "tiny.json", field: "post_processor.single[0].SpecialToken.id", token: "<s>"))
        XCTAssertEqual(loadError(Self.tiny(extra: "\"truncation\": {\"max_length\": 5},")),
                       .unsupported(file: "tiny.json", field: "truncation", value: "non-null (only null is supported)"))
        XCTAssertEqual(loadError("[1, 2]"), .invalidField(file: "tiny.json", field: "<root>", reason: "expected an object at the top level, found an array"))
        let badAdded = Self.tiny().replacingOccurrences(of: "\"content\": \"<unk>\"", with: "\"content\": 7")
        XCTAssertEqual(loadError(badAdded), .invalidField(file: "tiny.json", field: "added_tokens[0].content", reason: "expected a string, found a number"))
        XCTAssertEqual(loadError(Self.tiny().replacingOccurrences(of: "\"version\": \"1.0\"", with: "\"version\": \"2.0\"")),
                       .unsupported(file: "tiny.json", field: "version", value: "\"2.0\""))
    }

    func testConfigErrorsNameTheConfigFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(Self.tiny().utf8).write(to: dir.appendingPathComponent("tokenizer.json"))
        let cfg = dir.appendingPathComponent("tokenizer_config.json")
        try Data("{\"bos_token\": \"<s>\"}".utf8).write(to: cfg)
        XCTAssertThrowsError(try Tokenizer.load(directory: dir)) { error in
            XCTAssertEqual(error as? TokenizerError, .unknownToken(file: cfg.path, field: "bos_token", token: "<s>"))
        }
        try Data("{\"add_bos_token\": \"yes\"}".utf8).write(to: cfg)
        XCTAssertThrowsError(try Tokenizer.load(directory: dir)) { error in
            XCTAssertEqual(error as? TokenizerError, .invalidField(file: cfg.path, field: "add_bos_token", reason: "expected a boolean, found a string"))
        }
        try Data("{\"add_bos_token\": true}".utf8).write(to: cfg)
        XCTAssertThrowsError(try Tokenizer.load(directory: dir)) { error in
            XCTAssertEqual(error as? TokenizerError, .missingField(file: cfg.path, field: "bos_token"))
        }
        try Data("{\"eos_token\": {\"content\": \"ab\"}, \"add_eos_token\": true, \"add_bos_token\": false}".utf8).write(to: cfg)
        let tok = try Tokenizer.load(directory: dir)
        XCTAssertEqual(tok.eosTokenId, 3)
        XCTAssertEqual(tok.encode("a"), [1, 3])
        XCTAssertEqual(tok.encode("a", addSpecialTokens: false), [1])
        try Data("{\"eos_token\": ".utf8).write(to: cfg)
        XCTAssertThrowsError(try Tokenizer.load(directory: dir)) { error in
            guard case .malformedJSON(cfg.path, _, _)? = error as? TokenizerError else { return XCTFail("\(error)") }
        }
    }
}
