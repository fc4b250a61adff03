import Analysis
import Benchmarks
import Foundation
import Imaging
@testable import ShapesWorld
import XCTest

final class ShapesWorldTests: XCTestCase {
    func tempDir(_ name: String) throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("shapes-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: u) }
        return u
    }

    func files(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey])
        while let u = e?.nextObject() as? URL {
            if (try u.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
                out[String(u.path.dropFirst(dir.path.count))] = try Data(contentsOf: u)
            }
        }
        return out
    }

    func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

    /// The same seed gives the same bytes in every file; another seed gives other images.
    func testSameSeedSameBytes() throws {
        let a = try tempDir("a"), b = try tempDir("b"), c = try tempDir("c")
        try ShapesBenchmark(seed: 7, images: 12).write(to: a)
        try ShapesBenchmark(seed: 7, images: 12).write(to: b)
        try ShapesBenchmark(seed: 8, images: 12).write(to: c)
        let fa = try files(a), fb = try files(b), fc = try files(c)
        XCTAssertEqual(fa.count, 12 + 3 + 3 + 1 + 2)
        XCTAssertEqual(fa, fb)
        XCTAssertNotEqual(fa["/images/shapes_000001.png"], fc["/images/shapes_000001.png"])
    }

    /// The shipped model was trained on this world: scenes and pixels of the held-out seed must not
    /// drift. (If the world changes on purpose, retrain the model and update these digests.)
    func testWorldIsFrozen() throws {
        let sampler = SceneSampler()
        var digest: [UInt8] = []
        var summary: [String] = []
        for i in 0..<4 {
            let sc = ShapesBenchmark.scene(seed: 1, index: i, sampler: sampler)
            digest += SceneRenderer.render(sc)
            summary.append(sc.objects.map(\.name).joined(separator: "+"))
        }
        XCTAssertEqual(summary, ShapesWorldGolden.heldOutNames)
        XCTAssertEqual(hex(SHA256.hash(digest)), ShapesWorldGolden.heldOutPixelsSHA256)
    }

    /// Each object's COCO polygon, rasterised by the Analysis target (pycocotools' rules), covers the
    /// pixels the renderer filled: IoU with the renderer's majority-coverage mask >= 0.85.
    func testCOCOPolygonsMatchTheRendering() throws {
        let dir = try tempDir("coco")
        let bench = ShapesBenchmark(seed: 3, images: 20)
        try bench.write(to: dir)
        let coco = try COCODataset(contentsOf: dir.appendingPathComponent("annotations/instances_shapes.json"))
        XCTAssertEqual(coco.images.count, 20)
        XCTAssertEqual(coco.categories.map(\.name), ShapeKind.allCases.map(\.rawValue))
        var checked = 0
        for (i, sc) in bench.scenes.enumerated() {
            let anns = coco.annotations(imageID: i + 1)
            XCTAssertEqual(anns.count, sc.objects.count)
            for (a, o) in zip(anns, sc.objects) {
                XCTAssertEqual(a.categoryID, o.shape.categoryID)
                let rle = try coco.rle(of: a)
                let m = rle.decode()
                let mine = PolygonCoverage.mask(PolygonCoverage.coverage(o.polygon, width: sc.width, height: sc.height))
                var inter = 0, union = 0
                for k in 0..<m.count {
                    let x = m[k] != 0, y = mine[k]
                    if x && y { inter += 1 }
                    if x || y { union += 1 }
                }
                XCTAssertGreaterThan(Double(inter) / Double(max(union, 1)), 0.85, "image \(i + 1) \(o.name)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 40)
    }

    /// Labels follow the geometry: left/above from the centres, touching from the masks, existence
    /// from the objects present; POPE splits pair each positive with an absent negative.
    func testLabelsFollowTheScene() throws {
        let bench = ShapesBenchmark(seed: 5, images: 60)
        let sampler = bench.sampler
        for split in ShapesBenchmark.popeSplits {
            let qs = bench.pope[split] ?? []
            XCTAssertEqual(qs.filter { $0.question.label == "yes" }.count, qs.filter { $0.question.label == "no" }.count, split)
            for (img, q) in qs {
                let names = Set(bench.scenes[img].objects.map(\.name))
                let named = names.contains { q.text == "Is there \($0.hasPrefix("orange") ? "an" : "a") \($0) in the image?" }
                XCTAssertEqual(named, q.label == "yes", q.text)
            }
        }
        var kinds = Set<String>()
        for (img, q) in bench.amber["relation"] ?? [] {
            let sc = bench.scenes[img]
            let words = q.text.dropLast().split(separator: " ").map(String.init)
            guard let a = sc.object(ShapeKind(rawValue: words[2]) ?? .circle), let b = sc.object(ShapeKind(rawValue: words.last ?? "") ?? .circle) else {
                return XCTFail("relation question about absent shapes: \(q.text)")
            }
            let truth: Bool
            switch q.type {
            case "left": truth = a.centerX < b.centerX
            case "above": truth = a.centerY < b.centerY
            default:
                let ma = PolygonCoverage.mask(PolygonCoverage.coverage(a.polygon, width: sc.width, height: sc.height))
                let mb = PolygonCoverage.mask(PolygonCoverage.coverage(b.polygon, width: sc.width, height: sc.height))
                let near = PolygonCoverage.dilate(ma, width: sc.width, height: sc.height, by: 1)
                truth = zip(near, mb).contains { $0 && $1 }
                if !truth {
                    let far = PolygonCoverage.dilate(ma, width: sc.width, height: sc.height, by: sampler.parameters.apartGap)
                    XCTAssertFalse(zip(far, mb).contains { $0 && $1 }, "ambiguous gap in \(q.text)")
                }
            }
            XCTAssertEqual(truth, q.label == "yes", "\(q.text) image \(img + 1)")
            kinds.insert("\(q.type)/\(q.label)")
        }
        XCTAssertEqual(kinds.count, 6, "every relation type with both labels: \(kinds.sorted())")
    }

    /// The written files load with the benchmark loaders (POPE folder, AMBER queries + annotations).
    func testFilesLoadAsPOPEAndAMBER() throws {
        let dir = try tempDir("load")
        let bench = ShapesBenchmark(seed: 9, images: 10)
        try bench.write(to: dir)
        let pope = try POPEData.loadSplits(try POPEData.splitFiles(in: dir.appendingPathComponent("pope")))
        XCTAssertEqual(pope.count, 3 * (bench.pope["random"]?.count ?? -1))
        XCTAssertEqual(Set(pope.map(\.category)), ["random", "popular", "adversarial"])
        XCTAssertEqual(pope.first?.existenceObject.map { $0.split(separator: " ").count }, 2)
        let amber = try AMBERData.load(queryFiles: ["attribute", "relation"].map { dir.appendingPathComponent("amber/query_discriminative-\($0).json") },
                                       annotations: dir.appendingPathComponent("amber/annotations.json"))
        XCTAssertEqual(amber.filter { $0.category == "attribute" }.count, bench.amber["attribute"]?.count)
        XCTAssertEqual(amber.filter { $0.category == "relation" }.count, bench.amber["relation"]?.count)
        let img = try ImageIO.load(dir.appendingPathComponent("images/shapes_000001.png"))
        XCTAssertEqual(img.pixels, SceneRenderer.render(bench.scenes[0]))
    }

    /// Popular negatives are the most frequent absent objects; adversarial ones co-occur most.
    func testPopularAndAdversarialNegatives() throws {
        let bench = ShapesBenchmark(seed: 11, images: 80)
        var freq: [String: Int] = [:]
        for sc in bench.scenes { for o in sc.objects { freq[o.name, default: 0] += 1 } }
        for (img, q) in (bench.pope["popular"] ?? []) where q.label == "no" {
            let present = Set(bench.scenes[img].objects.map(\.name))
            let name = q.text.split(separator: " ").dropFirst(3).prefix(2).joined(separator: " ")
            let more = allObjectNames.filter { !present.contains($0) && freq[$0, default: 0] > freq[name, default: 0] }
            XCTAssertLessThan(more.count, 3, "\(name) is not among the most popular absent objects of image \(img + 1)")
        }
    }

    func testTrainingSetFiles() throws {
        let dir = try tempDir("train")
        try ShapesTrainingSet.write(to: dir, seed: 4, images: 5, questionsPerImage: 6)
        let raw = try Data(contentsOf: dir.appendingPathComponent("images.u8"))
        XCTAssertEqual(raw.count, 5 * 112 * 112 * 3)
        let lines = try String(contentsOf: dir.appendingPathComponent("qa.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 5)
        XCTAssertTrue(lines[0].hasPrefix("{\"image\": 0, \"qa\": [["))
        // Image k of the training stream is scene k of the same seed.
        let sc = ShapesBenchmark.scene(seed: 4, index: 2, sampler: SceneSampler())
        XCTAssertEqual(Array(raw[(2 * 112 * 112 * 3)..<(3 * 112 * 112 * 3)]), SceneRenderer.render(sc))
        // Its line lists the scene's objects: shape, colour and centre (0.01 px).
        let line = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        let objects = try XCTUnwrap(line["objects"] as? [[Any]])
        XCTAssertEqual(objects.count, sc.objects.count)
        for (row, o) in zip(objects, sc.objects) {
            XCTAssertEqual(row[0] as? String, o.shape.rawValue)
            XCTAssertEqual(row[1] as? String, o.color.rawValue)
            XCTAssertEqual(try XCTUnwrap((row[2] as? NSNumber)?.doubleValue), o.centerX, accuracy: 0.005)
            XCTAssertEqual(try XCTUnwrap((row[3] as? NSNumber)?.doubleValue), o.centerY, accuracy: 0.005)
        }
        // And every pair's contact, by the sampler's rule.
        let pairs = try XCTUnwrap(line["contacts"] as? [[Any]])
        XCTAssertEqual(pairs.count, sc.objects.count * (sc.objects.count - 1) / 2)
        for row in pairs {
            let a = try XCTUnwrap(row[0] as? Int), b = try XCTUnwrap(row[1] as? Int)
            XCTAssertLessThan(a, b)
            let truth = try XCTUnwrap(SceneSampler().contact(sc.objects[a], sc.objects[b]))
            XCTAssertEqual(row[2] as? String, truth == .touching ? "touching" : "apart")
        }
        var touching = 0, apart = 0
        for l in lines {
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any])
            for row in try XCTUnwrap(o["contacts"] as? [[Any]]) {
                if row[2] as? String == "touching" { touching += 1 } else { apart += 1 }
            }
        }
        XCTAssertGreaterThan(touching, 0, "no touching pair in 5 images")
        XCTAssertGreaterThan(apart, 0, "no apart pair in 5 images")
        let contacts = try Data(contentsOf: dir.appendingPathComponent("contacts.u8"))
        XCTAssertEqual(contacts.count, 5 * 8 * 8)
        XCTAssertEqual(Array(contacts[(2 * 64)..<(3 * 64)]), ContactLabels.labels(sc, masks: PatchLabels.masks(sc), patchSize: 14))
    }

    /// A pair of objects marks some patch with both kinds' bits exactly when the sampler calls it
    /// touching; nothing else is marked.
    func testContactLabelsFollowTheTouchingRule() {
        let sampler = SceneSampler()
        var touchingPairs = 0, apartPairs = 0
        for i in 0..<60 {
            let sc = ShapesBenchmark.scene(seed: 21, index: i, sampler: sampler)
            let labels = ContactLabels.labels(sc, masks: PatchLabels.masks(sc), patchSize: 14)
            XCTAssertEqual(labels.count, 64)
            let bit = { (o: SceneObject) in UInt8(1 << (ShapeKind.allCases.firstIndex(of: o.shape) ?? 0)) }
            var touchingBits: UInt8 = 0
            for (a, oa) in sc.objects.enumerated() {
                for ob in sc.objects[(a + 1)...] {
                    let both = bit(oa) | bit(ob)
                    let marked = labels.contains { $0 & both == both }
                    if sampler.contact(oa, ob) == .touching {
                        touchingPairs += 1
                        touchingBits |= both
                        XCTAssertTrue(marked, "scene \(i): \(oa.name) touches \(ob.name) but no patch says so")
                    } else {
                        apartPairs += 1
                    }
                }
            }
            XCTAssertEqual(labels.reduce(0, |) & ~touchingBits, 0, "scene \(i): a kind marked that touches nothing")
        }
        XCTAssertGreaterThan(touchingPairs, 5)
        XCTAssertGreaterThan(apartPairs, 5)
    }
}
