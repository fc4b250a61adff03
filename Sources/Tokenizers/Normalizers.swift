import Foundation
import JSONCore

/// First pipeline stage: rewrites one piece of input text (the text between two added tokens).
/// Text is UTF-8 bytes. Mirrors the `normalizers` of the Rust `tokenizers` library.
protocol Normalizer: Sendable {
    /// The normalised form of `text`.
    func normalize(_ text: [UInt8]) -> [UInt8]
}

/// `Sequence`: applies each normaliser in order.
struct SequenceNormalizer: Normalizer {
    let normalizers: [Normalizer]
    func normalize(_ text: [UInt8]) -> [UInt8] {
        var t = text
        for n in normalizers { t = n.normalize(t) }
        return t
    }
}

/// `Prepend`: puts `prepend` in front of the text, but only when the text is non-empty
/// (as the Rust library does; empty pieces stay empty and are later dropped).
struct PrependNormalizer: Normalizer {
    let prepend: [UInt8]
    func normalize(_ text: [UInt8]) -> [UInt8] {
        text.isEmpty ? text : prepend + text
    }
}

/// `Replace` with a literal `String` pattern: replaces every non-overlapping occurrence, left to right.
/// An empty pattern matches nothing.
struct ReplaceNormalizer: Normalizer {
    let pattern: [UInt8]
    let content: [UInt8]
    func normalize(_ text: [UInt8]) -> [UInt8] {
        UTF8Text.replacingAll(pattern, with: content, in: text)
    }
}

/// `NFC`, `NFD`, `NFKC`, `NFKD` Unicode normalisation forms.
struct UnicodeNormalizer: Normalizer {
    enum Form: Sendable { case nfc, nfd, nfkc, nfkd }
    let form: Form
    func normalize(_ text: [UInt8]) -> [UInt8] {
        // ASCII is invariant under every normalisation form.
        if !text.contains(where: { $0 >= 0x80 }) { return text }
        let s = String(decoding: text, as: UTF8.self)
        let r: String
        switch form {
        case .nfc: r = s.precomposedStringWithCanonicalMapping
        case .nfd: r = s.decomposedStringWithCanonicalMapping
        case .nfkc: r = s.precomposedStringWithCompatibilityMapping
        case .nfkd: r = s.decomposedStringWithCompatibilityMapping
        }
        return Array(r.utf8)
    }
}

/// `Lowercase`: per-code-point full lowercase mapping (no context rules, like Rust's `char::to_lowercase`).
struct LowercaseNormalizer: Normalizer {
    func normalize(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            let b = text[i]
            if b < 0x80 {
                out.append(b >= 0x41 && b <= 0x5A ? b + 0x20 : b)
                i += 1
                continue
            }
            let (v, n) = UTF8Text.decode(text, at: i)
            if let s = Unicode.Scalar(v) {
                out.append(contentsOf: Array(s.properties.lowercaseMapping.utf8))
            } else {
                out.append(contentsOf: text[i..<(i + n)])
            }
            i += n
        }
        return out
    }
}

/// `Strip`: removes leading and/or trailing Unicode white space.
struct StripNormalizer: Normalizer {
    let left: Bool
    let right: Bool
    func normalize(_ text: [UInt8]) -> [UInt8] {
        let scalars = UTF8Text.scalars(text)
        var lo = 0
        var hi = scalars.count
        if left { while lo < hi && UTF8Text.isWhitespace(scalars[lo]) { lo += 1 } }
        if right { while hi > lo && UTF8Text.isWhitespace(scalars[hi - 1]) { hi -= 1 } }
        if lo == 0 && hi == scalars.count { return text }
        return UTF8Text.encode(Array(scalars[lo..<hi]))
    }
}

extension JSONCursor {
    /// Builds the normaliser described by this JSON object (`tokenizer.json` `normalizer` field).
    func makeNormalizer() throws -> Normalizer {
        let type = try typeTag()
        switch type {
        case "Sequence":
            return SequenceNormalizer(normalizers: try field("normalizers").array().map { try $0.makeNormalizer() })
        case "Prepend":
            return PrependNormalizer(prepend: try field("prepend").bytes())
        case "Replace":
            let (pattern, content) = try literalReplacePattern()
            return ReplaceNormalizer(pattern: pattern, content: content)
        case "NFC": return UnicodeNormalizer(form: .nfc)
        case "NFD": return UnicodeNormalizer(form: .nfd)
        case "NFKC": return UnicodeNormalizer(form: .nfkc)
        case "NFKD": return UnicodeNormalizer(form: .nfkd)
        case "Lowercase": return LowercaseNormalizer()
        case "Strip":
            return StripNormalizer(left: try field("strip_left").bool(), right: try field("strip_right").bool())
        default:
            throw TokenizerError.unsupportedType(self, type)
        }
    }

    /// The `pattern` (`{"String": ...}` only) and `content` of a `Replace` normaliser or decoder.
    func literalReplacePattern() throws -> (pattern: [UInt8], content: [UInt8]) {
        let p = try field("pattern")
        if let s = try p.optionalField("String") {
            return (try s.bytes(), try field("content").bytes())
        }
        if p.has("Regex") {
            throw TokenizerError.unsupported(file: file, field: "\(p.path).Regex", value: "regular-expression Replace pattern")
        }
        throw p.invalid("expected an object with a `String` member")
    }
}
