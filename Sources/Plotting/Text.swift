import _CCairo

/// Font size (points), weight and colour of a piece of text.
public struct TextStyle: Sendable, Equatable {
    public var size: Double
    public var bold: Bool
    public var color: Color

    /// Creates a `TextStyle` from its fields.
    public init(size: Double, bold: Bool = false, color: Color = .ink) {
        self.size = size
        self.bold = bold
        self.color = color
    }
}

enum HAlign { case left, center, right }
enum VAlign { case top, middle, baseline, bottom }

/// Width of a single line of text and the font's ascent/descent, in pixels.
struct TextMetrics {
    var width: Double
    var ascent: Double
    var descent: Double
    var height: Double { ascent + descent }
}

extension Canvas {
    func setFont(_ style: TextStyle) {
        cairo_select_font_face(cr, fontFamily, CAIRO_FONT_SLANT_NORMAL,
                               style.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, style.size * scale)
    }

    /// Metrics of one line of `text` (font ascent/descent, so lines of a style share a height).
    func measure(_ text: String, _ style: TextStyle) -> TextMetrics {
        setFont(style)
        var fe = cairo_font_extents_t()
        cairo_font_extents(cr, &fe)
        var te = cairo_text_extents_t()
        if !text.isEmpty { cairo_text_extents(cr, text, &te) }
        return TextMetrics(width: te.x_advance, ascent: fe.ascent, descent: fe.descent)
    }

    /// Line advance for multi-line text.
    func lineHeight(_ style: TextStyle) -> Double { measure("", style).height * 1.15 }

    /// Size of (possibly multi-line) text.
    func measureBlock(_ text: String, _ style: TextStyle) -> (width: Double, height: Double) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let w = lines.map { measure($0, style).width }.max() ?? 0
        let m = measure("", style)
        return (w, m.height + Double(max(0, lines.count - 1)) * lineHeight(style))
    }

    /// Draws one line of text anchored at `p`; `angle` in radians (counter-clockwise is negative,
    /// as in Cairo's y-down space). Returns the unrotated box of the text.
    @discardableResult
    func drawText(_ text: String, at p: PlotPoint, style: TextStyle, h: HAlign = .left, v: VAlign = .baseline,
                  angle: Double = 0) -> PlotRect {
        let m = measure(text, style)
        guard safeRect.contains(p) else { return PlotRect(x: p.x, y: p.y, width: 0, height: 0) }
        var dx = 0.0
        switch h {
        case .left: dx = 0
        case .center: dx = -m.width / 2
        case .right: dx = -m.width
        }
        var dy = 0.0
        switch v {
        case .baseline: dy = 0
        case .top: dy = m.ascent
        case .middle: dy = (m.ascent - m.descent) / 2
        case .bottom: dy = -m.descent
        }
        cairo_save(cr)
        cairo_translate(cr, p.x, p.y)
        if angle != 0 { cairo_rotate(cr, angle) }
        cairo_move_to(cr, dx, dy)
        setColor(style.color)
        cairo_show_text(cr, text)
        cairo_new_path(cr)
        cairo_restore(cr)
        return PlotRect(x: p.x + dx, y: p.y + dy - m.ascent, width: m.width, height: m.height)
    }

    /// Draws multi-line text with its top-left (or top-centre / top-right) at `p`.
    func drawBlock(_ text: String, at p: PlotPoint, style: TextStyle, h: HAlign = .left) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let lh = lineHeight(style)
        for (i, line) in lines.enumerated() {
            drawText(line, at: PlotPoint(x: p.x, y: p.y + Double(i) * lh), style: style, h: h, v: .top)
        }
    }

    /// `text` shortened with an ellipsis so it is at most `maxWidth` pixels wide.
    func ellipsize(_ text: String, maxWidth: Double, style: TextStyle) -> String {
        if measure(text, style).width <= maxWidth { return text }
        var chars = Array(text)
        while !chars.isEmpty {
            chars.removeLast()
            let candidate = String(chars) + "\u{2026}"
            if measure(candidate, style).width <= maxWidth { return candidate }
        }
        return ""
    }
}
