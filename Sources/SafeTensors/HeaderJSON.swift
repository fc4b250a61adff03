import JSONCore

/// How headers and index files are parsed: as strictly as the Rust crate (serde_json into maps
/// that reject repeated keys), with nesting bounded at 128 levels.
let headerJSONOptions = JSONParser.Options(maxDepth: 128, rejectDuplicateKeys: true)

/// Why a JSON number is not a usable non-negative integer.
enum JSONIntegerProblem: Error {
    case notANumber(String)
    case negative(String)
    case notInteger(String)
    case tooLarge(String)

    var reason: String {
        switch self {
        case let .notANumber(type): return "expected a non-negative integer, found \(type)"
        case let .negative(text): return "negative value \(text)"
        case let .notInteger(text): return "\(text) is not an integer"
        case let .tooLarge(text): return "\(text) is too large"
        }
    }
}

extension JSONValue {
    /// The value as a non-negative Int, or why not (the crate reads these as `usize`:
    /// no sign, no fraction, no exponent).
    func nonNegativeInt() -> Result<Int, JSONIntegerProblem> {
        guard case let .number(n) = self else { return .failure(.notANumber(typeName)) }
        guard n.isIntegerLiteral else { return .failure(.notInteger(n.text)) }
        // "-0" is still a negative-signed literal; serde rejects it for usize too.
        if n.isNegative { return .failure(.negative(n.text)) }
        guard let v = n.intValue else { return .failure(.tooLarge(n.text)) }
        return .success(v)
    }
}

extension JSONParseError {
    /// Where a repeated key was found, in the words of `SafeTensorsError.duplicateKey`:
    /// "the header", "entry \"t\"", "entry \"t\" field \"f\"" (array indices are not named).
    var headerContext: String {
        guard case let .duplicateKey(_, path, _) = self else { return "the header" }
        var context = "the header"
        var first = true
        for case let .key(k) in path {
            let name = String(decoding: k, as: UTF8.self)
            context = first ? "entry \"\(name)\"" : "\(context) field \"\(name)\""
            first = false
        }
        return context
    }
}
