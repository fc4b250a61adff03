/// A shaded band around a line (a confidence interval or +- one standard deviation): one lower and
/// one upper value per point.
public struct ErrorBand: Sendable, Equatable {
    public var lower: [Double]
    public var upper: [Double]
    /// Creates a `ErrorBand` from its fields.
    public init(lower: [Double], upper: [Double]) {
        self.lower = lower
        self.upper = upper
    }
}

/// One line of a line chart.
public struct LineSeries: Sendable, Equatable {
    public var name: String
    /// [n] x values.
    public var x: [Double]
    /// [n] y values.
    public var y: [Double]
    public var band: ErrorBand?
    /// nil: the next palette colour.
    public var color: Color?
    public var marker: MarkerShape
    public var style: LineStyle
    /// Line width in points.
    public var lineWidth: Double

    /// Creates a `LineSeries` from its fields.
    public init(name: String, x: [Double], y: [Double], band: ErrorBand? = nil, color: Color? = nil,
                marker: MarkerShape = .circle, style: LineStyle = .solid, lineWidth: Double = 1.75) {
        self.name = name
        self.x = x
        self.y = y
        self.band = band
        self.color = color
        self.marker = marker
        self.style = style
        self.lineWidth = lineWidth
    }

    /// A series at x = 0, 1, ..., n - 1 (e.g. one value per layer).
    public init(name: String, y: [Double], band: ErrorBand? = nil, color: Color? = nil,
                marker: MarkerShape = .circle, style: LineStyle = .solid, lineWidth: Double = 1.75) {
        self.init(name: name, x: y.indices.map(Double.init), y: y, band: band, color: color, marker: marker,
                  style: style, lineWidth: lineWidth)
    }
}

extension Plot {
    /// Line chart: one line (with markers and an optional error band) per series, a legend entry
    /// per series. Throws on no series, an empty series, mismatched lengths or non-finite values.
    public static func lineChart(series: [LineSeries], options: ChartOptions = ChartOptions()) throws -> Figure {
        let context = "Plot.lineChart"
        let check = Check(context: context)
        try check.nonEmpty(series.count, "series")
        for (i, s) in series.enumerated() {
            try check.nonEmpty(s.y.count, "series[\(i)].y")
            try check.length(s.x.count, s.y.count, "series[\(i)].x")
            try check.finite(s.x, "series[\(i)].x")
            try check.finite(s.y, "series[\(i)].y")
            try check.argument(s.lineWidth.isFinite && s.lineWidth >= 0, "series[\(i)].lineWidth", "must be finite and >= 0")
            if let b = s.band {
                try check.length(b.lower.count, s.y.count, "series[\(i)].band.lower")
                try check.length(b.upper.count, s.y.count, "series[\(i)].band.upper")
                try check.finite(b.lower, "series[\(i)].band.lower")
                try check.finite(b.upper, "series[\(i)].band.upper")
            }
        }
        let colors = series.indices.map { seriesColor(series[$0].color, $0, options.style) }
        guard let (xlo, xhi) = extent(series.map { $0.x }),
              let (ylo, yhi) = extent(series.flatMap { [$0.y, $0.band?.lower ?? [], $0.band?.upper ?? []] }) else {
            throw PlotError.emptyData(context: context, field: "series")
        }
        let xr = try resolveRange(options.x.range, dataLo: xlo, dataHi: xhi, margin: 0.04, field: "options.x.range", check: check)
        let yr = try resolveRange(options.y.range, dataLo: ylo, dataHi: yhi, margin: 0.06, field: "options.y.range", check: check)
        let content = LineContent(series: series, colors: colors,
                                  xModel: AxisModel(lo: xr.0, hi: xr.1, options: options.x),
                                  yModel: AxisModel(lo: yr.0, hi: yr.1, options: options.y))
        return try renderCartesian(content, options: options, context: context)
    }
}

struct LineContent: CartesianContent {
    let series: [LineSeries]
    let colors: [Color]
    let xModel: AxisModel
    let yModel: AxisModel
    let bandAlpha = 0.18

    var legendItems: [LegendItem] {
        series.enumerated().map { i, s in
            LegendItem(label: s.name, color: colors[i],
                       swatch: s.band == nil ? .line(width: s.lineWidth, style: s.style, marker: s.marker)
                           : .lineBand(width: s.lineWidth, style: s.style, marker: s.marker, bandAlpha: bandAlpha))
        }
    }

    func points(_ s: LineSeries, _ a: AxesLayout) -> [PlotPoint] {
        zip(s.x, s.y).map { a.point($0, $1) }
    }

    func obstacles(_ a: AxesLayout) -> Obstacles {
        var o = Obstacles(bounds: a.frame)
        for s in series {
            let pts = points(s, a)
            o.addPolyline(pts, every: 4)
            if let b = s.band {
                o.addPolyline(zip(s.x, b.lower).map { a.point($0, $1) }, every: 6)
                o.addPolyline(zip(s.x, b.upper).map { a.point($0, $1) }, every: 6)
            }
        }
        return o
    }

    func draw(_ canvas: Canvas, _ a: AxesLayout) {
        let sc = canvas.scale
        for (i, s) in series.enumerated() {
            guard let b = s.band else { continue }
            let upper = zip(s.x, b.upper).map { a.point($0, $1) }
            let lower = zip(s.x, b.lower).map { a.point($0, $1) }
            canvas.fillPolygon(upper + lower.reversed(), colors[i].withAlpha(bandAlpha))
        }
        for (i, s) in series.enumerated() where s.lineWidth > 0 {
            canvas.polyline(points(s, a), colors[i], width: s.lineWidth * sc, dash: s.style.pattern.map { $0 * sc })
        }
        for (i, s) in series.enumerated() where s.marker != .none {
            for p in points(s, a) {
                canvas.marker(s.marker, at: p, size: 5.5 * sc, fill: colors[i], edge: .white, edgeWidth: 0.6 * sc)
            }
        }
    }
}
