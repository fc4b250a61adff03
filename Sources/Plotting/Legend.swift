import _CCairo
import Foundation

/// What a legend entry shows next to its label.
enum LegendSwatch {
    /// A line sample (width in points) with an optional marker in its middle.
    case line(width: Double, style: LineStyle, marker: MarkerShape)
    /// A filled box (bars, histograms).
    case patch
    /// A single marker (scatter).
    case marker(MarkerShape)
    /// A line over a light band (series with an error band).
    case lineBand(width: Double, style: LineStyle, marker: MarkerShape, bandAlpha: Double)
}

struct LegendItem {
    var label: String
    var color: Color
    var swatch: LegendSwatch
}

/// Data drawn in the axes, in pixels, used to keep legends and text boxes off it.
struct Obstacles {
    /// Only data inside these bounds (the axes frame) counts.
    var bounds: PlotRect
    var points: [PlotPoint] = []
    var rects: [PlotRect] = []

    init(bounds: PlotRect) { self.bounds = bounds }

    /// Samples the part of segment a-b inside the bounds every `every` pixels.
    mutating func addSegment(_ p: PlotPoint, _ q: PlotPoint, every: Double) {
        guard let (a, b) = Clip.segment(p, q, bounds) else { return }
        let d = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
        let n = max(1, Int((d / max(1, every)).rounded(.up)))
        for k in 0...n {
            let t = Double(k) / Double(n)
            points.append(PlotPoint(x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t))
        }
    }

    /// Adds a point if it lies inside the bounds.
    mutating func addPoint(_ p: PlotPoint) {
        if bounds.contains(p) { points.append(p) }
    }

    /// Adds a rectangle, cut to the bounds.
    mutating func addRect(_ r: PlotRect) {
        let x0 = max(r.minX, bounds.minX), x1 = min(r.maxX, bounds.maxX)
        let y0 = max(r.minY, bounds.minY), y1 = min(r.maxY, bounds.maxY)
        if x1 > x0 && y1 > y0 { rects.append(PlotRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)) }
    }

    mutating func addPolyline(_ pts: [PlotPoint], every: Double) {
        if pts.count == 1 { addPoint(pts[0]) }
        for k in 1..<max(1, pts.count) { addSegment(pts[k - 1], pts[k], every: every) }
    }

    /// How much of the data `r` would hide: points inside (with a margin) plus overlapped area in
    /// units of 16 square pixels.
    func badness(_ r: PlotRect, margin: Double) -> Double {
        let g = PlotRect(x: r.x - margin, y: r.y - margin, width: r.width + 2 * margin, height: r.height + 2 * margin)
        var b = 0.0
        for p in points where g.contains(p) { b += 1 }
        for q in rects { b += g.overlapArea(q) / 16 }
        return b
    }
}

/// Inside placements tried by `.best`, in order of preference.
let bestCandidates: [LegendPlacement] = [.upperRight, .upperLeft, .lowerRight, .lowerLeft, .upperCenter, .lowerCenter,
                                          .centerRight, .centerLeft]

/// The rectangle of a box of `size` at `placement` inside `frame` (inset by `inset`), snapped to pixels.
func placedRect(_ placement: LegendPlacement, frame: PlotRect, size: (width: Double, height: Double), inset: Double) -> PlotRect {
    let w = size.width
    let h = size.height
    var x = frame.maxX - inset - w
    var y = frame.minY + inset
    switch placement {
    case .upperRight, .best, .hidden, .outsideRight: break
    case .upperLeft: x = frame.minX + inset
    case .lowerRight: y = frame.maxY - inset - h
    case .lowerLeft:
        x = frame.minX + inset
        y = frame.maxY - inset - h
    case .upperCenter: x = frame.midX - w / 2
    case .lowerCenter:
        x = frame.midX - w / 2
        y = frame.maxY - inset - h
    case .centerRight: y = frame.midY - h / 2
    case .centerLeft:
        x = frame.minX + inset
        y = frame.midY - h / 2
    }
    return PlotRect(x: x.rounded(.down), y: y.rounded(.down), width: w.rounded(.up), height: h.rounded(.up))
}

/// The inside candidate with the least badness (first in order on ties).
func bestInside(frame: PlotRect, size: (width: Double, height: Double), obstacles: Obstacles, inset: Double,
                margin: Double) -> (rect: PlotRect, badness: Double) {
    var best = placedRect(.upperRight, frame: frame, size: size, inset: inset)
    var bestBad = Double.infinity
    for c in bestCandidates {
        let r = placedRect(c, frame: frame, size: size, inset: inset)
        let b = obstacles.badness(r, margin: margin)
        if b < bestBad {
            bestBad = b
            best = r
        }
    }
    return (best, bestBad)
}

/// Legend geometry derived from the items and the canvas scale.
struct LegendGeometry {
    var pad: Double
    var swatchLength: Double
    var gap: Double
    var rowHeight: Double
    var labels: [String]
    var size: (width: Double, height: Double)

    init(_ canvas: Canvas, items: [LegendItem], style: TextStyle) {
        let s = canvas.scale
        pad = 5 * s
        swatchLength = 22 * s
        gap = 6 * s
        let textH = canvas.measure("0", style).height
        rowHeight = max(textH, 7 * s) + 3 * s
        let maxLabel = Double(canvas.width) * 0.4
        labels = items.map { canvas.ellipsize($0.label, maxWidth: maxLabel, style: style) }
        let lw = labels.map { canvas.measure($0, style).width }.max() ?? 0
        size = (2 * pad + swatchLength + gap + lw, 2 * pad + Double(items.count) * rowHeight)
    }
}

/// Draws the legend box at `rect` and returns where each swatch landed.
func drawLegend(_ canvas: Canvas, items: [LegendItem], geometry g: LegendGeometry, rect: PlotRect, style: TextStyle) -> [LegendEntryInfo] {
    let s = canvas.scale
    canvas.fillRect(rect, Color(r: 1, g: 1, b: 1, a: 0.88))
    canvas.strokeRect(rect.insetBy(0.5), Color.lightGray, width: 0.8 * s)
    var out: [LegendEntryInfo] = []
    for (i, item) in items.enumerated() {
        // Centres on pixel centres, so the middle pixel of a swatch is fully covered.
        let cy = (rect.y + g.pad + (Double(i) + 0.5) * g.rowHeight).rounded(.down) + 0.5
        let x0 = (rect.x + g.pad).rounded(.down)
        let x1 = x0 + g.swatchLength.rounded()
        let cx = ((x0 + x1) / 2).rounded(.down) + 0.5
        let c = item.color.withAlpha(1)
        let markerSize = 5.5 * s
        func lineSample(_ width: Double, _ ls: LineStyle) {
            let lw = max(2, width * s)
            let dash = ls.pattern.map { $0 * s }
            var offset = 0.0
            if dash.count == 2 {
                // Put the middle of a dash on the swatch centre.
                let period = dash[0] + dash[1]
                offset = (dash[0] / 2 - (cx - x0)).truncatingRemainder(dividingBy: period)
                if offset < 0 { offset += period }
            }
            canvas.polyline([PlotPoint(x: x0, y: cy), PlotPoint(x: x1, y: cy)], c, width: lw, dash: dash, dashOffset: offset)
        }
        let sh = max(3, (0.62 * g.rowHeight).rounded())
        let patchRect = PlotRect(x: x0, y: (cy - sh / 2).rounded(.down), width: x1 - x0, height: sh)
        switch item.swatch {
        case .patch:
            canvas.fillPixels(x0: Int(patchRect.minX), y0: Int(patchRect.minY), x1: Int(patchRect.maxX), y1: Int(patchRect.maxY), c)
        case let .marker(shape):
            canvas.marker(shape == .none ? .circle : shape, at: PlotPoint(x: cx, y: cy), size: markerSize * 1.1, fill: c, edge: nil, edgeWidth: 0)
        case let .line(width, ls, shape):
            lineSample(width, ls)
            canvas.marker(shape, at: PlotPoint(x: cx, y: cy), size: markerSize, fill: c, edge: .white, edgeWidth: 0.6 * s)
        case let .lineBand(width, ls, shape, alpha):
            canvas.fillRect(patchRect, c.withAlpha(alpha))
            lineSample(width, ls)
            canvas.marker(shape, at: PlotPoint(x: cx, y: cy), size: markerSize, fill: c, edge: .white, edgeWidth: 0.6 * s)
        }
        canvas.drawText(g.labels[i], at: PlotPoint(x: x1 + g.gap, y: cy), style: style, h: .left, v: .middle)
        out.append(LegendEntryInfo(label: item.label, color: c, swatch: PlotRect(x: x0, y: patchRect.minY, width: x1 - x0, height: sh),
                                   center: PlotPoint(x: cx, y: cy)))
    }
    return out
}

/// Size of an annotation box holding `text`.
func annotationSize(_ canvas: Canvas, _ text: String, style: TextStyle) -> (width: Double, height: Double) {
    let b = canvas.measureBlock(text, style)
    let p = 5 * canvas.scale
    return (b.width + 2 * p, b.height + 2 * p)
}

/// Draws an annotation box (light frame, multi-line text) at `rect`.
func drawAnnotation(_ canvas: Canvas, _ text: String, rect: PlotRect, style: TextStyle) {
    let p = 5 * canvas.scale
    canvas.fillRect(rect, Color(r: 1, g: 1, b: 1, a: 0.88))
    canvas.strokeRect(rect.insetBy(0.5), Color.lightGray, width: 0.8 * canvas.scale)
    canvas.drawBlock(text, at: PlotPoint(x: rect.x + p, y: rect.y + p), style: style)
}
