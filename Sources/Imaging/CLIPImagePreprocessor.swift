/// A model input image: normalised pixel values plus the record of how they were made.
public struct PreprocessedImage: Sendable, Equatable {
    /// [3, height, width] channel-first float32 (R, G, B planes).
    public var pixelValues: [Float]
    /// Output width (the crop width, or the resized width without crop).
    public var width: Int
    /// Output height.
    public var height: Int
    /// What the pipeline did to the original image (pad, resize, crop).
    public var geometry: ImageGeometry

    /// Wraps already computed values.
    public init(pixelValues: [Float], width: Int, height: Int, geometry: ImageGeometry) {
        self.pixelValues = pixelValues
        self.width = width
        self.height = height
        self.geometry = geometry
    }
}

/// CLIP image preprocessing, numerically identical to transformers' `CLIPImageProcessorPil`
/// (the PIL backend; transformers 5.x) applied to an RGB image:
///
/// 1. optional pad to square (`padToSquare`, LLaVA's `image_aspect_ratio == "pad"`): the
///    original LLaVA `expand2square` with background `tuple(int(x * 255) for x in image_mean)`;
/// 2. resize (`do_resize`) with Pillow's filter on uint8: `shortest_edge` n gives
///    `int(n * long / short)` for the longer side; an exact size is used as is;
/// 3. centre crop (`do_center_crop`) with offsets `(resized - crop) // 2`, zero-padded when the
///    resized image is smaller than the crop;
/// 4. rescale (`do_rescale`): `float32(float64(v) * rescale_factor)`;
/// 5. normalise (`do_normalize`): `(x - float32(mean)) / float32(std)` in float32.
///
/// Every output value depends only on the uint8 pixel and channel, so steps 4-5 are a lookup.
/// RGB conversion (`do_convert_rgb`) has nothing to do: an `RGBImage` is already RGB (and
/// `ImageIO` drops alpha, like `Image.open(f).convert("RGB")`; note transformers' own
/// `convert_to_rgb` composites RGBA images onto white when handed a PIL RGBA image).
public struct CLIPImagePreprocessor: Sendable {
    /// The preprocessor_config.json settings.
    public var config: CLIPPreprocessorConfig
    /// Pad to a square of the mean colour before the normal pipeline (LLaVA `pad` mode).
    public var padToSquare: Bool

    /// A preprocessor for `config`; `padToSquare` enables LLaVA's `expand2square` first.
    public init(config: CLIPPreprocessorConfig, padToSquare: Bool = false) {
        self.config = config
        self.padToSquare = padToSquare
    }

    /// The `expand2square` background: `int(mean * 255)` per channel (clamped to 0...255).
    public var padFill: (UInt8, UInt8, UInt8) {
        func c(_ i: Int) -> UInt8 {
            guard i < config.imageMean.count else { return 0 }
            let v = config.imageMean[i] * 255
            guard v.isFinite else { return 0 }
            return UInt8(max(0, min(255, Int(v))))  // Int() truncates toward zero, like Python int()
        }
        return (c(0), c(1), c(2))
    }

    /// The resize output size (width, height) for an input of `width` x `height`, computed as
    /// transformers' `get_resize_output_image_size(default_to_square=False)` does.
    public func resizedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        guard config.doResize else { return (width, height) }
        switch config.size {
        case let .exact(h, w):
            return (w, h)
        case let .shortestEdge(n):
            let (short, long) = width <= height ? (width, height) : (height, width)
            // Python: int(n * long / short), a true division in double then truncation.
            let newLong = Int(Double(n * long) / Double(short))
            return width <= height ? (n, newLong) : (newLong, n)
        }
    }

    /// The geometry record for an original of `width` x `height`, without touching pixels.
    /// With `padToSquare` the record always has a `pad` (for a square original it is the no-op
    /// `Pad(size: width, offsetX: 0, offsetY: 0)`).
    public func geometry(width: Int, height: Int) -> ImageGeometry {
        let pad: ImageGeometry.Pad? = padToSquare ? ImageGeometry.Pad.square(width: width, height: height) : nil
        let preW = pad?.size ?? width
        let preH = pad?.size ?? height
        let (rw, rh) = resizedSize(width: preW, height: preH)
        var cropX = 0, cropY = 0, outW = rw, outH = rh
        if config.doCenterCrop {
            outW = config.cropSize.width
            outH = config.cropSize.height
            (cropX, cropY) = centerCropOffsets(sourceWidth: rw, sourceHeight: rh, width: outW, height: outH)
        }
        return ImageGeometry(originalWidth: width, originalHeight: height, pad: pad,
                             resizedWidth: rw, resizedHeight: rh,
                             cropX: cropX, cropY: cropY, outputWidth: outW, outputHeight: outH)
    }

    /// [3][256] output value of each uint8 value per channel (rescale then normalise).
    func lookupTables() -> [[Float]] {
        (0..<3).map { c in
            let mean = Float(config.imageMean[c])
            let std = Float(config.imageStd[c])
            return (0..<256).map { v -> Float in
                var x: Float = config.doRescale ? Float(Double(v) * config.rescaleFactor) : Float(v)
                if config.doNormalize { x = (x - mean) / std }
                return x
            }
        }
    }

    /// Runs the pipeline on one image.
    public func callAsFunction(_ image: RGBImage) throws -> PreprocessedImage {
        try config.validate()
        try image.validate()
        guard image.width > 0, image.height > 0 else {
            throw ImagingError.invalidSize(operation: "preprocess (source)", width: image.width, height: image.height)
        }
        let geo = geometry(width: image.width, height: image.height)
        let limit = ImageIO.defaultMaxPixels
        if geo.resizedWidth <= 0 || geo.resizedHeight <= 0
            || geo.resizedWidth.multipliedReportingOverflow(by: geo.resizedHeight).partialValue > limit
            || geo.resizedWidth > limit || geo.resizedHeight > limit {
            throw ImagingError.invalidSize(operation: "preprocess (resize)", width: geo.resizedWidth, height: geo.resizedHeight)
        }
        if geo.outputWidth * geo.outputHeight > limit {
            throw ImagingError.invalidSize(operation: "preprocess (crop)", width: geo.outputWidth, height: geo.outputHeight)
        }
        var work = image
        if padToSquare {
            work = try Imaging.padToSquare(work, fill: padFill)
        }
        if config.doResize, let filter = config.resampleFilter {
            work = try resize(work, width: geo.resizedWidth, height: geo.resizedHeight, filter: filter)
        }
        let outW = geo.outputWidth, outH = geo.outputHeight
        let plane = outW * outH
        let tables = lookupTables()
        var values = [Float](repeating: 0, count: 3 * plane)
        // Output (x, y) reads resized (x + cropX, y + cropY); outside the resized image the uint8
        // value is 0 (Hugging Face's zero padding happens before rescale/normalise).
        for c in 0..<3 {
            let zero = tables[c][0]
            for i in (c * plane)..<((c + 1) * plane) { values[i] = zero }
        }
        let x0 = max(0, -geo.cropX), x1 = min(outW, work.width - geo.cropX)
        if x1 > x0 {
            tables[0].withUnsafeBufferPointer { t0 in
            tables[1].withUnsafeBufferPointer { t1 in
            tables[2].withUnsafeBufferPointer { t2 in
            work.pixels.withUnsafeBufferPointer { src in
            values.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outH {
                    let sy = y + geo.cropY
                    if sy < 0 || sy >= work.height { continue }
                    var s = (sy * work.width + x0 + geo.cropX) * 3
                    var d = y * outW + x0
                    for _ in x0..<x1 {
                        dst[d] = t0[Int(src[s])]
                        dst[plane + d] = t1[Int(src[s + 1])]
                        dst[2 * plane + d] = t2[Int(src[s + 2])]
                        s += 3
                        d += 1
                    }
                }
            }}}}}
        }
        return PreprocessedImage(pixelValues: values, width: outW, height: outH, geometry: geo)
    }
}
