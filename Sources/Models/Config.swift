import Foundation
import Tensors

/// Mirrors Hugging Face's `LlamaConfig` (the fields the decoder uses), with its defaults for
/// keys a real `config.json` omits. Accepts both `rope_theta`/`rope_scaling` (transformers 4)
/// and `rope_parameters` (transformers 5).
public struct LlamaTextConfig: Sendable, Equatable {
    public var modelType = "llama"
    public var vocabSize = 32000
    public var hiddenSize = 4096
    public var intermediateSize = 11008
    public var numHiddenLayers = 32
    public var numAttentionHeads = 32
    public var numKeyValueHeads = 32
    public var headDim = 128
    public var hiddenAct: Activation = .silu
    public var maxPositionEmbeddings = 2048
    public var rmsNormEps: Float = 1e-6
    public var ropeTheta: Float = 10000
    /// `rope_type` "linear" factor; 1 for the default rope.
    public var ropeLinearFactor: Float = 1
    public var attentionBias = false
    public var mlpBias = false
    public var tieWordEmbeddings = false
    public var bosTokenId: Int? = 1
    public var eosTokenIds: [Int] = [2]

    public init() {}

    /// Parses a Llama text config object (`text_config` of a LLaVA config, or a whole Llama config).
    public init(json j: JSONObject) throws {
        modelType = try j.string("model_type", default: "llama")
        guard modelType == "llama" else {
            throw ModelError.unsupportedModelType(file: j.file, field: j.field("model_type"), value: modelType)
        }
        vocabSize = try j.int("vocab_size", default: 32000)
        hiddenSize = try j.int("hidden_size", default: 4096)
        intermediateSize = try j.int("intermediate_size", default: 11008)
        numHiddenLayers = try j.int("num_hidden_layers", default: 32)
        numAttentionHeads = try j.int("num_attention_heads", default: 32)
        numKeyValueHeads = try j.int("num_key_value_heads", default: numAttentionHeads)
        for (k, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                       ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
                       ("num_key_value_heads", numKeyValueHeads)] where v <= 0 {
            throw j.bad(k, "must be positive, found \(v)")
        }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw j.bad("num_key_value_heads", "\(numKeyValueHeads) does not divide num_attention_heads \(numAttentionHeads)")
        }
        if let hd = try j.optionalInt("head_dim") {
            headDim = hd
        } else {
            guard hiddenSize % numAttentionHeads == 0 else {
                throw j.bad("hidden_size", "\(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
            }
            headDim = hiddenSize / numAttentionHeads
        }
        guard headDim > 0, headDim % 2 == 0 else { throw j.bad("head_dim", "must be positive and even, found \(headDim)") }
        let act = try j.string("hidden_act", default: "silu")
        guard let a = Activation(rawValue: act) else { throw j.bad("hidden_act", "unknown activation '\(act)'") }
        hiddenAct = a
        maxPositionEmbeddings = try j.int("max_position_embeddings", default: 2048)
        rmsNormEps = Float(try j.double("rms_norm_eps", default: 1e-6))
        attentionBias = try j.bool("attention_bias", default: false)
        mlpBias = try j.bool("mlp_bias", default: false)
        tieWordEmbeddings = try j.bool("tie_word_embeddings", default: false)
        bosTokenId = try j.optionalInt("bos_token_id") ?? 1
        eosTokenIds = try j.intList("eos_token_id") ?? [2]

        // RoPE: transformers 5 writes `rope_parameters`; transformers 4 `rope_theta` + `rope_scaling`.
        var theta = try j.double("rope_theta", default: 10000)
        var ropeSpec = try j.object("rope_scaling")
        if let params = try j.object("rope_parameters") {
            theta = try params.double("rope_theta", default: theta)
            ropeSpec = params
        }
        ropeTheta = Float(theta)
        if let spec = ropeSpec {
            let type = try spec.optionalString("rope_type") ?? spec.optionalString("type") ?? "default"
            switch type {
            case "default":
                break
            case "linear":
                let factor = try spec.double("factor")
                guard factor > 0 else { throw spec.bad("factor", "must be positive") }
                ropeLinearFactor = Float(factor)
            default:
                throw spec.bad("rope_type", "RoPE scaling '\(type)' is not supported by this runtime")
            }
        }
    }

    public var rotary: RotaryEmbedding {
        RotaryEmbedding(headDim: headDim, theta: ropeTheta, linearFactor: ropeLinearFactor)
    }
}

/// Mirrors Hugging Face's `CLIPVisionConfig` (with its defaults for omitted keys).
public struct CLIPVisionConfig: Sendable, Equatable {
    public var modelType = "clip_vision_model"
    public var hiddenSize = 768
    public var intermediateSize = 3072
    public var numHiddenLayers = 12
    public var numAttentionHeads = 12
    public var numChannels = 3
    public var imageSize = 224
    public var patchSize = 32
    public var hiddenAct: Activation = .quickGelu
    public var layerNormEps: Float = 1e-5

    public init() {}

    /// The vision tower LLaVA builds when `vision_config` is absent (CLIP ViT-L/14-336).
    public static var llavaDefault: CLIPVisionConfig {
        var c = CLIPVisionConfig()
        c.hiddenSize = 1024
        c.intermediateSize = 4096
        c.numHiddenLayers = 24
        c.numAttentionHeads = 16
        c.imageSize = 336
        c.patchSize = 14
        return c
    }

    public init(json j: JSONObject) throws {
        modelType = try j.string("model_type", default: "clip_vision_model")
        guard modelType == "clip_vision_model" || modelType == "clip" else {
            throw ModelError.unsupportedModelType(file: j.file, field: j.field("model_type"), value: modelType)
        }
        hiddenSize = try j.int("hidden_size", default: 768)
        intermediateSize = try j.int("intermediate_size", default: 3072)
        numHiddenLayers = try j.int("num_hidden_layers", default: 12)
        numAttentionHeads = try j.int("num_attention_heads", default: 12)
        numChannels = try j.int("num_channels", default: 3)
        imageSize = try j.int("image_size", default: 224)
        patchSize = try j.int("patch_size", default: 32)
        for (k, v) in [("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                       ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
                       ("num_channels", numChannels), ("image_size", imageSize), ("patch_size", patchSize)] where v <= 0 {
            throw j.bad(k, "must be positive, found \(v)")
        }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw j.bad("hidden_size", "\(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
        }
        guard imageSize % patchSize == 0 else {
            throw j.bad("image_size", "\(imageSize) is not a multiple of patch_size \(patchSize)")
        }
        let act = try j.string("hidden_act", default: "quick_gelu")
        guard let a = Activation(rawValue: act) else { throw j.bad("hidden_act", "unknown activation '\(act)'") }
        hiddenAct = a
        layerNormEps = Float(try j.double("layer_norm_eps", default: 1e-5))
    }

    public var headDim: Int { hiddenSize / numAttentionHeads }
    /// Patches per side.
    public var gridSide: Int { imageSize / patchSize }
    public var numPatches: Int { gridSide * gridSide }
}

/// How the vision features are selected from a CLIP hidden state.
public enum VisionFeatureSelectStrategy: String, Sendable, Codable {
    /// Drop the class token (LLaVA-1.5).
    case `default`
    /// Keep the class token.
    case full
}

/// Mirrors Hugging Face's `LlavaConfig`.
public struct LlavaConfig: Sendable, Equatable {
    public var text = LlamaTextConfig()
    public var vision = CLIPVisionConfig.llavaDefault
    public var imageTokenIndex = 32000
    public var projectorHiddenAct: Activation = .gelu
    public var visionFeatureSelectStrategy: VisionFeatureSelectStrategy = .default
    /// One or more CLIP hidden-state indices (negative counts from the end; several are concatenated).
    public var visionFeatureLayers: [Int] = [-2]
    public var multimodalProjectorBias = true
    public var tieWordEmbeddings = false
    public var padTokenId: Int?

    public init() {}

    /// Loads `config.json` of a LLaVA checkpoint.
    public static func load(_ url: URL) throws -> LlavaConfig {
        try LlavaConfig(json: JSONObject.load(url))
    }

    public init(json j: JSONObject) throws {
        let modelType = try j.string("model_type")
        guard modelType == "llava" else {
            throw ModelError.unsupportedModelType(file: j.file, field: "model_type", value: modelType)
        }
        if let t = try j.object("text_config") { text = try LlamaTextConfig(json: t) }
        if let v = try j.object("vision_config") { vision = try CLIPVisionConfig(json: v) }
        imageTokenIndex = try j.optionalInt("image_token_index") ?? j.optionalInt("image_token_id") ?? 32000
        let act = try j.string("projector_hidden_act", default: "gelu")
        guard let a = Activation(rawValue: act) else { throw j.bad("projector_hidden_act", "unknown activation '\(act)'") }
        projectorHiddenAct = a
        let strategy = try j.string("vision_feature_select_strategy", default: "default")
        guard let s = VisionFeatureSelectStrategy(rawValue: strategy) else {
            throw j.bad("vision_feature_select_strategy", "expected 'default' or 'full', found '\(strategy)'")
        }
        visionFeatureSelectStrategy = s
        visionFeatureLayers = try j.intList("vision_feature_layer") ?? [-2]
        guard !visionFeatureLayers.isEmpty else { throw j.bad("vision_feature_layer", "empty list") }
        for layer in visionFeatureLayers {
            let n = vision.numHiddenLayers
            guard layer >= -(n + 1), layer <= n else {
                throw j.bad("vision_feature_layer", "\(layer) is outside the \(n + 1) CLIP hidden states")
            }
        }
        multimodalProjectorBias = try j.bool("multimodal_projector_bias", default: true)
        tieWordEmbeddings = try j.bool("tie_word_embeddings", default: false)
        padTokenId = try j.optionalInt("pad_token_id")
        guard imageTokenIndex >= 0, imageTokenIndex < text.vocabSize else {
            throw j.bad("image_token_index", "\(imageTokenIndex) is outside the text vocabulary (\(text.vocabSize))")
        }
    }

    /// CLIP hidden-state indices (0 = embeddings, i = output of layer i) the features come from.
    public var resolvedFeatureLayers: [Int] {
        visionFeatureLayers.map { $0 < 0 ? vision.numHiddenLayers + 1 + $0 : $0 }
    }

    /// Number of CLIP encoder layers that must run to produce the selected hidden states.
    public var visionLayersNeeded: Int { resolvedFeatureLayers.max() ?? vision.numHiddenLayers }

    /// Tokens one image expands to (patches, plus the class token with the `full` strategy).
    public var imageTokenCount: Int {
        vision.numPatches + (visionFeatureSelectStrategy == .full ? 1 : 0)
    }
}
