@testable import Analysis
import XCTest

/// Statistics against scipy / statsmodels fixtures (Fixtures/make_fixtures.py).
final class StatisticsTests: XCTestCase {
    private static let fixture: [String: Any] = (try? loadJSONFixture("stats_fixtures.json") as? [String: Any]) ?? [:]

    /// Rows `[a, b, x, scipy, reference]`; `reference` is a 60-digit mpmath evaluation. Every
    /// point is within 1e-12 of scipy, except where scipy itself is more than 1e-12 from the
    /// reference (one point, a = 10, b = 1e5 near the mean, where scipy is 1.8e-12 off): there
    /// the value must be within 1e-14 of the reference.
    func testIncompleteBetaAgainstScipyAbsolute1e12() throws {
        let rows = try XCTUnwrap(Self.fixture["betainc"] as? [[Any]])
        XCTAssertGreaterThan(rows.count, 1900)
        var maxScipy = 0.0, maxRef = 0.0, worst = ""
        var maxRelSmall = 0.0, worstRel = ""
        var scipyOff = 0
        for r in rows {
            let v = try XCTUnwrap(doubles(r))
            let (a, b, x, scipy, reference) = (v[0], v[1], v[2], v[3], v[4])
            let got = try SpecialFunctions.incompleteBeta(a: a, b: b, x: x)
            let dRef = abs(got - reference)
            maxRef = max(maxRef, dRef)
            XCTAssertLessThanOrEqual(dRef, 1e-12, "a=\(a) b=\(b) x=\(x) reference=\(reference) got=\(got)")
            if abs(scipy - reference) > 1e-12 {
                scipyOff += 1
                XCTAssertLessThanOrEqual(dRef, 1e-14, "a=\(a) b=\(b) x=\(x)")
            } else {
                let d = abs(got - scipy)
                if d > maxScipy { maxScipy = d; worst = "a=\(a) b=\(b) x=\(x) scipy=\(scipy) got=\(got)" }
                XCTAssertLessThanOrEqual(d, 1e-12, "a=\(a) b=\(b) x=\(x) scipy=\(scipy) got=\(got)")
            }
            if reference > 1e-290 && reference < 1e-3 && relativeDifference(got, reference) > maxRelSmall {
                maxRelSmall = relativeDifference(got, reference)
                worstRel = "a=\(a) b=\(b) x=\(x) reference=\(reference) got=\(got)"
            }
        }
        XCTAssertEqual(scipyOff, 1)
        print("betainc: \(rows.count) points; max |diff| vs scipy = \(maxScipy) (\(worst)), vs 60-digit reference = \(maxRef); "
              + "max relative diff vs reference where I < 1e-3: \(maxRelSmall) (\(worstRel)); \(scipyOff) point(s) where scipy is > 1e-12 off")
        XCTAssertLessThanOrEqual(maxRelSmall, 1e-10)
    }

    func testIncompleteBetaDomainAndComplement() throws {
        XCTAssertThrowsError(try SpecialFunctions.incompleteBeta(a: 0, b: 1, x: 0.5))
        XCTAssertThrowsError(try SpecialFunctions.incompleteBeta(a: 1, b: -1, x: 0.5))
        XCTAssertThrowsError(try SpecialFunctions.incompleteBeta(a: 1, b: 1, x: 1.5))
        XCTAssertThrowsError(try SpecialFunctions.incompleteBeta(a: 1, b: 1, x: .nan))
        // I_x(1, 1) = x; I_x(a, 1) = x^a
        XCTAssertEqual(try SpecialFunctions.incompleteBeta(a: 1, b: 1, x: 0.3), 0.3, accuracy: 1e-16)
        XCTAssertEqual(try SpecialFunctions.incompleteBeta(a: 3, b: 1, x: 0.5), 0.125, accuracy: 1e-16)
        // complement keeps relative accuracy: 1 - I_x(1, 1) at x = 1 - 1e-12 is 1e-12
        let q = try SpecialFunctions.incompleteBetaComplement(a: 2, b: 1, x: 0.5)
        XCTAssertEqual(q, 0.75, accuracy: 1e-16)
    }

    func testStudentTSurvivalAgainstScipy() throws {
        let rows = try XCTUnwrap(Self.fixture["t_sf"] as? [[Any]])
        var maxRel = 0.0
        for r in rows {
            let v = r.compactMap(double)
            let got = try SpecialFunctions.studentTSurvival(v[0], df: v[1])
            let d = relativeDifference(got, v[2])
            maxRel = max(maxRel, d)
            XCTAssertLessThanOrEqual(d, 1e-9, "t=\(v[0]) df=\(v[1]) scipy=\(v[2]) got=\(got)")
        }
        print("t.sf: \(rows.count) points, max relative diff = \(maxRel)")
        XCTAssertEqual(try SpecialFunctions.studentTTwoSided(0, df: 5), 1)
        XCTAssertThrowsError(try SpecialFunctions.studentTSurvival(1, df: 0))
    }

    func testPearsonAgainstScipy() throws {
        let sets = try XCTUnwrap(Self.fixture["pearson"] as? [[String: Any]])
        var maxRel = 0.0
        for s in sets {
            let name = s["name"] as? String ?? "?"
            let x = try XCTUnwrap(doubles(s["x"])), y = try XCTUnwrap(doubles(s["y"]))
            if s["error"] != nil {
                XCTAssertThrowsError(try Correlation.pearson(x, y), name) { e in
                    guard case .constantInput? = e as? StatisticsError else { return XCTFail("\(name): \(e)") }
                }
                continue
            }
            let res = try Correlation.pearson(x, y)
            let dr = relativeDifference(res.r, try XCTUnwrap(double(s["r"])))
            let dp = relativeDifference(res.p, try XCTUnwrap(double(s["p"])))
            maxRel = max(maxRel, dr, dp)
            XCTAssertLessThanOrEqual(dr, 1e-9, name)
            XCTAssertLessThanOrEqual(dp, 1e-9, "\(name): p \(res.p) vs \(s["p"] ?? "")")
        }
        print("pearsonr: \(sets.count) data sets, max relative diff (r, p) = \(maxRel)")
    }

    func testPointBiserialAgainstScipy() throws {
        let sets = try XCTUnwrap(Self.fixture["pointbiserial"] as? [[String: Any]])
        var maxRel = 0.0
        for s in sets {
            let name = s["name"] as? String ?? "?"
            let b = try XCTUnwrap(doubles(s["binary"])), x = try XCTUnwrap(doubles(s["x"]))
            if s["error"] != nil {
                XCTAssertThrowsError(try Correlation.pointBiserial(binary: b, continuous: x), name) { e in
                    guard case .constantInput? = e as? StatisticsError else { return XCTFail("\(name): \(e)") }
                }
                continue
            }
            let res = try Correlation.pointBiserial(binary: b, continuous: x)
            let dr = relativeDifference(res.r, try XCTUnwrap(double(s["r"])))
            let dp = relativeDifference(res.p, try XCTUnwrap(double(s["p"])))
            maxRel = max(maxRel, dr, dp)
            XCTAssertLessThanOrEqual(dr, 1e-9, name)
            XCTAssertLessThanOrEqual(dp, 1e-9, "\(name): p \(res.p) vs \(s["p"] ?? "")")
        }
        print("pointbiserialr: \(sets.count) data sets, max relative diff (r, p) = \(maxRel)")
        XCTAssertThrowsError(try Correlation.pointBiserial(binary: [0, 1, 2], continuous: [1, 2, 3])) { e in
            XCTAssertEqual(e as? StatisticsError, .notBinary(context: "pointBiserial", index: 2, value: 2))
        }
        XCTAssertThrowsError(try Correlation.pearson([1, 2], [3, 4]))
        XCTAssertThrowsError(try Correlation.pearson([1, 2, 3], [3, 4]))
        XCTAssertThrowsError(try Correlation.pearson([1, .nan, 3], [3, 4, 5]))
    }

    func testLogisticRegressionAgainstStatsmodels() throws {
        let sets = try XCTUnwrap(Self.fixture["logit"] as? [[String: Any]])
        var maxRel = 0.0
        var worst = ""
        var checked = 0
        for s in sets {
            let name = s["name"] as? String ?? "?"
            let y = try XCTUnwrap(doubles(s["y"]))
            let feats = try XCTUnwrap(s["features"] as? [Any]).compactMap(doubles)
            let expect = try XCTUnwrap(s["expect"] as? String)
            if expect == "error_constant" {
                XCTAssertThrowsError(try LogisticRegression.fit(y: y, features: feats), name) { e in
                    guard case .constantInput? = e as? StatisticsError else { return XCTFail("\(name): \(e)") }
                }
                continue
            }
            let fit = try LogisticRegression.fit(y: y, features: feats)
            XCTAssertEqual(fit.status.rawValue, expect, name)
            if expect != "converged" {
                XCTAssertNil(fit.coefficients, name)
                XCTAssertNil(fit.xAtHalf, name)
                if feats.count == 1 { XCTAssertNotNil(fit.separatingInterval, name) }
                continue
            }
            func compare(_ mine: [Double]?, _ key: String) throws {
                let ref = try XCTUnwrap(doubles(s[key]), "\(name) \(key)")
                let m = try XCTUnwrap(mine, "\(name) \(key)")
                XCTAssertEqual(m.count, ref.count)
                for (a, b) in zip(m, ref) {
                    let d = relativeDifference(a, b)
                    if d > maxRel { maxRel = d; worst = "\(name) \(key): \(a) vs \(b)" }
                    XCTAssertLessThanOrEqual(d, 1e-9, "\(name) \(key): \(a) vs \(b)")
                }
            }
            try compare(fit.coefficients, "params")
            try compare(fit.standardErrors, "bse")
            try compare(fit.zValues, "z")
            try compare(fit.pValues, "p")
            let dll = relativeDifference(try XCTUnwrap(fit.logLikelihood), try XCTUnwrap(double(s["llf"])))
            if dll > maxRel { maxRel = dll; worst = "\(name) llf" }
            XCTAssertLessThanOrEqual(dll, 1e-9, "\(name) llf")
            let dNull = relativeDifference(fit.nullLogLikelihood, try XCTUnwrap(double(s["llnull"])))
            if dNull > maxRel { maxRel = dNull; worst = "\(name) llnull (statsmodels fits it iteratively)" }
            XCTAssertLessThanOrEqual(dNull, 1e-9, name)
            if let xh = double(s["x_at_half"]) {
                let d = relativeDifference(try XCTUnwrap(fit.xAtHalf), xh)
                if d > maxRel { maxRel = d; worst = "\(name) x_at_half" }
                XCTAssertLessThanOrEqual(d, 1e-9, name)
            }
            checked += 1
        }
        XCTAssertEqual(checked, 7)
        print("Logit: \(sets.count) data sets (\(checked) converged), max relative diff = \(maxRel) (\(worst))")
    }

    func testSeparationIntervalsAndErrors() throws {
        let complete = try LogisticRegression.fit(y: [0, 0, 0, 1, 1, 1], features: [[1, 2, 3, 4, 5, 6]])
        XCTAssertEqual(complete.status, .completeSeparation)
        XCTAssertEqual(complete.separatingInterval, [3, 4])
        let quasi = try LogisticRegression.fit(y: [0, 0, 0, 1, 1, 1], features: [[1, 2, 3, 3, 5, 6]])
        XCTAssertEqual(quasi.status, .quasiCompleteSeparation)
        XCTAssertEqual(quasi.separatingInterval, [3, 3])
        // JSON of a separated fit has no NaN (JSONEncoder would throw on NaN)
        XCTAssertNoThrow(try JSONEncoder().encode(complete))
        XCTAssertThrowsError(try LogisticRegression.fit(y: [1, 1, 1, 1], features: [[1, 2, 3, 4]])) { e in
            guard case .constantInput? = e as? StatisticsError else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try LogisticRegression.fit(y: [0, 1, 0.5, 1], features: [[1, 2, 3, 4]]))
        XCTAssertThrowsError(try LogisticRegression.fit(y: [0, 1, 0, 1], features: [[1, 2, 3]]))
        // collinear features
        XCTAssertThrowsError(try LogisticRegression.fit(y: [0, 1, 0, 1, 1, 0], features: [[1, 2, 3, 4, 5, 7], [2, 4, 6, 8, 10, 14]]))
    }

    func testGeneratorsMatchIndependentPythonImplementation() throws {
        let b = try XCTUnwrap(Self.fixture["bootstrap"] as? [String: Any])
        var sm = SplitMix64(seed: 0)
        XCTAssertEqual((0..<5).map { _ in String(sm.next()) }, b["splitmix64_seed0"] as? [String])
        var x0 = Xoshiro256StarStar(seed: 0)
        XCTAssertEqual((0..<5).map { _ in String(x0.next()) }, b["xoshiro_seed0"] as? [String])
        var x7 = Xoshiro256StarStar(seed: 7)
        XCTAssertEqual((0..<20).map { _ in Int(x7.nextIndex(below: 37)) }, ints(b["xoshiro_seed7_index_below_37"]))
    }

    func testBootstrapMeanCI() throws {
        let b = try XCTUnwrap(Self.fixture["bootstrap"] as? [String: Any])
        let values = try XCTUnwrap(doubles(b["values"]))
        let ci = try Descriptive.bootstrapMean(values, confidence: try XCTUnwrap(double(b["confidence"])),
                                               resamples: try XCTUnwrap(b["resamples"] as? Int),
                                               seed: UInt64(try XCTUnwrap(b["seed"] as? Int)))
        XCTAssertEqual(ci.mean, try XCTUnwrap(double(b["mean"])), accuracy: 1e-15)
        XCTAssertEqual(ci.lower, try XCTUnwrap(double(b["lower"])), accuracy: 1e-12)
        XCTAssertEqual(ci.upper, try XCTUnwrap(double(b["upper"])), accuracy: 1e-12)
        XCTAssertLessThan(ci.lower, ci.mean)
        XCTAssertGreaterThan(ci.upper, ci.mean)
        // same seed -> same interval; other seed -> different
        XCTAssertEqual(try Descriptive.bootstrapMean(values, resamples: 500, seed: 3), try Descriptive.bootstrapMean(values, resamples: 500, seed: 3))
        XCTAssertNotEqual(try Descriptive.bootstrapMean(values, resamples: 500, seed: 3).lower,
                          try Descriptive.bootstrapMean(values, resamples: 500, seed: 4).lower)
        XCTAssertThrowsError(try Descriptive.bootstrapMean([]))
        XCTAssertThrowsError(try Descriptive.bootstrapMean([1, 2], confidence: 1))
    }

    func testHistogramMatchesNumpy() throws {
        let h = try XCTUnwrap(Self.fixture["histogram"] as? [String: Any])
        let counts = try Descriptive.histogram(try XCTUnwrap(doubles(h["values"])), edges: try XCTUnwrap(doubles(h["edges"])))
        XCTAssertEqual(counts, ints(h["counts"]))
        XCTAssertEqual(try Descriptive.histogram([0, 1, 1, 2, 3], edges: [0, 1, 2]), [1, 3])
        XCTAssertThrowsError(try Descriptive.histogram([1], edges: [1, 1]))
        XCTAssertEqual(Descriptive.quantile(sorted: [1, 2, 3, 4], 0.5), 2.5)
    }
}
