import ArgumentParser
import Foundation
import Interventions
import Models
import Tracing

/// `clvs-trace run` (the default): answer one question about one image and write the trace.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a LLaVA checkpoint on one image and question (vanilla or CLVS); print the answer; write the trace and its figures.")

    @OptionGroup(title: "Model")
    var checkpoint: ModelOptions

    @Option(help: "Image file, PNG or JPEG (default: the embedded sample image of the shapes world).")
    var image: String?

    @Option(help: "A question, put into the model's prompt template (LLaVA-1.5). Default: \"\(DefaultSample.question)\" (with the embedded image), else \"What is in the image?\".")
    var question: String?

    @Option(help: "A whole prompt with exactly one <image> placeholder, used as given.")
    var prompt: String?

    @Option(help: "Maximum number of generated tokens (>= 1).")
    var maxNewTokens: Int = 16

    @Flag(help: "Pad the image to a square with the mean colour first (LLaVA's image_aspect_ratio=pad).")
    var padToSquare = false

    @Option(help: "Attention method: vanilla or clvs.")
    var method: MethodName = .vanilla

    @OptionGroup(title: "CLVS")
    var clvs: CLVSOptions

    @Flag(help: "Run vanilla and CLVS on the same input; write OUT/vanilla, OUT/clvs and comparison figures.")
    var compare = false

    @OptionGroup(title: "Recording")
    var record: RecordOptions

    @Option(help: "COCO instances JSON: draw the key object's outline and its attention curve.")
    var annotations: String?

    @Option(help: "Key-object category (COCO name, or a POPE/AMBER name), with --annotations.")
    var category: String?

    @Option(name: .customLong("image-id"), help: "COCO image id (default: the digits of the image file name).")
    var imageID: Int?

    @Option(name: .customLong("heads-of-layer"), help: "Also draw per-head overlays of this layer (repeatable).")
    var headsOfLayer: [Int] = []

    @Flag(help: "Do not render the figures.")
    var noFigures = false

    @Flag(help: "Replace a non-empty output directory.")
    var force = false

    @Option(help: "Output directory (must not exist or be empty, unless --force).")
    var out: String

    func validate() throws {
        if question != nil && prompt != nil { throw ValidationError("give either --question or --prompt, not both") }
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1, found \(maxNewTokens)") }
        if out.isEmpty { throw ValidationError("--out must name a directory") }
        if (annotations == nil) != (category == nil) { throw ValidationError("--annotations and --category go together") }
        if compare && method == .clvs { throw ValidationError("--compare runs both methods; leave out --method") }
    }

    func run() throws {
        do {
            let outURL = URL(fileURLWithPath: out)
            try TraceWriter.checkWritable(outURL, force: force)
            let imageURL = try image.map { URL(fileURLWithPath: $0) } ?? EmbeddedResources.defaultImage
            // The embedded sample comes with its question, annotations and key object.
            let sample = image == nil && annotations == nil
            let annotations = try sample ? DefaultSample.annotations.path : self.annotations
            let category = sample ? DefaultSample.keyObject : self.category
            let imageID = sample ? DefaultSample.imageID : self.imageID
            let spec: PromptSpec = prompt.map { .raw($0) } ?? .question(question ?? (image == nil ? DefaultSample.question : "What is in the image?"))
            let ckpt = try checkpoint.load()
            let config = clvs.config
            try config.validate(layers: ckpt.model.config.text.numHiddenLayers, vocabulary: ckpt.model.config.text.vocabSize)
            let methods: [Tracing.Method] = compare ? [.vanilla, .clvs(config)] : [method == .clvs ? .clvs(config) : .vanilla]
            var runs: [(Tracing.Method, TraceOutcome)] = []
            for m in methods {
                let progress = StepProgress(total: maxNewTokens, label: m.name)
                let outcome = try traceOnePair(ckpt, imageFile: imageURL, prompt: spec, maxNewTokens: maxNewTokens,
                                               padToSquare: padToSquare, method: m, options: record.options, observer: progress)
                progress.finish()
                runs.append((m, outcome))
            }
            var keyObject: KeyObject?
            if let annotations, let category, let first = runs.first?.1 {
                let span = first.result.layout.image
                keyObject = try KeyObject(annotations: URL(fileURLWithPath: annotations), category: category, imageID: imageID,
                                          imageFile: imageURL, geometry: first.geometry,
                                          gridColumns: span.gridColumns, gridRows: span.gridRows)
            }
            var settings = ["max_new_tokens": "\(maxNewTokens)", "pad_to_square": "\(padToSquare)", "decoding": "greedy"]
            if let category { settings["key_object"] = category }
            if let imageID { settings["image_id"] = "\(imageID)" }
            var files: [(String, Data)] = []
            var views: [TraceView] = []
            for (m, outcome) in runs {
                var s = settings
                s["method"] = m.name
                let (f, view) = try traceFiles(outcome, checkpoint: ckpt, imageFile: imageURL, prompt: spec, options: s,
                                               padToSquare: padToSquare, figures: !noFigures, keyObject: keyObject,
                                               headsOfLayers: headsOfLayer)
                files += f.map { (compare ? "\(m.name)/\($0.0)" : $0.0, $0.1) }
                views.append(view)
            }
            if compare, !noFigures, views.count == 2, let outcome = runs.first?.1 {
                files += try compareFigures(vanilla: views[0], clvs: views[1], image: outcome.image, keyObject: keyObject)
            }
            try commitDirectory(outURL, force: force) { tmp in
                for (name, data) in files {
                    let url = tmp.appendingPathComponent(name)
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try data.write(to: url)
                }
            }
            for (m, outcome) in runs {
                print(compare ? "\(m.name): \(outcome.answer)" : outcome.answer)
                if let c = outcome.clvs {
                    let stops = c.records.map { $0.stopLayer.map(String.init) ?? "none" }.joined(separator: ", ")
                    FileHandle.standardError.write(Data("CLVS stop layer per step: \(stops)\n".utf8))
                }
            }
            FileHandle.standardError.write(Data("wrote \(outURL.path): \(files.map(\.0).joined(separator: ", "))\n".utf8))
        } catch {
            failWith(error)
        }
    }
}
