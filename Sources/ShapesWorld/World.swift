import Foundation

/// The synthetic "shapes" world: images with 1-5 coloured shapes on textured, noisy backgrounds,
/// with exact polygons, and the questions of the CLVS paper's kinds about them.
///
/// Everything is a function of a seed: the same seed and parameters give the same scenes, pixels,
/// questions and files, byte for byte (the arithmetic is IEEE double with no platform maths
/// beyond `sin`/`cos` of fixed angles, and the random numbers come from `SplitMix64`).

/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, well-mixed 64-bit generator whose output
/// depends only on the seed, unlike `SystemRandomNumberGenerator`.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }
    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }
    /// Uniform integer in lo...hi (modulo bias below 2^-40 for the ranges used here).
    public mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
    /// Index drawn with probability proportional to `weights` (all >= 0, sum > 0).
    public mutating func pick(weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var u = unit() * total
        for (i, w) in weights.enumerated() {
            if u < w { return i }
            u -= w
        }
        return weights.lastIndex { $0 > 0 } ?? 0
    }
    /// A uniformly chosen element (nil for an empty array).
    public mutating func element<T>(_ a: [T]) -> T? { a.isEmpty ? nil : a[int(0, a.count - 1)] }
    /// A stream derived from this seed and a label (so adding a stream never shifts another).
    public static func derived(seed: UInt64, _ label: UInt64) -> SplitMix64 {
        var g = SplitMix64(seed: seed ^ (label &* 0xD1B5_4A32_D192_ED03))
        _ = g.next()
        return g
    }
}

public enum ShapeKind: String, CaseIterable, Sendable, Codable {
    case circle, square, triangle, star, cross

    /// COCO category id (1-based, in `allCases` order).
    public var categoryID: Int { (ShapeKind.allCases.firstIndex(of: self) ?? 0) + 1 }
}

public enum ShapeColor: String, CaseIterable, Sendable, Codable {
    case red, green, blue, yellow, purple, orange

    /// Nominal RGB; each object jitters it.
    public var rgb: (Double, Double, Double) {
        switch self {
        case .red: return (215, 35, 35)
        case .green: return (40, 175, 60)
        case .blue: return (40, 85, 225)
        case .yellow: return (235, 215, 40)
        case .purple: return (150, 55, 200)
        case .orange: return (250, 140, 25)
        }
    }
}

public enum SizeClass: String, Sendable, Codable {
    case small, large
}

/// One object: a shape of one colour and size, its polygon in image pixel coordinates (COCO
/// convention: pixel (x, y) covers [x, x+1) x [y, y+1)).
public struct SceneObject: Sendable, Equatable {
    public var shape: ShapeKind
    public var color: ShapeColor
    public var size: SizeClass
    public var centerX: Double
    public var centerY: Double
    public var radius: Double
    /// Jittered fill colour, 0...255.
    public var fill: [Double]
    /// Closed polygon (first vertex not repeated), (x, y) pairs.
    public var polygon: [(Double, Double)]

    public static func == (a: SceneObject, b: SceneObject) -> Bool {
        a.shape == b.shape && a.color == b.color && a.size == b.size && a.centerX == b.centerX && a.centerY == b.centerY
            && a.radius == b.radius && a.fill == b.fill && a.polygon.count == b.polygon.count
            && zip(a.polygon, b.polygon).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// "red circle".
    public var name: String { "\(color.rawValue) \(shape.rawValue)" }

    /// The polygon of `shape` centred at (cx, cy) with circumradius r.
    public static func polygon(_ shape: ShapeKind, cx: Double, cy: Double, r: Double) -> [(Double, Double)] {
        func at(_ deg: Double, _ rr: Double) -> (Double, Double) {
            let a = deg * Double.pi / 180
            return (cx + rr * cos(a), cy + rr * sin(a))
        }
        switch shape {
        case .circle:
            return (0..<40).map { at(Double($0) * 9, r) }
        case .square:
            let h = r * 0.78
            return [(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)]
        case .triangle:
            // Pointing up (image y grows downwards), centroid at the centre.
            return [at(-90, r), at(30, r), at(150, r)]
        case .star:
            return (0..<10).map { at(-90 + Double($0) * 36, $0 % 2 == 0 ? r : r * 0.45) }
        case .cross:
            let a = r * 0.85, w = r * 0.32
            return [(cx - w, cy - a), (cx + w, cy - a), (cx + w, cy - w), (cx + a, cy - w), (cx + a, cy + w), (cx + w, cy + w),
                    (cx + w, cy + a), (cx - w, cy + a), (cx - w, cy + w), (cx - a, cy + w), (cx - a, cy - w), (cx - w, cy - w)]
        }
    }

    /// Polygon area (shoelace).
    public var area: Double {
        var s = 0.0
        for i in 0..<polygon.count {
            let (x0, y0) = polygon[i], (x1, y1) = polygon[(i + 1) % polygon.count]
            s += x0 * y1 - x1 * y0
        }
        return abs(s) / 2
    }

    /// `[x, y, w, h]` of the polygon.
    public var bbox: [Double] {
        let xs = polygon.map(\.0), ys = polygon.map(\.1)
        let x0 = xs.min() ?? 0, y0 = ys.min() ?? 0
        return [x0, y0, (xs.max() ?? 0) - x0, (ys.max() ?? 0) - y0]
    }
}

/// Background texture kinds.
public enum BackgroundKind: String, Sendable, Codable, CaseIterable {
    case noise, stripes, checker, gradient
}

/// One image's content.
public struct Scene: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var background: BackgroundKind
    /// Background base colour and texture parameters (all drawn from the scene's stream).
    public var backgroundParameters: [Double]
    /// Objects in drawing order (later ones on top).
    public var objects: [SceneObject]
    /// Seed of the per-pixel noise.
    public var noiseSeed: UInt64

    public func object(_ shape: ShapeKind) -> SceneObject? { objects.first { $0.shape == shape } }
}

/// The priors of the world: which shapes are common, which colour each shape tends to have, and
/// which shapes tend to appear together. These give POPE's "popular" and "adversarial" negatives
/// something to mean.
public struct WorldPriors: Sendable {
    /// Probability weight of each shape being drawn first.
    public var shapeWeight: [ShapeKind: Double] = [.circle: 0.28, .square: 0.24, .triangle: 0.20, .star: 0.16, .cross: 0.12]
    /// Each shape's favourite colour (drawn with `favouriteColorProbability`, else uniform over the others).
    public var favouriteColor: [ShapeKind: ShapeColor] = [.circle: .red, .square: .blue, .triangle: .green, .star: .yellow, .cross: .purple]
    public var favouriteColorProbability = 0.4
    /// Multiplier on a shape's weight when the other is already in the image.
    public var affinity: [Set<ShapeKind>: Double] = [[.circle, .star]: 3, [.square, .triangle]: 3, [.cross, .circle]: 2]
    /// Probability of 1...5 objects.
    public var objectCountWeights: [Double] = [0.18, 0.24, 0.24, 0.19, 0.15]
    /// Probability that a new object is placed touching an existing one.
    public var touchProbability = 0.35

    public init() {}
}

/// Scene sampling and rendering parameters.
public struct WorldParameters: Sendable {
    public var width = 112
    public var height = 112
    public var smallRadius: ClosedRange<Double> = 8.5...11.5
    public var largeRadius: ClosedRange<Double> = 14.5...19.5
    /// Two objects count as touching when their pixel masks overlap or are 8-adjacent, and as
    /// apart when at least this many pixels separate them (Chebyshev); anything between is
    /// resampled, so the relation is never ambiguous.
    public var apartGap = 4
    /// Largest overlap, as a fraction of the smaller object's pixels.
    public var maxOverlap = 0.18
    public var priors = WorldPriors()

    public init() {}
}
