import Foundation
import JSONCore

/// Third pipeline stage: turns one pre-tokenised piece (UTF-8 bytes) into token ids.
/// Mirrors a `model` of the Rust `tokenizers` library.
protocol TokenizationModel: Sendable {
    /// Token ids for one piece (empty piece gives no ids).
    func tokenize(_ piece: [UInt8]) -> [Int]
    /// Id of an exact token string (UTF-8 bytes), if in the model vocabulary.
    func tokenId(for token: [UInt8]) -> Int?
    /// Token string (UTF-8 bytes) of an id, if in the model vocabulary.
    func token(for id: Int) -> [UInt8]?
    /// Number of entries in the model vocabulary (what the Rust library calls the vocab size;
    /// new added tokens are numbered from here).
    var vocabularyCount: Int { get }
    /// Largest id in the model vocabulary, or -1 when empty.
    var maxTokenId: Int { get }
}

/// Byte-pair encoding with the exact merge order of the Rust `tokenizers` BPE model:
/// the word starts as its characters (code points); the adjacent pair with the lowest merge rank
/// (leftmost on ties) is merged repeatedly, using a priority queue with stale-entry checks exactly
/// as `Word::merge_all` does. Characters missing from the vocabulary become `<0xXX>` byte tokens
/// (with `byte_fallback`) or the unknown token (fused into one when `fuse_unk`), or are dropped
/// when there is no unknown token.
struct BPEModel: TokenizationModel {
    /// Rank and result of one merge rule.
    struct Merge: Sendable {
        let rank: Int32
        let newId: Int32
    }

    /// token bytes -> id
    let vocab: [[UInt8]: Int]
    /// id -> token bytes
    let vocabReverse: [Int: [UInt8]]
    /// packed (left id << 32 | right id) -> merge
    let merges: [UInt64: Merge]
    let unkId: Int?
    let fuseUnk: Bool
    let byteFallback: Bool
    /// [256] id of the `<0xXX>` token for each byte, -1 when absent
    let byteTokenIds: [Int]
    let continuingSubwordPrefix: [UInt8]?
    let endOfWordSuffix: [UInt8]?
    let ignoreMerges: Bool
    /// code point -> id of the one-character token (fast path when no prefix/suffix applies)
    let singleScalarIds: [UInt32: Int]
    let vocabularyCount: Int
    let maxTokenId: Int

    @inline(__always)
    static func pairKey(_ a: Int, _ b: Int) -> UInt64 { UInt64(UInt32(truncatingIfNeeded: a)) << 32 | UInt64(UInt32(truncatingIfNeeded: b)) }

    /// Reads a `{"type": "BPE", ...}` model object.
    init(json m: JSONCursor) throws {
        // Vocabulary.
        let vocabCursor = try m.field("vocab")
        let entries = try vocabCursor.members()
        var vocab: [[UInt8]: Int] = [:]
        vocab.reserveCapacity(entries.count)
        var reverse: [Int: [UInt8]] = [:]
        reverse.reserveCapacity(entries.count)
        var maxId = -1
        for e in entries {
            guard case .number(let n) = e.value, let id = n.intValue, id >= 0, id <= Int(Int32.max) else {
                // Slow path only to build the precise error.
                let c = JSONCursor(e.value, path: "\(vocabCursor.path)[\(String(decoding: e.key, as: UTF8.self).debugDescription)]", file: m.file)
                _ = try c.int()
                throw c.invalid("expected a token id in 0...\(Int32.max)")
            }
            vocab[e.key] = id
            maxId = max(maxId, id)
        }
        for (k, v) in vocab where reverse[v] == nil { reverse[v] = k }

        // Options.
        if let d = try m.optionalField("dropout"), try d.double() != 0 {
            throw TokenizerError.unsupported(file: m.file, field: d.path, value: "\(try d.double()) (BPE dropout is random; only null or 0 is supported)")
        }
        let prefix = try m.optionalField("continuing_subword_prefix")?.bytes()
        let suffix = try m.optionalField("end_of_word_suffix")?.bytes()
        self.continuingSubwordPrefix = (prefix?.isEmpty ?? true) ? nil : prefix
        self.endOfWordSuffix = (suffix?.isEmpty ?? true) ? nil : suffix
        self.fuseUnk = try m.optionalField("fuse_unk")?.bool() ?? false
        self.byteFallback = try m.optionalField("byte_fallback")?.bool() ?? false
        self.ignoreMerges = try m.optionalField("ignore_merges")?.bool() ?? false
        if let u = try m.optionalField("unk_token") {
            let name = try u.bytes()
            guard let id = vocab[name] else {
                throw TokenizerError.unknownToken(file: m.file, field: u.path, token: String(decoding: name, as: UTF8.self))
            }
            self.unkId = id
        } else {
            self.unkId = nil
        }

        // Merges: either ["a b", ...] or [["a", "b"], ...]; rank = position (a later duplicate wins).
        let prefixLen = prefix?.count ?? 0
        var merges: [UInt64: Merge] = [:]
        if let mc = try m.optionalField("merges") {
            guard case .array(let values) = mc.value else { throw mc.typeError("an array") }
            merges.reserveCapacity(values.count)
            for (rank, value) in values.enumerated() {
                // The cursor (and its path string) is only materialised for error messages.
                var item: JSONCursor { JSONCursor(value, path: "\(mc.path)[\(rank)]", file: m.file) }
                let a: [UInt8]
                let b: [UInt8]
                switch value {
                case .string(let line):
                    let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
                    guard parts.count == 2 else {
                        throw item.invalid("a merge string must be two tokens separated by one space")
                    }
                    a = Array(parts[0])
                    b = Array(parts[1])
                case .array(let pair):
                    guard pair.count == 2, case .string(let x) = pair[0], case .string(let y) = pair[1] else {
                        throw item.invalid("a merge must be an array of two strings")
                    }
                    a = x
                    b = y
                default:
                    throw item.typeError("a string or an array of two strings")
                }
                guard let aId = vocab[a] else {
                    throw TokenizerError.unknownToken(file: m.file, field: item.path, token: String(decoding: a, as: UTF8.self))
                }
                guard let bId = vocab[b] else {
                    throw TokenizerError.unknownToken(file: m.file, field: item.path, token: String(decoding: b, as: UTF8.self))
                }
                let merged = a + (b.count >= prefixLen ? Array(b[prefixLen...]) : [])
                guard let newId = vocab[merged] else {
                    throw TokenizerError.unknownToken(file: m.file, field: item.path, token: String(decoding: merged, as: UTF8.self))
                }
                guard rank <= Int(Int32.max), aId <= Int(UInt32.max), bId <= Int(UInt32.max), newId <= Int(Int32.max) else {
                    throw item.invalid("id or rank too large")
                }
                merges[BPEModel.pairKey(aId, bId)] = Merge(rank: Int32(rank), newId: Int32(newId))
            }
        }

        var bytes = [Int](repeating: -1, count: 256)
        if byteFallback {
            for b in 0..<256 {
                let name = Array(String(format: "<0x%02X>", b).utf8)
                bytes[b] = vocab[name] ?? -1
            }
        }
        var single: [UInt32: Int] = [:]
        for (k, v) in vocab where !k.isEmpty && UTF8Text.sequenceLength(lead: k[0]) == k.count {
            single[UTF8Text.decode(k, at: 0).scalar] = v
        }

        self.vocab = vocab
        self.vocabReverse = reverse
        self.merges = merges
        self.byteTokenIds = bytes
        self.singleScalarIds = single
        self.vocabularyCount = vocab.count
        self.maxTokenId = maxId
    }

    func tokenId(for token: [UInt8]) -> Int? { vocab[token] }
    func token(for id: Int) -> [UInt8]? { vocabReverse[id] }

    func tokenize(_ piece: [UInt8]) -> [Int] {
        if piece.isEmpty { return [] }
        if ignoreMerges, let id = vocab[piece] { return [id] }

        // 1. Initial symbols: one per character (or byte-fallback bytes / unknown token).
        var ids: [Int32] = []
        ids.reserveCapacity(piece.count)
        var pendingUnk = false  // a pending (possibly fused) unknown token
        var i = 0
        while i < piece.count {
            let n = UTF8Text.sequenceLength(lead: piece[i])
            let isFirst = i == 0
            let isLast = i + n >= piece.count
            var id: Int?
            var s: [UInt8]? = nil
            if (isFirst || continuingSubwordPrefix == nil) && (!isLast || endOfWordSuffix == nil) {
                id = singleScalarIds[UTF8Text.decode(piece, at: i).scalar]
            } else {
                var t = Array(piece[i..<min(i + n, piece.count)])
                if !isFirst, let p = continuingSubwordPrefix { t = p + t }
                if isLast, let x = endOfWordSuffix { t = t + x }
                id = vocab[t]
                s = t
            }
            if let id {
                if pendingUnk, let u = unkId { ids.append(Int32(u)); pendingUnk = false }
                ids.append(Int32(id))
            } else {
                var handled = false
                if byteFallback {
                    let text = s ?? Array(piece[i..<min(i + n, piece.count)])
                    if text.allSatisfy({ byteTokenIds[Int($0)] >= 0 }) {
                        // As in the Rust library, a pending unknown token is not flushed here.
                        for b in text { ids.append(Int32(byteTokenIds[Int(b)])) }
                        handled = true
                    }
                }
                if !handled, let u = unkId {
                    if pendingUnk && !fuseUnk { ids.append(Int32(u)) }
                    pendingUnk = true
                }
            }
            i += n
        }
        if pendingUnk, let u = unkId { ids.append(Int32(u)) }
        if ids.count < 2 || merges.isEmpty { return ids.map(Int.init) }
        return mergeAll(ids).map(Int.init)
    }

    /// Applies merges by rank (leftmost first on equal rank) with the same priority-queue
    /// algorithm as the Rust `Word::merge_all`.
    private func mergeAll(_ initial: [Int32]) -> [Int32] {
        var c = initial
        let n = c.count
        var prev = [Int32](repeating: -1, count: n)
        var next = [Int32](repeating: -1, count: n)
        var alive = [Bool](repeating: true, count: n)
        for k in 0..<n {
            prev[k] = Int32(k - 1)
            next[k] = k + 1 < n ? Int32(k + 1) : -1
        }
        var heap = MergeHeap()
        heap.reserve(n)
        for k in 0..<(n - 1) {
            if let m = merges[BPEModel.pairKey(Int(c[k]), Int(c[k + 1]))] {
                heap.push(rank: m.rank, pos: Int32(k), newId: m.newId)
            }
        }
        while let top = heap.pop() {
            let pos = Int(top.pos)
            if !alive[pos] { continue }
            let nx = next[pos]
            if nx == -1 { continue }
            let right = Int(nx)
            // Skip stale entries: the pair at `pos` must still produce this entry's token.
            guard let cur = merges[BPEModel.pairKey(Int(c[pos]), Int(c[right]))], cur.newId == top.newId else { continue }
            c[pos] = top.newId
            alive[right] = false
            next[pos] = next[right]
            if next[right] >= 0 { prev[Int(next[right])] = Int32(pos) }
            let pv = prev[pos]
            if pv >= 0, let m = merges[BPEModel.pairKey(Int(c[Int(pv)]), Int(c[pos]))] {
                heap.push(rank: m.rank, pos: pv, newId: m.newId)
            }
            let nn = next[pos]
            if nn >= 0, let m = merges[BPEModel.pairKey(Int(c[pos]), Int(c[Int(nn)]))] {
                heap.push(rank: m.rank, pos: Int32(pos), newId: m.newId)
            }
        }
        var out: [Int32] = []
        out.reserveCapacity(n)
        for k in 0..<n where alive[k] { out.append(c[k]) }
        return out
    }
}

/// Binary min-heap of pending merges ordered by (rank, position).
struct MergeHeap {
    struct Entry {
        let rank: Int32
        let pos: Int32
        let newId: Int32
        @inline(__always) func less(_ o: Entry) -> Bool { rank != o.rank ? rank < o.rank : pos < o.pos }
    }
    /// heap-ordered entries
    private var items: [Entry] = []

    mutating func reserve(_ n: Int) { items.reserveCapacity(n) }

    mutating func push(rank: Int32, pos: Int32, newId: Int32) {
        items.append(Entry(rank: rank, pos: pos, newId: newId))
        var k = items.count - 1
        while k > 0 {
            let p = (k - 1) / 2
            if items[k].less(items[p]) { items.swapAt(k, p); k = p } else { break }
        }
    }

    mutating func pop() -> Entry? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var k = 0
            let n = items.count
            while true {
                let l = 2 * k + 1
                if l >= n { break }
                var m = l
                if l + 1 < n && items[l + 1].less(items[l]) { m = l + 1 }
                if items[m].less(items[k]) { items.swapAt(k, m); k = m } else { break }
            }
        }
        return first
    }
}
