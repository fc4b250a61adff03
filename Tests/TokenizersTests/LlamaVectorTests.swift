import Foundation
import XCTest
@testable import Tokenizers

/// llama.cpp's 46 LLaMA SentencePiece test vectors and the LLaVA prompt from the data README.
final class LlamaVectorTests: XCTestCase {
    func testAll46LlamaCppVectorsMatch() throws {
        let tok = try Shared.llava.get()
        let inputs = try readVocabTestInputs(Data(contentsOf: fixturesURL.appendingPathComponent("ggml-vocab-llama-spm.gguf.inp")))
        let outputs = try readVocabTestOutputs(Data(contentsOf: fixturesURL.appendingPathComponent("ggml-vocab-llama-spm.gguf.out")))
        XCTAssertEqual(inputs.count, 46)
        XCTAssertEqual(outputs.count, 46)
        // The third vector is the empty string and the fourth a single space.
        XCTAssertEqual(inputs[2], "")
        XCTAssertEqual(inputs[3], " ")
        var mismatches = 0
        for (text, expected) in zip(inputs, outputs) {
            let ids = tok.encode(text, addSpecialTokens: false)
            if ids != expected { mismatches += 1 }
            XCTAssertEqual(ids, expected, "vector \(text.debugDescription)")
            // With special tokens the template adds exactly BOS in front.
            XCTAssertEqual(tok.encode(text, addSpecialTokens: true), [1] + expected)
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testLlavaPromptFromReadme() throws {
        let tok = try Shared.llava.get()
        let prompt = "USER: <image>\nIs there a red square in the image? ASSISTANT:"
        let expected = [1, 3148, 1001, 29901, 29871, 32000, 29871, 13, 3624, 727, 263, 2654, 6862, 297, 278, 1967, 29973,
                        319, 1799, 9047, 13566, 29901]
        XCTAssertEqual(tok.encode(prompt), expected)
        XCTAssertEqual(tok.encode(prompt, addSpecialTokens: false), Array(expected.dropFirst()))
        // The same through load(directory:) (tokenizer_config.json: add_bos_token true).
        let tok2 = try Shared.llavaDirectory.get()
        XCTAssertEqual(tok2.encode(prompt), expected)
        XCTAssertEqual(tok.decode(expected), "USER:  \nIs there a red square in the image? ASSISTANT:")
        XCTAssertEqual(tok.decode(expected, skipSpecialTokens: false), "<s> USER: <image> \nIs there a red square in the image? ASSISTANT:")
    }

    func testVocabularyAndSpecialIds() throws {
        let tok = try Shared.llava.get()
        XCTAssertEqual(tok.vocabularySize, 32002)
        XCTAssertEqual(tok.bosTokenId, 1)
        XCTAssertNil(tok.eosTokenId)  // the template has no trailing token and no config was read
        let dir = try Shared.llavaDirectory.get()
        XCTAssertEqual(dir.bosTokenId, 1)
        XCTAssertEqual(dir.eosTokenId, 2)
        XCTAssertEqual(tok.tokenId(for: "<image>"), 32000)
        XCTAssertEqual(tok.tokenId(for: "<pad>"), 32001)
        XCTAssertEqual(tok.tokenId(for: "▁Hello"), 15043)
        XCTAssertEqual(tok.tokenId(for: "<0x0A>"), 13)
        XCTAssertNil(tok.tokenId(for: "definitely not a token"))
        XCTAssertEqual(tok.token(for: 32000), "<image>")
        XCTAssertEqual(tok.token(for: 15043), "▁Hello")
        XCTAssertEqual(tok.token(for: 0), "<unk>")
        XCTAssertNil(tok.token(for: 32002))
        XCTAssertNil(tok.token(for: -1))
        XCTAssertTrue(tok.isSpecialToken(32000))
        XCTAssertTrue(tok.isSpecialToken(1))
        XCTAssertFalse(tok.isSpecialToken(15043))
        // Canonically equivalent but distinct tokens stay distinct (Greek tonos vs oxia).
        let tonos = "\u{03AF}"  // ί GREEK SMALL LETTER IOTA WITH TONOS
        let oxia = "\u{1F77}"  // ί GREEK SMALL LETTER IOTA WITH OXIA
        XCTAssertEqual(tok.tokenId(for: tonos), 30207)
        XCTAssertEqual(tok.tokenId(for: oxia), 30873)
        XCTAssertSameScalars(tok.token(for: 30873) ?? "", oxia)
    }
}
