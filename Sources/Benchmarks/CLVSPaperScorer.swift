import Foundation

/// The CLVS paper's own POPE/R-Bench numbers, in percent as its script prints them.
public struct CLVSPaperMetrics: Sendable, Equatable, Codable {
    public var confusion: BinaryConfusion
    /// Lines with a label other than yes/no (counted in the denominator only).
    public var unknown: Int
    /// The denominator of accuracy, yes and unknown: the number of lines of the answers file,
    /// i.e. answers + 1.
    public var denominator: Int
    /// nil where the script divides by zero.
    public var precision: Double?
    public var recall: Double?
    public var f1: Double?
    public var accuracy: Double
    public var yes: Double
    public var unknownPercent: Double
}

/// `ZhQingan/CLVS:eval/eval.py`, the scorer the CLVS paper uses for POPE and R-Bench (not an
/// official benchmark scorer; use it only to compare with the paper's tables).
///
/// Quirks reproduced:
/// - Substring rule: labels and outputs are lower-cased and stripped; for label "yes" the answer
///   is right iff "yes" occurs anywhere in it, for label "no" iff "no" occurs anywhere in it
///   ("not", "none", "know", "nothing", "cannot" all count as "no"). The two tests are
///   independent: "yes and no" is right for both labels. Any other label is "unknown".
/// - N+1 denominator: the paper's inference script ends every answers file with one extra line
///   (its arguments); `eval.py` loops over all lines but the last and divides accuracy and the
///   yes share by the number of lines. For N answers that is N+1, so accuracy can never reach
///   100 %. Precision and recall use the confusion counts only.
/// - Values are ×100; F1 is computed from the percentages; no epsilons (a division by zero
///   stops the script: nil here).
public enum CLVSPaperEvalPy {
    /// Scores (label, output) pairs; `lines` is the line count of the answers file (default
    /// N + 1, as for a file written by the paper's inference script).
    public static func score(_ pairs: [(label: String, output: String)], lines: Int? = nil) -> CLVSPaperMetrics {
        var c = BinaryConfusion()
        var unknown = 0, yesAnswers = 0
        for (label, output) in pairs {
            let gt = Py.strip(Py.lower(label)), gen = Py.strip(Py.lower(output))
            if Py.equal(gt, "yes") {
                if Py.contains(gen, "yes") { c.tp += 1; yesAnswers += 1 } else { c.fn += 1 }
            } else if Py.equal(gt, "no") {
                if Py.contains(gen, "no") { c.tn += 1 } else { yesAnswers += 1; c.fp += 1 }
            } else {
                unknown += 1
            }
        }
        let total = lines ?? (pairs.count + 1)
        let precision = c.tp + c.fp == 0 ? nil : Double(c.tp) / Double(c.tp + c.fp) * 100
        let recall = c.tp + c.fn == 0 ? nil : Double(c.tp) / Double(c.tp + c.fn) * 100
        var f1: Double?
        if let p = precision, let r = recall, p + r != 0 { f1 = 2 * p * r / (p + r) }
        let n = Double(total)
        return CLVSPaperMetrics(confusion: c, unknown: unknown, denominator: total, precision: precision, recall: recall, f1: f1,
                                accuracy: Double(c.tp + c.tn) / n * 100, yes: Double(yesAnswers) / n * 100,
                                unknownPercent: Double(unknown) / n * 100)
    }
}
