import Foundation
import Imaging
import XCTest
@testable import Benchmarks

/// `clvs-trace eval` and `score` end to end with the embedded random-weight model: a run killed
/// half-way with SIGKILL, resumed, sharded, merged and scored.
final class EvalCLITests: XCTestCase {
    struct Output { let status: Int32; let stdout: String; let stderr: String }

    var binary: URL { Bundle.main.bundleURL.appendingPathComponent("clvs-trace") }
    var tmp: URL!
    var questionFile: URL!
    var images: URL!

    override func setUpWithError() throws {
        struct NotBuilt: Error {}
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            XCTFail("clvs-trace not built at \(binary.path)")
            throw NotBuilt()
        }
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("bench-cli-\(UUID().uuidString)")
        images = tmp.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        // Four small non-square images made here; eight POPE-format questions about them.
        let colors: [(UInt8, UInt8, UInt8)] = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 40)]
        for (i, c) in colors.enumerated() {
            var img = RGBImage(width: 40 + 8 * i, height: 30, fill: c)
            for x in 0..<10 { img.pixels[3 * (15 * img.width + x)] = 255 }
            try ImageIO.writePNG(img, to: images.appendingPathComponent("img\(i).png"))
        }
        let objects = ["dog", "cat", "car", "tree", "person", "boat", "bird", "cup"]
        var lines = ""
        for (i, o) in objects.enumerated() {
            lines += #"{"question_id": \#(i + 1), "image": "img\#(i / 2).png", "text": "Is there a \#(o) in the image?", "label": "\#(i % 2 == 0 ? "yes" : "no")"}"# + "\n"
        }
        questionFile = tmp.appendingPathComponent("coco_pope_random.json")
        try Data(lines.utf8).write(to: questionFile)
    }

    override func tearDownWithError() throws {
        if let tmp { try? FileManager.default.removeItem(at: tmp) }
    }

    func start(_ args: [String]) throws -> (Process, Pipe, Pipe) {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        return (p, out, err)
    }

    func run(_ args: [String]) throws -> Output {
        let (p, out, err) = try start(args)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func evalArgs(out: URL, extra: [String] = []) -> [String] {
        ["eval", "--benchmark", "pope", "--questions", questionFile.path, "--images", images.path, "--out", out.path,
         "--max-new-tokens", "8"] + extra
    }

    func completeLines(_ url: URL) -> Int {
        guard let d = try? Data(contentsOf: url) else { return 0 }
        return d.filter { $0 == UInt8(ascii: "\n") }.count
    }

    func testKilledRunResumesToTheSameAnswersAndScores() throws {
        let out = tmp.appendingPathComponent("answers.jsonl")
        // 1. Start, SIGKILL as soon as the first answer line is on disk.
        let (p, o, e) = try start(evalArgs(out: out))
        let deadline = Date().addingTimeInterval(20)
        while completeLines(out) < 1 && p.isRunning && Date() < deadline { usleep(1000) }
        kill(p.processIdentifier, SIGKILL)
        _ = o.fileHandleForReading.readDataToEndOfFile()
        _ = e.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal, "the run finished before it could be killed")
        let answeredBeforeKill = completeLines(out)
        XCTAssertGreaterThanOrEqual(answeredBeforeKill, 1)
        XCTAssertLessThan(answeredBeforeKill, 8)
        // A line cut in the middle (what a kill during a write would leave).
        let h = try FileHandle(forWritingTo: out)
        h.seekToEndOfFile()
        h.write(Data(#"{"benchmark":"pope","key":"random/8","raw_an"#.utf8))
        h.closeFile()

        // 2. Resume: only the rest is answered, the cut line is removed, the scores are printed.
        let resumed = try run(evalArgs(out: out))
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("8 questions selected, \(answeredBeforeKill) already answered"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("removed a partial last line"), resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("8/8"), resumed.stderr) // progress bar
        let contents = try RunFile.read(out)
        XCTAssertEqual(contents.partialBytes, 0)
        XCTAssertEqual(contents.records.map(\.record.key), (1...8).map { "random/\($0)" })
        XCTAssertEqual(Set(contents.records.map(\.record.key)).count, 8)
        let firstRecord = try XCTUnwrap(contents.records.first?.record)
        XCTAssertEqual(firstRecord.prompt, "Is there a dog in the image?\nAnswer the question using a single word or phrase.")
        XCTAssertEqual(firstRecord.settings, .vanilla)

        // The printed scores are the scorer's on the file.
        let questions = try BenchmarkData.load(benchmark: .pope, questions: [questionFile], annotations: nil)
        let expected = try Scoring.score(try MergedRun.merge(files: [out], questions: questions), questions: questions)
        XCTAssertEqual(resumed.stdout.trimmingCharacters(in: .whitespacesAndNewlines), expected.render())
        XCTAssertTrue(resumed.stdout.contains("pope: 8 of 8 questions answered, vanilla"), resumed.stdout)
        let scored = try run(["score", "--benchmark", "pope", "--questions", questionFile.path, "--answers", out.path])
        XCTAssertEqual(scored.status, 0, scored.stderr)
        XCTAssertEqual(scored.stdout, resumed.stdout)

        // 3. The same benchmark in two shards, uninterrupted: identical answers (greedy), merged by `score`.
        let s0 = tmp.appendingPathComponent("s0.jsonl"), s1 = tmp.appendingPathComponent("s1.jsonl")
        for (k, f) in [(0, s0), (1, s1)] {
            let r = try run(evalArgs(out: f, extra: ["--shard", "\(k)/2"]))
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("pope: 4 of 4 questions answered"), r.stdout)
        }
        let merged = tmp.appendingPathComponent("merged.jsonl")
        let m = try run(["score", "--benchmark", "pope", "--questions", questionFile.path, "--answers", s0.path, "--answers", s1.path,
                         "--merged-out", merged.path, "--scorer", "both"])
        XCTAssertEqual(m.status, 0, m.stderr)
        XCTAssertTrue(m.stdout.hasPrefix(scored.stdout.trimmingCharacters(in: .newlines)), m.stdout)
        XCTAssertTrue(m.stdout.contains("CLVS paper's scorer"), m.stdout)
        let mergedRecords = try RunFile.read(merged).records.map(\.record)
        XCTAssertEqual(mergedRecords.map(\.key), contents.records.map(\.record.key))
        XCTAssertEqual(mergedRecords.map(\.rawAnswer), contents.records.map(\.record.rawAnswer))

        // Duplicates are rejected; a missing shard is reported as gaps (and fails with --require-complete).
        let dup = try run(["score", "--benchmark", "pope", "--questions", questionFile.path, "--answers", s0.path, "--answers", s0.path])
        XCTAssertNotEqual(dup.status, 0)
        XCTAssertTrue(dup.stderr.contains("duplicate answers for 4 question(s)"), dup.stderr)
        let gap = try run(["score", "--benchmark", "pope", "--questions", questionFile.path, "--answers", s0.path, "--require-complete"])
        XCTAssertEqual(gap.status, 2)
        XCTAssertTrue(gap.stdout.contains("INCOMPLETE: 4 question(s) have no answer (random/2, random/4, random/6, random/8)"), gap.stdout)
    }

    func testLimitAndTraceDirWithTheModel() throws {
        let out = tmp.appendingPathComponent("t.jsonl"), traces = tmp.appendingPathComponent("traces")
        let r = try run(evalArgs(out: out, extra: ["--limit", "2", "--trace-dir", traces.path, "--max-new-tokens", "2"]))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("pope: 2 of 2 questions answered"), r.stdout)
        let records = try RunFile.read(out).records.map(\.record)
        XCTAssertEqual(records.map(\.key), ["random/1", "random/2"])
        for rec in records {
            let dir = try XCTUnwrap(rec.trace)
            XCTAssertEqual(dir, traces.appendingPathComponent(rec.key.replacingOccurrences(of: "/", with: "_")).path)
            let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir).appendingPathComponent("trace.json"))) as? [String: Any])
            // The trace is of this question and answer.
            XCTAssertEqual(manifest["answer"] as? String, rec.rawAnswer)
            XCTAssertEqual((manifest["prompt"] as? [String: Any])?["question"] as? String, rec.prompt)
            // The question's notes for the studies: key object (the POPE object), label, key.
            let options = try XCTUnwrap(manifest["options"] as? [String: Any])
            XCTAssertEqual(options["key_object"] as? String, rec.key == "random/1" ? "dog" : "cat")
            XCTAssertEqual(options["label"] as? String, rec.label)
            XCTAssertEqual(options["question_key"] as? String, rec.key)
            XCTAssertTrue(FileManager.default.fileExists(atPath: URL(fileURLWithPath: dir).appendingPathComponent("trace.safetensors").path))
        }
    }

    /// `study sweep`: vanilla + one run per value, each an ordinary resumable answers file whose
    /// scores the CSV repeats; a second call answers nothing new; bad values are refused.
    func testStudySweep() throws {
        let out = tmp.appendingPathComponent("sweep")
        let args = ["study", "sweep", "--benchmark", "pope", "--questions", questionFile.path, "--images", images.path,
                    "--param", "gamma", "--values", "0.5", "1", "--max-new-tokens", "2", "--out", out.path]
        let r = try run(args)
        XCTAssertEqual(r.status, 0, r.stderr)
        let csv = try String(contentsOf: out.appendingPathComponent("sweep.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "parameter,value,method,lambda,gamma,delta,random accuracy,random F1")
        XCTAssertEqual(csv.count, 4)
        XCTAssertTrue(csv[1].hasPrefix("gamma,,vanilla,,,,"), String(csv[1]))
        XCTAssertTrue(csv[2].hasPrefix("gamma,0.5,clvs,0.8,0.5,0.5,"), String(csv[2]))
        XCTAssertTrue(csv[3].hasPrefix("gamma,1.0,clvs,0.8,1.0,0.5,"), String(csv[3]))
        for (row, file) in zip(csv.dropFirst(), ["answers_vanilla.jsonl", "answers_gamma_0.5.jsonl", "answers_gamma_1.0.jsonl"]) {
            let answers = out.appendingPathComponent("answers").appendingPathComponent(file)
            XCTAssertEqual(completeLines(answers), 8, file)
            let score = try run(["score", "--benchmark", "pope", "--questions", questionFile.path, "--answers", answers.path, "--json"])
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(score.stdout.utf8)) as? [String: Any])
            let pope = try XCTUnwrap((json["pope"] as? [[String: Any]])?.first?["metrics"] as? [String: Any])
            let acc = try XCTUnwrap(pope["accuracy"] as? Double)
            let cells = row.split(separator: ",", omittingEmptySubsequences: false)
            XCTAssertEqual(cells[6], Substring(String(format: "%.4f", acc)), file)
            // F1 is undefined (empty cell) when the model answered "no" to every question.
            XCTAssertEqual(cells[7], Substring((pope["f1"] as? Double).map { String(format: "%.4f", $0) } ?? ""), file)
        }
        let f1Defined = csv.dropFirst().contains { !($0.split(separator: ",", omittingEmptySubsequences: false).last ?? "").isEmpty }
        for png in ["sweep_gamma_accuracy.png"] + (f1Defined ? ["sweep_gamma_f1.png"] : []) {
            let d = try Data(contentsOf: out.appendingPathComponent(png))
            XCTAssertEqual(Array(d.prefix(4)), [0x89, 0x50, 0x4E, 0x47], png)
        }
        let again = try run(args)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(completeLines(out.appendingPathComponent("answers/answers_vanilla.jsonl")), 8)
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("sweep.csv"), encoding: .utf8).split(separator: "\n"), csv)

        let both = try run(args + ["--gamma", "0.3"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("--gamma is the swept parameter"), both.stderr)
        let outside = try run(Array(args.prefix(10)) + ["--values", "1.5", "--out", out.path])
        XCTAssertNotEqual(outside.status, 0)
        XCTAssertTrue(outside.stderr.contains("--values must be in [0, 1], found 1.5"), outside.stderr)
    }

    func testClvsRunsAndMissingImagesAreListed() throws {
        let out = tmp.appendingPathComponent("c.jsonl")
        let clvs = try run(evalArgs(out: out, extra: ["--method", "clvs", "--lambda", "0.9"]))
        XCTAssertEqual(clvs.status, 0, clvs.stderr)
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        XCTAssertFalse(lines.isEmpty)
        for line in lines {
            let rec = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertTrue(String(describing: rec).contains("clvs"), "every line records the method: \(line)")
        }
        try FileManager.default.removeItem(at: out)
        let badGamma = try run(evalArgs(out: out, extra: ["--method", "clvs", "--gamma", "2"]))
        XCTAssertTrue(badGamma.stderr.contains("--gamma"), badGamma.stderr)
        let vanillaLambda = try run(evalArgs(out: out, extra: ["--lambda", "0.9"]))
        XCTAssertTrue(vanillaLambda.stderr.contains("--lambda: applies only to --method clvs"), vanillaLambda.stderr)

        try FileManager.default.removeItem(at: images.appendingPathComponent("img1.png"))
        try FileManager.default.removeItem(at: images.appendingPathComponent("img3.png"))
        let missing = try run(evalArgs(out: out))
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("2 of 4 images are missing") && missing.stderr.contains("img1.png, img3.png"), missing.stderr)
        XCTAssertFalse(missing.stderr.contains("Fatal error"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
