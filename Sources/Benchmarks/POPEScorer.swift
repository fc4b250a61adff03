import Foundation

/// Counts of a yes/no confusion matrix with "yes" (label 1) as the positive class.
public struct BinaryConfusion: Sendable, Equatable, Codable {
    public var tp = 0, fp = 0, tn = 0, fn = 0
    /// Counts (default: all zero).
    public init(tp: Int = 0, fp: Int = 0, tn: Int = 0, fn: Int = 0) {
        self.tp = tp; self.fp = fp; self.tn = tn; self.fn = fn
    }
    /// TP + FP + TN + FN.
    public var total: Int { tp + fp + tn + fn }

    mutating func add(predictedYes: Bool, labelYes: Bool) {
        switch (predictedYes, labelYes) {
        case (true, true): tp += 1
        case (true, false): fp += 1
        case (false, false): tn += 1
        case (false, true): fn += 1
        }
    }
}

/// POPE-style metrics as fractions in [0, 1]. A nil value is a division by zero, on which the
/// official script would stop with `ZeroDivisionError`.
public struct YesNoMetrics: Sendable, Equatable, Codable {
    public var confusion: BinaryConfusion
    /// Number of parsed answers (the yes-ratio denominator; can exceed `confusion.total` when
    /// there are more answers than labels, because the matching is `zip`).
    public var answers: Int
    public var accuracy: Double?
    public var precision: Double?
    public var recall: Double?
    public var f1: Double?
    /// Share of answers parsed as "yes".
    public var yesRatio: Double?
}

/// `RUCAIBox/POPE:evaluate.py` (and the identical core of LLaVA's `llava/eval/eval_pope.py`).
///
/// Quirks reproduced:
/// - Parsing keeps only the text before the first "." (`text.split('.')[0]`), deletes every ",",
///   splits on single spaces only (`text.split(' ')`), and answers "no" iff one of the words is
///   exactly `No`, `not` or `no` (case-sensitive); everything else, including "", "NO", "Not",
///   "No\nThere" (newline is not a separator) and "Nope", is "yes".
/// - Labels: exactly `'no'` is negative; any other label (even "No") is positive.
/// - Answers and labels are matched by line order (`zip`): extra answers or labels are ignored
///   for the confusion matrix, but the yes-ratio is over all answers.
/// - No epsilons: precision, recall, F1, accuracy and yes-ratio can divide by zero (nil here).
public enum POPEEvaluatePy {
    /// True when the official rule parses `text` as "yes".
    public static func parsesAsYes(_ text: String) -> Bool {
        var v = Py.scalars(text)
        if let dot = v.firstIndex(of: ".") { v = Array(v[..<dot]) }
        v.removeAll { $0 == "," }
        let words = Py.split(Py.string(v), on: " ")
        for w in words where Py.equal(w, "No") || Py.equal(w, "not") || Py.equal(w, "no") { return false }
        return true
    }

    /// True when the label is positive (anything but exactly "no").
    public static func labelIsYes(_ label: String) -> Bool { !Py.equal(label, "no") }

    /// Scores answers against labels by line order.
    public static func score(answers: [String], labels: [String]) -> YesNoMetrics {
        let preds = answers.map(parsesAsYes)
        var c = BinaryConfusion()
        for (p, l) in zip(preds, labels) { c.add(predictedYes: p, labelYes: labelIsYes(l)) }
        let yes = preds.filter { $0 }.count
        let precision = c.tp + c.fp == 0 ? nil : Double(c.tp) / Double(c.tp + c.fp)
        let recall = c.tp + c.fn == 0 ? nil : Double(c.tp) / Double(c.tp + c.fn)
        var f1: Double?
        if let p = precision, let r = recall, p + r != 0 { f1 = 2 * p * r / (p + r) }
        return YesNoMetrics(confusion: c, answers: preds.count,
                            accuracy: c.total == 0 ? nil : Double(c.tp + c.tn) / Double(c.total),
                            precision: precision, recall: recall, f1: f1,
                            yesRatio: preds.isEmpty ? nil : Double(yes) / Double(preds.count))
    }
}

/// `haotian-liu/LLaVA:llava/eval/eval_pope.py`: per category (from the annotation folder's
/// `coco_pope_<category>.json` names), the answers whose `question_id` belongs to that category
/// in LLaVA's question file, in answer-file order, are zipped with that file's labels.
/// An answer whose id is not in the question file is a `KeyError` in the script (an error here).
public enum LLaVAEvalPope {
    /// One answer line of an answers file: `question_id` and `text`.
    public struct Answer: Sendable, Equatable {
        public var questionID: QuestionID
        public var text: String
        /// An answer line.
        public init(questionID: QuestionID, text: String) {
            self.questionID = questionID
            self.text = text
        }
    }

    /// Scores `answers` per category; `categoryOf` maps LLaVA question ids to categories,
    /// `labels` gives each category's label list in file order. Categories are scored in name
    /// order (the script uses `os.listdir` order).
    public static func score(answers: [Answer], categoryOf: [QuestionID: String],
                             labels: [String: [String]]) throws -> [(category: String, metrics: YesNoMetrics)] {
        for a in answers where categoryOf[a.questionID] == nil {
            throw BenchmarkError.inconsistent("answer question_id \(a.questionID) is not in the question file (eval_pope.py would raise KeyError)")
        }
        return labels.keys.sorted().map { cat in
            let texts = answers.filter { categoryOf[$0.questionID] == cat }.map(\.text)
            return (cat, POPEEvaluatePy.score(answers: texts, labels: labels[cat] ?? []))
        }
    }
}
