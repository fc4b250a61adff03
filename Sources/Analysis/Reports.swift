import Foundation
import Imaging

/// Point-biserial correlation and logistic regression of a binary outcome on one variable
/// (Fig. 4: convergence vs uncertainty `U`), as printed by `clvs-trace stats`.
public struct BinaryOutcomeReport: Sendable, Equatable, Codable {
    /// Column of the continuous variable.
    public let x: String
    /// Column of the binary outcome (0/1).
    public let y: String
    public let n: Int
    public let pointBiserial: CorrelationResult
    public let logistic: LogisticRegression

    /// Computes both statistics. `y` must be 0/1.
    public static func compute(x: [Double], y: [Double], xName: String, yName: String) throws -> BinaryOutcomeReport {
        let pb = try Correlation.pointBiserial(binary: y, continuous: x, context: "point-biserial(\(yName), \(xName))")
        let lr = try LogisticRegression.fit(y: y, features: [x], names: [xName])
        return BinaryOutcomeReport(x: xName, y: yName, n: x.count, pointBiserial: pb, logistic: lr)
    }

    /// Reads the two columns of a CSV file and computes the report.
    public static func compute(csv url: URL, xColumn: String, yColumn: String) throws -> BinaryOutcomeReport {
        let table = try CSVTable(contentsOf: url)
        return try compute(x: table.numericColumn(xColumn), y: table.numericColumn(yColumn), xName: xColumn, yName: yColumn)
    }

    /// Pretty JSON with sorted keys.
    public func json() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }
}

/// Writing masks and their grid coverage to files (used by `clvs-trace mask`).
public enum MaskExport {
    /// The mask as an 8-bit gray image, 0 and 255: [height, width] row-major.
    public static func grayImage(_ rle: RLE) -> [UInt8] {
        rle.decode().map { $0 != 0 ? 255 : 0 }
    }

    /// Writes the mask as an 8-bit PNG (0 and 255) at the mask's size.
    public static func writePNG(_ rle: RLE, to url: URL) throws {
        try ImageIO.writePNG(gray: grayImage(rle), width: rle.width, height: rle.height, to: url)
    }

    /// CSV text of a coverage: header `patch,row,column,covered_pixels,patch_pixels,covered_fraction,any_pixel`,
    /// one line per patch in token order (row-major).
    public static func coverageCSV(_ c: PatchCoverage) -> String {
        var s = "patch,row,column,covered_pixels,patch_pixels,covered_fraction,any_pixel\n"
        let f = c.fractions
        for i in 0..<c.grid.count {
            s += "\(i),\(i / c.grid.columns),\(i % c.grid.columns),\(c.coveredPixels[i]),\(c.patchPixels[i]),\(f[i]),\(c.coveredPixels[i] > 0 ? 1 : 0)\n"
        }
        return s
    }

    /// Writes text through a temporary file renamed into place (never a half-written file).
    public static func writeAtomically(_ text: String, to url: URL) throws {
        do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
            throw OutputError.cannotWrite(file: url.path, reason: error.localizedDescription)
        }
    }
}

/// What to extract for `clvs-trace mask`: one annotation, or the union of a category's (or all)
/// instances in one image, optionally carried onto the model's patch grid.
public struct MaskRequest: Sendable {
    public var imageID: Int
    /// Object name (COCO, POPE or AMBER; see `ObjectNames`). Nil with no `annotationID`: all instances.
    public var category: String?
    /// One annotation instead of a union.
    public var annotationID: Int?
    /// Original size, when the image is not listed in the file.
    public var imageSize: PixelSize?
    /// Patch grid of the image token span (nil: no grid coverage).
    public var grid: PatchGrid?
    /// Geometry options, as `ImageGeometry.clipPreprocessor`.
    public var padToSquare: Bool
    /// Shortest-edge resize; nil = the crop's shorter side, or no resize without a crop.
    public var shortestEdge: Int?
    public var crop: PixelSize?

    /// A request; see the properties.
    public init(imageID: Int, category: String? = nil, annotationID: Int? = nil, imageSize: PixelSize? = nil,
                grid: PatchGrid? = nil, padToSquare: Bool = false, shortestEdge: Int? = nil, crop: PixelSize? = nil) {
        self.imageID = imageID; self.category = category; self.annotationID = annotationID; self.imageSize = imageSize
        self.grid = grid; self.padToSquare = padToSquare; self.shortestEdge = shortestEdge; self.crop = crop
    }
}

/// The mask of a `MaskRequest`, its summary, and its grid coverage.
public struct MaskResult: Sendable {
    public let rle: RLE
    public let coverage: PatchCoverage?
    public let summary: Summary

    /// Printable facts about the mask (JSON via `json()`).
    public struct Summary: Sendable, Equatable, Codable {
        public let imageID: Int
        public let category: String?
        public let annotationIDs: [Int]
        /// `[width, height]` of the mask (the original image).
        public let size: [Int]
        public let area: Int
        /// `[x, y, w, h]` (pycocotools `toBbox`).
        public let bbox: [Double]
        /// Compressed RLE string (pycocotools `counts`).
        public let counts: String
        public let geometry: ImageGeometry?
        public let grid: PatchGrid?
        /// Patches with at least one covered pixel.
        public let patchesAnyPixel: Int?
        /// Sum of the per-patch covered fractions.
        public let coveredFractionSum: Double?

        /// Pretty JSON with sorted keys.
        public func json() throws -> String {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            return String(decoding: try enc.encode(self), as: UTF8.self)
        }
    }

    /// Builds the mask from an instances file, following the request.
    public init(dataset: COCODataset, request r: MaskRequest) throws {
        let size = r.imageSize.map { (height: $0.height, width: $0.width) }
        let rle: RLE
        let ids: [Int]
        var categoryName: String? = nil
        if let annotationID = r.annotationID {
            let ann = try dataset.annotation(id: annotationID)
            guard ann.imageID == r.imageID else {
                throw COCOError.annotationNotOnImage(file: dataset.file, annotationID: annotationID, imageID: r.imageID)
            }
            rle = try dataset.rle(of: ann, imageSize: size)
            ids = [ann.id]
            categoryName = dataset.category(id: ann.categoryID)?.name
        } else {
            var categoryID: Int? = nil
            if let name = r.category {
                let c = try dataset.category(named: name)
                categoryID = c.id
                categoryName = c.name
            }
            rle = try dataset.unionMask(imageID: r.imageID, categoryID: categoryID, imageSize: size)
            ids = dataset.annotations(imageID: r.imageID, categoryID: categoryID).map(\.id)
        }
        var geometry: ImageGeometry? = nil
        var coverage: PatchCoverage? = nil
        if let grid = r.grid {
            let g = try ImageGeometry.clipPreprocessor(
                originalWidth: rle.width, originalHeight: rle.height, padToSquare: r.padToSquare,
                shortestEdge: r.shortestEdge ?? r.crop.map { min($0.width, $0.height) },
                crop: r.crop.map { ($0.width, $0.height) })
            geometry = g
            coverage = try MaskMapping.coverage(of: rle, geometry: g, grid: grid)
        }
        self.rle = rle
        self.coverage = coverage
        self.summary = Summary(imageID: r.imageID, category: categoryName, annotationIDs: ids, size: [rle.width, rle.height],
                               area: rle.area, bbox: rle.bbox, counts: rle.compressedString, geometry: geometry, grid: r.grid,
                               patchesAnyPixel: coverage.map { $0.anyPixel.filter { $0 }.count },
                               coveredFractionSum: coverage.map { $0.fractions.reduce(0, +) })
    }
}
