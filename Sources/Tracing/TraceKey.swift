import Foundation

/// The stable names of the tensors in `trace.safetensors`. Build keys with these constructors,
/// never by formatting strings at call sites; `name` is what appears in the file.
///
/// Shapes: T prompt tokens (after image expansion), S steps, L decoder layers, H heads,
/// N image tokens (the prompt's image span), k lens top-k, Hv/Tv vision heads/tokens.
public enum TraceKey: Hashable, Sendable {
    /// Before or after the intervention's changes to the attention row.
    public enum Stage: String, Sendable { case pre, post }

    /// [T] int64: prompt ids after the `<image>` placeholder is expanded.
    case inputIds
    /// [S] int64: the generated ids (step s chose `generated_ids[s]`).
    case generatedIds
    /// [vocab] fp32: the logits that chose token s (s = 0 is the prefill).
    case stepLogits(step: Int)
    /// [L, H, T + s] fp32: the generating row's attention in every layer over all keys, as applied
    /// (after any intervention).
    case stepAttention(step: Int)
    /// [L, H, N] fp32: the generating row's attention over the image tokens, before / after the
    /// intervention (`pre` is written only when an intervention ran).
    case imageAttention(step: Int, stage: Stage)
    /// [L, H, 3] fp32: the generating row's attention mass on the first token (sink), the image
    /// tokens, and the other text tokens, before / after the intervention.
    case attentionMass(step: Int, stage: Stage)
    /// [L, N] fp32: the CLVS vision memory after each layer (frozen after smoothing stopped).
    case clvsMemory(step: Int)
    /// [] int64: the layer whose uncertainty check stopped smoothing, -1 if it never stopped.
    case clvsStopLayer(step: Int)
    /// [L] fp32: the uncertainty CLVS checked after each layer, NaN where no check ran.
    case clvsUncertainty(step: Int)
    /// [L] fp32: logit lens, CLVS uncertainty: top-10 softmax entropy / ln 10 of the raw residual
    /// stream's unembedding (no final norm), every layer.
    case lensUncertainty(step: Int)
    /// [L] fp32: logit lens, standard: entropy (nats) of the full-vocabulary softmax of
    /// lm_head(final_norm(h_l)).
    case lensEntropy(step: Int)
    /// [L, k] int64: standard lens top-k token ids per layer.
    case lensTopIds(step: Int)
    /// [L, k] fp32: standard lens top-k probabilities per layer.
    case lensTopProbs(step: Int)
    /// [L, H, T, T] fp32 (opt-in): every query row of the prefill, all layers.
    case prefillAttention
    /// [Hv, Tv, Tv] fp32 (opt-in): vision-tower attention of CLIP layer l.
    case visionAttention(layer: Int)

    public var name: String {
        switch self {
        case .inputIds: return "input_ids"
        case .generatedIds: return "generated_ids"
        case let .stepLogits(s): return "steps.\(s).logits"
        case let .stepAttention(s): return "steps.\(s).attention"
        case let .imageAttention(s, stage): return "steps.\(s).image_attention.\(stage.rawValue)"
        case let .attentionMass(s, stage): return "steps.\(s).attention_mass.\(stage.rawValue)"
        case let .clvsMemory(s): return "steps.\(s).clvs.memory"
        case let .clvsStopLayer(s): return "steps.\(s).clvs.stop_layer"
        case let .clvsUncertainty(s): return "steps.\(s).clvs.uncertainty"
        case let .lensUncertainty(s): return "steps.\(s).lens.uncertainty"
        case let .lensEntropy(s): return "steps.\(s).lens.entropy"
        case let .lensTopIds(s): return "steps.\(s).lens.top_ids"
        case let .lensTopProbs(s): return "steps.\(s).lens.top_probs"
        case .prefillAttention: return "prefill.attention"
        case let .visionAttention(l): return "vision.attention.\(l)"
        }
    }

    /// Shape in words, for the manifest and the README.
    public var shapeDoc: String {
        switch self {
        case .inputIds: return "[T]"
        case .generatedIds: return "[S]"
        case .stepLogits: return "[vocab]"
        case .stepAttention: return "[L, H, T + s]"
        case .imageAttention: return "[L, H, N]"
        case .attentionMass: return "[L, H, 3]"
        case .clvsMemory: return "[L, N]"
        case .clvsStopLayer: return "[]"
        case .clvsUncertainty, .lensUncertainty, .lensEntropy: return "[L]"
        case .lensTopIds, .lensTopProbs: return "[L, k]"
        case .prefillAttention: return "[L, H, T, T]"
        case .visionAttention: return "[Hv, Tv, Tv]"
        }
    }

    public var meaning: String {
        switch self {
        case .inputIds: return "prompt token ids after the image placeholder is expanded to the image tokens"
        case .generatedIds: return "greedy generated token ids; step s chose generated_ids[s] (step 0 = prefill)"
        case let .stepLogits(s): return "logits of the forward call of step \(s) (0 = prefill) at its last position; their argmax is generated_ids[\(s)]"
        case let .stepAttention(s): return "post-softmax attention of the generating token's row (the last query row of step \(s)) in every decoder layer and head, over all keys, as applied (after any intervention)"
        case let .imageAttention(s, stage): return "step \(s): the generating row's attention over the image tokens per layer and head, \(stage == .pre ? "before" : "after") the intervention"
        case let .attentionMass(s, stage): return "step \(s): attention mass per layer and head on [first token (sink), image tokens, other text tokens], \(stage == .pre ? "before" : "after") the intervention"
        case let .clvsMemory(s): return "step \(s): CLVS vision memory after each layer's update (frozen after smoothing stopped)"
        case let .clvsStopLayer(s): return "step \(s): layer whose uncertainty check stopped CLVS smoothing, -1 if it never stopped"
        case let .clvsUncertainty(s): return "step \(s): uncertainty U checked by CLVS after each layer (NaN where no check ran)"
        case let .lensUncertainty(s): return "step \(s): logit lens, top-10 normalised entropy of lm_head(h_l) without the final norm (the CLVS uncertainty), every layer"
        case let .lensEntropy(s): return "step \(s): logit lens, entropy in nats of softmax(lm_head(final_norm(h_l))) over the whole vocabulary"
        case let .lensTopIds(s): return "step \(s): logit lens (final norm applied) top-k token ids per layer"
        case let .lensTopProbs(s): return "step \(s): logit lens (final norm applied) top-k probabilities per layer"
        case .prefillAttention: return "every query row of the prefill's attention in every decoder layer (after any intervention)"
        case let .visionAttention(l): return "vision tower layer \(l) attention, all rows (row/column 0 = CLS)"
        }
    }
}
