/// A colour bar: the colormap from `lo` (bottom) to `hi` (top) with nice ticks on its right.
struct ColorbarSpec {
    var colormap: Colormap
    var lo: Double
    var hi: Double
    var label: String?
    var format: TickFormat
}

enum ColorbarMetrics {
    /// Gap between the plot and the bar, in points.
    static let gap = 10.0
    /// Bar width in points.
    static let width = 11.0
}

func colorbarTicks(_ canvas: Canvas, _ spec: ColorbarSpec, height: Double, style: FigureStyle) -> [Tick] {
    let model = AxisModel(lo: spec.lo, hi: spec.hi, options: AxisOptions(format: spec.format))
    return numericTicks(canvas, model, length: max(1, height), vertical: true, style: style.tickStyle)
}

/// Horizontal room the bar takes next to a plot of the given height: gap, bar, ticks, labels, label.
func colorbarExtent(_ canvas: Canvas, _ spec: ColorbarSpec, height: Double, style: FigureStyle) -> Double {
    let s = canvas.scale
    let ticks = colorbarTicks(canvas, spec, height: height, style: style)
    let lw = ticks.map { canvas.measure($0.label, style.tickStyle).width }.max() ?? 0
    var w = (ColorbarMetrics.gap + ColorbarMetrics.width + Metrics.tickLength + Metrics.tickPad) * s + lw
    if let l = spec.label, !l.isEmpty { w += Metrics.labelGap * s + canvas.measure(l, style.labelStyle).height }
    return w
}

/// Draws the bar in `rect` (snapped to whole pixels; row colours exact: the top row is the
/// colormap's last entry, the bottom row its first) with ticks and label on the right.
func drawColorbar(_ canvas: Canvas, _ spec: ColorbarSpec, rect: PlotRect, style: FigureStyle) -> ColorbarLayout {
    let s = canvas.scale
    let x0 = Int(rect.minX.rounded())
    let x1 = x0 + max(1, Int(rect.width.rounded()))
    let y0 = Int(rect.minY.rounded())
    let n = max(1, Int(rect.height.rounded()))
    for r in 0..<n {
        let t = n > 1 ? 1 - Double(r) / Double(n - 1) : 1
        canvas.fillPixels(x0: x0, y0: y0 + r, x1: x1, y1: y0 + r + 1, spec.colormap.color(at: t))
    }
    let lw = Metrics.axisWidth * s
    let tickLen = Metrics.tickLength * s
    let ticks = colorbarTicks(canvas, spec, height: Double(n), style: style)
    var maxW = 0.0
    for t in ticks {
        let frac = spec.hi > spec.lo ? (t.value - spec.lo) / (spec.hi - spec.lo) : 0
        let y = Double(y0) + (1 - frac) * Double(n - 1) + 0.5
        canvas.line(PlotPoint(x: Double(x1), y: y), PlotPoint(x: Double(x1) + tickLen, y: y), .ink, width: lw)
        let r = canvas.drawText(t.label, at: PlotPoint(x: Double(x1) + tickLen + Metrics.tickPad * s, y: y), style: style.tickStyle,
                                h: .left, v: .middle)
        maxW = max(maxW, r.width)
    }
    if let l = spec.label, !l.isEmpty {
        let text = canvas.ellipsize(l, maxWidth: Double(n), style: style.labelStyle)
        let x = Double(x1) + tickLen + Metrics.tickPad * s + maxW + Metrics.labelGap * s
        canvas.drawText(text, at: PlotPoint(x: x, y: Double(y0) + Double(n) / 2), style: style.labelStyle, h: .center, v: .top,
                        angle: -Double.pi / 2)
    }
    return ColorbarLayout(frame: PlotRect(x: Double(x0), y: Double(y0), width: Double(x1 - x0), height: Double(n)),
                          lo: spec.lo, hi: spec.hi, colormap: spec.colormap.name)
}
