/// Errors from in-memory image operations (resize, crop, pad).
public enum ImagingError: Error, CustomStringConvertible, Equatable {
    /// `pixels.count` does not equal `width * height * 3`, or a size is negative.
    case inconsistentImage(width: Int, height: Int, pixelCount: Int)
    /// A requested output size is not positive (or too large).
    case invalidSize(operation: String, width: Int, height: Int)

    public var description: String {
        switch self {
        case let .inconsistentImage(width, height, pixelCount):
            return "RGBImage is inconsistent: \(width) x \(height) x 3 != \(pixelCount) bytes"
        case let .invalidSize(operation, width, height):
            return "\(operation): invalid output size \(width) x \(height)"
        }
    }
}

extension RGBImage {
    /// Throws unless `width, height >= 0` and `pixels.count == width * height * 3`.
    public func validate() throws {
        let (n, o1) = width.multipliedReportingOverflow(by: height)
        let (m, o2) = n.multipliedReportingOverflow(by: 3)
        guard width >= 0, height >= 0, !o1, !o2, m == pixels.count else {
            throw ImagingError.inconsistentImage(width: width, height: height, pixelCount: pixels.count)
        }
    }
}

/// Pillow's convolution resampling filters, with their `Image.Resampling` values.
/// (NEAREST = 0 and Pillow 13's MKS filters are not implemented.)
public enum ResampleFilter: Int, Sendable, Codable, CaseIterable {
    case lanczos = 1
    case bilinear = 2
    case bicubic = 3
    case box = 4
    case hamming = 5

    /// Half-width of the filter kernel, in source pixels at scale 1.
    var support: Double {
        switch self {
        case .box: return 0.5
        case .bilinear, .hamming: return 1.0
        case .bicubic: return 2.0
        case .lanczos: return 3.0
        }
    }

    /// The kernel, evaluated in double precision with the same operation order as Pillow's
    /// libImaging/Resample.c (the rounding of the coefficients depends on it).
    func weight(_ xIn: Double) -> Double {
        switch self {
        case .box:
            return (xIn > -0.5 && xIn <= 0.5) ? 1.0 : 0.0
        case .bilinear:
            let x = xIn < 0 ? -xIn : xIn
            return x < 1.0 ? 1.0 - x : 0.0
        case .hamming:
            var x = xIn < 0 ? -xIn : xIn
            if x == 0.0 { return 1.0 }
            if x >= 1.0 { return 0.0 }
            x = x * Double.pi
            return sin(x) / x * (Double(Float(0.54)) + Double(Float(0.46)) * cos(x))
        case .bicubic:
            let a = -0.5
            let x = xIn < 0 ? -xIn : xIn
            if x < 1.0 { return ((a + 2.0) * x - (a + 3.0)) * x * x + 1 }
            if x < 2.0 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0.0
        case .lanczos:
            func sinc(_ v: Double) -> Double {
                if v == 0.0 { return 1.0 }
                let t = v * Double.pi
                return sin(t) / t
            }
            if -3.0 <= xIn && xIn < 3.0 { return sinc(xIn) * sinc(xIn / 3) }
            return 0.0
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fixed-point precision of the 8-bit resampler: 32 - 8 (result) - 2 (overflow headroom) bits.
private let precisionBits: Int32 = 22

/// Per-output-pixel filter taps for one axis.
struct ResampleCoefficients {
    /// Taps per output pixel (stride of `weights`).
    var kernelSize: Int
    /// [outSize] first source index used by each output pixel.
    var first: [Int]
    /// [outSize] number of source pixels used by each output pixel.
    var count: [Int]
    /// [outSize, kernelSize] fixed-point weights (scaled by 2^22, rounded half away from zero).
    var weights: [Int32]

    /// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the source span [in0, in1).
    init(inSize: Int, in0: Float, in1: Float, outSize: Int, filter: ResampleFilter) {
        let scale = Double(in1 - in0) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = filter.support * filterScale
        let ksize = Int(support.rounded(.up)) * 2 + 1
        kernelSize = ksize
        first = [Int](repeating: 0, count: outSize)
        count = [Int](repeating: 0, count: outSize)
        weights = [Int32](repeating: 0, count: outSize * ksize)
        var k = [Double](repeating: 0, count: ksize)
        let ss = 1.0 / filterScale
        let one = Double(1 << precisionBits)
        for xx in 0..<outSize {
            let center = Double(in0) + (Double(xx) + 0.5) * scale
            var xmin = Int(center - support + 0.5)   // C (int) cast truncates toward zero
            if xmin < 0 { xmin = 0 }
            var xmax = Int(center + support + 0.5)
            if xmax > inSize { xmax = inSize }
            let n = max(0, min(xmax - xmin, ksize))
            var ww = 0.0
            for x in 0..<n {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * ss)
                k[x] = w
                ww += w
            }
            for x in 0..<ksize {
                var v = x < n ? k[x] : 0.0
                if x < n && ww != 0.0 { v /= ww }
                let fixed = v < 0 ? Int32(-0.5 + v * one) : Int32(0.5 + v * one)
                weights[xx * ksize + x] = fixed
            }
            first[xx] = xmin
            count[xx] = n
        }
    }
}

@inline(__always)
private func clip8(_ acc: Int32) -> UInt8 {
    let v = acc >> precisionBits
    return v < 0 ? 0 : (v > 255 ? 255 : UInt8(truncatingIfNeeded: v))
}

/// One horizontal pass: [height, srcWidth, 3] -> [height, coeffs.count, 3].
private func horizontalPass(_ pixels: [UInt8], width srcWidth: Int, height: Int,
                            _ coeffs: ResampleCoefficients, outWidth: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: height * outWidth * 3)
    let ksize = coeffs.kernelSize
    let half: Int32 = 1 << (precisionBits - 1)
    pixels.withUnsafeBufferPointer { src in
        coeffs.weights.withUnsafeBufferPointer { kk in
            out.withUnsafeMutableBufferPointer { dst in
                for yy in 0..<height {
                    let srcRow = yy * srcWidth * 3
                    let dstRow = yy * outWidth * 3
                    for xx in 0..<outWidth {
                        let n = coeffs.count[xx]
                        let kBase = xx * ksize
                        var s0 = half, s1 = half, s2 = half
                        var p = srcRow + coeffs.first[xx] * 3
                        for t in 0..<n {
                            let w = kk[kBase + t]
                            s0 &+= Int32(src[p]) &* w
                            s1 &+= Int32(src[p + 1]) &* w
                            s2 &+= Int32(src[p + 2]) &* w
                            p += 3
                        }
                        dst[dstRow + xx * 3] = clip8(s0)
                        dst[dstRow + xx * 3 + 1] = clip8(s1)
                        dst[dstRow + xx * 3 + 2] = clip8(s2)
                    }
                }
            }
        }
    }
    return out
}

/// One vertical pass: [srcHeight, width, 3] -> [outHeight, width, 3].
private func verticalPass(_ pixels: [UInt8], width: Int, _ coeffs: ResampleCoefficients, outHeight: Int) -> [UInt8] {
    let rowLength = width * 3
    var out = [UInt8](repeating: 0, count: outHeight * rowLength)
    var acc = [Int32](repeating: 0, count: rowLength)
    let ksize = coeffs.kernelSize
    let half: Int32 = 1 << (precisionBits - 1)
    pixels.withUnsafeBufferPointer { src in
        coeffs.weights.withUnsafeBufferPointer { kk in
            out.withUnsafeMutableBufferPointer { dst in
                acc.withUnsafeMutableBufferPointer { a in
                    for yy in 0..<outHeight {
                        for i in 0..<rowLength { a[i] = half }
                        let ymin = coeffs.first[yy]
                        // Integer sums are exact, so accumulating row by row gives Pillow's result.
                        for t in 0..<coeffs.count[yy] {
                            let w = kk[yy * ksize + t]
                            let base = (ymin + t) * rowLength
                            for i in 0..<rowLength {
                                a[i] &+= Int32(src[base + i]) &* w
                            }
                        }
                        let dBase = yy * rowLength
                        for i in 0..<rowLength { dst[dBase + i] = clip8(a[i]) }
                    }
                }
            }
        }
    }
    return out
}

/// Resizes with a Pillow convolution filter, bit-exact with Pillow's `Image.resize(size, filter)`
/// on 8-bit RGB: two separable passes with fixed-point weights, clipping to 8 bits between the
/// passes. Pillow 13 runs the horizontal pass first unless the height shrinks, and by more than
/// twice as many pixels as the width does (`outH < inH && inH - outH > 2 * (inW - outW)`): then
/// the vertical pass comes first. (Found by probing Pillow 13.0.0 with random images; older
/// Pillow always went horizontal first.) The order changes the rounding, so it is followed here. An axis whose size does not change is not
/// filtered; resizing to the same size returns the image unchanged, as Pillow does.
public func resize(_ image: RGBImage, width: Int, height: Int, filter: ResampleFilter) throws -> RGBImage {
    try image.validate()
    guard width > 0, height > 0, width <= 1 << 30, height <= 1 << 30 else {
        throw ImagingError.invalidSize(operation: "resize", width: width, height: height)
    }
    guard image.width > 0, image.height > 0 else {
        throw ImagingError.invalidSize(operation: "resize (source)", width: image.width, height: image.height)
    }
    if width == image.width && height == image.height { return image }
    let needHorizontal = width != image.width
    let needVertical = height != image.height
    let horiz = needHorizontal
        ? ResampleCoefficients(inSize: image.width, in0: 0, in1: Float(image.width), outSize: width, filter: filter) : nil
    let vert = needVertical
        ? ResampleCoefficients(inSize: image.height, in0: 0, in1: Float(image.height), outSize: height, filter: filter) : nil
    let verticalFirst = needHorizontal && height < image.height && (image.height - height) > 2 * (image.width - width)
    var px = image.pixels
    if verticalFirst, let v = vert, let h = horiz {
        px = verticalPass(px, width: image.width, v, outHeight: height)
        px = horizontalPass(px, width: image.width, height: height, h, outWidth: width)
    } else {
        if let h = horiz { px = horizontalPass(px, width: image.width, height: image.height, h, outWidth: width) }
        if let v = vert { px = verticalPass(px, width: width, v, outHeight: height) }
    }
    return RGBImage(width: width, height: height, pixels: px)
}

/// Pillow-exact bicubic resize (`Image.resize((width, height), Image.BICUBIC)`) of 8-bit RGB.
public func resizeBicubic(_ image: RGBImage, width: Int, height: Int) throws -> RGBImage {
    try resize(image, width: width, height: height, filter: .bicubic)
}
