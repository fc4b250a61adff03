import Foundation

/// How tick labels (and value labels) are written.
public enum TickFormat: Sendable, Equatable {
    /// Decimals chosen from the tick step; scientific notation for very large or small values.
    case auto
    /// Whole numbers.
    case integer
    /// The value times 100 with a `%` sign (0.25 -> "25%").
    case percent
    /// A fixed number of decimals.
    case decimals(Int)
}

/// Nice tick values (steps of 1, 2 or 5 times a power of ten) and their labels.
public enum Ticks {
    /// The smallest step of the form {1, 2, 5} x 10^k that is >= `raw` (1 for non-positive input).
    public static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let e = floor(log10(raw))
        let base = pow(10, e)
        let f = raw / base
        let m: Double
        if f <= 1 + 1e-9 { m = 1 } else if f <= 2 + 1e-9 { m = 2 } else if f <= 5 + 1e-9 { m = 5 } else { m = 10 }
        return m * base
    }

    /// The next coarser nice step (1 -> 2 -> 5 -> 10 times the same power of ten).
    public static func coarser(_ step: Double) -> Double {
        guard step.isFinite, step > 0 else { return 1 }
        let base = pow(10, floor(log10(step) + 1e-9))
        let m = (step / base).rounded()
        if m < 2 { return 2 * base }
        if m < 5 { return 5 * base }
        return 10 * base
    }

    /// Multiples of `step` inside [lo, hi] (within a small tolerance), computed as `k * step` so they
    /// do not accumulate rounding error; values within 1e-9 steps of zero are exactly 0.
    public static func values(lo: Double, hi: Double, step: Double) -> [Double] {
        guard lo.isFinite, hi.isFinite, step.isFinite, step > 0, hi >= lo else { return [] }
        let eps = 1e-9
        // Ticks indistinguishable at this magnitude (or too many): none rather than a trap.
        guard abs(lo / step) < 1e15, abs(hi / step) < 1e15 else { return [] }
        let k0 = Int((lo / step - eps).rounded(.up))
        let k1 = Int((hi / step + eps).rounded(.down))
        guard k1 >= k0, k1 - k0 <= 10_000 else { return [] }
        return (k0...k1).map { k in
            let v = Double(k) * step
            return abs(v) < step * 1e-9 ? 0 : v
        }
    }

    /// Nice ticks for [lo, hi] with roughly `target` intervals.
    public static func nice(lo: Double, hi: Double, target: Int, integer: Bool = false) -> (values: [Double], step: Double) {
        let span = hi - lo
        var step = niceStep(span / Double(max(1, target)))
        if integer { step = max(1, step) }
        return (values(lo: lo, hi: hi, step: step), step)
    }

    /// Label for tick value `v` on an axis whose ticks are `step` apart.
    public static func label(_ v: Double, step: Double, format: TickFormat) -> String {
        var s: String
        switch format {
        case .integer:
            s = String(format: "%.0f", v.rounded())
        case .percent:
            s = String(format: "%.*f", decimals(for: step * 100), v * 100) + "%"
        case .decimals(let d):
            s = String(format: "%.*f", max(0, min(12, d)), v)
        case .auto:
            let mag = max(abs(v), step)
            if mag >= 1e6 || (step < 1e-4 && v != 0) {
                s = String(format: "%.2g", v)
            } else {
                s = String(format: "%.*f", decimals(for: step), v)
            }
        }
        if s.hasPrefix("-") {
            // "-0", "-0.0" after rounding: drop the sign; otherwise use a true minus sign.
            let digits = s.dropFirst()
            if digits.allSatisfy({ $0 == "0" || $0 == "." || $0 == "%" }) {
                s = String(digits)
            } else {
                s = "\u{2212}" + digits
            }
        }
        return s
    }

    /// Decimals needed to write multiples of `step` exactly (0 for steps >= 1).
    static func decimals(for step: Double) -> Int {
        guard step.isFinite, step > 0 else { return 0 }
        return max(0, min(12, Int(-floor(log10(step) + 1e-9))))
    }
}
