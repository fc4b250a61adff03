/// Errors thrown by the plotting library. Every case names the function (`context`) and the
/// argument or field that was wrong, so a caller can find the bad input without a debugger.
public enum PlotError: Error, CustomStringConvertible, Equatable {
    /// A canvas or panel size out of range (each side must be in 1...16384 pixels).
    case invalidSize(context: String, width: Int, height: Int)
    /// A DPI that is not finite or not in (0, 2400].
    case invalidDPI(context: String, dpi: Double)
    /// An input that must hold at least one element was empty.
    case emptyData(context: String, field: String)
    /// A NaN or infinity in numeric input; `index` is the flat index of the first offender.
    case nonFinite(context: String, field: String, index: Int)
    /// Two inputs that must have matching lengths do not.
    case lengthMismatch(context: String, field: String, expected: Int, actual: Int)
    /// A patch grid with a non-positive side.
    case invalidGrid(context: String, cols: Int, rows: Int)
    /// An image whose size and pixel buffer do not agree, or that does not match its geometry.
    case invalidImage(context: String, reason: String)
    /// Any other argument outside its documented domain.
    case invalidArgument(context: String, field: String, reason: String)
    /// The canvas is too small to hold the requested layout (axes, labels, legend).
    case canvasTooSmall(context: String, width: Int, height: Int)
    /// Cairo reported an error status.
    case cairo(context: String, status: String)
    /// Writing a file failed.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidSize(c, w, h):
            return "\(c): size \(w)x\(h) is invalid (each side must be 1...\(Canvas.maxSide) pixels)"
        case let .invalidDPI(c, d):
            return "\(c): dpi \(d) is invalid (must be finite, > 0 and <= 2400)"
        case let .emptyData(c, f):
            return "\(c): \(f) is empty"
        case let .nonFinite(c, f, i):
            return "\(c): \(f)[\(i)] is not a finite number"
        case let .lengthMismatch(c, f, e, a):
            return "\(c): \(f) has \(a) elements, expected \(e)"
        case let .invalidGrid(c, cols, rows):
            return "\(c): grid \(cols)x\(rows) (cols x rows) is invalid (both must be > 0)"
        case let .invalidImage(c, r):
            return "\(c): image: \(r)"
        case let .invalidArgument(c, f, r):
            return "\(c): \(f): \(r)"
        case let .canvasTooSmall(c, w, h):
            return "\(c): canvas \(w)x\(h) is too small for the plot's axes, labels and legend"
        case let .cairo(c, s):
            return "\(c): cairo error: \(s)"
        case let .io(p, r):
            return "\(p): \(r)"
        }
    }
}

/// Input checks shared by the chart builders; `context` is the public function's name.
struct Check {
    let context: String

    func nonEmpty(_ count: Int, _ field: String) throws {
        if count == 0 { throw PlotError.emptyData(context: context, field: field) }
    }

    func finite<T: BinaryFloatingPoint>(_ values: [T], _ field: String) throws {
        for (i, v) in values.enumerated() where !v.isFinite {
            throw PlotError.nonFinite(context: context, field: field, index: i)
        }
    }

    func length(_ actual: Int, _ expected: Int, _ field: String) throws {
        if actual != expected {
            throw PlotError.lengthMismatch(context: context, field: field, expected: expected, actual: actual)
        }
    }

    func size(_ width: Int, _ height: Int) throws {
        if width <= 0 || height <= 0 || width > Canvas.maxSide || height > Canvas.maxSide {
            throw PlotError.invalidSize(context: context, width: width, height: height)
        }
    }

    func argument(_ ok: Bool, _ field: String, _ reason: String) throws {
        if !ok { throw PlotError.invalidArgument(context: context, field: field, reason: reason) }
    }
}
