import Foundation

/// Everything that can go wrong while loading a tokenizer. Every case names the file it came
/// from and, where there is one, the JSON field (as a dotted path such as `model.merges[17]`).
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file does not exist.
    case fileNotFound(file: String)
    /// The file exists but could not be read.
    case unreadableFile(file: String, reason: String)
    /// The file is not valid JSON (or not valid UTF-8); `byteOffset` is where parsing stopped.
    case malformedJSON(file: String, byteOffset: Int, reason: String)
    /// A required field is absent (or `null`).
    case missingField(file: String, field: String)
    /// A field is present but has the wrong JSON type or an invalid value.
    case invalidField(file: String, field: String, reason: String)
    /// A component type (model, normalizer, pre-tokenizer, ...) or option this reader does not implement.
    case unsupported(file: String, field: String, value: String)
    /// A field names a token that is not in the vocabulary (e.g. a merge, the unk token, a template token).
    case unknownToken(file: String, field: String, token: String)

    /// A one-line human-readable explanation naming the file and field.
    public var description: String {
        switch self {
        case .fileNotFound(let file):
            return "\(file): file not found"
        case .unreadableFile(let file, let reason):
            return "\(file): cannot read file: \(reason)"
        case .malformedJSON(let file, let offset, let reason):
            return "\(file): malformed JSON at byte \(offset): \(reason)"
        case .missingField(let file, let field):
            return "\(file): missing required field `\(field)`"
        case .invalidField(let file, let field, let reason):
            return "\(file): invalid field `\(field)`: \(reason)"
        case .unsupported(let file, let field, let value):
            return "\(file): unsupported value \(value) for field `\(field)`"
        case .unknownToken(let file, let field, let token):
            return "\(file): field `\(field)` names token \(token.debugDescription), which is not in the vocabulary"
        }
    }
}
