import Foundation

/// A parsed JSON value.
///
/// Strings (and object keys) are kept as their exact UTF-8 bytes. Swift's `String` compares by
/// canonical equivalence, and the LLaMA vocabulary holds distinct tokens that are canonically
/// equivalent (Greek letters with tonos U+03AC.. and with oxia U+1F71..), so a `String`-keyed
/// dictionary would silently merge them. Byte arrays keep them apart, as the Rust library does.
indirect enum JSONValue {
    case null
    case bool(Bool)
    /// `integer` is set when the literal has no fraction or exponent and fits in `Int`.
    case number(Double, integer: Int?)
    /// UTF-8 bytes of the decoded string.
    case string([UInt8])
    case array([JSONValue])
    /// Members in file order (duplicates kept; lookups take the last one).
    case object([JSONMember])

    /// A short name of the JSON type, for error messages.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Value of the last member named `key`, if this is an object that has one.
    func member(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        let k = Array(key.utf8)
        for m in members.reversed() where m.key == k { return m.value }
        return nil
    }
}

/// One `"key": value` pair of a JSON object.
struct JSONMember {
    /// UTF-8 bytes of the key.
    let key: [UInt8]
    let value: JSONValue
}

/// A strict RFC 8259 parser over raw bytes (UTF-8 validated, no trailing garbage, bounded nesting).
struct JSONParser {
    private let file: String
    private let maxDepth = 512

    init(file: String) { self.file = file }

    /// Parses a whole document.
    func parse(_ data: Data) throws -> JSONValue {
        let bytes = [UInt8](data)
        return try bytes.withUnsafeBufferPointer { buf -> JSONValue in
            var state = State(buf: buf, pos: 0, file: file, maxDepth: maxDepth)
            // A UTF-8 byte-order mark is not JSON; serde_json rejects it too.
            state.skipWhitespace()
            let value = try state.parseValue(depth: 0)
            state.skipWhitespace()
            if state.pos != buf.count {
                throw state.error("unexpected trailing characters after the top-level value")
            }
            return value
        }
    }

    private struct State {
        let buf: UnsafeBufferPointer<UInt8>
        var pos: Int
        let file: String
        let maxDepth: Int

        func error(_ reason: String) -> TokenizerError {
            .malformedJSON(file: file, byteOffset: pos, reason: reason)
        }

        mutating func skipWhitespace() {
            while pos < buf.count {
                let b = buf[pos]
                if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { break }
            }
        }

        mutating func parseValue(depth: Int) throws -> JSONValue {
            guard depth < maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
            guard pos < buf.count else { throw error("unexpected end of input, expected a value") }
            switch buf[pos] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectLiteral("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw error("unexpected character \(describe(buf[pos])), expected a value")
            }
        }

        func describe(_ b: UInt8) -> String {
            if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
            return String(format: "0x%02X", b)
        }

        mutating func expectLiteral(_ word: StaticString) throws {
            let n = word.utf8CodeUnitCount
            guard pos + n <= buf.count else { throw error("unexpected end of input in literal") }
            let p = word.utf8Start
            for i in 0..<n where buf[pos + i] != p[i] {
                throw error("invalid literal, expected \(word)")
            }
            pos += n
        }

        mutating func parseObject(depth: Int) throws -> JSONValue {
            pos += 1  // {
            var members: [JSONMember] = []
            skipWhitespace()
            if pos < buf.count && buf[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard pos < buf.count else { throw error("unexpected end of input in object") }
                guard buf[pos] == UInt8(ascii: "\"") else {
                    throw error("expected a string key, found \(describe(buf[pos]))")
                }
                let key = try parseString()
                skipWhitespace()
                guard pos < buf.count, buf[pos] == UInt8(ascii: ":") else { throw error("expected ':' after object key") }
                pos += 1
                skipWhitespace()
                let value = try parseValue(depth: depth + 1)
                members.append(JSONMember(key: key, value: value))
                skipWhitespace()
                guard pos < buf.count else { throw error("unexpected end of input in object") }
                if buf[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if buf[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
                throw error("expected ',' or '}' in object, found \(describe(buf[pos]))")
            }
        }

        mutating func parseArray(depth: Int) throws -> JSONValue {
            pos += 1  // [
            var items: [JSONValue] = []
            skipWhitespace()
            if pos < buf.count && buf[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard pos < buf.count else { throw error("unexpected end of input in array") }
                if buf[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if buf[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                throw error("expected ',' or ']' in array, found \(describe(buf[pos]))")
            }
        }

        mutating func parseNumber() throws -> JSONValue {
            let start = pos
            var isInteger = true
            if buf[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < buf.count, isDigit(buf[pos]) else { throw error("invalid number") }
            if buf[pos] == UInt8(ascii: "0") {
                pos += 1
            } else {
                while pos < buf.count && isDigit(buf[pos]) { pos += 1 }
            }
            if pos < buf.count && buf[pos] == UInt8(ascii: ".") {
                isInteger = false
                pos += 1
                guard pos < buf.count, isDigit(buf[pos]) else { throw error("invalid number: digit expected after '.'") }
                while pos < buf.count && isDigit(buf[pos]) { pos += 1 }
            }
            if pos < buf.count && (buf[pos] == UInt8(ascii: "e") || buf[pos] == UInt8(ascii: "E")) {
                isInteger = false
                pos += 1
                if pos < buf.count && (buf[pos] == UInt8(ascii: "+") || buf[pos] == UInt8(ascii: "-")) { pos += 1 }
                guard pos < buf.count, isDigit(buf[pos]) else { throw error("invalid number: digit expected in exponent") }
                while pos < buf.count && isDigit(buf[pos]) { pos += 1 }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
            guard let d = Double(text) else { throw error("invalid number \(text)") }
            return .number(d, integer: isInteger ? Int(text) : nil)
        }

        @inline(__always) func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

        func hexValue(_ b: UInt8) -> UInt32? {
            switch b {
            case 0x30...0x39: return UInt32(b - 0x30)
            case 0x41...0x46: return UInt32(b - 0x41 + 10)
            case 0x61...0x66: return UInt32(b - 0x61 + 10)
            default: return nil
            }
        }

        mutating func parseHex4() throws -> UInt32 {
            guard pos + 4 <= buf.count else { throw error("unexpected end of input in \\u escape") }
            var v: UInt32 = 0
            for i in 0..<4 {
                guard let h = hexValue(buf[pos + i]) else { throw error("invalid hex digit in \\u escape") }
                v = v << 4 | h
            }
            pos += 4
            return v
        }

        static func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
            if v < 0x80 {
                out.append(UInt8(v))
            } else if v < 0x800 {
                out.append(UInt8(0xC0 | (v >> 6)))
                out.append(UInt8(0x80 | (v & 0x3F)))
            } else if v < 0x10000 {
                out.append(UInt8(0xE0 | (v >> 12)))
                out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
                out.append(UInt8(0x80 | (v & 0x3F)))
            } else {
                out.append(UInt8(0xF0 | (v >> 18)))
                out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
                out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
                out.append(UInt8(0x80 | (v & 0x3F)))
            }
        }

        /// Length of the valid UTF-8 sequence starting at `pos` (lead byte >= 0x80), or nil.
        func validUTF8Length(at p: Int) -> Int? {
            let b0 = buf[p]
            @inline(__always) func cont(_ i: Int) -> UInt8? {
                guard i < buf.count, buf[i] & 0xC0 == 0x80 else { return nil }
                return buf[i]
            }
            switch b0 {
            case 0xC2...0xDF:
                return cont(p + 1) != nil ? 2 : nil
            case 0xE0...0xEF:
                guard let b1 = cont(p + 1), cont(p + 2) != nil else { return nil }
                if b0 == 0xE0 && b1 < 0xA0 { return nil }  // overlong
                if b0 == 0xED && b1 >= 0xA0 { return nil }  // surrogate
                return 3
            case 0xF0...0xF4:
                guard let b1 = cont(p + 1), cont(p + 2) != nil, cont(p + 3) != nil else { return nil }
                if b0 == 0xF0 && b1 < 0x90 { return nil }  // overlong
                if b0 == 0xF4 && b1 >= 0x90 { return nil }  // > U+10FFFF
                return 4
            default:
                return nil
            }
        }

        mutating func parseString() throws -> [UInt8] {
            pos += 1  // opening quote
            var out: [UInt8] = []
            while true {
                guard pos < buf.count else { throw error("unexpected end of input in string") }
                let b = buf[pos]
                if b == UInt8(ascii: "\"") {
                    pos += 1
                    return out
                } else if b == UInt8(ascii: "\\") {
                    pos += 1
                    guard pos < buf.count else { throw error("unexpected end of input in escape") }
                    let e = buf[pos]
                    pos += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var v = try parseHex4()
                        if v >= 0xD800 && v <= 0xDBFF {
                            guard pos + 2 <= buf.count, buf[pos] == UInt8(ascii: "\\"), buf[pos + 1] == UInt8(ascii: "u") else {
                                throw error("lone leading surrogate in \\u escape")
                            }
                            pos += 2
                            let low = try parseHex4()
                            guard low >= 0xDC00 && low <= 0xDFFF else { throw error("invalid trailing surrogate in \\u escape") }
                            v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                        } else if v >= 0xDC00 && v <= 0xDFFF {
                            throw error("lone trailing surrogate in \\u escape")
                        }
                        State.appendUTF8(v, to: &out)
                    default:
                        pos -= 1
                        throw error("invalid escape \\\(describe(e))")
                    }
                } else if b < 0x20 {
                    throw error("control character \(describe(b)) inside string")
                } else if b < 0x80 {
                    out.append(b)
                    pos += 1
                } else {
                    guard let n = validUTF8Length(at: pos) else { throw error("invalid UTF-8 inside string") }
                    for i in 0..<n { out.append(buf[pos + i]) }
                    pos += n
                }
            }
        }
    }
}

/// A JSON value together with where it came from (file and dotted field path), so that every
/// accessor can throw a `TokenizerError` naming both.
struct JSONCursor {
    let value: JSONValue
    /// Dotted path of this value inside the document, e.g. `model.merges[3]`; empty at the root.
    let path: String
    /// File name used in error messages.
    let file: String

    init(_ value: JSONValue, path: String = "", file: String) {
        self.value = value
        self.path = path
        self.file = file
    }

    private func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    var isNull: Bool { if case .null = value { return true } else { return false } }

    func invalid(_ reason: String) -> TokenizerError {
        .invalidField(file: file, field: path.isEmpty ? "<root>" : path, reason: reason)
    }

    func typeError(_ expected: String) -> TokenizerError {
        invalid("expected \(expected), found \(value.typeName)")
    }

    /// The member `key`; throws `missingField` when absent or null.
    func field(_ key: String) throws -> JSONCursor {
        guard case .object = value else { throw typeError("an object") }
        guard let v = value.member(key) else { throw TokenizerError.missingField(file: file, field: childPath(key)) }
        if case .null = v { throw TokenizerError.missingField(file: file, field: childPath(key)) }
        return JSONCursor(v, path: childPath(key), file: file)
    }

    /// The member `key`, or nil when absent or null.
    func optionalField(_ key: String) throws -> JSONCursor? {
        guard case .object = value else { throw typeError("an object") }
        guard let v = value.member(key) else { return nil }
        if case .null = v { return nil }
        return JSONCursor(v, path: childPath(key), file: file)
    }

    /// Whether the object has a member `key` (even a null one).
    func has(_ key: String) -> Bool { value.member(key) != nil }

    func bytes() throws -> [UInt8] {
        guard case .string(let b) = value else { throw typeError("a string") }
        return b
    }

    func string() throws -> String { String(decoding: try bytes(), as: UTF8.self) }

    func bool() throws -> Bool {
        guard case .bool(let b) = value else { throw typeError("a boolean") }
        return b
    }

    func int() throws -> Int {
        guard case .number(_, let i) = value else { throw typeError("an integer") }
        guard let i else { throw invalid("expected an integer, found a fractional or out-of-range number") }
        return i
    }

    /// A non-negative integer that fits in UInt32 (token ids, counts).
    func tokenIndex() throws -> Int {
        let i = try int()
        guard i >= 0 && i <= Int(UInt32.max) else { throw invalid("expected an integer in 0...\(UInt32.max), found \(i)") }
        return i
    }

    func double() throws -> Double {
        guard case .number(let d, _) = value else { throw typeError("a number") }
        return d
    }

    func array() throws -> [JSONCursor] {
        guard case .array(let items) = value else { throw typeError("an array") }
        var out: [JSONCursor] = []
        out.reserveCapacity(items.count)
        for (i, v) in items.enumerated() { out.append(JSONCursor(v, path: "\(path)[\(i)]", file: file)) }
        return out
    }

    func members() throws -> [JSONMember] {
        guard case .object(let m) = value else { throw typeError("an object") }
        return m
    }

    /// The string member `type` of a component object (`normalizer`, `model`, ...).
    func typeTag() throws -> String { try field("type").string() }
}

extension TokenizerError {
    /// An `unsupported` error for a component's `type` tag.
    static func unsupportedType(_ cursor: JSONCursor, _ type: String) -> TokenizerError {
        let field = cursor.path.isEmpty ? "type" : "\(cursor.path).type"
        return .unsupported(file: cursor.file, field: field, value: type.debugDescription)
    }
}
