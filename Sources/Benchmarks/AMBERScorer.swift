import Foundation

/// AMBER discriminative metrics in percent, rounded to one decimal like `inference.py` prints.
public struct AMBERMetrics: Sendable, Equatable, Codable {
    public var accuracy: Double
    public var precision: Double
    public var recall: Double
    public var f1: Double
    /// Questions counted (without the 0.001 start value).
    public var questions: Int
}

/// All lines `inference.py --evaluation_type d` prints (plus the attribute sub-types).
public struct AMBERReport: Sendable, Equatable, Codable {
    /// "Descriminative Task": every discriminative answer.
    public var all: AMBERMetrics
    public var existence: AMBERMetrics
    public var attribute: AMBERMetrics
    public var state: AMBERMetrics
    public var number: AMBERMetrics
    public var action: AMBERMetrics
    public var relation: AMBERMetrics
}

/// `junyangwang0410/AMBER:inference.py`, discriminative part (`--evaluation_type d/de/da/dr`).
///
/// Quirks reproduced:
/// - The response is compared as an exact, case-sensitive string: truth "yes" is correct only
///   for `Yes`, truth "no" only for `No`; "yes", "No." or "No, there is none" are wrong, and
///   only exactly `No` counts as an answered "No". Any truth other than "yes" is treated as "no".
/// - The positive class is "No": precision = #(No and truth no) / #No answered,
///   recall = #(No and truth no) / #(truth no).
/// - Every denominator counter starts at 0.001 (`data/metrics.txt`) and numerators at 0, so
///   accuracy = correct / (N + 0.001); the attribute dimension adds the three sub-type
///   denominators (0.003 in all).
/// - Acc, P, R are `round(x * 100, 1)`; F1 is computed from the rounded P and R:
///   `round(2*(P/100)*(R/100) / ((P/100)+(R/100)+0.0001) * 100, 1)`, with 0.001 instead of
///   0.0001 for existence.
/// - `round` is Python's (correctly rounded on the binary value, ties to even).
///
/// Not reproduced: an id < 1 (Python would index from the end of the list) is an error here, and
/// generative ids are rejected (their scoring needs spaCy and NLTK).
public enum AMBERInferencePy {
    /// One response: the AMBER id and the response string as the answers file has it.
    public struct Response: Sendable, Equatable {
        public var id: Int
        public var response: String
        /// A response line.
        public init(id: Int, response: String) {
            self.id = id
            self.response = response
        }
    }

    struct Counter {
        var correctScore = 0, correctNum = 0.001
        var noScore = 0, noNum = 0.001
        var ansNoScore = 0, ansNoNum = 0.001
        var count = 0
    }

    /// Scores the responses in file order against the annotations (by id).
    public static func score(_ responses: [Response], annotations: [Int: AMBERData.Truth]) throws -> AMBERReport {
        var all = Counter(), ha = Counter(), st = Counter(), nu = Counter(), ac = Counter(), asso = Counter()
        for r in responses {
            guard r.id >= 1, let t = annotations[r.id] else {
                throw BenchmarkError.inconsistent("response id \(r.id) is not in the annotations")
            }
            guard let truth = t.truth else {
                throw BenchmarkError.notScorable("response id \(r.id) is a generative query; only the discriminative part is scored")
            }
            func update(_ c: inout Counter) {
                c.count += 1
                c.correctNum += 1
                if Py.equal(truth, "yes") {
                    if Py.equal(r.response, "Yes") { c.correctScore += 1 }
                } else {
                    c.noNum += 1
                    if Py.equal(r.response, "No") { c.correctScore += 1; c.noScore += 1 }
                }
                if Py.equal(r.response, "No") {
                    c.ansNoNum += 1
                    if Py.equal(truth, "no") { c.ansNoScore += 1 }
                }
            }
            update(&all)
            switch t.type {
            case "discriminative-attribute-state": update(&st)
            case "discriminative-attribute-number": update(&nu)
            case "discriminative-attribute-action": update(&ac)
            case "discriminative-hallucination": update(&ha)
            default: update(&asso)
            }
        }
        func f1(_ p: Double, _ r: Double, _ eps: Double) -> Double {
            Py.round(2 * (p / 100) * (r / 100) / ((p / 100) + (r / 100) + eps) * 100, 1)
        }
        func metrics(_ c: Counter, eps: Double = 0.0001) -> AMBERMetrics {
            let acc = Py.round(Double(c.correctScore) / c.correctNum * 100, 1)
            let p = Py.round(Double(c.ansNoScore) / c.ansNoNum * 100, 1)
            let r = Py.round(Double(c.noScore) / c.noNum * 100, 1)
            return AMBERMetrics(accuracy: acc, precision: p, recall: r, f1: f1(p, r, eps), questions: c.count)
        }
        // The attribute line sums the three sub-type counters (numerators as integers,
        // denominators as floats, left to right as the script writes them).
        let aAcc = Py.round(Double(st.correctScore + nu.correctScore + ac.correctScore) / (st.correctNum + nu.correctNum + ac.correctNum) * 100, 1)
        let aP = Py.round(Double(st.ansNoScore + nu.ansNoScore + ac.ansNoScore) / (st.ansNoNum + nu.ansNoNum + ac.ansNoNum) * 100, 1)
        let aR = Py.round(Double(st.noScore + nu.noScore + ac.noScore) / (st.noNum + nu.noNum + ac.noNum) * 100, 1)
        let attribute = AMBERMetrics(accuracy: aAcc, precision: aP, recall: aR, f1: f1(aP, aR, 0.0001),
                                     questions: st.count + nu.count + ac.count)
        return AMBERReport(all: metrics(all), existence: metrics(ha, eps: 0.001), attribute: attribute,
                           state: metrics(st), number: metrics(nu), action: metrics(ac), relation: metrics(asso))
    }
}

/// The project's rule for turning a model's free-text answer into the exact "Yes"/"No" AMBER's
/// script compares against (the script itself does no parsing): strip whitespace, take the
/// leading run of letters, and map it case-insensitively: "yes" -> "Yes", "no" -> "No".
/// Anything else is kept (stripped) and therefore scores as wrong and as not-a-"No", as it would
/// in the official script. Examples: "Yes, there is a dog." -> "Yes"; "no" -> "No";
/// "Not really" -> "Not really"; "" -> "".
public enum AMBERResponseNormalizer {
    /// The exact "Yes"/"No" for an answer, or the stripped answer if it is neither.
    public static func normalize(_ answer: String) -> String {
        let s = Py.strip(answer)
        let word = Py.string(s.unicodeScalars.prefix { $0.properties.isAlphabetic })
        switch word.lowercased() {
        case "yes": return "Yes"
        case "no": return "No"
        default: return s
        }
    }
}
