/// A 256-entry colour lookup table that maps a normalised value in [0, 1] to a colour.
///
/// Lookup follows matplotlib's `ListedColormap` convention: entry `min(floor(t * 256), 255)`, so
/// `t = 1` gives the last ("top") entry and `t = 0` the first. Values outside [0, 1] are clamped;
/// NaN maps to entry 0 (chart builders reject NaN before it gets here).
public struct Colormap: Sendable, Equatable {
    /// Short name (`viridis`, `magma`, `jet`, `gray`, or the base name plus `_r` when reversed).
    public let name: String
    /// [256, 3] row-major, RGB in [0, 1].
    public let table: [Double]
    /// [256] 8-bit rounded entries, precomputed for per-pixel work.
    let bytes: [RGBA8]

    /// Number of entries (always 256).
    public static let size = 256

    init(name: String, table: [Double]) {
        self.name = name
        self.table = table
        var b = [RGBA8]()
        b.reserveCapacity(Colormap.size)
        for i in 0..<Colormap.size {
            b.append(Color(r: table[i * 3], g: table[i * 3 + 1], b: table[i * 3 + 2]).rgba8)
        }
        self.bytes = b
    }

    /// Perceptually uniform, colour-blind friendly (dark purple to yellow). matplotlib's table.
    public static let viridis = Colormap(name: "viridis", table: ColormapTables.viridis)
    /// Perceptually uniform (black through purple and orange to pale yellow). matplotlib's table.
    public static let magma = Colormap(name: "magma", table: ColormapTables.magma)
    /// The classic rainbow map (matplotlib's piecewise-linear `jet`). Not perceptual: use only on request.
    public static let jet = Colormap(name: "jet", table: Colormap.jetTable())
    /// Linear grey ramp from black to white.
    public static let gray = Colormap(name: "gray", table: (0..<256).flatMap { i -> [Double] in
        let v = Double(i) / 255
        return [v, v, v]
    })

    /// The colormap with the given name (`viridis`, `magma`, `jet`, `gray`, optionally `_r` for reversed).
    public static func named(_ name: String) throws -> Colormap {
        let lower = name.lowercased()
        let reversed = lower.hasSuffix("_r")
        let base = reversed ? String(lower.dropLast(2)) : lower
        let map: Colormap
        switch base {
        case "viridis": map = .viridis
        case "magma": map = .magma
        case "jet": map = .jet
        case "gray", "grey": map = .gray
        default:
            throw PlotError.invalidArgument(context: "Colormap.named", field: "name",
                                            reason: "unknown colormap '\(name)' (viridis, magma, jet, gray, with optional _r)")
        }
        return reversed ? map.reversed() : map
    }

    /// Index of the entry used for normalised value `t`.
    public static func index(for t: Double) -> Int {
        if !(t > 0) { return 0 }
        if t >= 1 { return size - 1 }
        return min(Int(t * Double(size)), size - 1)
    }

    /// Colour for normalised value `t` in [0, 1].
    public func color(at t: Double) -> Color {
        let i = Colormap.index(for: t)
        return Color(r: table[i * 3], g: table[i * 3 + 1], b: table[i * 3 + 2])
    }

    /// 8-bit colour for normalised value `t` in [0, 1].
    public func rgba8(at t: Double) -> RGBA8 { bytes[Colormap.index(for: t)] }

    /// The colour of the maximum value (last entry).
    public var top: Color { color(at: 1) }
    /// The colour of the minimum value (first entry).
    public var bottom: Color { color(at: 0) }

    /// The same map run backwards (name gets `_r`).
    public func reversed() -> Colormap {
        var t = [Double](repeating: 0, count: table.count)
        for i in 0..<Colormap.size {
            for c in 0..<3 { t[i * 3 + c] = table[(Colormap.size - 1 - i) * 3 + c] }
        }
        let newName = name.hasSuffix("_r") ? String(name.dropLast(2)) : name + "_r"
        return Colormap(name: newName, table: t)
    }

    public static func == (a: Colormap, b: Colormap) -> Bool { a.name == b.name && a.table == b.table }

    /// matplotlib's `jet` segment data (x, value) per channel, sampled at i / 255 for i in 0..<256.
    static func jetTable() -> [Double] {
        let red: [(Double, Double)] = [(0, 0), (0.35, 0), (0.66, 1), (0.89, 1), (1, 0.5)]
        let green: [(Double, Double)] = [(0, 0), (0.125, 0), (0.375, 1), (0.64, 1), (0.91, 0), (1, 0)]
        let blue: [(Double, Double)] = [(0, 0.5), (0.11, 1), (0.34, 1), (0.65, 0), (1, 0)]
        func interp(_ seg: [(Double, Double)], _ x: Double) -> Double {
            for k in 1..<seg.count where x <= seg[k].0 {
                let (x0, y0) = seg[k - 1]
                let (x1, y1) = seg[k]
                return x1 == x0 ? y1 : y0 + (x - x0) / (x1 - x0) * (y1 - y0)
            }
            return seg[seg.count - 1].1
        }
        var t = [Double]()
        t.reserveCapacity(size * 3)
        for i in 0..<size {
            let x = Double(i) / Double(size - 1)
            t.append(interp(red, x))
            t.append(interp(green, x))
            t.append(interp(blue, x))
        }
        return t
    }
}
