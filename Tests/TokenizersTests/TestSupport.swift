import Foundation
import XCTest
import JSONCore
@testable import Tokenizers

/// Folder of the committed test fixtures (next to this source file).
let fixturesURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// The LLaVA-1.5 tokenizer from the fixtures, loaded once (loading parses 2.6 MB of JSON).
enum Shared {
    static let llava: Result<Tokenizer, Error> = Result { try Tokenizer(tokenizerFile: fixturesURL.appendingPathComponent("tokenizer.json")) }
    static let llavaDirectory: Result<Tokenizer, Error> = Result { try Tokenizer.load(directory: fixturesURL) }
    /// The parsed fixture `tokenizer.json`, for tests that build variants of it.
    static let llavaJSON: Result<JSONValue, Error> = Result {
        try parseJSON(Data(contentsOf: fixturesURL.appendingPathComponent("tokenizer.json")), file: "tokenizer.json")
    }
}

/// Splits llama.cpp's `.inp` vector file: every test string is followed by
/// "\n__ggml_vocab_test__\n" (so a test may itself be empty or contain newlines).
func readVocabTestInputs(_ data: Data) throws -> [String] {
    let sep = Array("\n__ggml_vocab_test__\n".utf8)
    let bytes = [UInt8](data)
    var out: [String] = []
    var start = 0
    var i = 0
    while i + sep.count <= bytes.count {
        if Array(bytes[i..<(i + sep.count)]) == sep {
            out.append(String(decoding: bytes[start..<i], as: UTF8.self))
            i += sep.count
            start = i
        } else {
            i += 1
        }
    }
    guard start == bytes.count else {
        throw NSError(domain: "vectors", code: 1, userInfo: [NSLocalizedDescriptionKey: "input file does not end with the separator"])
    }
    return out
}

/// Parses llama.cpp's `.out` file: one line per test, ids separated by spaces (leading space allowed).
func readVocabTestOutputs(_ data: Data) throws -> [[Int]] {
    let text = String(decoding: data, as: UTF8.self)
    var lines = text.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    return try lines.map { line in
        try line.split(separator: " ").map { part -> Int in
            guard let v = Int(part) else {
                throw NSError(domain: "vectors", code: 2, userInfo: [NSLocalizedDescriptionKey: "bad id \(part)"])
            }
            return v
        }
    }
}

/// Exact (code-point) string equality; Swift `==` would accept canonically equivalent strings.
func XCTAssertSameScalars(_ a: String, _ b: String, _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(Array(a.unicodeScalars.map { $0.value }), Array(b.unicodeScalars.map { $0.value }), message(), file: file, line: line)
}
