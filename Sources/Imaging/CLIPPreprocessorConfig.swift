import Foundation

/// Errors from reading or checking a `preprocessor_config.json`. Each names the file and field.
public enum CLIPConfigError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// The file is not a JSON object.
    case invalidJSON(file: String, reason: String)
    /// A field has the wrong type or an invalid value. `file` is nil for configs built in code.
    case invalidField(file: String?, field: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read preprocessor config: \(reason)"
        case let .invalidJSON(file, reason): return "\(file): not a valid preprocessor config JSON object: \(reason)"
        case let .invalidField(file, field, reason):
            return "\(file ?? "<preprocessor config>"): field '\(field)': \(reason)"
        }
    }
}

/// Mirror of a Hugging Face CLIP `preprocessor_config.json`, with the defaults of transformers'
/// `CLIPImageProcessorPil` for omitted (or null) keys. Unknown keys are ignored.
///
/// Accepted spellings, as transformers' `get_size_dict` accepts them for CLIP: `size` is an Int
/// (shortest edge), `{"shortest_edge": n}`, `{"height": h, "width": w}` or `[h, w]`; `crop_size`
/// is an Int (square), `{"height": h, "width": w}` or `[h, w]`; `image_mean`/`image_std` are a
/// number (repeated for the 3 channels) or 3 numbers.
public struct CLIPPreprocessorConfig: Codable, Sendable, Equatable {
    /// The `size` entry: how the resize step chooses its output size.
    public enum Size: Sendable, Equatable {
        /// Scale so the shorter side is `n`; the longer is `int(n * long / short)`.
        case shortestEdge(Int)
        /// Resize to exactly `height` x `width`.
        case exact(height: Int, width: Int)
    }

    /// A `height` x `width` pair (`crop_size`).
    public struct HeightWidth: Codable, Sendable, Equatable {
        public var height: Int
        public var width: Int
        /// A `height` x `width` size.
        public init(height: Int, width: Int) {
            self.height = height
            self.width = width
        }
    }

    /// `do_resize`: run the resize step.
    public var doResize: Bool = true
    /// `size`: the resize target (default shortest edge 224).
    public var size: Size = .shortestEdge(224)
    /// Pillow `Image.Resampling` value (3 = BICUBIC; 1, 2, 4, 5 are supported too).
    public var resample: Int = 3
    /// `do_center_crop`: run the centre crop step.
    public var doCenterCrop: Bool = true
    /// `crop_size`: the model input size (default 224 x 224).
    public var cropSize: HeightWidth = HeightWidth(height: 224, width: 224)
    /// `do_rescale`: multiply uint8 values by `rescaleFactor` (in float64, then to float32).
    public var doRescale: Bool = true
    /// `rescale_factor` (default 1/255).
    public var rescaleFactor: Double = 1.0 / 255.0
    /// `do_normalize`: subtract `imageMean` and divide by `imageStd` (float32).
    public var doNormalize: Bool = true
    /// [3] per-channel mean (R, G, B). Defaults to OpenAI CLIP's.
    public var imageMean: [Double] = [0.48145466, 0.4578275, 0.40821073]
    /// [3] per-channel standard deviation (R, G, B). Defaults to OpenAI CLIP's.
    public var imageStd: [Double] = [0.26862954, 0.26130258, 0.27577711]
    /// `do_convert_rgb`: kept for fidelity; an `RGBImage` is always RGB already.
    public var doConvertRGB: Bool = true

    /// A config with all defaults (transformers' `CLIPImageProcessorPil()`).
    public init() {}

    enum CodingKeys: String, CodingKey {
        case doResize = "do_resize", size, resample, doCenterCrop = "do_center_crop", cropSize = "crop_size"
        case doRescale = "do_rescale", rescaleFactor = "rescale_factor", doNormalize = "do_normalize"
        case imageMean = "image_mean", imageStd = "image_std", doConvertRGB = "do_convert_rgb"
    }

    private struct SizeKeys: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Decodes a `preprocessor_config.json` object (see the type's doc for accepted spellings).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func bool(_ key: CodingKeys, _ current: Bool) throws -> Bool {
            try c.decodeIfPresent(Bool.self, forKey: key) ?? current
        }
        doResize = try bool(.doResize, doResize)
        doCenterCrop = try bool(.doCenterCrop, doCenterCrop)
        doRescale = try bool(.doRescale, doRescale)
        doNormalize = try bool(.doNormalize, doNormalize)
        doConvertRGB = try bool(.doConvertRGB, doConvertRGB)
        resample = try c.decodeIfPresent(Int.self, forKey: .resample) ?? resample
        rescaleFactor = try c.decodeIfPresent(Double.self, forKey: .rescaleFactor) ?? rescaleFactor
        if let s = try Self.decodeSizeLike(c, .size, intMeans: { .shortestEdge($0) }) { size = s }
        if let s = try Self.decodeSizeLike(c, .cropSize, intMeans: { .exact(height: $0, width: $0) }) {
            switch s {
            case let .exact(h, w): cropSize = HeightWidth(height: h, width: w)
            case .shortestEdge:
                throw DecodingError.dataCorruptedError(
                    forKey: .cropSize, in: c, debugDescription: "crop_size needs height and width, not shortest_edge")
            }
        }
        if let m = try Self.decodeChannels(c, .imageMean) { imageMean = m }
        if let s = try Self.decodeChannels(c, .imageStd) { imageStd = s }
    }

    private static func decodeSizeLike(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys,
                                       intMeans: (Int) -> Size) throws -> Size? {
        guard c.contains(key), try !c.decodeNil(forKey: key) else { return nil }
        if let n = try? c.decode(Int.self, forKey: key) { return intMeans(n) }
        if let list = try? c.decode([Int].self, forKey: key) {
            if list.count == 2 { return .exact(height: list[0], width: list[1]) }
            if list.count == 1 { return intMeans(list[0]) }
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c, debugDescription: "a list must have 1 or 2 entries, got \(list.count)")
        }
        let dict = try c.nestedContainer(keyedBy: SizeKeys.self, forKey: key)
        // Keys whose value is null count as absent (transformers' SizeDict drops None entries).
        let keys = Set(try dict.allKeys.filter { try !dict.decodeNil(forKey: $0) }.map(\.stringValue))
        func get(_ name: String) throws -> Int { try dict.decode(Int.self, forKey: SizeKeys(stringValue: name)) }
        if keys == ["shortest_edge"] { return .shortestEdge(try get("shortest_edge")) }
        if keys == ["height", "width"] { return .exact(height: try get("height"), width: try get("width")) }
        throw DecodingError.dataCorruptedError(
            forKey: key, in: c,
            debugDescription: "unsupported keys \(keys.sorted()); expected {shortest_edge} or {height, width}")
    }

    private static func decodeChannels(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> [Double]? {
        guard c.contains(key), try !c.decodeNil(forKey: key) else { return nil }
        if let v = try? c.decode(Double.self, forKey: key) { return [v, v, v] }
        return try c.decode([Double].self, forKey: key)
    }

    /// Encodes in Hugging Face's form (`size` and `crop_size` as dictionaries).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(doResize, forKey: .doResize)
        var sizeC = c.nestedContainer(keyedBy: SizeKeys.self, forKey: .size)
        switch size {
        case let .shortestEdge(n): try sizeC.encode(n, forKey: SizeKeys(stringValue: "shortest_edge"))
        case let .exact(h, w):
            try sizeC.encode(h, forKey: SizeKeys(stringValue: "height"))
            try sizeC.encode(w, forKey: SizeKeys(stringValue: "width"))
        }
        try c.encode(resample, forKey: .resample)
        try c.encode(doCenterCrop, forKey: .doCenterCrop)
        try c.encode(cropSize, forKey: .cropSize)
        try c.encode(doRescale, forKey: .doRescale)
        try c.encode(rescaleFactor, forKey: .rescaleFactor)
        try c.encode(doNormalize, forKey: .doNormalize)
        try c.encode(imageMean, forKey: .imageMean)
        try c.encode(imageStd, forKey: .imageStd)
        try c.encode(doConvertRGB, forKey: .doConvertRGB)
    }

    /// Reads and checks a `preprocessor_config.json`.
    public static func load(url: URL) throws -> CLIPPreprocessorConfig {
        let file = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CLIPConfigError.unreadable(file: file, reason: String(describing: error))
        }
        let config: CLIPPreprocessorConfig
        do {
            config = try JSONDecoder().decode(CLIPPreprocessorConfig.self, from: data)
        } catch let error as DecodingError {
            throw Self.mapDecodingError(error, file: file)
        } catch {
            throw CLIPConfigError.invalidJSON(file: file, reason: String(describing: error))
        }
        try config.validate(file: file)
        return config
    }

    private static func mapDecodingError(_ error: DecodingError, file: String) -> CLIPConfigError {
        func path(_ p: [CodingKey]) -> String {
            p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .typeMismatch(type, ctx):
            if ctx.codingPath.isEmpty { return .invalidJSON(file: file, reason: "top level is not an object") }
            return .invalidField(file: file, field: path(ctx.codingPath), reason: "expected \(type): \(ctx.debugDescription)")
        case let .valueNotFound(type, ctx):
            return .invalidField(file: file, field: path(ctx.codingPath), reason: "missing \(type) value")
        case let .keyNotFound(key, ctx):
            return .invalidField(file: file, field: path(ctx.codingPath + [key]), reason: "missing key")
        case let .dataCorrupted(ctx):
            if ctx.codingPath.isEmpty {
                return .invalidJSON(file: file, reason: ctx.underlyingError.map { String(describing: $0) } ?? ctx.debugDescription)
            }
            return .invalidField(file: file, field: path(ctx.codingPath), reason: ctx.debugDescription)
        @unknown default:
            return .invalidJSON(file: file, reason: String(describing: error))
        }
    }

    /// The resampling filter named by `resample`, if supported.
    public var resampleFilter: ResampleFilter? { ResampleFilter(rawValue: resample) }

    /// Checks every field's value; `file` goes into the error message.
    public func validate(file: String? = nil) throws {
        func bad(_ field: String, _ reason: String) -> CLIPConfigError {
            .invalidField(file: file, field: field, reason: reason)
        }
        let maxSide = 1 << 16
        switch size {
        case let .shortestEdge(n):
            if n <= 0 || n > maxSide { throw bad("size.shortest_edge", "must be in 1...\(maxSide), got \(n)") }
        case let .exact(h, w):
            if h <= 0 || h > maxSide { throw bad("size.height", "must be in 1...\(maxSide), got \(h)") }
            if w <= 0 || w > maxSide { throw bad("size.width", "must be in 1...\(maxSide), got \(w)") }
        }
        if cropSize.height <= 0 || cropSize.height > maxSide {
            throw bad("crop_size.height", "must be in 1...\(maxSide), got \(cropSize.height)")
        }
        if cropSize.width <= 0 || cropSize.width > maxSide {
            throw bad("crop_size.width", "must be in 1...\(maxSide), got \(cropSize.width)")
        }
        if doResize && resampleFilter == nil {
            throw bad("resample", "unsupported Pillow filter \(resample) (supported: 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX, 5 HAMMING)")
        }
        if !rescaleFactor.isFinite { throw bad("rescale_factor", "must be finite, got \(rescaleFactor)") }
        if imageMean.count != 3 { throw bad("image_mean", "needs 3 entries (R, G, B), got \(imageMean.count)") }
        if imageStd.count != 3 { throw bad("image_std", "needs 3 entries (R, G, B), got \(imageStd.count)") }
        for (i, m) in imageMean.enumerated() where !m.isFinite {
            throw bad("image_mean[\(i)]", "must be finite, got \(m)")
        }
        for (i, s) in imageStd.enumerated() where !(s.isFinite && Float(s) != 0) {
            throw bad("image_std[\(i)]", "must be finite and non-zero, got \(s)")
        }
    }
}
