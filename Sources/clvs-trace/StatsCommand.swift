import Analysis
import ArgumentParser
import Foundation

/// `clvs-trace stats`: point-biserial correlation and logistic regression of a binary column on
/// a numeric column of a CSV file (e.g. convergence vs uncertainty U, Fig. 4).
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Point-biserial r and p, and the logistic regression of y (0/1) on x, from a CSV file, as JSON."
    )

    @Option(name: .long, help: "CSV file with a header line.")
    var csv: String

    @Option(name: .long, help: "Column of the continuous variable (e.g. U).")
    var x: String

    @Option(name: .long, help: "Column of the binary outcome, 0/1 or true/false (e.g. converged).")
    var y: String

    func run() throws {
        let report = try BinaryOutcomeReport.compute(csv: URL(fileURLWithPath: csv), xColumn: x, yColumn: y)
        print(try report.json())
    }
}
