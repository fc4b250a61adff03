import Imaging

/// The patch grid of an attention map: `cols` x `rows` cells, stored row-major ([rows, cols]).
public struct GridShape: Sendable, Equatable {
    public var cols: Int
    public var rows: Int
    /// Creates a `GridShape` from its fields.
    public init(cols: Int, rows: Int) {
        self.cols = cols
        self.rows = rows
    }
    /// Number of cells.
    public var count: Int { cols * rows }
}

/// How a patch grid is enlarged to pixels.
public enum Upsampling: Sendable, Equatable {
    /// Each pixel takes its cell's value (hard patch edges).
    case nearest
    /// Linear interpolation between cell centres (edges clamp), like
    /// `torch.nn.functional.interpolate(mode="bilinear", align_corners=False)`.
    case bilinear
}

/// The value range that the colormap spans.
public enum ColorRange: Sendable, Equatable {
    /// The data's min...max (over all panels of a figure).
    case auto
    /// 0...max of the data.
    case zeroToMax
    /// A fixed lo...hi (lo < hi, both finite). Values outside are clamped to the end colours.
    case fixed(Double, Double)

    /// The resolved (lo, hi) for data `values`; a constant map gets (v, v + 1) so it shows the
    /// bottom colour.
    func resolve(_ values: [Double], check: Check, field: String) throws -> (Double, Double) {
        switch self {
        case let .fixed(lo, hi):
            try check.argument(lo.isFinite && hi.isFinite && lo < hi, field, "fixed range needs finite lo < hi (got \(lo), \(hi))")
            return (lo, hi)
        case .auto, .zeroToMax:
            var lo = Double.infinity
            var hi = -Double.infinity
            for v in values {
                lo = min(lo, v)
                hi = max(hi, v)
            }
            if self == .zeroToMax { lo = 0 }
            if !(lo < hi) { return (lo.isFinite ? lo : 0, (lo.isFinite ? lo : 0) + 1) }
            return (lo, hi)
        }
    }
}

/// Patch-grid maps at pixel resolution.
public enum Heatmap {
    /// Value of a [rows, cols] map at continuous grid coordinates (gx, gy), where cell (c, r)
    /// covers [c, c + 1) x [r, r + 1).
    @inline(__always)
    static func sample(_ v: UnsafeBufferPointer<Double>, cols: Int, rows: Int, gx: Double, gy: Double, mode: Upsampling) -> Double {
        switch mode {
        case .nearest:
            let c = min(max(Int(gx.rounded(.down)), 0), cols - 1)
            let r = min(max(Int(gy.rounded(.down)), 0), rows - 1)
            return v[r * cols + c]
        case .bilinear:
            let u = gx - 0.5
            let w = gy - 0.5
            let c0f = u.rounded(.down)
            let r0f = w.rounded(.down)
            let fx = u - c0f
            let fy = w - r0f
            let c0 = min(max(Int(c0f), 0), cols - 1)
            let c1 = min(max(Int(c0f) + 1, 0), cols - 1)
            let r0 = min(max(Int(r0f), 0), rows - 1)
            let r1 = min(max(Int(r0f) + 1, 0), rows - 1)
            let top = v[r0 * cols + c0] * (1 - fx) + v[r0 * cols + c1] * fx
            let bot = v[r1 * cols + c0] * (1 - fx) + v[r1 * cols + c1] * fx
            return top * (1 - fy) + bot * fy
        }
    }

    /// Upsamples a [rows, cols] map to [height, width] (pixel centres, the grid stretched over the
    /// whole image). Throws on a bad grid, size, length or non-finite value.
    public static func upsample<T: BinaryFloatingPoint>(_ values: [T], grid: GridShape, width: Int, height: Int,
                                                        mode: Upsampling) throws -> [Double] {
        let check = Check(context: "Heatmap.upsample")
        try checkGrid(grid, check)
        try check.size(width, height)
        try check.length(values.count, grid.count, "values")
        try check.finite(values, "values")
        let v = values.map { Double($0) }
        var out = [Double](repeating: 0, count: width * height)
        v.withUnsafeBufferPointer { vb in
            for y in 0..<height {
                let gy = (Double(y) + 0.5) / Double(height) * Double(grid.rows)
                for x in 0..<width {
                    let gx = (Double(x) + 0.5) / Double(width) * Double(grid.cols)
                    out[y * width + x] = sample(vb, cols: grid.cols, rows: grid.rows, gx: gx, gy: gy, mode: mode)
                }
            }
        }
        return out
    }

    static func checkGrid(_ grid: GridShape, _ check: Check) throws {
        if grid.cols <= 0 || grid.rows <= 0 || grid.cols > 65536 || grid.rows > 65536 {
            throw PlotError.invalidGrid(context: check.context, cols: grid.cols, rows: grid.rows)
        }
    }

    /// Boundary of a [h, w] boolean mask as merged horizontal and vertical segments on pixel edges
    /// (pixels outside the mask count as false, so shapes touching the border are closed).
    static func contourSegments(_ m: [Bool], width w: Int, height h: Int) -> [(PlotPoint, PlotPoint)] {
        var segs: [(PlotPoint, PlotPoint)] = []
        func at(_ x: Int, _ y: Int) -> Bool { x >= 0 && y >= 0 && x < w && y < h && m[y * w + x] }
        for x in 0...w {
            var start = -1
            for y in 0...h {
                let edge = y < h && at(x - 1, y) != at(x, y)
                if edge && start < 0 { start = y }
                if !edge && start >= 0 {
                    segs.append((PlotPoint(x: Double(x), y: Double(start)), PlotPoint(x: Double(x), y: Double(y))))
                    start = -1
                }
            }
        }
        for y in 0...h {
            var start = -1
            for x in 0...w {
                let edge = x < w && at(x, y - 1) != at(x, y)
                if edge && start < 0 { start = x }
                if !edge && start >= 0 {
                    segs.append((PlotPoint(x: Double(start), y: Double(y)), PlotPoint(x: Double(x), y: Double(y))))
                    start = -1
                }
            }
        }
        return segs
    }
}
