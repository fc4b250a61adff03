/// The record of what the preprocessor did to an image, so masks, overlays and token grids can
/// follow exactly the same path.
///
/// The pipeline is: original (`originalWidth` x `originalHeight`)
/// -> optional pad to square (`pad`: the original is pasted at `offsetX, offsetY` on a
///    `size` x `size` canvas filled with the mean colour; LLaVA's `image_aspect_ratio=pad`)
/// -> resize to `resizedWidth` x `resizedHeight`
/// -> centre crop: the output pixel (x, y) is the resized pixel (x + cropX, y + cropY); the output
///    is `outputWidth` x `outputHeight`. `cropX`/`cropY` may be negative when the resized image
///    is smaller than the crop (the crop then pads with zeros, as Hugging Face's `center_crop` does).
///
/// All coordinates are in pixels. Continuous coordinates use the pixel-area convention: pixel `i`
/// covers `[i, i + 1)`, its centre is `i + 0.5`.
public struct ImageGeometry: Codable, Sendable, Equatable {
    public struct Pad: Codable, Sendable, Equatable {
        /// Side of the square canvas.
        public var size: Int
        /// Where the original's top-left corner lands on the canvas.
        public var offsetX: Int
        public var offsetY: Int
        public init(size: Int, offsetX: Int, offsetY: Int) {
            self.size = size
            self.offsetX = offsetX
            self.offsetY = offsetY
        }
    }

    public var originalWidth: Int
    public var originalHeight: Int
    public var pad: Pad?
    public var resizedWidth: Int
    public var resizedHeight: Int
    public var cropX: Int
    public var cropY: Int
    public var outputWidth: Int
    public var outputHeight: Int

    public init(originalWidth: Int, originalHeight: Int, pad: Pad?, resizedWidth: Int, resizedHeight: Int,
                cropX: Int, cropY: Int, outputWidth: Int, outputHeight: Int) {
        self.originalWidth = originalWidth
        self.originalHeight = originalHeight
        self.pad = pad
        self.resizedWidth = resizedWidth
        self.resizedHeight = resizedHeight
        self.cropX = cropX
        self.cropY = cropY
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
    }

    /// Size of the image that was resized (the padded canvas, or the original).
    public var preResizeWidth: Int { pad?.size ?? originalWidth }
    public var preResizeHeight: Int { pad?.size ?? originalHeight }

    /// Maps a continuous point of the model's input image (output of the pipeline) back to the
    /// original image's continuous coordinates. The result can fall outside the original
    /// (padding or crop borders).
    public func outputToOriginal(x: Double, y: Double) -> (x: Double, y: Double) {
        let rx = x + Double(cropX)
        let ry = y + Double(cropY)
        let sx = Double(preResizeWidth) / Double(resizedWidth)
        let sy = Double(preResizeHeight) / Double(resizedHeight)
        var ox = rx * sx
        var oy = ry * sy
        if let pad {
            ox -= Double(pad.offsetX)
            oy -= Double(pad.offsetY)
        }
        return (ox, oy)
    }

    /// Maps a continuous point of the original image to the model's input image.
    public func originalToOutput(x: Double, y: Double) -> (x: Double, y: Double) {
        var px = x
        var py = y
        if let pad {
            px += Double(pad.offsetX)
            py += Double(pad.offsetY)
        }
        let sx = Double(resizedWidth) / Double(preResizeWidth)
        let sy = Double(resizedHeight) / Double(preResizeHeight)
        return (px * sx - Double(cropX), py * sy - Double(cropY))
    }
}
