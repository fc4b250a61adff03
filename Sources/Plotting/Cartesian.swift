import Foundation

/// The data part of a chart drawn in one pair of axes; `renderCartesian` does the rest (layout,
/// reference marks, legend, annotation, axes).
protocol CartesianContent {
    var xModel: AxisModel { get }
    var yModel: AxisModel { get }
    var legendItems: [LegendItem] { get }
    /// The drawn data in pixels, to keep the legend and annotation off it.
    func obstacles(_ axes: AxesLayout) -> Obstacles
    /// Draws the data (clipped to the frame by the caller).
    func draw(_ canvas: Canvas, _ axes: AxesLayout)
}

/// Renders `content` with `options`: layout, spans, grid, data, reference lines, axes, legend and
/// annotation, in that order.
func renderCartesian(_ content: CartesianContent, options: ChartOptions, context: String) throws -> Figure {
    let check = Check(context: context)
    for (i, r) in options.referenceLines.enumerated() {
        try check.argument(r.value.isFinite, "options.referenceLines[\(i)].value", "must be finite")
    }
    for (i, sp) in options.spans.enumerated() {
        try check.argument(sp.from.isFinite && sp.to.isFinite, "options.spans[\(i)]", "bounds must be finite")
    }
    let st = options.style
    let canvas = try Canvas(width: st.width, height: st.height, dpi: st.dpi, background: st.background)
    canvas.fontFamily = st.fontFamily
    let s = canvas.scale
    let xm = content.xModel
    let ym = content.yModel
    var axes = try layoutAxes(canvas, style: st, title: options.title, x: xm, y: ym, reserveRight: 0, context: context)

    func allObstacles(_ a: AxesLayout) -> Obstacles {
        var o = content.obstacles(a)
        for r in options.referenceLines {
            switch r.axis {
            case .x: o.addSegment(PlotPoint(x: a.x.pixel(r.value), y: a.frame.minY), PlotPoint(x: a.x.pixel(r.value), y: a.frame.maxY), every: 4)
            case .y: o.addSegment(PlotPoint(x: a.frame.minX, y: a.y.pixel(r.value)), PlotPoint(x: a.frame.maxX, y: a.y.pixel(r.value)), every: 4)
            }
        }
        return o
    }

    let inset = 6 * s
    let margin = 3 * s
    let items = content.legendItems
    var legendRect: PlotRect? = nil
    var legendGeom: LegendGeometry? = nil
    if !items.isEmpty && options.legend != .hidden {
        let g = LegendGeometry(canvas, items: items, style: st.legendStyle)
        legendGeom = g
        var outside = options.legend == .outsideRight
        if options.legend == .best {
            let best = bestInside(frame: axes.frame, size: g.size, obstacles: allObstacles(axes), inset: inset, margin: margin)
            let fitsInside = g.size.width + 2 * inset <= axes.frame.width && g.size.height + 2 * inset <= axes.frame.height
            if best.badness > 0 || !fitsInside { outside = true } else { legendRect = best.rect }
        } else if !outside {
            legendRect = placedRect(options.legend, frame: axes.frame, size: g.size, inset: inset)
        }
        if outside {
            let gap = 8 * s
            axes = try layoutAxes(canvas, style: st, title: options.title, x: xm, y: ym, reserveRight: g.size.width + gap, context: context)
            legendRect = PlotRect(x: (axes.frame.maxX + gap).rounded(.down), y: axes.frame.minY.rounded(.down),
                                  width: g.size.width.rounded(.up), height: g.size.height.rounded(.up))
        }
    }

    var annotationRect: PlotRect? = nil
    if let text = options.annotation, !text.isEmpty {
        let size = annotationSize(canvas, text, style: st.legendStyle)
        var o = allObstacles(axes)
        if let lr = legendRect { o.rects.append(lr.insetBy(-margin)); o.rects.append(lr) }
        switch options.annotationPlacement {
        case .best, .outsideRight, .hidden:
            // Weight the legend heavily so the box never sits on it when another spot exists.
            var weighted = o
            if let lr = legendRect { for _ in 0..<50 { weighted.rects.append(lr) } }
            annotationRect = bestInside(frame: axes.frame, size: size, obstacles: weighted, inset: inset, margin: margin).rect
        default:
            annotationRect = placedRect(options.annotationPlacement, frame: axes.frame, size: size, inset: inset)
        }
        if options.annotationPlacement == .hidden { annotationRect = nil }
    }

    // Spans (background), grid, data, reference lines: all clipped to the frame.
    let f = axes.frame
    canvas.withClip(f) {
        for sp in options.spans {
            let r: PlotRect
            switch sp.axis {
            case .x:
                let a = axes.x.pixel(sp.from), b = axes.x.pixel(sp.to)
                r = PlotRect(x: min(a, b), y: f.minY, width: abs(b - a), height: f.height)
            case .y:
                let a = axes.y.pixel(sp.from), b = axes.y.pixel(sp.to)
                r = PlotRect(x: f.minX, y: min(a, b), width: f.width, height: abs(b - a))
            }
            canvas.fillRect(r, sp.color)
            if let l = sp.label, !l.isEmpty {
                canvas.drawText(l, at: PlotPoint(x: r.midX, y: f.minY + 3 * s), style: TextStyle(size: st.fontSize * 0.8, color: .gray),
                                h: .center, v: .top)
            }
        }
        drawGrid(canvas, axes, options.grid)
        content.draw(canvas, axes)
        for r in options.referenceLines {
            let lw = 1.0 * s
            let dash = r.style.pattern.map { $0 * s }
            let ls = TextStyle(size: st.fontSize * 0.8, color: r.color)
            switch r.axis {
            case .x:
                let px = axes.x.pixel(r.value)
                canvas.line(PlotPoint(x: px, y: f.minY), PlotPoint(x: px, y: f.maxY), r.color, width: lw, dash: dash)
                if let l = r.label, !l.isEmpty {
                    let w = canvas.measure(l, ls).width
                    let right = px + 3 * s + w <= f.maxX
                    canvas.drawText(l, at: PlotPoint(x: right ? px + 3 * s : px - 3 * s, y: f.minY + 3 * s), style: ls,
                                    h: right ? .left : .right, v: .top)
                }
            case .y:
                let py = axes.y.pixel(r.value)
                canvas.line(PlotPoint(x: f.minX, y: py), PlotPoint(x: f.maxX, y: py), r.color, width: lw, dash: dash)
                if let l = r.label, !l.isEmpty {
                    canvas.drawText(l, at: PlotPoint(x: f.maxX - 3 * s, y: py - 2 * s), style: ls, h: .right, v: .bottom)
                }
            }
        }
    }
    drawAxes(canvas, axes, style: st, title: options.title, xLabel: xm.label, yLabel: ym.label)

    var entries: [LegendEntryInfo] = []
    if let lr = legendRect, let g = legendGeom {
        entries = drawLegend(canvas, items: items, geometry: g, rect: lr, style: st.legendStyle)
    }
    if let ar = annotationRect, let text = options.annotation {
        drawAnnotation(canvas, text, rect: ar, style: st.legendStyle)
    }
    let panel = PanelLayout(frame: axes.frame, x: axes.x, y: axes.y, title: options.title)
    return Figure(canvas: canvas, panels: [panel], legend: entries, legendFrame: legendRect, annotationFrame: annotationRect)
}

/// Colour for series `i`: its own, else the palette's `i`-th.
func seriesColor(_ own: Color?, _ i: Int, _ style: FigureStyle) -> Color {
    own ?? Palette.color(i, in: style.palette)
}

/// Min and max of several arrays (nil when all are empty).
func extent(_ arrays: [[Double]]) -> (Double, Double)? {
    var lo = Double.infinity
    var hi = -Double.infinity
    for a in arrays {
        for v in a {
            lo = min(lo, v)
            hi = max(hi, v)
        }
    }
    return lo <= hi ? (lo, hi) : nil
}
