import Foundation

/// The question kinds of the CLVS paper's benchmarks, plus a short description (training only).
public enum QuestionKind: String, CaseIterable, Sendable, Codable {
    case existence, attribute, relation, count, describe
}

/// One question about a scene with its ground-truth answer.
public struct ShapeQuestion: Sendable, Equatable {
    public var kind: QuestionKind
    /// Finer type: existence `positive|random|popular|adversarial|<training negative kind>`,
    /// relation `left|above|touching`, attribute `color`, count `objects`, describe `objects`.
    public var type: String
    public var text: String
    /// "yes" / "no" for yes/no questions, a digit for count, a sentence for describe.
    public var label: String
    /// The shape the question is about (its COCO category), if one.
    public var keyObject: String?

    /// The answer the model is trained to give ("Yes", "No", "3", "A red circle and a blue square.").
    public var answer: String {
        switch label {
        case "yes": return "Yes"
        case "no": return "No"
        default: return label
        }
    }
}

/// Question templates (the same for training and the benchmark).
public enum QuestionText {
    public static func existence(_ c: ShapeColor, _ s: ShapeKind) -> String { "Is there \(article(c)) \(c.rawValue) \(s.rawValue) in the image?" }
    /// "an" before a vowel sound ("an orange circle"), else "a".
    public static func article(_ c: ShapeColor) -> String { c == .orange ? "an" : "a" }
    public static func attribute(_ s: ShapeKind, _ c: ShapeColor) -> String { "Is the \(s.rawValue) \(c.rawValue)?" }
    public static func left(_ a: ShapeKind, _ b: ShapeKind) -> String { "Is the \(a.rawValue) to the left of the \(b.rawValue)?" }
    public static func above(_ a: ShapeKind, _ b: ShapeKind) -> String { "Is the \(a.rawValue) above the \(b.rawValue)?" }
    public static func touching(_ a: ShapeKind, _ b: ShapeKind) -> String { "Is the \(a.rawValue) touching the \(b.rawValue)?" }
    public static let count = "How many objects are in the image?"
    public static let describe = "What objects are in the image?"

    static let numberWords = ["no", "one", "two", "three", "four", "five"]

    /// "A red circle, a blue square and a green star." (objects left to right).
    public static func description(_ objects: [SceneObject]) -> String {
        let names = objects.sorted { $0.centerX < $1.centerX }.map { "\(article($0.color)) \($0.name)" }
        var s: String
        switch names.count {
        case 0: return "Nothing."
        case 1: s = names[0]
        default: s = names.dropLast().joined(separator: ", ") + " and " + (names.last ?? "")
        }
        return s.prefix(1).uppercased() + s.dropFirst() + "."
    }
}

/// Geometry facts of a scene that questions are built from.
public struct SceneFacts: Sendable {
    public let scene: Scene
    /// Centre distance beyond which left/right and above/below are unambiguous.
    public static let relationMargin = 6.0
    let sampler: SceneSampler

    public init(scene: Scene, sampler: SceneSampler) {
        self.scene = scene
        self.sampler = sampler
    }

    public var present: Set<String> { Set(scene.objects.map(\.name)) }

    /// nil when the horizontal order is ambiguous.
    public func isLeft(_ a: SceneObject, of b: SceneObject) -> Bool? {
        let dx = b.centerX - a.centerX
        if abs(dx) < Self.relationMargin { return nil }
        return dx > 0
    }

    public func isAbove(_ a: SceneObject, _ b: SceneObject) -> Bool? {
        let dy = b.centerY - a.centerY
        if abs(dy) < Self.relationMargin { return nil }
        return dy > 0
    }

    public func touching(_ a: SceneObject, _ b: SceneObject) -> Bool? {
        sampler.contact(a, b).map { $0 == .touching }
    }

    /// The relation questions of an ordered pair (ambiguous ones omitted).
    public func relationQuestions(_ a: SceneObject, _ b: SceneObject) -> [ShapeQuestion] {
        var out: [ShapeQuestion] = []
        let key = a.shape.rawValue
        if let l = isLeft(a, of: b) {
            out.append(ShapeQuestion(kind: .relation, type: "left", text: QuestionText.left(a.shape, b.shape), label: l ? "yes" : "no", keyObject: key))
        }
        if let u = isAbove(a, b) {
            out.append(ShapeQuestion(kind: .relation, type: "above", text: QuestionText.above(a.shape, b.shape), label: u ? "yes" : "no", keyObject: key))
        }
        if let t = touching(a, b) {
            out.append(ShapeQuestion(kind: .relation, type: "touching", text: QuestionText.touching(a.shape, b.shape), label: t ? "yes" : "no", keyObject: key))
        }
        return out
    }
}

/// All (colour, shape) names, in a fixed order.
public let allObjectNames: [String] = ShapeKind.allCases.flatMap { s in ShapeColor.allCases.map { "\($0.rawValue) \(s.rawValue)" } }

func parseName(_ name: String) -> (ShapeColor, ShapeKind)? {
    let parts = name.split(separator: " ")
    guard parts.count == 2, let c = ShapeColor(rawValue: String(parts[0])), let s = ShapeKind(rawValue: String(parts[1])) else { return nil }
    return (c, s)
}

/// Questions for training: a mix of every kind with balanced yes/no labels.
public enum TrainingQuestions {
    /// `count` questions about `scene`, drawn from `g`.
    public static func sample(_ facts: SceneFacts, count: Int, _ g: inout SplitMix64) -> [ShapeQuestion] {
        let objs = facts.scene.objects
        var out: [ShapeQuestion] = []
        var attempts = 0
        while out.count < count && attempts < count * 20 {
            attempts += 1
            let kindWeights: [Double] = [0.30, 0.18, objs.count >= 2 ? 0.32 : 0, 0.08, 0.12]
            let kind = QuestionKind.allCases[g.pick(weights: kindWeights)]
            let wantYes = g.unit() < 0.5
            var q: ShapeQuestion?
            switch kind {
            case .existence:
                if wantYes, let o = g.element(objs) {
                    q = ShapeQuestion(kind: .existence, type: "positive", text: QuestionText.existence(o.color, o.shape), label: "yes", keyObject: o.shape.rawValue)
                } else {
                    q = negativeExistence(facts, &g)
                }
            case .attribute:
                guard let o = g.element(objs) else { continue }
                var c = o.color
                if !wantYes {
                    let otherPresent = objs.map(\.color).filter { $0 != o.color }
                    if !otherPresent.isEmpty && g.unit() < 0.5 {
                        c = otherPresent[g.int(0, otherPresent.count - 1)]
                    } else {
                        let others = ShapeColor.allCases.filter { $0 != o.color }
                        c = others[g.int(0, others.count - 1)]
                    }
                }
                q = ShapeQuestion(kind: .attribute, type: "color", text: QuestionText.attribute(o.shape, c), label: c == o.color ? "yes" : "no", keyObject: o.shape.rawValue)
            case .relation:
                let i = g.int(0, objs.count - 1)
                var j = g.int(0, objs.count - 2)
                if j >= i { j += 1 }
                let rel = facts.relationQuestions(objs[i], objs[j])
                // Prefer touching questions with the wanted label, as touching pairs are the rarer.
                let pool = rel.filter { $0.type != "touching" || ($0.label == "yes") == wantYes || g.unit() < 0.3 }
                guard !pool.isEmpty else { continue }
                q = pool[g.int(0, pool.count - 1)]
            case .count:
                q = ShapeQuestion(kind: .count, type: "objects", text: QuestionText.count, label: String(objs.count), keyObject: nil)
            case .describe:
                q = ShapeQuestion(kind: .describe, type: "objects", text: QuestionText.describe, label: QuestionText.description(objs), keyObject: nil)
            }
            if let q, !out.contains(where: { $0.text == q.text }) { out.append(q) }
        }
        return out
    }

    /// A negative existence question: half uniform over absent names, half hard (a present shape
    /// in another colour, or a present colour on an absent shape).
    static func negativeExistence(_ facts: SceneFacts, _ g: inout SplitMix64) -> ShapeQuestion? {
        let present = facts.present
        let absent = allObjectNames.filter { !present.contains($0) }
        let objs = facts.scene.objects
        var type = "random"
        var pool = absent
        if g.unit() < 0.5, !objs.isEmpty {
            let shapes = Set(objs.map(\.shape)), colors = Set(objs.map(\.color))
            let hard = absent.filter { n in
                guard let (c, s) = parseName(n) else { return false }
                return shapes.contains(s) || colors.contains(c)
            }
            if !hard.isEmpty { pool = hard; type = "hard" }
        }
        guard !pool.isEmpty, let (c, s) = parseName(pool[g.int(0, pool.count - 1)]) else { return nil }
        return ShapeQuestion(kind: .existence, type: type, text: QuestionText.existence(c, s), label: "no", keyObject: s.rawValue)
    }
}
