import Foundation
import _CJPEG
import _CPNG

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors from reading or writing image files. Every case names the file.
public enum ImageIOError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read from disk.
    case unreadable(file: String, reason: String)
    /// The file has no bytes.
    case empty(file: String)
    /// The first bytes match neither PNG nor JPEG (nor any format recognised by name).
    case unknownFormat(file: String, firstBytes: String)
    /// A recognised format that this package does not decode (GIF, BMP, WebP, TIFF).
    case unsupportedFormat(file: String, format: String)
    /// A PNG or JPEG using a feature this package does not decode (e.g. 12-bit or lossless JPEG).
    case unsupported(file: String, format: String, reason: String)
    /// The data ends before the image does.
    case truncated(file: String, format: String, reason: String)
    /// The decoder rejected the data.
    case corrupt(file: String, format: String, reason: String)
    /// More pixels than the limit (a decompression-bomb guard, as Pillow has).
    case tooLarge(file: String, width: Int, height: Int, limit: Int)
    /// The image handed to a writer is inconsistent (pixel count, sizes).
    case invalidImage(file: String, reason: String)
    /// Encoding or writing the output failed.
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read file: \(reason)"
        case let .empty(file): return "\(file): file is empty"
        case let .unknownFormat(file, firstBytes):
            return "\(file): not a PNG or JPEG file (first bytes: \(firstBytes))"
        case let .unsupportedFormat(file, format):
            return "\(file): \(format) images are not supported (only PNG and JPEG)"
        case let .unsupported(file, format, reason): return "\(file): unsupported \(format): \(reason)"
        case let .truncated(file, format, reason): return "\(file): truncated \(format) file: \(reason)"
        case let .corrupt(file, format, reason): return "\(file): corrupt \(format) file: \(reason)"
        case let .tooLarge(file, width, height, limit):
            return "\(file): image is \(width) x \(height) = \(width * height) pixels, above the limit of \(limit)"
        case let .invalidImage(file, reason): return "\(file): invalid image: \(reason)"
        case let .writeFailed(file, reason): return "\(file): cannot write: \(reason)"
        }
    }
}

/// Reading and writing PNG and JPEG files as 8-bit RGB.
///
/// Decoding matches Pillow's `Image.open(f).convert("RGB")` pixel for pixel (Pillow 13,
/// libjpeg-turbo islow DCT with fancy upsampling):
/// - the format is sniffed from the first bytes, never from the file extension;
/// - alpha (RGBA, gray+alpha, palette tRNS) is dropped, not composited onto a background;
/// - 16-bit RGB, RGBA and gray+alpha PNGs keep the high byte of each sample (Pillow's "RGB;16B"
///   raw modes); 16-bit gray PNGs are Pillow mode "I;16", whose conversion to RGB clips values
///   above 255 to 255 (so most 16-bit gray images come out nearly white, exactly as in Pillow);
/// - 1/2/4-bit gray is scaled to 0...255; palettes are looked up; gamma, sRGB and ICC chunks are
///   ignored;
/// - CMYK/YCCK JPEGs are converted with Pillow's formula (Adobe inverted convention);
/// - the EXIF orientation tag is NOT applied (Pillow's `Image.open` does not apply it, nor does the
///   original LLaVA code; note that Hugging Face's `load_image`, used when a processor is given a
///   path or URL string, does call `exif_transpose`).
public enum ImageIO {
    /// Pillow raises `DecompressionBombError` above twice `Image.MAX_IMAGE_PIXELS` (89,478,485).
    public static let defaultMaxPixels = 178_956_970

    /// Reads and decodes a PNG or JPEG file (format sniffed from its magic bytes).
    public static func load(_ url: URL, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ImageIOError.unreadable(file: url.path, reason: String(describing: error))
        }
        return try decode(data: data, name: url.path, maxPixels: maxPixels)
    }

    /// The container format recognised from the first bytes of a file.
    public enum Format: String, Sendable, Equatable {
        case png = "PNG"
        case jpeg = "JPEG"
        case gif = "GIF"
        case bmp = "BMP"
        case webp = "WebP"
        case tiff = "TIFF"
    }

    /// Recognises a format from its magic bytes, or nil.
    public static func sniff(_ data: Data) -> Format? {
        let b = [UInt8](data.prefix(12))
        func starts(_ magic: [UInt8]) -> Bool { b.count >= magic.count && Array(b[0..<magic.count]) == magic }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("BM".utf8)) { return .bmp }
        if starts(Array("RIFF".utf8)) && b.count >= 12 && Array(b[8..<12]) == Array("WEBP".utf8) { return .webp }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        return nil
    }

    /// Decodes PNG or JPEG bytes; `name` is used in error messages.
    public static func decode(data: Data, name: String, maxPixels: Int = defaultMaxPixels) throws -> RGBImage {
        if data.isEmpty { throw ImageIOError.empty(file: name) }
        guard let format = sniff(data) else {
            let hex = data.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw ImageIOError.unknownFormat(file: name, firstBytes: hex)
        }
        let limit = UInt64(max(0, maxPixels))
        switch format {
        case .png: return try decodePNG(data, name: name, limit: limit)
        case .jpeg: return try decodeJPEG(data, name: name, limit: limit)
        default: throw ImageIOError.unsupportedFormat(file: name, format: format.rawValue)
        }
    }

    private static func message<T>(_ tuple: inout T) -> String {
        withUnsafeBytes(of: &tuple) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func decodePNG(_ data: Data, name: String, limit: UInt64) throws -> RGBImage {
        var out = clvs_png_image()
        let code: Int32 = data.withUnsafeBytes { raw in
            clvs_png_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, limit, &out)
        }
        defer { clvs_png_free(&out) }
        let width = Int(out.width), height = Int(out.height)
        let reason = message(&out.message)
        switch Int(code) {
        case Int(CLVS_PNG_OK): break
        case Int(CLVS_PNG_TRUNCATED): throw ImageIOError.truncated(file: name, format: "PNG", reason: reason)
        case Int(CLVS_PNG_TOO_LARGE):
            throw ImageIOError.tooLarge(file: name, width: width, height: height, limit: Int(limit))
        default: throw ImageIOError.corrupt(file: name, format: "PNG", reason: reason)
        }
        guard let rgb = out.rgb else {
            throw ImageIOError.corrupt(file: name, format: "PNG", reason: "decoder returned no pixels")
        }
        let pixels = [UInt8](UnsafeBufferPointer(start: rgb, count: width * height * 3))
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    private static func decodeJPEG(_ data: Data, name: String, limit: UInt64) throws -> RGBImage {
        var out = clvs_jpeg_image()
        let code: Int32 = data.withUnsafeBytes { raw in
            clvs_jpeg_decode(raw.bindMemory(to: UInt8.self).baseAddress, raw.count, limit, &out)
        }
        defer { clvs_jpeg_free(&out) }
        let width = Int(out.width), height = Int(out.height)
        let reason = message(&out.message)
        switch Int(code) {
        case Int(CLVS_JPEG_OK): break
        case Int(CLVS_JPEG_TRUNCATED): throw ImageIOError.truncated(file: name, format: "JPEG", reason: reason)
        case Int(CLVS_JPEG_TOO_LARGE):
            throw ImageIOError.tooLarge(file: name, width: width, height: height, limit: Int(limit))
        case Int(CLVS_JPEG_UNSUPPORTED): throw ImageIOError.unsupported(file: name, format: "JPEG", reason: reason)
        default:
            let unsupportedCodes: [UInt32] = [
                JERR_BAD_PRECISION.rawValue, JERR_NOT_COMPILED.rawValue, JERR_CONVERSION_NOTIMPL.rawValue,
                JERR_ARITH_NOTIMPL.rawValue, JERR_NOTIMPL.rawValue, JERR_COMPONENT_COUNT.rawValue,
            ]
            if out.error_code != 0 && unsupportedCodes.contains(UInt32(out.error_code)) {
                throw ImageIOError.unsupported(file: name, format: "JPEG", reason: reason)
            }
            throw ImageIOError.corrupt(file: name, format: "JPEG", reason: reason)
        }
        guard let rgb = out.rgb else {
            throw ImageIOError.corrupt(file: name, format: "JPEG", reason: "decoder returned no pixels")
        }
        let pixels = [UInt8](UnsafeBufferPointer(start: rgb, count: width * height * 3))
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    // MARK: - Writing

    /// Writes an 8-bit RGB PNG (written to a temporary file in the same folder, then renamed).
    public static func writePNG(_ image: RGBImage, to url: URL) throws {
        try checkWritable(width: image.width, height: image.height, count: image.pixels.count, channels: 3, file: url.path)
        try writeEncoded(image.pixels, width: image.width, height: image.height, channels: 3, to: url)
    }

    /// Writes an 8-bit grayscale PNG from `gray` ([height, width] row-major).
    public static func writePNG(gray: [UInt8], width: Int, height: Int, to url: URL) throws {
        try checkWritable(width: width, height: height, count: gray.count, channels: 1, file: url.path)
        try writeEncoded(gray, width: width, height: height, channels: 1, to: url)
    }

    private static func checkWritable(width: Int, height: Int, count: Int, channels: Int, file: String) throws {
        guard width > 0, height > 0, width <= 0x7FFF_FFFF, height <= 0x7FFF_FFFF else {
            throw ImageIOError.invalidImage(file: file, reason: "size \(width) x \(height) (PNG needs 1...2^31-1)")
        }
        let (n, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, n.multipliedReportingOverflow(by: channels).partialValue == count,
              !n.multipliedReportingOverflow(by: channels).overflow else {
            throw ImageIOError.invalidImage(
                file: file, reason: "\(count) bytes for \(width) x \(height) x \(channels) channels")
        }
    }

    private static func writeEncoded(_ pixels: [UInt8], width: Int, height: Int, channels: Int, to url: URL) throws {
        var buffer = clvs_png_buffer()
        let rc = pixels.withUnsafeBufferPointer { p in
            clvs_png_encode(p.baseAddress, UInt32(width), UInt32(height), Int32(channels), &buffer)
        }
        defer { clvs_png_buffer_free(&buffer) }
        guard rc == 0, let bytes = buffer.data else {
            throw ImageIOError.writeFailed(file: url.path, reason: "PNG encoding failed: \(message(&buffer.message))")
        }
        let data = Data(bytes: bytes, count: buffer.size)
        try writeAtomically(data, to: url)
    }

    /// Writes `data` to a temporary name beside `url`, then renames it over `url`.
    static func writeAtomically(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try data.write(to: tmp)
        } catch {
            throw ImageIOError.writeFailed(file: url.path, reason: String(describing: error))
        }
        if rename(tmp.path, url.path) != 0 {
            let err = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw ImageIOError.writeFailed(file: url.path, reason: "rename from temporary file failed: \(err)")
        }
    }
}
