import Imaging

/// Image resampling for display (not for model preprocessing).
enum Resample {
    /// Resizes an RGB image with a separable triangle filter whose support widens when shrinking
    /// (antialiased: averages all source pixels under each output pixel). Output [toH, toW, 3].
    static func resize(_ img: RGBImage, toWidth tw: Int, toHeight th: Int) -> RGBImage {
        if tw == img.width && th == img.height { return img }
        let w = img.width
        let h = img.height
        let hx = weights(src: w, dst: tw)
        let hy = weights(src: h, dst: th)
        // Horizontal pass: [h, tw, 3].
        var mid = [Double](repeating: 0, count: h * tw * 3)
        img.pixels.withUnsafeBufferPointer { src in
            for y in 0..<h {
                for x in 0..<tw {
                    var acc = (0.0, 0.0, 0.0)
                    for (i, wt) in hx[x] {
                        let o = (y * w + i) * 3
                        acc.0 += Double(src[o]) * wt
                        acc.1 += Double(src[o + 1]) * wt
                        acc.2 += Double(src[o + 2]) * wt
                    }
                    let o = (y * tw + x) * 3
                    mid[o] = acc.0
                    mid[o + 1] = acc.1
                    mid[o + 2] = acc.2
                }
            }
        }
        // Vertical pass: [th, tw, 3].
        var out = [UInt8](repeating: 0, count: th * tw * 3)
        for y in 0..<th {
            for x in 0..<tw {
                var acc = (0.0, 0.0, 0.0)
                for (j, wt) in hy[y] {
                    let o = (j * tw + x) * 3
                    acc.0 += mid[o] * wt
                    acc.1 += mid[o + 1] * wt
                    acc.2 += mid[o + 2] * wt
                }
                let o = (y * tw + x) * 3
                out[o] = clampByte(acc.0)
                out[o + 1] = clampByte(acc.1)
                out[o + 2] = clampByte(acc.2)
            }
        }
        return RGBImage(width: tw, height: th, pixels: out)
    }

    /// For each destination index: (source index, weight) with weights summing to 1.
    static func weights(src: Int, dst: Int) -> [[(Int, Double)]] {
        let scale = Double(src) / Double(dst)
        let support = max(1, scale)
        var out: [[(Int, Double)]] = []
        out.reserveCapacity(dst)
        for d in 0..<dst {
            let center = (Double(d) + 0.5) * scale
            let lo = max(0, Int((center - support).rounded(.down)))
            let hi = min(src - 1, Int((center + support).rounded(.up)))
            var ws: [(Int, Double)] = []
            var total = 0.0
            if lo <= hi {
                for i in lo...hi {
                    let wt = max(0, 1 - abs((Double(i) + 0.5 - center) / support))
                    if wt > 0 {
                        ws.append((i, wt))
                        total += wt
                    }
                }
            }
            if total <= 0 {
                ws = [(min(src - 1, max(0, Int(center))), 1)]
                total = 1
            }
            out.append(ws.map { ($0.0, $0.1 / total) })
        }
        return out
    }

    @inline(__always)
    static func clampByte(_ v: Double) -> UInt8 {
        if !(v > 0) { return 0 }
        if v >= 255 { return 255 }
        return UInt8(v.rounded())
    }

    /// Bilinear sample of an RGB image at continuous (x, y) (pixel centres at i + 0.5; edges clamp).
    @inline(__always)
    static func bilinear(_ px: UnsafeBufferPointer<UInt8>, width w: Int, height h: Int, x: Double, y: Double) -> (Double, Double, Double) {
        let u = x - 0.5
        let v = y - 0.5
        let x0f = u.rounded(.down)
        let y0f = v.rounded(.down)
        let fx = u - x0f
        let fy = v - y0f
        let x0 = min(max(Int(x0f), 0), w - 1)
        let x1 = min(max(Int(x0f) + 1, 0), w - 1)
        let y0 = min(max(Int(y0f), 0), h - 1)
        let y1 = min(max(Int(y0f) + 1, 0), h - 1)
        let i00 = (y0 * w + x0) * 3
        let i10 = (y0 * w + x1) * 3
        let i01 = (y1 * w + x0) * 3
        let i11 = (y1 * w + x1) * 3
        let a = (1 - fx) * (1 - fy)
        let b = fx * (1 - fy)
        let c = (1 - fx) * fy
        let d = fx * fy
        func ch(_ k: Int) -> Double {
            Double(px[i00 + k]) * a + Double(px[i10 + k]) * b + Double(px[i01 + k]) * c + Double(px[i11 + k]) * d
        }
        return (ch(0), ch(1), ch(2))
    }
}
