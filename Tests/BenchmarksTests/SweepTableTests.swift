import Foundation
import XCTest
@testable import Benchmarks

/// The sweep's table keeps one schema per benchmark: a metric that one run cannot compute (POPE's F1
/// when nothing was answered "yes") is an empty cell, not a missing column, and the figures draw the
/// points that exist.
final class SweepTableTests: XCTestCase {
    func report(answers: [String], labels: [String]) -> ScoreReport {
        var r = ScoreReport(benchmark: .pope, answered: answers.count, expected: labels.count)
        r.pope = [.init(name: "random", metrics: POPEEvaluatePy.score(answers: answers, labels: labels))]
        return r
    }

    func clvs(_ gamma: Double) -> MethodSettings { MethodSettings(method: .clvs, lambda: 0.8, gamma: gamma, delta: 0.5) }

    func testUndefinedF1IsAnEmptyCellAndTheColumnStays() throws {
        let labels = ["yes", "no", "yes", "no"]
        let allNo = report(answers: ["No", "No", "No", "No"], labels: labels)  // precision 0 / 0: F1 undefined
        XCTAssertNil(allNo.pope?.first?.metrics.f1)
        let some = report(answers: ["Yes", "No", "No", "Yes"], labels: labels)  // tp 1, fp 1, fn 1: F1 0.5
        let sweep = SweepResult(parameter: .gamma, benchmark: .pope,
                                vanilla: SweepRun(value: nil, settings: .vanilla, report: allNo),
                                runs: [SweepRun(value: 0.5, settings: clvs(0.5), report: allNo),
                                       SweepRun(value: 1, settings: clvs(1), report: some)])
        XCTAssertEqual(sweep.metricNames, ["random accuracy", "random F1"])
        let rows = sweep.csv().split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(rows, ["parameter,value,method,lambda,gamma,delta,random accuracy,random F1",
                              "gamma,,vanilla,,,,0.5000,",
                              "gamma,0.5,clvs,0.8,0.5,0.5,0.5000,",
                              "gamma,1.0,clvs,0.8,1.0,0.5,0.5000,0.5000",
                              ""])
        // JSON has no NaN: the undefined metric is absent from that run's dictionary.
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: sweep.json()) as? [String: Any])
        XCTAssertEqual(json["metrics"] as? [String], ["random accuracy", "random F1"])
        let runs = try XCTUnwrap(json["runs"] as? [[String: Any]])
        XCTAssertEqual((runs[0]["metrics"] as? [String: Double])?.keys.sorted(), ["random accuracy"])
        XCTAssertEqual((runs[1]["metrics"] as? [String: Double])?["random F1"], 0.5)
        // Both panels are drawn; the F1 one from the single defined point.
        XCTAssertEqual(try sweep.figures().map(\.name), ["sweep_gamma_accuracy.png", "sweep_gamma_f1.png"])
    }

    func testNoPanelWhenAMetricIsNeverDefined() throws {
        let allNo = report(answers: ["No", "No"], labels: ["yes", "no"])
        let sweep = SweepResult(parameter: .lambda, benchmark: .pope,
                                vanilla: SweepRun(value: nil, settings: .vanilla, report: allNo),
                                runs: [SweepRun(value: 0.5, settings: clvs(0.8), report: allNo)])
        XCTAssertEqual(sweep.metricNames, ["random accuracy", "random F1"])
        XCTAssertEqual(try sweep.figures().map(\.name), ["sweep_lambda_accuracy.png"])
    }
}
