/// An sRGB colour with straight (not premultiplied) alpha; components in [0, 1].
public struct Color: Sendable, Equatable, Hashable {
    public var r: Double
    public var g: Double
    public var b: Double
    public var a: Double

    /// Creates a `Color` from its fields.
    public init(r: Double, g: Double, b: Double, a: Double = 1) {
        self.r = r
        self.g = g
        self.b = b
        self.a = a
    }

    /// From a 24-bit `0xRRGGBB` value.
    public init(hex: UInt32, alpha: Double = 1) {
        self.init(r: Double((hex >> 16) & 0xFF) / 255, g: Double((hex >> 8) & 0xFF) / 255,
                  b: Double(hex & 0xFF) / 255, a: alpha)
    }

    /// From 8-bit channels.
    public init(r8: UInt8, g8: UInt8, b8: UInt8, alpha: Double = 1) {
        self.init(r: Double(r8) / 255, g: Double(g8) / 255, b: Double(b8) / 255, a: alpha)
    }

    /// The same colour with another alpha.
    public func withAlpha(_ alpha: Double) -> Color { Color(r: r, g: g, b: b, a: alpha) }

    /// The colour mixed with white: `amount` 0 keeps it, 1 gives white.
    public func lightened(_ amount: Double) -> Color {
        Color(r: r + (1 - r) * amount, g: g + (1 - g) * amount, b: b + (1 - b) * amount, a: a)
    }

    /// 8-bit rounding of the colour (what an opaque fill of this colour reads back as).
    public var rgba8: RGBA8 {
        RGBA8(r: Color.byte(r), g: Color.byte(g), b: Color.byte(b), a: Color.byte(a))
    }

    static func byte(_ v: Double) -> UInt8 {
        if !(v > 0) { return 0 }
        if v >= 1 { return 255 }
        return UInt8((v * 255).rounded())
    }

    public static let white = Color(r: 1, g: 1, b: 1)
    public static let black = Color(r: 0, g: 0, b: 0)
    /// Near-black used for axes, ticks and text.
    public static let ink = Color(hex: 0x262626)
    /// Mid grey for secondary marks (reference lines).
    public static let gray = Color(hex: 0x7F7F7F)
    /// Light grey for grid lines and legend frames.
    public static let lightGray = Color(hex: 0xD9D9D9)
}

/// One pixel with 8-bit straight-alpha channels (as read back from a canvas).
public struct RGBA8: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8
    public var a: UInt8

    /// Creates a `RGBA8` from its fields.
    public init(r: UInt8, g: UInt8, b: UInt8, a: UInt8 = 255) {
        self.r = r
        self.g = g
        self.b = b
        self.a = a
    }

    public var description: String { "RGBA8(\(r), \(g), \(b), \(a))" }
}

/// Categorical palettes that stay distinguishable under the common colour-vision deficiencies.
public enum Palette {
    /// Okabe & Ito (2008), "Color Universal Design", ordered for a white background
    /// (blue, vermillion, bluish green, orange, reddish purple, sky blue, yellow, black).
    public static let okabeIto: [Color] = [
        Color(hex: 0x0072B2), Color(hex: 0xD55E00), Color(hex: 0x009E73), Color(hex: 0xE69F00),
        Color(hex: 0xCC79A7), Color(hex: 0x56B4E9), Color(hex: 0xF0E442), Color(hex: 0x000000),
    ]

    /// Paul Tol's "bright" qualitative scheme (blue, red, green, yellow, cyan, purple, grey).
    public static let tolBright: [Color] = [
        Color(hex: 0x4477AA), Color(hex: 0xEE6677), Color(hex: 0x228833), Color(hex: 0xCCBB44),
        Color(hex: 0x66CCEE), Color(hex: 0xAA3377), Color(hex: 0xBBBBBB),
    ]

    /// The `index`-th colour of `palette`, cycling; black for an empty palette.
    public static func color(_ index: Int, in palette: [Color] = okabeIto) -> Color {
        if palette.isEmpty { return .black }
        let n = palette.count
        return palette[((index % n) + n) % n]
    }
}
