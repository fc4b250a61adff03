import Foundation
import SafeTensors
import Tensors

/// A LLaVA-1.5 model (Hugging Face `LlavaForConditionalGeneration`) loaded from a local folder:
/// CLIP vision tower, 2-layer projector, Llama decoder. Weights stay memory-mapped in their
/// stored dtype; compute is fp32.
public final class LlavaModel: @unchecked Sendable {
    public let directory: URL
    public let config: LlavaConfig
    public let vision: CLIPVisionTower
    public let decoder: LlamaDecoder
    public let weightLayout: LlavaWeightLayout
    let projector1: Linear   // [hidden, visionHidden * featureLayers]
    let projector2: Linear   // [hidden, hidden]

    /// Compute precision of the linear layers.
    public let precision: Precision

    /// Loads `config.json` and the safetensors weights of `directory`, strictly.
    public init(directory: URL, precision: Precision = .fp32) throws {
        self.precision = precision
        self.directory = directory
        let cfg = try LlavaConfig.load(directory.appendingPathComponent("config.json"))
        self.config = cfg
        let archive = try SafeTensorsArchive(directory: directory)
        let store = try WeightStore(archive: archive, directory: directory.path)
        self.weightLayout = store.layout
        CLIPVisionTower.declare(cfg.vision, on: store)
        LlamaDecoder.declare(cfg.text, on: store, tieEmbeddings: cfg.tieWordEmbeddings)
        let d = cfg.text.hiddenSize
        let vin = cfg.vision.hiddenSize * cfg.visionFeatureLayers.count
        let pp = "model.multi_modal_projector."
        store.expect(pp + "linear_1.weight", [d, vin])
        store.expect(pp + "linear_2.weight", [d, d])
        if cfg.multimodalProjectorBias {
            store.expect(pp + "linear_1.bias", [d])
            store.expect(pp + "linear_2.bias", [d])
        }
        try store.verify()
        self.vision = try CLIPVisionTower(config: cfg.vision, store: store, layersNeeded: cfg.visionLayersNeeded, precision: precision)
        self.decoder = try LlamaDecoder(config: cfg.text, store: store, tieEmbeddings: cfg.tieWordEmbeddings, precision: precision)
        self.projector1 = try store.linear(pp + "linear_1", rows: d, cols: vin, bias: cfg.multimodalProjectorBias, precision: precision)
        self.projector2 = try store.linear(pp + "linear_2", rows: d, cols: d, bias: cfg.multimodalProjectorBias, precision: precision)
    }

    /// The selected CLIP features of one image, before the projector: [imageTokens, visionHidden * layers].
    public func imageFeatures(pixels: [Float], width: Int, height: Int, hooks: [AttentionHook] = []) throws -> [Float] {
        let layers = config.resolvedFeatureLayers
        let states = try vision.hiddenStates(pixels: pixels, width: width, height: height, indices: layers, hooks: hooks)
        let dv = config.vision.hiddenSize
        let t = config.vision.numPatches + 1
        let skip = config.visionFeatureSelectStrategy == .default ? 1 : 0
        let n = t - skip
        let width = dv * layers.count
        var out = [Float](repeating: 0, count: n * width)
        for (k, s) in states.enumerated() {
            for i in 0..<n {
                for j in 0..<dv { out[i * width + k * dv + j] = s[(i + skip) * dv + j] }
            }
        }
        return out
    }

    /// Projector: features [n, visionHidden * layers] -> [n, hidden].
    public func project(_ features: [Float], rows: Int) -> [Float] {
        var h = projector1(features, rows: rows)
        h.withUnsafeMutableBufferPointer { config.projectorHiddenAct.apply($0.baseAddress!, count: $0.count) }
        return projector2(h, rows: rows)
    }

    /// Input embeddings for a prompt: token embeddings with the image tokens replaced by the
    /// projected image features, in order. Returns [T, hidden].
    public func inputEmbeddings(layout: TokenLayout, projected: [Float]) throws -> [Float] {
        let d = config.text.hiddenSize
        var x = try decoder.embed(layout.inputIds)
        let positions = layout.inputIds.indices.filter { layout.inputIds[$0] == config.imageTokenIndex }
        guard positions.count * d == projected.count else {
            throw ModelError.invalidInput("the prompt has \(positions.count) image tokens but the image gives \(projected.count / max(d, 1)) features")
        }
        for (i, p) in positions.enumerated() {
            for j in 0..<d { x[p * d + j] = projected[i * d + j] }
        }
        return x
    }
}
