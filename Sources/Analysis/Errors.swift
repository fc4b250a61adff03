/// Errors of the COCO mask code (RLE, polygons, annotation files).
///
/// Every case carries a `context` naming where the bad value came from (a file and a JSON path
/// such as `instances.json: annotations[3].segmentation.counts`, or a function argument).
public enum MaskError: Error, CustomStringConvertible, Equatable {
    /// A compressed RLE string holds a character outside `'0'...'o'` (ASCII 48-111).
    case badRLECharacter(context: String, position: Int, character: String)
    /// A compressed RLE string ends inside a multi-character value, or a value is too long.
    case malformedRLEString(context: String, position: Int, reason: String)
    /// A run length is negative.
    case negativeRun(context: String, index: Int, value: Int)
    /// The runs do not cover exactly `height * width` pixels.
    case countsDoNotCoverMask(context: String, sum: Int, expected: Int)
    /// Height or width is not positive, or too large.
    case invalidSize(context: String, height: Int, width: Int)
    /// Masks that must have the same size do not.
    case sizeMismatch(context: String, first: [Int], second: [Int])
    /// A mask buffer does not have `height * width` elements.
    case bufferSize(context: String, count: Int, expected: Int)
    /// A polygon or box coordinate is not finite or is absurdly far from the image.
    case badCoordinate(context: String, value: Double)
    /// Nothing to merge.
    case emptyMerge(context: String)
    /// A box is not `[x, y, w, h]`.
    case invalidBox(context: String, count: Int)

    public var description: String {
        switch self {
        case let .badRLECharacter(context, position, character):
            return "\(context): bad character '\(character)' at position \(position) of a compressed RLE string (allowed: ASCII 48-111)"
        case let .malformedRLEString(context, position, reason):
            return "\(context): malformed compressed RLE string at position \(position): \(reason)"
        case let .negativeRun(context, index, value):
            return "\(context): RLE run \(index) is negative (\(value))"
        case let .countsDoNotCoverMask(context, sum, expected):
            return "\(context): RLE runs cover \(sum) pixels, expected height*width = \(expected)"
        case let .invalidSize(context, height, width):
            return "\(context): invalid mask size [h, w] = [\(height), \(width)]"
        case let .sizeMismatch(context, first, second):
            return "\(context): mask sizes differ: \(first) vs \(second)"
        case let .bufferSize(context, count, expected):
            return "\(context): mask buffer has \(count) elements, expected \(expected)"
        case let .badCoordinate(context, value):
            return "\(context): coordinate \(value) is not finite or out of range"
        case let .emptyMerge(context):
            return "\(context): nothing to merge (no masks)"
        case let .invalidBox(context, count):
            return "\(context): a box needs 4 numbers [x, y, w, h], got \(count)"
        }
    }
}

/// Errors reading COCO JSON files or looking things up in them.
public enum COCOError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// The JSON is malformed or a field has the wrong type / is missing.
    case invalidJSON(file: String, path: String, reason: String)
    /// A segmentation value has none of the three COCO forms.
    case badSegmentation(file: String, path: String, reason: String)
    /// No image with this id.
    case unknownImage(file: String, imageID: Int)
    /// No annotation with this id.
    case unknownAnnotation(file: String, annotationID: Int)
    /// The annotation is not on the requested image.
    case annotationNotOnImage(file: String, annotationID: Int, imageID: Int)
    /// No category matches this name (after plural and synonym handling).
    case unknownCategory(file: String, name: String)
    /// The image's size is not known (not in `images`, and no size given).
    case missingImageSize(file: String, imageID: Int)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read: \(reason)"
        case let .invalidJSON(file, path, reason):
            return "\(file): \(path.isEmpty ? "(top level)" : path): \(reason)"
        case let .badSegmentation(file, path, reason):
            return "\(file): \(path): bad segmentation: \(reason)"
        case let .unknownImage(file, imageID):
            return "\(file): no image with id \(imageID) in `images`"
        case let .unknownAnnotation(file, annotationID):
            return "\(file): no annotation with id \(annotationID) in `annotations`"
        case let .annotationNotOnImage(file, annotationID, imageID):
            return "\(file): annotation \(annotationID) belongs to another image than \(imageID)"
        case let .unknownCategory(file, name):
            return "\(file): no category matches the object name '\(name)' (checked COCO names, plurals and synonyms)"
        case let .missingImageSize(file, imageID):
            return "\(file): image \(imageID) is not in `images`, so its size is unknown (give it explicitly)"
        }
    }
}

/// Errors of the geometry and token-grid code.
public enum GridError: Error, CustomStringConvertible, Equatable {
    /// A size, grid or crop value is not positive.
    case invalidValue(context: String, value: String)
    /// The grid has more columns or rows than the model's input image has pixels.
    case gridTooFine(columns: Int, rows: Int, width: Int, height: Int)
    /// The mask's size differs from the geometry's original image size.
    case maskSizeMismatch(maskWidth: Int, maskHeight: Int, geometryWidth: Int, geometryHeight: Int)

    public var description: String {
        switch self {
        case let .invalidValue(context, value):
            return "\(context): invalid value '\(value)'"
        case let .gridTooFine(columns, rows, width, height):
            return "patch grid \(columns)x\(rows) is finer than the \(width)x\(height) model input (empty patches)"
        case let .maskSizeMismatch(mw, mh, gw, gh):
            return "mask is \(mw)x\(mh) but the image geometry's original is \(gw)x\(gh)"
        }
    }
}

/// Errors of the attention analyses (key-object attention, peak layer, relative increase).
public enum AttentionAnalysisError: Error, CustomStringConvertible, Equatable {
    /// The value buffer does not match the declared shape.
    case shapeMismatch(context: String, count: Int, expected: Int)
    /// The number of image tokens differs from the patch grid's cell count.
    case tokenCountMismatch(tokens: Int, gridCells: Int)
    /// A value is NaN or infinite.
    case nonFinite(context: String, index: Int)
    /// Empty input where at least one value is needed.
    case empty(context: String)
    /// Two per-layer series have different lengths.
    case lengthMismatch(context: String, first: Int, second: Int)
    /// A layer index or range is outside the series.
    case layerOutOfRange(context: String, layer: Int, layers: Int)

    public var description: String {
        switch self {
        case let .shapeMismatch(context, count, expected):
            return "\(context): \(count) values, expected \(expected) for the declared shape"
        case let .tokenCountMismatch(tokens, cells):
            return "the image span has \(tokens) tokens but the patch grid has \(cells) cells"
        case let .nonFinite(context, index):
            return "\(context): value \(index) is not finite"
        case let .empty(context):
            return "\(context): empty input"
        case let .lengthMismatch(context, first, second):
            return "\(context): lengths differ (\(first) vs \(second))"
        case let .layerOutOfRange(context, layer, layers):
            return "\(context): layer \(layer) is outside 0..<\(layers)"
        }
    }
}

/// Errors of the statistics code.
public enum StatisticsError: Error, CustomStringConvertible, Equatable {
    /// Fewer observations than the method needs.
    case tooFewObservations(context: String, count: Int, minimum: Int)
    /// Two samples that must pair up have different lengths.
    case lengthMismatch(context: String, first: Int, second: Int)
    /// An input is constant, so the statistic is not defined (scipy returns NaN here).
    case constantInput(context: String)
    /// A value is NaN or infinite.
    case nonFinite(context: String, index: Int)
    /// A binary variable holds something other than 0 and 1.
    case notBinary(context: String, index: Int, value: Double)
    /// A parameter is outside its domain (e.g. a negative shape of the beta function).
    case domain(context: String, value: Double)
    /// An iteration did not converge (should not happen for valid input).
    case noConvergence(context: String, iterations: Int)
    /// The design matrix is singular (collinear features).
    case singularDesign(context: String)

    public var description: String {
        switch self {
        case let .tooFewObservations(context, count, minimum):
            return "\(context): \(count) observations, at least \(minimum) needed"
        case let .lengthMismatch(context, first, second):
            return "\(context): lengths differ (\(first) vs \(second))"
        case let .constantInput(context):
            return "\(context): input is constant, the statistic is not defined"
        case let .nonFinite(context, index):
            return "\(context): value \(index) is not finite"
        case let .notBinary(context, index, value):
            return "\(context): value \(index) is \(value), expected 0 or 1"
        case let .domain(context, value):
            return "\(context): \(value) is outside the domain"
        case let .noConvergence(context, iterations):
            return "\(context): no convergence after \(iterations) iterations"
        case let .singularDesign(context):
            return "\(context): the design matrix is singular (collinear or constant features)"
        }
    }
}

/// Errors writing output files.
public enum OutputError: Error, CustomStringConvertible, Equatable {
    case cannotWrite(file: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotWrite(file, reason): return "\(file): cannot write: \(reason)"
        }
    }
}
