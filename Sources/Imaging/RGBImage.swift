/// An 8-bit RGB image in row-major order: `pixels[(y * width + x) * 3 + c]`, c = R, G, B.
///
/// This is the image as decoded from disk (PNG, JPEG), before any model preprocessing.
public struct RGBImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// [height, width, 3] row-major, RGB.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A solid-colour image.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8)) {
        self.width = width
        self.height = height
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            px[i * 3] = fill.0
            px[i * 3 + 1] = fill.1
            px[i * 3 + 2] = fill.2
        }
        self.pixels = px
    }
}
