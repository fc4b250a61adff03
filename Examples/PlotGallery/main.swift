// plot-gallery: renders one figure of each kind from synthetic, seeded data.
//
// Usage: swift run plot-gallery [output-directory]   (default: Examples/PlotGallery/gallery)
//
// Everything here is made up (no model, no dataset): the numbers only imitate the shapes of the
// paper's figures so the pictures can be looked at.

import Foundation
import Imaging
import Plotting

/// SplitMix64: deterministic pseudo-random numbers for the synthetic data.
struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Standard normal (Box-Muller).
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-12)
        let v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

let outDir = URL(fileURLWithPath: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "Examples/PlotGallery/gallery")
try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
var rng = Rng(state: 20_240_601)

func save(_ fig: Figure, _ name: String) throws {
    let url = outDir.appendingPathComponent(name)
    try fig.writePNG(to: url)
    print("wrote \(url.path)")
}

let layers = 32
let layerAxis = (0..<layers).map(Double.init)

// 1. Attention to the key object across layers, vanilla vs CLVS, with a band (Figure 2).
func bump(_ l: Double, center: Double, width: Double, height: Double) -> Double {
    height * exp(-(l - center) * (l - center) / (2 * width * width))
}
let vanilla = layerAxis.map { 0.04 + bump($0, center: 14, width: 3.5, height: 0.16) + 0.01 * rng.normal() }
let clvs = zip(layerAxis, vanilla).map { l, v in v + bump(l, center: 16, width: 3, height: 0.07) + 0.006 * rng.normal() }
let spreadV = layerAxis.map { _ in 0.02 + 0.01 * rng.uniform() }
let spreadC = layerAxis.map { _ in 0.02 + 0.01 * rng.uniform() }
do {
    var o = ChartOptions(title: "Attention to the key object across layers", xLabel: "Layer", yLabel: "Attention to key object")
    o.x.integerTicks = true
    o.spans = [ReferenceSpan(from: 14.5, to: 17.5, label: "layers 15\u{2013}17")]
    o.grid = .horizontal
    let fig = try Plot.lineChart(series: [
        LineSeries(name: "LLaVA-1.5 (vanilla)", y: vanilla, band: ErrorBand(lower: zip(vanilla, spreadV).map { $0 - $1 },
                                                                            upper: zip(vanilla, spreadV).map { $0 + $1 })),
        LineSeries(name: "LLaVA-1.5 + CLVS", y: clvs, band: ErrorBand(lower: zip(clvs, spreadC).map { $0 - $1 },
                                                                      upper: zip(clvs, spreadC).map { $0 + $1 }), marker: .square),
    ], options: o)
    try save(fig, "line_layers.png")
}

// 2. Relative increase per layer (Figure 6, right), percent axis.
do {
    let rel = zip(vanilla, clvs).map { min(1, ($1 - $0) / $0) }
    var o = ChartOptions(title: "Relative increase of key-object attention (CLVS vs vanilla)", xLabel: "Layer", yLabel: "Relative increase")
    o.x.integerTicks = true
    o.y.format = .percent
    o.y.range = Bounds(-0.3, 0.65)
    o.referenceLines = [ReferenceLine(axis: .y, value: 0, color: .gray, style: .solid)]
    o.spans = [ReferenceSpan(from: 14.5, to: 17.5, label: "layers 15\u{2013}17")]
    o.legend = .hidden
    let fig = try Plot.lineChart(series: [LineSeries(name: "relative increase", y: rel, color: Palette.okabeIto[1])], options: o)
    try save(fig, "relative_increase.png")
}

// 3. Peak-layer histogram (Figure 6, left), integer bins.
do {
    func peaks(center: Double, sd: Double, n: Int) -> [Int] {
        (0..<n).map { _ in min(layers - 1, max(0, Int((center + sd * rng.normal()).rounded()))) }
    }
    var o = ChartOptions(title: "Layer of peak key-object attention (500 samples)", xLabel: "Peak layer", yLabel: "Samples")
    o.grid = .horizontal
    let fig = try Plot.histogram(series: [
        HistogramSeries(name: "vanilla", integers: peaks(center: 13.5, sd: 4, n: 500)),
        HistogramSeries(name: "CLVS", integers: peaks(center: 16, sd: 3, n: 500)),
    ], bins: .integers(0...(layers - 1)), options: o)
    try save(fig, "hist_peak_layers.png")
}

// 4. Uncertainty vs convergence with a logistic fit (Figure 4).
do {
    let n = 400
    var u: [Double] = []
    var conv: [Double] = []
    for _ in 0..<n {
        let x = min(1, max(0, 0.45 + 0.22 * rng.normal()))
        let p = 1 / (1 + exp(-(4.5 - 10 * x)))
        u.append(x)
        conv.append(rng.uniform() < p ? 1 : 0)
    }
    // Point-biserial correlation (= Pearson with a 0/1 variable) and a Newton-fitted logistic regression.
    let mu = u.reduce(0, +) / Double(n)
    let mc = conv.reduce(0, +) / Double(n)
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for i in 0..<n {
        sxy += (u[i] - mu) * (conv[i] - mc)
        sxx += (u[i] - mu) * (u[i] - mu)
        syy += (conv[i] - mc) * (conv[i] - mc)
    }
    let r = sxy / (sxx * syy).squareRoot()
    var b0 = 0.0, b1 = 0.0
    for _ in 0..<25 {
        var g0 = 0.0, g1 = 0.0, h00 = 0.0, h01 = 0.0, h11 = 0.0
        for i in 0..<n {
            let p = 1 / (1 + exp(-(b0 + b1 * u[i])))
            let w = p * (1 - p)
            g0 += conv[i] - p
            g1 += (conv[i] - p) * u[i]
            h00 += w
            h01 += w * u[i]
            h11 += w * u[i] * u[i]
        }
        let det = h00 * h11 - h01 * h01
        b0 += (h11 * g0 - h01 * g1) / det
        b1 += (h00 * g1 - h01 * g0) / det
    }
    let u50 = -b0 / b1
    var o = ChartOptions(title: "Layer-wise uncertainty vs convergence (layer 20)", xLabel: "Uncertainty U", yLabel: "Converged")
    o.y.ticks = [0, 0.5, 1]
    o.referenceLines = [ReferenceLine(axis: .x, value: u50, label: String(format: "P = 0.5 at U = %.2f", u50))]
    o.annotation = String(format: "point-biserial r = %.2f\nlogistic: b0 = %.2f, b1 = %.2f", r, b0, b1)
        .replacingOccurrences(of: "= -", with: "= \u{2212}")
    let fig = try Plot.scatter(series: [ScatterSeries(name: "samples", x: u, y: conv, alpha: 0.35, yJitter: 0.04)],
                               fits: [FitCurve(name: "logistic fit", kind: .logistic(intercept: b0, slope: b1), color: Palette.okabeIto[1])],
                               options: o)
    try save(fig, "scatter_logistic.png")
}

// 5. Score against a hyperparameter (Figures 7 and 8).
do {
    let lambdas = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    let f1 = [75.9, 76.8, 77.6, 78.1, 77.2, 74.8]
    let acc = [73.1, 73.9, 74.5, 75.0, 74.1, 72.1]
    var o = ChartOptions(title: "AMBER score vs smoothing weight \u{03BB}", xLabel: "\u{03BB}", yLabel: "Score")
    o.x.ticks = lambdas
    o.grid = .horizontal
    let fig = try Plot.lineChart(series: [LineSeries(name: "F1", x: lambdas, y: f1),
                                          LineSeries(name: "Accuracy", x: lambdas, y: acc, marker: .diamond, style: .dashed)],
                                 options: o)
    try save(fig, "hyperparameter.png")
}

// 6. Per-task bars (Figure 5).
do {
    let tasks = ["Existence", "Count", "Position", "Color", "OCR"]
    let base = [190.0, 155.0, 128.3, 165.0, 125.0]
    let up = base.map { $0 + 4 + 10 * rng.uniform() }
    var o = ChartOptions(title: "MME perception subsets (synthetic)", yLabel: "Score")
    o.grid = .horizontal
    o.legend = .upperRight
    let fig = try Plot.barChart(categories: tasks, groups: [BarGroup(name: "vanilla", values: base),
                                                           BarGroup(name: "CLVS", values: up)],
                                bar: BarStyle(valueLabels: true, valueFormat: .decimals(1)), options: o)
    try save(fig, "bars_mme.png")
}

// A synthetic "photo": sky, grass, a white ball (the key object) and a blue box.
let photoW = 640, photoH = 426
let ball = (x: 420.0, y: 250.0, r: 62.0)
var photo = [UInt8](repeating: 0, count: photoW * photoH * 3)
var ballMask = [Bool](repeating: false, count: photoW * photoH)
for y in 0..<photoH {
    for x in 0..<photoW {
        let fy = Double(y) / Double(photoH)
        var c: (Double, Double, Double) = fy < 0.55 ? (150 + 80 * fy, 190 + 50 * fy, 235) : (90 - 30 * fy, 150 - 40 * fy, 70)
        let dx = Double(x) + 0.5 - ball.x, dy = Double(y) + 0.5 - ball.y
        if dx * dx + dy * dy < ball.r * ball.r {
            let shade = 1 - 0.4 * (dx + dy) / (2 * ball.r)
            c = (240 * shade, 236 * shade, 225 * shade)
            ballMask[y * photoW + x] = true
        } else if x > 90 && x < 230 && y > 200 && y < 330 {
            c = (60, 90, 170)
        }
        let i = (y * photoW + x) * 3
        photo[i] = UInt8(max(0, min(255, c.0)))
        photo[i + 1] = UInt8(max(0, min(255, c.1)))
        photo[i + 2] = UInt8(max(0, min(255, c.2)))
    }
}
let image = RGBImage(width: photoW, height: photoH, pixels: photo)
// CLIP-style preprocessing of a 640x426 image: shortest side to 224, centre crop 224x224.
let resizedW = Int((Double(photoW) * 224 / Double(photoH)).rounded())
let geometry = ImageGeometry(originalWidth: photoW, originalHeight: photoH, pad: nil, resizedWidth: resizedW, resizedHeight: 224,
                             cropX: (resizedW - 224) / 2, cropY: 0, outputWidth: 224, outputHeight: 224)
let grid = GridShape(cols: 16, rows: 16)

/// Synthetic attention of layer l: sink tokens early, focus on the ball in the middle layers.
func attention(layer l: Int) -> [Float] {
    let c = geometry.originalToOutput(x: ball.x, y: ball.y)
    let cx = c.x / 224 * Double(grid.cols), cy = c.y / 224 * Double(grid.rows)
    let focus = exp(-pow(Double(l) - 16, 2) / 40)
    var a = [Float](repeating: 0, count: grid.count)
    var lrng = Rng(state: 77 &+ UInt64(l))
    for r in 0..<grid.rows {
        for k in 0..<grid.cols {
            let d2 = pow(Double(k) + 0.5 - cx, 2) + pow(Double(r) + 0.5 - cy, 2)
            var v = 0.2 * lrng.uniform() + 3 * focus * exp(-d2 / 3)
            if (r == 2 && k == 13) || (r == 11 && k == 1) { v += 2.2 * (1 - focus) }  // "sink" patches
            a[r * grid.cols + k] = Float(v)
        }
    }
    let total = a.reduce(0, +)
    return a.map { $0 / total }
}

// 7. One layer on the image as the model saw it, with the key-object outline.
do {
    var o = OverlayOptions(title: "Layer 16: attention on the model's input", width: 560, height: 480)
    o.mask = .pixels(ballMask, width: photoW, height: photoH)
    let fig = try Plot.attentionOverlay(image: image, geometry: geometry, attention: attention(layer: 16), grid: grid, options: o)
    try save(fig, "overlay_model_input.png")
}

// 8. The same map back on the original image (the cropped-away sides are veiled).
do {
    var o = OverlayOptions(title: "Layer 16 mapped back onto the original image", width: 720, height: 460)
    o.space = .original
    o.mask = .pixels(ballMask, width: photoW, height: photoH)
    o.alpha = .proportional(max: 0.85)
    let fig = try Plot.attentionOverlay(image: image, geometry: geometry, attention: attention(layer: 16), grid: grid, options: o)
    try save(fig, "overlay_original.png")
}

// 9. Small multiples: eight layers with one shared colour scale (Figure 1).
do {
    let shown = [0, 4, 8, 12, 16, 20, 24, 28]
    var o = OverlayOptions(title: "Visual attention by layer (shared scale)", width: 880, height: 480)
    o.colormap = .magma
    o.alpha = .proportional(max: 0.9)
    o.mask = .grid(maskOnGrid())
    o.contourWidth = 1
    let fig = try Plot.layerGridOverlay(image: image, geometry: geometry, attention: shown.map { attention(layer: $0) }, grid: grid,
                                        titles: shown.map { "Layer \($0)" }, columns: 4, options: o)
    try save(fig, "layer_grid.png")
}

/// The ball on the token grid: a patch is on the object if any of its pixels is.
func maskOnGrid() -> [Bool] {
    var m = [Bool](repeating: false, count: grid.count)
    for y in 0..<224 {
        for x in 0..<224 {
            let o = geometry.outputToOriginal(x: Double(x) + 0.5, y: Double(y) + 0.5)
            let ox = Int(o.x), oy = Int(o.y)
            if ox >= 0, oy >= 0, ox < photoW, oy < photoH, ballMask[oy * photoW + ox] {
                m[(y * grid.rows / 224) * grid.cols + x * grid.cols / 224] = true
            }
        }
    }
    return m
}

// 10. Nearest-neighbour upsampling of a non-square grid with jet (on request), no geometry.
do {
    let g = GridShape(cols: 12, rows: 8)
    var a = [Double](repeating: 0, count: g.count)
    for r in 0..<g.rows {
        for k in 0..<g.cols {
            a[r * g.cols + k] = exp(-(pow(Double(k) - 7.5, 2) + pow(Double(r) - 4.2, 2)) / 6) + 0.15 * rng.uniform()
        }
    }
    var o = OverlayOptions(title: "12 \u{00D7} 8 patch grid, nearest, jet", width: 640, height: 440)
    o.colormap = .jet
    o.upsampling = .nearest
    o.alpha = .constant(0.5)
    let fig = try Plot.attentionOverlay(image: image, geometry: nil, attention: a, grid: g, options: o)
    try save(fig, "overlay_grid_nearest_jet.png")
}

// 11. Attention mass on the image per layer and head.
do {
    let heads = 32
    var m: [[Double]] = []
    for l in 0..<layers {
        m.append((0..<heads).map { h in
            let base = l < 2 ? 0.6 : 0.12 + 0.25 * exp(-pow(Double(l) - 15, 2) / 30)
            return min(1, max(0, base + 0.12 * rng.normal() + (h % 7 == 3 ? 0.15 : 0)))
        })
    }
    var o = MatrixOptions(title: "Attention mass on image tokens", width: 640, height: 600)
    o.colorbarLabel = "share of attention"
    o.colorbarFormat = .percent
    let fig = try Plot.layerHeadMatrix(values: m, options: o)
    try save(fig, "layer_head_matrix.png")
}
