/// Python's floor division `a // b` for b > 0.
@inline(__always)
func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// Offsets of Hugging Face's `center_crop`: output pixel (x, y) is source pixel
/// (x + offsetX, y + offsetY), with `offset = (source - crop) // 2` (floor division, so negative
/// when the crop is larger than the source; those pixels are zero).
public func centerCropOffsets(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) -> (x: Int, y: Int) {
    (floorDiv(sourceWidth - width, 2), floorDiv(sourceHeight - height, 2))
}

/// Centre crop as Hugging Face's `center_crop` does it: a `width` x `height` window centred with
/// `centerCropOffsets`; where the window leaves the image (image smaller than the crop) the
/// pixels are `fill` (Hugging Face pads with zeros).
public func centerCrop(_ image: RGBImage, width: Int, height: Int,
                       fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) throws -> RGBImage {
    try image.validate()
    guard width > 0, height > 0, width <= 1 << 30, height <= 1 << 30 else {
        throw ImagingError.invalidSize(operation: "centerCrop", width: width, height: height)
    }
    let (ox, oy) = centerCropOffsets(sourceWidth: image.width, sourceHeight: image.height, width: width, height: height)
    var out = RGBImage(width: width, height: height, fill: fill)
    let x0 = max(0, -ox), x1 = min(width, image.width - ox)  // output columns that hit the image
    guard x1 > x0 else { return out }
    out.pixels.withUnsafeMutableBufferPointer { dst in
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<height {
                let sy = y + oy
                if sy < 0 || sy >= image.height { continue }
                let d = (y * width + x0) * 3
                let s = (sy * image.width + x0 + ox) * 3
                for i in 0..<((x1 - x0) * 3) { dst[d + i] = src[s + i] }
            }
        }
    }
    return out
}

extension ImageGeometry.Pad {
    /// LLaVA's `expand2square` placement for a `width` x `height` image: side `max(width, height)`,
    /// the original at `((side - width) // 2, 0)` when taller, `(0, (side - height) // 2)` when wider.
    public static func square(width: Int, height: Int) -> ImageGeometry.Pad {
        if width == height { return ImageGeometry.Pad(size: width, offsetX: 0, offsetY: 0) }
        if width > height { return ImageGeometry.Pad(size: width, offsetX: 0, offsetY: (width - height) / 2) }
        return ImageGeometry.Pad(size: height, offsetX: (height - width) / 2, offsetY: 0)
    }
}

/// LLaVA's `expand2square`: pastes the image on a square canvas of side `max(width, height)`
/// filled with `fill`, centred along the shorter side (see `ImageGeometry.Pad.square`).
/// A square image is returned unchanged.
public func padToSquare(_ image: RGBImage, fill: (UInt8, UInt8, UInt8)) throws -> RGBImage {
    try image.validate()
    if image.width == image.height { return image }
    let pad = ImageGeometry.Pad.square(width: image.width, height: image.height)
    var out = RGBImage(width: pad.size, height: pad.size, fill: fill)
    let rowBytes = image.width * 3
    out.pixels.withUnsafeMutableBufferPointer { dst in
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<image.height {
                let d = ((y + pad.offsetY) * pad.size + pad.offsetX) * 3
                let s = y * rowBytes
                for i in 0..<rowBytes { dst[d + i] = src[s + i] }
            }
        }
    }
    return out
}
