import Foundation
import Imaging
import SafeTensors
import Tracing
import XCTest

/// Runs the example programs (Examples/) on the embedded model and checks what they print
/// against numbers computed here from the trace files they write.
final class ExamplesTests: XCTestCase {
    struct Output { let status: Int32; let stdout: String; let stderr: String }

    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var annotations: URL { repository.appendingPathComponent("Sources/clvs-trace/Resources/default-annotations.json") }
    var image: URL { repository.appendingPathComponent("Sources/clvs-trace/Resources/default-image.png") }
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("clvs-examples-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let tmp { try? FileManager.default.removeItem(at: tmp) }
    }

    func run(_ program: String, _ args: [String]) throws -> Output {
        let binary = Bundle.main.bundleURL.appendingPathComponent(program)
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            XCTFail("\(program) not built at \(binary.path)")
            return Output(status: -1, stdout: "", stderr: "")
        }
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        p.currentDirectoryURL = tmp
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// All `N (X.XXX)` cells of a line: (layer, mass).
    func peakCells(_ line: Substring) -> [(Int, Double)] {
        let words = line.split(separator: " ")
        var cells: [(Int, Double)] = []
        for (a, b) in zip(words, words.dropFirst()) where b.hasPrefix("(") && b.hasSuffix(")") {
            if let l = Int(a), let m = Double(b.dropFirst().dropLast()) { cells.append((l, m)) }
        }
        return cells
    }

    /// Head-mean of `[L, H, 3]` masses, kind `k`: [L].
    func headMean(_ m: [Float], layers: Int, heads: Int, kind k: Int) -> [Double] {
        (0..<layers).map { l in (0..<heads).map { Double(m[(l * heads + $0) * 3 + k]) }.reduce(0, +) / Double(heads) }
    }

    func argmax(_ x: [Double]) -> Int { x.indices.reduce(0) { x[$1] > x[$0] ? $1 : $0 } }

    func testTracePeakLayerAndPlotTrace() throws {
        let dir = tmp.appendingPathComponent("trace")
        let r = try run("trace-peak-layer", ["--clvs", "--max-new-tokens", "3", "--annotations", annotations.path,
                                             "--category", "circle", "--out", dir.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("method: clvs"), r.stdout)
        XCTAssertTrue(r.stdout.contains("CLVS stop"), r.stdout)

        let view = try TraceView.load(directory: dir)
        let file = try SafeTensorsFile(url: dir.appendingPathComponent("trace.safetensors"))
        let L = view.layers, H = view.heads, span = view.manifest.imageSpan
        let key = try KeyObject(annotations: annotations, category: "circle", imageID: 78, imageFile: image,
                                geometry: view.manifest.image.geometry, gridColumns: span.gridColumns, gridRows: span.gridRows)
        XCTAssertTrue(r.stdout.contains("key object: circle, \(key.tokens.filter { $0 }.count) of \(key.tokens.count) patches"), r.stdout)
        XCTAssertGreaterThan(key.tokens.filter { $0 }.count, 0)

        // One printed line per step; its peaks are the argmax over layers of the head-mean masses.
        let lines = r.stdout.split(separator: "\n")
        guard let header = lines.firstIndex(where: { $0.hasPrefix("step") }) else { return XCTFail(r.stdout) }
        let rows = lines[(header + 1)...].filter { !$0.hasPrefix("wrote ") }
        XCTAssertEqual(rows.count, view.steps)
        for (s, line) in rows.enumerated() {
            let cells = peakCells(line)
            XCTAssertEqual(cells.count, 2, String(line))
            guard cells.count == 2 else { continue }
            let image = headMean(try file.floats("steps.\(s).attention_mass.post"), layers: L, heads: H, kind: 1)
            XCTAssertEqual(cells[0].0, argmax(image), "step \(s)")
            XCTAssertEqual(cells[0].1, image[argmax(image)], accuracy: 5.1e-4)
            let grid = view.gridAttentionPerHead(step: s)  // [L, H, N]
            let n = key.tokens.count
            var keyMass = [Double](repeating: 0, count: L)
            for l in 0..<L {
                for h in 0..<H {
                    for i in 0..<n where key.tokens[i] { keyMass[l] += Double(grid[(l * H + h) * n + i]) / Double(H) }
                }
            }
            XCTAssertEqual(cells[1].0, argmax(keyMass), "step \(s)")
            XCTAssertEqual(cells[1].1, keyMass[argmax(keyMass)], accuracy: 5.1e-4)
        }

        // plot-trace on that trace: the printed table is the head mean of attention_mass (post, and pre for the image).
        let png = tmp.appendingPathComponent("mass.png")
        let p = try run("plot-trace", ["--trace", dir.path, "--step", "1", "--out", png.path])
        XCTAssertEqual(p.status, 0, p.stderr)
        let post = try file.floats("steps.1.attention_mass.post"), pre = try file.floats("steps.1.attention_mass.pre")
        let table = p.stdout.split(separator: "\n").map { $0.split(separator: " ").compactMap { Double($0) } }.filter { $0.count == 5 }
        XCTAssertEqual(table.count, L)
        for row in table {
            let l = Int(row[0])
            for k in 0..<3 { XCTAssertEqual(row[1 + k], headMean(post, layers: L, heads: H, kind: k)[l], accuracy: 5.1e-4) }
            XCTAssertEqual(row[4], headMean(pre, layers: L, heads: H, kind: 1)[l], accuracy: 5.1e-4)
        }
        let img = try ImageIO.load(png)
        XCTAssertGreaterThan(img.width * img.height, 100_000)

        let badStep = try run("plot-trace", ["--trace", dir.path, "--step", "9"])
        XCTAssertNotEqual(badStep.status, 0)
        XCTAssertTrue(badStep.stderr.contains("--step 9"), badStep.stderr)
        let notTrace = try run("plot-trace", ["--trace", tmp.appendingPathComponent("none").path])
        XCTAssertNotEqual(notTrace.status, 0)
        XCTAssertTrue(notTrace.stderr.contains("trace.json"), notTrace.stderr)
    }

    func testGammaSweep() throws {
        // The vanilla row against a vanilla trace of the same question.
        let dir = tmp.appendingPathComponent("vanilla")
        let t = try run("trace-peak-layer", ["--max-new-tokens", "1", "--out", dir.path])
        XCTAssertEqual(t.status, 0, t.stderr)
        let view = try TraceView.load(directory: dir)
        let file = try SafeTensorsFile(url: dir.appendingPathComponent("trace.safetensors"))
        let L = view.layers, H = view.heads
        let imageMass = headMean(try file.floats("steps.0.attention_mass.post"), layers: L, heads: H, kind: 1)
        let span = view.manifest.imageSpan
        let key = try KeyObject(annotations: annotations, category: "circle", imageID: 78, imageFile: image,
                                geometry: view.manifest.image.geometry, gridColumns: span.gridColumns, gridRows: span.gridRows)
        let keyMass = try view.keyObjectAttention(step: 0, key: key).mass
        let middle = (L / 4)...(3 * L / 4 - 1)

        let png = tmp.appendingPathComponent("sweep.png")
        let r = try run("gamma-sweep", ["--gammas", "0", "1", "--out", png.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("layers \(middle.lowerBound)-\(middle.upperBound)"), r.stdout)
        let rows = r.stdout.split(separator: "\n").filter { ["vanilla", "0.00", "1.00"].contains($0.split(separator: " ").first ?? "") }
        XCTAssertEqual(rows.count, 3, r.stdout)
        guard let v = rows.first?.split(separator: " ").compactMap({ Double($0) }), v.count >= 2 else { return XCTFail(r.stdout) }
        XCTAssertEqual(v[0], imageMass.reduce(0, +) / Double(L), accuracy: 5.1e-5)
        XCTAssertEqual(v[1], middle.map { keyMass[$0] }.reduce(0, +) / Double(middle.count), accuracy: 5.1e-5)
        for row in rows.dropFirst() {
            let numbers = row.split(separator: " ").compactMap { Double($0) }
            XCTAssertTrue(numbers.count >= 3 && (0...1).contains(numbers[1]) && (0...1).contains(numbers[2]), String(row))
        }
        XCTAssertGreaterThan(try ImageIO.load(png).width, 0)

        let bad = try run("gamma-sweep", ["--gammas", "0.5", "1.5", "--out", png.path])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("gamma = 1.5"), bad.stderr)
        let badMiddle = try run("gamma-sweep", ["--middle", "3-\(L)"])
        XCTAssertNotEqual(badMiddle.status, 0)
        XCTAssertTrue(badMiddle.stderr.contains("--middle"), badMiddle.stderr)
    }
}
