import Foundation
import Imaging
import SafeTensors
import Tracing
import XCTest

/// Runs the built `clvs-trace` binary end to end on the embedded model, and on bad input.
final class CLITests: XCTestCase {
    struct Output { let status: Int32; let stdout: String; let stderr: String }

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    var binary: URL {
        Bundle.main.bundleURL.appendingPathComponent("clvs-trace")
    }

    var tmp: URL!

    override func setUpWithError() throws {
        struct NotBuilt: Error {}
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            XCTFail("clvs-trace not built at \(binary.path)")
            throw NotBuilt()
        }
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("clvs-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let tmp { try? FileManager.default.removeItem(at: tmp) }
    }

    func run(_ args: [String]) throws -> Output {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func testDefaultRunWritesTrace() throws {
        let out = tmp.appendingPathComponent("trace")
        let r = try run(["--out", out.path, "--max-new-tokens", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let file = try SafeTensorsFile(url: out.appendingPathComponent("trace.safetensors"))
        let ids = try file.int64s("input_ids")
        let gen = try file.int64s("generated_ids")
        XCTAssertFalse(gen.isEmpty)
        XCTAssertLessThanOrEqual(gen.count, 3)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("trace.json"))) as? [String: Any]
        let model = manifest?["model"] as? [String: Any]
        let layers = try XCTUnwrap(model?["text_layers"] as? Int)
        let heads = try XCTUnwrap(model?["text_heads"] as? Int)
        for s in 0..<gen.count {
            XCTAssertEqual(try file.info("steps.\(s).attention").shape, [layers, heads, ids.count + s])
            let logits = try file.floats("steps.\(s).logits")
            // The recorded logits chose the recorded token.
            XCTAssertEqual(logits.indices.max(by: { logits[$0] < logits[$1] }), Int(gen[s]))
            // Every attention row is a distribution.
            let a = try file.floats("steps.\(s).attention")
            let n = ids.count + s
            for row in 0..<(layers * heads) {
                let sum = a[(row * n)..<((row + 1) * n)].reduce(0, +)
                XCTAssertEqual(sum, 1, accuracy: 1e-4)
            }
        }
        let keys = (manifest?["keys"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        XCTAssertTrue(keys.contains("input_ids") && keys.contains("steps.0.attention"))
        let span = manifest?["image_span"] as? [String: Any]
        XCTAssertEqual(span?["count"] as? Int, 64)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.repository.appendingPathComponent(
            "Sources/clvs-trace/Resources/default-model/config.json"))) as? [String: Any]
        let imageToken = try XCTUnwrap(config?["image_token_index"] as? Int)
        let start0 = (span?["start"] as? Int) ?? 0
        XCTAssertEqual(ids[start0..<(start0 + 64)].filter { $0 == Int64(imageToken) }.count, 64)
        // The embedded sample: the shapes model sees the red circle, and the key object is drawn.
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "Yes")
        XCTAssertEqual((manifest?["options"] as? [String: Any])?["key_object"] as? String, "circle")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("key_object_attention.png").path))

        // Logit lens: after the last layer with the final norm, the lens is the model's output.
        for s in 0..<gen.count {
            let top = try file.int64s("steps.\(s).lens.top_ids"), k = top.count / layers
            XCTAssertEqual(top[(layers - 1) * k], gen[s])
            let u = try file.floats("steps.\(s).lens.uncertainty")
            XCTAssertEqual(u.count, layers)
            XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 <= 1 })
            let mass = try file.floats("steps.\(s).attention_mass.post")
            for r in 0..<(layers * heads) { XCTAssertEqual(mass[3 * r] + mass[3 * r + 1] + mass[3 * r + 2], 1, accuracy: 1e-4) }
        }

        // The standard figures, written in the same atomic step.
        for name in ["attention_layers.png", "image_attention_mass.png", "layer_head_matrix.png"] {
            let img = try ImageIO.load(out.appendingPathComponent(name))
            XCTAssertGreaterThan(img.width * img.height, 100_000, name)
        }

        // Reading the trace back: the head-mean grid attention equals the tensor's image slice.
        let view = try TraceView.load(directory: out)
        XCTAssertEqual(view.steps, gen.count)
        let grid = try view.gridAttention(step: 1)
        let a1 = try file.floats("steps.1.attention"), k1 = ids.count + 1
        let start = (span?["start"] as? Int) ?? 0
        for l in [0, layers - 1] {
            for i in [0, 63] {
                let mean = (0..<heads).map { a1[(l * heads + $0) * k1 + start + i] }.reduce(0, +) / Float(heads)
                XCTAssertEqual(grid[l][i], mean, accuracy: 1e-7)
            }
        }

        // `plot` redraws them for another step into another directory.
        let figs = tmp.appendingPathComponent("figs")
        let p = try run(["plot", "--trace", out.path, "--out", figs.path, "--step", "1"])
        XCTAssertEqual(p.status, 0, p.stderr)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: figs.path)),
                       ["attention_layers.png", "image_attention_mass.png", "layer_head_matrix.png", "uncertainty.png"])
        let perHead = try run(["plot", "--trace", out.path, "--out", figs.path, "--heads-of-layer", "2", "--heads-of-layer", "7"])
        XCTAssertEqual(perHead.status, 0, perHead.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: figs.appendingPathComponent("attention_heads_layer7.png").path))
        let badLayer = try run(["plot", "--trace", out.path, "--out", figs.path, "--heads-of-layer", "8"])
        XCTAssertNotEqual(badLayer.status, 0)
        XCTAssertTrue(badLayer.stderr.contains("layer 8"), badLayer.stderr)
        let badStep = try run(["plot", "--trace", out.path, "--out", figs.path, "--step", "99"])
        XCTAssertNotEqual(badStep.status, 0)
        XCTAssertTrue(badStep.stderr.contains("--step 99"), badStep.stderr)
        let notTrace = try run(["plot", "--trace", tmp.path])
        XCTAssertNotEqual(notTrace.status, 0)
        XCTAssertTrue(notTrace.stderr.contains("trace.json"), notTrace.stderr)
    }

    func testCLVSRunCompareAndForce() throws {
        let out = tmp.appendingPathComponent("clvs")
        let r = try run(["--out", out.path, "--method", "clvs", "--delta", "1.01", "--max-new-tokens", "2", "--no-figures"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let file = try SafeTensorsFile(url: out.appendingPathComponent("trace.safetensors"))
        let model = (try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("trace.json"))) as? [String: Any])?["model"] as? [String: Any]
        let layers = try XCTUnwrap(model?["text_layers"] as? Int), heads = try XCTUnwrap(model?["text_heads"] as? Int), n = 64
        XCTAssertEqual(layers, 8)
        // delta above 1 stops at the first check (L / 2 + 1 = 5) in every step.
        XCTAssertEqual(try file.int64s("steps.0.clvs.stop_layer"), [5])
        XCTAssertEqual(try file.info("steps.0.clvs.stop_layer").shape, [])
        XCTAssertEqual(try file.info("steps.1.clvs.memory").shape, [layers, n])
        XCTAssertEqual(try file.info("steps.0.image_attention.pre").shape, [layers, heads, n])
        let pre = try file.floats("steps.0.image_attention.pre"), post = try file.floats("steps.0.image_attention.post")
        // Layer 0 is replaced (unified positions) and layers 1..5 smoothed; after the stop, rows are untouched.
        let layerSize = heads * n
        XCTAssertGreaterThan(maxAbs(pre[0..<layerSize], post[0..<layerSize]), 1e-4)
        XCTAssertGreaterThan(maxAbs(pre[(3 * layerSize)..<(4 * layerSize)], post[(3 * layerSize)..<(4 * layerSize)]), 1e-6)
        XCTAssertEqual(maxAbs(pre[(6 * layerSize)...], post[(6 * layerSize)...]), 0)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("trace.json"))) as? [String: Any]
        let method = manifest?["method"] as? [String: Any]
        XCTAssertEqual(method?["name"] as? String, "clvs")
        XCTAssertEqual((method?["clvs"] as? [String: Any])?["delta"] as? Double ?? 0, 1.01, accuracy: 1e-6)

        // Not empty: refused without --force, replaced with it.
        let again = try run(["--out", out.path, "--compare", "--max-new-tokens", "1"])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("--force"), again.stderr)
        let forced = try run(["--out", out.path, "--compare", "--max-new-tokens", "1", "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        let entries = Set(try FileManager.default.contentsOfDirectory(atPath: out.path))
        XCTAssertTrue(entries.isSuperset(of: ["vanilla", "clvs", "compare_attention_layers.png", "compare_image_mass.png"]), "\(entries)")
        XCTAssertFalse(entries.contains("trace.json"), "the old single-run trace must be gone")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("vanilla/steps").path))
        let v = try SafeTensorsFile(url: out.appendingPathComponent("vanilla/trace.safetensors"))
        XCTAssertNil(v.tensors["steps.0.clvs.memory"])
        XCTAssertNil(v.tensors["steps.0.image_attention.pre"])
        XCTAssertNotNil(try SafeTensorsFile(url: out.appendingPathComponent("clvs/trace.safetensors")).tensors["steps.0.clvs.memory"])
    }

    func testBadHyperparameters() throws {
        let out = tmp.appendingPathComponent("h")
        try assertFails(["--out", out.path, "--method", "clvs", "--lambda", "3"], mentions: "lambda", out: out)
        try assertFails(["--out", out.path, "--method", "clvs", "--gamma", "-0.5"], mentions: "gamma", out: out)
        try assertFails(["--out", out.path, "--method", "clvs", "--delta", "nan"], mentions: "delta", out: out)
        try assertFails(["--out", out.path, "--method", "clvs", "--first-check-layer", "8"], mentions: "first-check-layer", out: out)
    }

    func maxAbs(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    func assertFails(_ args: [String], mentions: String, out: URL, line: UInt = #line) throws {
        let r = try run(args)
        XCTAssertNotEqual(r.status, 0, line: line)
        XCTAssertTrue(r.stderr.contains(mentions), "stderr: \(r.stderr)", line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error"), line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("trace.json").path), line: line)
        let siblings = (try? FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path)) ?? []
        XCTAssertFalse(siblings.contains { $0.contains(".partial-") }, "a partial output was left behind", line: line)
    }

    /// `bench` prints its JSON (both precisions where the CPU has a bf16 kernel); `--trace-overhead`
    /// runs vanilla and CLVS + trace the same number of times and reports a finite overhead.
    func testBenchAndTraceOverhead() throws {
        let r = try run(["bench", "--repeats", "1", "--warmup", "0"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let j = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertGreaterThan(try XCTUnwrap(j["prefill_s"] as? Double), 0)
        XCTAssertEqual(j["precision"] as? String, "fp32")
        let o = try run(["bench", "--trace-overhead", "--repeats", "2", "--warmup", "0", "--gamma", "0.6"])
        XCTAssertEqual(o.status, 0, o.stderr)
        let k = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((k["vanilla_runs"] as? [Double])?.count, 2)
        XCTAssertEqual((k["clvs_trace_runs"] as? [Double])?.count, 2)
        XCTAssertTrue(try XCTUnwrap(k["paired_overhead"] as? Double).isFinite)
        XCTAssertGreaterThan(try XCTUnwrap(k["trace_bytes"] as? Int), 10_000)
        XCTAssertEqual(k["new_tokens"] as? Int, 2)
        XCTAssertTrue(o.stderr.contains("run 2/2: vanilla"), o.stderr)
        let bad = try run(["bench", "--trace-overhead", "--gamma", "1.5"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("gamma"), bad.stderr)
        let bf = try run(["bench", "--repeats", "1", "--warmup", "0", "--precision", "bf16"])
        if bf.status == 0 {
            XCTAssertTrue(bf.stdout.contains("\"precision\":\"bf16\""), bf.stdout)
        } else {
            XCTAssertTrue(bf.stderr.contains("precision bf16 needs"), bf.stderr)
        }
    }

    /// `synth benchmark` writes the benchmark folder and the same bytes twice; bad counts are refused.
    func testSynthBenchmark() throws {
        let a = tmp.appendingPathComponent("a"), b = tmp.appendingPathComponent("b")
        for out in [a, b] {
            let r = try run(["synth", "benchmark", "--seed", "4", "--images", "3", "--out", out.path])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("wrote 3 images"), r.stdout)
        }
        for f in ["images/shapes_000003.png", "pope/coco_pope_adversarial.json", "amber/annotations.json",
                  "annotations/instances_shapes.json", "questions.jsonl", "world.json"] {
            XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(f)), try Data(contentsOf: b.appendingPathComponent(f)), f)
        }
        let bad = try run(["synth", "benchmark", "--images", "0", "--out", a.path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--images must be in 1...1000000, found 0"), bad.stderr)
        let train = try run(["synth", "train", "--questions", "0", "--out", a.path])
        XCTAssertNotEqual(train.status, 0)
        XCTAssertTrue(train.stderr.contains("--questions must be in 1...64"), train.stderr)
    }

    func testBadInputs() throws {
        let out = tmp.appendingPathComponent("o")
        try assertFails(["--out", out.path, "--max-new-tokens", "0"], mentions: "--max-new-tokens", out: out)
        try assertFails(["--out", out.path, "--prompt", "USER: no image ASSISTANT:"], mentions: "exactly one <image>", out: out)
        try assertFails(["--out", out.path, "--prompt", "USER: <image> and <image> ASSISTANT:"], mentions: "exactly one <image>", out: out)
        let corrupt = tmp.appendingPathComponent("corrupt.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 0x4A, 0x46]).write(to: corrupt)
        try assertFails(["--out", out.path, "--image", corrupt.path], mentions: "corrupt.jpg", out: out)
        let missing = tmp.appendingPathComponent("nomodel")
        try assertFails(["--out", out.path, "--model", missing.path], mentions: "nomodel", out: out)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: out.appendingPathComponent("keep.txt"))
        let r = try run(["--out", out.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("not empty"), r.stderr)
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("keep.txt"), encoding: .utf8), "x")
    }
}

/// The analysis subcommands on the committed COCO data.
final class AnalysisCLITests: XCTestCase {
    var binary: URL { Bundle.main.bundleURL.appendingPathComponent("clvs-trace") }
    let coco = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("AnalysisTests/Fixtures/coco/instances_val2017_subset.json")

    func run(_ args: [String]) throws -> (Int32, String, String) {
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

    func testMaskWritesUnionPNGAndGridCSV() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clvs-mask-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let png = dir.appendingPathComponent("truck.png"), csv = dir.appendingPathComponent("truck.csv")
        let (status, out, err) = try run(["mask", "--annotations", coco.path, "--image-id", "172648", "--category", "truck",
                                          "--out", png.path, "--grid", "24x24", "--resize-shortest", "336", "--crop", "336x336",
                                          "--grid-csv", csv.path])
        XCTAssertEqual(status, 0, err)
        let image = try ImageIO.load(png)
        XCTAssertEqual([image.width, image.height], [640, 480])
        var on = 0
        for i in stride(from: 0, to: image.pixels.count, by: 3) {
            XCTAssertTrue(image.pixels[i] == 0 || image.pixels[i] == 255)
            if image.pixels[i] == 255 { on += 1 }
        }
        XCTAssertEqual(on, 50312)  // pycocotools area of the truck union (rle_oracles.json)
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 24 * 24 + 1)
        XCTAssertTrue(out.contains("\"patchesAnyPixel\" : 153"), out)
    }

    func testMaskAndStatsErrorsAreOneLine() throws {
        let (s1, _, e1) = try run(["mask", "--annotations", coco.path, "--image-id", "172648", "--category", "tree", "--out", "/tmp/x.png"])
        XCTAssertNotEqual(s1, 0)
        XCTAssertTrue(e1.contains("tree"), e1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/x.png"))
        let (s2, _, e2) = try run(["stats", "--csv", "/nonexistent/u.csv", "--x", "U", "--y", "c"])
        XCTAssertNotEqual(s2, 0)
        XCTAssertTrue(e2.contains("/nonexistent/u.csv"), e2)
    }
}
