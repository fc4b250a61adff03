import Foundation

/// The benchmarks the runner and the scorers know.
public enum BenchmarkKind: String, Codable, CaseIterable, Sendable {
    case pope, amber, rbench, mme
}

/// A question id as the benchmark file has it: JSON integer or string (Python compares them
/// by type, so `1` and `"1"` are different ids).
public enum QuestionID: Hashable, Codable, Sendable, CustomStringConvertible {
    case int(Int)
    case string(String)

    /// Decodes a JSON integer or string.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else {
            throw DecodingError.typeMismatch(QuestionID.self, .init(codingPath: decoder.codingPath,
                                                                   debugDescription: "expected an integer or a string"))
        }
    }

    /// Encodes as the JSON integer or string it was.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case let .int(i): try c.encode(i)
        case let .string(s): try c.encode(s)
        }
    }

    public var description: String {
        switch self {
        case let .int(i): return "\(i)"
        case let .string(s): return s
        }
    }
}

/// One benchmark question, whatever file it came from.
public struct BenchmarkQuestion: Sendable, Equatable {
    /// Unique key of the question within its question set (`<split>/<id>` for POPE,
    /// `<id>` for AMBER and R-Bench, `<subtask>/<image>#<1|2>` for MME). Answer records, resume,
    /// shards and merging use it.
    public var key: String
    /// The id in the benchmark's own file (for POPE from LLaVA's question file: LLaVA's id).
    public var questionID: QuestionID
    /// POPE split, AMBER dimension (`existence`, `attribute`, `relation`), `image-level` for
    /// R-Bench, MME subtask.
    public var category: String
    /// AMBER annotation type (e.g. `discriminative-attribute-state`); empty elsewhere.
    public var type: String
    /// Image path relative to the image folder, as the benchmark file has it.
    public var image: String
    /// The question without any answer-format suffix (the runner adds the suffix).
    public var text: String
    /// The question exactly as the benchmark file has it (MME keeps " Please answer yes or no.").
    public var originalText: String
    /// Ground truth as in the file: POPE/R-Bench `label`, AMBER `truth`, MME "Yes"/"No".
    public var label: String

    /// A question; `originalText` defaults to `text`.
    public init(key: String, questionID: QuestionID, category: String, type: String = "", image: String,
                text: String, originalText: String? = nil, label: String) {
        self.key = key
        self.questionID = questionID
        self.category = category
        self.type = type
        self.image = image
        self.text = text
        self.originalText = originalText ?? text
        self.label = label
    }

    /// The object a POPE-style existence question asks about ("Is there a/an <object> in the
    /// image?", as POPE and the shapes benchmark phrase them), else nil.
    public var existenceObject: String? {
        let t = text.trimmingCharacters(in: .whitespaces)
        for article in ["Is there a ", "Is there an "] where t.hasPrefix(article) && t.hasSuffix(" in the image?") {
            let name = t.dropFirst(article.count).dropLast(" in the image?".count)
            return name.isEmpty ? nil : String(name)
        }
        return nil
    }

    /// What a trace of this question records about it in `options`: the question key, the label
    /// and, for existence questions, `key_object` (the studies' default key object).
    public var traceNotes: [String: String] {
        var notes = ["question_key": key, "label": label, "category": category]
        if let o = existenceObject { notes["key_object"] = o }
        return notes
    }
}

/// An R-Bench subset: the question ids listed in one `*_ids_<i>.json` file.
public struct RBenchSubset: Sendable, Equatable {
    /// The file name (printed like `eval.py` does).
    public var name: String
    /// The ids in file order (duplicates kept, as the official loop visits them).
    public var ids: [QuestionID]

    /// A subset.
    public init(name: String, ids: [QuestionID]) {
        self.name = name
        self.ids = ids
    }
}

/// The questions of one benchmark run, in their canonical order (file order), plus what the
/// scorers need beyond the questions.
public struct QuestionSet: Sendable {
    public var benchmark: BenchmarkKind
    public var questions: [BenchmarkQuestion]
    /// R-Bench subsets (empty: score all questions as one set).
    public var rbenchSubsets: [RBenchSubset]
    /// Where the questions came from (for messages).
    public var source: String
    /// True when the questions come from LLaVA's question file (`llava_pope_test.jsonl`,
    /// `llava_mme.jsonl`): `questionID` is then LLaVA's id.
    public var fromLLaVAFile: Bool

    /// A question set.
    public init(benchmark: BenchmarkKind, questions: [BenchmarkQuestion], rbenchSubsets: [RBenchSubset] = [], source: String,
                fromLLaVAFile: Bool = false) {
        self.benchmark = benchmark
        self.questions = questions
        self.rbenchSubsets = rbenchSubsets
        self.source = source
        self.fromLLaVAFile = fromLLaVAFile
    }

    /// Index of every key; throws if a key repeats.
    public func keyIndex() throws -> [String: Int] {
        var index: [String: Int] = [:]
        for (i, q) in questions.enumerated() {
            if index[q.key] != nil {
                throw BenchmarkError.format(location: source, reason: "question key '\(q.key)' occurs twice")
            }
            index[q.key] = i
        }
        return index
    }

    /// Keeps only questions whose category is in `categories` (nil: all); throws if a name
    /// matches nothing.
    public func filtered(categories: [String]?) throws -> QuestionSet {
        guard let categories, !categories.isEmpty else { return self }
        let present = Set(questions.map(\.category))
        for c in categories where !present.contains(c) {
            throw BenchmarkError.invalidOption(option: "--categories",
                                               reason: "'\(c)' is not a category of \(source) (has: \(present.sorted().joined(separator: ", ")))")
        }
        var copy = self
        let keep = Set(categories)
        copy.questions = questions.filter { keep.contains($0.category) }
        return copy
    }
}
