import Foundation
import JSONCore

/// Fourth pipeline stage: adds special tokens around the model output of one sequence.
/// Mirrors a `post_processor` of the Rust `tokenizers` library (single-sequence case).
protocol PostProcessor: Sendable {
    /// Final ids for one encoded sequence.
    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int]
}

/// `TemplateProcessing` (single-sequence template): special-token ids and the sequence `$A`
/// in template order. With `addSpecialTokens == false` only the sequence is kept.
struct TemplatePostProcessor: PostProcessor {
    enum Piece: Sendable {
        case special([Int])
        case sequence
    }
    let single: [Piece]

    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        guard addSpecialTokens else { return ids }
        var out: [Int] = []
        for p in single {
            switch p {
            case .special(let s): out.append(contentsOf: s)
            case .sequence: out.append(contentsOf: ids)
            }
        }
        return out
    }

    /// Ids of the special tokens before and after `$A` (used to infer BOS/EOS).
    var leadingSpecialIds: [Int] {
        var out: [Int] = []
        for p in single { if case .special(let s) = p { out += s } else { break } }
        return out
    }

    var trailingSpecialIds: [Int] {
        var out: [Int] = []
        for p in single.reversed() { if case .special(let s) = p { out = s + out } else { break } }
        return out
    }
}

/// Post-processors that leave the ids unchanged (`ByteLevel` only trims offsets, which this
/// reader does not produce).
struct IdentityPostProcessor: PostProcessor {
    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] { ids }
}

/// `Sequence` of post-processors, applied in order.
struct SequencePostProcessor: PostProcessor {
    let processors: [PostProcessor]
    func process(_ ids: [Int], addSpecialTokens: Bool) -> [Int] {
        var r = ids
        for p in processors { r = p.process(r, addSpecialTokens: addSpecialTokens) }
        return r
    }
}

extension JSONCursor {
    /// Builds the post-processor described by this JSON object (`tokenizer.json` `post_processor`).
    func makePostProcessor() throws -> PostProcessor {
        let type = try typeTag()
        switch type {
        case "TemplateProcessing":
            // special_tokens: { name: { id, ids, tokens } }
            var specials: [[UInt8]: [Int]] = [:]
            if let st = try optionalField("special_tokens") {
                for m in try st.members() {
                    let entry = JSONCursor(m.value, path: "\(st.path).\(String(decoding: m.key, as: UTF8.self))", file: file)
                    specials[m.key] = try entry.field("ids").array().map { try $0.tokenIndex() }
                }
            }
            var pieces: [TemplatePostProcessor.Piece] = []
            for item in try field("single").array() {
                if let s = try item.optionalField("SpecialToken") {
                    let name = try s.field("id").bytes()
                    guard let ids = specials[name] else {
                        throw TokenizerError.unknownToken(file: file, field: "\(s.path).id", token: String(decoding: name, as: UTF8.self))
                    }
                    pieces.append(.special(ids))
                } else if let q = try item.optionalField("Sequence") {
                    let which = try q.field("id").string()
                    guard which == "A" else {
                        throw TokenizerError.invalidField(file: file, field: "\(q.path).id", reason: "the single-sequence template can only use sequence A, found \(which)")
                    }
                    pieces.append(.sequence)
                } else {
                    throw item.invalid("expected an object with `SpecialToken` or `Sequence`")
                }
            }
            return TemplatePostProcessor(single: pieces)
        case "ByteLevel":
            return IdentityPostProcessor()
        case "Sequence":
            return SequencePostProcessor(processors: try field("processors").array().map { try $0.makePostProcessor() })
        default:
            throw TokenizerError.unsupportedType(self, type)
        }
    }
}
