import Foundation
import Tracing

/// The prompt each benchmark's questions get (for LLaVA-1.5: put into the LLaVA-1.5 / Vicuna v1
/// template `"<system> USER: <image>\n{text} ASSISTANT:"` by `PromptSpec.question`).
///
/// | benchmark | user text | source of the convention |
/// |---|---|---|
/// | POPE | question + "\nAnswer the question using a single word or phrase." | LLaVA's `llava_pope_test.jsonl` |
/// | MME | question without " Please answer yes or no." + the same suffix | LLaVA's `llava_mme.jsonl` |
/// | AMBER | the query as is | AMBER's README / the CLVS paper |
/// | R-Bench | the question as is | R-Bench's `demos/eval_rbench.py` |
public enum BenchmarkPrompts {
    /// The default suffix appended to every question of `benchmark`.
    public static func defaultSuffix(for benchmark: BenchmarkKind) -> String {
        switch benchmark {
        case .pope, .mme: return llavaShortAnswerSuffix
        case .amber, .rbench: return ""
        }
    }

    /// The user text for a question: its `text` (MME: LLaVA's form) + the suffix.
    public static func userText(_ q: BenchmarkQuestion, suffix: String) -> String { q.text + suffix }

    /// The prompt for the engine: the user text in the model's question template.
    public static func prompt(_ q: BenchmarkQuestion, suffix: String) -> PromptSpec { .question(userText(q, suffix: suffix)) }

    /// A command-line suffix with the escapes `\n`, `\t` and `\\` turned into the characters.
    public static func unescape(_ s: String) -> String {
        var out = ""
        var it = s.makeIterator()
        while let c = it.next() {
            guard c == "\\" else { out.append(c); continue }
            switch it.next() {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "\\": out.append("\\")
            case let other?: out.append("\\"); out.append(other)
            case nil: out.append("\\")
            }
        }
        return out
    }
}

/// A deterministic 1/N of a question list: shard `index` of `count` holds the questions at
/// positions p (0-based, in question-file order) with p % count == index. Round-robin keeps
/// every shard's mix of splits and subtasks like the whole.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    /// 0-based.
    public var index: Int
    public var count: Int

    /// Shard `index` (0-based) of `count`; throws if out of range.
    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw BenchmarkError.invalidOption(option: "--shard", reason: "N must be at least 1, found \(count)") }
        guard index >= 0 && index < count else {
            throw BenchmarkError.invalidOption(option: "--shard", reason: "K must be in 0..<\(count) (0-based), found \(index)")
        }
        self.index = index
        self.count = count
    }

    /// Parses "K/N".
    public init(parsing s: String) throws {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw BenchmarkError.invalidOption(option: "--shard", reason: "expected K/N (e.g. 0/8), found '\(s)'")
        }
        try self.init(index: k, count: n)
    }

    /// The questions of this shard, in order.
    public func select<T>(_ items: [T]) -> [T] {
        items.enumerated().filter { $0.offset % count == index }.map(\.element)
    }

    public var description: String { "\(index)/\(count)" }
}
