import Foundation

/// One axis before layout: its data range and how its ticks are chosen and written.
struct AxisModel {
    var lo: Double
    var hi: Double
    var label: String?
    var format: TickFormat = .auto
    var integer: Bool = false
    var explicitTicks: [Double]? = nil
    /// Category names at positions 0, 1, ... (bar charts); overrides numeric ticks.
    var categories: [String]? = nil
    /// Data `lo` at the top (y) / right (x) instead of bottom / left.
    var inverted: Bool = false

    init(lo: Double, hi: Double, options: AxisOptions) {
        self.lo = lo
        self.hi = hi
        self.label = options.label
        self.format = options.format
        self.integer = options.integerTicks
        self.explicitTicks = options.ticks
    }
}

/// A tick mark: its value, its (possibly empty) label, and its pixel coordinate along the axis.
struct Tick {
    var value: Double
    var label: String
    var pixel: Double = 0
}

/// Where the axes landed on the canvas.
struct AxesLayout {
    var frame: PlotRect
    var x: LinearScale
    var y: LinearScale
    var xTicks: [Tick]
    var yTicks: [Tick]
    /// Category labels are drawn rotated by 45 degrees.
    var xRotated: Bool
    /// Height taken by the x tick labels below the ticks.
    var xLabelExtent: Double

    func point(_ vx: Double, _ vy: Double) -> PlotPoint { PlotPoint(x: x.pixel(vx), y: y.pixel(vy)) }
}

/// Layout constants in points.
enum Metrics {
    static let pad = 8.0
    static let tickLength = 3.5
    static let tickPad = 3.0
    static let axisWidth = 0.8
    static let labelGap = 5.0
    static let titleGap = 8.0
}

/// Chooses numeric ticks for `model` along `length` pixels: the finest 1-2-5 step whose labels do
/// not overlap (thinning by coarsening the step), or every k-th explicit tick.
func numericTicks(_ canvas: Canvas, _ model: AxisModel, length: Double, vertical: Bool, style: TextStyle) -> [Tick] {
    let s = canvas.scale
    let span = model.hi - model.lo
    guard span > 0, length > 0 else { return [] }
    let ppu = length / span
    let textH = canvas.measure("0", style).height

    func fits(_ ticks: [Tick]) -> Bool {
        if ticks.count < 2 { return true }
        let widths = ticks.map { canvas.measure($0.label, style).width }
        for k in 1..<ticks.count {
            let d = abs(ticks[k].value - ticks[k - 1].value) * ppu
            let need = vertical ? textH + 2 * s : (widths[k] + widths[k - 1]) / 2 + 8 * s
            if d < need { return false }
        }
        return true
    }

    if let explicit = model.explicitTicks {
        let tol = span * 1e-9
        let vals = explicit.filter { $0.isFinite && $0 >= model.lo - tol && $0 <= model.hi + tol }.sorted()
        var step = span
        for k in 1..<max(1, vals.count) { step = min(step, vals[k] - vals[k - 1]) }
        let all = vals.map { Tick(value: $0, label: Ticks.label($0, step: step > 0 ? step : 1, format: model.format)) }
        var every = 1
        while every < max(1, all.count) {
            let thinned = stride(from: 0, to: all.count, by: every).map { all[$0] }
            if fits(thinned) { return thinned }
            every += 1
        }
        return all.isEmpty ? [] : [all[0]]
    }

    // Aim for ticks about this far apart, then coarsen only while labels overlap.
    let desired = (vertical ? 36.0 : 50.0) * s
    var step = Ticks.niceStep(span / max(1, length / desired))
    if model.integer { step = max(1, step) }
    var best: [Tick] = []
    for _ in 0..<40 {
        let vals = Ticks.values(lo: model.lo, hi: model.hi, step: step)
        let fmt: TickFormat = (model.integer && model.format == .auto) ? .integer : model.format
        let ticks = vals.map { Tick(value: $0, label: Ticks.label($0, step: step, format: fmt)) }
        best = ticks
        if ticks.count <= 2 || fits(ticks) { break }
        step = Ticks.coarser(step)
    }
    return best
}

/// Lays out a single pair of axes inside the canvas, leaving `reserveRight` pixels free on the
/// right (legend outside, colour bar). Throws `canvasTooSmall` when no room is left for data.
func layoutAxes(_ canvas: Canvas, style: FigureStyle, title: String?, x: AxisModel, y: AxisModel,
                reserveRight: Double, context: String) throws -> AxesLayout {
    let s = canvas.scale
    let pad = Metrics.pad * s
    let tickLen = Metrics.tickLength * s
    let tickPad = Metrics.tickPad * s
    let ts = style.tickStyle
    let ls = style.labelStyle
    let W = Double(canvas.width)
    let H = Double(canvas.height)
    let tickH = canvas.measure("0", ts).height
    let labelH = canvas.measure("0", ls).height

    var top = pad + tickH / 2
    if let t = title, !t.isEmpty {
        top = max(top, pad + canvas.measure(t, style.titleStyle).height + Metrics.titleGap * s)
    }
    var right = pad + reserveRight
    var xLabelExtent = tickH
    var rotated = false
    var left = pad
    var xTicks: [Tick] = []
    var yTicks: [Tick] = []
    var frame = PlotRect(x: 0, y: 0, width: 0, height: 0)

    for _ in 0..<3 {
        let bottom = pad + tickLen + tickPad + xLabelExtent + (x.label != nil ? Metrics.labelGap * s + labelH : 0)
        let frameH = H - top - bottom
        if frameH < 12 * s { throw PlotError.canvasTooSmall(context: context, width: canvas.width, height: canvas.height) }
        if y.categories != nil {
            yTicks = categoryTicks(y.categories ?? [])
        } else {
            yTicks = numericTicks(canvas, y, length: frameH, vertical: true, style: ts)
        }
        let yw = yTicks.map { canvas.measure($0.label, ts).width }.max() ?? 0
        left = pad + (y.label != nil ? labelH + Metrics.labelGap * s : 0) + yw + tickLen + tickPad
        let frameW = W - left - right
        if frameW < 12 * s { throw PlotError.canvasTooSmall(context: context, width: canvas.width, height: canvas.height) }
        frame = PlotRect(x: left, y: top, width: frameW, height: frameH)

        if let cats = x.categories {
            let slot = frameW / max(1e-9, x.hi - x.lo)
            var labels = cats
            let maxW = labels.map { canvas.measure($0, ts).width }.max() ?? 0
            rotated = maxW + 6 * s > slot
            if rotated {
                // 45 degrees: vertical extent is (w + h) / sqrt 2; cap it at 30% of the canvas.
                let cap = 0.3 * H
                let maxLabelW = cap * 2.0.squareRoot() - tickH
                labels = labels.map { canvas.ellipsize($0, maxWidth: maxLabelW, style: ts) }
                let w = labels.map { canvas.measure($0, ts).width }.max() ?? 0
                xLabelExtent = (w + tickH) / 2.0.squareRoot()
                let every = max(1, Int((tickH * 1.5 / max(1e-9, slot)).rounded(.up)))
                xTicks = stride(from: 0, to: labels.count, by: every).map { Tick(value: Double($0), label: labels[$0]) }
            } else {
                xLabelExtent = tickH
                xTicks = labels.enumerated().map { Tick(value: Double($0.offset), label: $0.element) }
            }
        } else {
            rotated = false
            xLabelExtent = tickH
            xTicks = numericTicks(canvas, x, length: frameW, vertical: false, style: ts)
        }
        // The last x label may stick out past the frame: make room for half of it.
        if !rotated, let last = xTicks.last {
            let px = left + (last.value - x.lo) / max(1e-300, x.hi - x.lo) * frameW
            let overflow = (px + canvas.measure(last.label, ts).width / 2) - (W - pad)
            if overflow > 0.5 { right += overflow }
        }
    }
    let xs = x.inverted
        ? LinearScale(domainLo: x.lo, domainHi: x.hi, pixelLo: frame.maxX, pixelHi: frame.minX)
        : LinearScale(domainLo: x.lo, domainHi: x.hi, pixelLo: frame.minX, pixelHi: frame.maxX)
    let ys = y.inverted
        ? LinearScale(domainLo: y.lo, domainHi: y.hi, pixelLo: frame.minY, pixelHi: frame.maxY)
        : LinearScale(domainLo: y.lo, domainHi: y.hi, pixelLo: frame.maxY, pixelHi: frame.minY)
    for i in xTicks.indices { xTicks[i].pixel = xs.pixel(xTicks[i].value) }
    for i in yTicks.indices { yTicks[i].pixel = ys.pixel(yTicks[i].value) }
    return AxesLayout(frame: frame, x: xs, y: ys, xTicks: xTicks, yTicks: yTicks, xRotated: rotated, xLabelExtent: xLabelExtent)
}

func categoryTicks(_ cats: [String]) -> [Tick] {
    cats.enumerated().map { Tick(value: Double($0.offset), label: $0.element) }
}

/// Light grid lines at the ticks (drawn before the data).
func drawGrid(_ canvas: Canvas, _ axes: AxesLayout, _ grid: GridLines) {
    let w = 0.6 * canvas.scale
    let c = Color(hex: 0xE3E3E3)
    if grid == .horizontal || grid == .both {
        for t in axes.yTicks { canvas.line(PlotPoint(x: axes.frame.minX, y: t.pixel), PlotPoint(x: axes.frame.maxX, y: t.pixel), c, width: w) }
    }
    if grid == .vertical || grid == .both {
        for t in axes.xTicks { canvas.line(PlotPoint(x: t.pixel, y: axes.frame.minY), PlotPoint(x: t.pixel, y: axes.frame.maxY), c, width: w) }
    }
}

/// Spines, ticks, tick labels, axis labels and the title (drawn after the data).
func drawAxes(_ canvas: Canvas, _ axes: AxesLayout, style: FigureStyle, title: String?, xLabel: String?, yLabel: String?,
              box: Bool = false) {
    let s = canvas.scale
    let f = axes.frame
    let lw = Metrics.axisWidth * s
    let ink = Color.ink
    let tickLen = Metrics.tickLength * s
    let tickPad = Metrics.tickPad * s
    let ts = style.tickStyle
    let ls = style.labelStyle
    let pad = Metrics.pad * s
    let W = Double(canvas.width)

    // Spines: left and bottom (all four for `box`), extended by half a line width to meet cleanly.
    canvas.line(PlotPoint(x: f.minX, y: f.maxY + lw / 2), PlotPoint(x: f.minX, y: f.minY), ink, width: lw)
    canvas.line(PlotPoint(x: f.minX - lw / 2, y: f.maxY), PlotPoint(x: f.maxX, y: f.maxY), ink, width: lw)
    if box {
        canvas.line(PlotPoint(x: f.maxX, y: f.maxY + lw / 2), PlotPoint(x: f.maxX, y: f.minY - lw / 2), ink, width: lw)
        canvas.line(PlotPoint(x: f.minX - lw / 2, y: f.minY), PlotPoint(x: f.maxX + lw / 2, y: f.minY), ink, width: lw)
    }
    for t in axes.xTicks {
        canvas.line(PlotPoint(x: t.pixel, y: f.maxY), PlotPoint(x: t.pixel, y: f.maxY + tickLen), ink, width: lw)
        let p = PlotPoint(x: t.pixel, y: f.maxY + tickLen + tickPad)
        if axes.xRotated {
            canvas.drawText(t.label, at: PlotPoint(x: p.x + 2 * s, y: p.y), style: ts, h: .right, v: .top, angle: -Double.pi / 4)
        } else {
            canvas.drawText(t.label, at: p, style: ts, h: .center, v: .top)
        }
    }
    for t in axes.yTicks {
        canvas.line(PlotPoint(x: f.minX, y: t.pixel), PlotPoint(x: f.minX - tickLen, y: t.pixel), ink, width: lw)
        canvas.drawText(t.label, at: PlotPoint(x: f.minX - tickLen - tickPad, y: t.pixel), style: ts, h: .right, v: .middle)
    }
    if let xl = xLabel, !xl.isEmpty {
        let text = canvas.ellipsize(xl, maxWidth: W - 2 * pad, style: ls)
        let y = f.maxY + tickLen + tickPad + axes.xLabelExtent + Metrics.labelGap * s
        let w = canvas.measure(text, ls).width
        let cx = min(max(f.midX, pad + w / 2), W - pad - w / 2)
        canvas.drawText(text, at: PlotPoint(x: cx, y: y), style: ls, h: .center, v: .top)
    }
    if let yl = yLabel, !yl.isEmpty {
        let text = canvas.ellipsize(yl, maxWidth: Double(canvas.height) - 2 * pad, style: ls)
        canvas.drawText(text, at: PlotPoint(x: pad, y: f.midY), style: ls, h: .center, v: .top, angle: -Double.pi / 2)
    }
    if let t = title, !t.isEmpty {
        drawTitle(canvas, t, centerX: f.midX, top: pad, style: style)
    }
}

/// A title centred at `centerX` (kept inside the canvas, ellipsized when too long).
func drawTitle(_ canvas: Canvas, _ title: String, centerX: Double, top: Double, style: FigureStyle) {
    let pad = Metrics.pad * canvas.scale
    let W = Double(canvas.width)
    let text = canvas.ellipsize(title, maxWidth: W - 2 * pad, style: style.titleStyle)
    let w = canvas.measure(text, style.titleStyle).width
    let cx = min(max(centerX, pad + w / 2), W - pad - w / 2)
    canvas.drawText(text, at: PlotPoint(x: cx, y: top), style: style.titleStyle, h: .center, v: .top)
}

/// The data range padded by `margin` of its span on each side (a unit interval around a constant).
func paddedRange(_ lo: Double, _ hi: Double, margin: Double = 0.05) -> (Double, Double) {
    if lo == hi {
        let d = lo == 0 ? 1 : abs(lo) * 0.1
        return (lo - d, hi + d)
    }
    let m = (hi - lo) * margin
    return (lo - m, hi + m)
}

/// The user's fixed range if given (checked), else the padded data range.
func resolveRange(_ fixed: Bounds?, dataLo: Double, dataHi: Double, margin: Double, field: String, check: Check) throws -> (Double, Double) {
    if let b = fixed {
        try check.argument(b.lo.isFinite && b.hi.isFinite && b.lo < b.hi, field,
                           "range must be finite with lo < hi (got \(b.lo)...\(b.hi))")
        return (b.lo, b.hi)
    }
    let r = paddedRange(dataLo, dataHi, margin: margin)
    try check.argument(r.0.isFinite && r.1.isFinite && (r.1 - r.0).isFinite && r.1 > r.0, field,
                       "the data range \(dataLo)...\(dataHi) is too large to plot; set a range")
    return r
}

/// A pixel coordinate as an Int, clamped far outside any canvas so absurd data cannot trap.
func pixelIndex(_ v: Double) -> Int {
    if !(v > -1e7) { return -10_000_000 }
    if v > 1e7 { return 10_000_000 }
    return Int(v.rounded())
}
