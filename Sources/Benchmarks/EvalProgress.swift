import Foundation

/// A progress bar for a benchmark run on stderr: questions done of the total, the rate of this
/// process (questions answered before a resume do not count) and the ETA. On a terminal it is
/// redrawn in place; in a log it prints a line every 5 % and at the end.
public final class EvalProgress {
    let total: Int
    let resumed: Int
    let label: String
    let interactive: Bool
    let write: (String) -> Void
    let clock: () -> Date
    let start: Date
    var lastPrintedStep = -1

    /// `total` questions of which `resumed` were already answered; `write` receives each output
    /// chunk (default: stderr); `clock` is injectable for tests.
    public init(total: Int, resumed: Int, label: String = "eval", interactive: Bool? = nil,
                write: ((String) -> Void)? = nil, clock: @escaping () -> Date = Date.init) {
        self.total = total
        self.resumed = resumed
        self.label = label
        self.interactive = interactive ?? (isatty(STDERR_FILENO) != 0)
        self.write = write ?? { FileHandle.standardError.write(Data($0.utf8)) }
        self.clock = clock
        self.start = clock()
    }

    /// The bar text for `done` questions answered in total.
    public func line(done: Int) -> String {
        let elapsed = clock().timeIntervalSince(start)
        let new = max(0, done - resumed)
        let width = 30
        let filled = total == 0 ? width : min(width, done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var text = "\(label) [\(bar)] \(done)/\(total)"
        if new > 0 && elapsed > 0 {
            let rate = Double(new) / elapsed
            let eta = Double(total - done) / rate
            text += rate >= 1 ? "  \(Py.fixed(rate, 2)) q/s" : "  \(Py.fixed(1 / rate, 2)) s/q"
            text += "  ETA \(Self.duration(eta))"
        }
        return text
    }

    /// "42s", "3m05s", "2h07m".
    public static func duration(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "?" }
        let t = Int(s.rounded())
        if t < 60 { return "\(t)s" }
        if t < 3600 { return "\(t / 60)m" + String(format: "%02d", t % 60) + "s" }
        return "\(t / 3600)h" + String(format: "%02d", (t % 3600) / 60) + "m"
    }

    /// Reports `done` questions answered in total.
    public func update(done: Int) {
        if interactive {
            write("\r" + line(done: done) + "   ")
        } else {
            let step = total == 0 ? 20 : done * 20 / total
            if step != lastPrintedStep || done == total {
                lastPrintedStep = step
                write(line(done: done) + "\n")
            }
        }
    }

    /// Ends the bar (a newline on a terminal).
    public func finish() {
        if interactive { write("\n") }
    }
}
