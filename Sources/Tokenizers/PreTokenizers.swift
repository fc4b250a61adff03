import Foundation
import JSONCore

/// One piece of text moving through the pipeline.
struct TextPiece: Sendable {
    /// UTF-8 bytes of the (normalised) text.
    var bytes: [UInt8]
    /// Whether this piece begins at byte 0 of the original input (Metaspace `prepend_scheme: first`).
    var atInputStart: Bool
}

/// Second pipeline stage: splits a normalised piece into the words the model tokenises separately.
/// Mirrors a `pre_tokenizer` of the Rust `tokenizers` library. Empty results are dropped by the caller.
protocol PreTokenizer: Sendable {
    /// The sub-pieces of `piece`, in order.
    func preTokenize(_ piece: TextPiece) -> [TextPiece]
}

/// `Sequence`: applies each pre-tokenizer to every piece produced by the previous one.
struct SequencePreTokenizer: PreTokenizer {
    let preTokenizers: [PreTokenizer]
    func preTokenize(_ piece: TextPiece) -> [TextPiece] {
        var pieces = [piece]
        for p in preTokenizers {
            pieces = pieces.flatMap { p.preTokenize($0) }.filter { !$0.bytes.isEmpty }
        }
        return pieces
    }
}

/// How a split keeps the matched delimiters (Rust `SplitDelimiterBehavior`).
enum SplitDelimiterBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}

/// Splits `piece` given the matches of a delimiter: `segments` cover the piece in order as
/// (byte range, is-a-match). Mirrors `NormalizedString::split`.
func splitPiece(_ piece: TextPiece, segments: [(range: Range<Int>, isMatch: Bool)],
                behavior: SplitDelimiterBehavior) -> [TextPiece] {
    var ranges: [Range<Int>] = []
    switch behavior {
    case .isolated:
        ranges = segments.map { $0.range }
    case .removed:
        ranges = segments.filter { !$0.isMatch }.map { $0.range }
    case .mergedWithPrevious:
        var previousMatch = false
        for s in segments {
            if s.isMatch && !previousMatch, let last = ranges.last {
                ranges[ranges.count - 1] = last.lowerBound..<s.range.upperBound
            } else {
                ranges.append(s.range)
            }
            previousMatch = s.isMatch
        }
    case .mergedWithNext:
        var previousMatch = false
        var rev: [Range<Int>] = []
        for s in segments.reversed() {
            if s.isMatch && !previousMatch, let last = rev.last {
                rev[rev.count - 1] = s.range.lowerBound..<last.upperBound
            } else {
                rev.append(s.range)
            }
            previousMatch = s.isMatch
        }
        ranges = rev.reversed()
    case .contiguous:
        var previousMatch = false
        for s in segments {
            if s.isMatch == previousMatch, let last = ranges.last {
                ranges[ranges.count - 1] = last.lowerBound..<s.range.upperBound
            } else {
                ranges.append(s.range)
            }
            previousMatch = s.isMatch
        }
    }
    return ranges.filter { !$0.isEmpty }.map {
        TextPiece(bytes: Array(piece.bytes[$0]), atInputStart: piece.atInputStart && $0.lowerBound == 0)
    }
}

/// Segments of `bytes` for a single-character delimiter: each occurrence is its own match.
func charSegments(_ bytes: [UInt8], delimiter: [UInt8]) -> [(range: Range<Int>, isMatch: Bool)] {
    var segs: [(range: Range<Int>, isMatch: Bool)] = []
    var prev = 0
    for h in UTF8Text.occurrences(of: delimiter, in: bytes) {
        if h > prev { segs.append((prev..<h, false)) }
        segs.append((h..<(h + delimiter.count), true))
        prev = h + delimiter.count
    }
    if prev < bytes.count { segs.append((prev..<bytes.count, false)) }
    return segs
}

/// `Metaspace`: replaces spaces with the replacement character (normally "▁"), prepends it
/// according to `prepend_scheme` (`always`; `first` = only for the piece starting the input;
/// `never`) unless the piece already starts with it, then optionally splits before each replacement.
struct MetaspacePreTokenizer: PreTokenizer {
    enum PrependScheme: String, Sendable { case always, first, never }
    let replacement: [UInt8]
    let prependScheme: PrependScheme
    let split: Bool

    func preTokenize(_ piece: TextPiece) -> [TextPiece] {
        var t = UTF8Text.replacingAll([0x20], with: replacement, in: piece.bytes)
        let starts = UTF8Text.hasPrefix(t, replacement)
        switch prependScheme {
        case .always: if !starts { t = replacement + t }
        case .first: if !starts && piece.atInputStart { t = replacement + t }
        case .never: break
        }
        let p = TextPiece(bytes: t, atInputStart: piece.atInputStart)
        guard split else { return [p] }
        return splitPiece(p, segments: charSegments(t, delimiter: replacement), behavior: .mergedWithNext)
    }
}

extension JSONCursor {
    /// Builds the pre-tokenizer described by this JSON object (`tokenizer.json` `pre_tokenizer` field).
    func makePreTokenizer() throws -> PreTokenizer {
        let type = try typeTag()
        switch type {
        case "Sequence":
            return SequencePreTokenizer(preTokenizers: try field("pretokenizers").array().map { try $0.makePreTokenizer() })
        case "Metaspace":
            let replacement = try field("replacement").bytes()
            guard UTF8Text.scalars(replacement).count == 1 else {
                throw try field("replacement").invalid("expected exactly one character")
            }
            var scheme: MetaspacePreTokenizer.PrependScheme
            if let s = try optionalField("prepend_scheme") {
                guard let v = MetaspacePreTokenizer.PrependScheme(rawValue: try s.string()) else {
                    throw TokenizerError.unsupported(file: file, field: s.path, value: try s.string().debugDescription)
                }
                scheme = v
            } else {
                scheme = (try optionalField("add_prefix_space")?.bool() ?? true) ? .always : .never
            }
            let split = try optionalField("split")?.bool() ?? true
            return MetaspacePreTokenizer(replacement: replacement, prependScheme: scheme, split: split)
        case "ByteLevel":
            return try ByteLevelPreTokenizer(json: self)
        case "Split":
            return try SplitPreTokenizer(json: self)
        default:
            throw TokenizerError.unsupportedType(self, type)
        }
    }
}
