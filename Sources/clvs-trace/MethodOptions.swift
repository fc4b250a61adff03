import ArgumentParser
import Foundation
import Interventions
import Models
import Tracing

/// The attention method, as a command-line value.
enum MethodName: String, ExpressibleByArgument, CaseIterable {
    case vanilla
    case clvs
}

extension Interventions.HeadPooling: ExpressibleByArgument {}

/// CLVS hyperparameters and ablation switches (`clvs-method.md`), shared by `run` and `eval`.
struct CLVSOptions: ParsableArguments {
    @Option(help: "CLVS smoothing weight lambda in [0, 2] (< 1 convex, >= 1 additive).")
    var lambda: Float = 0.8
    @Option(help: "CLVS memory weight gamma in [0, 1].")
    var gamma: Float = 0.8
    @Option(help: "CLVS uncertainty threshold delta (<= 0 disables early termination).")
    var delta: Float = 0.5
    @Option(name: .customLong("uncertainty-top-k"), help: "Top-k logits of the uncertainty.")
    var uncertaintyTopK: Int = 10
    @Option(name: .customLong("first-check-layer"), help: "First layer checked for termination (default L/2 + 1).")
    var firstCheckLayer: Int?
    @Option(name: .customLong("head-pooling"), help: "Head pooling of the memory: max (the method) or mean.")
    var headPooling: Interventions.HeadPooling = .max
    @Flag(name: .customLong("no-unified-positions"), help: "Ablation: layer 0 without unified image positions.")
    var noUnifiedPositions = false
    @Flag(name: .customLong("no-termination"), help: "Ablation: no early termination.")
    var noTermination = false
    @Flag(name: .customLong("uncertainty-final-norm"), help: "Variant: apply the final norm before the uncertainty's unembedding.")
    var uncertaintyFinalNorm = false

    var config: CLVSConfig {
        var c = CLVSConfig(lambda: lambda, gamma: gamma, delta: delta)
        c.topK = uncertaintyTopK
        c.firstCheckLayer = firstCheckLayer
        c.headPooling = headPooling
        c.unifiedPositions = !noUnifiedPositions
        c.earlyTermination = !noTermination
        c.uncertaintyFinalNorm = uncertaintyFinalNorm
        return c
    }

    func validate() throws {
        do { try config.validate() } catch { throw ValidationError("\(error)") }
    }
}

/// Which optional tensors the trace records.
struct RecordOptions: ParsableArguments {
    @Flag(name: .customLong("no-full-rows"), help: "Do not record steps.{s}.attention (the full generating rows).")
    var noFullRows = false
    @Flag(name: .customLong("no-lens"), help: "Do not record the logit lens.")
    var noLens = false
    @Option(name: .customLong("lens-top-k"), help: "Top-k tokens of the logit lens per layer.")
    var lensTopK: Int = 5
    @Flag(name: .customLong("record-prefill-rows"), help: "Record every query row of the prefill ([L, H, T, T]; large).")
    var recordPrefillRows = false
    @Flag(name: .customLong("record-vision"), help: "Record the vision tower's attention matrices.")
    var recordVision = false

    var options: TraceOptions {
        var o = TraceOptions()
        o.fullRows = !noFullRows
        o.lens = !noLens
        o.lensTopK = lensTopK
        o.prefillRows = recordPrefillRows
        o.visionAttention = recordVision
        return o
    }

    func validate() throws {
        if lensTopK < 1 { throw ValidationError("--lens-top-k must be at least 1") }
    }
}

extension Precision: ExpressibleByArgument {}

/// The checkpoint to load, shared by `run`, `eval` and `bench`.
struct ModelOptions: ParsableArguments {
    @Option(help: "Checkpoint folder in Hugging Face layout (default: the embedded tiny model).")
    var model: String?

    @Option(help: "Folder with tokenizer.json if it is not in the model folder.")
    var tokenizer: String?

    @Option(help: "Compute precision of the linear layers: fp32 (parity with Hugging Face) or bf16 (packed bf16 weights; AVX512-BF16 or AVX2 kernels).")
    var precision: Precision = .fp32

    /// Loads the checkpoint (the embedded model when `--model` is absent).
    func load() throws -> LoadedCheckpoint {
        let dir = try model.map { URL(fileURLWithPath: $0) } ?? EmbeddedResources.defaultModel
        return try LoadedCheckpoint(directory: dir, tokenizerDirectory: tokenizer.map { URL(fileURLWithPath: $0) }, precision: precision)
    }
}
