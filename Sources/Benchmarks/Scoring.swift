import Foundation

/// Which scorer to apply.
public enum ScorerChoice: String, CaseIterable, Sendable {
    /// The benchmark's official script.
    case official
    /// The CLVS paper's `eval.py` (POPE and R-Bench only).
    case clvsPaper = "clvs-paper"
    /// Both (the paper's only where it applies).
    case both
}

/// Scores of one answers set, with what was missing; `render()` gives the printed report.
public struct ScoreReport: Codable, Sendable {
    /// Metrics with a name (a POPE split, an R-Bench subset).
    public struct NamedYesNo: Codable, Sendable, Equatable {
        public var name: String
        public var metrics: YesNoMetrics
    }

    /// CLVS-paper metrics with a name.
    public struct NamedPaper: Codable, Sendable, Equatable {
        public var name: String
        public var metrics: CLVSPaperMetrics
    }

    public var benchmark: BenchmarkKind
    /// Answers scored and questions expected (expected is nil when unknown, e.g. an official
    /// answers file scored without question list).
    public var answered: Int
    public var expected: Int?
    /// Keys of expected questions without an answer.
    public var missing: [String]
    public var notes: [String]
    public var settings: MethodSettings?
    /// POPE per split (`evaluate.py` / `eval_pope.py`).
    public var pope: [NamedYesNo]?
    public var amber: AMBERReport?
    public var rbench: RBenchReport?
    public var mme: MMEReport?
    /// The CLVS paper's scorer per POPE split or R-Bench subset.
    public var clvsPaper: [NamedPaper]?

    /// An empty report; the scorers fill in their part.
    public init(benchmark: BenchmarkKind, answered: Int, expected: Int?, missing: [String] = [], notes: [String] = [],
                settings: MethodSettings? = nil) {
        self.benchmark = benchmark
        self.answered = answered
        self.expected = expected
        self.missing = missing
        self.notes = notes
        self.settings = settings
    }

    /// True when every expected question has an answer.
    public var isComplete: Bool { missing.isEmpty }

    /// The report as printed by `clvs-trace eval` and `clvs-trace score`.
    public func render() -> String {
        var out: [String] = []
        let method = settings.map { ", \($0.summary)" } ?? ""
        if let expected {
            out.append("\(benchmark.rawValue): \(answered) of \(expected) questions answered\(method)")
        } else {
            out.append("\(benchmark.rawValue): \(answered) answers\(method)")
        }
        for n in notes { out.append("note: \(n)") }
        if !missing.isEmpty {
            let shown = missing.prefix(10).joined(separator: ", ")
            out.append("INCOMPLETE: \(missing.count) question(s) have no answer (\(shown)\(missing.count > 10 ? ", ..." : "")); scores below are over the answered ones only")
        }
        func pct(_ x: Double?) -> String { x.map { Py.fixed($0 * 100, 2) } ?? "div0" }
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        if let pope {
            out.append("POPE, official scorer (RUCAIBox/POPE evaluate.py = LLaVA eval_pope.py per split), percent:")
            out.append(pad("split", 14) + pad("n", 7) + pad("TP", 6) + pad("FP", 6) + pad("TN", 6) + pad("FN", 6)
                       + pad("Acc", 8) + pad("Prec", 8) + pad("Recall", 8) + pad("F1", 8) + "Yes")
            for p in pope {
                let m = p.metrics, c = m.confusion
                out.append(pad(p.name, 14) + pad("\(m.answers)", 7) + pad("\(c.tp)", 6) + pad("\(c.fp)", 6) + pad("\(c.tn)", 6) + pad("\(c.fn)", 6)
                           + pad(pct(m.accuracy), 8) + pad(pct(m.precision), 8) + pad(pct(m.recall), 8) + pad(pct(m.f1), 8) + pct(m.yesRatio))
            }
            if pope.contains(where: { [$0.metrics.accuracy, $0.metrics.precision, $0.metrics.recall, $0.metrics.f1, $0.metrics.yesRatio].contains(nil) }) {
                out.append("(div0: the official script would stop with ZeroDivisionError)")
            }
        }
        if let amber {
            out.append("AMBER discriminative, official scorer (junyangwang0410/AMBER inference.py; positive class \"No\"), percent:")
            out.append(pad("dimension", 24) + pad("n", 7) + pad("Acc", 7) + pad("Prec", 7) + pad("Recall", 7) + "F1")
            let rows: [(String, AMBERMetrics)] = [("Descriminative (all)", amber.all), ("Existence", amber.existence), ("Attribute", amber.attribute),
                                                  ("  State", amber.state), ("  Number", amber.number), ("  Action", amber.action), ("Relation", amber.relation)]
            for (name, m) in rows where m.questions > 0 || name.hasPrefix("Descriminative") {
                out.append(pad(name, 24) + pad("\(m.questions)", 7) + pad(Py.repr(m.accuracy), 7) + pad(Py.repr(m.precision), 7)
                           + pad(Py.repr(m.recall), 7) + Py.repr(m.f1))
            }
        }
        if let rbench {
            out.append("R-Bench image-level, official scorer (mrwu-mac/R-Bench eval.py --eval_image), percent:")
            out.append(pad("subset", 36) + pad("n", 7) + pad("skipped", 9) + pad("Acc", 8) + pad("Prec", 8) + pad("Recall", 8) + pad("F1", 8) + "Yes")
            for s in rbench.subsets {
                let m = s.metrics
                out.append(pad(s.name, 36) + pad("\(m.answers)", 7) + pad("\(s.skipped)", 9) + pad(pct(m.accuracy), 8) + pad(pct(m.precision), 8)
                           + pad(pct(m.recall), 8) + pad(pct(m.f1), 8) + pct(m.yesRatio))
            }
            if rbench.subsets.contains(where: { $0.metrics.accuracy == nil || $0.metrics.yesRatio == nil }) {
                out.append("(div0: no answered question in the subset; the official script would stop with ZeroDivisionError)")
            }
            if let a = rbench.average {
                out.append("Average over \(rbench.subsets.count) subset(s) (np.round(mean, 2)): Acc \(Py.repr(a[0])), Prec \(Py.repr(a[1])), Recall \(Py.repr(a[2])), F1 \(Py.repr(a[3])), Yes \(Py.repr(a[4]))")
            }
        }
        if let mme {
            out.append("MME, official scorer (calculation.py: score = acc*100 + acc+*100):")
            out.append(pad("subtask", 24) + pad("n", 6) + pad("acc", 9) + pad("acc+", 9) + pad("other", 7) + "score")
            for s in mme.subtasks {
                out.append(pad(s.subtask, 24) + pad("\(s.questions)", 6) + pad(Py.fixed(s.accuracy * 100, 2), 9)
                           + pad(Py.fixed(s.accuracyPlus * 100, 2), 9) + pad("\(s.other)", 7) + Py.fixed(s.score, 2))
            }
            if !mme.perceptionSubtasks.isEmpty {
                let all = mme.perceptionSubtasks.count == MMEData.perception.count
                out.append("Perception total: \(Py.fixed(mme.perception, 2))" + (all ? " (all 10 subtasks)" : " (\(mme.perceptionSubtasks.count) of 10 subtasks: \(mme.perceptionSubtasks.joined(separator: ", ")))"))
            }
            if !mme.cognitionSubtasks.isEmpty {
                out.append("Cognition total: \(Py.fixed(mme.cognition, 2)) (\(mme.cognitionSubtasks.count) of 4 subtasks)")
            }
        }
        if let clvsPaper {
            out.append("CLVS paper's scorer (ZhQingan/CLVS eval/eval.py: substring rule, N+1 denominator; not an official scorer), percent:")
            out.append(pad("set", 36) + pad("n", 7) + pad("Acc", 8) + pad("Prec", 8) + pad("Recall", 8) + pad("F1", 8) + pad("Yes", 8) + "Unknown")
            func f(_ x: Double?) -> String { x.map { Py.fixed($0, 2) } ?? "div0" }
            for p in clvsPaper {
                let m = p.metrics
                out.append(pad(p.name, 36) + pad("\(m.denominator - 1)", 7) + pad(f(m.accuracy), 8) + pad(f(m.precision), 8) + pad(f(m.recall), 8)
                           + pad(f(m.f1), 8) + pad(f(m.yes), 8) + f(m.unknownPercent))
            }
            if clvsPaper.contains(where: { $0.metrics.precision == nil || $0.metrics.recall == nil || $0.metrics.f1 == nil }) {
                out.append("(div0: the paper's script would stop with ZeroDivisionError)")
            }
        }
        return out.joined(separator: "\n")
    }
}

/// Scoring of runner output and of the benchmarks' own answer files.
public enum Scoring {
    /// Scores merged runner records against their question set with the chosen scorer(s).
    /// With gaps, the official scorers see only the answered questions (POPE: answers and
    /// labels of the answered questions in question order; MME: only images whose two
    /// questions are both answered); with no gaps this equals running the official script on
    /// the answers in question order.
    public static func score(_ run: MergedRun, questions: QuestionSet, expected: Int? = nil, scorer: ScorerChoice = .official) throws -> ScoreReport {
        var report = ScoreReport(benchmark: questions.benchmark, answered: run.records.count,
                                 expected: expected ?? questions.questions.count, missing: run.missing, notes: run.notes,
                                 settings: run.records.first?.settings)
        let official = scorer != .clvsPaper
        let paper = scorer != .official
        if paper && (questions.benchmark == .amber || questions.benchmark == .mme) && scorer == .clvsPaper {
            throw BenchmarkError.invalidOption(option: "--scorer", reason: "the CLVS paper's scorer applies to POPE and R-Bench only (it uses the official AMBER and MME scorers)")
        }
        let records = run.records
        switch questions.benchmark {
        case .pope:
            let cats = orderedCategories(records.map(\.category))
            if official {
                report.pope = cats.map { cat in
                    let rs = records.filter { $0.category == cat }
                    return .init(name: cat, metrics: POPEEvaluatePy.score(answers: rs.map(\.answer), labels: rs.map(\.label)))
                }
            }
            if paper {
                report.clvsPaper = cats.map { cat in
                    let rs = records.filter { $0.category == cat }
                    return .init(name: cat, metrics: CLVSPaperEvalPy.score(rs.map { (label: $0.label, output: $0.answer) }))
                }
            }
        case .amber:
            var truth: [Int: AMBERData.Truth] = [:]
            for q in questions.questions { if case let .int(id) = q.questionID { truth[id] = AMBERData.Truth(type: q.type, truth: q.label) } }
            let responses = try records.map { r -> AMBERInferencePy.Response in
                guard case let .int(id) = r.questionID else { throw BenchmarkError.inconsistent("AMBER answer '\(r.key)' has a non-integer id") }
                return AMBERInferencePy.Response(id: id, response: AMBERResponseNormalizer.normalize(r.answer))
            }
            report.amber = try AMBERInferencePy.score(responses, annotations: truth)
        case .rbench:
            var answers: [QuestionID: String] = [:]
            for r in records { answers[r.questionID] = r.answer }
            var labels: [QuestionID: String] = [:]
            for q in questions.questions { labels[q.questionID] = q.label }
            let subsets = questions.rbenchSubsets.isEmpty ? [RBenchSubset(name: "all", ids: questions.questions.map(\.questionID))] : questions.rbenchSubsets
            if official { report.rbench = try RBenchEvalPy.score(subsets: subsets, answers: answers, labels: labels) }
            if paper {
                var byID: [QuestionID: RunRecord] = [:]
                for r in records { byID[r.questionID] = r }
                report.clvsPaper = subsets.map { s in
                    let rs = s.ids.compactMap { byID[$0] }
                    return .init(name: s.name, metrics: CLVSPaperEvalPy.score(rs.map { (label: $0.label, output: $0.answer) }))
                }
            }
        case .mme:
            var byKey: [String: RunRecord] = [:]
            for r in records { byKey[r.key] = r }
            var scores: [MMESubtaskScore] = []
            var dropped = 0
            for cat in orderedCategories(questions.questions.map(\.category)) {
                let qs = questions.questions.filter { $0.category == cat }
                var lines: [(truth: String, response: String)] = []
                for pair in stride(from: 0, to: qs.count - 1, by: 2) {
                    let a = byKey[qs[pair].key], b = byKey[qs[pair + 1].key]
                    if let a, let b {
                        lines.append((a.label, a.answer))
                        lines.append((b.label, b.answer))
                    } else if a != nil || b != nil {
                        dropped += 1
                    }
                }
                if !lines.isEmpty { scores.append(try MMECalculationPy.scoreSubtask(cat, lines: lines, location: "answers to \(cat)")) }
            }
            if dropped > 0 { report.notes.append("\(dropped) MME answer(s) not scored: the other question of the same image has no answer yet") }
            report.mme = MMECalculationPy.report(scores)
        }
        return report
    }

    /// Scores a benchmark's own answers file (POPE/LLaVA JSONL, AMBER JSON, R-Bench JSONL, MME
    /// results folder) exactly as the official script does. POPE answers without ids need a
    /// question set of one split (line-order matching); LLaVA answers need the question set
    /// loaded from LLaVA's question file.
    public static func scoreOfficial(answers url: URL, questions: QuestionSet?, benchmark: BenchmarkKind) throws -> ScoreReport {
        switch benchmark {
        case .mme:
            guard BenchmarkData.isDirectory(url) else {
                throw BenchmarkError.format(location: url.path, reason: "MME answers in the official format are a results folder of <subtask>.txt files with a 4th column")
            }
            let cats = questions.map { Scoring.orderedCategories($0.questions.map(\.category)) }
            let r = try MMECalculationPy.scoreResultsFolder(url, subtasks: cats)
            var report = ScoreReport(benchmark: .mme, answered: r.subtasks.reduce(0) { $0 + $1.questions }, expected: questions?.questions.count)
            let scored = Set(r.subtasks.map(\.subtask))
            for c in cats ?? [] where !scored.contains(c) {
                report.notes.append("subtask \(c) has no results file \(c).txt in \(url.path)")
                report.missing += questions?.questions.filter { $0.category == c }.map(\.key) ?? []
            }
            report.mme = r
            return report
        case .amber:
            guard let questions else { throw BenchmarkError.invalidOption(option: "--questions", reason: "AMBER answers need the query file(s) and --annotations") }
            var truth: [Int: AMBERData.Truth] = [:]
            for q in questions.questions { if case let .int(id) = q.questionID { truth[id] = AMBERData.Truth(type: q.type, truth: q.label) } }
            let responses = try OfficialAnswers.amber(url)
            let outside = responses.filter { truth[$0.id] == nil }.map { "\($0.id)" }
            if !outside.isEmpty {
                throw BenchmarkError.inconsistent("\(url.path): \(outside.count) response id(s) are not among the questions of \(questions.source) "
                    + "(e.g. \(outside.prefix(5).joined(separator: ", "))); give the query file(s) they answer")
            }
            var report = ScoreReport(benchmark: .amber, answered: responses.count, expected: questions.questions.count)
            let answered = Set(responses.map(\.id))
            report.missing = questions.questions.compactMap { q in
                if case let .int(id) = q.questionID, !answered.contains(id) { return q.key }
                return nil
            }
            report.amber = try AMBERInferencePy.score(responses, annotations: truth)
            return report
        case .rbench:
            guard let questions else { throw BenchmarkError.invalidOption(option: "--questions", reason: "R-Bench answers need the question file") }
            let lines = try OfficialAnswers.rbench(url)
            var answers: [QuestionID: String] = [:]
            for (id, text) in lines { answers[id] = text }
            var labels: [QuestionID: String] = [:]
            for q in questions.questions { labels[q.questionID] = q.label }
            let subsets = questions.rbenchSubsets.isEmpty ? [RBenchSubset(name: "all", ids: questions.questions.map(\.questionID))] : questions.rbenchSubsets
            var report = ScoreReport(benchmark: .rbench, answered: lines.count, expected: nil)
            report.rbench = try RBenchEvalPy.score(subsets: subsets, answers: answers, labels: labels)
            return report
        case .pope:
            guard let questions else { throw BenchmarkError.invalidOption(option: "--questions", reason: "POPE answers need the question (label) file") }
            let answers = try OfficialAnswers.pope(url)
            var report = ScoreReport(benchmark: .pope, answered: answers.count, expected: questions.questions.count)
            let cats = orderedCategories(questions.questions.map(\.category))
            let withIDs = answers.allSatisfy { $0.questionID != nil }
            if withIDs && questions.fromLLaVAFile {
                var categoryOf: [QuestionID: String] = [:]
                var labels: [String: [String]] = [:]
                for q in questions.questions {
                    categoryOf[q.questionID] = q.category
                    labels[q.category, default: []].append(q.label)
                }
                let scored = try LLaVAEvalPope.score(answers: answers.compactMap { a in a.questionID.map { LLaVAEvalPope.Answer(questionID: $0, text: a.text) } },
                                                     categoryOf: categoryOf, labels: labels)
                report.pope = scored.map { .init(name: $0.category, metrics: $0.metrics) }
                report.notes.append("matched as LLaVA's eval_pope.py does: answers by question_id to a category, then by line order to that category's labels")
            } else {
                guard cats.count == 1, let cat = cats.first else {
                    throw BenchmarkError.invalidOption(option: "--questions", reason: "POPE's evaluate.py matches answers to labels by line order: give exactly one split file (found \(cats.count) splits), or LLaVA's question file for LLaVA answers with question ids")
                }
                report.pope = [.init(name: cat, metrics: POPEEvaluatePy.score(answers: answers.map(\.text), labels: questions.questions.map(\.label)))]
                report.notes.append("matched by line order (evaluate.py): answer i is scored against label line i")
            }
            return report
        }
    }

    /// Scores a file written by the CLVS paper's inference script with its `eval.py`.
    public static func scoreCLVSPaper(answers url: URL, benchmark: BenchmarkKind) throws -> ScoreReport {
        let (pairs, lines) = try OfficialAnswers.clvsPaper(url)
        var report = ScoreReport(benchmark: benchmark, answered: pairs.count, expected: nil)
        report.clvsPaper = [.init(name: url.lastPathComponent, metrics: CLVSPaperEvalPy.score(pairs, lines: lines))]
        return report
    }

    /// Distinct values in first-appearance order.
    static func orderedCategories(_ values: [String]) -> [String] {
        var seen = Set<String>(), out: [String] = []
        for v in values where seen.insert(v).inserted { out.append(v) }
        return out
    }
}
