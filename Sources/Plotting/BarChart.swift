/// One group of bars: a value (and optional error) for each category, drawn in one colour.
public struct BarGroup: Sendable, Equatable {
    public var name: String
    /// [categories] bar heights.
    public var values: [Double]
    /// [categories] symmetric error-bar half lengths (>= 0), or nil.
    public var errors: [Double]?
    /// nil: the next palette colour.
    public var color: Color?

    /// Creates a `BarGroup` from its fields.
    public init(name: String, values: [Double], errors: [Double]? = nil, color: Color? = nil) {
        self.name = name
        self.values = values
        self.errors = errors
        self.color = color
    }
}

/// Bar geometry and value labels.
public struct BarStyle: Sendable, Equatable {
    /// Fraction of each category slot covered by its bars (0...1].
    public var groupWidth: Double
    /// Write each bar's value above it.
    public var valueLabels: Bool
    /// Format of the value labels.
    public var valueFormat: TickFormat

    /// Default options (the values assigned below); override any field afterwards.
    public init(groupWidth: Double = 0.8, valueLabels: Bool = false, valueFormat: TickFormat = .decimals(1)) {
        self.groupWidth = groupWidth
        self.valueLabels = valueLabels
        self.valueFormat = valueFormat
    }
}

extension Plot {
    /// Grouped bar chart: for each category, one bar per group side by side, a legend entry per
    /// group. The y axis always includes 0. Throws on empty input, mismatched lengths, non-finite
    /// values or negative errors.
    public static func barChart(categories: [String], groups: [BarGroup], bar: BarStyle = BarStyle(),
                                options: ChartOptions = ChartOptions()) throws -> Figure {
        let context = "Plot.barChart"
        let check = Check(context: context)
        try check.nonEmpty(categories.count, "categories")
        try check.nonEmpty(groups.count, "groups")
        try check.argument(bar.groupWidth.isFinite && bar.groupWidth > 0 && bar.groupWidth <= 1, "bar.groupWidth", "must be in (0, 1]")
        for (i, g) in groups.enumerated() {
            try check.length(g.values.count, categories.count, "groups[\(i)].values")
            try check.finite(g.values, "groups[\(i)].values")
            if let e = g.errors {
                try check.length(e.count, categories.count, "groups[\(i)].errors")
                try check.finite(e, "groups[\(i)].errors")
                if let k = e.firstIndex(where: { $0 < 0 }) {
                    throw PlotError.invalidArgument(context: context, field: "groups[\(i)].errors[\(k)]", reason: "must be >= 0")
                }
            }
        }
        let colors = groups.indices.map { seriesColor(groups[$0].color, $0, options.style) }
        var lo = 0.0
        var hi = 0.0
        for g in groups {
            for (k, v) in g.values.enumerated() {
                let e = g.errors?[k] ?? 0
                lo = min(lo, v - e)
                hi = max(hi, v + e)
            }
        }
        let yr: (Double, Double)
        if let b = options.y.range {
            yr = try resolveRange(b, dataLo: lo, dataHi: hi, margin: 0, field: "options.y.range", check: check)
        } else {
            let span = hi - lo > 0 ? hi - lo : 1
            let m = span * (bar.valueLabels ? 0.12 : 0.05)
            yr = (lo < 0 ? lo - m : 0, hi > 0 ? hi + m : (lo < 0 ? 0 : 1))
        }
        var xm = AxisModel(lo: -0.5, hi: Double(categories.count) - 0.5, options: options.x)
        xm.categories = categories
        let content = BarContent(categories: categories, groups: groups, colors: colors, bar: bar, valueStyle: options.style.tickStyle, scale: options.style.dpi / 72,
                                 xModel: xm, yModel: AxisModel(lo: yr.0, hi: yr.1, options: options.y))
        return try renderCartesian(content, options: options, context: context)
    }
}

struct BarContent: CartesianContent {
    let categories: [String]
    let groups: [BarGroup]
    let colors: [Color]
    let bar: BarStyle
    let valueStyle: TextStyle
    /// Pixels per point of the figure.
    let scale: Double
    let xModel: AxisModel
    let yModel: AxisModel

    var legendItems: [LegendItem] {
        groups.enumerated().map { LegendItem(label: $0.element.name, color: colors[$0.offset], swatch: .patch) }
    }

    /// Pixel rectangle [x0, x1) x [y0, y1) of bar (category c, group g), snapped to whole pixels.
    func barPixels(_ c: Int, _ g: Int, _ a: AxesLayout) -> (x0: Int, y0: Int, x1: Int, y1: Int) {
        let n = Double(groups.count)
        let w = bar.groupWidth / n
        let left = Double(c) - bar.groupWidth / 2 + Double(g) * w
        let v = groups[g].values[c]
        let x0 = pixelIndex(a.x.pixel(left))
        let x1 = max(x0 + 1, pixelIndex(a.x.pixel(left + w)))
        let ya = pixelIndex(a.y.pixel(max(v, 0)))
        let yb = pixelIndex(a.y.pixel(min(v, 0)))
        return (x0, min(ya, yb), x1, max(ya, yb))
    }

    func obstacles(_ a: AxesLayout) -> Obstacles {
        var o = Obstacles(bounds: a.frame)
        for c in categories.indices {
            for g in groups.indices {
                let b = barPixels(c, g, a)
                var top = Double(b.y0)
                if let e = groups[g].errors?[c] { top = min(top, a.y.pixel(groups[g].values[c] + e)) }
                if bar.valueLabels { top -= valueStyle.size * 1.3 * scale }
                o.addRect(PlotRect(x: Double(b.x0), y: top, width: Double(b.x1 - b.x0), height: Double(b.y1) - top))
            }
        }
        return o
    }

    func draw(_ canvas: Canvas, _ a: AxesLayout) {
        let s = canvas.scale
        for c in categories.indices {
            for g in groups.indices {
                let b = barPixels(c, g, a)
                canvas.fillPixels(x0: b.x0, y0: b.y0, x1: b.x1, y1: b.y1, colors[g])
            }
        }
        for c in categories.indices {
            for g in groups.indices {
                let b = barPixels(c, g, a)
                let v = groups[g].values[c]
                let cx = Double(b.x0 + b.x1) / 2
                var labelY = a.y.pixel(v)
                if let e = groups[g].errors?[c], e > 0 {
                    let lw = 1.0 * s
                    let cap = Double(b.x1 - b.x0) * 0.25
                    let y0 = a.y.pixel(v - e), y1 = a.y.pixel(v + e)
                    canvas.line(PlotPoint(x: cx, y: y0), PlotPoint(x: cx, y: y1), .ink, width: lw)
                    canvas.line(PlotPoint(x: cx - cap, y: y0), PlotPoint(x: cx + cap, y: y0), .ink, width: lw)
                    canvas.line(PlotPoint(x: cx - cap, y: y1), PlotPoint(x: cx + cap, y: y1), .ink, width: lw)
                    labelY = v >= 0 ? min(labelY, y1) : max(labelY, y0)
                }
                if bar.valueLabels {
                    let text = Ticks.label(v, step: 1, format: bar.valueFormat)
                    var st = valueStyle
                    st.size *= 0.85
                    if v >= 0 {
                        canvas.drawText(text, at: PlotPoint(x: cx, y: labelY - 2 * s), style: st, h: .center, v: .bottom)
                    } else {
                        canvas.drawText(text, at: PlotPoint(x: cx, y: labelY + 2 * s), style: st, h: .center, v: .top)
                    }
                }
            }
        }
        // Baseline at zero when the axis spans negative values.
        if yModel.lo < 0 && yModel.hi > 0 {
            let y0 = a.y.pixel(0)
            canvas.line(PlotPoint(x: a.frame.minX, y: y0), PlotPoint(x: a.frame.maxX, y: y0), .ink, width: 0.6 * s)
        }
    }
}
