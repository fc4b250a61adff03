import _CCairo

/// Shape drawn at each data point of a line or scatter series.
public enum MarkerShape: Sendable, Equatable {
    case none, circle, square, triangle, diamond
}

/// Stroke pattern of a line.
public enum LineStyle: Sendable, Equatable {
    case solid, dashed, dotted

    /// Dash pattern in points (empty for solid).
    var pattern: [Double] {
        switch self {
        case .solid: return []
        case .dashed: return [5, 2.5]
        case .dotted: return [1.2, 2]
        }
    }
}

/// Clipping of geometry to a rectangle, so that absurd coordinates (far off the canvas, or not
/// finite) never reach Cairo's fixed-point path code.
enum Clip {
    /// The part of segment a-b inside `r` (Liang-Barsky), or nil; nil for non-finite input.
    static func segment(_ a: PlotPoint, _ b: PlotPoint, _ r: PlotRect) -> (PlotPoint, PlotPoint)? {
        guard a.x.isFinite, a.y.isFinite, b.x.isFinite, b.y.isFinite else { return nil }
        let dx = b.x - a.x
        let dy = b.y - a.y
        guard dx.isFinite, dy.isFinite else { return nil }
        var t0 = 0.0
        var t1 = 1.0
        // The boundary (x or y, and its value) that set t0 / t1, to place those points exactly on it.
        var snap0: (Bool, Double)? = nil
        var snap1: (Bool, Double)? = nil
        let planes: [(Double, Double, Bool, Double)] = [(-dx, a.x - r.minX, true, r.minX), (dx, r.maxX - a.x, true, r.maxX),
                                                        (-dy, a.y - r.minY, false, r.minY), (dy, r.maxY - a.y, false, r.maxY)]
        for (p, q, isX, bound) in planes {
            if p == 0 {
                if q < 0 { return nil }
            } else {
                let t = q / p
                if p < 0 {
                    if t > t0 { t0 = t; snap0 = (isX, bound) }
                } else {
                    if t < t1 { t1 = t; snap1 = (isX, bound) }
                }
                if t0 > t1 { return nil }
            }
        }
        // Interpolate from the nearer end (no cancellation with huge coordinates), then put the
        // clipped coordinate exactly on its boundary.
        func at(_ t: Double, _ snap: (Bool, Double)?) -> PlotPoint {
            if t == 0 { return a }
            if t == 1 { return b }
            var p = t <= 0.5 ? PlotPoint(x: a.x + t * dx, y: a.y + t * dy) : PlotPoint(x: b.x - (1 - t) * dx, y: b.y - (1 - t) * dy)
            if let (isX, v) = snap { if isX { p.x = v } else { p.y = v } }
            return PlotPoint(x: min(max(p.x, r.minX), r.maxX), y: min(max(p.y, r.minY), r.maxY))
        }
        return (at(t0, snap0), at(t1, snap1))
    }

    /// A polyline cut to `r`: the connected runs that lie inside.
    static func polyline(_ pts: [PlotPoint], _ r: PlotRect) -> [[PlotPoint]] {
        var runs: [[PlotPoint]] = []
        var cur: [PlotPoint] = []
        for k in 1..<max(1, pts.count) {
            guard let (a, b) = segment(pts[k - 1], pts[k], r) else {
                if cur.count >= 2 { runs.append(cur) }
                cur = []
                continue
            }
            if let last = cur.last, last == a {
                cur.append(b)
            } else {
                if cur.count >= 2 { runs.append(cur) }
                cur = [a, b]
            }
            if b != pts[k] {
                runs.append(cur)
                cur = []
            }
        }
        if cur.count >= 2 { runs.append(cur) }
        return runs
    }

    /// A polygon cut to `r` (Sutherland-Hodgman); empty if it has non-finite vertices.
    static func polygon(_ pts: [PlotPoint], _ r: PlotRect) -> [PlotPoint] {
        guard pts.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) else { return [] }
        var poly = pts
        let edges: [(PlotPoint) -> Bool] = [{ $0.x >= r.minX }, { $0.x <= r.maxX }, { $0.y >= r.minY }, { $0.y <= r.maxY }]
        let cuts: [(PlotPoint, PlotPoint) -> PlotPoint] = [
            { a, b in PlotPoint(x: r.minX, y: a.y + (b.y - a.y) * (r.minX - a.x) / (b.x - a.x)) },
            { a, b in PlotPoint(x: r.maxX, y: a.y + (b.y - a.y) * (r.maxX - a.x) / (b.x - a.x)) },
            { a, b in PlotPoint(x: a.x + (b.x - a.x) * (r.minY - a.y) / (b.y - a.y), y: r.minY) },
            { a, b in PlotPoint(x: a.x + (b.x - a.x) * (r.maxY - a.y) / (b.y - a.y), y: r.maxY) },
        ]
        for (inside, cut) in zip(edges, cuts) {
            guard !poly.isEmpty else { return [] }
            var out: [PlotPoint] = []
            var prev = poly[poly.count - 1]
            for p in poly {
                if inside(p) {
                    if !inside(prev) { out.append(cut(prev, p)) }
                    out.append(p)
                } else if inside(prev) {
                    out.append(cut(prev, p))
                }
                prev = p
            }
            poly = out
        }
        return poly.allSatisfy({ $0.x.isFinite && $0.y.isFinite }) ? poly : []
    }
}

/// Low-level drawing in pixel coordinates. Widths and sizes passed here are already in pixels.
/// Geometry is clipped to `safeRect` first, which does not change anything visible.
extension Canvas {
    /// The canvas grown by its own size on every side.
    var safeRect: PlotRect {
        PlotRect(x: -Double(width), y: -Double(height), width: 3 * Double(width), height: 3 * Double(height))
    }

    /// Sets the source colour quantised to 8 bits per channel, so an opaque fill reads back as
    /// exactly `c.rgba8` (Cairo would otherwise truncate a 16-bit intermediate).
    func setColor(_ c: Color) {
        func q(_ v: Double) -> Double { Double(Color.byte(v)) / 255 }
        cairo_set_source_rgba(cr, q(c.r), q(c.g), q(c.b), q(c.a))
    }

    /// Runs `body` with drawing clipped to `rect`.
    func withClip(_ rect: PlotRect, _ body: () throws -> Void) rethrows {
        cairo_save(cr)
        cairo_rectangle(cr, rect.x, rect.y, rect.width, rect.height)
        cairo_clip(cr)
        defer { cairo_restore(cr) }
        try body()
    }

    func fillRect(_ rect: PlotRect, _ c: Color) {
        let sr = safeRect
        let x0 = max(rect.minX, sr.minX), x1 = min(rect.maxX, sr.maxX)
        let y0 = max(rect.minY, sr.minY), y1 = min(rect.maxY, sr.maxY)
        guard x1 > x0, y1 > y0 else { return }
        setColor(c)
        cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0)
        cairo_fill(cr)
    }

    /// Fills whole pixels [x0, x1) x [y0, y1): exact colour, no antialiased edge.
    func fillPixels(x0: Int, y0: Int, x1: Int, y1: Int, _ c: Color) {
        let a = max(x0, -width), b = min(x1, 2 * width)
        let p = max(y0, -height), q = min(y1, 2 * height)
        guard b > a, q > p else { return }
        setColor(c)
        cairo_rectangle(cr, Double(a), Double(p), Double(b - a), Double(q - p))
        cairo_fill(cr)
    }

    func strokeRect(_ r: PlotRect, _ c: Color, width: Double) {
        setColor(c)
        cairo_set_line_width(cr, width)
        cairo_set_dash(cr, nil, 0, 0)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_stroke(cr)
    }

    /// Strokes a polyline. `dash` is in pixels; `dashOffset` shifts the pattern start.
    func polyline(_ pts: [PlotPoint], _ c: Color, width: Double, dash: [Double] = [], dashOffset: Double = 0,
                  cap: cairo_line_cap_t = CAIRO_LINE_CAP_BUTT) {
        guard pts.count >= 2 else { return }
        let runs = Clip.polyline(pts, safeRect)
        guard !runs.isEmpty else { return }
        setColor(c)
        cairo_set_line_width(cr, width)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(cr, cap)
        if dash.isEmpty {
            cairo_set_dash(cr, nil, 0, 0)
        } else {
            dash.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32($0.count), dashOffset) }
        }
        for run in runs {
            cairo_move_to(cr, run[0].x, run[0].y)
            for p in run.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        }
        cairo_stroke(cr)
        cairo_set_dash(cr, nil, 0, 0)
    }

    func line(_ a: PlotPoint, _ b: PlotPoint, _ c: Color, width: Double, dash: [Double] = [],
              cap: cairo_line_cap_t = CAIRO_LINE_CAP_BUTT) {
        polyline([a, b], c, width: width, dash: dash, cap: cap)
    }

    func fillPolygon(_ points: [PlotPoint], _ c: Color) {
        let pts = Clip.polygon(points, safeRect)
        guard pts.count >= 3 else { return }
        setColor(c)
        cairo_move_to(cr, pts[0].x, pts[0].y)
        for p in pts.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        cairo_close_path(cr)
        cairo_fill(cr)
    }

    /// A marker centred at `p`; `size` is its nominal diameter in pixels.
    func marker(_ shape: MarkerShape, at p: PlotPoint, size: Double, fill: Color, edge: Color?, edgeWidth: Double) {
        let r = size / 2
        guard safeRect.contains(p), r.isFinite, r > 0 else { return }
        switch shape {
        case .none:
            return
        case .circle:
            cairo_new_sub_path(cr)
            cairo_arc(cr, p.x, p.y, r, 0, 2 * Double.pi)
        case .square:
            let h = r * 0.9
            cairo_rectangle(cr, p.x - h, p.y - h, 2 * h, 2 * h)
        case .triangle:
            let h = r * 1.15
            cairo_move_to(cr, p.x, p.y - h)
            cairo_line_to(cr, p.x + h * 0.866, p.y + h * 0.5)
            cairo_line_to(cr, p.x - h * 0.866, p.y + h * 0.5)
            cairo_close_path(cr)
        case .diamond:
            let h = r * 1.2
            cairo_move_to(cr, p.x, p.y - h)
            cairo_line_to(cr, p.x + h, p.y)
            cairo_line_to(cr, p.x, p.y + h)
            cairo_line_to(cr, p.x - h, p.y)
            cairo_close_path(cr)
        }
        setColor(fill)
        if let edge, edgeWidth > 0 {
            cairo_fill_preserve(cr)
            setColor(edge)
            cairo_set_line_width(cr, edgeWidth)
            cairo_set_dash(cr, nil, 0, 0)
            cairo_stroke(cr)
        } else {
            cairo_fill(cr)
        }
    }

    /// Copies opaque pixels 1:1 onto the canvas with the top-left corner at integer (x, y).
    /// `rgb` is [height, width, 3] row-major.
    func blit(rgb: [UInt8], width w: Int, height h: Int, x: Int, y: Int) throws {
        guard w > 0, h > 0, rgb.count == w * h * 3 else { return }
        guard let img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(w), Int32(h)) else {
            throw PlotError.cairo(context: "Canvas.blit", status: "cairo_image_surface_create returned NULL")
        }
        defer { cairo_surface_destroy(img) }
        let st = cairo_surface_status(img)
        if st != CAIRO_STATUS_SUCCESS {
            throw PlotError.cairo(context: "Canvas.blit", status: String(cString: cairo_status_to_string(st)))
        }
        cairo_surface_flush(img)
        guard let data = cairo_image_surface_get_data(img) else {
            throw PlotError.cairo(context: "Canvas.blit", status: "no surface data")
        }
        let stride = Int(cairo_image_surface_get_stride(img))
        let raw = UnsafeMutableRawPointer(data)
        rgb.withUnsafeBufferPointer { src in
            for row in 0..<h {
                for col in 0..<w {
                    let i = (row * w + col) * 3
                    let word = 0xFF00_0000 | (UInt32(src[i]) << 16) | (UInt32(src[i + 1]) << 8) | UInt32(src[i + 2])
                    raw.storeBytes(of: word, toByteOffset: row * stride + col * 4, as: UInt32.self)
                }
            }
        }
        cairo_surface_mark_dirty(img)
        cairo_save(cr)
        cairo_set_source_surface(cr, img, Double(x), Double(y))
        cairo_rectangle(cr, Double(x), Double(y), Double(w), Double(h))
        cairo_fill(cr)
        cairo_restore(cr)
    }
}
