import Foundation
import Interventions

/// The decoding method a benchmark run uses (the name and the settings recorded per answer; the
/// engine built from it is `makeEngine`'s business).
public enum EvalMethod: String, Codable, CaseIterable, Sendable {
    /// The model as is.
    case vanilla
    /// Cross-Layer Vision Smoothing (the `Interventions` target).
    case clvs
}

/// The method and its hyperparameters, recorded in every answer line. Vanilla has none.
public struct MethodSettings: Codable, Equatable, Sendable {
    public var method: EvalMethod
    /// CLVS smoothing weight (Eq. 5; the reference code's `beta`): share of a layer's own attention kept.
    public var lambda: Double?
    /// CLVS memory EMA weight (Eq. 7).
    public var gamma: Double?
    /// CLVS uncertainty threshold for early termination (`delta <= 0` disables it).
    public var delta: Double?

    /// CLVS defaults for LLaVA-1.5 (`clvs-method.md`), as the decimals the answer files record;
    /// they equal `CLVSConfig()`'s (a test checks it).
    public static let clvsDefaults = (lambda: 0.8, gamma: 0.8, delta: 0.5)

    /// Vanilla settings.
    public static let vanilla = MethodSettings(method: .vanilla, lambda: nil, gamma: nil, delta: nil)

    /// Settings as given (unvalidated; see `make`).
    public init(method: EvalMethod, lambda: Double?, gamma: Double?, delta: Double?) {
        self.method = method
        self.lambda = lambda
        self.gamma = gamma
        self.delta = delta
    }

    /// Validated settings for `method` from the optional command-line values: for `clvs`,
    /// missing values take the defaults and the ranges are `CLVSConfig.validate`'s (`lambda` in
    /// [0, 2], `gamma` in [0, 1], `delta` finite). For `vanilla`, giving any of them is an error.
    public static func make(method: EvalMethod, lambda: Double?, gamma: Double?, delta: Double?) throws -> MethodSettings {
        switch method {
        case .vanilla:
            for (name, v) in [("--lambda", lambda), ("--gamma", gamma), ("--delta", delta)] where v != nil {
                throw BenchmarkError.invalidOption(option: name, reason: "applies only to --method clvs")
            }
            return .vanilla
        case .clvs:
            let l = lambda ?? clvsDefaults.lambda, g = gamma ?? clvsDefaults.gamma, d = delta ?? clvsDefaults.delta
            do {
                try CLVSConfig(lambda: Float(l), gamma: Float(g), delta: Float(d)).validate()
            } catch let InterventionError.invalidSetting(name, value, reason) {
                throw BenchmarkError.invalidOption(option: "--\(name)", reason: "\(reason), found \(value)")
            }
            return MethodSettings(method: .clvs, lambda: l, gamma: g, delta: d)
        }
    }

    /// "vanilla" or "clvs(lambda=0.8, gamma=0.8, delta=0.5)".
    public var summary: String {
        switch method {
        case .vanilla: return "vanilla"
        case .clvs:
            return "clvs(lambda=\(lambda.map { Py.repr($0) } ?? "-"), gamma=\(gamma.map { Py.repr($0) } ?? "-"), delta=\(delta.map { Py.repr($0) } ?? "-"))"
        }
    }
}

/// One line of the runner's JSONL output: one answered question.
public struct RunRecord: Codable, Equatable, Sendable {
    public var benchmark: BenchmarkKind
    /// The question's key in the question set (see `BenchmarkQuestion.key`).
    public var key: String
    /// The id in the benchmark's file.
    public var questionID: QuestionID
    public var category: String
    public var image: String
    /// The question as the benchmark file has it.
    public var question: String
    /// The user text put into the model's template (question + suffix).
    public var prompt: String
    public var label: String
    /// The decoded generation (special tokens skipped), unmodified.
    public var rawAnswer: String
    /// `rawAnswer` stripped of surrounding whitespace, as LLaVA's answer files store it; this is
    /// what the scorers read.
    public var answer: String
    /// The official parser's reading of `answer` (POPE/R-Bench: yes|no, MME: yes|no|other,
    /// AMBER: the normalised response that is compared with "Yes"/"No").
    public var parsedAnswer: String
    public var method: EvalMethod
    public var settings: MethodSettings
    public var maxNewTokens: Int
    /// Wall time of this answer (image loading, prefill and decoding).
    public var seconds: Double
    /// `K/N` when the run was a shard.
    public var shard: String?
    /// The trace folder of this question, when traces were kept.
    public var trace: String?

    enum CodingKeys: String, CodingKey {
        case benchmark, key, questionID = "question_id", category, image, question, prompt, label
        case rawAnswer = "raw_answer", answer, parsedAnswer = "parsed_answer", method, settings
        case maxNewTokens = "max_new_tokens", seconds, shard, trace
    }

    /// A record.
    public init(benchmark: BenchmarkKind, key: String, questionID: QuestionID, category: String, image: String, question: String,
                prompt: String, label: String, rawAnswer: String, answer: String, parsedAnswer: String, method: EvalMethod,
                settings: MethodSettings, maxNewTokens: Int, seconds: Double, shard: String?, trace: String?) {
        self.benchmark = benchmark; self.key = key; self.questionID = questionID; self.category = category
        self.image = image; self.question = question; self.prompt = prompt; self.label = label
        self.rawAnswer = rawAnswer; self.answer = answer; self.parsedAnswer = parsedAnswer; self.method = method
        self.settings = settings; self.maxNewTokens = maxNewTokens
        self.seconds = seconds; self.shard = shard; self.trace = trace
    }

    /// One JSON line (no newline), keys sorted.
    public func jsonLine() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try enc.encode(self)
    }

    /// The official parser's reading of an answer for a benchmark.
    public static func parse(_ answer: String, benchmark: BenchmarkKind) -> String {
        switch benchmark {
        case .pope, .rbench: return POPEEvaluatePy.parsesAsYes(answer) ? "yes" : "no"
        case .mme: return MMECalculationPy.parse(answer)
        case .amber: return AMBERResponseNormalizer.normalize(answer)
        }
    }
}
