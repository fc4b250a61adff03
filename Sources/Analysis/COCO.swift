import Foundation

/// A COCO `segmentation` value in any of its three forms.
public enum Segmentation: Sendable, Equatable, Codable {
    /// Polygons `[[x1, y1, x2, y2, ...], ...]`; several parts are merged by union.
    case polygons([[Double]])
    /// Uncompressed RLE `{"size": [h, w], "counts": [int, ...]}` (crowd annotations).
    case uncompressedRLE(height: Int, width: Int, counts: [Int])
    /// Compressed RLE `{"size": [h, w], "counts": "<string>"}` (results files, panoptic conversions).
    case compressedRLE(height: Int, width: Int, counts: String)

    private enum Keys: String, CodingKey { case size, counts }

    /// Decodes any of the three JSON forms.
    public init(from decoder: Decoder) throws {
        if var list = try? decoder.unkeyedContainer() {
            var parts: [[Double]] = []
            while !list.isAtEnd { parts.append(try list.decode([Double].self)) }
            self = .polygons(parts)
            return
        }
        let c = try decoder.container(keyedBy: Keys.self)
        let size = try c.decode([Int].self, forKey: .size)
        guard size.count == 2 else {
            throw DecodingError.dataCorruptedError(forKey: .size, in: c, debugDescription: "size must be [height, width]")
        }
        if let s = try? c.decode(String.self, forKey: .counts) {
            self = .compressedRLE(height: size[0], width: size[1], counts: s)
        } else {
            self = .uncompressedRLE(height: size[0], width: size[1], counts: try c.decode([Int].self, forKey: .counts))
        }
    }

    /// Encodes back to the COCO JSON form.
    public func encode(to encoder: Encoder) throws {
        switch self {
        case let .polygons(parts):
            var c = encoder.unkeyedContainer()
            for p in parts { try c.encode(p) }
        case let .uncompressedRLE(h, w, counts):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode([h, w], forKey: .size)
            try c.encode(counts, forKey: .counts)
        case let .compressedRLE(h, w, counts):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode([h, w], forKey: .size)
            try c.encode(counts, forKey: .counts)
        }
    }

    /// The mask as pycocotools' `COCO.annToRLE` builds it: polygons -> `frPyObjects` then
    /// `merge` (union of the parts); uncompressed RLE -> `frPyObjects` (its own `size` is used);
    /// compressed RLE -> as is. `imageHeight`/`imageWidth` are the image's size (used for
    /// polygons). A polygon list whose first part has exactly 4 numbers is rasterised as a
    /// (degenerate) polygon; pycocotools would take it for a box and fail on a plain list.
    public func rle(imageHeight: Int, imageWidth: Int, context: String = "segmentation") throws -> RLE {
        switch self {
        case let .polygons(parts):
            guard !parts.isEmpty else { throw MaskError.emptyMerge(context: context) }
            let rles = try RLE.polygons(parts, height: imageHeight, width: imageWidth, context: context)
            return try RLE.merge(rles, context: context)
        case let .uncompressedRLE(h, w, counts):
            return try RLE(height: h, width: w, counts: counts, context: context + ".counts")
        case let .compressedRLE(h, w, counts):
            return try RLE(compressed: counts, height: h, width: w, context: context + ".counts")
        }
    }
}

/// One entry of a COCO file's `images`.
public struct COCOImage: Codable, Sendable, Equatable {
    public var id: Int
    public var width: Int
    public var height: Int
    public var fileName: String?

    enum CodingKeys: String, CodingKey { case id, width, height, fileName = "file_name" }

    /// An image entry.
    public init(id: Int, width: Int, height: Int, fileName: String? = nil) {
        self.id = id; self.width = width; self.height = height; self.fileName = fileName
    }
}

/// One entry of a COCO file's `categories` (ids are not contiguous: 1...90 for the 80 classes).
public struct COCOCategory: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String
    public var supercategory: String?

    /// A category entry.
    public init(id: Int, name: String, supercategory: String? = nil) {
        self.id = id; self.name = name; self.supercategory = supercategory
    }
}

/// One entry of a COCO file's `annotations`.
public struct COCOAnnotation: Codable, Sendable, Equatable {
    public var id: Int
    public var imageID: Int
    public var categoryID: Int
    public var segmentation: Segmentation?
    /// COCO's `area` (for polygons the float polygon area, not the pixel count).
    public var area: Double?
    /// `[x, y, w, h]`.
    public var bbox: [Double]?
    public var iscrowd: Int?

    enum CodingKeys: String, CodingKey {
        case id, segmentation, area, bbox, iscrowd
        case imageID = "image_id", categoryID = "category_id"
    }
}

/// One entry of a detection / segmentation results file (a JSON array).
public struct COCOResult: Codable, Sendable, Equatable {
    public var imageID: Int
    public var categoryID: Int
    public var segmentation: Segmentation?
    /// `[x, y, w, h]`.
    public var bbox: [Double]?
    public var score: Double?

    enum CodingKeys: String, CodingKey {
        case segmentation, bbox, score
        case imageID = "image_id", categoryID = "category_id"
    }
}

/// A COCO instances file (`images`, `annotations`, `categories`), with lookups.
public struct COCODataset: Sendable {
    /// Name used in error messages (the file's path).
    public let file: String
    public let images: [COCOImage]
    public let annotations: [COCOAnnotation]
    public let categories: [COCOCategory]
    private let imageIndex: [Int: Int]
    private let annotationIndex: [Int: Int]

    private struct Raw: Decodable {
        var images: [COCOImage]?
        var annotations: [COCOAnnotation]?
        var categories: [COCOCategory]?
    }

    /// Reads an instances JSON file.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw COCOError.unreadable(file: url.path, reason: "\(error.localizedDescription)")
        }
        try self.init(data: data, file: url.path)
    }

    /// Parses instances JSON; `file` names the source in errors.
    public init(data: Data, file: String) throws {
        let raw = try decodeCOCOJSON(Raw.self, from: data, file: file)
        self.file = file
        self.images = raw.images ?? []
        self.annotations = raw.annotations ?? []
        self.categories = raw.categories ?? []
        var ii: [Int: Int] = [:]
        for (i, im) in images.enumerated() where ii[im.id] == nil { ii[im.id] = i }
        var ai: [Int: Int] = [:]
        for (i, a) in annotations.enumerated() where ai[a.id] == nil { ai[a.id] = i }
        imageIndex = ii
        annotationIndex = ai
    }

    /// The image with this id, if listed.
    public func image(id: Int) -> COCOImage? { imageIndex[id].map { images[$0] } }

    /// The annotation with this id.
    public func annotation(id: Int) throws -> COCOAnnotation {
        guard let i = annotationIndex[id] else { throw COCOError.unknownAnnotation(file: file, annotationID: id) }
        return annotations[i]
    }

    /// The category with this id, if listed.
    public func category(id: Int) -> COCOCategory? { categories.first { $0.id == id } }

    /// Annotations of one image (optionally only one category), in file order.
    public func annotations(imageID: Int, categoryID: Int? = nil) -> [COCOAnnotation] {
        annotations.filter { $0.imageID == imageID && (categoryID == nil || $0.categoryID == categoryID) }
    }

    /// The category a POPE / AMBER / COCO object name refers to (see `ObjectNames`).
    public func category(named name: String) throws -> COCOCategory {
        guard let c = ObjectNames.resolve(name, in: categories) else {
            throw COCOError.unknownCategory(file: file, name: name)
        }
        return c
    }

    /// `(height, width)` of an image, from `images`.
    public func imageSize(id: Int) throws -> (height: Int, width: Int) {
        guard let im = image(id: id) else { throw COCOError.missingImageSize(file: file, imageID: id) }
        return (im.height, im.width)
    }

    /// The annotation's mask (pycocotools `annToRLE`). `imageSize` overrides the size from
    /// `images` (needed for polygons of an image that is not listed).
    public func rle(of annotation: COCOAnnotation, imageSize: (height: Int, width: Int)? = nil) throws -> RLE {
        let context = "\(file): annotations[id=\(annotation.id)].segmentation"
        guard let seg = annotation.segmentation else {
            throw COCOError.badSegmentation(file: file, path: "annotations[id=\(annotation.id)]", reason: "no segmentation")
        }
        let size: (height: Int, width: Int)
        if let imageSize { size = imageSize } else if case .polygons = seg {
            size = try self.imageSize(id: annotation.imageID)
        } else {
            size = (0, 0) // RLE forms carry their own size
        }
        return try seg.rle(imageHeight: size.height, imageWidth: size.width, context: context)
    }

    /// The key-object mask: union of all instances (crowd included) of one category in one image.
    /// An image without such instances gives an empty mask of the image's size.
    public func unionMask(imageID: Int, categoryID: Int?, imageSize: (height: Int, width: Int)? = nil) throws -> RLE {
        let anns = annotations(imageID: imageID, categoryID: categoryID)
        let size = try imageSize ?? self.imageSize(id: imageID)
        if anns.isEmpty { return try RLE.empty(height: size.height, width: size.width) }
        let rles = try anns.map { try rle(of: $0, imageSize: size) }
        return try RLE.merge(rles, context: "\(file): union of image \(imageID)")
    }
}

/// Reads a results file: a JSON array of `{image_id, category_id, segmentation, score}`.
public func loadCOCOResults(contentsOf url: URL) throws -> [COCOResult] {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
        throw COCOError.unreadable(file: url.path, reason: "\(error.localizedDescription)")
    }
    return try decodeCOCOJSON([COCOResult].self, from: data, file: url.path)
}

/// Decodes JSON, turning `DecodingError` into a `COCOError` naming the file and the JSON path.
func decodeCOCOJSON<T: Decodable>(_ type: T.Type, from data: Data, file: String) throws -> T {
    do {
        return try JSONDecoder().decode(type, from: data)
    } catch let error as DecodingError {
        func path(_ keys: [CodingKey]) -> String {
            var s = ""
            for k in keys {
                if let i = k.intValue { s += "[\(i)]" } else { s += s.isEmpty ? k.stringValue : ".\(k.stringValue)" }
            }
            return s
        }
        switch error {
        case let .typeMismatch(_, ctx), let .valueNotFound(_, ctx), let .dataCorrupted(ctx):
            throw COCOError.invalidJSON(file: file, path: path(ctx.codingPath), reason: ctx.debugDescription)
        case let .keyNotFound(key, ctx):
            throw COCOError.invalidJSON(file: file, path: path(ctx.codingPath + [key]), reason: "missing key")
        @unknown default:
            throw COCOError.invalidJSON(file: file, path: "", reason: "\(error)")
        }
    }
}
