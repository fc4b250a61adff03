import Foundation
import Imaging
import Plotting

/// The standard figures of one trace, as PNG data keyed by file name:
/// - `attention_layers.png`: the generating token's head-mean attention over the patch grid in
///   every decoder layer, on the image as the model saw it, one colour scale (paper Fig. 1);
/// - `image_attention_mass.png`: attention mass on the image tokens per layer (head mean, with the
///   head range as a band), at the first step and averaged over all steps (cf. Fig. 2);
/// - `layer_head_matrix.png`: that mass per layer and head at the first step.
public func standardFigures(_ trace: TraceView, image: RGBImage, step: Int = 0) throws -> [(String, Data)] {
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
    let titles = (0..<trace.layers).map { "Layer \($0)" }
    let grid1 = try Plot.layerGridOverlay(image: image, geometry: m.image.geometry, attention: maps, grid: grid,
                                          titles: titles, columns: columns, options: overlay)
    out.append(("attention_layers.png", Data(try grid1.pngData())))

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
    return out
}
