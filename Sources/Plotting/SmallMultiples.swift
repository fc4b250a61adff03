import Imaging

extension Plot {
    /// One attention map over an image, with a colour bar and an optional mask outline.
    ///
    /// - Parameters:
    ///   - image: the original image when `geometry` is given (it must match the geometry's
    ///     original size), else the image exactly as the model saw it.
    ///   - geometry: the preprocessing record; used to rebuild the model's view
    ///     (`options.space == .modelInput`) or to map the grid back onto the original (`.original`).
    ///   - attention: [rows, cols] row-major patch values (any grid shape and aspect ratio).
    public static func attentionOverlay<T: BinaryFloatingPoint>(image: RGBImage, geometry: ImageGeometry?, attention: [T], grid: GridShape,
                                                                options: OverlayOptions = OverlayOptions()) throws -> Figure {
        try panelsFigure(context: "Plot.attentionOverlay", image: image, geometry: geometry, maps: [attention], grid: grid,
                         titles: nil, columns: 1, options: options)
    }

    /// Small multiples: one overlay per map (e.g. per layer, or per head of one layer) in a grid
    /// of panels with one shared colour scale and colour bar.
    ///
    /// - Parameters:
    ///   - attention: [panels][rows * cols], each row-major on the patch grid.
    ///   - titles: one per panel (e.g. "Layer 12"), or nil for none.
    ///   - columns: panels per row; nil picks the count that makes panels largest.
    public static func layerGridOverlay<T: BinaryFloatingPoint>(image: RGBImage, geometry: ImageGeometry?, attention: [[T]],
                                                                grid: GridShape, titles: [String]? = nil, columns: Int? = nil,
                                                                options: OverlayOptions = OverlayOptions(width: 1000, height: 620)) throws -> Figure {
        try panelsFigure(context: "Plot.layerGridOverlay", image: image, geometry: geometry, maps: attention, grid: grid,
                         titles: titles, columns: columns, options: options)
    }

    static func panelsFigure<T: BinaryFloatingPoint>(context: String, image: RGBImage, geometry: ImageGeometry?, maps: [[T]],
                                                     grid: GridShape, titles: [String]?, columns: Int?,
                                                     options: OverlayOptions) throws -> Figure {
        let check = Check(context: context)
        try checkOverlayOptions(options, check)
        let src = try OverlaySource(image: image, geometry: geometry, space: options.space, grid: grid, check: check)
        try src.checkMask(options.mask, check)
        try check.nonEmpty(maps.count, "attention")
        for (i, m) in maps.enumerated() {
            try check.length(m.count, grid.count, maps.count == 1 ? "attention" : "attention[\(i)]")
            try check.finite(m, maps.count == 1 ? "attention" : "attention[\(i)]")
        }
        if let t = titles { try check.length(t.count, maps.count, "titles") }
        if let c = columns { try check.argument(c >= 1, "columns", "must be >= 1 (got \(c))") }
        let values = maps.map { $0.map { Double($0) } }
        let (lo, hi) = try options.range.resolve(values.flatMap { $0 }, check: check, field: "options.range")

        let st = options.style
        let canvas = try Canvas(width: st.width, height: st.height, dpi: st.dpi, background: st.background)
        canvas.fontFamily = st.fontFamily
        let s = canvas.scale
        let pad = Metrics.pad * s
        let W = Double(canvas.width)
        let H = Double(canvas.height)
        var top = pad
        if let t = options.title, !t.isEmpty { top += canvas.measure(t, st.titleStyle).height + Metrics.titleGap * s }
        let spec = ColorbarSpec(colormap: options.colormap, lo: lo, hi: hi, label: options.colorbarLabel, format: options.colorbarFormat)
        let cbExtent = options.colorbar ? colorbarExtent(canvas, spec, height: H - top - pad, style: st) : 0
        let availW = W - 2 * pad - cbExtent
        let availH = H - top - pad
        let aspect = Double(src.spaceWidth) / Double(src.spaceHeight)
        let panelTitle = TextStyle(size: st.fontSize * 0.9)
        let th = titles == nil ? 0 : canvas.measure("0", panelTitle).height + 3 * s
        let gap = 6 * s
        let n = maps.count

        func panelWidth(_ c: Int) -> Double {
            let r = (n + c - 1) / c
            let colW = (availW - Double(c - 1) * gap) / Double(c)
            let rowH = (availH - Double(r - 1) * gap) / Double(r) - th
            return min(colW, rowH * aspect)
        }
        var cols = columns ?? 1
        if columns == nil {
            var best = -Double.infinity
            for c in 1...n where panelWidth(c) > best + 1e-9 {
                best = panelWidth(c)
                cols = c
            }
        }
        cols = min(cols, n)
        let rows = (n + cols - 1) / cols
        let pw = Int(panelWidth(cols).rounded(.down))
        let ph = Int((Double(pw) / aspect).rounded(.down))
        if pw < 8 || ph < 8 { throw PlotError.canvasTooSmall(context: context, width: canvas.width, height: canvas.height) }
        let gridW = Double(cols * pw) + Double(cols - 1) * gap
        let gridH = Double(rows) * (th + Double(ph)) + Double(rows - 1) * gap
        let x0 = ((W - gridW - cbExtent) / 2).rounded(.down)
        let y0 = (top + (availH - gridH) / 2).rounded(.down)

        var panels: [PanelLayout] = []
        for k in 0..<n {
            let r = k / cols
            let c = k % cols
            let px = Int((x0 + Double(c) * (Double(pw) + gap)).rounded(.down))
            let py = Int((y0 + Double(r) * (th + Double(ph) + gap) + th).rounded(.down))
            let rgb = src.blended(values: values[k], lo: lo, hi: hi, options: options, pw, ph)
            try canvas.blit(rgb: rgb, width: pw, height: ph, x: px, y: py)
            let rect = PlotRect(x: Double(px), y: Double(py), width: Double(pw), height: Double(ph))
            if let m = options.mask {
                drawContour(canvas, mask: src.displayMask(m, pw, ph), dw: pw, dh: ph, at: rect, color: options.contourColor,
                            widthPt: options.contourWidth)
            }
            let title = titles?[k]
            if let t = title, !t.isEmpty {
                let text = canvas.ellipsize(t, maxWidth: Double(pw) + gap, style: panelTitle)
                canvas.drawText(text, at: PlotPoint(x: rect.midX, y: rect.minY - th), style: panelTitle, h: .center, v: .top)
            }
            panels.append(PanelLayout(frame: rect,
                                      x: LinearScale(domainLo: 0, domainHi: Double(src.spaceWidth), pixelLo: rect.minX, pixelHi: rect.maxX),
                                      y: LinearScale(domainLo: 0, domainHi: Double(src.spaceHeight), pixelLo: rect.minY, pixelHi: rect.maxY),
                                      title: title))
        }
        var cb: ColorbarLayout? = nil
        if options.colorbar {
            let bx = x0 + gridW + ColorbarMetrics.gap * s
            let by = y0 + th
            cb = drawColorbar(canvas, spec, rect: PlotRect(x: bx, y: by, width: ColorbarMetrics.width * s, height: gridH - th), style: st)
        }
        if let t = options.title, !t.isEmpty {
            drawTitle(canvas, t, centerX: x0 + gridW / 2, top: pad, style: st)
        }
        return Figure(canvas: canvas, panels: panels, colorbar: cb)
    }
}
