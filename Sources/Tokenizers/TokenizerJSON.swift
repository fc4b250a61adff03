import Foundation
import JSONCore

/// Builds the `TokenizerError`s thrown by `JSONCursor` accessors, naming `file` and the field path.
struct TokenizerJSONErrors: JSONErrorReporter {
    /// File name used in error messages.
    let file: String

    func missing(path: String) -> TokenizerError {
        .missingField(file: file, field: path)
    }

    func invalid(path: String, reason: String) -> TokenizerError {
        .invalidField(file: file, field: path.isEmpty ? "<root>" : path, reason: reason)
    }
}

/// A JSON value with its file and dotted field path; accessors throw `TokenizerError`.
typealias JSONCursor = JSONCore.JSONCursor<TokenizerJSONErrors>

extension JSONCursor {
    /// A cursor on `value` at `path` (empty: the root) of `file`.
    init(_ value: JSONValue, path: String = "", file: String) {
        self.init(value, path: path, reporter: TokenizerJSONErrors(file: file))
    }

    /// File name used in error messages.
    var file: String { reporter.file }

    /// A non-negative integer that fits in UInt32 (token ids, counts).
    func tokenIndex() throws -> Int {
        let i = try int()
        guard i >= 0 && i <= Int(UInt32.max) else { throw invalid("expected an integer in 0...\(UInt32.max), found \(i)") }
        return i
    }

    /// The string member `type` of a component object (`normalizer`, `model`, ...).
    func typeTag() throws -> String { try field("type").string() }
}

/// Parses a whole JSON document (the tokenizer files nest far less than 512 levels; deeper input
/// is rejected rather than recursed into). Duplicate keys are kept; lookups take the last one.
func parseJSON(_ data: Data, file: String) throws -> JSONValue {
    do throws(JSONParseError) {
        return try JSONParser.parse(data, options: JSONParser.Options(maxDepth: 512))
    } catch {
        throw TokenizerError.malformedJSON(file: file, byteOffset: error.offset, reason: error.reason)
    }
}

extension TokenizerError {
    /// An `unsupported` error for a component's `type` tag.
    static func unsupportedType(_ cursor: JSONCursor, _ type: String) -> TokenizerError {
        let field = cursor.path.isEmpty ? "type" : "\(cursor.path).type"
        return .unsupported(file: cursor.file, field: field, value: type.debugDescription)
    }
}
