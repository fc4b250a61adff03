/// One step of the path from the document root to a value: an object key or an array index.
public enum JSONPathComponent: Sendable, Equatable {
    /// An object member, by its key's UTF-8 bytes.
    case key([UInt8])
    /// An array element, by its 0-based index.
    case index(Int)
}

/// Why a document is not acceptable JSON. Offsets count bytes from the start of the parsed input.
public enum JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not RFC 8259 JSON at byte `offset` (also: invalid UTF-8 in a string, nesting too deep).
    case syntax(offset: Int, reason: String)
    /// An object repeats `key` (only with `Options.rejectDuplicateKeys`). `offset` is where the
    /// repeated key starts; `path` leads from the root to the object holding it (empty: the root).
    case duplicateKey(offset: Int, path: [JSONPathComponent], key: [UInt8])

    /// The byte offset where the problem was found.
    public var offset: Int {
        switch self {
        case .syntax(let offset, _), .duplicateKey(let offset, _, _): return offset
        }
    }

    /// Why parsing stopped, without the offset ("duplicate key \"k\"" for a repeated key).
    public var reason: String {
        switch self {
        case .syntax(_, let reason): return reason
        case .duplicateKey(_, _, let key): return "duplicate key \(String(decoding: key, as: UTF8.self).debugDescription)"
        }
    }

    /// "byte N: reason".
    public var description: String { "byte \(offset): \(reason)" }

    /// This error as seen from the container one level up (`component` leads to where it happened).
    func within(_ component: JSONPathComponent) -> JSONParseError {
        guard case .duplicateKey(let offset, let path, let key) = self else { return self }
        return .duplicateKey(offset: offset, path: [component] + path, key: key)
    }
}

/// A strict RFC 8259 JSON parser over raw bytes.
///
/// Accepts exactly one value surrounded by optional whitespace; rejects trailing data, a byte-order
/// mark, comments, trailing commas, leading zeros, invalid escapes, control characters and invalid
/// UTF-8 inside strings (so every parsed string is valid UTF-8), and containers nested deeper than
/// `Options.maxDepth`. Escaped UTF-16 surrogate pairs (`\ud83d\ude00`) are combined; a lone
/// surrogate escape (`"\ud800"`, or a high surrogate not followed by a low one) is an error,
/// because the value model holds strings as UTF-8, which cannot encode it (serde_json rejects it too).
public enum JSONParser {
    /// Parsing options.
    public struct Options: Sendable {
        /// Containers (`{` or `[`) may nest this many levels; one more is an error at its opening
        /// bracket (an error rather than unbounded recursion on hostile input).
        public var maxDepth: Int
        /// When true, a key repeated within one object is a `JSONParseError.duplicateKey`
        /// (keys compare by bytes). When false, all members are kept in order.
        public var rejectDuplicateKeys: Bool

        /// Options with the given limits (default: 512 levels, duplicates kept).
        public init(maxDepth: Int = 512, rejectDuplicateKeys: Bool = false) {
            self.maxDepth = maxDepth
            self.rejectDuplicateKeys = rejectDuplicateKeys
        }
    }

    /// Parses one JSON document held in `bytes`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, options: Options = Options()) throws(JSONParseError) -> JSONValue {
        try parse(bytes.assumingMemoryBound(to: UInt8.self), options: options)
    }

    /// Parses one JSON document held in `bytes`.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, options: Options = Options()) throws(JSONParseError) -> JSONValue {
        var state = ParserState(buf: bytes, options: options)
        return try state.parseDocument()
    }

    /// Parses one JSON document from any byte collection (`[UInt8]`, `Data`, ...).
    public static func parse<Bytes: Collection>(_ bytes: Bytes, options: Options = Options()) throws(JSONParseError) -> JSONValue
    where Bytes.Element == UInt8 {
        let result = bytes.withContiguousStorageIfAvailable { buf in
            Result { () throws(JSONParseError) -> JSONValue in try parse(buf, options: options) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buf throws(JSONParseError) -> JSONValue in try parse(buf, options: options) }
    }
}

private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")

/// The parser's position in the input; one instance per document.
private struct ParserState {
    let buf: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    let rejectDuplicates: Bool
    var pos = 0

    init(buf: UnsafeBufferPointer<UInt8>, options: JSONParser.Options) {
        self.buf = buf
        self.maxDepth = options.maxDepth
        self.rejectDuplicates = options.rejectDuplicateKeys
    }

    func error(_ reason: String) -> JSONParseError {
        .syntax(offset: pos, reason: reason)
    }

    /// A byte for an error message: 'c' when printable ASCII, else 0xHH.
    func describe(_ b: UInt8) -> String {
        if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        let hex = Array("0123456789ABCDEF".utf8)
        return "0x" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 0xF)]], as: UTF8.self)
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if pos != buf.count { throw error("unexpected trailing characters after the top-level value") }
        return value
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < buf.count {
            let b = buf[pos]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            pos += 1
        }
    }

    /// Parses the value at `pos`; `depth` is the number of enclosing containers.
    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard pos < buf.count else { throw error("unexpected end of input, expected a value") }
        switch buf[pos] {
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try parseNumber())
        case UInt8(ascii: "{"):
            guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
            return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
            return try parseArray(depth: depth + 1)
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        default:
            throw error("unexpected character \(describe(buf[pos])), expected a value")
        }
    }

    mutating func expectLiteral(_ word: StaticString) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= buf.count else { throw error("unexpected end of input in literal, expected \(word)") }
        let p = word.utf8Start
        for i in 0..<n where buf[pos + i] != p[i] {
            throw error("invalid literal, expected \(word)")
        }
        pos += n
    }

    /// `depth` counts this object.
    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        if opensEmptyContainer(UInt8(ascii: "}")) { return .object([]) }
        var members: [JSONMember] = []
        var seen = Set<[UInt8]>()
        while true {
            skipWhitespace()
            guard pos < buf.count else { throw error("unexpected end of input in object") }
            guard buf[pos] == quote else { throw error("expected a string key, found \(describe(buf[pos]))") }
            let keyStart = pos
            let key = try parseString()
            if rejectDuplicates && !seen.insert(key).inserted {
                throw .duplicateKey(offset: keyStart, path: [], key: key)
            }
            skipWhitespace()
            guard pos < buf.count, buf[pos] == UInt8(ascii: ":") else { throw error("expected ':' after object key") }
            pos += 1
            skipWhitespace()
            let value: JSONValue
            do {
                value = try parseValue(depth: depth)
            } catch {
                throw error.within(.key(key))
            }
            members.append(JSONMember(key: key, value: value))
            if try closesContainer(UInt8(ascii: "}"), "object") { return .object(members) }
        }
    }

    /// `depth` counts this array.
    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        if opensEmptyContainer(UInt8(ascii: "]")) { return .array([]) }
        var items: [JSONValue] = []
        while true {
            skipWhitespace()
            do {
                items.append(try parseValue(depth: depth))
            } catch {
                throw error.within(.index(items.count))
            }
            if try closesContainer(UInt8(ascii: "]"), "array") { return .array(items) }
        }
    }

    /// Consumes the opening bracket at `pos`; when the container is empty, also its closing
    /// bracket `close`, and returns true.
    @inline(__always)
    mutating func opensEmptyContainer(_ close: UInt8) -> Bool {
        pos += 1
        skipWhitespace()
        guard pos < buf.count && buf[pos] == close else { return false }
        pos += 1
        return true
    }

    /// After an item of an object or array: consumes the ',' before the next item (false) or the
    /// closing bracket `close` (true).
    @inline(__always)
    mutating func closesContainer(_ close: UInt8, _ container: StaticString) throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard pos < buf.count else { throw error("unexpected end of input in \(container)") }
        let b = buf[pos]
        pos += 1
        if b == UInt8(ascii: ",") { return false }
        if b == close { return true }
        pos -= 1
        throw error("expected ',' or '\(Character(Unicode.Scalar(close)))' in \(container), found \(describe(b))")
    }

    @inline(__always)
    func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = pos
        if buf[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < buf.count, isDigit(buf[pos]) else { throw error("invalid number: digit expected") }
        if buf[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < buf.count && isDigit(buf[pos]) { throw error("invalid number: leading zero") }
        } else {
            while pos < buf.count && isDigit(buf[pos]) { pos += 1 }
        }
        if pos < buf.count && buf[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < buf.count, isDigit(buf[pos]) else { throw error("invalid number: digit expected after '.'") }
            while pos < buf.count && isDigit(buf[pos]) { pos += 1 }
        }
        if pos < buf.count && (buf[pos] == UInt8(ascii: "e") || buf[pos] == UInt8(ascii: "E")) {
            pos += 1
            if pos < buf.count && (buf[pos] == UInt8(ascii: "+") || buf[pos] == UInt8(ascii: "-")) { pos += 1 }
            guard pos < buf.count, isDigit(buf[pos]) else { throw error("invalid number: digit expected in exponent") }
            while pos < buf.count && isDigit(buf[pos]) { pos += 1 }
        }
        return JSONNumber(text: String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self))
    }

    func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case 0x30...0x39: return UInt32(b - 0x30)
        case 0x41...0x46: return UInt32(b - 0x41 + 10)
        case 0x61...0x66: return UInt32(b - 0x61 + 10)
        default: return nil
        }
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= buf.count else { throw error("unexpected end of input in \\u escape") }
        var v: UInt32 = 0
        for i in 0..<4 {
            guard let h = hexValue(buf[pos + i]) else { throw error("invalid hex digit in \\u escape") }
            v = v << 4 | h
        }
        pos += 4
        return v
    }

    /// Length of the valid UTF-8 sequence whose lead byte (>= 0x80) is at `p`, or nil
    /// (rejects stray continuation bytes, overlong forms, surrogates and code points > U+10FFFF).
    func validUTF8Length(at p: Int) -> Int? {
        let b0 = buf[p]
        @inline(__always) func isContinuation(_ i: Int) -> Bool { i < buf.count && buf[i] & 0xC0 == 0x80 }
        switch b0 {
        case 0xC2...0xDF:
            return isContinuation(p + 1) ? 2 : nil
        case 0xE0...0xEF:
            guard isContinuation(p + 1), isContinuation(p + 2) else { return nil }
            let b1 = buf[p + 1]
            if b0 == 0xE0 && b1 < 0xA0 { return nil }  // overlong
            if b0 == 0xED && b1 >= 0xA0 { return nil }  // UTF-16 surrogate
            return 3
        case 0xF0...0xF4:
            guard isContinuation(p + 1), isContinuation(p + 2), isContinuation(p + 3) else { return nil }
            let b1 = buf[p + 1]
            if b0 == 0xF0 && b1 < 0x90 { return nil }  // overlong
            if b0 == 0xF4 && b1 >= 0x90 { return nil }  // above U+10FFFF
            return 4
        default:
            return nil
        }
    }

    /// Parses the string whose opening quote is at `pos`; returns its UTF-8 bytes.
    mutating func parseString() throws(JSONParseError) -> [UInt8] {
        pos += 1  // opening quote
        let start = pos
        // Fast path: no escapes, so the bytes are copied in one piece.
        while pos < buf.count {
            let b = buf[pos]
            if b == quote {
                let out = Array(UnsafeBufferPointer(rebasing: buf[start..<pos]))
                pos += 1
                return out
            }
            if b == backslash { break }
            if b < 0x20 { throw error("control character \(describe(b)) inside string") }
            if b < 0x80 {
                pos += 1
            } else {
                guard let n = validUTF8Length(at: pos) else { throw error("invalid UTF-8 inside string") }
                pos += n
            }
        }
        var out: [UInt8] = []
        out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[start..<pos]))
        var runStart = pos
        while true {
            guard pos < buf.count else { throw error("unexpected end of input in string") }
            let b = buf[pos]
            if b == quote {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[runStart..<pos]))
                pos += 1
                return out
            } else if b == backslash {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[runStart..<pos]))
                try parseEscape(into: &out)
                runStart = pos
            } else if b < 0x20 {
                throw error("control character \(describe(b)) inside string")
            } else if b < 0x80 {
                pos += 1
            } else {
                guard let n = validUTF8Length(at: pos) else { throw error("invalid UTF-8 inside string") }
                pos += n
            }
        }
    }

    /// Decodes the escape whose backslash is at `pos`, appending its UTF-8 bytes.
    mutating func parseEscape(into out: inout [UInt8]) throws(JSONParseError) {
        pos += 1  // backslash
        guard pos < buf.count else { throw error("unexpected end of input in escape") }
        let e = buf[pos]
        switch e {
        case quote: out.append(0x22)
        case backslash: out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            pos += 1
            var v = try parseHex4()
            if v >= 0xD800 && v <= 0xDBFF {
                guard pos + 2 <= buf.count, buf[pos] == backslash, buf[pos + 1] == UInt8(ascii: "u") else {
                    throw error("lone leading surrogate in \\u escape")
                }
                pos += 2
                let low = try parseHex4()
                guard low >= 0xDC00 && low <= 0xDFFF else { throw error("invalid trailing surrogate in \\u escape") }
                v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
            } else if v >= 0xDC00 && v <= 0xDFFF {
                throw error("lone trailing surrogate in \\u escape")
            }
            // Surrogates are excluded above, so `v` is a Unicode scalar value.
            guard let scalar = Unicode.Scalar(v) else { throw error("invalid \\u escape") }
            UTF8.encode(scalar) { out.append($0) }
            return
        default:
            throw error("invalid escape \\\(describe(e))")
        }
        pos += 1
    }
}
