/// COCO's compressed RLE string (the `counts` string of `{"size": [h, w], "counts": "..."}`).
///
/// Format (pycocotools `rleToString` / `rleFrString`): each run is written as a signed number in
/// little-endian groups of 5 bits, one ASCII character per group (`48 + group`, so `'0'...'o'`);
/// bit `0x20` of a group means "more groups follow", and bit `0x10` of the last group is the sign.
/// From the fourth run on (index > 2) the number stored is the difference to the run two places
/// earlier (the previous run of the same value).
extension RLE {
    /// The compressed string of these counts (pycocotools `_toString`).
    public var compressedString: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(counts.count * 2)
        for i in counts.indices {
            var x = counts[i]
            if i > 2 { x -= counts[i - 2] }
            while true {
                var group = x & 0x1f
                x >>= 5 // arithmetic shift: keeps the sign
                let more = (group & 0x10) != 0 ? x != -1 : x != 0
                if more { group |= 0x20 }
                bytes.append(UInt8(group + 48))
                if !more { break }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes a compressed string of an `height` x `width` mask. Throws on a character outside
    /// 48-111, a string ending inside a value, a negative run, or runs not covering the mask.
    public init(compressed string: String, height: Int, width: Int, context: String = "RLE string") throws {
        try RLE.checkSize(height: height, width: width, context: context)
        var counts: [Int] = []
        let bytes = Array(string.utf8)
        var p = 0
        while p < bytes.count {
            var x = 0
            var shift = 0
            var more = true
            while more {
                guard p < bytes.count else {
                    throw MaskError.malformedRLEString(context: context, position: p, reason: "string ends inside a value")
                }
                let b = bytes[p]
                guard b >= 48, b <= 111 else {
                    throw MaskError.badRLECharacter(context: context, position: p,
                                                    character: String(decoding: [b], as: UTF8.self))
                }
                guard shift <= 55 else {
                    throw MaskError.malformedRLEString(context: context, position: p, reason: "value longer than 12 characters")
                }
                let group = Int(b) - 48
                x |= (group & 0x1f) << shift
                more = (group & 0x20) != 0
                shift += 5
                p += 1
                if !more && (group & 0x10) != 0 {
                    x |= -1 << shift // sign-extend
                }
            }
            if counts.count > 2 { x += counts[counts.count - 2] }
            if x < 0 { throw MaskError.negativeRun(context: context, index: counts.count, value: x) }
            if x > RLE.maxPixels {
                throw MaskError.countsDoNotCoverMask(context: context, sum: x, expected: height * width)
            }
            counts.append(x)
        }
        try self.init(height: height, width: width, counts: counts, context: context)
    }
}
