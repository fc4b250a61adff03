/// SplitMix64 (Steele, Lea & Flood 2014): seeds other generators from one 64-bit value.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    /// A generator whose state starts at `seed`.
    public init(seed: UInt64) { state = seed }
    /// The next 64-bit output.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman & Vigna), seeded with four SplitMix64 outputs: a reproducible
/// generator giving the same stream on every platform for a given seed.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// State = the first four SplitMix64 outputs of `seed`.
    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s = (sm.next(), sm.next(), sm.next(), sm.next())
    }

    /// The next 64-bit output.
    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform integer in `0..<bound` (`bound > 0`) by Lemire's multiply-and-reject method,
    /// spelled out so the stream does not depend on the standard library's algorithm.
    public mutating func nextIndex(below bound: UInt64) -> UInt64 {
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }
}

/// Histograms, means and bootstrap confidence intervals.
public enum Descriptive {
    /// Counts per bin for bin edges `edges` (ascending, >= 2): bin `i` is `[edges[i], edges[i+1])`,
    /// the last bin also includes its right edge (numpy `histogram`). Values outside are ignored.
    public static func histogram(_ values: [Double], edges: [Double]) throws -> [Int] {
        guard edges.count >= 2 else { throw StatisticsError.tooFewObservations(context: "histogram edges", count: edges.count, minimum: 2) }
        for i in 1..<edges.count where !(edges[i] > edges[i - 1]) {
            throw StatisticsError.domain(context: "histogram edges must increase, edge \(i)", value: edges[i])
        }
        var counts = [Int](repeating: 0, count: edges.count - 1)
        for v in values where v >= edges[0] && v <= edges[edges.count - 1] {
            // first edge greater than v
            var lo = 0, hi = edges.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if edges[mid] > v { hi = mid } else { lo = mid + 1 }
            }
            counts[min(lo - 1, counts.count - 1)] += 1
        }
        return counts
    }

    /// Arithmetic mean (left-to-right sum / n).
    public static func mean(_ values: [Double]) throws -> Double {
        guard !values.isEmpty else { throw StatisticsError.tooFewObservations(context: "mean", count: 0, minimum: 1) }
        return values.reduce(0, +) / Double(values.count)
    }

    /// Quantile with linear interpolation between order statistics (numpy's default `linear`):
    /// position `(n - 1) q` in the sorted values.
    public static func quantile(sorted: [Double], _ q: Double) -> Double {
        let h = Double(sorted.count - 1) * q
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    /// A mean with its percentile bootstrap confidence interval.
    public struct BootstrapInterval: Sendable, Equatable, Codable {
        public let mean: Double
        public let lower: Double
        public let upper: Double
        public let confidence: Double
        public let resamples: Int
        public let seed: UInt64
    }

    /// Percentile bootstrap CI of the mean: `resamples` resamples of size n drawn with replacement
    /// (indices from `Xoshiro256StarStar(seed:)` via `nextIndex(below: n)`, n draws per resample,
    /// resample after resample), each resample's mean, then the `(1 - confidence)/2` and
    /// `(1 + confidence)/2` quantiles of those means (`quantile(sorted:)`). Reproducible on every
    /// platform for a given seed.
    public static func bootstrapMean(_ values: [Double], confidence: Double = 0.95, resamples: Int = 10_000,
                                     seed: UInt64 = 0) throws -> BootstrapInterval {
        guard !values.isEmpty else { throw StatisticsError.tooFewObservations(context: "bootstrap", count: 0, minimum: 1) }
        guard resamples >= 1 else { throw StatisticsError.domain(context: "bootstrap resamples", value: Double(resamples)) }
        guard confidence > 0, confidence < 1 else { throw StatisticsError.domain(context: "bootstrap confidence", value: confidence) }
        if let i = values.firstIndex(where: { !$0.isFinite }) { throw StatisticsError.nonFinite(context: "bootstrap", index: i) }
        var rng = Xoshiro256StarStar(seed: seed)
        let n = values.count
        var means = [Double](repeating: 0, count: resamples)
        for r in 0..<resamples {
            var s = 0.0
            for _ in 0..<n { s += values[Int(rng.nextIndex(below: UInt64(n)))] }
            means[r] = s / Double(n)
        }
        means.sort()
        let alpha = (1 - confidence) / 2
        return BootstrapInterval(mean: try mean(values), lower: quantile(sorted: means, alpha),
                                 upper: quantile(sorted: means, 1 - alpha), confidence: confidence,
                                 resamples: resamples, seed: seed)
    }
}
