import Foundation

/// Errors in intervention settings. Each names the option and the value.
public enum InterventionError: Error, CustomStringConvertible, Equatable {
    case invalidSetting(name: String, value: String, reason: String)
    case unsupported(String)

    public var description: String {
        switch self {
        case let .invalidSetting(name, value, reason): return "\(name) = \(value): \(reason)"
        case let .unsupported(m): return m
        }
    }
}

/// How the per-head attention rows are pooled into one vector over the image tokens.
public enum HeadPooling: String, Sendable, Codable, CaseIterable {
    /// Max over heads (the method).
    case max
    /// Mean over heads (ablation option).
    case mean
}

/// Hyperparameters and ablation switches of Cross-Layer Vision Smoothing, named as in
/// `clvs-method.md` (the reference code's `beta` is `lambda` here).
public struct CLVSConfig: Sendable, Codable, Equatable {
    /// Smoothing weight (Eq. 5): share of the layer's own attention kept when < 1; additive
    /// `A + (lambda - 1) m` when >= 1. Range [0, 2].
    public var lambda: Float = 0.8
    /// Memory EMA weight (Eq. 7), the "soft memory window". Range [0, 1].
    public var gamma: Float = 0.8
    /// Uncertainty threshold: smoothing stops after a check layer with U < delta; <= 0 disables.
    public var delta: Float = 0.5
    /// Top-k logits for the uncertainty U.
    public var topK: Int = 10
    /// Layer 0 with unified image positions (Eq. 2, 4). Off: layer 0 unchanged and the memory
    /// initialised from its ordinary attention.
    public var unifiedPositions = true
    /// Early termination (Eq. 8). Off: smoothing runs through every layer.
    public var earlyTermination = true
    public var headPooling: HeadPooling = .max
    /// Apply the final norm before the uncertainty's unembedding (the MemVR variant); the method
    /// uses the raw residual stream.
    public var uncertaintyFinalNorm = false
    /// First layer whose output is checked; nil = `L / 2 + 1` (the reference's `idx > L // 2`).
    public var firstCheckLayer: Int?

    public init() {}

    public init(lambda: Float, gamma: Float, delta: Float) {
        self.lambda = lambda
        self.gamma = gamma
        self.delta = delta
    }

    /// Checks ranges; a bad value is an error naming it.
    public func validate(layers: Int? = nil, vocabulary: Int? = nil) throws {
        guard lambda.isFinite, lambda >= 0, lambda <= 2 else {
            throw InterventionError.invalidSetting(name: "lambda", value: "\(lambda)", reason: "must be in [0, 2] (< 1 convex smoothing, >= 1 additive)")
        }
        guard gamma.isFinite, gamma >= 0, gamma <= 1 else {
            throw InterventionError.invalidSetting(name: "gamma", value: "\(gamma)", reason: "must be in [0, 1]")
        }
        guard delta.isFinite else {
            throw InterventionError.invalidSetting(name: "delta", value: "\(delta)", reason: "must be finite (<= 0 disables termination)")
        }
        guard topK >= 2, topK <= (vocabulary ?? Int.max) else {
            throw InterventionError.invalidSetting(name: "top-k", value: "\(topK)", reason: "must be at least 2 and at most the vocabulary size")
        }
        if let f = firstCheckLayer, let l = layers, f < 1 || f >= l {
            throw InterventionError.invalidSetting(name: "first-check-layer", value: "\(f)", reason: "must be in [1, \(l - 1)]")
        }
    }

    /// The first checked layer for a decoder with `layers` layers.
    public func checkStart(layers: Int) -> Int { firstCheckLayer ?? (layers / 2 + 1) }
}
