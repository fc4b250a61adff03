/// Everything about a layer x head matrix figure except its data.
public struct MatrixOptions: Sendable, Equatable {
    public var style: FigureStyle
    public var title: String?
    public var xLabel: String?
    public var yLabel: String?
    public var colormap: Colormap
    public var range: ColorRange
    public var colorbarLabel: String?
    public var colorbarFormat: TickFormat
    /// Row 0 (layer 0) at the top, as in a matrix; false puts it at the bottom.
    public var firstRowAtTop: Bool

    /// Default options (the values assigned below); override any field afterwards.
    public init(title: String? = nil, xLabel: String? = "Head", yLabel: String? = "Layer",
                width: Int = 640, height: Int = 560, dpi: Double = 100) {
        self.style = FigureStyle(width: width, height: height, dpi: dpi)
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.colormap = .viridis
        self.range = .auto
        self.colorbarLabel = nil
        self.colorbarFormat = .auto
        self.firstRowAtTop = true
    }
}

extension Plot {
    /// A matrix heatmap with axes and a colour bar, e.g. the attention mass on the image per layer
    /// (rows) and head (columns). Cells are whole pixels of one colour: a cell holding the maximum
    /// of an `.auto` range is exactly the colormap's top colour.
    ///
    /// - Parameter values: [rows][cols]; every row the same length.
    public static func layerHeadMatrix<T: BinaryFloatingPoint>(values: [[T]], options: MatrixOptions = MatrixOptions()) throws -> Figure {
        let context = "Plot.layerHeadMatrix"
        let check = Check(context: context)
        try check.nonEmpty(values.count, "values")
        let cols = values[0].count
        try check.nonEmpty(cols, "values[0]")
        for (i, r) in values.enumerated() {
            try check.length(r.count, cols, "values[\(i)]")
            try check.finite(r, "values[\(i)]")
        }
        let rows = values.count
        let flat = values.flatMap { $0.map { Double($0) } }
        let (lo, hi) = try options.range.resolve(flat, check: check, field: "options.range")
        let st = options.style
        let canvas = try Canvas(width: st.width, height: st.height, dpi: st.dpi, background: st.background)
        canvas.fontFamily = st.fontFamily
        let s = canvas.scale
        let spec = ColorbarSpec(colormap: options.colormap, lo: lo, hi: hi, label: options.colorbarLabel, format: options.colorbarFormat)
        let cbExtent = colorbarExtent(canvas, spec, height: Double(st.height) * 0.75, style: st)
        var xm = AxisModel(lo: -0.5, hi: Double(cols) - 0.5, options: AxisOptions(label: options.xLabel, integerTicks: true))
        xm.format = .integer
        var ym = AxisModel(lo: -0.5, hi: Double(rows) - 0.5, options: AxisOptions(label: options.yLabel, integerTicks: true))
        ym.format = .integer
        ym.inverted = options.firstRowAtTop
        let axes = try layoutAxes(canvas, style: st, title: options.title, x: xm, y: ym, reserveRight: cbExtent, context: context)
        let f = axes.frame
        func edges(_ n: Int, _ scale: LinearScale) -> [Int] {
            (0...n).map { pixelIndex(scale.pixel(Double($0) - 0.5)) }
        }
        let xe = edges(cols, axes.x)
        let ye = edges(rows, axes.y)
        let span = hi - lo
        for r in 0..<rows {
            for c in 0..<cols {
                let v = flat[r * cols + c]
                let t = span > 0 ? (v - lo) / span : 0
                canvas.fillPixels(x0: min(xe[c], xe[c + 1]), y0: min(ye[r], ye[r + 1]), x1: max(xe[c], xe[c + 1]), y1: max(ye[r], ye[r + 1]),
                                  options.colormap.color(at: t))
            }
        }
        drawAxes(canvas, axes, style: st, title: options.title, xLabel: options.xLabel, yLabel: options.yLabel, box: true)
        let cb = drawColorbar(canvas, spec, rect: PlotRect(x: f.maxX + ColorbarMetrics.gap * s, y: f.minY,
                                                           width: ColorbarMetrics.width * s, height: f.height), style: st)
        return Figure(canvas: canvas, panels: [PanelLayout(frame: f, x: axes.x, y: axes.y, title: options.title)], colorbar: cb)
    }
}
