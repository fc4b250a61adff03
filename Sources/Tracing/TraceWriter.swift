import Foundation
import Imaging
import Interventions
import Models
import SafeTensors

/// Errors writing a trace directory.
public enum TraceError: Error, CustomStringConvertible {
    case outputExists(String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .outputExists(p): return "\(p): output directory exists and is not empty (use --force to replace it)"
        case let .io(p, r): return "\(p): \(r)"
        }
    }
}

/// Everything a trace's manifest says about the run.
public struct TraceManifest: Codable, Sendable {
    public struct Key: Codable, Sendable {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var shapeDoc: String
        public var meaning: String
    }
    public struct ModelInfo: Codable, Sendable {
        public var directory: String
        public var modelType: String
        public var weightLayout: String
        public var textLayers: Int
        public var textHeads: Int
        public var textKeyValueHeads: Int
        public var vocabSize: Int
        public var visionLayers: Int
        public var imageSize: Int
        public var patchSize: Int
        /// Compute precision of the linear layers ("fp32" or "bf16").
        public var precision: String?
    }
    public struct PromptInfo: Codable, Sendable {
        public var template: String
        public var question: String?
        public var text: String
    }
    public struct ImageInfo: Codable, Sendable {
        public var file: String
        public var padToSquare: Bool
        public var geometry: ImageGeometry
    }
    /// The attention method and its settings.
    public struct MethodInfo: Codable, Sendable {
        public var name: String
        public var clvs: CLVSConfig?
    }
    public var format = "clvs-trace"
    public var version = 1
    public var method: MethodInfo?
    public var record: TraceOptions?
    public var model: ModelInfo
    public var prompt: PromptInfo
    public var image: ImageInfo
    public var inputLength: Int
    public var imageSpan: ImageSpan
    public var options: [String: String]
    public var answer: String
    public var generatedIds: [Int]
    public var keys: [Key]
}

/// Writes `trace.safetensors` + `trace.json` into a directory, atomically: both files are written
/// in a sibling temporary directory which is renamed into place, so an interrupted run never
/// leaves a trace that looks complete.
public struct TraceWriter {
    public var tensors = SafeTensorsWriter(metadata: ["format": "clvs-trace", "version": "1"])
    public private(set) var keys: [TraceManifest.Key] = []

    public init() {}

    public mutating func add(_ key: TraceKey, shape: [Int], floats: [Float]) throws {
        try tensors.add(key.name, shape: shape, floats: floats)
        keys.append(.init(name: key.name, dtype: "F32", shape: shape, shapeDoc: key.shapeDoc, meaning: key.meaning))
    }

    public mutating func add(_ key: TraceKey, shape: [Int], ints: [Int]) throws {
        try tensors.add(key.name, shape: shape, int64s: ints.map(Int64.init))
        keys.append(.init(name: key.name, dtype: "I64", shape: shape, shapeDoc: key.shapeDoc, meaning: key.meaning))
    }

    /// Checks that `directory` can receive output: absent, an empty directory, or (with `force`)
    /// an existing directory that will be replaced.
    public static func checkWritable(_ directory: URL, force: Bool = false) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: directory.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw TraceError.io(path: directory.path, reason: "exists and is not a directory") }
            let entries = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
            guard entries.isEmpty || force else { throw TraceError.outputExists(directory.path) }
        }
    }

    /// The two trace files: (name, bytes).
    public func files(manifest: TraceManifest) throws -> [(String, Data)] {
        var m = manifest
        m.keys = keys
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.keyEncodingStrategy = .convertToSnakeCase
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return [("trace.safetensors", try tensors.serialized()), ("trace.json", try enc.encode(m))]
    }

    /// Writes the trace files and `extra` files into `directory` atomically (see `commitDirectory`).
    public func write(to directory: URL, manifest: TraceManifest, extra: [(String, Data)] = [], force: Bool = false) throws {
        let all = try files(manifest: manifest) + extra
        try commitDirectory(directory, force: force) { tmp in
            for (name, data) in all { try data.write(to: tmp.appendingPathComponent(name)) }
        }
    }
}

/// Fills a new directory through `populate` in a hidden sibling, then renames it into place, so
/// an interrupted run never leaves output that looks complete. An existing non-empty directory is
/// an error unless `force`, in which case it is replaced only after the new one is complete.
public func commitDirectory(_ directory: URL, force: Bool, populate: (URL) throws -> Void) throws {
    try TraceWriter.checkWritable(directory, force: force)
    let fm = FileManager.default
    let parent = directory.deletingLastPathComponent()
    let pid = ProcessInfo.processInfo.processIdentifier
    let tmp = parent.appendingPathComponent(".\(directory.lastPathComponent).partial-\(pid)")
    let old = parent.appendingPathComponent(".\(directory.lastPathComponent).old-\(pid)")
    do {
        try? fm.removeItem(at: tmp)
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        try populate(tmp)
        if fm.fileExists(atPath: directory.path) { try fm.moveItem(at: directory, to: old) }
        try fm.moveItem(at: tmp, to: directory)
        try? fm.removeItem(at: old)
    } catch {
        try? fm.removeItem(at: tmp)
        if !fm.fileExists(atPath: directory.path), fm.fileExists(atPath: old.path) { try? fm.moveItem(at: old, to: directory) }
        if error is CocoaError { throw TraceError.io(path: directory.path, reason: "cannot write: \(error.localizedDescription)") }
        throw error
    }
}
