import Foundation
import Plotting

/// The CLVS hyper-parameter a sweep varies (the paper's Figures 7 and 8).
public enum SweepParameter: String, CaseIterable, Sendable, Codable {
    case gamma, lambda
}

/// The headline numbers of a score report, by name (`<split or dimension> accuracy|F1`), in a
/// fixed order: POPE per split, AMBER all/attribute/relation/existence (those with questions),
/// MME perception/cognition, R-Bench per subset. A metric the report defines but cannot compute
/// (F1 when nothing was answered "yes") is listed with a nil value, so a sweep's columns depend on
/// the benchmark and never on the answers.
public enum HeadlineMetrics {
    public static func of(_ r: ScoreReport) -> [(name: String, value: Double?)] {
        var out: [(String, Double?)] = []
        for p in r.pope ?? [] {
            out.append(("\(p.name) accuracy", p.metrics.accuracy))
            out.append(("\(p.name) F1", p.metrics.f1))
        }
        if let a = r.amber {
            for (name, m) in [("all", a.all), ("existence", a.existence), ("attribute", a.attribute), ("relation", a.relation)] where m.questions > 0 {
                out.append(("\(name) accuracy", m.accuracy))
                out.append(("\(name) F1", m.f1))
            }
        }
        if let m = r.mme {
            out.append(("perception", m.perception))
            out.append(("cognition", m.cognition))
        }
        for s in r.rbench?.subsets ?? [] {
            out.append(("\(s.name) accuracy", s.metrics.accuracy))
            out.append(("\(s.name) F1", s.metrics.f1))
        }
        return out
    }
}

/// One run of a sweep: vanilla (value nil) or CLVS at one value of the swept parameter.
public struct SweepRun: Sendable {
    public var value: Double?
    public var settings: MethodSettings
    public var report: ScoreReport
    public var metrics: [(name: String, value: Double?)] { HeadlineMetrics.of(report) }

    /// The defined headline metrics by name (an undefined one, e.g. F1 with no "yes", is absent).
    public var definedMetrics: [String: Double] {
        Dictionary(metrics.compactMap { m in m.value.map { (m.name, $0) } }, uniquingKeysWith: { a, _ in a })
    }

    public init(value: Double?, settings: MethodSettings, report: ScoreReport) {
        self.value = value
        self.settings = settings
        self.report = report
    }
}

/// A benchmark over a grid of one CLVS parameter (the others fixed), plus the vanilla baseline.
public struct SweepResult: Sendable {
    public var parameter: SweepParameter
    public var benchmark: BenchmarkKind
    public var vanilla: SweepRun?
    public var runs: [SweepRun]

    public init(parameter: SweepParameter, benchmark: BenchmarkKind, vanilla: SweepRun?, runs: [SweepRun]) {
        self.parameter = parameter
        self.benchmark = benchmark
        self.vanilla = vanilla
        self.runs = runs
    }

    /// The answers file of one run inside the sweep's folder (resumable: `eval` semantics).
    public static func answersFile(in directory: URL, parameter: SweepParameter, value: Double?) -> URL {
        let name = value.map { "answers_\(parameter.rawValue)_\(format($0)).jsonl" } ?? "answers_vanilla.jsonl"
        return directory.appendingPathComponent(name)
    }

    static func format(_ v: Double) -> String {
        var s = String(format: "%.4f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s += "0" }
        return s
    }

    /// Metric names in report order, each run's own names in turn (the runs of one benchmark share
    /// them; a name only some runs have gets empty cells in the others).
    public var metricNames: [String] {
        var seen = Set<String>()
        return ((vanilla.map { [$0] } ?? []) + runs).flatMap { $0.metrics.map(\.name) }.filter { seen.insert($0).inserted }
    }

    /// CSV: `parameter,value,method,lambda,gamma,delta,<metric>...` (vanilla first, value empty).
    public func csv() -> String {
        let names = metricNames
        var lines = [(["parameter", "value", "method", "lambda", "gamma", "delta"] + names).map(csvField).joined(separator: ",")]
        for r in (vanilla.map { [$0] } ?? []) + runs {
            let m = r.definedMetrics
            var cells = [parameter.rawValue, r.value.map(Self.format) ?? "", r.settings.method.rawValue,
                         r.settings.lambda.map(Self.format) ?? "", r.settings.gamma.map(Self.format) ?? "",
                         r.settings.delta.map(Self.format) ?? ""]
            cells += names.map { m[$0].map { String(format: "%.4f", $0) } ?? "" }
            lines.append(cells.map(csvField).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// JSON: the parameter, the values, and per run its settings, headline metrics and full report.
    public func json() throws -> Data {
        struct Run: Encodable {
            var value: Double?
            var settings: MethodSettings
            /// Defined metrics only (an undefined one is absent, as JSON has no NaN).
            var metrics: [String: Double]
            var report: ScoreReport
        }
        struct Doc: Encodable {
            var parameter: String
            var benchmark: String
            var metrics: [String]
            var vanilla: Run?
            var runs: [Run]
        }
        func run(_ r: SweepRun) -> Run {
            Run(value: r.value, settings: r.settings, metrics: r.definedMetrics, report: r.report)
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(Doc(parameter: parameter.rawValue, benchmark: benchmark.rawValue, metrics: metricNames,
                                  vanilla: vanilla.map(run), runs: runs.map(run)))
    }

    /// The paper's Figure 7/8 style: one panel per metric kind (accuracy, F1, or the score), a line
    /// per split/dimension against the parameter, vanilla as a dashed level in the same colour.
    public func figures() throws -> [(name: String, figure: Figure)] {
        let names = metricNames
        let x = runs.compactMap(\.value)
        guard !x.isEmpty, x.count == runs.count else { return [] }
        let groups: [(suffix: String, label: String)] = [(" accuracy", "accuracy"), (" F1", "F1"), ("", "score")]
        let defined = runs.map(\.definedMetrics), base = vanilla?.definedMetrics ?? [:]
        var out: [(String, Figure)] = []
        var used = Set<String>()
        for g in groups {
            let members = names.filter { n in !used.contains(n) && (g.suffix.isEmpty || n.hasSuffix(g.suffix)) }
            if members.isEmpty { continue }
            used.formUnion(members)
            var series: [LineSeries] = []
            for (i, n) in members.enumerated() {
                let color = Palette.okabeIto[i % Palette.okabeIto.count]
                let label = g.suffix.isEmpty ? n : String(n.dropLast(g.suffix.count))
                // Only the points where the metric is defined (F1 is not when nothing was answered "yes").
                let points = zip(x, defined).compactMap { v, m in m[n].map { (v, $0) } }
                if !points.isEmpty {
                    series.append(LineSeries(name: "CLVS, \(label)", x: points.map(\.0), y: points.map(\.1), color: color))
                }
                if let v = base[n] {
                    series.append(LineSeries(name: "vanilla, \(label)", x: x, y: x.map { _ in v }, color: color, marker: .none, style: .dashed))
                }
            }
            if series.isEmpty { continue }
            var opt = ChartOptions()
            opt.title = "\(benchmark.rawValue): \(g.label) vs \(parameter == .gamma ? "γ" : "λ")"
            opt.x.label = parameter == .gamma ? "γ (memory weight)" : "λ (smoothing weight)"
            opt.y.label = g.label
            let file = g.suffix.isEmpty ? "sweep_\(parameter.rawValue)_score.png" : "sweep_\(parameter.rawValue)_\(g.suffix.trimmingCharacters(in: .whitespaces).lowercased()).png"
            out.append((file, try Plot.lineChart(series: series, options: opt)))
        }
        return out
    }
}
