import Foundation
import JSONCore

/// A Hugging Face `tokenizer.json` tokenizer with the semantics of the Rust `tokenizers` library.
///
/// Pipeline for `encode`: added tokens are cut out of the raw text (those marked `normalized: false`),
/// every remaining piece is normalised on its own and normalised added tokens are cut out of it,
/// the pre-tokenizer splits the pieces into words, the model (BPE) turns each word into ids, and the
/// post-processor adds special tokens. `decode` maps ids to token strings (skipping special tokens
/// if asked) and runs the decoder chain.
///
/// Supported components: model `BPE` (byte fallback, unk fusing, merges as strings or pairs);
/// normalizers `Sequence`, `Prepend`, `Replace` (literal), `NFC`/`NFD`/`NFKC`/`NFKD`, `Lowercase`,
/// `Strip`; pre-tokenizers `Sequence`, `Metaspace`, `ByteLevel`, `Split`; post-processors
/// `TemplateProcessing`, `ByteLevel`, `Sequence`; decoders `Sequence`, `Replace`, `ByteFallback`,
/// `Fuse`, `Strip`, `Metaspace`, `ByteLevel`. Anything else is rejected at load time with
/// `TokenizerError.unsupported`. Immutable after `init`, so safe to share across threads.
public final class Tokenizer: @unchecked Sendable {
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let model: TokenizationModel
    let postProcessor: PostProcessor?
    let decoder: TokenDecoder?
    let addedVocabulary: AddedVocabulary

    /// Id of the beginning-of-sequence token (from `tokenizer_config.json` / `special_tokens_map.json`
    /// when loaded with `load(directory:)`, else the special token the post-processor puts first).
    public let bosTokenId: Int?
    /// Id of the end-of-sequence token (from the config files, else the special token the
    /// post-processor puts last, if any).
    public let eosTokenId: Int?
    /// Model vocabulary plus added tokens: largest id + 1.
    public let vocabularySize: Int

    /// Reads a `tokenizer.json` file.
    public convenience init(tokenizerFile url: URL) throws {
        let data = try Tokenizer.readFile(url)
        try self.init(data: data, sourceName: url.path)
    }

    /// Reads `tokenizer.json` content held in memory; `sourceName` is used in error messages.
    public convenience init(data: Data, sourceName: String) throws {
        let root = try parseJSON(data, file: sourceName)
        try self.init(json: JSONCursor(root, file: sourceName), config: nil)
    }

    /// Loads `tokenizer.json` from `directory`, plus `tokenizer_config.json` (BOS/EOS token names,
    /// `add_bos_token`, `add_eos_token`) and `special_tokens_map.json` (BOS/EOS names) when present.
    /// If the config sets `add_bos_token` or `add_eos_token`, the single-sequence post-processor
    /// becomes `[BOS if add_bos_token] $A [EOS if add_eos_token]`, as `transformers` does for
    /// LLaMA tokenizers; otherwise the post-processor of `tokenizer.json` is kept.
    public static func load(directory: URL) throws -> Tokenizer {
        let tokFile = directory.appendingPathComponent("tokenizer.json")
        let root = try parseJSON(try readFile(tokFile), file: tokFile.path)
        var config = TokenizerConfig()
        let mapFile = directory.appendingPathComponent("special_tokens_map.json")
        if FileManager.default.fileExists(atPath: mapFile.path) {
            let v = try parseJSON(try readFile(mapFile), file: mapFile.path)
            try config.read(JSONCursor(v, file: mapFile.path), allowAddFlags: false)
        }
        let cfgFile = directory.appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: cfgFile.path) {
            let v = try parseJSON(try readFile(cfgFile), file: cfgFile.path)
            try config.read(JSONCursor(v, file: cfgFile.path), allowAddFlags: true)
        }
        return try Tokenizer(json: JSONCursor(root, file: tokFile.path), config: config)
    }

    static func readFile(_ url: URL) throws -> Data {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw TokenizerError.fileNotFound(file: url.path)
        }
        if isDir.boolValue { throw TokenizerError.unreadableFile(file: url.path, reason: "is a directory") }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadableFile(file: url.path, reason: "\(error)")
        }
    }

    init(json root: JSONCursor, config: TokenizerConfig?) throws {
        guard case .object = root.value else { throw root.typeError("an object at the top level") }
        if let v = try root.optionalField("version") {
            let s = try v.string()
            guard s == "1.0" else { throw TokenizerError.unsupported(file: root.file, field: "version", value: s.debugDescription) }
        }
        for key in ["truncation", "padding"] {
            if try root.optionalField(key) != nil {
                throw TokenizerError.unsupported(file: root.file, field: key, value: "non-null (only null is supported)")
            }
        }

        let m = try root.field("model")
        let modelType = try m.typeTag()
        let model: TokenizationModel
        switch modelType {
        case "BPE": model = try BPEModel(json: m)
        default: throw TokenizerError.unsupportedType(m, modelType)
        }
        self.model = model
        let normalizer = try root.optionalField("normalizer")?.makeNormalizer()
        self.normalizer = normalizer
        preTokenizer = try root.optionalField("pre_tokenizer")?.makePreTokenizer()
        decoder = try root.optionalField("decoder")?.makeDecoder()
        var post = try root.optionalField("post_processor")?.makePostProcessor()

        var added = AddedVocabulary()
        if let list = try root.optionalField("added_tokens") {
            var tokens: [AddedToken] = []
            for item in try list.array() {
                _ = try item.field("id").tokenIndex()
                let t = AddedToken(
                    content: try item.field("content").bytes(),
                    singleWord: try item.optionalField("single_word")?.bool() ?? false,
                    lstrip: try item.optionalField("lstrip")?.bool() ?? false,
                    rstrip: try item.optionalField("rstrip")?.bool() ?? false,
                    normalized: try item.optionalField("normalized")?.bool() ?? true,
                    special: try item.optionalField("special")?.bool() ?? false)
                tokens.append(t)
            }
            // The Rust library adds the tokens one at a time, in file order.
            for t in tokens { added.insert([t], model: model) }
            added.rebuild(model: model, normalizer: normalizer)
        }
        addedVocabulary = added
        vocabularySize = max(model.maxTokenId, added.maxId) + 1

        // BOS / EOS.
        func lookup(_ name: ConfigToken?) throws -> Int? {
            guard let name else { return nil }
            guard let id = added.idsByContent[name.content] ?? model.tokenId(for: name.content) else {
                throw TokenizerError.unknownToken(file: name.file, field: name.field, token: String(decoding: name.content, as: UTF8.self))
            }
            return id
        }
        var template = post as? TemplatePostProcessor
        if template == nil, let seq = post as? SequencePostProcessor {
            template = seq.processors.compactMap { $0 as? TemplatePostProcessor }.first
        }
        var bos = try lookup(config?.bos)
        var eos = try lookup(config?.eos)
        if config?.bos == nil, let t = template, t.leadingSpecialIds.count == 1 { bos = t.leadingSpecialIds[0] }
        if config?.eos == nil, let t = template, t.trailingSpecialIds.count == 1 { eos = t.trailingSpecialIds[0] }
        if let c = config, c.addBos != nil || c.addEos != nil {
            var pieces: [TemplatePostProcessor.Piece] = []
            if c.addBos == true {
                guard let b = bos else { throw TokenizerError.missingField(file: c.addBosFile ?? root.file, field: "bos_token") }
                pieces.append(.special([b]))
            }
            pieces.append(.sequence)
            if c.addEos == true {
                guard let e = eos else { throw TokenizerError.missingField(file: c.addEosFile ?? root.file, field: "eos_token") }
                pieces.append(.special([e]))
            }
            post = TemplatePostProcessor(single: pieces)
        }
        postProcessor = post
        bosTokenId = bos
        eosTokenId = eos
    }

    /// Token ids of `text`. With `addSpecialTokens`, the post-processor's special tokens (e.g. BOS)
    /// are added. Never fails: text the vocabulary cannot express becomes byte tokens or `<unk>`.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        let ids = encodeWithoutPostProcessing(Array(text.utf8))
        return postProcessor?.process(ids, addSpecialTokens: addSpecialTokens) ?? ids
    }

    /// Model and added-token ids of UTF-8 `raw`, before the post-processor.
    func encodeWithoutPostProcessing(_ raw: [UInt8]) -> [Int] {
        var out: [Int] = []
        for seg in addedVocabulary.split(raw, normalizedText: false) {
            if let id = seg.id { out.append(id); continue }
            if seg.range.isEmpty { continue }
            let piece = Array(raw[seg.range])
            let atStart = seg.range.lowerBound == 0
            let normalized = normalizer?.normalize(piece) ?? piece
            for seg2 in addedVocabulary.split(normalized, normalizedText: true) {
                if let id = seg2.id { out.append(id); continue }
                if seg2.range.isEmpty { continue }
                let p = TextPiece(bytes: Array(normalized[seg2.range]), atInputStart: atStart && seg2.range.lowerBound == 0)
                let words = preTokenizer?.preTokenize(p) ?? [p]
                for w in words where !w.bytes.isEmpty {
                    out.append(contentsOf: model.tokenize(w.bytes))
                }
            }
        }
        return out
    }

    /// Text of `ids`. Ids that are neither in the model vocabulary nor added tokens are ignored;
    /// with `skipSpecialTokens`, special added tokens (`<s>`, `</s>`, `<unk>`, `<image>`, ...) are left out.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        var tokens: [[UInt8]] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard let t = tokenBytes(for: id) else { continue }
            if skipSpecialTokens && addedVocabulary.specialContents.contains(t) { continue }
            tokens.append(t)
        }
        let bytes: [UInt8]
        if let decoder {
            bytes = Array(decoder.decodeChain(tokens).joined())
        } else {
            bytes = Array(tokens.joined(separator: [0x20]))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func tokenBytes(for id: Int) -> [UInt8]? {
        addedVocabulary.stringsById[id] ?? model.token(for: id)
    }

    /// Id of an exact token string (added tokens first, then the model vocabulary). The string is
    /// compared code point by code point, not by canonical equivalence.
    public func tokenId(for token: String) -> Int? {
        let b = Array(token.utf8)
        return addedVocabulary.idsByContent[b] ?? model.tokenId(for: b)
    }

    /// Token string of an id (added tokens first, then the model vocabulary), e.g. `"▁Hello"` or `"<0x0A>"`.
    /// As in the Rust library, an added token marked `normalized` reports its normalised text.
    public func token(for id: Int) -> String? {
        tokenBytes(for: id).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether `decode(_:skipSpecialTokens: true)` leaves `id` out: its token string is the content
    /// of a special added token.
    public func isSpecialToken(_ id: Int) -> Bool {
        guard let t = tokenBytes(for: id) else { return false }
        return addedVocabulary.specialContents.contains(t)
    }
}

/// A token name read from a config file, with where it came from.
struct ConfigToken {
    let content: [UInt8]
    let file: String
    let field: String
}

/// The parts of `tokenizer_config.json` / `special_tokens_map.json` this reader uses.
struct TokenizerConfig {
    var bos: ConfigToken?
    var eos: ConfigToken?
    var addBos: Bool?
    var addEos: Bool?
    var addBosFile: String?
    var addEosFile: String?

    /// Reads `bos_token`, `eos_token` (a string or an object with `content`) and, if allowed,
    /// `add_bos_token` / `add_eos_token`. Later files override earlier ones.
    mutating func read(_ c: JSONCursor, allowAddFlags: Bool) throws {
        guard case .object = c.value else { throw c.typeError("an object at the top level") }
        func tokenName(_ key: String) throws -> ConfigToken? {
            guard let f = try c.optionalField(key) else { return nil }
            switch f.value {
            case .string(let b): return ConfigToken(content: b, file: c.file, field: key)
            case .object: return ConfigToken(content: try f.field("content").bytes(), file: c.file, field: "\(key).content")
            default: throw f.typeError("a string or an object with `content`")
            }
        }
        if let b = try tokenName("bos_token") { bos = b }
        if let e = try tokenName("eos_token") { eos = e }
        if allowAddFlags {
            if let a = try c.optionalField("add_bos_token") { addBos = try a.bool(); addBosFile = c.file }
            if let a = try c.optionalField("add_eos_token") { addEos = try a.bool(); addEosFile = c.file }
        }
    }
}
