import Foundation
import Imaging
import JSONCore

/// Errors of the shapes world's writers.
public enum ShapesWorldError: Error, CustomStringConvertible {
    case io(path: String, reason: String)
    case parameter(name: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .parameter(name, reason): return "\(name): \(reason)"
        }
    }
}

/// The synthetic benchmark: `images` scenes drawn from `seed`, with POPE, AMBER-style and COCO files.
public struct ShapesBenchmark: Sendable {
    public let seed: UInt64
    public let sampler: SceneSampler
    public let scenes: [Scene]
    /// POPE questions per split (`random`, `popular`, `adversarial`), in file order, with image index.
    public private(set) var pope: [String: [(image: Int, question: ShapeQuestion)]] = [:]
    /// AMBER-style discriminative questions per dimension (`attribute`, `relation`).
    public private(set) var amber: [String: [(image: Int, question: ShapeQuestion)]] = [:]
    /// Every held-out question (existence = POPE's random split, plus attribute, relation, count).
    public private(set) var all: [(image: Int, question: ShapeQuestion)] = []

    public static let popeSplits = ["random", "popular", "adversarial"]

    public static func fileName(image: Int) -> String { String(format: "shapes_%06d.png", image + 1) }

    /// Samples scene `i` of the stream `seed` (independent of every other index).
    public static func scene(seed: UInt64, index: Int, sampler: SceneSampler) -> Scene {
        var g = SplitMix64.derived(seed: seed, UInt64(index) &+ 1)
        return sampler.sample(&g)
    }

    public init(seed: UInt64, images: Int, parameters: WorldParameters = WorldParameters(), questionsPerImage: Int = 3) {
        self.seed = seed
        sampler = SceneSampler(parameters: parameters)
        let s = sampler
        scenes = (0..<images).map { ShapesBenchmark.scene(seed: seed, index: $0, sampler: s) }
        buildQuestions(perImage: questionsPerImage)
    }

    mutating func buildQuestions(perImage k: Int) {
        // Ground-truth statistics POPE's popular/adversarial sampling uses.
        var frequency: [String: Int] = [:]
        var cooccur: [String: [String: Int]] = [:]
        for sc in scenes {
            let names = sc.objects.map(\.name)
            for n in names {
                frequency[n, default: 0] += 1
                for m in names where m != n { cooccur[n, default: [:]][m, default: 0] += 1 }
            }
        }
        let byPopularity = allObjectNames.enumerated().sorted { a, b in
            let fa = frequency[a.element, default: 0], fb = frequency[b.element, default: 0]
            return fa != fb ? fa > fb : a.offset < b.offset
        }.map(\.element)

        for split in Self.popeSplits { pope[split] = [] }
        amber = ["attribute": [], "relation": []]
        for (i, sc) in scenes.enumerated() {
            var g = SplitMix64.derived(seed: seed ^ 0x5EED_0F_0B5E, UInt64(i) &+ 1)
            let facts = SceneFacts(scene: sc, sampler: sampler)
            let present = facts.present
            var objs = sc.objects
            shuffle(&objs, &g)
            let positives = Array(objs.prefix(k))
            let absent = allObjectNames.filter { !present.contains($0) }
            var randomOrder = absent
            shuffle(&randomOrder, &g)
            let popular = byPopularity.filter { !present.contains($0) }
            let adversarial = absent.enumerated().sorted { a, b in
                let ca = present.reduce(0) { $0 + (cooccur[$1]?[a.element] ?? 0) }
                let cb = present.reduce(0) { $0 + (cooccur[$1]?[b.element] ?? 0) }
                return ca != cb ? ca > cb : a.offset < b.offset
            }.map(\.element)
            for (split, negatives) in [("random", randomOrder), ("popular", popular), ("adversarial", adversarial)] {
                for (j, o) in positives.enumerated() where j < negatives.count {
                    pope[split]?.append((i, ShapeQuestion(kind: .existence, type: "positive", text: QuestionText.existence(o.color, o.shape),
                                                          label: "yes", keyObject: o.shape.rawValue)))
                    guard let (c, s) = parseName(negatives[j]) else { continue }
                    pope[split]?.append((i, ShapeQuestion(kind: .existence, type: split, text: QuestionText.existence(c, s),
                                                          label: "no", keyObject: s.rawValue)))
                }
            }
            // Attribute: one true and one false colour question about different objects when possible.
            if let o = objs.first {
                amber["attribute"]?.append((i, ShapeQuestion(kind: .attribute, type: "color", text: QuestionText.attribute(o.shape, o.color),
                                                             label: "yes", keyObject: o.shape.rawValue)))
                let o2 = objs.count > 1 ? objs[1] : o
                let others = ShapeColor.allCases.filter { $0 != o2.color }
                if let c = g.element(others) {
                    amber["attribute"]?.append((i, ShapeQuestion(kind: .attribute, type: "color", text: QuestionText.attribute(o2.shape, c),
                                                                 label: "no", keyObject: o2.shape.rawValue)))
                }
            }
            // Relation: up to two questions (one per type drawn), preferring a balance of labels.
            if objs.count >= 2 {
                var rel: [ShapeQuestion] = []
                for a in objs { for b in objs where a.shape != b.shape { rel += facts.relationQuestions(a, b) } }
                shuffle(&rel, &g)
                var chosen: [ShapeQuestion] = []
                for want in ["yes", "no"] {
                    if let q = rel.first(where: { $0.label == want && !chosen.map(\.type).contains($0.type) }) { chosen.append(q) }
                }
                for q in chosen { amber["relation"]?.append((i, q)) }
            }
        }
        all = (pope["random"] ?? []) + (amber["attribute"] ?? []) + (amber["relation"] ?? [])
            + scenes.indices.map { ($0, ShapeQuestion(kind: .count, type: "objects", text: QuestionText.count,
                                                      label: String(scenes[$0].objects.count), keyObject: nil)) }
    }

    // MARK: - Files

    /// Writes the benchmark into `directory` (created): `images/`, `pope/coco_pope_<split>.json`,
    /// `amber/query_discriminative-{attribute,relation}.json` + `amber/annotations.json`,
    /// `annotations/instances_shapes.json`, `questions.jsonl`, `world.json`.
    public func write(to directory: URL, progress: ((Int, Int) -> Void)? = nil) throws {
        let fm = FileManager.default
        for sub in ["images", "pope", "amber", "annotations"] {
            do { try fm.createDirectory(at: directory.appendingPathComponent(sub), withIntermediateDirectories: true) } catch {
                throw ShapesWorldError.io(path: directory.appendingPathComponent(sub).path, reason: "cannot create the folder: \(error)")
            }
        }
        for (i, sc) in scenes.enumerated() {
            try ShapesWorldIO.writeImage(sc, to: directory.appendingPathComponent("images").appendingPathComponent(Self.fileName(image: i)))
            progress?(i + 1, scenes.count)
        }
        for split in Self.popeSplits {
            var out = ""
            for (n, item) in (pope[split] ?? []).enumerated() {
                out += "{\"question_id\": \(n + 1), \"image\": \(jsonString(Self.fileName(image: item.image))), \"text\": \(jsonString(item.question.text)), \"label\": \(jsonString(item.question.label))}\n"
            }
            try write(out, directory.appendingPathComponent("pope/coco_pope_\(split).json"))
        }
        var annotations: [String] = []
        var id = 0
        for dim in ["attribute", "relation"] {
            var queries: [String] = []
            let type = dim == "attribute" ? "discriminative-attribute-state" : "discriminative-relation"
            for item in amber[dim] ?? [] {
                id += 1
                queries.append("{\"id\": \(id), \"image\": \(jsonString(Self.fileName(image: item.image))), \"query\": \(jsonString(item.question.text))}")
                annotations.append("{\"id\": \(id), \"type\": \"\(type)\", \"truth\": \(jsonString(item.question.label)), \"relation\": \(jsonString(item.question.type))}")
            }
            try write("[\n" + queries.joined(separator: ",\n") + "\n]\n", directory.appendingPathComponent("amber/query_discriminative-\(dim).json"))
        }
        try write("[\n" + annotations.joined(separator: ",\n") + "\n]\n", directory.appendingPathComponent("amber/annotations.json"))
        try write(cocoJSON(), directory.appendingPathComponent("annotations/instances_shapes.json"))
        var lines = ""
        for (n, item) in all.enumerated() {
            let q = item.question
            lines += "{\"question_id\": \(n + 1), \"image\": \(jsonString(Self.fileName(image: item.image))), \"text\": \(jsonString(q.text)), \"label\": \(jsonString(q.label)), \"kind\": \"\(q.kind.rawValue)\", \"type\": \(jsonString(q.type))"
            lines += q.keyObject.map { ", \"key_object\": \(jsonString($0))}\n" } ?? "}\n"
        }
        try write(lines, directory.appendingPathComponent("questions.jsonl"))
        let p = sampler.parameters
        try write("""
        {"generator": "clvs-trace synth benchmark", "seed": \(seed), "images": \(scenes.count), "width": \(p.width), "height": \(p.height), \
        "pope_questions_per_split": \((pope["random"] ?? []).count), "attribute_questions": \((amber["attribute"] ?? []).count), \
        "relation_questions": \((amber["relation"] ?? []).count), "held_out_questions": \(all.count)}

        """, directory.appendingPathComponent("world.json"))
    }

    /// COCO instances JSON: one category per shape, one annotation per object with its polygon
    /// (2 decimals), polygon area, bbox, and the object's colour and size as extra fields.
    public func cocoJSON() -> String {
        var images: [String] = [], anns: [String] = []
        var annID = 0
        for (i, sc) in scenes.enumerated() {
            images.append("{\"id\": \(i + 1), \"file_name\": \(jsonString(Self.fileName(image: i))), \"width\": \(sc.width), \"height\": \(sc.height)}")
            for o in sc.objects {
                annID += 1
                let poly = o.polygon.map { "\(fmt($0.0)), \(fmt($0.1))" }.joined(separator: ", ")
                let b = o.bbox.map(fmt).joined(separator: ", ")
                anns.append("{\"id\": \(annID), \"image_id\": \(i + 1), \"category_id\": \(o.shape.categoryID), \"segmentation\": [[\(poly)]], "
                            + "\"area\": \(fmt(o.area)), \"bbox\": [\(b)], \"iscrowd\": 0, \"color\": \"\(o.color.rawValue)\", \"size\": \"\(o.size.rawValue)\"}")
            }
        }
        let cats = ShapeKind.allCases.map { "{\"id\": \($0.categoryID), \"name\": \"\($0.rawValue)\", \"supercategory\": \"shape\"}" }
        return "{\"info\": {\"description\": \"clvs-trace synthetic shapes benchmark\", \"seed\": \(seed)},\n\"images\": [\n"
            + images.joined(separator: ",\n") + "\n],\n\"annotations\": [\n" + anns.joined(separator: ",\n")
            + "\n],\n\"categories\": [\n" + cats.joined(separator: ",\n") + "\n]}\n"
    }

    func write(_ s: String, _ url: URL) throws {
        do { try Data(s.utf8).write(to: url, options: .atomic) } catch {
            throw ShapesWorldError.io(path: url.path, reason: "cannot write: \(error)")
        }
    }
}

/// Training data: `images.u8` (N x H x W x 3 raw bytes), `patches.u8` (N x rows x columns x 2:
/// `PatchLabels` for the model's patch size), `contacts.u8` (N x rows x columns: `ContactLabels`)
/// and `qa.jsonl` (one line per image:
/// `{"image": i, "qa": [[kind, question, answer], ...], "objects": [[shape, colour, centre x, centre y], ...],
/// "contacts": [[a, b, "touching" | "apart"], ...]}`, objects in drawing order, centres in pixels, one
/// contact per pair of objects a < b (indices into objects) by the sampler's touching rule), for the
/// training script.
public enum ShapesTrainingSet {
    public static func write(to directory: URL, seed: UInt64, images: Int, questionsPerImage: Int, patchSize: Int = 14,
                             parameters: WorldParameters = WorldParameters(), progress: ((Int, Int) -> Void)? = nil) throws {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw ShapesWorldError.io(path: directory.path, reason: "cannot create the folder: \(error)")
        }
        let sampler = SceneSampler(parameters: parameters)
        let imgURL = directory.appendingPathComponent("images.u8"), qaURL = directory.appendingPathComponent("qa.jsonl")
        let patchURL = directory.appendingPathComponent("patches.u8")
        let contactURL = directory.appendingPathComponent("contacts.u8")
        let tmpImg = directory.appendingPathComponent(".images.u8.partial"), tmpQA = directory.appendingPathComponent(".qa.jsonl.partial")
        let tmpPatch = directory.appendingPathComponent(".patches.u8.partial")
        let tmpContact = directory.appendingPathComponent(".contacts.u8.partial")
        for t in [tmpImg, tmpQA, tmpPatch, tmpContact] { FileManager.default.createFile(atPath: t.path, contents: nil) }
        guard let hImg = try? FileHandle(forWritingTo: tmpImg), let hQA = try? FileHandle(forWritingTo: tmpQA),
              let hPatch = try? FileHandle(forWritingTo: tmpPatch), let hContact = try? FileHandle(forWritingTo: tmpContact) else {
            throw ShapesWorldError.io(path: directory.path, reason: "cannot open output files")
        }
        let chunk = 256
        var start = 0
        while start < images {
            let n = min(chunk, images - start)
            var pixels = [[UInt8]](repeating: [], count: n)
            var qas = [String](repeating: "", count: n)
            var patches = [[UInt8]](repeating: [], count: n)
            var contacts = [[UInt8]](repeating: [], count: n)
            let s0 = start
            pixels.withUnsafeMutableBufferPointer { px in
              patches.withUnsafeMutableBufferPointer { pl in
               contacts.withUnsafeMutableBufferPointer { ct in
                qas.withUnsafeMutableBufferPointer { qa in
                    DispatchQueue.concurrentPerform(iterations: n) { k in
                        let i = s0 + k
                        let sc = ShapesBenchmark.scene(seed: seed, index: i, sampler: sampler)
                        px[k] = SceneRenderer.render(sc)
                        let masks = PatchLabels.masks(sc)
                        pl[k] = PatchLabels.labels(sc, masks: masks, patchSize: patchSize)
                        ct[k] = ContactLabels.labels(sc, masks: masks, patchSize: patchSize)
                        var g = SplitMix64.derived(seed: seed ^ 0x7A1_0000, UInt64(i) &+ 1)
                        let qs = TrainingQuestions.sample(SceneFacts(scene: sc, sampler: sampler), count: questionsPerImage, &g)
                        let items = qs.map { "[\"\($0.kind.rawValue)\", \(jsonString($0.text)), \(jsonString($0.answer))]" }
                        // Each object's shape, colour and centre (pixels, 0.01 px): what the relation answers are computed from.
                        let objs = sc.objects.map {
                            "[\(jsonString($0.shape.rawValue)), \(jsonString($0.color.rawValue)), \(String(format: "%.2f", $0.centerX)), \(String(format: "%.2f", $0.centerY))]"
                        }
                        // Every pair's contact by the sampler's rule (the truth of "Is the A touching the B?").
                        var pairs: [String] = []
                        for a in masks.indices {
                            for b in masks.indices where b > a {
                                if let c = sampler.contactOrAmbiguous(masks[a], masks[b]) {
                                    pairs.append("[\(a), \(b), \(jsonString(c == .touching ? "touching" : "apart"))]")
                                }
                            }
                        }
                        qa[k] = "{\"image\": \(i), \"qa\": [\(items.joined(separator: ", "))], \"objects\": [\(objs.joined(separator: ", "))], "
                            + "\"contacts\": [\(pairs.joined(separator: ", "))]}\n"
                    }
                }
               }
              }
            }
            for k in 0..<n {
                hImg.write(Data(pixels[k]))
                hPatch.write(Data(patches[k]))
                hContact.write(Data(contacts[k]))
                hQA.write(Data(qas[k].utf8))
            }
            start += n
            progress?(start, images)
        }
        try? hImg.close()
        try? hQA.close()
        try? hPatch.close()
        try? hContact.close()
        for (tmp, dst) in [(tmpImg, imgURL), (tmpQA, qaURL), (tmpPatch, patchURL), (tmpContact, contactURL)] {
            try? FileManager.default.removeItem(at: dst)
            do { try FileManager.default.moveItem(at: tmp, to: dst) } catch {
                throw ShapesWorldError.io(path: dst.path, reason: "cannot move into place: \(error)")
            }
        }
    }
}

/// What each patch of a `patchSize` grid shows: the object with the most visible pixels in it
/// (later objects hide earlier ones) if they cover at least a quarter of the patch, else nothing.
public enum PatchLabels {
    /// [rows * columns * 2] bytes: (shape index + 1, colour index + 1), 0 = background.
    public static func labels(_ scene: Scene, patchSize p: Int) -> [UInt8] {
        labels(scene, masks: masks(scene), patchSize: p)
    }

    /// Each object's pixel mask (`PolygonCoverage.mask`), in drawing order.
    public static func masks(_ scene: Scene) -> [[Bool]] {
        scene.objects.map { PolygonCoverage.mask(PolygonCoverage.coverage($0.polygon, width: scene.width, height: scene.height)) }
    }

    /// `labels(_:patchSize:)` from the objects' masks (`masks(_:)`).
    public static func labels(_ scene: Scene, masks: [[Bool]], patchSize p: Int) -> [UInt8] {
        let w = scene.width, h = scene.height, cols = w / p, rows = h / p
        var owner = [Int](repeating: -1, count: w * h)
        for (k, m) in masks.enumerated() {
            for i in 0..<(w * h) where m[i] { owner[i] = k }
        }
        var out = [UInt8](repeating: 0, count: rows * cols * 2)
        for r in 0..<rows {
            for c in 0..<cols {
                var counts = [Int](repeating: 0, count: scene.objects.count)
                for y in (r * p)..<((r + 1) * p) {
                    for x in (c * p)..<((c + 1) * p) where owner[y * w + x] >= 0 { counts[owner[y * w + x]] += 1 }
                }
                guard let best = counts.indices.max(by: { counts[$0] < counts[$1] }), counts[best] * 4 >= p * p else { continue }
                let o = scene.objects[best]
                out[(r * cols + c) * 2] = UInt8((ShapeKind.allCases.firstIndex(of: o.shape) ?? 0) + 1)
                out[(r * cols + c) * 2 + 1] = UInt8((ShapeColor.allCases.firstIndex(of: o.color) ?? 0) + 1)
            }
        }
        return out
    }
}

/// Where objects touch, per patch: bit k (`ShapeKind.allCases[k]`) is set when the patch holds a
/// pixel at which an object of that kind touches another object, a pixel of one object's mask that
/// is in or 8-adjacent to the other's: the rule `SceneSampler.contact` calls touching, so a pair
/// marks some patch exactly when it touches. What the pixels show at 4 px and up, and the patch
/// labels at 14 px do not: a training target for the vision tower.
public enum ContactLabels {
    /// [rows * columns] bytes, raster order; objects' masks from `PatchLabels.masks`.
    public static func labels(_ scene: Scene, masks: [[Bool]], patchSize p: Int) -> [UInt8] {
        let w = scene.width, h = scene.height, cols = w / p, rows = h / p
        var out = [UInt8](repeating: 0, count: rows * cols)
        let near = masks.map { PolygonCoverage.dilate($0, width: w, height: h, by: 1) }
        let bit = scene.objects.map { UInt8(1 << (ShapeKind.allCases.firstIndex(of: $0.shape) ?? 0)) }
        for a in masks.indices {
            for b in masks.indices where b > a {
                for i in 0..<(w * h) where (near[a][i] && masks[b][i]) || (near[b][i] && masks[a][i]) {
                    let c = (i % w) / p, r = (i / w) / p
                    if c < cols && r < rows { out[r * cols + c] |= bit[a] | bit[b] }
                }
            }
        }
        return out
    }
}

/// File helpers.
public enum ShapesWorldIO {
    /// Renders `scene` and writes it as an 8-bit RGB PNG.
    public static func writeImage(_ scene: Scene, to url: URL) throws {
        try ImageIO.writePNG(RGBImage(width: scene.width, height: scene.height, pixels: SceneRenderer.render(scene)), to: url)
    }
}

func shuffle<T>(_ a: inout [T], _ g: inout SplitMix64) {
    if a.count < 2 { return }
    for i in stride(from: a.count - 1, to: 0, by: -1) {
        let j = g.int(0, i)
        a.swapAt(i, j)
    }
}

func fmt(_ v: Double) -> String { String(format: "%.2f", v) }

func jsonString(_ s: String) -> String {
    var out: [UInt8] = []
    JSONWriter.appendString(s, to: &out)
    return String(decoding: out, as: UTF8.self)
}
