import Analysis
import Foundation
import Imaging

/// The key object of a question on the image's patch grid (the union of its COCO instances,
/// mapped through the image's preprocessing geometry; a patch is "on" the object if any of its
/// pixels is covered).
public struct KeyObject: Sendable {
    /// The COCO category name.
    public var name: String
    /// [gridRows * gridColumns] row-major.
    public var tokens: [Bool]
    /// Covered fraction per patch, same order.
    public var fractions: [Double]

    /// Builds the key object from a COCO instances file: `category` may be a POPE/AMBER name
    /// (plurals and synonyms are mapped). `imageID` defaults to the digits of `imageFile`'s name
    /// (COCO file names carry the id).
    public init(annotations: URL, category: String, imageID: Int?, imageFile: URL,
                geometry: ImageGeometry, gridColumns: Int, gridRows: Int) throws {
        let dataset = try COCODataset(contentsOf: annotations)
        let id: Int
        if let imageID {
            id = imageID
        } else {
            let digits = imageFile.deletingPathExtension().lastPathComponent.split(whereSeparator: { !$0.isNumber }).last
            guard let d = digits, let parsed = Int(d) else {
                throw TraceError.io(path: imageFile.path, reason: "no COCO image id in the file name; pass --image-id")
            }
            id = parsed
        }
        guard let cat = ObjectNames.resolve(category, in: dataset.categories) else {
            throw TraceError.io(path: annotations.path, reason: "no COCO category matches '\(category)'")
        }
        let size = (height: geometry.originalHeight, width: geometry.originalWidth)
        if let known = dataset.image(id: id), known.width != size.width || known.height != size.height {
            throw TraceError.io(path: annotations.path, reason: "image \(id) is \(known.width)x\(known.height) in the annotations, but the image file is \(size.width)x\(size.height)")
        }
        let rle = try dataset.unionMask(imageID: id, categoryID: cat.id, imageSize: size)
        let cov = try MaskMapping.coverage(of: rle, geometry: geometry, grid: PatchGrid(columns: gridColumns, rows: gridRows))
        name = cat.name
        tokens = cov.keyTokens(minFraction: 0)
        fractions = cov.fractions
    }

    public init(name: String, tokens: [Bool], fractions: [Double]) {
        self.name = name
        self.tokens = tokens
        self.fractions = fractions
    }
}

extension TraceView {
    /// The generating row's attention over the patch grid per layer and head at `step`:
    /// [L * H * gridRows * gridColumns].
    public func gridAttentionPerHead(step: Int) -> [Float] {
        let span = manifest.imageSpan
        let k = keyCounts[step], a = attention[step]
        let first = span.start + span.gridOffset, n = span.gridColumns * span.gridRows
        var out = [Float](repeating: 0, count: layers * heads * n)
        for r in 0..<(layers * heads) {
            for i in 0..<n { out[r * n + i] = a[r * k + first + i] }
        }
        return out
    }

    /// Key-object attention per layer at `step` (`a_l = sum over key tokens of the head-pooled
    /// attention`, `clvs-method.md`), via the Analysis target's definition.
    public func keyObjectAttention(step: Int, key: KeyObject, pooling: Analysis.HeadPooling = .mean) throws -> KeyObjectAttention {
        let span = manifest.imageSpan
        let visual = try VisualAttention(layers: layers, heads: heads, tokens: span.gridColumns * span.gridRows,
                                         values: gridAttentionPerHead(step: step))
        return try KeyObjectAttention(attention: visual, keyTokens: key.tokens, pooling: pooling)
    }
}
