import ArgumentParser
import Foundation
import Models
import Tracing

/// `clvs-trace run` (the default): answer one question about one image and write the trace.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a LLaVA checkpoint on one image and question; print the answer; write trace.safetensors and trace.json.")

    @Option(help: "Checkpoint folder in Hugging Face layout (default: the embedded tiny model).")
    var model: String?

    @Option(help: "Folder with tokenizer.json if it is not in the model folder.")
    var tokenizer: String?

    @Option(help: "Image file, PNG or JPEG (default: the embedded sample image).")
    var image: String?

    @Option(help: "A question, put into the model's prompt template (LLaVA-1.5).")
    var question: String?

    @Option(help: "A whole prompt with exactly one <image> placeholder, used as given.")
    var prompt: String?

    @Option(help: "Maximum number of generated tokens (>= 1).")
    var maxNewTokens: Int = 16

    @Flag(help: "Pad the image to a square with the mean colour first (LLaVA's image_aspect_ratio=pad).")
    var padToSquare = false

    @Flag(help: "Do not render the standard figures.")
    var noFigures = false

    @Option(help: "Output directory (must not exist or be empty).")
    var out: String

    func validate() throws {
        if question != nil && prompt != nil { throw ValidationError("give either --question or --prompt, not both") }
        if maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1, found \(maxNewTokens)") }
        if out.isEmpty { throw ValidationError("--out must name a directory") }
    }

    func run() throws {
        do {
            let outURL = URL(fileURLWithPath: out)
            try TraceWriter.checkWritable(outURL)
            let modelURL = try model.map { URL(fileURLWithPath: $0) } ?? EmbeddedResources.defaultModel
            let imageURL = try image.map { URL(fileURLWithPath: $0) } ?? EmbeddedResources.defaultImage
            let spec: PromptSpec = prompt.map { .raw($0) } ?? .question(question ?? "What is in the image?")
            let ckpt = try LoadedCheckpoint(directory: modelURL, tokenizerDirectory: tokenizer.map { URL(fileURLWithPath: $0) })
            let progress = StepProgress(total: maxNewTokens)
            let outcome = try traceOnePair(ckpt, imageFile: imageURL, prompt: spec, maxNewTokens: maxNewTokens,
                                           padToSquare: padToSquare, observer: progress)
            progress.finish()
            let files = try writeTrace(outcome, checkpoint: ckpt, imageFile: imageURL, prompt: spec,
                           options: ["max_new_tokens": "\(maxNewTokens)", "pad_to_square": "\(padToSquare)", "method": "vanilla",
                                     "decoding": "greedy"],
                           padToSquare: padToSquare, figures: !noFigures, to: outURL)
            print(outcome.answer)
            FileHandle.standardError.write(Data("wrote \(outURL.path): \(files.joined(separator: ", ")) (\(outcome.result.steps.count) steps)\n".utf8))
        } catch {
            failWith(error)
        }
    }
}
