import Foundation

/// Helpers for text held as UTF-8 bytes (the pipeline's working representation: it keeps exact
/// code points, where Swift `String` comparison would fold canonically equivalent text).
/// All inputs are valid UTF-8 (they come from a Swift `String` or from the validating JSON parser).
enum UTF8Text {
    /// Number of bytes of the UTF-8 sequence whose lead byte is `b`.
    @inline(__always)
    static func sequenceLength(lead b: UInt8) -> Int {
        if b < 0x80 { return 1 }
        if b < 0xE0 { return 2 }
        if b < 0xF0 { return 3 }
        return 4
    }

    /// Decodes the scalar starting at `i` (which must be a lead byte) and its byte length.
    @inline(__always)
    static func decode(_ bytes: [UInt8], at i: Int) -> (scalar: UInt32, length: Int) {
        let b0 = UInt32(bytes[i])
        if b0 < 0x80 { return (b0, 1) }
        let n = sequenceLength(lead: bytes[i])
        guard i + n <= bytes.count else { return (0xFFFD, 1) }
        switch n {
        case 2: return ((b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F), 2)
        case 3: return ((b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F), 3)
        default:
            return ((b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                | UInt32(bytes[i + 3] & 0x3F), 4)
        }
    }

    /// The code points of `bytes`, in order.
    static func scalars(_ bytes: [UInt8]) -> [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let (s, n) = decode(bytes, at: i)
            out.append(s)
            i += n
        }
        return out
    }

    /// Appends the UTF-8 encoding of code point `v`.
    @inline(__always)
    static func append(_ v: UInt32, to out: inout [UInt8]) {
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

    /// UTF-8 bytes of a list of code points.
    static func encode(_ scalars: [UInt32]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(scalars.count)
        for s in scalars { append(s, to: &out) }
        return out
    }

    /// Unicode `White_Space` (what Rust's `char::is_whitespace` and regex `\s` test).
    static func isWhitespace(_ v: UInt32) -> Bool {
        switch v {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Rust regex `\w`: Alphabetic, Mark, Decimal_Number, Connector_Punctuation or Join_Control.
    static func isWordCharacter(_ v: UInt32) -> Bool {
        if v < 0x80 {
            let b = UInt8(v)
            return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
        }
        guard let s = Unicode.Scalar(v) else { return false }
        let p = s.properties
        if p.isAlphabetic || p.isJoinControl { return true }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// Byte offsets of every non-overlapping occurrence of `pattern`, scanning left to right.
    static func occurrences(of pattern: [UInt8], in text: [UInt8]) -> [Int] {
        guard !pattern.isEmpty, pattern.count <= text.count else { return [] }
        var out: [Int] = []
        let first = pattern[0]
        var i = 0
        let last = text.count - pattern.count
        outer: while i <= last {
            if text[i] == first {
                var j = 1
                while j < pattern.count {
                    if text[i + j] != pattern[j] { i += 1; continue outer }
                    j += 1
                }
                out.append(i)
                i += pattern.count
            } else {
                i += 1
            }
        }
        return out
    }

    /// `text` with every non-overlapping occurrence of `pattern` replaced by `content`.
    static func replacingAll(_ pattern: [UInt8], with content: [UInt8], in text: [UInt8]) -> [UInt8] {
        let hits = occurrences(of: pattern, in: text)
        if hits.isEmpty { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.count + hits.count * max(0, content.count - pattern.count))
        var prev = 0
        for h in hits {
            out.append(contentsOf: text[prev..<h])
            out.append(contentsOf: content)
            prev = h + pattern.count
        }
        out.append(contentsOf: text[prev...])
        return out
    }

    /// Whether `text` starts with `prefix`.
    static func hasPrefix(_ text: [UInt8], _ prefix: [UInt8]) -> Bool {
        guard prefix.count <= text.count else { return false }
        for i in 0..<prefix.count where text[i] != prefix[i] { return false }
        return true
    }
}
