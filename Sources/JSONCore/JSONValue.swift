/// A parsed JSON value (RFC 8259), as produced by `JSONParser`.
///
/// Strings and object keys are kept as their exact UTF-8 bytes, never as Swift `String`s: `String`
/// compares by canonical equivalence, so "é" (U+00E9) and "e" + U+0301 are `==` as Strings, while
/// JSON (and the Rust libraries whose files this package reads) treats them as different keys.
/// Numbers are kept as their source text, so integers are exact and doubles are correctly rounded
/// when asked for (see `JSONNumber`).
public enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, kept as its (grammar-checked) source text.
    case number(JSONNumber)
    /// The decoded string as UTF-8 bytes (escapes resolved; always valid UTF-8).
    case string([UInt8])
    /// Elements in document order.
    case array([JSONValue])
    /// Members in document order. Repeated keys are all kept unless the parser rejected them
    /// (`JSONParser.Options.rejectDuplicateKeys`); `member(_:)` returns the last one.
    case object([JSONMember])

    /// The JSON type's bare name: "null", "boolean", "number", "string", "array" or "object".
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// The JSON type's name for prose: "null", "a boolean", "a number", "a string", "an array",
    /// "an object" (as in "expected a string, found an array").
    public var typeNameWithArticle: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The value of the last member whose key has exactly the UTF-8 bytes of `key`; nil when this
    /// is not an object or has no such member.
    public func member(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return JSONMember.last(named: key, in: members)?.value
    }

    /// A string value as a Swift `String` (nil for other types).
    public var stringValue: String? {
        guard case .string(let bytes) = self else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

/// One `"key": value` member of a JSON object.
public struct JSONMember: Sendable, Equatable {
    /// The key's exact UTF-8 bytes (escapes resolved).
    public let key: [UInt8]
    /// The member's value.
    public let value: JSONValue

    /// Creates a member from the key's UTF-8 bytes and a value.
    public init(key: [UInt8], value: JSONValue) {
        self.key = key
        self.value = value
    }

    /// The key as a Swift `String` (for messages and String-keyed tables; compare `key` for identity).
    public var keyString: String { String(decoding: key, as: UTF8.self) }

    /// Whether the key's bytes are exactly the UTF-8 bytes of `name` (no Unicode normalisation).
    public func hasKey(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { $0.elementsEqual(key) }
    }

    /// The last member of `members` whose key is exactly `name`, as `JSONValue.member` looks it up.
    public static func last(named name: String, in members: [JSONMember]) -> JSONMember? {
        var name = name
        return name.withUTF8 { utf8 -> JSONMember? in
            for m in members.reversed() where m.key.count == utf8.count && m.key.elementsEqual(utf8) { return m }
            return nil
        }
    }
}

/// A JSON number, kept as its source text (already checked against the RFC 8259 grammar:
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The literal exactly as written in the document, e.g. "-0", "1e-06", "0.00392156862745098".
    public let text: String

    /// Wraps a literal the parser has already checked against the grammar.
    init(text: String) {
        self.text = text
    }

    /// The literal, unchanged.
    public var description: String { text }

    /// True when the literal has neither a fraction nor an exponent ("12", "-0"; not "1.0", "1e3").
    public var isIntegerLiteral: Bool {
        !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }

    /// True when the literal starts with a minus sign (including "-0" and "-0.0").
    public var isNegative: Bool { text.utf8.first == UInt8(ascii: "-") }

    /// The exact value when the literal is an integer literal (no fraction, no exponent) that fits
    /// in `Int`; nil otherwise ("1.5", "1.0", "1e3" and 2^63 all give nil). "-0" gives 0.
    public var intValue: Int? {
        var value = 0
        var negative = false
        for b in text.utf8 {
            if b == UInt8(ascii: "-") { negative = true; continue }
            guard b >= 0x30 && b <= 0x39 else { return nil }  // '.', 'e', 'E'
            let digit = Int(b - 0x30)
            // Accumulate with the literal's sign so that Int.min is reachable.
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = next
        }
        return value
    }

    /// The nearest `Double` (correctly rounded, by Swift's `Double(String)`): "0.00392156862745098"
    /// gives exactly the double literal 0.00392156862745098, "-0" gives -0.0, and literals beyond
    /// Double's range give ±infinity (callers that need finite values must check).
    public var doubleValue: Double {
        // Double(String) accepts every literal of the JSON grammar; the fallback is unreachable.
        Double(text) ?? (isNegative ? -.infinity : .infinity)
    }
}
