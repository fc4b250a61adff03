/// A point in canvas pixel coordinates (origin top-left, y down; pixel `i` covers `[i, i + 1)`).
public struct PlotPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    /// Creates a `PlotPoint` from its fields.
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// An axis-aligned rectangle in canvas pixel coordinates.
public struct PlotRect: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    /// Creates a `PlotRect` from its fields.
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var minX: Double { x }
    public var minY: Double { y }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public var midX: Double { x + width / 2 }
    public var midY: Double { y + height / 2 }
    public var center: PlotPoint { PlotPoint(x: midX, y: midY) }

    /// True when `p` lies inside (edges included).
    public func contains(_ p: PlotPoint) -> Bool {
        p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY
    }

    /// The rectangle grown by `d` on every side.
    public func insetBy(_ d: Double) -> PlotRect {
        PlotRect(x: x + d, y: y + d, width: width - 2 * d, height: height - 2 * d)
    }

    /// Area of the overlap with `other` (0 when disjoint).
    public func overlapArea(_ other: PlotRect) -> Double {
        let w = min(maxX, other.maxX) - max(minX, other.minX)
        let h = min(maxY, other.maxY) - max(minY, other.minY)
        return (w > 0 && h > 0) ? w * h : 0
    }
}

/// Maps a data interval linearly onto a pixel interval. `pixelLo` is where `domainLo` lands, so a
/// y axis (data up, pixels down) has `pixelLo > pixelHi`.
public struct LinearScale: Sendable, Equatable {
    public var domainLo: Double
    public var domainHi: Double
    public var pixelLo: Double
    public var pixelHi: Double

    /// Creates a `LinearScale` from its fields.
    public init(domainLo: Double, domainHi: Double, pixelLo: Double, pixelHi: Double) {
        self.domainLo = domainLo
        self.domainHi = domainHi
        self.pixelLo = pixelLo
        self.pixelHi = pixelHi
    }

    /// The pixel coordinate of data value `v`.
    public func pixel(_ v: Double) -> Double {
        let span = domainHi - domainLo
        if span == 0 { return (pixelLo + pixelHi) / 2 }
        return pixelLo + (v - domainLo) / span * (pixelHi - pixelLo)
    }

    /// The data value at pixel coordinate `p` (inverse of `pixel`).
    public func value(atPixel p: Double) -> Double {
        let span = pixelHi - pixelLo
        if span == 0 { return domainLo }
        return domainLo + (p - pixelLo) / span * (domainHi - domainLo)
    }
}
