import Foundation

/// Scanline polygon coverage with 4x4 samples per pixel (sample (i, j) of pixel (x, y) at
/// (x + (i + 0.5) / 4, y + (j + 0.5) / 4)), even-odd rule.
public enum PolygonCoverage {
    public static let samplesPerAxis = 4

    /// Covered samples per pixel (0...16), [height * width] row-major.
    public static func coverage(_ polygon: [(Double, Double)], width: Int, height: Int) -> [UInt8] {
        var cov = [UInt8](repeating: 0, count: width * height)
        let s = samplesPerAxis, fs = Double(s)
        guard polygon.count >= 3 else { return cov }
        let ys = polygon.map(\.1)
        let yMin = max(0, Int(((ys.min() ?? 0) * fs - 0.5).rounded(.down)))
        let yMax = min(height * s - 1, Int(((ys.max() ?? 0) * fs - 0.5).rounded(.up)))
        if yMin > yMax { return cov }
        var xs: [Double] = []
        xs.reserveCapacity(16)
        for sy in yMin...yMax {
            let y = (Double(sy) + 0.5) / fs
            xs.removeAll(keepingCapacity: true)
            for i in 0..<polygon.count {
                let (x0, y0) = polygon[i], (x1, y1) = polygon[(i + 1) % polygon.count]
                // Half-open in y so a vertex on the scanline counts once.
                if (y0 <= y && y < y1) || (y1 <= y && y < y0) {
                    xs.append(x0 + (y - y0) / (y1 - y0) * (x1 - x0))
                }
            }
            xs.sort()
            let row = (sy / s) * width
            var k = 0
            while k + 1 < xs.count {
                // Samples with x0 <= (sx + 0.5)/4 < x1.
                let first = max(0, Int((xs[k] * fs - 0.5).rounded(.up)))
                let end = min(width * s, Int((xs[k + 1] * fs - 0.5).rounded(.up)))
                if first < end {
                    for sx in first..<end { cov[row + sx / s] &+= 1 }
                }
                k += 2
            }
        }
        return cov
    }

    /// Pixels whose centre-ish majority is covered (>= 8 of 16 samples).
    public static func mask(_ coverage: [UInt8]) -> [Bool] { coverage.map { $0 >= 8 } }

    /// Chebyshev dilation of a mask by `r` pixels (separable max filter).
    public static func dilate(_ mask: [Bool], width: Int, height: Int, by r: Int) -> [Bool] {
        if r <= 0 { return mask }
        var tmp = [Bool](repeating: false, count: mask.count)
        for y in 0..<height {
            for x in 0..<width where mask[y * width + x] {
                for xx in max(0, x - r)...min(width - 1, x + r) { tmp[y * width + xx] = true }
            }
        }
        var out = [Bool](repeating: false, count: mask.count)
        for y in 0..<height {
            for x in 0..<width where tmp[y * width + x] {
                for yy in max(0, y - r)...min(height - 1, y + r) { out[yy * width + x] = true }
            }
        }
        return out
    }
}

/// Renders scenes to 8-bit RGB.
public enum SceneRenderer {
    /// [height * width * 3] RGB bytes of `scene`.
    public static func render(_ scene: Scene) -> [UInt8] {
        let w = scene.width, h = scene.height
        var img = background(scene)
        var noise = SplitMix64(seed: scene.noiseSeed)
        for o in scene.objects {
            let cov = PolygonCoverage.coverage(o.polygon, width: w, height: h)
            // Mild shading across the object so it is not a flat fill.
            for y in 0..<h {
                for x in 0..<w {
                    let c = cov[y * w + x]
                    if c == 0 { continue }
                    let a = Double(c) / 16
                    let shade = 1 + 0.12 * ((Double(y) - o.centerY) / max(o.radius, 1)) * -0.5
                    let n = (noise.unit() - 0.5) * 16
                    for ch in 0..<3 {
                        let v = min(255, max(0, o.fill[ch] * shade + n))
                        let i = (y * w + x) * 3 + ch
                        img[i] = img[i] * (1 - a) + v * a
                    }
                }
            }
        }
        return img.map { UInt8(max(0, min(255, $0.rounded()))) }
    }

    static func background(_ scene: Scene) -> [Double] {
        let w = scene.width, h = scene.height
        let p = scene.backgroundParameters
        // p: base r, g, b, amplitude, period, angle, noise amplitude, second r, g, b
        var out = [Double](repeating: 0, count: w * h * 3)
        var noise = SplitMix64(seed: scene.noiseSeed ^ 0xA5A5_A5A5)
        let base = [p[0], p[1], p[2]], other = [p[7], p[8], p[9]]
        let amp = p[3], period = p[4], angle = p[5], noiseAmp = p[6]
        let ca = cos(angle), sa = sin(angle)
        for y in 0..<h {
            for x in 0..<w {
                let u = Double(x) * ca + Double(y) * sa
                var t: Double
                switch scene.background {
                case .noise: t = 0
                case .stripes: t = (u / period).truncatingRemainder(dividingBy: 1) < 0.5 ? amp : 0
                case .checker:
                    let a = Int((Double(x) / period).rounded(.down)) + Int((Double(y) / period).rounded(.down))
                    t = a % 2 == 0 ? amp : 0
                case .gradient: t = amp * (u / Double(max(w, h)))
                }
                let n = (noise.unit() + noise.unit() - 1) * noiseAmp
                for ch in 0..<3 {
                    let mix = scene.background == .gradient ? min(1, max(0, t)) : (t > 0 ? 0.5 : 0)
                    out[(y * w + x) * 3 + ch] = base[ch] * (1 - mix) + other[ch] * mix + n
                }
            }
        }
        return out
    }
}
