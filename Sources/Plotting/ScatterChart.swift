import Foundation

/// One set of points of a scatter plot.
public struct ScatterSeries: Sendable, Equatable {
    public var name: String
    /// [n] x values.
    public var x: [Double]
    /// [n] y values.
    public var y: [Double]
    /// nil: the next palette colour.
    public var color: Color?
    public var marker: MarkerShape
    /// Marker diameter in points.
    public var size: Double
    /// Marker opacity in [0, 1] (overlapping points show density).
    public var alpha: Double
    /// Deterministic uniform jitter of +- this much added to y (e.g. for a 0/1 outcome); the same
    /// input always gives the same jitter.
    public var yJitter: Double
    /// Same for x.
    public var xJitter: Double

    /// Creates a `ScatterSeries` from its fields.
    public init(name: String, x: [Double], y: [Double], color: Color? = nil, marker: MarkerShape = .circle,
                size: Double = 5, alpha: Double = 0.6, yJitter: Double = 0, xJitter: Double = 0) {
        self.name = name
        self.x = x
        self.y = y
        self.color = color
        self.marker = marker
        self.size = size
        self.alpha = alpha
        self.yJitter = yJitter
        self.xJitter = xJitter
    }
}

/// A fitted curve drawn over a scatter plot, across the whole x axis.
public struct FitCurve: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// y = 1 / (1 + exp(-(intercept + slope * x))).
        case logistic(intercept: Double, slope: Double)
        /// y = intercept + slope * x.
        case linear(intercept: Double, slope: Double)
        /// A precomputed curve (drawn as given, sorted by nothing).
        case points(x: [Double], y: [Double])
    }
    public var name: String
    public var kind: Kind
    /// nil: the palette colour after the scatter series.
    public var color: Color?
    public var style: LineStyle
    /// Line width in points.
    public var lineWidth: Double

    /// Creates a `FitCurve` from its fields.
    public init(name: String, kind: Kind, color: Color? = nil, style: LineStyle = .solid, lineWidth: Double = 2) {
        self.name = name
        self.kind = kind
        self.color = color
        self.style = style
        self.lineWidth = lineWidth
    }

    func value(_ x: Double) -> Double {
        switch kind {
        case let .logistic(b0, b1): return 1 / (1 + exp(-(b0 + b1 * x)))
        case let .linear(b0, b1): return b0 + b1 * x
        case .points: return .nan
        }
    }
}

/// SplitMix64: a tiny deterministic generator for jitter.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func symmetric() -> Double { Double(next() >> 11) / Double(1 << 53) * 2 - 1 }
}

extension Plot {
    /// Scatter plot with optional fitted curves (logistic, linear, or given points) and an
    /// annotation box (`options.annotation`, e.g. the correlation and its p-value). Throws on no
    /// series, empty or mismatched arrays, non-finite values, bad alpha/size.
    public static func scatter(series: [ScatterSeries], fits: [FitCurve] = [], options: ChartOptions = ChartOptions()) throws -> Figure {
        let context = "Plot.scatter"
        let check = Check(context: context)
        try check.nonEmpty(series.count, "series")
        var shown: [ScatterSeries] = []
        for (i, s) in series.enumerated() {
            try check.nonEmpty(s.x.count, "series[\(i)].x")
            try check.length(s.y.count, s.x.count, "series[\(i)].y")
            try check.finite(s.x, "series[\(i)].x")
            try check.finite(s.y, "series[\(i)].y")
            try check.argument(s.alpha.isFinite && s.alpha >= 0 && s.alpha <= 1, "series[\(i)].alpha", "must be in [0, 1]")
            try check.argument(s.size.isFinite && s.size > 0, "series[\(i)].size", "must be > 0")
            try check.argument(s.xJitter.isFinite && s.xJitter >= 0 && s.yJitter.isFinite && s.yJitter >= 0,
                               "series[\(i)].jitter", "must be finite and >= 0")
            var j = s
            var rng = SplitMix64(state: 0x5EED_0000 &+ UInt64(i))
            if s.xJitter > 0 || s.yJitter > 0 {
                for k in j.x.indices {
                    j.x[k] += s.xJitter * rng.symmetric()
                    j.y[k] += s.yJitter * rng.symmetric()
                }
            }
            shown.append(j)
        }
        for (i, f) in fits.enumerated() {
            try check.argument(f.lineWidth.isFinite && f.lineWidth > 0, "fits[\(i)].lineWidth", "must be > 0")
            switch f.kind {
            case let .logistic(a, b), let .linear(a, b):
                try check.argument(a.isFinite && b.isFinite, "fits[\(i)].kind", "coefficients must be finite")
            case let .points(x, y):
                try check.nonEmpty(x.count, "fits[\(i)].x")
                try check.length(y.count, x.count, "fits[\(i)].y")
                try check.finite(x, "fits[\(i)].x")
                try check.finite(y, "fits[\(i)].y")
            }
        }
        let colors = series.indices.map { seriesColor(series[$0].color, $0, options.style) }
        let fitColors = fits.indices.map { seriesColor(fits[$0].color, series.count + $0, options.style) }
        var xs = shown.map { $0.x }
        var ys = shown.map { $0.y }
        for f in fits {
            if case let .points(x, y) = f.kind {
                xs.append(x)
                ys.append(y)
            }
        }
        guard let (xlo, xhi) = extent(xs), var (ylo, yhi) = extent(ys) else {
            throw PlotError.emptyData(context: context, field: "series")
        }
        // Keep logistic curves' range [0, 1] visible.
        if fits.contains(where: { if case .logistic = $0.kind { return true } else { return false } }) {
            ylo = min(ylo, 0)
            yhi = max(yhi, 1)
        }
        let xr = try resolveRange(options.x.range, dataLo: xlo, dataHi: xhi, margin: 0.05, field: "options.x.range", check: check)
        let yr = try resolveRange(options.y.range, dataLo: ylo, dataHi: yhi, margin: 0.06, field: "options.y.range", check: check)
        let content = ScatterContent(series: shown, colors: colors, fits: fits, fitColors: fitColors,
                                     xModel: AxisModel(lo: xr.0, hi: xr.1, options: options.x),
                                     yModel: AxisModel(lo: yr.0, hi: yr.1, options: options.y))
        return try renderCartesian(content, options: options, context: context)
    }
}

struct ScatterContent: CartesianContent {
    let series: [ScatterSeries]
    let colors: [Color]
    let fits: [FitCurve]
    let fitColors: [Color]
    let xModel: AxisModel
    let yModel: AxisModel

    var legendItems: [LegendItem] {
        series.enumerated().map { LegendItem(label: $0.element.name, color: colors[$0.offset], swatch: .marker($0.element.marker)) }
            + fits.enumerated().map { LegendItem(label: $0.element.name, color: fitColors[$0.offset],
                                                 swatch: .line(width: $0.element.lineWidth, style: $0.element.style, marker: .none)) }
    }

    func curve(_ f: FitCurve, _ a: AxesLayout) -> [PlotPoint] {
        if case let .points(x, y) = f.kind { return zip(x, y).map { a.point($0, $1) } }
        let n = 240
        return (0...n).map { k in
            let x = xModel.lo + (xModel.hi - xModel.lo) * Double(k) / Double(n)
            return a.point(x, f.value(x))
        }.filter { $0.y.isFinite }
    }

    func obstacles(_ a: AxesLayout) -> Obstacles {
        var o = Obstacles(bounds: a.frame)
        for s in series { for (x, y) in zip(s.x, s.y) { o.addPoint(a.point(x, y)) } }
        for f in fits { o.addPolyline(curve(f, a), every: 4) }
        return o
    }

    func draw(_ canvas: Canvas, _ a: AxesLayout) {
        let sc = canvas.scale
        for (i, s) in series.enumerated() {
            let c = colors[i].withAlpha(s.alpha)
            for (x, y) in zip(s.x, s.y) {
                canvas.marker(s.marker == .none ? .circle : s.marker, at: a.point(x, y), size: s.size * sc, fill: c, edge: nil, edgeWidth: 0)
            }
        }
        for (i, f) in fits.enumerated() {
            canvas.polyline(curve(f, a), fitColors[i], width: f.lineWidth * sc, dash: f.style.pattern.map { $0 * sc })
        }
    }
}
