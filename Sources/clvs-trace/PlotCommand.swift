import ArgumentParser
import Foundation
import Imaging
import Tracing

/// `clvs-trace plot`: render the standard figures of a trace directory.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Render the standard figures (per-layer attention overlays, image attention mass, layer x head matrix) of a trace.")

    @Option(help: "Trace directory (trace.json + trace.safetensors).")
    var trace: String

    @Option(help: "Output directory for the PNGs (default: the trace directory).")
    var out: String?

    @Option(help: "Generation step to draw (0 = the prefill's last row).")
    var step: Int = 0

    @Option(name: .customLong("heads-of-layer"), help: "Also draw per-head overlays of this layer (repeatable).")
    var headsOfLayer: [Int] = []

    @Option(help: "Image file, if it moved since the trace was written.")
    var image: String?

    func run() throws {
        do {
            let dir = URL(fileURLWithPath: trace)
            let view = try TraceView.load(directory: dir)
            guard step >= 0, step < view.steps else {
                throw ValidationError("--step \(step) is outside the trace's \(view.steps) steps")
            }
            let rgb = try ImageIO.load(URL(fileURLWithPath: image ?? view.manifest.image.file))
            guard rgb.width == view.manifest.image.geometry.originalWidth, rgb.height == view.manifest.image.geometry.originalHeight else {
                throw ValidationError("the image is \(rgb.width)x\(rgb.height) but the trace was made from a \(view.manifest.image.geometry.originalWidth)x\(view.manifest.image.geometry.originalHeight) image")
            }
            let outDir = out.map { URL(fileURLWithPath: $0) } ?? dir
            try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
            for (name, data) in try standardFigures(view, image: rgb, step: step, headsOfLayers: headsOfLayer) {
                let url = outDir.appendingPathComponent(name)
                let tmp = outDir.appendingPathComponent(".\(name).partial-\(ProcessInfo.processInfo.processIdentifier)")
                try data.write(to: tmp)
                if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
                try FileManager.default.moveItem(at: tmp, to: url)
                print(url.path)
            }
        } catch let e as ValidationError {
            throw e
        } catch {
            failWith(error)
        }
    }
}
