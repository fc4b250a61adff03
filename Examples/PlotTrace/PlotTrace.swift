// plot-trace: read a trace directory written by `clvs-trace run` and draw where the generating
// token's attention goes in every layer: its mass on the first token (the attention sink), on the
// image tokens and on the other text tokens, head mean with the head range as a band. For a CLVS
// trace the image mass before the intervention is drawn dashed.
//
//   swift run clvs-trace --out demo-out && swift run plot-trace --trace demo-out
//
// Reads `steps.{s}.attention_mass.post` (and `.pre`), [layers, heads, 3], straight from
// trace.safetensors; writes TRACE/attention_mass_by_kind.png unless --out says otherwise.

import ArgumentParser
import Foundation
import Plotting
import SafeTensors
import Tracing

/// A trace that lacks what this figure needs, named by file and key.
struct TraceContentError: Error, CustomStringConvertible {
    var description: String
}

@main
struct PlotTrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot-trace",
        abstract: "Plot a trace's attention mass on sink / image / text per layer.")

    @Option(help: "Trace directory (trace.json + trace.safetensors).")
    var trace = "demo-out"
    @Option(help: "Generation step (0 = the prefill's last row).")
    var step = 0
    @Option(help: "Output PNG (default: TRACE/attention_mass_by_kind.png).")
    var out: String?

    func run() throws {
        let dir = URL(fileURLWithPath: trace)
        // The manifest (layers, heads, steps, method) ...
        let manifest = try readManifest(dir)
        let layers = manifest.model.textLayers, heads = manifest.model.textHeads
        guard (0..<manifest.generatedIds.count).contains(step) else {
            throw TraceContentError(description: "\(dir.path): --step \(step) is outside the trace's \(manifest.generatedIds.count) steps")
        }
        // ... and the tensors this figure needs, straight from the safetensors file.
        let file = try SafeTensorsFile(url: dir.appendingPathComponent("trace.safetensors"))
        let post = try massPerLayer(file, .attentionMass(step: step, stage: .post), layers: layers, heads: heads)
        let pre = file.tensors[TraceKey.attentionMass(step: step, stage: .pre).name] == nil ? nil
            : try massPerLayer(file, .attentionMass(step: step, stage: .pre), layers: layers, heads: heads)

        let kinds = ["first token (sink)", "image tokens", "other text tokens"]
        var series = kinds.indices.map { k in
            LineSeries(name: kinds[k], y: post.mean[k], band: ErrorBand(lower: post.min[k], upper: post.max[k]),
                       color: Palette.okabeIto[k], marker: [.circle, .square, .triangle][k])
        }
        if let pre {
            series.append(LineSeries(name: "image tokens, before CLVS", y: pre.mean[1], color: Palette.okabeIto[1],
                                     marker: .none, style: .dashed))
        }
        let method = manifest.method?.name ?? "vanilla"
        var options = ChartOptions(title: "Where the generating token's attention goes (\(method), step \(step))",
                                   xLabel: "Layer", yLabel: "attention mass (head mean; band: head min-max)")
        options.x.integerTicks = true
        options.y.range = Bounds(0, 1)
        options.legend = .outsideRight

        let url = out.map { URL(fileURLWithPath: $0) } ?? dir.appendingPathComponent("attention_mass_by_kind.png")
        try Plot.lineChart(series: series, options: options).writePNG(to: url)  // temp file + rename
        print("answer: \(String(reflecting: manifest.answer))")
        print("head-mean mass at step \(step):")
        print("layer  sink    image   text" + (pre == nil ? "" : "    image before CLVS"))
        for l in 0..<layers {
            print(String(format: "%5d  %.3f   %.3f   %.3f", l, post.mean[0][l], post.mean[1][l], post.mean[2][l])
                  + (pre.map { String(format: "   %.3f", $0.mean[1][l]) } ?? ""))
        }
        print("wrote \(url.path)")
    }
}

/// `trace.json` decoded as the library's `TraceManifest` (what `TraceView.load` does, without
/// requiring the full attention rows this figure does not use).
func readManifest(_ dir: URL) throws -> TraceManifest {
    let url = dir.appendingPathComponent("trace.json")
    guard let data = FileManager.default.contents(atPath: url.path) else {
        throw TraceContentError(description: "\(url.path): not found or not readable (is this a trace directory?)")
    }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    do { return try decoder.decode(TraceManifest.self, from: data) } catch {
        throw TraceContentError(description: "\(url.path): not a clvs-trace manifest (\(error))")
    }
}

/// Per kind (sink, image, text), per layer: the mean, min and max over heads of a
/// `[layers, heads, 3]` mass tensor.
func massPerLayer(_ file: SafeTensorsFile, _ key: TraceKey, layers: Int, heads: Int) throws
    -> (mean: [[Double]], min: [[Double]], max: [[Double]]) {
    let info = try file.info(key.name)
    guard info.shape == [layers, heads, 3] else {
        throw TraceContentError(description: "\(file.url.path): '\(key.name)' has shape \(info.shape), expected [\(layers), \(heads), 3]")
    }
    let m = try file.floats(key.name)  // [layers, heads, 3] row-major
    var mean = [[Double]](repeating: [], count: 3), lo = mean, hi = mean
    for k in 0..<3 {
        for l in 0..<layers {
            let v = (0..<heads).map { Double(m[(l * heads + $0) * 3 + k]) }
            mean[k].append(v.reduce(0, +) / Double(heads))
            lo[k].append(v.min() ?? 0)
            hi[k].append(v.max() ?? 0)
        }
    }
    return (mean, lo, hi)
}
