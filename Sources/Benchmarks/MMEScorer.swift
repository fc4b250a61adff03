import Foundation

/// One MME subtask's result.
public struct MMESubtaskScore: Sendable, Equatable, Codable {
    public var subtask: String
    /// Questions and images (pairs).
    public var questions: Int
    public var images: Int
    /// Fraction of questions right ("other" is wrong).
    public var accuracy: Double
    /// Fraction of images with both questions right.
    public var accuracyPlus: Double
    /// `acc * 100 + acc+ * 100` (max 200).
    public var score: Double
    /// Responses parsed as neither yes nor no.
    public var other: Int
    /// Confusion counts over the yes/no responses (yes positive), as `compute_metric` reports.
    public var confusion: BinaryConfusion
}

/// MME totals.
public struct MMEReport: Sendable, Equatable, Codable {
    public var subtasks: [MMESubtaskScore]
    /// Sum over the perception subtasks present, in `calculation.py`'s order.
    public var perception: Double
    /// Perception subtasks present (10 for the official total).
    public var perceptionSubtasks: [String]
    /// Sum over the cognition subtasks present.
    public var cognition: Double
    public var cognitionSubtasks: [String]
}

/// `BradyFU/Awesome-Multimodal-Large-Language-Models:tools/eval_tool.zip` → `calculation.py`
/// (branch `Evaluation`).
///
/// Quirks reproduced:
/// - Each results line is split on tabs into exactly 4 fields; the response keeps its line end
///   (Python `readlines`, universal newlines: "\r\n" and "\r" read as "\n").
/// - gt and response are lower-cased; the response is "yes"/"no" if it equals one, else only
///   its first 4 code points are inspected: containing "yes" -> yes, else containing "no" ->
///   no, else "other". So "not sure" and "none" are no, "yeah" and "I think yes" are other
///   (wrong), "no\n" is no.
/// - Lines are paired two by two in file order (one image = two consecutive lines); an odd count
///   is an assertion error in the script (an error here).
/// - acc = right / questions ("other" counts as wrong), acc+ = images with both right / images,
///   score = acc*100 + acc+*100; totals add subtask scores in the script's order.
public enum MMECalculationPy {
    /// The parsed label of a response: "yes", "no" or "other".
    public static func parse(_ response: String) -> String {
        let r = Py.lower(response)
        if Py.equal(r, "yes") || Py.equal(r, "no") { return r }
        let prefix = Py.prefix(r, 4)
        if Py.contains(prefix, "yes") { return "yes" }
        if Py.contains(prefix, "no") { return "no" }
        return "other"
    }

    /// One subtask from its lines (gt, response) in file order; `location` names the source.
    public static func scoreSubtask(_ subtask: String, lines: [(truth: String, response: String)], location: String) throws -> MMESubtaskScore {
        guard lines.count % 2 == 0 else {
            throw BenchmarkError.format(location: location, reason: "has \(lines.count) lines; MME needs two lines per image")
        }
        guard !lines.isEmpty else { throw BenchmarkError.format(location: location, reason: "has no lines") }
        var right = 0, plus = 0, other = 0
        var c = BinaryConfusion()
        for pair in stride(from: 0, to: lines.count, by: 2) {
            var imageRight = 0
            for (i, l) in lines[pair..<(pair + 2)].enumerated() {
                let gt = Py.lower(l.truth)
                guard Py.equal(gt, "yes") || Py.equal(gt, "no") else {
                    throw BenchmarkError.format(location: "\(location) (line \(pair + i + 1))", reason: "ground truth '\(l.truth)' is not Yes or No")
                }
                let p = parse(l.response)
                if p == gt { right += 1; imageRight += 1 }
                if p == "other" { other += 1 } else { c.add(predictedYes: p == "yes", labelYes: gt == "yes") }
            }
            if imageRight == 2 { plus += 1 }
        }
        let acc = Double(right) / Double(lines.count)
        let accPlus = Double(plus) / Double(lines.count / 2)
        var score = 0.0
        score += acc * 100
        score += accPlus * 100
        return MMESubtaskScore(subtask: subtask, questions: lines.count, images: lines.count / 2, accuracy: acc,
                               accuracyPlus: accPlus, score: score, other: other, confusion: c)
    }

    /// Totals over subtask scores (perception and cognition sums in the script's order; other
    /// subtasks are listed but not summed).
    public static func report(_ scores: [MMESubtaskScore]) -> MMEReport {
        var byName: [String: MMESubtaskScore] = [:]
        for s in scores { byName[s.subtask] = s }
        var perception = 0.0, cognition = 0.0
        let p = MMEData.perception.filter { byName[$0] != nil }
        let c = MMEData.cognition.filter { byName[$0] != nil }
        for t in p { perception += byName[t]?.score ?? 0 }
        for t in c { cognition += byName[t]?.score ?? 0 }
        let order = MMEData.perception + MMEData.cognition
        let sorted = scores.sorted { (order.firstIndex(of: $0.subtask) ?? order.count, $0.subtask) < (order.firstIndex(of: $1.subtask) ?? order.count, $1.subtask) }
        return MMEReport(subtasks: sorted, perception: perception, perceptionSubtasks: p, cognition: cognition, cognitionSubtasks: c)
    }

    /// Scores a results folder (`<subtask>.txt` with 4 columns), every txt file in it.
    public static func scoreResultsFolder(_ directory: URL, subtasks: [String]? = nil) throws -> MMEReport {
        var scores: [MMESubtaskScore] = []
        for (name, url) in try MMEData.subtaskFiles(in: directory) where subtasks?.contains(name) ?? true {
            let lines = try MMEData.readLines(url, requireResponse: true)
            scores.append(try scoreSubtask(name, lines: lines.map { ($0.truth, $0.response ?? "") }, location: url.path))
        }
        return report(scores)
    }
}
