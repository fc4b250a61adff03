import Analysis
import Foundation
import Plotting
import SafeTensors

/// Errors of the multi-trace studies (`clvs-trace study ...`); each names the trace or file.
public enum StudyError: Error, CustomStringConvertible {
    case noTraces(path: String)
    case missingLens(trace: String)
    case stepOutOfRange(trace: String, step: Int, steps: Int)
    case badTensor(trace: String, key: String, reason: String)
    case noKeyObject(trace: String)
    case noPairs(unpaired: [String])
    case layerCountMismatch(trace: String, layers: Int, expected: Int)
    case badLayerRange(String, layers: Int)

    public var description: String {
        switch self {
        case let .noTraces(path):
            return "\(path): no trace directory here (no trace.json in it or in any folder directly inside it)"
        case let .missingLens(trace):
            return "\(trace): the trace was recorded without the logit lens (no steps.*.lens.uncertainty / lens.top_ids); re-run without --no-lens"
        case let .stepOutOfRange(trace, step, steps):
            return "\(trace): step \(step) is not in the trace (it has \(steps) steps)"
        case let .badTensor(trace, key, reason):
            return "\(trace)/trace.safetensors: tensor '\(key)' \(reason)"
        case let .noKeyObject(trace):
            return "\(trace)/trace.json: no key object (options.key_object is absent); pass --category"
        case let .noPairs(unpaired):
            return "no vanilla/CLVS pair shares a prompt and image (unpaired: \(unpaired.joined(separator: ", ")))"
        case let .layerCountMismatch(trace, layers, expected):
            return "\(trace)/trace.json: model.text_layers is \(layers), the other traces have \(expected)"
        case let .badLayerRange(text, layers):
            return "--layers '\(text)': expected A-B (or A) with 0 <= A <= B < \(layers)"
        }
    }
}

/// Finding trace directories and reading what the studies need from them.
public enum StudyTraces {
    /// Every root is a trace directory (holds `trace.json`) or a folder whose direct subfolders
    /// include trace directories (sorted by name). Throws when a root yields none.
    public static func discover(_ roots: [URL]) throws -> [URL] {
        let fm = FileManager.default
        var out: [URL] = []
        for root in roots {
            if fm.fileExists(atPath: root.appendingPathComponent("trace.json").path) {
                out.append(root)
                continue
            }
            let names = ((try? fm.contentsOfDirectory(atPath: root.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            let found = names.map { root.appendingPathComponent($0) }
                .filter { fm.fileExists(atPath: $0.appendingPathComponent("trace.json").path) }
            guard !found.isEmpty else { throw StudyError.noTraces(path: root.path) }
            out += found
        }
        return out
    }

    /// The manifest (`trace.json`) of a trace directory.
    public static func manifest(_ directory: URL) throws -> TraceManifest {
        let url = directory.appendingPathComponent("trace.json")
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TraceError.io(path: url.path, reason: "not found or not readable (is this a trace directory?)")
        }
        let dec = JSONDecoder()
        dec.keyDecodingStrategy = .convertFromSnakeCase
        do { return try dec.decode(TraceManifest.self, from: data) } catch {
            throw TraceError.io(path: url.path, reason: "not a clvs-trace manifest (\(error))")
        }
    }
}

// MARK: - Convergence (Fig. 4)

/// One (trace, layer) observation of the convergence study.
public struct ConvergenceRow: Sendable, Equatable, Codable {
    public var trace: String
    public var layer: Int
    /// Lens uncertainty `U_l` (top-10 entropy / ln 10, no final norm).
    public var u: Double
    /// Lens top-1 at this layer and every later layer equals the generated token.
    public var converged: Bool
}

/// Convergence vs uncertainty over many traces (Fig. 4): per (trace, layer) `U_l` and the
/// convergence flag, the point-biserial correlation and the logistic regression of converged on U.
public struct ConvergenceStudy: Sendable, Codable {
    public let step: Int
    public let traces: [String]
    public let n: Int
    /// nil when it cannot be computed (see `note`).
    public let pointBiserial: CorrelationResult?
    /// nil when it cannot be computed (see `note`); its `status` reports separation.
    public let logistic: LogisticRegression?
    /// Why a statistic is absent, if one is.
    public let note: String?
    public let rows: [ConvergenceRow]

    /// The rows of one trace at `step`: [layers].
    public static func rows(trace directory: URL, step: Int) throws -> [ConvergenceRow] {
        let m = try StudyTraces.manifest(directory)
        let name = directory.path
        guard m.generatedIds.indices.contains(step) else {
            throw StudyError.stepOutOfRange(trace: name, step: step, steps: m.generatedIds.count)
        }
        let file = try SafeTensorsFile(url: directory.appendingPathComponent("trace.safetensors"))
        let uKey = TraceKey.lensUncertainty(step: step).name, topKey = TraceKey.lensTopIds(step: step).name
        guard file.tensors[uKey] != nil, file.tensors[topKey] != nil else { throw StudyError.missingLens(trace: name) }
        let L = m.model.textLayers
        let u = try file.floats(uKey)
        guard u.count == L else { throw StudyError.badTensor(trace: name, key: uKey, reason: "has \(u.count) values, expected \(L)") }
        let info = try file.info(topKey)
        guard info.shape.count == 2, info.shape[0] == L, info.shape[1] >= 1 else {
            throw StudyError.badTensor(trace: name, key: topKey, reason: "has shape \(info.shape), expected [\(L), k]")
        }
        let k = info.shape[1]
        let top = try file.int64s(topKey)
        let top1 = (0..<L).map { Int(top[$0 * k]) }
        let flags = LayerAnalysis.converged(top1: top1, finalToken: m.generatedIds[step])
        return (0..<L).map { ConvergenceRow(trace: name, layer: $0, u: Double(u[$0]), converged: flags[$0]) }
    }

    /// Runs the study over trace directories (already discovered).
    public static func compute(traces: [URL], step: Int = 0) throws -> ConvergenceStudy {
        var rows: [ConvergenceRow] = []
        for t in traces { rows += try Self.rows(trace: t, step: step) }
        let x = rows.map(\.u), y = rows.map { $0.converged ? 1.0 : 0.0 }
        var notes: [String] = []
        var pb: CorrelationResult?
        do { pb = try Correlation.pointBiserial(binary: y, continuous: x, context: "point-biserial(converged, U)") } catch {
            notes.append("point-biserial: \(error)")
        }
        var lr: LogisticRegression?
        do { lr = try LogisticRegression.fit(y: y, features: [x], names: ["U"]) } catch {
            notes.append("logistic regression: \(error)")
        }
        return ConvergenceStudy(step: step, traces: traces.map(\.path), n: rows.count, pointBiserial: pb, logistic: lr,
                                note: notes.isEmpty ? nil : notes.joined(separator: "; "), rows: rows)
    }

    /// `trace,layer,U,converged` (converged as 0/1).
    public func csv() -> String {
        var s = "trace,layer,U,converged\n"
        for r in rows { s += "\(csvField(r.trace)),\(r.layer),\(r.u),\(r.converged ? 1 : 0)\n" }
        return s
    }

    /// Pretty JSON with sorted keys, without the per-row table (that is the CSV).
    public func json() throws -> Data {
        struct Summary: Codable {
            let step: Int; let traces: [String]; let n: Int
            let pointBiserial: CorrelationResult?; let logistic: LogisticRegression?
            let uAtHalf: Double?; let status: String; let note: String?
        }
        let status = logistic?.status.rawValue ?? "not fitted"
        return try studyJSON(Summary(step: step, traces: traces, n: n, pointBiserial: pointBiserial, logistic: logistic,
                                     uAtHalf: logistic?.xAtHalf, status: status, note: note))
    }

    /// Figure 4: U vs converged (jittered) with the logistic curve and r, p, U at P = 0.5.
    public func figure() throws -> Figure {
        var notes: [String] = []
        if let pb = pointBiserial { notes.append(String(format: "r = %.3f, p = %.3g", pb.r, pb.p)) }
        if let lr = logistic {
            if let u = lr.xAtHalf { notes.append(String(format: "U at P=0.5: %.3f", u)) }
            if lr.status != .converged { notes.append("fit: \(lr.status.rawValue)") }
        }
        notes.append("n = \(n)")
        var fits: [FitCurve] = []
        if let c = logistic?.coefficients, c.count == 2, c.allSatisfy({ $0.isFinite }) {
            fits.append(FitCurve(name: "logistic fit", kind: .logistic(intercept: c[0], slope: c[1])))
        }
        var opt = ChartOptions(title: "Convergence vs uncertainty (step \(step))", xLabel: "uncertainty U", yLabel: "converged")
        opt.y.range = Bounds(-0.15, 1.15)
        opt.annotation = notes.joined(separator: "\n")
        return try Plot.scatter(series: [ScatterSeries(name: "layer", x: rows.map(\.u), y: rows.map { $0.converged ? 1 : 0 },
                                                       alpha: 0.5, yJitter: 0.05)],
                                fits: fits, options: opt)
    }

    /// Writes `convergence.csv`, `convergence.json`, `figure4.png` into `directory` atomically.
    public func write(to directory: URL, force: Bool = false) throws {
        let files: [(String, Data)] = [("convergence.csv", Data(csv().utf8)), ("convergence.json", try json()),
                                       ("figure4.png", Data(try figure().pngData()))]
        try commitDirectory(directory, force: force) { tmp in
            for (name, data) in files { try data.write(to: tmp.appendingPathComponent(name)) }
        }
    }
}

// MARK: - Key-object attention (Fig. 2, Fig. 6)

/// One (trace, layer) key-object attention value.
public struct KeyObjectRow: Sendable, Equatable, Codable {
    public var trace: String
    /// "vanilla" or "clvs".
    public var method: String
    public var layer: Int
    /// `a_l`: head-mean attention mass on the key object's tokens.
    public var a: Double
    /// `a_l` over the attention mass on all image grid tokens (nil if that is 0).
    public var share: Double?
}

/// A vanilla and a CLVS trace of the same prompt and image.
public struct TracePair: Sendable, Equatable, Codable {
    public var vanilla: String
    public var clvs: String
    public var keyObject: String
}

/// Per-method series of the key-object study.
public struct MethodSeries<T: Codable & Sendable & Equatable>: Sendable, Equatable, Codable {
    public var vanilla: T
    public var clvs: T
}

/// Key-object attention of paired vanilla/CLVS traces (Fig. 6 and Fig. 2 averaged over samples).
public struct KeyObjectStudy: Sendable, Codable {
    public let step: Int
    public let layers: Int
    /// Closed layer range `[lo, hi]` of `meanRelativeIncreaseOverRange`.
    public let layerRange: [Int]
    public let samples: Int
    public let pairs: [TracePair]
    /// Traces without a partner (skipped).
    public let unpaired: [String]
    /// [layers] number of samples peaking at each layer, per method.
    public let peakHistogram: MethodSeries<[Int]>
    /// [layers] mean over samples of `a_l`, per method.
    public let meanAttention: MethodSeries<[Double]>
    /// [layers] mean over samples of the relative increase CLVS over vanilla, clipped at 100%.
    public let relativeIncrease: [Double]
    /// Mean of `relativeIncrease` over `layerRange`.
    public let meanRelativeIncreaseOverRange: Double
    public let rows: [KeyObjectRow]

    /// The default layer range: the middle three layers L/2-1 ... L/2+1, clamped to the model.
    public static func defaultLayers(_ L: Int) -> ClosedRange<Int> {
        max(0, L / 2 - 1)...max(0, min(L - 1, L / 2 + 1))
    }

    /// Parses `A-B` or `A` into a layer range within `0..<layers`.
    public static func parseLayers(_ text: String, layers: Int) throws -> ClosedRange<Int> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), let lo = parts.first ?? nil, let hi = parts.last ?? nil,
              lo >= 0, lo <= hi, hi < layers else { throw StudyError.badLayerRange(text, layers: layers) }
        return lo...hi
    }

    /// Pairs traces by prompt text and image file, computes key-object attention at `step` for
    /// each, and summarises. `category` overrides each trace's `options.key_object`; `imageID`
    /// overrides `options.image_id` and the digits of the image file name. `layerText` is `A-B`.
    public static func compute(vanilla: [URL], clvs: [URL], annotations: URL, category: String? = nil, imageID: Int? = nil,
                               layers layerText: String? = nil, step: Int = 0) throws -> KeyObjectStudy {
        let dataset = try COCODataset(contentsOf: annotations)
        func key(_ m: TraceManifest) -> String { m.prompt.text + "\u{0}" + m.image.file }
        var clvsByKey: [String: [(URL, TraceManifest)]] = [:]
        var clvsOrder: [URL] = []
        for c in clvs {
            let m = try StudyTraces.manifest(c)
            clvsByKey[key(m), default: []].append((c, m))
            clvsOrder.append(c)
        }
        var matched: [(URL, TraceManifest, URL, TraceManifest)] = []
        var unpaired: [String] = []
        for v in vanilla {
            let m = try StudyTraces.manifest(v)
            if var list = clvsByKey[key(m)], !list.isEmpty {
                let (c, cm) = list.removeFirst()
                clvsByKey[key(m)] = list
                matched.append((v, m, c, cm))
            } else {
                unpaired.append(v.path)
            }
        }
        let used = Set(matched.map { $0.2.path })
        unpaired += clvsOrder.map(\.path).filter { !used.contains($0) }
        guard let first = matched.first else { throw StudyError.noPairs(unpaired: unpaired) }
        let L = first.1.model.textLayers
        let range = try layerText.map { try parseLayers($0, layers: L) } ?? defaultLayers(L)

        var rows: [KeyObjectRow] = []
        var pairs: [TracePair] = []
        var series: [(vanilla: [Double], clvs: [Double])] = []
        var keyCache: [String: KeyObject] = [:]
        for (v, vm, c, cm) in matched {
            for (dir, m) in [(v, vm), (c, cm)] where m.model.textLayers != L {
                throw StudyError.layerCountMismatch(trace: dir.path, layers: m.model.textLayers, expected: L)
            }
            guard let cat = category ?? vm.options["key_object"] ?? cm.options["key_object"] else {
                throw StudyError.noKeyObject(trace: v.path)
            }
            var perMethod: [[Double]] = []
            for (dir, m, method) in [(v, vm, "vanilla"), (c, cm, "clvs")] {
                let view = try TraceView.load(directory: dir)
                guard view.steps > step else { throw StudyError.stepOutOfRange(trace: dir.path, step: step, steps: view.steps) }
                let id = imageID ?? m.options["image_id"].flatMap { Int($0) }
                let ko = try keyObject(dataset: dataset, category: cat, imageID: id, manifest: m, cache: &keyCache)
                let a = try view.keyObjectAttention(step: step, key: ko)
                let share = a.share
                for l in 0..<L { rows.append(KeyObjectRow(trace: dir.path, method: method, layer: l, a: a.mass[l], share: share[l])) }
                perMethod.append(a.mass)
            }
            series.append((perMethod[0], perMethod[1]))
            pairs.append(TracePair(vanilla: v.path, clvs: c.path, keyObject: cat))
        }
        let peaksV = try series.map { try LayerAnalysis.peakLayer($0.vanilla) }
        let peaksC = try series.map { try LayerAnalysis.peakLayer($0.clvs) }
        let rel = try LayerAnalysis.meanRelativeIncrease(series.map { (method: $0.clvs, base: $0.vanilla) })
        func mean(_ s: [[Double]]) -> [Double] {
            (0..<L).map { l in s.reduce(0.0) { $0 + $1[l] } / Double(s.count) }
        }
        return KeyObjectStudy(
            step: step, layers: L, layerRange: [range.lowerBound, range.upperBound], samples: series.count, pairs: pairs,
            unpaired: unpaired,
            peakHistogram: MethodSeries(vanilla: try LayerAnalysis.peakHistogram(peaksV, layerCount: L),
                                        clvs: try LayerAnalysis.peakHistogram(peaksC, layerCount: L)),
            meanAttention: MethodSeries(vanilla: mean(series.map(\.vanilla)), clvs: mean(series.map(\.clvs))),
            relativeIncrease: rel, meanRelativeIncreaseOverRange: try LayerAnalysis.mean(rel, layers: range), rows: rows)
    }

    /// The key object of a trace from an already loaded COCO file (cached per image, category, geometry).
    static func keyObject(dataset: COCODataset, category: String, imageID: Int?, manifest m: TraceManifest,
                          cache: inout [String: KeyObject]) throws -> KeyObject {
        let imageFile = URL(fileURLWithPath: m.image.file)
        let id: Int
        if let imageID {
            id = imageID
        } else {
            let digits = imageFile.deletingPathExtension().lastPathComponent.split(whereSeparator: { !$0.isNumber }).last
            guard let d = digits, let parsed = Int(d) else {
                throw TraceError.io(path: imageFile.path, reason: "no COCO image id in the file name; pass --image-id")
            }
            id = parsed
        }
        let g = m.image.geometry, span = m.imageSpan
        let cacheKey = "\(id)|\(category)|\(g)|\(span.gridColumns)x\(span.gridRows)"
        if let k = cache[cacheKey] { return k }
        guard let cat = ObjectNames.resolve(category, in: dataset.categories) else {
            throw TraceError.io(path: dataset.file, reason: "no COCO category matches '\(category)'")
        }
        let size = (height: g.originalHeight, width: g.originalWidth)
        if let known = dataset.image(id: id), known.width != size.width || known.height != size.height {
            throw TraceError.io(path: dataset.file, reason: "image \(id) is \(known.width)x\(known.height) in the annotations, but the traced image is \(size.width)x\(size.height)")
        }
        let rle = try dataset.unionMask(imageID: id, categoryID: cat.id, imageSize: size)
        let cov = try MaskMapping.coverage(of: rle, geometry: g, grid: PatchGrid(columns: span.gridColumns, rows: span.gridRows))
        let k = KeyObject(name: cat.name, tokens: cov.keyTokens(minFraction: 0), fractions: cov.fractions)
        cache[cacheKey] = k
        return k
    }

    /// `trace,method,layer,a_l,share` (share empty where undefined).
    public func csv() -> String {
        var s = "trace,method,layer,a_l,share\n"
        for r in rows { s += "\(csvField(r.trace)),\(r.method),\(r.layer),\(r.a),\(r.share.map { "\($0)" } ?? "")\n" }
        return s
    }

    /// Pretty JSON with sorted keys, without the per-row table (that is the CSV).
    public func json() throws -> Data {
        struct Summary: Codable {
            let step: Int; let layers: Int; let layerRange: [Int]; let samples: Int
            let pairs: [TracePair]; let unpaired: [String]
            let peakHistogram: MethodSeries<[Int]>; let meanAttention: MethodSeries<[Double]>
            let relativeIncrease: [Double]; let meanRelativeIncreaseOverRange: Double
        }
        return try studyJSON(Summary(step: step, layers: layers, layerRange: layerRange, samples: samples, pairs: pairs,
                                     unpaired: unpaired, peakHistogram: peakHistogram, meanAttention: meanAttention,
                                     relativeIncrease: relativeIncrease,
                                     meanRelativeIncreaseOverRange: meanRelativeIncreaseOverRange))
    }

    /// Figure 6 (left): peak-layer histograms, vanilla vs CLVS.
    public func peaksFigure() throws -> Figure {
        func peaks(_ h: [Int]) -> [Int] { h.indices.flatMap { [Int](repeating: $0, count: h[$0]) } }
        var opt = ChartOptions(title: "Peak layer of key-object attention (n = \(samples))", xLabel: "layer", yLabel: "samples")
        opt.x.integerTicks = true
        return try Plot.histogram(series: [HistogramSeries(name: "vanilla", integers: peaks(peakHistogram.vanilla)),
                                           HistogramSeries(name: "CLVS", integers: peaks(peakHistogram.clvs))],
                                  bins: .integers(0...(layers - 1)), options: opt)
    }

    /// Figure 6 (right): mean relative increase per layer (clipped at 100%), in percent.
    public func relativeIncreaseFigure() throws -> Figure {
        var opt = ChartOptions(title: String(format: "CLVS over vanilla: %+.2f%% over layers %d-%d",
                                             meanRelativeIncreaseOverRange * 100, layerRange[0], layerRange[1]),
                               xLabel: "layer", yLabel: "relative increase of key-object attention (%)")
        opt.x.integerTicks = true
        opt.referenceLines = [ReferenceLine(axis: .y, value: 0)]
        opt.spans = [ReferenceSpan(axis: .x, from: Double(layerRange[0]), to: Double(layerRange[1]))]
        return try Plot.lineChart(series: [LineSeries(name: "relative increase", y: relativeIncrease.map { $0 * 100 })], options: opt)
    }

    /// Figure 2 averaged over samples: mean key-object attention per layer, vanilla vs CLVS.
    public func meanAttentionFigure() throws -> Figure {
        var opt = ChartOptions(title: "Mean key-object attention (n = \(samples))", xLabel: "layer", yLabel: "attention on the key object")
        opt.x.integerTicks = true
        return try Plot.lineChart(series: [LineSeries(name: "vanilla", y: meanAttention.vanilla),
                                           LineSeries(name: "CLVS", y: meanAttention.clvs)], options: opt)
    }

    /// Writes `key_objects.csv`, `key_objects.json`, `figure6_peaks.png`,
    /// `figure6_relative_increase.png`, `figure2_mean.png` into `directory` atomically.
    public func write(to directory: URL, force: Bool = false) throws {
        let files: [(String, Data)] = [
            ("key_objects.csv", Data(csv().utf8)), ("key_objects.json", try json()),
            ("figure6_peaks.png", Data(try peaksFigure().pngData())),
            ("figure6_relative_increase.png", Data(try relativeIncreaseFigure().pngData())),
            ("figure2_mean.png", Data(try meanAttentionFigure().pngData())),
        ]
        try commitDirectory(directory, force: force) { tmp in
            for (name, data) in files { try data.write(to: tmp.appendingPathComponent(name)) }
        }
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break.
func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// Pretty, key-sorted, snake_case JSON; non-finite numbers as strings.
func studyJSON<T: Encodable>(_ value: T) throws -> Data {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    enc.keyEncodingStrategy = .convertToSnakeCase
    enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try enc.encode(value)
}
