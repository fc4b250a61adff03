import Foundation

/// R-Bench image-level results: per subset (fractions, as `eval_pope` returns them) and the
/// average line.
public struct RBenchReport: Sendable, Equatable, Codable {
    /// One subset's metrics; `skipped` ids of the subset had no answer.
    public struct Subset: Sendable, Equatable, Codable {
        public var name: String
        public var metrics: YesNoMetrics
        public var skipped: Int
    }

    public var subsets: [Subset]
    /// `np.round(np.mean(results * 100, axis=0), 2)` over the subsets: [acc, precision, recall,
    /// f1, yes_ratio] in percent; nil if a subset could not be scored (the script would crash).
    public var average: [Double]?
}

/// `mrwu-mac/R-Bench:eval.py --eval_image`.
///
/// Quirks reproduced:
/// - Each subset's ids are visited in file order; an id with no answer is skipped (`continue`);
///   an id that is not in the question file is a `KeyError` (an error here).
/// - Answers are a dict `{question_id: text}`: when an id is answered twice the later line wins.
/// - Answers are parsed with POPE's rule (first sentence, commas removed, split on " ",
///   `No`/`not`/`no` -> no).
/// - A label is negative iff it is non-empty and contains "no" after lower-casing, so "No",
///   "none" and "unknown" are negative, while "" (or null) is positive.
/// - Precision, recall and F1 add 1e-5 to their denominators; accuracy and yes-ratio do not.
/// - The "Average" is NumPy's `round(mean(x * 100), 2)` = `rint(mean * 100) / 100` per metric,
///   over the given subsets (the script always uses the five files `*_ids_1..5.json`).
public enum RBenchEvalPy {
    /// True when `eval.py` treats the label as negative.
    public static func labelIsNo(_ label: String) -> Bool {
        !label.isEmpty && Py.contains(Py.lower(label), "no")
    }

    /// Scores one subset.
    public static func scoreSubset(ids: [QuestionID], answers: [QuestionID: String], labels: [QuestionID: String],
                                   name: String) throws -> RBenchReport.Subset {
        var preds: [Bool] = []
        var c = BinaryConfusion()
        var skipped = 0
        for id in ids {
            guard let text = answers[id] else { skipped += 1; continue }
            guard let label = labels[id] else {
                throw BenchmarkError.inconsistent("\(name): question id \(id) is not in the question file (eval.py would raise KeyError)")
            }
            let p = POPEEvaluatePy.parsesAsYes(text)
            preds.append(p)
            c.add(predictedYes: p, labelYes: !labelIsNo(label))
        }
        let yes = preds.filter { $0 }.count
        let precision = Double(c.tp) / (Double(c.tp + c.fp) + 0.00001)
        let recall = Double(c.tp) / (Double(c.tp + c.fn) + 0.00001)
        let f1 = 2 * precision * recall / (precision + recall + 0.00001)
        let m = YesNoMetrics(confusion: c, answers: preds.count,
                             accuracy: c.total == 0 ? nil : Double(c.tp + c.tn) / Double(c.total),
                             precision: precision, recall: recall, f1: f1,
                             yesRatio: preds.isEmpty ? nil : Double(yes) / Double(preds.count))
        return RBenchReport.Subset(name: name, metrics: m, skipped: skipped)
    }

    /// Scores every subset and averages them.
    public static func score(subsets: [RBenchSubset], answers: [QuestionID: String], labels: [QuestionID: String]) throws -> RBenchReport {
        let results = try subsets.map { try scoreSubset(ids: $0.ids, answers: answers, labels: labels, name: $0.name) }
        var average: [Double]?
        let rows = results.map { r -> [Double]? in
            let m = r.metrics
            guard let a = m.accuracy, let p = m.precision, let rc = m.recall, let f = m.f1, let y = m.yesRatio else { return nil }
            return [a, p, rc, f, y].map { $0 * 100 }
        }
        if !rows.isEmpty, rows.allSatisfy({ $0 != nil }) {
            let full = rows.compactMap { $0 }
            var sums = full[0]
            for row in full.dropFirst() { for j in 0..<5 { sums[j] += row[j] } }
            average = sums.map { Py.numpyRound($0 / Double(full.count), 2) }
        }
        return RBenchReport(subsets: results, average: average)
    }
}
