// trace-peak-layer: trace one image-question pair and print, for every generated token, the
// decoder layer where the generating token's attention on the image peaks (and, with COCO
// annotations, where its attention on the key object peaks).
//
//   swift run trace-peak-layer
//   swift run trace-peak-layer --clvs
//   swift run trace-peak-layer --annotations Sources/clvs-trace/Resources/default-annotations.json --category circle
//
// Without --model/--image it uses the embedded shapes model (trained on the synthetic shapes
// world, Tests/ShapesModel) and the embedded sample image of that world (its COCO image id is 78).

import Analysis
import ArgumentParser
import Foundation
import Interventions
import Tracing

/// The embedded model and image, found from this file's place in the source tree.
let resources = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Sources/clvs-trace/Resources")

@main
struct TracePeakLayer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace-peak-layer",
        abstract: "Print, per generated token, the layer where attention on the image (and the key object) peaks.")

    @Option(help: "Checkpoint folder (default: the embedded tiny model).")
    var model: String?
    @Option(help: "Image file (default: the embedded shapes sample image).")
    var image: String?
    @Option(help: "The question, put into the LLaVA-1.5 template.")
    var question = "Is there a red circle in the image?"
    @Option(help: "Maximum number of generated tokens.")
    var maxNewTokens = 4
    @Flag(help: "Use CLVS with its default settings instead of vanilla attention.")
    var clvs = false
    @Option(help: "COCO instances JSON: also print the key object's peak layer.")
    var annotations: String?
    @Option(help: "Key-object category (COCO or POPE/AMBER name), with --annotations.")
    var category = "circle"
    @Option(name: .customLong("image-id"), help: "COCO image id (default: 78 for the embedded image, else the digits of the file name).")
    var imageID: Int?
    @Option(help: "Also write the trace and its standard figures to this (new or empty) directory.")
    var out: String?

    func run() throws {
        let modelURL = model.map { URL(fileURLWithPath: $0) } ?? resources.appendingPathComponent("default-model")
        let imageURL = image.map { URL(fileURLWithPath: $0) } ?? resources.appendingPathComponent("default-image.png")
        let prompt = PromptSpec.question(question)
        if let out { try TraceWriter.checkWritable(URL(fileURLWithPath: out)) }  // fail before the run, not after

        // 1. Load the checkpoint and run greedy decoding with the trace recorders attached.
        let ckpt = try LoadedCheckpoint(directory: modelURL)
        let method: Tracing.Method = clvs ? .clvs(CLVSConfig()) : .vanilla
        let outcome = try traceOnePair(ckpt, imageFile: imageURL, prompt: prompt, maxNewTokens: maxNewTokens, method: method)

        // 2. A TraceView is what `clvs-trace` would write, still in memory.
        let (_, manifest) = try assembleTrace(outcome, checkpoint: ckpt, imageFile: imageURL, prompt: prompt,
                                              options: [:], padToSquare: false)
        let trace = TraceView(outcome: outcome, manifest: manifest)
        if let out {
            try writeTrace(outcome, checkpoint: ckpt, imageFile: imageURL, prompt: prompt, options: [:],
                           padToSquare: false, to: URL(fileURLWithPath: out))
        }

        // 3. The key object on the patch grid, when annotations are given.
        var keyObject: KeyObject?
        if let annotations {
            let span = manifest.imageSpan
            keyObject = try KeyObject(annotations: URL(fileURLWithPath: annotations), category: category,
                                      imageID: imageID ?? (image == nil ? 78 : nil), imageFile: imageURL,
                                      geometry: outcome.geometry, gridColumns: span.gridColumns, gridRows: span.gridRows)
        }

        print("model: \(modelURL.lastPathComponent) (\(trace.layers) layers, \(trace.heads) heads), method: \(method.name)")
        print("question: \(question)")
        print("answer: \(String(reflecting: outcome.answer))")
        if let k = keyObject {
            print("key object: \(k.name), \(k.tokens.filter { $0 }.count) of \(k.tokens.count) patches")
        }
        var header = pad("step", 5) + pad("token", 22) + pad("image peak (mass)", 20)
        if keyObject != nil { header += pad("key-object peak (mass)", 24) }
        if outcome.clvs != nil { header += "CLVS stop" }
        print(header.trimmingCharacters(in: .whitespaces))

        // 4. Per step: head-mean mass on the image per layer -> its argmax over layers.
        for (s, id) in outcome.result.generatedIds.enumerated() {
            let perLayer = trace.imageMass(step: s).map { heads in Double(heads.reduce(0, +)) / Double(heads.count) }
            let peak = try LayerAnalysis.peakLayer(perLayer)
            let token = "\(id) " + (ckpt.tokenizer.token(for: id).map { String(reflecting: $0) } ?? "(no entry)")
            var line = pad("\(s)", 5) + pad(token, 22) + pad("\(peak) (\(fmt(perLayer[peak])))", 20)
            if let k = keyObject, k.tokens.contains(true) {
                let mass = try trace.keyObjectAttention(step: s, key: k).mass
                let kp = try LayerAnalysis.peakLayer(mass)
                line += pad("\(kp) (\(fmt(mass[kp])))", 24)
            } else if keyObject != nil {
                line += pad("- (not in the image)", 24)
            }
            if let c = outcome.clvs, c.records.indices.contains(s) {
                line += c.records[s].stopLayer.map { "layer \($0)" } ?? "none"
            }
            print(line.trimmingCharacters(in: .whitespaces))
        }
        if let out { print("wrote \(out)") }
    }
}

/// Left-aligns `s` in a column of `width` characters.
func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
}

func fmt(_ x: Double) -> String { String(format: "%.3f", x) }
