import Foundation
import Imaging
import Models
import SafeTensors

/// Errors writing a trace directory.
public enum TraceError: Error, CustomStringConvertible {
    case outputExists(String)
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case let .outputExists(p): return "\(p): output directory exists and is not empty"
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
    public var format = "clvs-trace"
    public var version = 1
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

    /// Checks that `directory` can receive a trace (absent, or an empty directory).
    public static func checkWritable(_ directory: URL) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: directory.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw TraceError.io(path: directory.path, reason: "exists and is not a directory") }
            let entries = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
            guard entries.isEmpty else { throw TraceError.outputExists(directory.path) }
        }
    }

    /// Writes the files; `extra` are additional (name, data) files written in the same step.
    public func write(to directory: URL, manifest: TraceManifest, extra: [(String, Data)] = []) throws {
        try Self.checkWritable(directory)
        let fm = FileManager.default
        let parent = directory.deletingLastPathComponent()
        let tmp = parent.appendingPathComponent(".\(directory.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try? fm.removeItem(at: tmp)
            try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
            try tensors.serialized().write(to: tmp.appendingPathComponent("trace.safetensors"))
            var m = manifest
            m.keys = keys
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            enc.keyEncodingStrategy = .convertToSnakeCase
            try enc.encode(m).write(to: tmp.appendingPathComponent("trace.json"))
            for (name, data) in extra { try data.write(to: tmp.appendingPathComponent(name)) }
            if fm.fileExists(atPath: directory.path) { try fm.removeItem(at: directory) }  // empty (checked)
            try fm.moveItem(at: tmp, to: directory)
        } catch let e as TraceError {
            try? fm.removeItem(at: tmp)
            throw e
        } catch {
            try? fm.removeItem(at: tmp)
            throw TraceError.io(path: directory.path, reason: "cannot write trace: \(error.localizedDescription)")
        }
    }
}
