import _CCairo
import Foundation
import Imaging

/// A raster drawing surface (Cairo ARGB32 image surface) of a fixed pixel size.
///
/// Sizes are in pixels; `dpi` only sets how big a typographic point is (`scale = dpi / 72` pixels
/// per point), so fonts and line widths given in points grow with the DPI while the pixel size
/// stays as requested. Text is antialiased in grey with hinting off, so layout and output are the
/// same for the same input.
public final class Canvas {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Dots per inch; a point is `dpi / 72` pixels.
    public let dpi: Double
    /// Font family for all text (fontconfig name). DejaVu Sans ships with `fonts-dejavu-core`.
    public var fontFamily: String = "DejaVu Sans"

    let surface: OpaquePointer
    let cr: OpaquePointer

    /// Largest accepted side in pixels.
    public static let maxSide = 16384

    /// Pixels per typographic point.
    public var scale: Double { dpi / 72.0 }

    /// A new canvas filled with `background` (transparent when nil).
    public init(width: Int, height: Int, dpi: Double = 100, background: Color? = .white) throws {
        let context = "Canvas"
        try Check(context: context).size(width, height)
        guard dpi.isFinite, dpi > 0, dpi <= 2400 else { throw PlotError.invalidDPI(context: context, dpi: dpi) }
        guard let s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)) else {
            throw PlotError.cairo(context: context, status: "cairo_image_surface_create returned NULL")
        }
        let ss = cairo_surface_status(s)
        if ss != CAIRO_STATUS_SUCCESS {
            cairo_surface_destroy(s)
            throw PlotError.cairo(context: context, status: String(cString: cairo_status_to_string(ss)))
        }
        guard let c = cairo_create(s) else {
            cairo_surface_destroy(s)
            throw PlotError.cairo(context: context, status: "cairo_create returned NULL")
        }
        let cs = cairo_status(c)
        if cs != CAIRO_STATUS_SUCCESS {
            cairo_destroy(c)
            cairo_surface_destroy(s)
            throw PlotError.cairo(context: context, status: String(cString: cairo_status_to_string(cs)))
        }
        self.width = width
        self.height = height
        self.dpi = dpi
        self.surface = s
        self.cr = c
        if let fo = cairo_font_options_create() {
            cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY)
            cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE)
            cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF)
            cairo_set_font_options(c, fo)
            cairo_font_options_destroy(fo)
        }
        if let bg = background {
            cairo_save(c)
            cairo_set_operator(c, CAIRO_OPERATOR_SOURCE)
            cairo_set_source_rgba(c, Double(bg.rgba8.r) / 255, Double(bg.rgba8.g) / 255, Double(bg.rgba8.b) / 255, Double(bg.rgba8.a) / 255)
            cairo_paint(c)
            cairo_restore(c)
        }
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    /// The pixel at (x, y) with straight alpha, or nil outside the canvas.
    ///
    /// Cairo stores ARGB32 as one native-endian 32-bit word per pixel (A in the top byte) with
    /// premultiplied colour; this undoes both.
    public func pixel(x: Int, y: Int) -> RGBA8? {
        guard x >= 0, y >= 0, x < width, y < height else { return nil }
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else { return nil }
        let stride = Int(cairo_image_surface_get_stride(surface))
        let word = UnsafeRawPointer(data).load(fromByteOffset: y * stride + x * 4, as: UInt32.self)
        return Canvas.unpremultiply(word)
    }

    static func unpremultiply(_ word: UInt32) -> RGBA8 {
        let a = UInt32((word >> 24) & 0xFF)
        if a == 0 { return RGBA8(r: 0, g: 0, b: 0, a: 0) }
        func ch(_ v: UInt32) -> UInt8 { UInt8(min(255, (v * 255 + a / 2) / a)) }
        return RGBA8(r: ch((word >> 16) & 0xFF), g: ch((word >> 8) & 0xFF), b: ch(word & 0xFF), a: UInt8(a))
    }

    /// All pixels as straight-alpha RGBA: [height, width, 4] row-major.
    public func rgbaPixels() -> [UInt8] {
        cairo_surface_flush(surface)
        var out = [UInt8](repeating: 0, count: width * height * 4)
        guard let data = cairo_image_surface_get_data(surface) else { return out }
        let stride = Int(cairo_image_surface_get_stride(surface))
        let raw = UnsafeRawPointer(data)
        for y in 0..<height {
            for x in 0..<width {
                let p = Canvas.unpremultiply(raw.load(fromByteOffset: y * stride + x * 4, as: UInt32.self))
                let o = (y * width + x) * 4
                out[o] = p.r
                out[o + 1] = p.g
                out[o + 2] = p.b
                out[o + 3] = p.a
            }
        }
        return out
    }

    /// The canvas as an RGB image, composited over `background` where it is not opaque.
    public func toRGBImage(background: Color = .white) -> RGBImage {
        let rgba = rgbaPixels()
        var px = [UInt8](repeating: 0, count: width * height * 3)
        let bg = [background.r * 255, background.g * 255, background.b * 255]
        for i in 0..<(width * height) {
            let a = Double(rgba[i * 4 + 3]) / 255
            for c in 0..<3 {
                let v = Double(rgba[i * 4 + c]) * a + bg[c] * (1 - a)
                px[i * 3 + c] = UInt8(max(0, min(255, v.rounded())))
            }
        }
        return RGBImage(width: width, height: height, pixels: px)
    }

    /// The PNG encoding of the canvas (Cairo's encoder; identical bytes for identical pixels).
    public func pngData() throws -> [UInt8] {
        final class Sink { var bytes: [UInt8] = [] }
        let sink = Sink()
        cairo_surface_flush(surface)
        let status = withExtendedLifetime(sink) { () -> cairo_status_t in
            cairo_surface_write_to_png_stream(surface, { closure, data, length in
                guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
                let s = Unmanaged<Sink>.fromOpaque(closure).takeUnretainedValue()
                s.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
                return CAIRO_STATUS_SUCCESS
            }, Unmanaged.passUnretained(sink).toOpaque())
        }
        if status != CAIRO_STATUS_SUCCESS {
            throw PlotError.cairo(context: "Canvas.pngData", status: String(cString: cairo_status_to_string(status)))
        }
        return sink.bytes
    }

    /// Writes the canvas as PNG: Cairo writes a temporary file next to `url`, which is then
    /// renamed over `url`, so readers never see a half-written file.
    public func writePNG(to url: URL) throws {
        let path = url.path
        let dir = url.deletingLastPathComponent().path
        let tmp = (dir.isEmpty ? "." : dir) + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UUID().uuidString)"
        cairo_surface_flush(surface)
        let status = cairo_surface_write_to_png(surface, tmp)
        if status != CAIRO_STATUS_SUCCESS {
            unlink(tmp)
            throw PlotError.io(path: path, reason: "cannot write PNG: " + String(cString: cairo_status_to_string(status)))
        }
        if rename(tmp, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw PlotError.io(path: path, reason: "cannot rename temporary PNG into place: \(reason)")
        }
    }
}
