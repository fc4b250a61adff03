import _CCairo
import Imaging

/// Which image an attention overlay is drawn on.
public enum OverlaySpace: Sendable, Equatable {
    /// The image as the model saw it (after pad / resize / crop); the patch grid covers it exactly.
    case modelInput
    /// The original image; the grid is mapped back through the preprocessing geometry, and the
    /// parts the model never saw (cropped away) are veiled.
    case original
}

/// Opacity of the heatmap over the image.
public enum OverlayAlpha: Sendable, Equatable {
    /// The same opacity everywhere, in [0, 1] (1: heatmap only).
    case constant(Double)
    /// Opacity grows with the normalised value: `max * t` (low attention leaves the image clear).
    case proportional(max: Double)
}

/// A binary mask (e.g. the key object) whose outline is drawn over an overlay.
public enum MaskInput: Sendable, Equatable {
    /// [rows, cols] row-major on the patch grid (model-input space), like the attention.
    case grid([Bool])
    /// [height, width] row-major at the original image's pixel resolution (the image passed in).
    case pixels([Bool], width: Int, height: Int)
}

/// Everything about an attention overlay figure except its data.
public struct OverlayOptions: Sendable, Equatable {
    public var style: FigureStyle
    public var title: String?
    /// viridis by default; jet only when asked for.
    public var colormap: Colormap
    public var upsampling: Upsampling
    public var alpha: OverlayAlpha
    /// Colour scale; shared by all panels of a small-multiples figure.
    public var range: ColorRange
    public var space: OverlaySpace
    /// Outline drawn over the heatmap (nil: none).
    public var mask: MaskInput?
    public var contourColor: Color
    /// Contour width in points.
    public var contourWidth: Double
    public var colorbar: Bool
    public var colorbarLabel: String?
    /// Tick format of the colour bar.
    public var colorbarFormat: TickFormat
    /// Colour of the padding when `.modelInput` is rebuilt from the original through a geometry
    /// with `pad` (pass the preprocessor's fill, e.g. its mean colour).
    public var padFill: Color
    /// How strongly parts of the original the model never saw are veiled (0: not at all).
    public var unseenVeil: Double

    /// Default options (the values assigned below); override any field afterwards.
    public init(title: String? = nil, width: Int = 640, height: Int = 520, dpi: Double = 100) {
        self.style = FigureStyle(width: width, height: height, dpi: dpi)
        self.title = title
        self.colormap = .viridis
        self.upsampling = .bilinear
        self.alpha = .constant(0.6)
        self.range = .auto
        self.space = .modelInput
        self.mask = nil
        self.contourColor = .white
        self.contourWidth = 1.5
        self.colorbar = true
        self.colorbarLabel = "attention"
        self.colorbarFormat = .auto
        self.padFill = Color(r8: 127, g8: 127, b8: 127)
        self.unseenVeil = 0.6
    }
}

/// The image, its geometry and the grid, checked once; maps display pixels to the grid.
struct OverlaySource {
    let image: RGBImage
    let geometry: ImageGeometry?
    let space: OverlaySpace
    let grid: GridShape
    /// Size of the model-input image (the grid covers it).
    let modelWidth: Int
    let modelHeight: Int

    /// Size of the displayed space (model input or original).
    var spaceWidth: Int { space == .original && geometry != nil ? image.width : modelWidth }
    var spaceHeight: Int { space == .original && geometry != nil ? image.height : modelHeight }

    /// Checks the image, geometry and grid. Without a geometry the image is taken to be what the
    /// model saw, and `.original` means the same thing.
    init(image: RGBImage, geometry: ImageGeometry?, space: OverlaySpace, grid: GridShape, check: Check) throws {
        try Heatmap.checkGrid(grid, check)
        if image.width <= 0 || image.height <= 0 || image.width > 1 << 16 || image.height > 1 << 16 {
            throw PlotError.invalidImage(context: check.context, reason: "size \(image.width)x\(image.height) is invalid")
        }
        if image.pixels.count != image.width * image.height * 3 {
            throw PlotError.invalidImage(context: check.context,
                                         reason: "pixels has \(image.pixels.count) bytes, expected \(image.width)x\(image.height)x3")
        }
        if let g = geometry {
            let fields: [(String, Int)] = [("geometry.originalWidth", g.originalWidth), ("geometry.originalHeight", g.originalHeight),
                                           ("geometry.resizedWidth", g.resizedWidth), ("geometry.resizedHeight", g.resizedHeight),
                                           ("geometry.outputWidth", g.outputWidth), ("geometry.outputHeight", g.outputHeight),
                                           ("geometry.pad.size", g.pad?.size ?? 1)]
            for (name, v) in fields { try check.argument(v > 0 && v <= 1 << 16, name, "must be in 1...65536 (got \(v))") }
            if g.originalWidth != image.width || g.originalHeight != image.height {
                throw PlotError.invalidImage(context: check.context,
                                             reason: "image is \(image.width)x\(image.height) but geometry.originalWidth x originalHeight is \(g.originalWidth)x\(g.originalHeight)")
            }
            modelWidth = g.outputWidth
            modelHeight = g.outputHeight
        } else {
            modelWidth = image.width
            modelHeight = image.height
        }
        self.image = image
        self.geometry = geometry
        self.space = space
        self.grid = grid
    }

    /// Model-input coordinates of display pixel (i, j) for a display of dw x dh, or nil where the
    /// original image shows something the model never saw.
    @inline(__always)
    func modelPoint(_ i: Int, _ j: Int, _ dw: Int, _ dh: Int) -> (Double, Double)? {
        let sx = (Double(i) + 0.5) / Double(dw) * Double(spaceWidth)
        let sy = (Double(j) + 0.5) / Double(dh) * Double(spaceHeight)
        if space == .original, let g = geometry {
            let m = g.originalToOutput(x: sx, y: sy)
            if m.x < 0 || m.y < 0 || m.x >= Double(modelWidth) || m.y >= Double(modelHeight) { return nil }
            return (m.x, m.y)
        }
        return (sx, sy)
    }

    /// Original-image coordinates of display pixel (i, j), or nil outside the original.
    @inline(__always)
    func originalPoint(_ i: Int, _ j: Int, _ dw: Int, _ dh: Int) -> (Double, Double)? {
        let sx = (Double(i) + 0.5) / Double(dw) * Double(spaceWidth)
        let sy = (Double(j) + 0.5) / Double(dh) * Double(spaceHeight)
        var o = (sx, sy)
        if space == .modelInput, let g = geometry {
            let p = g.outputToOriginal(x: sx, y: sy)
            o = (p.x, p.y)
        }
        if o.0 < 0 || o.1 < 0 || o.0 >= Double(image.width) || o.1 >= Double(image.height) { return nil }
        return o
    }

    /// The base image at display size: [dh, dw, 3].
    func baseImage(_ dw: Int, _ dh: Int, padFill: Color) -> [UInt8] {
        guard space == .modelInput, let g = geometry else {
            return Resample.resize(image, toWidth: dw, toHeight: dh).pixels
        }
        // Rebuild the model's view from the original: display -> model input -> original.
        let fx = Double(dw) / Double(g.outputWidth) * Double(g.resizedWidth) / Double(g.preResizeWidth)
        let fy = Double(dh) / Double(g.outputHeight) * Double(g.resizedHeight) / Double(g.preResizeHeight)
        let src: RGBImage
        if fx < 1 || fy < 1 {
            src = Resample.resize(image, toWidth: max(1, Int((Double(image.width) * min(fx, 1)).rounded())),
                                  toHeight: max(1, Int((Double(image.height) * min(fy, 1)).rounded())))
        } else {
            src = image
        }
        let kx = Double(src.width) / Double(image.width)
        let ky = Double(src.height) / Double(image.height)
        let pad = padFill.rgba8
        var out = [UInt8](repeating: 0, count: dw * dh * 3)
        src.pixels.withUnsafeBufferPointer { px in
            for j in 0..<dh {
                let my = (Double(j) + 0.5) / Double(dh) * Double(g.outputHeight)
                for i in 0..<dw {
                    let mx = (Double(i) + 0.5) / Double(dw) * Double(g.outputWidth)
                    let o = (j * dw + i) * 3
                    let rx = mx + Double(g.cropX)
                    let ry = my + Double(g.cropY)
                    if rx < 0 || ry < 0 || rx >= Double(g.resizedWidth) || ry >= Double(g.resizedHeight) { continue }  // crop padding: black
                    let p = g.outputToOriginal(x: mx, y: my)
                    if p.x < 0 || p.y < 0 || p.x >= Double(image.width) || p.y >= Double(image.height) {
                        out[o] = pad.r
                        out[o + 1] = pad.g
                        out[o + 2] = pad.b
                        continue
                    }
                    let c = Resample.bilinear(px, width: src.width, height: src.height, x: p.x * kx, y: p.y * ky)
                    out[o] = Resample.clampByte(c.0)
                    out[o + 1] = Resample.clampByte(c.1)
                    out[o + 2] = Resample.clampByte(c.2)
                }
            }
        }
        return out
    }

    /// Base image with the heatmap blended on top: [dh, dw, 3].
    func blended(values: [Double], lo: Double, hi: Double, options: OverlayOptions, _ dw: Int, _ dh: Int) -> [UInt8] {
        var out = baseImage(dw, dh, padFill: options.padFill)
        let cmap = options.colormap
        let span = hi - lo
        let veil = min(max(options.unseenVeil, 0), 1)
        values.withUnsafeBufferPointer { vb in
            for j in 0..<dh {
                for i in 0..<dw {
                    let o = (j * dw + i) * 3
                    guard let m = modelPoint(i, j, dw, dh) else {
                        for c in 0..<3 { out[o + c] = Resample.clampByte(Double(out[o + c]) * (1 - veil) + 235 * veil) }
                        continue
                    }
                    let gx = m.0 / Double(modelWidth) * Double(grid.cols)
                    let gy = m.1 / Double(modelHeight) * Double(grid.rows)
                    let v = Heatmap.sample(vb, cols: grid.cols, rows: grid.rows, gx: gx, gy: gy, mode: options.upsampling)
                    let t = span > 0 ? min(max((v - lo) / span, 0), 1) : 0
                    let a: Double
                    switch options.alpha {
                    case .constant(let c): a = c
                    case .proportional(let mx): a = mx * t
                    }
                    let col = cmap.rgba8(at: t)
                    out[o] = Resample.clampByte(Double(out[o]) * (1 - a) + Double(col.r) * a)
                    out[o + 1] = Resample.clampByte(Double(out[o + 1]) * (1 - a) + Double(col.g) * a)
                    out[o + 2] = Resample.clampByte(Double(out[o + 2]) * (1 - a) + Double(col.b) * a)
                }
            }
        }
        return out
    }

    /// The mask at display resolution: [dh, dw].
    func displayMask(_ mask: MaskInput, _ dw: Int, _ dh: Int) -> [Bool] {
        var out = [Bool](repeating: false, count: dw * dh)
        for j in 0..<dh {
            for i in 0..<dw {
                switch mask {
                case .grid(let m):
                    guard let p = modelPoint(i, j, dw, dh) else { continue }
                    let c = min(max(Int(p.0 / Double(modelWidth) * Double(grid.cols)), 0), grid.cols - 1)
                    let r = min(max(Int(p.1 / Double(modelHeight) * Double(grid.rows)), 0), grid.rows - 1)
                    out[j * dw + i] = m[r * grid.cols + c]
                case let .pixels(m, w, _):
                    guard let p = originalPoint(i, j, dw, dh) else { continue }
                    out[j * dw + i] = m[Int(p.1) * w + Int(p.0)]
                }
            }
        }
        return out
    }

    func checkMask(_ mask: MaskInput?, _ check: Check) throws {
        switch mask {
        case nil: return
        case .grid(let m)?:
            try check.length(m.count, grid.count, "options.mask (grid)")
        case let .pixels(m, w, h)?:
            if w != image.width || h != image.height {
                throw PlotError.invalidArgument(context: check.context, field: "options.mask (pixels)",
                                                reason: "mask is \(w)x\(h) but the image is \(image.width)x\(image.height)")
            }
            try check.length(m.count, w * h, "options.mask (pixels)")
        }
    }
}

func checkOverlayOptions(_ o: OverlayOptions, _ check: Check) throws {
    switch o.alpha {
    case .constant(let a): try check.argument(a.isFinite && a >= 0 && a <= 1, "options.alpha", "must be in [0, 1] (got \(a))")
    case .proportional(let a): try check.argument(a.isFinite && a >= 0 && a <= 1, "options.alpha", "max must be in [0, 1] (got \(a))")
    }
    try check.argument(o.contourWidth.isFinite && o.contourWidth >= 0, "options.contourWidth", "must be finite and >= 0")
    try check.argument(o.unseenVeil.isFinite, "options.unseenVeil", "must be finite")
}

/// Draws a mask outline (dark halo, then the colour) inside `rect` of a dw x dh display.
func drawContour(_ canvas: Canvas, mask: [Bool], dw: Int, dh: Int, at rect: PlotRect, color: Color, widthPt: Double) {
    guard widthPt > 0 else { return }
    let segs = Heatmap.contourSegments(mask, width: dw, height: dh)
    guard !segs.isEmpty else { return }
    let w = widthPt * canvas.scale
    canvas.withClip(rect) {
        for (c, lw) in [(Color(r: 0, g: 0, b: 0, a: 0.4), w * 1.8), (color, w)] {
            canvas.setColor(c)
            cairo_set_line_width(canvas.cr, lw)
            cairo_set_line_cap(canvas.cr, CAIRO_LINE_CAP_SQUARE)
            cairo_set_dash(canvas.cr, nil, 0, 0)
            for (a, b) in segs {
                cairo_move_to(canvas.cr, rect.x + a.x, rect.y + a.y)
                cairo_line_to(canvas.cr, rect.x + b.x, rect.y + b.y)
            }
            cairo_stroke(canvas.cr)
        }
    }
}

extension Plot {
    /// The overlay alone as an image (no title, colour bar or margins): the heatmap blended onto the
    /// image, plus the mask outline if `options.mask` is set. Default size: the overlay space's own
    /// size (model input, or original image).
    public static func overlayImage<T: BinaryFloatingPoint>(image: RGBImage, geometry: ImageGeometry?, attention: [T], grid: GridShape,
                                                            options: OverlayOptions = OverlayOptions(), width: Int? = nil,
                                                            height: Int? = nil) throws -> RGBImage {
        let check = Check(context: "Plot.overlayImage")
        try checkOverlayOptions(options, check)
        let src = try OverlaySource(image: image, geometry: geometry, space: options.space, grid: grid, check: check)
        try src.checkMask(options.mask, check)
        try check.length(attention.count, grid.count, "attention")
        try check.finite(attention, "attention")
        let dw = width ?? src.spaceWidth
        let dh = height ?? src.spaceHeight
        try check.size(dw, dh)
        let values = attention.map { Double($0) }
        let (lo, hi) = try options.range.resolve(values, check: check, field: "options.range")
        let canvas = try Canvas(width: dw, height: dh, dpi: options.style.dpi, background: nil)
        try canvas.blit(rgb: src.blended(values: values, lo: lo, hi: hi, options: options, dw, dh), width: dw, height: dh, x: 0, y: 0)
        if let m = options.mask {
            drawContour(canvas, mask: src.displayMask(m, dw, dh), dw: dw, dh: dh, at: PlotRect(x: 0, y: 0, width: Double(dw), height: Double(dh)),
                        color: options.contourColor, widthPt: options.contourWidth)
        }
        return canvas.toRGBImage()
    }
}
