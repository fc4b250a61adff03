import Foundation

/// Maximum-likelihood logistic regression `P(y = 1 | x) = 1 / (1 + exp(-(b0 + b . x)))` by
/// Newton's method (= IRLS), matching statsmodels `Logit(y, add_constant(X)).fit()`.
///
/// Newton steps from `b = 0`, halved while they lower the log-likelihood; converged when every
/// step component is below `1e-10 * (1 + |b_j|)`, after which two more steps polish the optimum.
/// Standard errors are `sqrt(diag(H^-1))` with `H = X' W X` at the optimum, z = b / se, two-sided
/// normal p-values.
///
/// Separation (the MLE does not exist, coefficients run off to infinity) is reported in
/// `status` with no coefficients, never as NaN:
/// - one feature: detected exactly from the class ranges (complete: the classes' x ranges do not
///   touch; quasi-complete: they touch in one value), with the separating interval;
/// - several features: complete separation is reported as soon as a Newton iterate puts every
///   observation strictly on its class's side (a proof that the MLE does not exist);
///   quasi-complete separation is a heuristic: no convergence while some observations are fitted
///   within 1e-8 of their label.
public struct LogisticRegression: Sendable, Equatable, Codable {
    /// Outcome of the fit.
    public enum Status: String, Sendable, Codable {
        case converged
        case completeSeparation
        case quasiCompleteSeparation
        case notConverged
    }

    public let status: Status
    /// Parameter names: `"const"` then the features.
    public let names: [String]
    /// [1 + features]: intercept first. Nil unless converged.
    public let coefficients: [Double]?
    /// [1 + features].
    public let standardErrors: [Double]?
    /// [1 + features].
    public let zValues: [Double]?
    /// [1 + features]: two-sided.
    public let pValues: [Double]?
    /// Log-likelihood at the optimum.
    public let logLikelihood: Double?
    /// Log-likelihood of the intercept-only model.
    public let nullLogLikelihood: Double
    /// One feature only: the x where `P = 0.5`, `-b0 / b1`.
    public let xAtHalf: Double?
    /// One feature with separation: the interval `[low, high]` of x between the classes
    /// (equal ends for quasi-complete separation).
    public let separatingInterval: [Double]?
    /// Newton iterations done.
    public let iterations: Int
    /// Observations.
    public let n: Int

    /// Fits `y` (0/1, [n]) on `features` ([k][n]: one array per feature), with an intercept.
    public static func fit(y: [Double], features: [[Double]], names featureNames: [String]? = nil,
                           maxIterations: Int = 100) throws -> LogisticRegression {
        let ctx = "logistic regression"
        let n = y.count
        let k = features.count
        guard k >= 1 else { throw StatisticsError.tooFewObservations(context: ctx + " features", count: 0, minimum: 1) }
        for (j, f) in features.enumerated() where f.count != n {
            throw StatisticsError.lengthMismatch(context: ctx + " feature \(j)", first: f.count, second: n)
        }
        guard n >= k + 2 else { throw StatisticsError.tooFewObservations(context: ctx, count: n, minimum: k + 2) }
        for (i, v) in y.enumerated() where v != 0 && v != 1 { throw StatisticsError.notBinary(context: ctx + " y", index: i, value: v) }
        for (j, f) in features.enumerated() {
            if let i = f.firstIndex(where: { !$0.isFinite }) { throw StatisticsError.nonFinite(context: ctx + " feature \(j)", index: i) }
            if f.allSatisfy({ $0 == f[0] }) { throw StatisticsError.constantInput(context: ctx + " feature \(j)") }
        }
        let ones = y.reduce(0, +)
        guard ones > 0, ones < Double(n) else { throw StatisticsError.constantInput(context: ctx + " y (one class only)") }
        let names = ["const"] + (featureNames ?? (1...k).map { "x\($0)" })
        let nullLL = ones * log(ones / Double(n)) + (Double(n) - ones) * log((Double(n) - ones) / Double(n))

        func separated(_ status: Status, interval: [Double]?, iterations: Int) -> LogisticRegression {
            LogisticRegression(status: status, names: names, coefficients: nil, standardErrors: nil, zValues: nil,
                               pValues: nil, logLikelihood: nil, nullLogLikelihood: nullLL, xAtHalf: nil,
                               separatingInterval: interval, iterations: iterations, n: n)
        }

        if k == 1 {
            let x = features[0]
            var min0 = Double.infinity, max0 = -Double.infinity, min1 = Double.infinity, max1 = -Double.infinity
            for i in 0..<n {
                if y[i] == 1 { min1 = min(min1, x[i]); max1 = max(max1, x[i]) } else { min0 = min(min0, x[i]); max0 = max(max0, x[i]) }
            }
            if max0 < min1 { return separated(.completeSeparation, interval: [max0, min1], iterations: 0) }
            if max1 < min0 { return separated(.completeSeparation, interval: [max1, min0], iterations: 0) }
            if max0 == min1 { return separated(.quasiCompleteSeparation, interval: [max0, min1], iterations: 0) }
            if max1 == min0 { return separated(.quasiCompleteSeparation, interval: [max1, min0], iterations: 0) }
        }

        let p = k + 1
        // design: [n][p] rows, intercept first
        var X = [[Double]](repeating: [Double](repeating: 1, count: p), count: n)
        for i in 0..<n { for j in 0..<k { X[i][j + 1] = features[j][i] } }

        // Collinear or constant features make X'X singular: no unique fit, whatever the labels.
        var xtx = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        for row in X { for a in 0..<p { for b in 0..<p { xtx[a][b] += row[a] * row[b] } } }
        guard LinearAlgebra.cholesky(xtx) != nil else { throw StatisticsError.singularDesign(context: ctx) }

        var beta = [Double](repeating: 0, count: p)
        var ll = logLikelihood(X: X, y: y, beta: beta)
        var iterations = 0
        var polish = -1 // steps left after convergence
        while iterations < maxIterations {
            iterations += 1
            let (g, H, _) = gradientHessian(X: X, y: y, beta: beta)
            guard let step = LinearAlgebra.solveSPD(H, g) else {
                if polish >= 0 { break }
                return separated(.quasiCompleteSeparation, interval: nil, iterations: iterations)
            }
            var t = 1.0
            var candidate = beta
            var candidateLL = ll
            for _ in 0..<40 {
                candidate = (0..<p).map { beta[$0] + t * step[$0] }
                candidateLL = logLikelihood(X: X, y: y, beta: candidate)
                if candidateLL >= ll - 1e-12 * abs(ll) { break }
                t /= 2
            }
            let small = (0..<p).allSatisfy { abs(t * step[$0]) <= 1e-10 * (1 + abs(beta[$0])) }
            beta = candidate
            ll = candidateLL
            if strictlySeparates(X: X, y: y, beta: beta) {
                // A coefficient vector that puts every observation on its own class's side is a
                // proof of complete separation: the MLE does not exist.
                return separated(.completeSeparation, interval: nil, iterations: iterations)
            }
            if polish > 0 { polish -= 1; if polish == 0 { break } } else if small && polish < 0 { polish = 2 }
        }
        if polish < 0 {
            let (_, _, fitted) = gradientHessian(X: X, y: y, beta: beta)
            let perfect = fitted.enumerated().contains { abs($1 - y[$0]) < 1e-8 }
            if perfect { return separated(.quasiCompleteSeparation, interval: nil, iterations: iterations) }
            return LogisticRegression(status: .notConverged, names: names, coefficients: nil, standardErrors: nil,
                                      zValues: nil, pValues: nil, logLikelihood: nil, nullLogLikelihood: nullLL,
                                      xAtHalf: nil, separatingInterval: nil, iterations: iterations, n: n)
        }
        let (_, H, _) = gradientHessian(X: X, y: y, beta: beta)
        guard let cov = LinearAlgebra.inverseSPD(H) else { throw StatisticsError.singularDesign(context: ctx) }
        let se = (0..<p).map { cov[$0][$0].squareRoot() }
        let z = (0..<p).map { beta[$0] / se[$0] }
        let pv = z.map { 2 * SpecialFunctions.normalSurvival(abs($0)) }
        return LogisticRegression(status: .converged, names: names, coefficients: beta, standardErrors: se, zValues: z,
                                  pValues: pv, logLikelihood: ll, nullLogLikelihood: nullLL,
                                  xAtHalf: k == 1 ? -beta[0] / beta[1] : nil, separatingInterval: nil,
                                  iterations: iterations, n: n)
    }

    /// True if `(2 y_i - 1) * x_i . beta > 0` for every observation.
    static func strictlySeparates(X: [[Double]], y: [Double], beta: [Double]) -> Bool {
        for i in 0..<X.count {
            var eta = 0.0
            for j in 0..<beta.count { eta += X[i][j] * beta[j] }
            if (y[i] == 1 ? eta : -eta) <= 0 { return false }
        }
        return true
    }

    /// `log(1 + exp(v))` without overflow.
    static func softplus(_ v: Double) -> Double { v > 0 ? v + log1p(exp(-v)) : log1p(exp(v)) }

    static func logLikelihood(X: [[Double]], y: [Double], beta: [Double]) -> Double {
        var ll = 0.0
        for i in 0..<X.count {
            var eta = 0.0
            for j in 0..<beta.count { eta += X[i][j] * beta[j] }
            ll += y[i] * eta - softplus(eta)
        }
        return ll
    }

    /// Gradient [p], Hessian [p][p] (of minus the log-likelihood's curvature: X'WX) and fitted
    /// probabilities [n].
    static func gradientHessian(X: [[Double]], y: [Double], beta: [Double]) -> ([Double], [[Double]], [Double]) {
        let p = beta.count
        var g = [Double](repeating: 0, count: p)
        var H = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        var fitted = [Double](repeating: 0, count: X.count)
        for i in 0..<X.count {
            var eta = 0.0
            for j in 0..<p { eta += X[i][j] * beta[j] }
            let mu = eta >= 0 ? 1 / (1 + exp(-eta)) : exp(eta) / (1 + exp(eta))
            fitted[i] = mu
            let w = mu * (1 - mu)
            let r = y[i] - mu
            for a in 0..<p {
                g[a] += X[i][a] * r
                for b in 0...a { H[a][b] += w * X[i][a] * X[i][b] }
            }
        }
        for a in 0..<p { for b in 0..<a { H[b][a] = H[a][b] } }
        return (g, H, fitted)
    }
}

/// Small dense symmetric positive-definite solves (Cholesky), for the few parameters of a
/// regression.
enum LinearAlgebra {
    /// Lower Cholesky factor of `A` ([n][n]), or nil if `A` is not numerically positive definite.
    static func cholesky(_ A: [[Double]]) -> [[Double]]? {
        let n = A.count
        var L = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in 0...i {
                var s = A[i][j]
                for k in 0..<j { s -= L[i][k] * L[j][k] }
                if i == j {
                    // reject a pivot lost to rounding relative to the diagonal
                    guard s.isFinite, s > 0, s > abs(A[i][i]) * 1e-15 else { return nil }
                    L[i][i] = s.squareRoot()
                } else {
                    L[i][j] = s / L[j][j]
                }
            }
        }
        return L
    }

    /// Solves `A x = b` for symmetric positive-definite `A`.
    static func solveSPD(_ A: [[Double]], _ b: [Double]) -> [Double]? {
        guard let L = cholesky(A) else { return nil }
        let n = b.count
        var z = b
        for i in 0..<n {
            for k in 0..<i { z[i] -= L[i][k] * z[k] }
            z[i] /= L[i][i]
        }
        var x = z
        for i in stride(from: n - 1, through: 0, by: -1) {
            for k in (i + 1)..<n { x[i] -= L[k][i] * x[k] }
            x[i] /= L[i][i]
        }
        return x
    }

    /// Inverse of a symmetric positive-definite matrix.
    static func inverseSPD(_ A: [[Double]]) -> [[Double]]? {
        let n = A.count
        var inv = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for j in 0..<n {
            var e = [Double](repeating: 0, count: n)
            e[j] = 1
            guard let col = solveSPD(A, e) else { return nil }
            for i in 0..<n { inv[i][j] = col[i] }
        }
        return inv
    }
}
