import Foundation

/// A correlation coefficient with its two-sided p-value.
public struct CorrelationResult: Sendable, Equatable, Codable {
    /// Correlation coefficient in [-1, 1].
    public let r: Double
    /// Two-sided p-value of `r = 0` (Student t with `n - 2` degrees of freedom).
    public let p: Double
    /// Number of pairs.
    public let n: Int
}

/// Pearson and point-biserial correlation, matching scipy's `pearsonr` / `pointbiserialr`.
public enum Correlation {
    /// Pearson's r of paired samples and its two-sided p-value.
    ///
    /// `r = sum((x - mx)(y - my)) / sqrt(sum((x - mx)^2) sum((y - my)^2))` (two-pass), clipped to
    /// [-1, 1]. The p-value is scipy's: `2 * P(B > |r|)` for `B` ~ Beta(n/2 - 1, n/2 - 1) on
    /// [-1, 1], i.e. `2 * I_{(1 - |r|)/2}(n/2 - 1, n/2 - 1)`, identical to the Student t test with
    /// `n - 2` degrees of freedom. Needs `n >= 3`. A constant input (all values equal) is an error
    /// (`StatisticsError.constantInput`; scipy returns NaN with a warning).
    public static func pearson(_ x: [Double], _ y: [Double], context: String = "pearson") throws -> CorrelationResult {
        guard x.count == y.count else {
            throw StatisticsError.lengthMismatch(context: context, first: x.count, second: y.count)
        }
        let n = x.count
        guard n >= 3 else { throw StatisticsError.tooFewObservations(context: context, count: n, minimum: 3) }
        if let i = x.firstIndex(where: { !$0.isFinite }) { throw StatisticsError.nonFinite(context: context + " x", index: i) }
        if let i = y.firstIndex(where: { !$0.isFinite }) { throw StatisticsError.nonFinite(context: context + " y", index: i) }
        if x.allSatisfy({ $0 == x[0] }) { throw StatisticsError.constantInput(context: context + " x") }
        if y.allSatisfy({ $0 == y[0] }) { throw StatisticsError.constantInput(context: context + " y") }
        let mx = x.reduce(0, +) / Double(n)
        let my = y.reduce(0, +) / Double(n)
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for i in 0..<n {
            let dx = x[i] - mx, dy = y[i] - my
            sxx += dx * dx; syy += dy * dy; sxy += dx * dy
        }
        var r = sxy / (sxx.squareRoot() * syy.squareRoot())
        r = max(-1, min(1, r))
        let ab = Double(n) / 2 - 1
        let ar = abs(r)
        let p = ar == 1 ? 0 : 2 * SpecialFunctions.ibeta(a: ab, b: ab, x: (1 - ar) / 2, y: (1 + ar) / 2).p
        return CorrelationResult(r: r, p: min(1, p), n: n)
    }

    /// Point-biserial correlation between a binary variable (values 0 and 1) and a continuous one:
    /// Pearson's r with the binary variable coded 0/1 (scipy `pointbiserialr`).
    public static func pointBiserial(binary: [Double], continuous: [Double], context: String = "pointBiserial") throws -> CorrelationResult {
        for (i, v) in binary.enumerated() where v != 0 && v != 1 {
            throw StatisticsError.notBinary(context: context, index: i, value: v)
        }
        return try pearson(binary, continuous, context: context)
    }
}
