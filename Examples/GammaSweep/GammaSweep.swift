// gamma-sweep: run CLVS on one image-question pair for several values of gamma (the memory
// weight), print a table and plot two curves against gamma: the head-mean attention mass on the
// image averaged over all layers, and the attention on the key object averaged over the middle
// layers. Vanilla attention is drawn as dashed reference lines.
//
//   swift run gamma-sweep
//   swift run gamma-sweep --gammas 0 0.5 0.9 --lambda 0.5 --middle 3-5
//
// Without --model/--image it uses the embedded shapes model, its sample image and that image's
// COCO annotations (Sources/clvs-trace/Resources). Writes examples-out/gamma_sweep.png by default.

import Analysis
import ArgumentParser
import Foundation
import Interventions
import Plotting
import Tracing

/// The repository's Examples folder and the embedded model and image, found from this file.
let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let resources = examples.deletingLastPathComponent().appendingPathComponent("Sources/clvs-trace/Resources")

/// Bad command-line values, named.
struct SweepError: Error, CustomStringConvertible {
    var description: String
}

@main
struct GammaSweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gamma-sweep",
        abstract: "Run CLVS for several gamma values on one pair; print a table and plot attention against gamma.")

    @Option(help: "Checkpoint folder (default: the embedded tiny model).")
    var model: String?
    @Option(help: "Image file (default: the embedded shapes sample image).")
    var image: String?
    @Option(help: "The question, put into the LLaVA-1.5 template.")
    var question = "Is there a red circle in the image?"
    @Option(parsing: .upToNextOption, help: "Gamma values to run, each in [0, 1].")
    var gammas: [Float] = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    @Option(help: "CLVS lambda, fixed during the sweep.")
    var lambda: Float = 0.8
    @Option(help: "CLVS delta, fixed during the sweep.")
    var delta: Float = 0.5
    @Option(help: "COCO instances JSON of the image (default: the embedded sample's default-annotations.json for the embedded image, else none).")
    var annotations: String?
    @Option(help: "Key-object category.")
    var category = "circle"
    @Option(name: .customLong("image-id"), help: "COCO image id (default: 78 for the embedded image, else the digits of the file name).")
    var imageID: Int?
    @Option(help: "Middle layers as FIRST-LAST (default: the middle half of the decoder, L/4 ... 3L/4 - 1).")
    var middle: String?
    @Option(help: "Output PNG.")
    var out = "examples-out/gamma_sweep.png"

    func validate() throws {
        if gammas.isEmpty { throw ValidationError("--gammas needs at least one value") }
    }

    func run() throws {
        let modelURL = model.map { URL(fileURLWithPath: $0) } ?? resources.appendingPathComponent("default-model")
        let imageURL = image.map { URL(fileURLWithPath: $0) } ?? resources.appendingPathComponent("default-image.png")
        let annotationsURL = annotations.map { URL(fileURLWithPath: $0) }
            ?? (image == nil ? resources.appendingPathComponent("default-annotations.json") : nil)
        let prompt = PromptSpec.question(question)
        let ckpt = try LoadedCheckpoint(directory: modelURL)
        let L = ckpt.model.config.text.numHiddenLayers
        let mid = try middleLayers(L)

        // One prefill per setting: step 0 is the answer's first token.
        var keyObject: KeyObject?  // the key object on the patch grid, built on the first run
        func measure(_ method: Tracing.Method) throws -> Row {
            let outcome = try traceOnePair(ckpt, imageFile: imageURL, prompt: prompt, maxNewTokens: 1, method: method)
            let (_, manifest) = try assembleTrace(outcome, checkpoint: ckpt, imageFile: imageURL, prompt: prompt,
                                                  options: [:], padToSquare: false)
            let trace = TraceView(outcome: outcome, manifest: manifest)
            let perLayer = trace.imageMass(step: 0).map { Double($0.reduce(0, +)) / Double($0.count) }
            if keyObject == nil, let annotationsURL {
                let span = manifest.imageSpan
                keyObject = try KeyObject(annotations: annotationsURL, category: category,
                                          imageID: imageID ?? (image == nil ? 78 : nil), imageFile: imageURL,
                                          geometry: outcome.geometry, gridColumns: span.gridColumns, gridRows: span.gridRows)
            }
            let key = try keyObject.map { try LayerAnalysis.mean(trace.keyObjectAttention(step: 0, key: $0).mass, layers: mid) }
            let stop = outcome.clvs.map { c in c.records.first?.stopLayer.map(String.init) ?? "none" } ?? "-"
            return Row(imageMass: perLayer.reduce(0, +) / Double(L), keyObject: key,
                       token: ckpt.tokenizer.decode(outcome.result.generatedIds, skipSpecialTokens: false), stop: stop)
        }

        let configs = gammas.map { CLVSConfig(lambda: lambda, gamma: $0, delta: delta) }
        for c in configs { try c.validate(layers: L, vocabulary: ckpt.model.config.text.vocabSize) }
        let vanilla = try measure(.vanilla)
        let rows = try configs.map { try measure(.clvs($0)) }

        // The table.
        let keyColumn = "key object '\(category)', layers \(mid.lowerBound)-\(mid.upperBound)"
        print("lambda = \(lambda), delta = \(delta), \(L) layers; question: \(question)")
        func line(_ cells: [String]) {
            let widths = [9, 32, keyObject == nil ? 0 : 38, 12]
            print(zip(cells, widths).map { $1 == 0 ? "" : $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined()
                  + (cells.last ?? ""))
        }
        line(["gamma", "image mass (mean over layers)", keyColumn, "stop layer", "token"])
        for (name, r) in [("vanilla", vanilla)] + zip(gammas.map { String(format: "%.2f", $0) }, rows) {
            line([name, String(format: "%.4f", r.imageMass), r.keyObject.map { String(format: "%.4f", $0) } ?? "",
                  r.stop, String(reflecting: r.token)])
        }

        // The figure: one curve per quantity against gamma; vanilla as a dashed level of the same colour.
        let x = gammas.map(Double.init)
        func level(_ name: String, _ value: Double, _ color: Color) -> LineSeries {
            LineSeries(name: name, x: x, y: x.map { _ in value }, color: color, marker: .none, style: .dashed)
        }
        var series = [LineSeries(name: "CLVS, image mass (mean over layers)", x: x, y: rows.map(\.imageMass), color: Palette.okabeIto[0]),
                      level("vanilla, image mass", vanilla.imageMass, Palette.okabeIto[0])]
        if let v = vanilla.keyObject {
            series.append(LineSeries(name: "CLVS, \(keyColumn)", x: x, y: rows.map { $0.keyObject ?? 0 },
                                     color: Palette.okabeIto[1], marker: .square))
            series.append(level("vanilla, key object", v, Palette.okabeIto[1]))
        }
        var options = ChartOptions(title: "CLVS: attention against gamma (lambda \(lambda), delta \(delta))",
                                   xLabel: "gamma (memory weight)", yLabel: "attention mass (head mean, step 0)")
        options.y.range = Bounds(0, max((series.flatMap(\.y).max() ?? 1) * 1.1, 1e-6))  // masses from 0
        options.grid = .horizontal
        let url = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Plot.lineChart(series: series, options: options).writePNG(to: url)
        print("wrote \(url.path)")
    }

    /// `--middle FIRST-LAST`, or the middle half of `layers`.
    func middleLayers(_ layers: Int) throws -> ClosedRange<Int> {
        guard let middle else { return (layers / 4)...max(layers / 4, 3 * layers / 4 - 1) }
        let parts = middle.split(separator: "-").map { Int($0) }
        guard parts.count == 2, let a = parts[0], let b = parts[1], 0 <= a, a <= b, b < layers else {
            throw SweepError(description: "--middle \(middle): expected FIRST-LAST with 0 <= FIRST <= LAST < \(layers)")
        }
        return a...b
    }
}

/// One setting's measurements at step 0.
struct Row {
    /// Head-mean attention mass on the image tokens, averaged over layers.
    var imageMass: Double
    /// Key-object attention (head mean) averaged over the middle layers; nil without annotations.
    var keyObject: Double?
    /// The first generated token.
    var token: String
    /// The layer where CLVS stopped smoothing ("none": it never stopped; "-": vanilla).
    var stop: String
}
