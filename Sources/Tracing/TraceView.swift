import Foundation
import Imaging
import Models
import SafeTensors

/// A trace in memory: the manifest and the per-step attention rows. Built from a run, or read
/// back from a trace directory (`trace.json` + `trace.safetensors`).
public struct TraceView {
    public var manifest: TraceManifest
    /// Per step: [layers, heads, keys(step)].
    public var attention: [[Float]]
    /// Keys of each step (T + s).
    public var keyCounts: [Int]
    /// Per step: the lens uncertainty per layer (top-10, no final norm), if recorded.
    public var lensUncertainty: [[Float]]?
    /// Per step: the layer where CLVS stopped smoothing (nil = never), if CLVS ran.
    public var clvsStopLayers: [Int?]?

    public init(manifest: TraceManifest, attention: [[Float]], keyCounts: [Int]) {
        self.manifest = manifest
        self.attention = attention
        self.keyCounts = keyCounts
    }

    /// A view of an in-memory outcome (before it is written).
    public init(outcome: TraceOutcome, manifest: TraceManifest) {
        self.init(manifest: manifest, attention: outcome.recorder.attention, keyCounts: outcome.recorder.keyCounts)
        lensUncertainty = outcome.lens?.steps.map(\.uncertainty)
        clvsStopLayers = outcome.clvs?.records.map(\.stopLayer)
    }

    /// Reads a trace directory written by `clvs-trace run`.
    public static func load(directory: URL) throws -> TraceView {
        let jsonURL = directory.appendingPathComponent("trace.json")
        let data: Data
        do { data = try Data(contentsOf: jsonURL) } catch {
            throw TraceError.io(path: jsonURL.path, reason: "not found or not readable (is this a trace directory?)")
        }
        let dec = JSONDecoder()
        dec.keyDecodingStrategy = .convertFromSnakeCase
        let manifest: TraceManifest
        do { manifest = try dec.decode(TraceManifest.self, from: data) } catch {
            throw TraceError.io(path: jsonURL.path, reason: "not a clvs-trace manifest (\(error))")
        }
        let file = try SafeTensorsFile(url: directory.appendingPathComponent("trace.safetensors"))
        var attention: [[Float]] = [], keys: [Int] = []
        let L = manifest.model.textLayers, H = manifest.model.textHeads
        for s in manifest.generatedIds.indices {
            let name = TraceKey.stepAttention(step: s).name
            guard file.tensors[name] != nil else {
                throw TraceError.io(path: file.url.path, reason: "tensor '\(name)' is absent (the trace was recorded without full rows)")
            }
            let info = try file.info(name)
            guard info.shape.count == 3, info.shape[0] == L, info.shape[1] == H else {
                throw TraceError.io(path: file.url.path, reason: "tensor '\(name)' has shape \(info.shape), expected [\(L), \(H), keys]")
            }
            attention.append(try file.floats(name))
            keys.append(info.shape[2])
        }
        var view = TraceView(manifest: manifest, attention: attention, keyCounts: keys)
        let S = manifest.generatedIds.count
        if file.tensors[TraceKey.lensUncertainty(step: 0).name] != nil {
            view.lensUncertainty = try (0..<S).map { try file.floats(TraceKey.lensUncertainty(step: $0).name) }
        }
        if file.tensors[TraceKey.clvsStopLayer(step: 0).name] != nil {
            view.clvsStopLayers = try (0..<S).map { s -> Int? in
                let v = try file.int64s(TraceKey.clvsStopLayer(step: s).name).first ?? -1
                return v < 0 ? nil : Int(v)
            }
        }
        return view
    }

    public var layers: Int { manifest.model.textLayers }
    public var heads: Int { manifest.model.textHeads }
    public var steps: Int { attention.count }

    /// The generating row's attention on the image's patch grid at `step`, per layer:
    /// [layers][gridRows * gridColumns], pooled over heads (mean, or max).
    public func gridAttention(step: Int, headMax: Bool = false) throws -> [[Float]] {
        guard attention.indices.contains(step) else {
            throw TraceError.io(path: "trace", reason: "step \(step) is not in the trace (it has \(steps) steps)")
        }
        let span = manifest.imageSpan
        let k = keyCounts[step], a = attention[step]
        let first = span.start + span.gridOffset
        let n = span.gridColumns * span.gridRows
        return (0..<layers).map { l in
            (0..<n).map { i in
                var acc: Float = headMax ? -.infinity : 0
                for h in 0..<heads {
                    let v = a[(l * heads + h) * k + first + i]
                    acc = headMax ? max(acc, v) : acc + v
                }
                return headMax ? acc : acc / Float(heads)
            }
        }
    }

    /// Attention mass on all image tokens at `step`: [layers][heads].
    public func imageMass(step: Int) -> [[Float]] {
        let span = manifest.imageSpan
        let k = keyCounts[step], a = attention[step]
        return (0..<layers).map { l in
            (0..<heads).map { h in
                var s: Float = 0
                for j in span.range { s += a[(l * heads + h) * k + j] }
                return s
            }
        }
    }
}
