/// A binary `height` x `width` mask in COCO run-length encoding (the representation of
/// pycocotools' `maskApi.c`).
///
/// The mask is flattened **column-major** (pixel `(x, y)` has index `x * height + y`) and cut
/// into runs that alternate between 0s and 1s, starting with 0s; the first run may have length 0
/// (mask starting with a 1). Example: the 7x1 column `[0 0 1 1 1 0 1]` has counts `[2, 3, 1, 1]`.
///
/// Every value constructed here is validated: runs are non-negative and sum to exactly
/// `height * width`. Counts taken as given (uncompressed RLE from a file, compressed strings) are
/// kept as they are, like pycocotools does, so re-encoding reproduces the input string; results of
/// `encode`, `merge`, polygons and boxes are canonical (no zero-length run after the first).
public struct RLE: Equatable, Sendable {
    /// Mask height in pixels (COCO's `size[0]`).
    public let height: Int
    /// Mask width in pixels (COCO's `size[1]`).
    public let width: Int
    /// Run lengths over the column-major flattening, first run = zeros.
    public let counts: [Int]

    /// Largest accepted `height * width` (pycocotools stores runs as 32-bit unsigned).
    public static let maxPixels = Int(UInt32.max)

    /// Builds an RLE from run lengths (COCO "uncompressed RLE"), checking that they are
    /// non-negative and cover exactly `height * width` pixels. `context` names the source in errors.
    public init(height: Int, width: Int, counts: [Int], context: String = "RLE") throws {
        try RLE.checkSize(height: height, width: width, context: context)
        var sum = 0
        for (i, c) in counts.enumerated() {
            if c < 0 { throw MaskError.negativeRun(context: context, index: i, value: c) }
            sum += c
            if sum > RLE.maxPixels { break }
        }
        if sum != height * width {
            throw MaskError.countsDoNotCoverMask(context: context, sum: sum, expected: height * width)
        }
        self.height = height
        self.width = width
        self.counts = counts
    }

    /// Internal: counts already known to be valid.
    init(validatedHeight height: Int, width: Int, counts: [Int]) {
        self.height = height
        self.width = width
        self.counts = counts
    }

    static func checkSize(height: Int, width: Int, context: String) throws {
        guard height > 0, width > 0, height <= maxPixels, width <= maxPixels,
              height.multipliedReportingOverflow(by: width).partialValue <= maxPixels,
              !height.multipliedReportingOverflow(by: width).overflow
        else { throw MaskError.invalidSize(context: context, height: height, width: width) }
    }

    /// COCO's `size` field: `[height, width]`.
    public var size: [Int] { [height, width] }

    /// Number of pixels set (pycocotools `area`): the sum of the odd-indexed runs.
    public var area: Int {
        var a = 0
        var i = 1
        while i < counts.count { a += counts[i]; i += 2 }
        return a
    }

    /// An all-zero mask.
    public static func empty(height: Int, width: Int) throws -> RLE {
        try checkSize(height: height, width: width, context: "RLE.empty")
        return RLE(validatedHeight: height, width: width, counts: [height * width])
    }

    // MARK: encode / decode

    /// Memory order of a dense mask buffer.
    public enum Order: Sendable {
        /// `[height, width]` row-major: element `y * width + x`.
        case rowMajor
        /// `[width, height]` (Fortran order of an h x w array): element `x * height + y`.
        case columnMajor
    }

    /// Encodes a dense mask (any non-zero byte is "set"). `mask` is `[height, width]` row-major
    /// or column-major according to `order`; the result is canonical (pycocotools `encode`).
    public init(mask: [UInt8], height: Int, width: Int, order: Order = .rowMajor) throws {
        try RLE.checkSize(height: height, width: width, context: "RLE(mask:)")
        guard mask.count == height * width else {
            throw MaskError.bufferSize(context: "RLE(mask:)", count: mask.count, expected: height * width)
        }
        var runs = RunBuilder()
        mask.withUnsafeBufferPointer { m in
            switch order {
            case .columnMajor:
                for v in m { runs.append(v != 0, 1) }
            case .rowMajor:
                for x in 0..<width {
                    var idx = x
                    for _ in 0..<height {
                        runs.append(m[idx] != 0, 1)
                        idx += width
                    }
                }
            }
        }
        self.init(validatedHeight: height, width: width, counts: runs.finish())
    }

    /// Decodes to a dense 0/1 mask in the given order (`[height, width]` row-major by default).
    public func decode(order: Order = .rowMajor) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: height * width)
        let h = height, w = width
        out.withUnsafeMutableBufferPointer { o in
            var pos = 0
            var value: UInt8 = 0
            for c in counts {
                if value == 1 && c > 0 {
                    switch order {
                    case .columnMajor:
                        for i in pos..<(pos + c) { o[i] = 1 }
                    case .rowMajor:
                        var x = pos / h
                        var y = pos % h
                        var left = c
                        while left > 0 {
                            let n = min(left, h - y)
                            var idx = y * w + x
                            for _ in 0..<n { o[idx] = 1; idx += w }
                            left -= n
                            y = 0
                            x += 1
                        }
                    }
                }
                pos += c
                value ^= 1
            }
        }
        return out
    }

    // MARK: bbox

    /// Bounding box `[x, y, w, h]` of the set pixels, exactly as pycocotools' `toBbox`
    /// (`rleToBbox`): all zeros for an empty mask; a run of 1s that wraps from one column into the
    /// next makes the box span the full height.
    public var bbox: [Double] {
        // Pairs (zeros, ones); a trailing zeros run is ignored.
        let m = (counts.count / 2) * 2
        if m == 0 { return [0, 0, 0, 0] }
        let h = height
        var xs = width, ys = height, xe = 0, ye = 0
        var cumulative = 0
        var runStartColumn = 0
        for j in 0..<m {
            cumulative += counts[j]
            // Even j: `cumulative` is the index of the first pixel of a ones run;
            // odd j: `cumulative - 1` is its last pixel.
            let t = max(0, cumulative - (j % 2))
            let y = t % h
            let x = t / h
            if j % 2 == 0 {
                runStartColumn = x
            } else if runStartColumn < x {
                ys = 0
                ye = h - 1
            }
            xs = min(xs, x); xe = max(xe, x)
            ys = min(ys, y); ye = max(ye, y)
        }
        return [Double(xs), Double(ys), Double(xe - xs + 1), Double(ye - ys + 1)]
    }

    // MARK: merge

    /// Union (default) or intersection of masks of one size, as pycocotools' `merge`.
    /// One mask is returned unchanged; the result of two or more is canonical.
    public static func merge(_ masks: [RLE], intersect: Bool = false, context: String = "RLE.merge") throws -> RLE {
        guard let first = masks.first else { throw MaskError.emptyMerge(context: context) }
        if masks.count == 1 { return first }
        var acc = first
        for other in masks.dropFirst() {
            guard other.height == acc.height, other.width == acc.width else {
                throw MaskError.sizeMismatch(context: context, first: acc.size, second: other.size)
            }
            acc = combine(acc, other, intersect: intersect)
        }
        return acc
    }

    /// Union of two masks of one size.
    public func union(_ other: RLE) throws -> RLE { try RLE.merge([self, other]) }

    /// Intersection of two masks of one size.
    public func intersection(_ other: RLE) throws -> RLE { try RLE.merge([self, other], intersect: true) }

    /// The complement mask (canonical).
    public func inverted() -> RLE {
        var runs = RunBuilder()
        var v = false
        for c in counts { runs.append(!v, c); v.toggle() }
        return RLE(validatedHeight: height, width: width, counts: runs.finish())
    }

    private static func combine(_ a: RLE, _ b: RLE, intersect: Bool) -> RLE {
        var ra = RunReader(a.counts)
        var rb = RunReader(b.counts)
        var out = RunBuilder()
        while let (va, la) = ra.peek(), let (vb, lb) = rb.peek() {
            let n = min(la, lb)
            out.append(intersect ? (va && vb) : (va || vb), n)
            ra.consume(n)
            rb.consume(n)
        }
        return RLE(validatedHeight: a.height, width: a.width, counts: out.finish())
    }
}

/// Accumulates (value, length) pieces into canonical runs starting with zeros.
struct RunBuilder {
    private(set) var runs: [Int] = []
    private var current = false
    private var length = 0

    mutating func append(_ value: Bool, _ n: Int) {
        if n == 0 { return }
        if value == current {
            length += n
        } else {
            runs.append(length)
            current = value
            length = n
        }
    }

    mutating func finish() -> [Int] {
        runs.append(length)
        return runs
    }
}

/// Walks runs, skipping zero-length ones.
struct RunReader {
    private let counts: [Int]
    private var index = 0
    private var left: Int

    init(_ counts: [Int]) {
        self.counts = counts
        self.left = counts.first ?? 0
        skipEmpty()
    }

    private mutating func skipEmpty() {
        while left == 0 && index < counts.count - 1 {
            index += 1
            left = counts[index]
        }
    }

    /// Current value (run index parity) and remaining length, or nil at the end.
    func peek() -> (Bool, Int)? {
        left > 0 ? (index % 2 == 1, left) : nil
    }

    mutating func consume(_ n: Int) {
        left -= n
        skipEmpty()
    }
}
