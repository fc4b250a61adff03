import Foundation
import Models

/// A progress bar on stderr with rate and ETA, for generation steps; during the prefill it also
/// reports the decoder layers done (attach it as a decoder observer too).
public final class StepProgress: GenerationObserver, DecoderObserver {
    let total: Int
    let start = Date()
    var stepStart = Date()
    let label: String

    public init(total: Int, label: String = "decode") {
        self.total = total
        self.label = label
    }

    private var inPrefill = false
    private var layersTotal = 0

    public func layerFinished(layer: Int, hidden: UnsafeBufferPointer<Float>, rows: Int) throws {
        guard inPrefill, interactive || layer == layersTotal - 1 || (layer + 1) % max(1, layersTotal / 4) == 0 else { return }
        let done = layer + 1
        let elapsed = Date().timeIntervalSince(stepStart)
        let eta = elapsed / Double(done) * Double(max(0, layersTotal - done))
        let line = "prefill: \(rows) tokens, layer \(done)/\(layersTotal)  " + String(format: "%.1fs, ETA %.0fs", elapsed, eta)
        FileHandle.standardError.write(Data((line + (interactive ? "   \r" : "\n")).utf8))
    }

    /// Number of decoder layers, for the prefill progress.
    public func setLayers(_ n: Int) { layersTotal = n }

    public func willRunStep(_ step: Int, queryRows: Int) {
        stepStart = Date()
        inPrefill = step == 0 && layersTotal > 0
        if step == 0 {
            FileHandle.standardError.write(Data("prefill: \(queryRows) tokens...\(interactive ? "\r" : "\n")".utf8))
        }
    }

    /// Redraw in place only on a terminal; in logs, one line per 10% and the last.
    let interactive = isatty(STDERR_FILENO) != 0

    public func didFinishStep(_ step: GenerationStep) {
        if inPrefill && interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        inPrefill = false
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
