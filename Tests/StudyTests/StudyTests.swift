import Analysis
import Foundation
import Interventions
import SafeTensors
import Tracing
import XCTest

/// The multi-trace studies on traces of the embedded model: library values against values
/// recomputed here from the trace tensors, and the `clvs-trace study` commands end to end.
final class StudyTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelDir = repo.appendingPathComponent("Sources/clvs-trace/Resources/default-model")
    static let image = repo.appendingPathComponent("Examples/Data/coco_184324.jpg")
    static let annotations = repo.appendingPathComponent("Tests/AnalysisTests/Fixtures/coco/instances_val2017_subset.json")
    /// Yes/no questions, so each trace has two steps (the answer word and </s>): the shipped model
    /// answers an open question it was never taught ("What is on the table?") with </s> alone.
    static let questions = ["Is there a person in the image?", "Is there a table in the image?"]

    /// Built once: root/{vanilla,clvs}/q{i} traces, root/nolens (one trace without the lens),
    /// root/extra/clvs-unpaired (a CLVS trace whose prompt matches no vanilla trace).
    static var root: URL?
    static var setupError: Error?

    override class func setUp() {
        super.setUp()
        do {
            let r = FileManager.default.temporaryDirectory.appendingPathComponent("clvs-study-\(UUID().uuidString)")
            let ckpt = try LoadedCheckpoint(directory: modelDir)
            for (i, q) in questions.enumerated() {
                for m in [Tracing.Method.vanilla, .clvs(CLVSConfig())] {
                    let outcome = try traceOnePair(ckpt, imageFile: image, prompt: .question(q), maxNewTokens: 2, method: m)
                    try writeTrace(outcome, checkpoint: ckpt, imageFile: image, prompt: .question(q),
                                   options: ["key_object": "person", "image_id": "184324", "method": m.name],
                                   padToSquare: false, figures: false,
                                   to: r.appendingPathComponent("\(m.name)/q\(i)"))
                }
            }
            var noLens = TraceOptions()
            noLens.lens = false
            let o = try traceOnePair(ckpt, imageFile: image, prompt: .question(questions[0]), maxNewTokens: 1, options: noLens)
            try writeTrace(o, checkpoint: ckpt, imageFile: image, prompt: .question(questions[0]), options: [:],
                           padToSquare: false, figures: false, to: r.appendingPathComponent("nolens"))
            // An unpaired CLVS trace: a copy of clvs/q0 with another prompt text.
            let extra = r.appendingPathComponent("extra/clvs-unpaired")
            try FileManager.default.createDirectory(at: extra.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: r.appendingPathComponent("clvs/q0"), to: extra)
            let json = extra.appendingPathComponent("trace.json")
            let text = try String(contentsOf: json, encoding: .utf8)
            try text.replacingOccurrences(of: questions[0], with: "A question nobody asked vanilla?")
                .write(to: json, atomically: true, encoding: .utf8)
            root = r
        } catch {
            setupError = error
        }
    }

    override class func tearDown() {
        if let root { try? FileManager.default.removeItem(at: root) }
        super.tearDown()
    }

    func traces() throws -> URL {
        if let e = Self.setupError { throw e }
        return try XCTUnwrap(Self.root)
    }

    var binary: URL { Bundle.main.bundleURL.appendingPathComponent("clvs-trace") }

    func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// Independent convergence flags of one trace: [layers].
    func expectedConvergence(_ dir: URL, step: Int) throws -> (u: [Float], flags: [Bool]) {
        let f = try SafeTensorsFile(url: dir.appendingPathComponent("trace.safetensors"))
        let gen = try f.int64s("generated_ids")
        let top = try f.int64s("steps.\(step).lens.top_ids"), shape = try f.info("steps.\(step).lens.top_ids").shape
        let u = try f.floats("steps.\(step).lens.uncertainty")
        let L = shape[0], k = shape[1]
        var flags: [Bool] = []
        for l in 0..<L {
            var ok = true
            for m in l..<L where top[m * k] != gen[step] { ok = false }
            flags.append(ok)
        }
        return (u, flags)
    }

    func testConvergenceLibraryAndCLI() throws {
        let root = try traces()
        let dirs = try StudyTraces.discover([root.appendingPathComponent("vanilla"), root.appendingPathComponent("clvs")])
        XCTAssertEqual(dirs.map(\.lastPathComponent), ["q0", "q1", "q0", "q1"])
        for d in dirs {
            XCTAssertEqual(try SafeTensorsFile(url: d.appendingPathComponent("trace.safetensors")).int64s("generated_ids").count, 2,
                           "\(d.path): the study of step 1 needs two generated tokens")
        }
        for step in [0, 1] {
            let study = try ConvergenceStudy.compute(traces: dirs, step: step)
            var x: [Double] = [], y: [Double] = []
            var lines = ["trace,layer,U,converged"]
            for d in dirs {
                let (u, flags) = try expectedConvergence(d, step: step)
                for l in flags.indices {
                    x.append(Double(u[l])); y.append(flags[l] ? 1 : 0)
                    lines.append("\(d.path),\(l),\(Double(u[l])),\(flags[l] ? 1 : 0)")
                }
            }
            XCTAssertEqual(study.n, x.count)
            XCTAssertEqual(study.rows.map(\.converged), y.map { $0 == 1 })
            XCTAssertEqual(study.csv(), lines.joined(separator: "\n") + "\n")
            // Point-biserial r is Pearson's r of the 0/1 flag with U.
            if Set(y).count == 2, let pb = study.pointBiserial {
                let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
                var sxy = 0.0, sxx = 0.0, syy = 0.0
                for i in x.indices { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) * (x[i] - mx); syy += (y[i] - my) * (y[i] - my) }
                XCTAssertEqual(pb.r, sxy / (sxx * syy).squareRoot(), accuracy: 1e-9)
                XCTAssertEqual(pb.n, x.count)
            }
        }

        let out = root.appendingPathComponent("conv-out")
        let r = try run(["study", "convergence", "--traces", root.appendingPathComponent("vanilla").path,
                         root.appendingPathComponent("clvs").path, "--out", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let csv = try String(contentsOf: out.appendingPathComponent("convergence.csv"), encoding: .utf8)
        XCTAssertEqual(csv, try ConvergenceStudy.compute(traces: dirs, step: 0).csv())
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("convergence.json"))) as? [String: Any])
        XCTAssertEqual(json["n"] as? Int, try dirs.count * StudyTraces.manifest(dirs[0]).model.textLayers)
        XCTAssertNotNil(json["status"] as? String)
        let png = try Data(contentsOf: out.appendingPathComponent("figure4.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])

        // Without the lens: a clear error naming the trace; existing output is not overwritten.
        let bad = try run(["study", "convergence", "--traces", root.appendingPathComponent("nolens").path, "--out", root.appendingPathComponent("bad").path])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("nolens") && bad.stderr.contains("without the logit lens"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("bad").path))
        XCTAssertThrowsError(try ConvergenceStudy.compute(traces: [root.appendingPathComponent("nolens")])) {
            XCTAssertTrue("\($0)".contains("without the logit lens"))
        }
        XCTAssertThrowsError(try ConvergenceStudy.compute(traces: dirs, step: 5)) {
            XCTAssertTrue("\($0)".contains("step 5"))
        }
    }

    /// Independent key-object attention: head-mean mass on the key tokens per layer.
    func expectedKeyAttention(_ dir: URL, key: [Bool]) throws -> [Double] {
        let f = try SafeTensorsFile(url: dir.appendingPathComponent("trace.safetensors"))
        let m = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("trace.json"))) as? [String: Any])
        let span = try XCTUnwrap(m["image_span"] as? [String: Any])
        let first = try XCTUnwrap(span["start"] as? Int) + XCTUnwrap(span["grid_offset"] as? Int)
        let shape = try f.info("steps.0.attention").shape
        let a = try f.floats("steps.0.attention")
        let (L, H, K) = (shape[0], shape[1], shape[2])
        return (0..<L).map { l in
            var s = 0.0
            for h in 0..<H { for i in key.indices where key[i] { s += Double(a[(l * H + h) * K + first + i]) } }
            return s / Double(H)
        }
    }

    func testKeyObjectsLibraryAndCLI() throws {
        let root = try traces()
        let v = try StudyTraces.discover([root.appendingPathComponent("vanilla")])
        let c = try StudyTraces.discover([root.appendingPathComponent("clvs"), root.appendingPathComponent("extra")])
        let study = try KeyObjectStudy.compute(vanilla: v, clvs: c, annotations: Self.annotations)
        XCTAssertEqual(study.samples, 2)
        XCTAssertEqual(study.unpaired, [root.appendingPathComponent("extra/clvs-unpaired").path])
        XCTAssertEqual(study.pairs.map { URL(fileURLWithPath: $0.clvs).lastPathComponent }, ["q0", "q1"])
        let L = study.layers
        XCTAssertEqual(study.layerRange, [L / 2 - 1, L / 2 + 1])
        XCTAssertEqual(study.peakHistogram.vanilla.reduce(0, +), 2)
        XCTAssertEqual(study.peakHistogram.clvs.reduce(0, +), 2)

        // The key object through the library's own COCO path (KeyObject's file initializer).
        let m = try StudyTraces.manifest(v[0])
        let key = try KeyObject(annotations: Self.annotations, category: "person", imageID: 184324, imageFile: Self.image,
                                geometry: m.image.geometry, gridColumns: m.imageSpan.gridColumns, gridRows: m.imageSpan.gridRows)
        XCTAssertTrue(key.tokens.contains(true) && key.tokens.contains(false))
        var rel = [Double](repeating: 0, count: L)
        var peaks = (vanilla: [Int](repeating: 0, count: L), clvs: [Int](repeating: 0, count: L))
        for i in 0..<2 {
            let av = try expectedKeyAttention(v[i], key: key.tokens), ac = try expectedKeyAttention(c[i], key: key.tokens)
            let rowsV = study.rows.filter { $0.trace == v[i].path }, rowsC = study.rows.filter { $0.trace == c[i].path }
            XCTAssertEqual(rowsV.count, L); XCTAssertEqual(rowsC.count, L)
            for l in 0..<L {
                XCTAssertEqual(rowsV[l].a, av[l], accuracy: 1e-6)
                XCTAssertEqual(rowsC[l].a, ac[l], accuracy: 1e-6)
                rel[l] += min((ac[l] - av[l]) / av[l], 1) / 2
            }
            // Peak: the first layer holding the maximum.
            peaks.vanilla[try XCTUnwrap(av.firstIndex(of: av.max() ?? .nan))] += 1
            peaks.clvs[try XCTUnwrap(ac.firstIndex(of: ac.max() ?? .nan))] += 1
        }
        XCTAssertEqual(study.relativeIncrease[L / 2], rel[L / 2], accuracy: 1e-6)
        XCTAssertEqual(study.meanRelativeIncreaseOverRange, (rel[L / 2 - 1] + rel[L / 2] + rel[L / 2 + 1]) / 3, accuracy: 1e-6)
        XCTAssertEqual(study.peakHistogram.vanilla, peaks.vanilla)
        XCTAssertEqual(study.peakHistogram.clvs, peaks.clvs)

        // --layers and --category override; a bad range is an error naming the flag.
        let one = try KeyObjectStudy.compute(vanilla: v, clvs: c, annotations: Self.annotations, category: "person", layers: "0-0")
        XCTAssertEqual(one.meanRelativeIncreaseOverRange, rel[0], accuracy: 1e-6)
        XCTAssertThrowsError(try KeyObjectStudy.compute(vanilla: v, clvs: c, annotations: Self.annotations, layers: "2-\(L)")) {
            XCTAssertTrue("\($0)".contains("--layers"))
        }

        let out = root.appendingPathComponent("ko-out")
        let r = try run(["study", "key-objects", "--vanilla", root.appendingPathComponent("vanilla").path,
                         "--clvs", root.appendingPathComponent("clvs").path, root.appendingPathComponent("extra").path,
                         "--annotations", Self.annotations.path, "--out", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning") && r.stderr.contains("clvs-unpaired"), r.stderr)
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("key_objects.csv"), encoding: .utf8), study.csv())
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("key_objects.json"))) as? [String: Any])
        XCTAssertEqual(json["samples"] as? Int, 2)
        let hist = try XCTUnwrap(json["peak_histogram"] as? [String: [Int]])
        XCTAssertEqual(hist["vanilla"], peaks.vanilla)
        for name in ["figure6_peaks.png", "figure6_relative_increase.png", "figure2_mean.png"] {
            let png = try Data(contentsOf: out.appendingPathComponent(name))
            XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], name)
        }
        // Output exists: refused without --force.
        let again = try run(["study", "key-objects", "--vanilla", root.appendingPathComponent("vanilla").path,
                             "--clvs", root.appendingPathComponent("clvs").path, "--annotations", Self.annotations.path, "--out", out.path])
        XCTAssertEqual(again.status, 1)
    }
}
