import Foundation

/// The stable names of the tensors in `trace.safetensors`. Build keys with these constructors,
/// never by formatting strings at call sites; `name` is what appears in the file.
public enum TraceKey: Hashable, Sendable {
    /// [T] int64: prompt ids after the `<image>` placeholder is expanded.
    case inputIds
    /// [S] int64: the generated ids (step s chose `generated_ids[s]`).
    case generatedIds
    /// [vocab] fp32: the logits that chose token s (s = 0 is the prefill).
    case stepLogits(step: Int)
    /// [layers, heads, keys] fp32: post-softmax attention of the generating token's row in every
    /// decoder layer at step s, over all keys (keys = T + s).
    case stepAttention(step: Int)

    public var name: String {
        switch self {
        case .inputIds: return "input_ids"
        case .generatedIds: return "generated_ids"
        case let .stepLogits(s): return "steps.\(s).logits"
        case let .stepAttention(s): return "steps.\(s).attention"
        }
    }

    /// Shape in words, for the manifest and the README.
    public var shapeDoc: String {
        switch self {
        case .inputIds: return "[T]"
        case .generatedIds: return "[S]"
        case .stepLogits: return "[vocab]"
        case .stepAttention: return "[layers, heads, T + s]"
        }
    }

    public var meaning: String {
        switch self {
        case .inputIds: return "prompt token ids after the image placeholder is expanded to the image tokens"
        case .generatedIds: return "greedy generated token ids; step s chose generated_ids[s] (step 0 = prefill)"
        case let .stepLogits(s): return "logits of the forward call of step \(s) (0 = prefill) at its last position; their argmax is generated_ids[\(s)]"
        case let .stepAttention(s): return "post-softmax attention of the generating token's row (the last query row of step \(s)) in every decoder layer and head, over all \(s == 0 ? "T" : "T + \(s)") keys"
        }
    }
}
