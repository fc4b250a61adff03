import Foundation

/// A token added on top of the model vocabulary (`added_tokens` in `tokenizer.json`).
struct AddedToken: Hashable, Sendable {
    /// UTF-8 bytes of the token text.
    var content: [UInt8]
    /// Only match when not preceded or followed by a word character.
    var singleWord: Bool
    /// Also swallow the white space on the left.
    var lstrip: Bool
    /// Also swallow the white space on the right.
    var rstrip: Bool
    /// Match against the normalised text (true) or the raw input (false).
    var normalized: Bool
    /// Special tokens are skipped by `decode(skipSpecialTokens: true)`.
    var special: Bool
}

/// The added tokens and the logic that cuts them out of the input before the model runs,
/// following the Rust library's `AddedVocabulary`: ids are assigned the way the Rust library
/// assigns them (existing vocabulary id, else after the model vocabulary), non-normalised tokens
/// are split out of the raw text first (leftmost-longest), then each remaining piece is normalised
/// and normalised tokens are split out of it.
struct AddedVocabulary: Sendable {
    /// content -> id
    private(set) var idsByContent: [[UInt8]: Int] = [:]
    /// id -> token (the most recent definition)
    private(set) var tokensById: [Int: AddedToken] = [:]
    /// id -> token string reported for the id (`id_to_token`, used by decode): the content, or for
    /// `normalized` tokens the normalised content, as the Rust library reports it
    private(set) var stringsById: [Int: [UInt8]] = [:]
    /// non-special tokens, in the order they were added
    private var classicTokens: [AddedToken] = []
    /// special tokens, in the order they were added
    private var specialTokens: [AddedToken] = []
    /// contents of special tokens
    private(set) var specialContents: Set<[UInt8]> = []
    /// patterns matched on raw text (token.normalized == false)
    private var rawMatcher = LeftmostLongestMatcher(patterns: [])
    /// patterns matched on normalised text (token.normalized == true; pattern is the normalised content)
    private var normalizedMatcher = LeftmostLongestMatcher(patterns: [])

    /// The current token definitions (values of `tokensById`), for duplicate detection.
    private var definedTokens: Set<AddedToken> = []
    /// Largest id in `idsByContent`, or -1.
    private(set) var maxId = -1

    /// Adds tokens exactly as `AddedVocabulary::add_tokens` does, then rebuilds the matchers.
    mutating func add(_ tokens: [AddedToken], model: TokenizationModel, normalizer: Normalizer?) {
        insert(tokens, model: model)
        rebuild(model: model, normalizer: normalizer)
    }

    /// The id-assignment part of `AddedVocabulary::add_tokens` (matchers are not rebuilt).
    mutating func insert(_ tokens: [AddedToken], model: TokenizationModel) {
        for t in tokens where t.special && !t.content.isEmpty && !specialContents.contains(t.content) {
            specialTokens.append(t)
            specialContents.insert(t.content)
        }
        for t in tokens {
            if t.content.isEmpty || definedTokens.contains(t) { continue }
            let id: Int
            if let existing = idsByContent[t.content] ?? model.tokenId(for: t.content) {
                id = existing
            } else if maxId >= 0 {
                id = (maxId >= model.vocabularyCount || model.vocabularyCount == 0) ? maxId + 1 : model.vocabularyCount
            } else {
                id = model.vocabularyCount
            }
            idsByContent[t.content] = id
            maxId = max(maxId, id)
            if let old = tokensById[id] { definedTokens.remove(old) }
            tokensById[id] = t
            definedTokens.insert(t)
            if !specialContents.contains(t.content) { classicTokens.append(t) }
        }
    }

    /// Rebuilds the reported token strings and both matchers (`refresh_added_tokens`).
    mutating func rebuild(model: TokenizationModel, normalizer: Normalizer?) {
        stringsById = [:]
        for (id, t) in tokensById {
            stringsById[id] = t.normalized ? (normalizer?.normalize(t.content) ?? t.content) : t.content
        }
        var raw: [(pattern: [UInt8], id: Int)] = []
        var norm: [(pattern: [UInt8], id: Int)] = []
        for t in specialTokens + classicTokens {
            guard let id = idsByContent[t.content] ?? model.tokenId(for: t.content) else { continue }
            if t.normalized {
                let p = normalizer?.normalize(t.content) ?? t.content
                norm.append((p, id))
            } else {
                raw.append((t.content, id))
            }
        }
        rawMatcher = LeftmostLongestMatcher(patterns: raw)
        normalizedMatcher = LeftmostLongestMatcher(patterns: norm)
    }

    /// Splits `text` into segments covering it: added-token matches (with id) and the text between.
    /// `normalizedText` selects which set of tokens is matched.
    func split(_ text: [UInt8], normalizedText: Bool) -> [(range: Range<Int>, id: Int?)] {
        let matcher = normalizedText ? normalizedMatcher : rawMatcher
        if text.isEmpty || matcher.isEmpty { return [(0..<text.count, nil)] }
        var out: [(range: Range<Int>, id: Int?)] = []
        var startOffset = 0
        for m in matcher.matches(in: text) {
            var start = m.range.lowerBound
            var stop = m.range.upperBound
            guard let token = tokensById[m.id] else { continue }
            if token.singleWord {
                let startSpace = start == 0 || !endsWithWordCharacter(text, before: start)
                let stopSpace = stop == text.count || !startsWithWordCharacter(text, at: stop)
                if !startSpace || !stopSpace { continue }
            }
            if token.lstrip {
                start = max(leftmostSpaceAtEnd(text, before: start), startOffset)
            }
            if token.rstrip {
                stop = rightmostSpaceAtStart(text, from: stop)
            }
            if startOffset < start { out.append((startOffset..<start, nil)) }
            out.append((start..<stop, m.id))
            startOffset = stop
        }
        if startOffset != text.count { out.append((startOffset..<text.count, nil)) }
        return out
    }

    private func endsWithWordCharacter(_ text: [UInt8], before end: Int) -> Bool {
        var i = end - 1
        while i > 0 && text[i] & 0xC0 == 0x80 { i -= 1 }
        guard i >= 0 else { return false }
        return UTF8Text.isWordCharacter(UTF8Text.decode(text, at: i).scalar)
    }

    private func startsWithWordCharacter(_ text: [UInt8], at start: Int) -> Bool {
        guard start < text.count else { return false }
        return UTF8Text.isWordCharacter(UTF8Text.decode(text, at: start).scalar)
    }

    /// Start of the run of white space that ends at `end`.
    private func leftmostSpaceAtEnd(_ text: [UInt8], before end: Int) -> Int {
        var pos = end
        while pos > 0 {
            var i = pos - 1
            while i > 0 && text[i] & 0xC0 == 0x80 { i -= 1 }
            if UTF8Text.isWhitespace(UTF8Text.decode(text, at: i).scalar) { pos = i } else { break }
        }
        return pos
    }

    /// End of the run of white space that starts at `start`.
    private func rightmostSpaceAtStart(_ text: [UInt8], from start: Int) -> Int {
        var pos = start
        while pos < text.count {
            let (s, n) = UTF8Text.decode(text, at: pos)
            if UTF8Text.isWhitespace(s) { pos += n } else { break }
        }
        return pos
    }
}

/// Non-overlapping leftmost-longest matching of a small set of byte patterns (what the Rust
/// library gets from an Aho-Corasick automaton built with `MatchKind::LeftmostLongest`).
struct LeftmostLongestMatcher: Sendable {
    /// [256] for each first byte, the patterns starting with it, longest first
    private var byFirstByte: [[(pattern: [UInt8], id: Int)]]
    let isEmpty: Bool

    init(patterns: [(pattern: [UInt8], id: Int)]) {
        var table = [[(pattern: [UInt8], id: Int)]](repeating: [], count: 256)
        var any = false
        for (i, p) in patterns.enumerated() where !p.pattern.isEmpty {
            _ = i
            table[Int(p.pattern[0])].append(p)
            any = true
        }
        for b in 0..<256 where table[b].count > 1 {
            // Longest first; equal lengths keep insertion order (first pattern wins).
            table[b] = table[b].enumerated().sorted {
                $0.element.pattern.count != $1.element.pattern.count
                    ? $0.element.pattern.count > $1.element.pattern.count : $0.offset < $1.offset
            }.map { $0.element }
        }
        byFirstByte = table
        isEmpty = !any
    }

    /// All matches, scanning left to right and resuming after each match.
    func matches(in text: [UInt8]) -> [(range: Range<Int>, id: Int)] {
        var out: [(range: Range<Int>, id: Int)] = []
        var i = 0
        let n = text.count
        outer: while i < n {
            let candidates = byFirstByte[Int(text[i])]
            if !candidates.isEmpty {
                for c in candidates where c.pattern.count <= n - i {
                    var ok = true
                    var j = 1
                    while j < c.pattern.count {
                        if text[i + j] != c.pattern[j] { ok = false; break }
                        j += 1
                    }
                    if ok {
                        out.append((i..<(i + c.pattern.count), c.id))
                        i += c.pattern.count
                        continue outer
                    }
                }
            }
            i += 1
        }
        return out
    }
}
