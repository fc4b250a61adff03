import Foundation
import Imaging

extension ImageGeometry {
    /// The geometry of a CLIP-style image preprocessor (LLaVA-1.5: optional pad to square, then
    /// Hugging Face `CLIPImageProcessor`: resize the shortest edge, centre crop), without an image.
    ///
    /// This is `CLIPImagePreprocessor.geometry(width:height:)` of the Imaging target (the one
    /// implementation, tested bit-exact against transformers' PIL backend) for a config built from
    /// the arguments: `shortestEdge` nil = no resize; `crop` (width, height) nil = no crop.
    /// Pad: the image is pasted on a `max(W, H)` square at `((S - W) / 2, (S - H) / 2)`; resize:
    /// the short side becomes `N`, the long `int(N * long / short)`; crop offsets
    /// `floor((resized - crop) / 2)` (negative when the image is smaller than the crop).
    public static func clipPreprocessor(originalWidth: Int, originalHeight: Int, padToSquare: Bool,
                                        shortestEdge: Int?, crop: (width: Int, height: Int)?) throws -> ImageGeometry {
        guard originalWidth > 0, originalHeight > 0, originalWidth <= 1_000_000, originalHeight <= 1_000_000 else {
            throw GridError.invalidValue(context: "image size", value: "\(originalWidth)x\(originalHeight)")
        }
        // One implementation of the preprocessing geometry: the image preprocessor's own.
        var config = CLIPPreprocessorConfig()
        if let n = shortestEdge {
            guard n > 0, n <= 1_000_000 else { throw GridError.invalidValue(context: "resize shortest edge", value: "\(n)") }
            config.size = .shortestEdge(n)
        } else {
            config.doResize = false
        }
        if let c = crop {
            guard c.width > 0, c.height > 0, c.width <= 1_000_000, c.height <= 1_000_000 else {
                throw GridError.invalidValue(context: "crop size", value: "\(c.width)x\(c.height)")
            }
            config.cropSize = .init(height: c.height, width: c.width)
        } else {
            config.doCenterCrop = false
        }
        return CLIPImagePreprocessor(config: config, padToSquare: padToSquare)
            .geometry(width: originalWidth, height: originalHeight)
    }
}

/// The patch grid of an image's token span: `columns` x `rows` patches, tokens in row-major
/// order (token `row * columns + column`).
public struct PatchGrid: Sendable, Equatable, Codable {
    public var columns: Int
    public var rows: Int
    /// A grid of `columns` x `rows` patches.
    public init(columns: Int, rows: Int) { self.columns = columns; self.rows = rows }
    /// Number of patches (= image tokens).
    public var count: Int { columns * rows }
}

/// How a mask of the original image is carried into the model's input image.
///
/// Rule (nearest sampling at pixel centres): output pixel `(x, y)` of the model input is set iff
/// its centre `(x + 0.5, y + 0.5)`, mapped back with `ImageGeometry.outputToOriginal`, falls in a
/// set pixel `(floor(ox), floor(oy))` of the original mask; centres that land outside the
/// original (pad or crop border) are unset. The mapping is separable, so it is computed once per
/// column and once per row.
public enum MaskMapping {
    /// Source column (or -1) of every output column, and source row (or -1) of every output row.
    public static func sourceIndices(geometry g: ImageGeometry) -> (columns: [Int], rows: [Int]) {
        func src(_ o: Double, _ limit: Int) -> Int {
            let f = o.rounded(.down)
            return (f >= 0 && f < Double(limit)) ? Int(f) : -1
        }
        let cols = (0..<max(0, g.outputWidth)).map { x in
            src(g.outputToOriginal(x: Double(x) + 0.5, y: 0.5).x, g.originalWidth)
        }
        let rows = (0..<max(0, g.outputHeight)).map { y in
            src(g.outputToOriginal(x: 0.5, y: Double(y) + 0.5).y, g.originalHeight)
        }
        return (cols, rows)
    }

    /// The mask in the model's input image: `[outputHeight, outputWidth]` row-major, 0/1.
    /// `mask` is the original's `[height, width]` row-major (non-zero = set).
    public static func modelInputMask(_ mask: [UInt8], width: Int, height: Int, geometry g: ImageGeometry) throws -> [UInt8] {
        guard width == g.originalWidth, height == g.originalHeight else {
            throw GridError.maskSizeMismatch(maskWidth: width, maskHeight: height,
                                             geometryWidth: g.originalWidth, geometryHeight: g.originalHeight)
        }
        guard mask.count == width * height else {
            throw MaskError.bufferSize(context: "modelInputMask", count: mask.count, expected: width * height)
        }
        guard g.outputWidth > 0, g.outputHeight > 0, g.outputWidth.multipliedReportingOverflow(by: g.outputHeight).partialValue <= 100_000_000,
              g.outputWidth <= 100_000_000, g.outputHeight <= 100_000_000 else {
            throw GridError.invalidValue(context: "model input size (at most 1e8 pixels)", value: "\(g.outputWidth)x\(g.outputHeight)")
        }
        let (cols, rows) = sourceIndices(geometry: g)
        var out = [UInt8](repeating: 0, count: g.outputWidth * g.outputHeight)
        for (y, sy) in rows.enumerated() where sy >= 0 {
            let base = sy * width
            for (x, sx) in cols.enumerated() where sx >= 0 {
                if mask[base + sx] != 0 { out[y * g.outputWidth + x] = 1 }
            }
        }
        return out
    }

    /// Pixel range `[start, end)` of patch `index` along an axis of `length` pixels cut in `parts`:
    /// `start = index * length / parts` (integer division). Equal patches when `parts` divides
    /// `length` (e.g. 14-pixel ViT patches); otherwise sizes differ by at most one pixel.
    public static func patchRange(_ index: Int, length: Int, parts: Int) -> Range<Int> {
        (index * length / parts)..<((index + 1) * length / parts)
    }

    /// Per-patch coverage of a model-input mask (`[height, width]` row-major, non-zero = set).
    public static func coverage(modelInputMask mask: [UInt8], width: Int, height: Int, grid: PatchGrid) throws -> PatchCoverage {
        guard grid.columns > 0, grid.rows > 0 else {
            throw GridError.invalidValue(context: "patch grid", value: "\(grid.columns)x\(grid.rows)")
        }
        guard grid.columns <= width, grid.rows <= height else {
            throw GridError.gridTooFine(columns: grid.columns, rows: grid.rows, width: width, height: height)
        }
        guard mask.count == width * height else {
            throw MaskError.bufferSize(context: "coverage", count: mask.count, expected: width * height)
        }
        var covered = [Int](repeating: 0, count: grid.count)
        var pixels = [Int](repeating: 0, count: grid.count)
        for r in 0..<grid.rows {
            let ys = patchRange(r, length: height, parts: grid.rows)
            for c in 0..<grid.columns {
                let xs = patchRange(c, length: width, parts: grid.columns)
                var n = 0
                for y in ys { for x in xs where mask[y * width + x] != 0 { n += 1 } }
                covered[r * grid.columns + c] = n
                pixels[r * grid.columns + c] = ys.count * xs.count
            }
        }
        return PatchCoverage(grid: grid, coveredPixels: covered, patchPixels: pixels)
    }

    /// Original mask -> model input (through `geometry`) -> patch coverage on `grid`.
    public static func coverage(of rle: RLE, geometry: ImageGeometry, grid: PatchGrid) throws -> PatchCoverage {
        let input = try modelInputMask(rle.decode(), width: rle.width, height: rle.height, geometry: geometry)
        return try coverage(modelInputMask: input, width: geometry.outputWidth, height: geometry.outputHeight, grid: grid)
    }
}

/// How much of each patch of the token grid a key-object mask covers.
public struct PatchCoverage: Sendable, Equatable {
    public let grid: PatchGrid
    /// [rows, columns] row-major: model-input pixels of the patch inside the mask.
    public let coveredPixels: [Int]
    /// [rows, columns] row-major: model-input pixels of the patch.
    public let patchPixels: [Int]

    /// Coverage from per-patch pixel counts ([rows, columns] row-major).
    public init(grid: PatchGrid, coveredPixels: [Int], patchPixels: [Int]) {
        self.grid = grid; self.coveredPixels = coveredPixels; self.patchPixels = patchPixels
    }

    /// [rows, columns] row-major: covered fraction of each patch, in [0, 1].
    public var fractions: [Double] {
        zip(coveredPixels, patchPixels).map { Double($0) / Double($1) }
    }

    /// [rows, columns] row-major: the "any pixel" rule (a patch is on the object if it covers
    /// at least one set pixel).
    public var anyPixel: [Bool] { coveredPixels.map { $0 > 0 } }

    /// Token selection: patches whose covered fraction is at least `minFraction`; with
    /// `minFraction == 0` (default) this is the "any pixel" rule.
    public func keyTokens(minFraction: Double = 0) -> [Bool] {
        if minFraction <= 0 { return anyPixel }
        return zip(coveredPixels, patchPixels).map { $0 > 0 && Double($0) / Double($1) >= minFraction }
    }
}

/// A `WIDTHxHEIGHT` value from a command line or config (`24x24`, `336x336`).
public struct PixelSize: Sendable, Equatable, Codable {
    public var width: Int
    public var height: Int
    /// A size in pixels.
    public init(width: Int, height: Int) { self.width = width; self.height = height }

    /// Parses `WxH` (also `W*H`, `W,H`); both positive and at most 1,000,000. `option` names the
    /// source in errors.
    public init(parsing text: String, option: String) throws {
        let parts = text.lowercased().split(whereSeparator: { $0 == "x" || $0 == "*" || $0 == "," })
        guard parts.count == 2, let w = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let h = Int(parts[1].trimmingCharacters(in: .whitespaces)),
              w > 0, h > 0, w <= 1_000_000, h <= 1_000_000
        else { throw GridError.invalidValue(context: "\(option) (expected WIDTHxHEIGHT)", value: text) }
        width = w; height = h
    }
}
