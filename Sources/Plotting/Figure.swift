import Foundation

/// Namespace for the figure builders (`Plot.lineChart`, `Plot.attentionOverlay`, ...).
public enum Plot {}

/// Where one panel (a pair of axes, or one heatmap image) landed on the canvas, with the maps from
/// data coordinates to canvas pixels. For overlays, `x`/`y` map the overlay's image space (model
/// input or original image pixels) onto the displayed image.
public struct PanelLayout: Sendable, Equatable {
    public var frame: PlotRect
    public var x: LinearScale
    public var y: LinearScale
    public var title: String?

    /// Creates a `PanelLayout` from its fields.
    public init(frame: PlotRect, x: LinearScale, y: LinearScale, title: String?) {
        self.frame = frame
        self.x = x
        self.y = y
        self.title = title
    }

    /// Canvas pixel coordinates of data point (x, y).
    public func point(x vx: Double, y vy: Double) -> PlotPoint { PlotPoint(x: x.pixel(vx), y: y.pixel(vy)) }
}

/// One legend entry as drawn: its label, the opaque colour of its swatch and where the swatch is.
/// The pixel containing `center` is painted in exactly `color`.
public struct LegendEntryInfo: Sendable, Equatable {
    public var label: String
    public var color: Color
    public var swatch: PlotRect
    public var center: PlotPoint
}

/// Where a colour bar was drawn and the value range it spans (bottom = `lo`, top = `hi`).
public struct ColorbarLayout: Sendable, Equatable {
    public var frame: PlotRect
    public var lo: Double
    public var hi: Double
    public var colormap: String
}

/// A rendered figure: the canvas plus where everything landed (for tests and for composition).
public struct Figure {
    public let canvas: Canvas
    public var panels: [PanelLayout]
    public var legend: [LegendEntryInfo]
    public var legendFrame: PlotRect?
    public var annotationFrame: PlotRect?
    public var colorbar: ColorbarLayout?

    init(canvas: Canvas, panels: [PanelLayout] = [], legend: [LegendEntryInfo] = [], legendFrame: PlotRect? = nil,
         annotationFrame: PlotRect? = nil, colorbar: ColorbarLayout? = nil) {
        self.canvas = canvas
        self.panels = panels
        self.legend = legend
        self.legendFrame = legendFrame
        self.annotationFrame = annotationFrame
        self.colorbar = colorbar
    }

    public var width: Int { canvas.width }
    public var height: Int { canvas.height }

    /// The pixel at (x, y) (straight alpha), or nil outside the canvas.
    public func pixel(x: Int, y: Int) -> RGBA8? { canvas.pixel(x: x, y: y) }

    /// PNG bytes of the figure.
    public func pngData() throws -> [UInt8] { try canvas.pngData() }

    /// Writes the figure as PNG (temporary file, then rename).
    public func writePNG(to url: URL) throws { try canvas.writePNG(to: url) }
}
