import Foundation
import Imaging
import Plotting

/// The standard figures of one trace, as PNG data keyed by file name:
/// - `attention_layers.png`: the generating token's head-mean attention over the patch grid in
///   every decoder layer, on the image as the model saw it, one colour scale (paper Fig. 1);
/// - `image_attention_mass.png`: attention mass on the image tokens per layer (head mean, with the
///   head range as a band), at the first step and averaged over all steps (cf. Fig. 2);
/// - `layer_head_matrix.png`: that mass per layer and head at the first step;
/// - `attention_heads_layer{l}.png` for each layer in `headsOfLayers`: per-head overlays;
/// - `uncertainty.png` (when the lens was recorded): the CLVS uncertainty per layer, with the
///   threshold delta, the checked layers and the layer where smoothing stopped (Fig. 4's quantity).
public func standardFigures(_ trace: TraceView, image: RGBImage, step: Int = 0, keyObject: KeyObject? = nil,
                            headsOfLayers: [Int] = []) throws -> [(String, Data)] {
    let m = trace.manifest
    let span = m.imageSpan
    let grid = GridShape(cols: span.gridColumns, rows: span.gridRows)
    var out: [(String, Data)] = []

    let maps = try trace.gridAttention(step: step)
    // Square panels in up to 8 columns; the height follows from the panel width.
    let columns = min(8, trace.layers), rows = (trace.layers + columns - 1) / columns
    let width = 1100, panel = (width - 140) / columns
    var overlay = OverlayOptions(title: "Visual attention per layer (step \(step), head mean)", width: width,
                                 height: max(240, rows * (panel + 36) + 70))
    overlay.colorbarLabel = "attention"
    if let keyObject { overlay.mask = .grid(keyObject.tokens) }
    let titles = (0..<trace.layers).map { "Layer \($0)" }
    let grid1 = try Plot.layerGridOverlay(image: image, geometry: m.image.geometry, attention: maps, grid: grid,
                                          titles: titles, columns: columns, options: overlay)
    out.append(("attention_layers.png", Data(try grid1.pngData())))

    // Per-head overlays of chosen layers (`attention_heads_layer{l}.png`), one colour scale per figure.
    if !headsOfLayers.isEmpty {
        let perHead = trace.gridAttentionPerHead(step: step)
        let n = span.gridColumns * span.gridRows, H = trace.heads
        for l in headsOfLayers {
            guard l >= 0, l < trace.layers else {
                throw TraceError.io(path: "trace", reason: "layer \(l) is outside the trace's \(trace.layers) layers")
            }
            let maps = (0..<H).map { h in Array(perHead[((l * H + h) * n)..<((l * H + h + 1) * n)]) }
            let cols = min(8, H), rowsOfPanels = (H + cols - 1) / cols
            let panel = (1100 - 140) / cols
            var o = OverlayOptions(title: "Visual attention per head, layer \(l) (step \(step))", width: 1100,
                                   height: max(240, rowsOfPanels * (panel + 36) + 70))
            o.colorbarLabel = "attention"
            if let keyObject { o.mask = .grid(keyObject.tokens) }
            let fig = try Plot.layerGridOverlay(image: image, geometry: m.image.geometry, attention: maps, grid: grid,
                                                titles: (0..<H).map { "head \($0)" }, columns: cols, options: o)
            out.append(("attention_heads_layer\(l).png", Data(try fig.pngData())))
        }
    }

    func massSeries(_ step: Int, name: String) -> LineSeries {
        let mass = trace.imageMass(step: step)
        let mean = mass.map { Double($0.reduce(0, +)) / Double(max(1, $0.count)) }
        let lo = mass.map { Double($0.min() ?? 0) }, hi = mass.map { Double($0.max() ?? 0) }
        return LineSeries(name: name, y: mean, band: ErrorBand(lower: lo, upper: hi))
    }
    var series = [massSeries(step, name: "step \(step) (band: head min-max)")]
    if trace.steps > 1 {
        let all = (0..<trace.steps).map { trace.imageMass(step: $0) }
        let mean = (0..<trace.layers).map { l in
            all.map { Double($0[l].reduce(0, +)) / Double(trace.heads) }.reduce(0, +) / Double(all.count)
        }
        series.append(LineSeries(name: "mean over \(trace.steps) steps", y: mean, marker: .square, style: .dashed))
    }
    var line = ChartOptions(title: "Attention on image tokens per layer", xLabel: "Layer", yLabel: "Attention mass on image")
    line.x.integerTicks = true
    out.append(("image_attention_mass.png", Data(try Plot.lineChart(series: series, options: line).pngData())))

    var mopt = MatrixOptions(title: "Attention mass on image tokens (step \(step))")
    mopt.colorbarLabel = "mass"
    out.append(("layer_head_matrix.png", Data(try Plot.layerHeadMatrix(values: trace.imageMass(step: step), options: mopt).pngData())))

    if let lens = trace.lensUncertainty, lens.indices.contains(step) {
        let u = lens[step].map(Double.init)
        var opt = ChartOptions(title: "Logit-lens uncertainty per layer (step \(step))", xLabel: "Layer",
                               yLabel: "U (top-10 entropy / ln 10, no final norm)")
        opt.x.integerTicks = true
        opt.y.range = Bounds(0, 1.05)
        if let c = m.method?.clvs {
            let first = c.checkStart(layers: trace.layers)
            opt.spans.append(ReferenceSpan(axis: .x, from: Double(first) - 0.5, to: Double(trace.layers - 1) + 0.5,
                                           label: "checked layers"))
            if c.earlyTermination && c.delta > 0 {
                opt.referenceLines.append(ReferenceLine(axis: .y, value: Double(c.delta), label: "delta = \(c.delta)"))
            }
            if let stops = trace.clvsStopLayers, stops.indices.contains(step), let stop = stops[step] {
                opt.referenceLines.append(ReferenceLine(axis: .x, value: Double(stop), label: "CLVS stops (layer \(stop))",
                                                        color: Palette.okabeIto[5], style: .solid))
            }
        }
        out.append(("uncertainty.png", Data(try Plot.lineChart(series: [LineSeries(name: "U", y: u)], options: opt).pngData())))
    }
    if let keyObject {
        let a = try trace.keyObjectAttention(step: step, key: keyObject)
        var opt = ChartOptions(title: "Attention on the key object '\(keyObject.name)' (step \(step))", xLabel: "Layer",
                               yLabel: "Attention mass on key-object tokens")
        opt.x.integerTicks = true
        out.append(("key_object_attention.png", Data(try Plot.lineChart(series: [LineSeries(name: m.method?.name ?? "run", y: a.mass)], options: opt).pngData())))
    }
    return out
}

/// Side-by-side figures of a vanilla and a CLVS trace of the same input (the paper's Figures 1
/// and 2 for one pair): `compare_attention_layers.png` (up to 8 layers, vanilla row above CLVS
/// row, one colour scale), `compare_image_mass.png`, and with a key object
/// `compare_key_object_attention.png`.
public func compareFigures(vanilla: TraceView, clvs: TraceView, image: RGBImage, step: Int = 0,
                           keyObject: KeyObject? = nil) throws -> [(String, Data)] {
    let m = vanilla.manifest
    let span = m.imageSpan
    let grid = GridShape(cols: span.gridColumns, rows: span.gridRows)
    let L = vanilla.layers
    let count = min(8, L)
    let chosen = (0..<count).map { i in count == 1 ? 0 : i * (L - 1) / (count - 1) }
    let v = try vanilla.gridAttention(step: step), c = try clvs.gridAttention(step: step)
    let maps = chosen.map { v[$0] } + chosen.map { c[$0] }
    let titles = chosen.map { "vanilla, layer \($0)" } + chosen.map { "CLVS, layer \($0)" }
    let panel = (1100 - 140) / count
    var overlay = OverlayOptions(title: "Visual attention: vanilla (top) vs CLVS (bottom), step \(step)", width: 1100,
                                 height: max(300, 2 * (panel + 36) + 70))
    overlay.colorbarLabel = "attention"
    if let keyObject { overlay.mask = .grid(keyObject.tokens) }
    var out: [(String, Data)] = []
    let fig = try Plot.layerGridOverlay(image: image, geometry: m.image.geometry, attention: maps, grid: grid,
                                        titles: titles, columns: count, options: overlay)
    out.append(("compare_attention_layers.png", Data(try fig.pngData())))

    func meanMass(_ t: TraceView) -> [Double] {
        t.imageMass(step: step).map { Double($0.reduce(0, +)) / Double(max(1, $0.count)) }
    }
    var opt = ChartOptions(title: "Attention on image tokens per layer (step \(step), head mean)", xLabel: "Layer",
                           yLabel: "Attention mass on image")
    opt.x.integerTicks = true
    out.append(("compare_image_mass.png", Data(try Plot.lineChart(series: [
        LineSeries(name: "vanilla", y: meanMass(vanilla)),
        LineSeries(name: "CLVS", y: meanMass(clvs), marker: .square),
    ], options: opt).pngData())))

    if let keyObject {
        let a = try vanilla.keyObjectAttention(step: step, key: keyObject)
        let b = try clvs.keyObjectAttention(step: step, key: keyObject)
        var o = ChartOptions(title: "Attention on the key object '\(keyObject.name)' (step \(step))", xLabel: "Layer",
                             yLabel: "Attention mass on key-object tokens")
        o.x.integerTicks = true
        out.append(("compare_key_object_attention.png", Data(try Plot.lineChart(series: [
            LineSeries(name: "vanilla", y: a.mass), LineSeries(name: "CLVS", y: b.mass, marker: .square),
        ], options: o).pngData())))
    }
    return out
}
