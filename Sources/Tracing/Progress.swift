import Foundation
import Models

/// A progress bar on stderr with rate and ETA, for generation steps.
public final class StepProgress: GenerationObserver {
    let total: Int
    let start = Date()
    var stepStart = Date()
    let label: String

    public init(total: Int, label: String = "decode") {
        self.total = total
        self.label = label
    }

    public func willRunStep(_ step: Int, queryRows: Int) {
        stepStart = Date()
        if step == 0 {
            FileHandle.standardError.write(Data("prefill: \(queryRows) tokens...\(interactive ? "\r" : "\n")".utf8))
        }
    }

    /// Redraw in place only on a terminal; in logs, one line per 10% and the last.
    let interactive = isatty(STDERR_FILENO) != 0

    public func didFinishStep(_ step: GenerationStep) {
        let done = step.index + 1
        if !interactive && done != total && done % max(1, total / 10) != 0 { return }
        let elapsed = Date().timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        let eta = Double(total - done) / max(rate, 1e-9)
        let width = 24
        let filled = min(width, done * width / max(total, 1))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\(label) [\(bar)] \(done)/\(total)  " + String(format: "%.2f tok/s  ETA %.0fs (at most)", rate, eta)
            + (interactive ? "   \r" : "\n")
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Ends the progress line.
    public func finish() {
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
