import Foundation

/// Polygon and box rasterisation, bit-exact with pycocotools (`rleFrPoly`, `rleFrBbox`).
///
/// The algorithm is not a scanline fill. In words:
/// 1. Vertices are scaled by 5 and rounded as C does (`(int)(5 * v + 0.5)`, truncation toward 0);
///    the polygon is closed.
/// 2. Every edge is walked densely at that resolution, one point per step along its longer axis
///    (the other coordinate rounded the same way), always from the edge's start to its end.
/// 3. Wherever consecutive walk points change x, the crossing is a candidate boundary: its
///    x, mapped back to pixel units, must be a whole pixel column inside the image; its y (the lower
///    of the two points, mapped back, clamped to `[0, h]`, rounded up) is where the column toggles.
/// 4. The toggle positions `x * h + y` (column-major), plus `h * w`, are sorted; their differences
///    are the run lengths, with zero-length runs folded into the run before.
extension RLE {
    /// Coordinates farther than this from the origin are rejected (they could only come from a
    /// broken file and would make the dense walk huge).
    public static let maxPolygonCoordinate = 1_000_000.0

    /// Rasterises one polygon `[x1, y1, x2, y2, ...]` (pixel coordinates; an odd trailing value is
    /// ignored, as pycocotools does) onto an `height` x `width` mask (pycocotools `frPyObjects`
    /// for one polygon). Fewer than 2 vertices give an empty mask.
    public init(polygon xy: [Double], height: Int, width: Int, context: String = "polygon") throws {
        try RLE.checkSize(height: height, width: width, context: context)
        for v in xy where !v.isFinite || abs(v) > RLE.maxPolygonCoordinate {
            throw MaskError.badCoordinate(context: context, value: v)
        }
        let k = xy.count / 2
        let scale = 5.0
        // 1. upsampled, closed vertex list
        var vx = [Int](repeating: 0, count: k + 1)
        var vy = [Int](repeating: 0, count: k + 1)
        for j in 0..<k {
            vx[j] = Int(scale * xy[2 * j] + 0.5)
            vy[j] = Int(scale * xy[2 * j + 1] + 0.5)
        }
        if k > 0 { vx[k] = vx[0]; vy[k] = vy[0] }

        // 2. dense walk along every edge
        var u: [Int] = []
        var v: [Int] = []
        var total = 0
        for j in 0..<k { total += max(abs(vx[j] - vx[j + 1]), abs(vy[j] - vy[j + 1])) + 1 }
        u.reserveCapacity(total)
        v.reserveCapacity(total)
        for j in 0..<k {
            var x0 = vx[j], x1 = vx[j + 1], y0 = vy[j], y1 = vy[j + 1]
            let dx = abs(x1 - x0), dy = abs(y1 - y0)
            if dx == 0 && dy == 0 {
                // A zero-length edge contributes its one point; its x equals both neighbours',
                // so it never becomes a boundary point.
                u.append(x0); v.append(y0)
                continue
            }
            let reversed = (dx >= dy && x0 > x1) || (dx < dy && y0 > y1)
            if reversed { swap(&x0, &x1); swap(&y0, &y1) }
            if dx >= dy {
                let slope = Double(y1 - y0) / Double(dx)
                for d in 0...dx {
                    let t = reversed ? dx - d : d
                    u.append(t + x0)
                    v.append(Int(Double(y0) + slope * Double(t) + 0.5))
                }
            } else {
                let slope = Double(x1 - x0) / Double(dy)
                for d in 0...dy {
                    let t = reversed ? dy - d : d
                    v.append(t + y0)
                    u.append(Int(Double(x0) + slope * Double(t) + 0.5))
                }
            }
        }

        // 3. boundary points where x changes, back at pixel resolution
        var toggles: [Int] = []
        let maxColumn = Double(width - 1)
        if u.count > 1 {
            for j in 1..<u.count where u[j] != u[j - 1] {
                var xd = Double(u[j] < u[j - 1] ? u[j] : u[j] - 1)
                xd = (xd + 0.5) / scale - 0.5
                if xd.rounded(.down) != xd || xd < 0 || xd > maxColumn { continue }
                var yd = Double(min(v[j], v[j - 1]))
                yd = (yd + 0.5) / scale - 0.5
                if yd < 0 { yd = 0 } else if yd > Double(height) { yd = Double(height) }
                yd = yd.rounded(.up)
                toggles.append(Int(xd) * height + Int(yd))
            }
        }

        // 4. sorted toggle positions -> run lengths
        toggles.append(height * width)
        toggles.sort()
        var diffs = [Int](repeating: 0, count: toggles.count)
        var previous = 0
        for (i, t) in toggles.enumerated() { diffs[i] = t - previous; previous = t }
        var runs: [Int] = [diffs[0]]
        var j = 1
        while j < diffs.count {
            if diffs[j] > 0 {
                runs.append(diffs[j])
                j += 1
            } else {
                j += 1
                if j < diffs.count {
                    runs[runs.count - 1] += diffs[j]
                    j += 1
                }
            }
        }
        self.init(validatedHeight: height, width: width, counts: runs)
    }

    /// One RLE per polygon part (pycocotools `frPyObjects(polygons, h, w)`).
    public static func polygons(_ parts: [[Double]], height: Int, width: Int, context: String = "polygons") throws -> [RLE] {
        try parts.enumerated().map { i, p in
            try RLE(polygon: p, height: height, width: width, context: "\(context)[\(i)]")
        }
    }

    /// Rasterises a box `[x, y, w, h]` (pycocotools `frBbox`: the polygon of its four corners).
    public init(box: [Double], height: Int, width: Int, context: String = "bbox") throws {
        guard box.count == 4 else {
            throw MaskError.invalidBox(context: context, count: box.count)
        }
        let xs = box[0], ys = box[1], xe = box[0] + box[2], ye = box[1] + box[3]
        try self.init(polygon: [xs, ys, xs, ye, xe, ye, xe, ys], height: height, width: width, context: context)
    }
}
