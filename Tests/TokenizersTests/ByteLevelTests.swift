import Foundation
import XCTest
@testable import Tokenizers

/// Byte-level BPE (Qwen2 layout: NFC, split regex, ByteLevel). The Qwen2 tokenizer.json is 8.8 MB
/// and not copied into the fixtures, so the tests that need it are SKIPPED when
/// /work/shared/data/tokenizers/qwen2/tokenizer.json is absent (e.g. on CI). The expected outputs
/// (small) are committed: Fixtures/reference_qwen2.json and the llama.cpp Qwen2 vectors.
final class ByteLevelTests: XCTestCase {
    static let qwenURL = URL(fileURLWithPath: "/work/shared/data/tokenizers/qwen2/tokenizer.json")
    static let qwen: Result<Tokenizer, Error> = Result { try Tokenizer(tokenizerFile: qwenURL) }

    func qwenOrSkip() throws -> Tokenizer {
        guard FileManager.default.fileExists(atPath: Self.qwenURL.path) else {
            throw XCTSkip("Qwen2 tokenizer.json not available at \(Self.qwenURL.path)")
        }
        return try Self.qwen.get()
    }

    func testQwen2VectorsMatchLlamaCpp() throws {
        let tok = try qwenOrSkip()
        let inputs = try readVocabTestInputs(Data(contentsOf: fixturesURL.appendingPathComponent("ggml-vocab-llama-spm.gguf.inp")))
        let outputs = try readVocabTestOutputs(Data(contentsOf: fixturesURL.appendingPathComponent("ggml-vocab-qwen2.gguf.out")))
        XCTAssertEqual(inputs.count, 46)
        XCTAssertEqual(outputs.count, 46)
        for (text, expected) in zip(inputs, outputs) {
            XCTAssertEqual(tok.encode(text, addSpecialTokens: false), expected, "qwen2 vector \(text.debugDescription)")
        }
    }

    func testQwen2MatchesRustLibrary() throws {
        let tok = try qwenOrSkip()
        let data = try Data(contentsOf: fixturesURL.appendingPathComponent("reference_qwen2.json"))
        let ref = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(tok.vocabularySize, ref["vocab_size_with_added"] as? Int)
        let cases = try XCTUnwrap(ref["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 323)
        var failures = 0
        for c in cases {
            let text = try XCTUnwrap(c["text"] as? String)
            let ids = try XCTUnwrap(c["ids"] as? [Int])
            let got = tok.encode(text)
            if got != ids { failures += 1 }
            XCTAssertEqual(got, ids, "encode \(text.debugDescription)")
            XCTAssertEqual(tok.encode(text, addSpecialTokens: false), try XCTUnwrap(c["plain"] as? [Int]))
            XCTAssertSameScalars(tok.decode(ids), try XCTUnwrap(c["decode_skip"] as? String), "decode \(ids)")
            XCTAssertSameScalars(tok.decode(ids, skipSpecialTokens: false), try XCTUnwrap(c["decode_keep"] as? String))
        }
        XCTAssertEqual(failures, 0)
        for c in try XCTUnwrap(ref["decode_cases"] as? [[String: Any]]) {
            let ids = try XCTUnwrap(c["ids"] as? [Int])
            XCTAssertSameScalars(tok.decode(ids), try XCTUnwrap(c["skip"] as? String), "decode \(ids)")
            XCTAssertSameScalars(tok.decode(ids, skipSpecialTokens: false), try XCTUnwrap(c["keep"] as? String))
        }
        XCTAssertNil(tok.bosTokenId)
        XCTAssertEqual(tok.tokenId(for: "<|im_end|>"), 151645)
    }

    // The pieces below need no external data.

    func testByteTable() {
        XCTAssertEqual(ByteLevelTable.byteToScalar[0x20], 0x120)  // space -> Ġ
        XCTAssertEqual(ByteLevelTable.byteToScalar[0x0A], 0x10A)  // newline -> Ċ
        XCTAssertEqual(ByteLevelTable.byteToScalar[0x41], 0x41)
        XCTAssertEqual(ByteLevelTable.byteToScalar[0xAD], 0x143)
        XCTAssertEqual(Set(ByteLevelTable.byteToScalar).count, 256)
    }

    func testRegexLeftmostFirstSplits() throws {
        let re = try SplitRegex(gpt2SplitPattern)
        func pieces(_ s: String) -> [String] {
            let scalars = s.unicodeScalars.map { $0.value }
            return re.matches(in: scalars).map { r in String(String.UnicodeScalarView(scalars[r].compactMap(Unicode.Scalar.init))) }
        }
        XCTAssertEqual(pieces("Hello world's  big\n\n test"), ["Hello", " world", "'s", " ", " big", "\n\n", " test"])
        XCTAssertEqual(pieces("a   b"), ["a", "  ", " b"])  // \s+(?!\S) leaves the last space to the word
        XCTAssertEqual(pieces("x  "), ["x", "  "])
        XCTAssertEqual(pieces("12 345!?"), ["12", " 345", "!?"])
        let qwen = try SplitRegex(#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#)
        let s = "IT'S 123 ab\r\n\r\n  x"
        let sc = s.unicodeScalars.map { $0.value }
        let got = qwen.matches(in: sc).map { String(String.UnicodeScalarView(sc[$0].compactMap(Unicode.Scalar.init))) }
        XCTAssertEqual(got, ["IT", "'S", " ", "1", "2", "3", " ab", "\r\n\r\n", " ", " x"])
        XCTAssertThrowsError(try SplitRegex("(?<=a)b"))
        XCTAssertThrowsError(try SplitRegex("a++"))
        XCTAssertThrowsError(try SplitRegex("(a"))
        XCTAssertThrowsError(try SplitRegex("\\p{Greek}"))
    }

    /// Expected values from the Rust library (`tokenizers.pre_tokenizers.Split(...).pre_tokenize_str`).
    func testSplitBehaviorsMatchRustLibrary() throws {
        func split(_ pattern: String, _ behavior: String, invert: Bool = false, _ text: String) throws -> [String] {
            let json = "{\"type\": \"Split\", \"pattern\": \(pattern), \"behavior\": \"\(behavior)\", \"invert\": \(invert)}"
            let pre = try JSONCursor(parseJSON(Data(json.utf8), file: "split"), file: "split").makePreTokenizer()
            return pre.preTokenize(TextPiece(bytes: Array(text.utf8), atInputStart: true)).map { String(decoding: $0.bytes, as: UTF8.self) }
        }
        let t = "the-final--countdown"
        let literal = #"{"String": "-"}"#
        let regex = #"{"Regex": "-"}"#
        XCTAssertEqual(try split(literal, "Removed", t), ["the", "final", "countdown"])
        XCTAssertEqual(try split(literal, "Isolated", t), ["the", "-", "final", "-", "-", "countdown"])
        XCTAssertEqual(try split(literal, "MergedWithPrevious", t), ["the-", "final-", "-", "countdown"])
        XCTAssertEqual(try split(literal, "MergedWithNext", t), ["the", "-final", "-", "-countdown"])
        XCTAssertEqual(try split(literal, "Contiguous", t), ["the", "-", "final", "--", "countdown"])
        XCTAssertEqual(try split(regex, "Removed", invert: true, t), ["-", "-", "-"])
        XCTAssertEqual(try split(regex, "MergedWithPrevious", invert: true, t), ["the", "-final", "-", "-countdown"])
        XCTAssertEqual(try split(regex, "MergedWithNext", invert: true, t), ["the-", "final-", "-", "countdown"])
        XCTAssertEqual(try split(#"{"Regex": "\\p{N}{1,3}"}"#, "Isolated", "1234567 x12"), ["123", "456", "7", " x", "12"])
        XCTAssertEqual(try split(#"{"Regex": "(a*)*b|a+?"}"#, "Isolated", "aaab aa"), ["aaab", " ", "a", "a"])
        XCTAssertEqual(try split(#"{"Regex": "(?=b)a|a(?=b)|\\d"}"#, "Isolated", "aab1"), ["a", "a", "b", "1"])
        XCTAssertThrowsError(try split(#"{"Regex": "(?<=a)b"}"#, "Isolated", "ab")) { e in
            guard case .unsupported("split", "pattern.Regex", _)? = e as? TokenizerError else { return XCTFail("\(e)") }
        }
    }
}
