/// A closed numeric interval `lo...hi` for an axis or a colour scale (checked when used: both
/// finite and `lo < hi`).
public struct Bounds: Sendable, Equatable {
    public var lo: Double
    public var hi: Double
    /// Creates a `Bounds` from its fields.
    public init(_ lo: Double, _ hi: Double) {
        self.lo = lo
        self.hi = hi
    }
}

/// Pixel size, resolution and typography of a figure.
public struct FigureStyle: Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// Dots per inch: a point is dpi/72 pixels (fonts and line widths are in points).
    public var dpi: Double
    /// Base font size in points (tick labels are 90% of it, the title 110%).
    public var fontSize: Double
    /// Font family (fontconfig name).
    public var fontFamily: String
    /// Canvas background.
    public var background: Color
    /// Colours given in turn to series without an explicit colour.
    public var palette: [Color]

    /// Default options (the values assigned below); override any field afterwards.
    public init(width: Int = 800, height: Int = 500, dpi: Double = 100, fontSize: Double = 10,
                fontFamily: String = "DejaVu Sans", background: Color = .white, palette: [Color] = Palette.okabeIto) {
        self.width = width
        self.height = height
        self.dpi = dpi
        self.fontSize = fontSize
        self.fontFamily = fontFamily
        self.background = background
        self.palette = palette
    }

    var tickStyle: TextStyle { TextStyle(size: fontSize * 0.9) }
    var labelStyle: TextStyle { TextStyle(size: fontSize) }
    var titleStyle: TextStyle { TextStyle(size: fontSize * 1.1, bold: true) }
    var legendStyle: TextStyle { TextStyle(size: fontSize * 0.9) }
}

/// One axis of a chart.
public struct AxisOptions: Sendable, Equatable {
    /// Axis label (nil: none).
    public var label: String?
    /// Fixed data range (nil: from the data, with a small margin).
    public var range: Bounds?
    /// Tick label format.
    public var format: TickFormat
    /// Ticks only at whole numbers (layer indices, counts).
    public var integerTicks: Bool
    /// Explicit tick positions (nil: nice 1-2-5 ticks). Labels that would overlap are thinned.
    public var ticks: [Double]?

    /// Default options (the values assigned below); override any field afterwards.
    public init(label: String? = nil, range: Bounds? = nil, format: TickFormat = .auto,
                integerTicks: Bool = false, ticks: [Double]? = nil) {
        self.label = label
        self.range = range
        self.format = format
        self.integerTicks = integerTicks
        self.ticks = ticks
    }
}

/// Where a legend (or an annotation box) goes.
public enum LegendPlacement: Sendable, Equatable {
    /// Inside the axes at the candidate spot covering the least data; outside on the right when
    /// every inside spot would cover data.
    case best
    case upperRight, upperLeft, lowerRight, lowerLeft, upperCenter, lowerCenter, centerRight, centerLeft
    /// To the right of the axes (the plot area shrinks).
    case outsideRight
    /// No legend.
    case hidden
}

/// Light grid lines at the ticks.
public enum GridLines: Sendable, Equatable {
    case none, horizontal, vertical, both
}

/// A straight reference line across the axes (a threshold, a decision point).
public struct ReferenceLine: Sendable, Equatable {
    public enum Axis: Sendable, Equatable {
        /// A vertical line at x = value.
        case x
        /// A horizontal line at y = value.
        case y
    }
    public var axis: Axis
    public var value: Double
    /// Text written next to the line (nil: none).
    public var label: String?
    public var color: Color
    public var style: LineStyle

    /// Creates a `ReferenceLine` from its fields.
    public init(axis: Axis, value: Double, label: String? = nil, color: Color = .gray, style: LineStyle = .dashed) {
        self.axis = axis
        self.value = value
        self.label = label
        self.color = color
        self.style = style
    }
}

/// A shaded band across the axes, e.g. a range of layers: x in [from, to] (or y for `.y`).
public struct ReferenceSpan: Sendable, Equatable {
    public var axis: ReferenceLine.Axis
    public var from: Double
    public var to: Double
    public var label: String?
    public var color: Color

    /// Creates a `ReferenceSpan` from its fields.
    public init(axis: ReferenceLine.Axis = .x, from: Double, to: Double, label: String? = nil,
                color: Color = Color(hex: 0x000000, alpha: 0.07)) {
        self.axis = axis
        self.from = from
        self.to = to
        self.label = label
        self.color = color
    }
}

/// Everything about a chart except its data.
public struct ChartOptions: Sendable, Equatable {
    public var style: FigureStyle
    public var title: String?
    public var x: AxisOptions
    public var y: AxisOptions
    public var legend: LegendPlacement
    public var grid: GridLines
    public var referenceLines: [ReferenceLine]
    public var spans: [ReferenceSpan]
    /// Text box (may contain newlines) placed where it covers the least data.
    public var annotation: String?
    public var annotationPlacement: LegendPlacement

    /// Default options (the values assigned below); override any field afterwards.
    public init(title: String? = nil, xLabel: String? = nil, yLabel: String? = nil,
                width: Int = 800, height: Int = 500, dpi: Double = 100) {
        self.style = FigureStyle(width: width, height: height, dpi: dpi)
        self.title = title
        self.x = AxisOptions(label: xLabel)
        self.y = AxisOptions(label: yLabel)
        self.legend = .best
        self.grid = .none
        self.referenceLines = []
        self.spans = []
        self.annotation = nil
        self.annotationPlacement = .best
    }
}
