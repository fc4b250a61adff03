import Foundation
import JSONCore

/// GPT-2's reversible byte <-> printable character table used by byte-level BPE: bytes that are
/// printable Latin-1 (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) map to themselves, the other 68 bytes map in
/// order to U+0100, U+0101, ...
enum ByteLevelTable {
    /// [256] code point for each byte
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) {
                table[b] = UInt32(b)
            } else {
                table[b] = next
                next += 1
            }
        }
        return table
    }()

    /// [256] UTF-8 bytes of `byteToScalar[b]`
    static let byteToUTF8: [[UInt8]] = byteToScalar.map { UTF8Text.encode([$0]) }

    /// code point -> byte
    static let scalarToByte: [UInt32: UInt8] = {
        var m: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { m[s] = UInt8(b) }
        return m
    }()

    /// `text` with every byte replaced by its printable character.
    static func encode(_ text: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 2)
        for b in text { out.append(contentsOf: byteToUTF8[Int(b)]) }
        return out
    }
}

/// The split pattern GPT-2 uses (ByteLevel pre-tokenizer with `use_regex: true`).
let gpt2SplitPattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

/// Splits `piece` at the matches of `regex` with the given behaviour (`invert` swaps which
/// segments count as matches), as `NormalizedString::split` with a regex pattern does.
func regexSplit(_ piece: TextPiece, regex: SplitRegex, behavior: SplitDelimiterBehavior, invert: Bool) -> [TextPiece] {
    // Code points and the byte offset where each starts (plus the end).
    var scalars: [UInt32] = []
    var offsets: [Int] = []
    scalars.reserveCapacity(piece.bytes.count)
    offsets.reserveCapacity(piece.bytes.count + 1)
    var i = 0
    while i < piece.bytes.count {
        let (s, n) = UTF8Text.decode(piece.bytes, at: i)
        scalars.append(s)
        offsets.append(i)
        i += n
    }
    offsets.append(piece.bytes.count)
    var segments: [(range: Range<Int>, isMatch: Bool)] = []
    var prev = 0
    for m in regex.matches(in: scalars) {
        let lo = offsets[m.lowerBound]
        let hi = offsets[m.upperBound]
        if prev != lo { segments.append((prev..<lo, invert)) }
        segments.append((lo..<hi, !invert))
        prev = hi
    }
    if prev != piece.bytes.count { segments.append((prev..<piece.bytes.count, invert)) }
    return splitPiece(piece, segments: segments, behavior: behavior)
}

/// `ByteLevel` pre-tokenizer: optionally prepends a space, optionally splits with the GPT-2
/// pattern, then maps every byte to its printable character (so the model sees byte-level text).
struct ByteLevelPreTokenizer: PreTokenizer {
    let addPrefixSpace: Bool
    let regex: SplitRegex?

    init(json: JSONCursor) throws {
        addPrefixSpace = try json.optionalField("add_prefix_space")?.bool() ?? true
        let useRegex = try json.optionalField("use_regex")?.bool() ?? true
        regex = useRegex ? try SplitRegex(gpt2SplitPattern) : nil
    }

    func preTokenize(_ piece: TextPiece) -> [TextPiece] {
        var p = piece
        if addPrefixSpace && p.bytes.first != 0x20 { p.bytes = [0x20] + p.bytes }
        let pieces = regex.map { regexSplit(p, regex: $0, behavior: .isolated, invert: false) } ?? [p]
        return pieces.map { TextPiece(bytes: ByteLevelTable.encode($0.bytes), atInputStart: $0.atInputStart) }
    }
}

/// `Split` pre-tokenizer with a `String` (literal) or `Regex` pattern.
struct SplitPreTokenizer: PreTokenizer {
    let regex: SplitRegex?
    let literal: [UInt8]
    let behavior: SplitDelimiterBehavior
    let invert: Bool

    init(json: JSONCursor) throws {
        let p = try json.field("pattern")
        if let s = try p.optionalField("String") {
            literal = try s.bytes()
            regex = nil
        } else if let r = try p.optionalField("Regex") {
            do {
                regex = try SplitRegex(try r.string())
            } catch let e as SplitRegex.CompileError {
                throw TokenizerError.unsupported(file: json.file, field: r.path, value: "regular expression (\(e.message))")
            }
            literal = []
        } else {
            throw p.invalid("expected an object with a `String` or `Regex` member")
        }
        let b = try json.field("behavior")
        guard let behavior = SplitDelimiterBehavior(rawValue: try b.string()) else {
            throw TokenizerError.unsupported(file: json.file, field: b.path, value: try b.string().debugDescription)
        }
        self.behavior = behavior
        invert = try json.optionalField("invert")?.bool() ?? false
    }

    func preTokenize(_ piece: TextPiece) -> [TextPiece] {
        if let regex { return regexSplit(piece, regex: regex, behavior: behavior, invert: invert) }
        if literal.isEmpty { return [piece] }
        let segs = charSegments(piece.bytes, delimiter: literal).map { ($0.range, $0.isMatch != invert) }
        return splitPiece(piece, segments: segs, behavior: behavior)
    }
}

/// `ByteLevel` decoder: maps the printable characters back to bytes (tokens containing other
/// characters, such as added tokens, keep their own UTF-8) and decodes the whole byte string as
/// UTF-8, replacing invalid sequences with U+FFFD.
struct ByteLevelDecoder: TokenDecoder {
    func decodeChain(_ tokens: [[UInt8]]) -> [[UInt8]] {
        var bytes: [UInt8] = []
        for t in tokens {
            var mapped: [UInt8] = []
            mapped.reserveCapacity(t.count)
            var ok = true
            var i = 0
            while i < t.count {
                let (s, n) = UTF8Text.decode(t, at: i)
                guard let b = ByteLevelTable.scalarToByte[s] else { ok = false; break }
                mapped.append(b)
                i += n
            }
            bytes.append(contentsOf: ok ? mapped : t)
        }
        // Lossy UTF-8 decoding, then back to (now valid) UTF-8 bytes.
        return [Array(String(decoding: bytes, as: UTF8.self).utf8)]
    }
}
