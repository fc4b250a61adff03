import Foundation

/// Special functions for the statistics: the regularised incomplete beta function and the
/// Student t and normal tails built on it.
///
/// `I_x(a, b)` is evaluated with its continued fraction (modified Lentz), on the side of the
/// mean where it converges fast (`x < (a + 1) / (a + b + 2)`, else through
/// `I_x(a, b) = 1 - I_{1-x}(b, a)`), so that both `I` and `1 - I` come out with full relative
/// accuracy when small. The prefactor `x^a (1-x)^b / B(a, b)` is computed without cancellation:
/// for `a, b >= 8` in the form of DiDonato & Morris (ACM TOMS 708, `brcomp`): the log terms are
/// written as `t - log(1 + t)` of the relative distance to the mean, plus Stirling corrections;
/// for a small shape, `log B` is split as `lgamma(small) + [lgamma(big) - lgamma(small + big)]`
/// with the bracket from Stirling's series.
public enum SpecialFunctions {
    /// Regularised incomplete beta function `I_x(a, b)`, for `a > 0`, `b > 0`, `0 <= x <= 1`.
    public static func incompleteBeta(a: Double, b: Double, x: Double) throws -> Double {
        try checkBetaArguments(a: a, b: b, x: x)
        return ibeta(a: a, b: b, x: x, y: 1 - x).p
    }

    /// Complement `1 - I_x(a, b)`, accurate when it is small.
    public static func incompleteBetaComplement(a: Double, b: Double, x: Double) throws -> Double {
        try checkBetaArguments(a: a, b: b, x: x)
        return ibeta(a: a, b: b, x: x, y: 1 - x).q
    }

    private static func checkBetaArguments(a: Double, b: Double, x: Double) throws {
        guard a.isFinite, a > 0 else { throw StatisticsError.domain(context: "incompleteBeta a", value: a) }
        guard b.isFinite, b > 0 else { throw StatisticsError.domain(context: "incompleteBeta b", value: b) }
        guard x >= 0, x <= 1 else { throw StatisticsError.domain(context: "incompleteBeta x", value: x) }
    }

    /// Survival function of Student's t with `df` degrees of freedom: `P(T > t)`
    /// (scipy `stats.t.sf`).
    public static func studentTSurvival(_ t: Double, df: Double) throws -> Double {
        guard df.isFinite, df > 0 else { throw StatisticsError.domain(context: "Student t df", value: df) }
        guard !t.isNaN else { throw StatisticsError.domain(context: "Student t statistic", value: t) }
        let tail = studentTail(abs(t), df: df) // (P(|T| > |t|), its complement)
        return t >= 0 ? 0.5 * tail.p : 1 - 0.5 * tail.p
    }

    /// Two-sided p-value of a t statistic: `P(|T| > |t|)`.
    public static func studentTTwoSided(_ t: Double, df: Double) throws -> Double {
        guard df.isFinite, df > 0 else { throw StatisticsError.domain(context: "Student t df", value: df) }
        guard !t.isNaN else { throw StatisticsError.domain(context: "Student t statistic", value: t) }
        return studentTail(abs(t), df: df).p
    }

    /// `P(|T| > t)` for `t >= 0` = `I_x(df/2, 1/2)` with `x = df / (df + t^2)`.
    private static func studentTail(_ t: Double, df: Double) -> (p: Double, q: Double) {
        if t == 0 { return (1, 0) }
        if t.isInfinite { return (0, 1) }
        let x: Double, y: Double
        if t * t > df {
            let r = (df / t) / t // df / t^2 without overflow
            x = r / (1 + r)
            y = 1 / (1 + r)
        } else {
            x = df / (df + t * t)
            y = (t * t) / (df + t * t)
        }
        return ibeta(a: df / 2, b: 0.5, x: x, y: y)
    }

    /// Standard normal survival `P(Z > z)` (scipy `stats.norm.sf`).
    public static func normalSurvival(_ z: Double) -> Double {
        0.5 * erfc(z / 2.0.squareRoot())
    }

    // MARK: incomplete beta core

    /// `(I_x(a, b), 1 - I_x(a, b))` with `y = 1 - x` given separately for accuracy.
    static func ibeta(a: Double, b: Double, x: Double, y: Double) -> (p: Double, q: Double) {
        if x <= 0 { return (0, 1) }
        if y <= 0 { return (1, 0) }
        if x < (a + 1) / (a + b + 2) {
            let p = powerTerms(a: a, b: b, x: x, y: y) * fraction(a: a, b: b, x: x, y: y)
            return (p, 1 - p)
        } else {
            let q = powerTerms(a: b, b: a, x: y, y: x) * fraction(a: b, b: a, x: y, y: x)
            return (1 - q, q)
        }
    }

    /// `I_x(a, b) / (x^a y^b / B(a, b))` by the continued fraction in the form of DiDonato &
    /// Morris (TOMS 708, `bfrac`): the even part of the classical fraction, written with
    /// `lambda = a - (a + b) x` (small near the mean) and evaluated by forward recurrence with
    /// rescaling. Unlike the classical Lentz form its partial terms do not cancel when `a` is
    /// large and `x` near 1.
    static func fraction(a: Double, b: Double, x: Double, y: Double) -> Double {
        let lambda = a > b ? (a + b) * y - b : a - (a + b) * x
        let c = 1 + lambda, c0 = b / a, c1 = 1 + 1 / a, yp1 = y + 1
        var n = 0.0, p = 1.0, s = a + 1
        var an = 0.0, bn = 1.0, anp1 = 1.0, bnp1 = c / c1
        var r = c1 / c
        let limit = 10_000 + Int(min(1e7, 20 * max(a, b).squareRoot()))
        for _ in 0..<limit {
            n += 1
            var t = n / a
            let w = n * (b - n) * x
            var e = a / s
            let alpha = p * (p + c0) * e * e * (w * x)
            e = (t + 1) / (c1 + t + t)
            let beta = n + w / s + e * (c + n * yp1)
            p = t + 1
            s += 2
            t = alpha * an + beta * anp1; an = anp1; anp1 = t
            t = alpha * bn + beta * bnp1; bn = bnp1; bnp1 = t
            let r0 = r
            r = anp1 / bnp1
            if abs(r - r0) <= 1e-16 * r { break }
            an /= bnp1; bn /= bnp1; anp1 = r; bnp1 = 1
        }
        return r
    }

    /// Continued fraction of `I_x(a, b) * a * B(a, b) / (x^a y^b)` (modified Lentz).
    static func continuedFraction(a: Double, b: Double, x: Double) -> Double {
        let tiny = 1e-300
        let eps = 1e-16
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        var m = 1.0
        // Converges in O(sqrt(max(a, b))) steps on this side of the mean.
        let limit = 10_000 + Int(min(1e7, 20 * max(a, b).squareRoot()))
        for _ in 0..<limit {
            let m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let del = d * c
            h *= del
            if abs(del - 1) <= eps { break }
            m += 1
        }
        return h
    }

    /// `x^a y^b / B(a, b)` without cancellation.
    static func powerTerms(a: Double, b: Double, x: Double, y: Double) -> Double {
        let lnx = y < x ? log1p(-y) : log(x)
        let lny = x < y ? log1p(-x) : log(y)
        if min(a, b) >= 8 {
            // x0, y0: the mean of Beta(a, b) and its complement.
            let x0: Double, y0: Double, lambda: Double
            if a <= b {
                let h = a / b
                x0 = h / (1 + h); y0 = 1 / (1 + h)
                lambda = a - (a + b) * x
            } else {
                let h = b / a
                x0 = 1 / (1 + h); y0 = h / (1 + h)
                lambda = (a + b) * y - b
            }
            var e = -lambda / a
            let u = abs(e) > 0.6 ? e - (lnx - log(x0)) : logOnePlusRemainder(e)
            e = lambda / b
            let v = abs(e) > 0.6 ? e - (lny - log(y0)) : logOnePlusRemainder(e)
            let z = exp(-(a * u + b * v) - betaStirlingCorrection(a, b))
            return (b * x0 / (2 * Double.pi)).squareRoot() * z
        }
        let small = min(a, b), big = max(a, b)
        if big < 8 {
            return exp(a * lnx + b * lny - (lgamma(a) + lgamma(b) - lgamma(a + b)))
        }
        // One shape small (< 8), the other big (>= 8):
        // log B = lgamma(small) + lgamma(big) - lgamma(small + big), with
        // lgamma(big) - lgamma(small + big) = -small*log(big) - (small + big - 0.5)*log1p(small/big)
        //                                     + small + del(big) - del(small + big).
        let rest = (small + big - 0.5) * log1p(small / big) - small - stirlingCorrection(big) + stirlingCorrection(small + big)
        // a*lnx + b*lny - log B, with small*log(big) folded into the small shape's log term
        // (log(big * x) avoids the cancellation of small*log(big) against small*log(x)).
        func scaledLog(_ v: Double, _ lnv: Double) -> Double {
            let bv = big * v
            return (v < 0.5 && bv > 0 && bv.isFinite) ? log(bv) : log(big) + lnv
        }
        let lnSmallTerm = a < b ? a * scaledLog(x, lnx) + b * lny : b * scaledLog(y, lny) + a * lnx
        return exp(lnSmallTerm - lgamma(small) + rest)
    }

    /// `t - log(1 + t)` for `|t| <= 0.6`, via `log(1 + t) = 2 atanh(t / (2 + t))`.
    static func logOnePlusRemainder(_ t: Double) -> Double {
        let r = t / (2 + t)
        let r2 = r * r
        var power = r * r2
        var sum = 0.0
        var k = 3.0
        while true {
            let term = power / k
            sum += term
            if abs(term) <= 1e-17 * abs(sum) { break }
            power *= r2
            k += 2
            if k > 201 { break }
        }
        return r * t - 2 * sum
    }

    /// `del(z) = lgamma(z) - ((z - 0.5) log z - z + log(2 pi) / 2)` for `z >= 8` (Stirling series).
    static func stirlingCorrection(_ z: Double) -> Double {
        // B_{2k} / (2k (2k - 1)) for k = 1...9.
        let c: [Double] = [1.0 / 12, -1.0 / 360, 1.0 / 1260, -1.0 / 1680, 1.0 / 1188, -691.0 / 360360,
                           1.0 / 156, -3617.0 / 122400, 43867.0 / 244188]
        let w = 1 / (z * z)
        var sum = 0.0
        for coefficient in c.reversed() { sum = sum * w + coefficient }
        return sum / z
    }

    /// `del(a) + del(b) - del(a + b)` for `a, b >= 8`.
    static func betaStirlingCorrection(_ a: Double, _ b: Double) -> Double {
        stirlingCorrection(a) + stirlingCorrection(b) - stirlingCorrection(a + b)
    }
}
