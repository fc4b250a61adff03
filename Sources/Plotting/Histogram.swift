import Foundation

/// How values are binned.
public enum HistogramBins: Sendable, Equatable {
    /// One bin per whole number (values are rounded to the nearest integer, halves away from zero).
    /// With a range, exactly those bins are shown and values outside are not counted; nil = the
    /// data's min...max. Suited to peak layers.
    case integers(ClosedRange<Int>?)
    /// `n` equal-width bins over the data's min...max (the last bin includes its right edge).
    case count(Int)
    /// Explicit strictly increasing edges (>= 2); values outside are not counted; the last bin
    /// includes its right edge.
    case edges([Double])
}

/// One data set of a histogram.
public struct HistogramSeries: Sendable, Equatable {
    public var name: String
    /// [n] samples.
    public var values: [Double]
    /// nil: the next palette colour.
    public var color: Color?

    /// Creates a `HistogramSeries` from its fields.
    public init(name: String, values: [Double], color: Color? = nil) {
        self.name = name
        self.values = values
        self.color = color
    }

    /// Integer samples (e.g. peak-layer indices).
    public init(name: String, integers: [Int], color: Color? = nil) {
        self.init(name: name, values: integers.map(Double.init), color: color)
    }
}

extension Plot {
    /// Bin edges and counts of `values` (numpy's `histogram` convention for `.count` / `.edges`;
    /// integer bins have edges k - 0.5 ... k + 0.5). Throws on empty or non-finite values and on
    /// bad bin specifications.
    public static func histogramCounts(values: [Double], bins: HistogramBins) throws -> (edges: [Double], counts: [Int]) {
        let check = Check(context: "Plot.histogramCounts")
        try check.nonEmpty(values.count, "values")
        try check.finite(values, "values")
        let edges = try binEdges(allValues: values, bins: bins, check: check)
        return (edges, count(values, edges: edges, integers: isIntegers(bins)))
    }

    /// Histogram of one or more data sets over shared bins. Integer bins draw the sets side by side
    /// under each integer; other bins draw one set solid, several sets translucent on top of each
    /// other. `normalize` divides each set's counts by its number of counted samples.
    public static func histogram(series: [HistogramSeries], bins: HistogramBins, normalize: Bool = false,
                                 options: ChartOptions = ChartOptions()) throws -> Figure {
        let context = "Plot.histogram"
        let check = Check(context: context)
        try check.nonEmpty(series.count, "series")
        for (i, s) in series.enumerated() {
            try check.nonEmpty(s.values.count, "series[\(i)].values")
            try check.finite(s.values, "series[\(i)].values")
        }
        let edges = try binEdges(allValues: series.flatMap { $0.values }, bins: bins, check: check)
        let ints = isIntegers(bins)
        var heights: [[Double]] = []
        for s in series {
            let c = count(s.values, edges: edges, integers: ints)
            let total = c.reduce(0, +)
            heights.append(c.map { normalize ? (total > 0 ? Double($0) / Double(total) : 0) : Double($0) })
        }
        let colors = series.indices.map { seriesColor(series[$0].color, $0, options.style) }
        let hmax = heights.flatMap { $0 }.max() ?? 0
        let yr: (Double, Double)
        if let b = options.y.range {
            yr = try resolveRange(b, dataLo: 0, dataHi: hmax, margin: 0, field: "options.y.range", check: check)
        } else {
            yr = (0, hmax > 0 ? hmax * 1.06 : 1)
        }
        let xr: (Double, Double)
        if let b = options.x.range {
            xr = try resolveRange(b, dataLo: 0, dataHi: 1, margin: 0, field: "options.x.range", check: check)
        } else if ints {
            xr = ((edges.first ?? 0) - 0.3, (edges.last ?? 1) + 0.3)
        } else {
            xr = paddedRange(edges.first ?? 0, edges.last ?? 1, margin: 0.02)
        }
        var xo = options.x
        if ints { xo.integerTicks = true }
        var yo = options.y
        if !normalize { yo.integerTicks = true }
        let content = HistogramContent(edges: edges, heights: heights, names: series.map { $0.name }, colors: colors, integers: ints,
                                       xModel: AxisModel(lo: xr.0, hi: xr.1, options: xo),
                                       yModel: AxisModel(lo: yr.0, hi: yr.1, options: yo))
        return try renderCartesian(content, options: options, context: context)
    }

    static func isIntegers(_ bins: HistogramBins) -> Bool {
        if case .integers = bins { return true }
        return false
    }

    static func binEdges(allValues: [Double], bins: HistogramBins, check: Check) throws -> [Double] {
        switch bins {
        case .integers(let range):
            let lo: Int
            let hi: Int
            if let r = range {
                lo = r.lowerBound
                hi = r.upperBound
            } else {
                let m = allValues.map { $0.rounded() }
                guard let a = m.min(), let b = m.max() else { throw PlotError.emptyData(context: check.context, field: "values") }
                try check.argument(abs(a) < 1e9 && abs(b) < 1e9, "values", "integer bins need values with magnitude < 1e9")
                lo = Int(a)
                hi = Int(b)
            }
            let (span, overflow) = hi.subtractingReportingOverflow(lo)
            try check.argument(!overflow && span >= 0 && span < 100_000, "bins", "integer bins must span 1...100000 bins (got \(lo)...\(hi))")
            return (lo...(hi + 1)).map { Double($0) - 0.5 }
        case .count(let n):
            try check.argument(n > 0 && n <= 100_000, "bins", "count must be in 1...100000 (got \(n))")
            guard let a = allValues.min(), let b = allValues.max() else { throw PlotError.emptyData(context: check.context, field: "values") }
            let (lo, hi) = a == b ? (a - 0.5, b + 0.5) : (a, b)
            return (0...n).map { lo + (hi - lo) * Double($0) / Double(n) }
        case .edges(let e):
            try check.argument(e.count >= 2, "bins", "edges need at least 2 values (got \(e.count))")
            try check.finite(e, "bins.edges")
            for k in 1..<e.count where !(e[k] > e[k - 1]) {
                throw PlotError.invalidArgument(context: check.context, field: "bins.edges[\(k)]", reason: "edges must be strictly increasing")
            }
            return e
        }
    }

    static func count(_ values: [Double], edges: [Double], integers: Bool) -> [Int] {
        let n = edges.count - 1
        var c = [Int](repeating: 0, count: max(0, n))
        guard n > 0 else { return c }
        for raw in values {
            let v = integers ? raw.rounded() : raw
            if v < edges[0] || v > edges[n] { continue }
            if v == edges[n] {
                if !integers { c[n - 1] += 1 }
                continue
            }
            // Binary search for the bin with edges[k] <= v < edges[k + 1].
            var lo = 0
            var hi = n
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if edges[mid] <= v { lo = mid } else { hi = mid }
            }
            c[lo] += 1
        }
        return c
    }
}

struct HistogramContent: CartesianContent {
    let edges: [Double]
    /// [series][bins] bar heights.
    let heights: [[Double]]
    let names: [String]
    let colors: [Color]
    let integers: Bool
    let xModel: AxisModel
    let yModel: AxisModel

    var legendItems: [LegendItem] {
        (names.count == 1 && names[0].isEmpty) ? []
            : names.enumerated().map { LegendItem(label: $0.element, color: colors[$0.offset], swatch: .patch) }
    }

    /// Bars as (series, pixel rect [x0, x1) x [y0, y1)).
    func bars(_ a: AxesLayout) -> [(Int, Int, Int, Int, Int)] {
        var out: [(Int, Int, Int, Int, Int)] = []
        let g = Double(heights.count)
        for (si, h) in heights.enumerated() {
            for (k, v) in h.enumerated() where v > 0 {
                let l: Double
                let r: Double
                if integers {
                    let center = (edges[k] + edges[k + 1]) / 2
                    let w = 0.84 / g
                    l = center - 0.42 + Double(si) * w
                    r = l + w
                } else {
                    l = edges[k]
                    r = edges[k + 1]
                }
                let x0 = pixelIndex(a.x.pixel(l))
                let x1 = max(x0 + 1, pixelIndex(a.x.pixel(r)))
                let y0 = pixelIndex(a.y.pixel(v))
                let y1 = pixelIndex(a.y.pixel(0))
                out.append((si, x0, min(y0, y1), x1, max(y0, y1)))
            }
        }
        return out
    }

    func obstacles(_ a: AxesLayout) -> Obstacles {
        var o = Obstacles(bounds: a.frame)
        for b in bars(a) { o.addRect(PlotRect(x: Double(b.1), y: Double(b.2), width: Double(b.3 - b.1), height: Double(b.4 - b.2))) }
        return o
    }

    func draw(_ canvas: Canvas, _ a: AxesLayout) {
        let overlaid = !integers && heights.count > 1
        for b in bars(a) {
            let c = overlaid ? colors[b.0].withAlpha(0.5) : colors[b.0]
            // Adjacent bins of a single set get a one-pixel white gap on the right.
            let x1 = (!integers && !overlaid && b.3 - b.1 > 3) ? b.3 - 1 : b.3
            canvas.fillPixels(x0: b.1, y0: b.2, x1: x1, y1: b.4, c)
        }
    }
}
