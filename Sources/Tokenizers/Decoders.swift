import Foundation
import JSONCore

/// The decoding chain: turns token strings back into text. Mirrors a `decoder` of the Rust
/// `tokenizers` library (`decode_chain`); the final text is the concatenation of the output.
/// Tokens are UTF-8 bytes.
protocol TokenDecoder: Sendable {
    /// Transformed list of token strings.
    func decodeChain(_ tokens: [[UInt8]]) -> [[UInt8]]
}

/// `Sequence`: applies each decoder's chain in order.
struct SequenceDecoder: TokenDecoder {
    let decoders: [TokenDecoder]
    func decodeChain(_ tokens: [[UInt8]]) -> [[UInt8]] {
        var t = tokens
        for d in decoders { t = d.decodeChain(t) }
        return t
    }
}

/// `Replace` with a literal pattern, applied to every token.
struct ReplaceDecoder: TokenDecoder {
    let pattern: [UInt8]
    let content: [UInt8]
    func decodeChain(_ tokens: [[UInt8]]) -> [[UInt8]] {
        tokens.map { UTF8Text.replacingAll(pattern, with: content, in: $0) }
    }
}

/// UTF-8 bytes of U+FFFD REPLACEMENT CHARACTER.
let replacementCharacterBytes: [UInt8] = [0xEF, 0xBF, 0xBD]

/// `ByteFallback`: runs of `<0xXX>` tokens become the bytes they name; a run that is valid UTF-8
/// becomes one token, otherwise every byte token of the run becomes U+FFFD.
struct ByteFallbackDecoder: TokenDecoder {
    /// The byte named by a `<0xXX>` token (parsed like Rust `u8::from_str_radix(_, 16)`).
    static func byteValue(_ t: [UInt8]) -> UInt8? {
        guard t.count == 6, t[0] == 0x3C, t[1] == 0x30, t[2] == 0x78, t[5] == 0x3E else { return nil }
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 0x30...0x39: return b - 0x30
            case 0x41...0x46: return b - 0x41 + 10
            case 0x61...0x66: return b - 0x61 + 10
            default: return nil
            }
        }
        if t[3] == 0x2B { return hex(t[4]) }  // from_str_radix accepts a leading '+'
        guard let hi = hex(t[3]), let lo = hex(t[4]) else { return nil }
        return hi << 4 | lo
    }

    func decodeChain(_ tokens: [[UInt8]]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(tokens.count)
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if utf8IsValid(pending) {
                out.append(pending)
            } else {
                for _ in pending { out.append(replacementCharacterBytes) }
            }
            pending.removeAll()
        }
        for t in tokens {
            if let b = ByteFallbackDecoder.byteValue(t) {
                pending.append(b)
            } else {
                flush()
                out.append(t)
            }
        }
        flush()
        return out
    }
}

/// Whether `bytes` is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
func utf8IsValid(_ bytes: [UInt8]) -> Bool {
    var i = 0
    let n = bytes.count
    while i < n {
        let b0 = bytes[i]
        if b0 < 0x80 { i += 1; continue }
        func cont(_ k: Int) -> UInt8? { k < n && bytes[k] & 0xC0 == 0x80 ? bytes[k] : nil }
        switch b0 {
        case 0xC2...0xDF:
            guard cont(i + 1) != nil else { return false }
            i += 2
        case 0xE0...0xEF:
            guard let b1 = cont(i + 1), cont(i + 2) != nil else { return false }
            if b0 == 0xE0 && b1 < 0xA0 { return false }
            if b0 == 0xED && b1 >= 0xA0 { return false }
            i += 3
        case 0xF0...0xF4:
            guard let b1 = cont(i + 1), cont(i + 2) != nil, cont(i + 3) != nil else { return false }
            if b0 == 0xF0 && b1 < 0x90 { return false }
            if b0 == 0xF4 && b1 >= 0x90 { return false }
            i += 4
        default:
            return false
        }
    }
    return true
}

/// `Fuse`: concatenates all tokens into one.
struct FuseDecoder: TokenDecoder {
    func decodeChain(_ tokens: [[UInt8]]) -> [[UInt8]] { [Array(tokens.joined())] }
}

/// `Strip`: removes up to `start` leading and `stop` trailing occurrences of `content` from each token.
struct StripDecoder: TokenDecoder {
    let content: UInt32
    let start: Int
    let stop: Int
    func decodeChain(_ tokens: [[UInt8]]) -> [[UInt8]] {
        tokens.map { t in
            let chars = UTF8Text.scalars(t)
            var startCut = 0
            for i in 0..<min(start, chars.count) {
                if chars[i] == content { startCut = i + 1 } else { break }
            }
            var stopCut = chars.count
            for i in 0..<min(stop, chars.count - startCut) {
                let index = chars.count - i - 1
                if chars[index] == content { stopCut = index } else { break }
            }
            if startCut == 0 && stopCut == chars.count { return t }
            return UTF8Text.encode(Array(chars[startCut..<stopCut]))
        }
    }
}

/// `Metaspace` decoder: the replacement character becomes a space, except that in the first token
/// every replacement character is dropped (unless `prepend_scheme` is `never`), as in the Rust library.
struct MetaspaceDecoder: TokenDecoder {
    let replacement: [UInt8]
    let dropInFirstToken: Bool
    func decodeChain(_ tokens: [[UInt8]]) -> [[UInt8]] {
        tokens.enumerated().map { i, t in
            UTF8Text.replacingAll(replacement, with: (i == 0 && dropInFirstToken) ? [] : [0x20], in: t)
        }
    }
}

extension JSONCursor {
    /// Builds the decoder described by this JSON object (`tokenizer.json` `decoder` field).
    func makeDecoder() throws -> TokenDecoder {
        let type = try typeTag()
        switch type {
        case "Sequence":
            return SequenceDecoder(decoders: try field("decoders").array().map { try $0.makeDecoder() })
        case "Replace":
            let (pattern, content) = try literalReplacePattern()
            return ReplaceDecoder(pattern: pattern, content: content)
        case "ByteFallback":
            return ByteFallbackDecoder()
        case "Fuse":
            return FuseDecoder()
        case "Strip":
            let c = try field("content")
            let scalars = UTF8Text.scalars(try c.bytes())
            guard scalars.count == 1 else { throw c.invalid("expected exactly one character") }
            return StripDecoder(content: scalars[0], start: try field("start").tokenIndex(), stop: try field("stop").tokenIndex())
        case "Metaspace":
            let r = try field("replacement")
            let replacement = try r.bytes()
            guard UTF8Text.scalars(replacement).count == 1 else { throw r.invalid("expected exactly one character") }
            var drop = true
            if let s = try optionalField("prepend_scheme") {
                let v = try s.string()
                guard MetaspacePreTokenizer.PrependScheme(rawValue: v) != nil else {
                    throw TokenizerError.unsupported(file: file, field: s.path, value: v.debugDescription)
                }
                drop = v != "never"
            } else if let a = try optionalField("add_prefix_space") {
                drop = try a.bool()
            }
            return MetaspaceDecoder(replacement: replacement, dropInFirstToken: drop)
        case "ByteLevel":
            return ByteLevelDecoder()
        default:
            throw TokenizerError.unsupportedType(self, type)
        }
    }
}
