import Foundation
import JSONCore

/// A checkpoint made of one or more safetensors files, addressed by tensor name.
///
/// `init(directory:)` looks, in order, for `model.safetensors`, then `model.safetensors.index.json`
/// (+ the shards named in its `weight_map`), then a single `*.safetensors.index.json`, then a single
/// `*.safetensors`. With an index, the index is authoritative: the archive holds exactly the tensors
/// it lists (each must exist in its shard); tensors a shard holds but the index does not list are
/// left out. Immutable, so safe to read from several threads.
public final class SafeTensorsArchive: @unchecked Sendable {
    /// Every tensor's header entry, by name (`byteOffset` is relative to its own file).
    public let tensors: [String: TensorInfo]
    /// The opened files, in the order given or in sorted shard order.
    public let files: [SafeTensorsFile]
    /// The index file, when the archive came from one.
    public let indexURL: URL?
    private let owner: [String: Int]
    /// Path used in error messages for lookups (directory, index or first file).
    private let label: String

    /// Opens the checkpoint in `directory` (see the type's documentation for the search order).
    public convenience init(directory: URL) throws {
        let dirPath = directory.path
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: dirPath, isDirectory: &isDir), isDir.boolValue else {
            throw SafeTensorsError.noCheckpoint(directory: dirPath, reason: "not a directory")
        }
        let single = directory.appendingPathComponent("model.safetensors")
        if fm.fileExists(atPath: single.path) {
            try self.init(loading: [single], index: nil, label: single.path)
            return
        }
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        if fm.fileExists(atPath: index.path) {
            try self.init(indexFile: index)
            return
        }
        let listing: [String]
        do {
            listing = try fm.contentsOfDirectory(atPath: dirPath).sorted()
        } catch {
            throw SafeTensorsError.noCheckpoint(directory: dirPath, reason: "cannot list: \(error)")
        }
        let indexes = listing.filter { $0.hasSuffix(".safetensors.index.json") }
        if indexes.count == 1 {
            try self.init(indexFile: directory.appendingPathComponent(indexes[0]))
            return
        }
        if indexes.count > 1 {
            throw SafeTensorsError.ambiguousCheckpoint(directory: dirPath, candidates: indexes)
        }
        let candidates = listing.filter { $0.hasSuffix(".safetensors") }
        if candidates.count == 1 {
            let url = directory.appendingPathComponent(candidates[0])
            try self.init(loading: [url], index: nil, label: url.path)
            return
        }
        if candidates.isEmpty {
            throw SafeTensorsError.noCheckpoint(directory: dirPath,
                                                reason: "no model.safetensors, no *.safetensors.index.json and no *.safetensors file")
        }
        throw SafeTensorsError.ambiguousCheckpoint(directory: dirPath, candidates: candidates)
    }

    /// Opens the given files as one archive; a tensor name present in two files is an error.
    public convenience init(files: [URL]) throws {
        try self.init(loading: files, index: nil, label: files.first?.path ?? "(no files)")
    }

    /// Opens a `*.safetensors.index.json` and the shards its `weight_map` names (paths relative to
    /// the index's folder).
    public convenience init(indexFile: URL) throws {
        let indexPath = indexFile.path
        let weightMap = try SafeTensorsArchive.readWeightMap(indexFile)
        let folder = indexFile.deletingLastPathComponent()
        var shardOrder: [String] = []
        var seenShards = Set<String>()
        let fm = FileManager.default
        for (tensor, shard) in weightMap.sorted(by: { $0.key < $1.key }) {
            if seenShards.insert(shard).inserted {
                var isDir: ObjCBool = false
                let shardPath = folder.appendingPathComponent(shard).path
                guard fm.fileExists(atPath: shardPath, isDirectory: &isDir), !isDir.boolValue else {
                    throw SafeTensorsError.shardMissing(file: indexPath, tensor: tensor, shard: shard)
                }
                shardOrder.append(shard)
            }
        }
        shardOrder.sort()
        let urls = shardOrder.map { folder.appendingPathComponent($0) }
        try self.init(loading: urls, index: (indexFile, weightMap, shardOrder), label: indexPath)
    }

    private init(loading urls: [URL], index: (url: URL, weightMap: [String: String], shards: [String])?,
                 label: String) throws {
        var files: [SafeTensorsFile] = []
        files.reserveCapacity(urls.count)
        for u in urls { files.append(try SafeTensorsFile(url: u)) }
        var owner: [String: Int] = [:]
        var tensors: [String: TensorInfo] = [:]
        if let index {
            let position = Dictionary(uniqueKeysWithValues: index.shards.enumerated().map { ($1, $0) })
            for (tensor, shard) in index.weightMap.sorted(by: { $0.key < $1.key }) {
                guard let i = position[shard], let info = files[i].tensors[tensor] else {
                    throw SafeTensorsError.tensorMissingFromShard(file: index.url.path, tensor: tensor, shard: shard)
                }
                owner[tensor] = i
                tensors[tensor] = info
            }
        } else {
            for (i, f) in files.enumerated() {
                for name in f.names {
                    if let j = owner[name] {
                        throw SafeTensorsError.duplicateTensor(tensor: name, file: f.url.path,
                                                               otherFile: files[j].url.path)
                    }
                    owner[name] = i
                    tensors[name] = f.tensors[name]
                }
            }
        }
        self.files = files
        self.owner = owner
        self.tensors = tensors
        self.indexURL = index?.url
        self.label = label
    }

    /// Reads `weight_map` (tensor name -> shard file name) from an index file.
    static func readWeightMap(_ indexFile: URL) throws -> [String: String] {
        let path = indexFile.path
        let data: Data
        do {
            data = try Data(contentsOf: indexFile)
        } catch {
            throw SafeTensorsError.invalidIndex(file: path, field: "", reason: "cannot read: \(error.localizedDescription)")
        }
        let root: JSONValue = try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> JSONValue in
            guard String(validating: raw, as: UTF8.self) != nil else {
                throw SafeTensorsError.invalidIndex(file: path, field: "", reason: "not valid UTF-8")
            }
            do throws(JSONParseError) {
                return try JSONParser.parse(raw, options: headerJSONOptions)
            } catch {
                switch error {
                case let .syntax(offset, reason):
                    throw SafeTensorsError.invalidIndex(file: path, field: "", reason: "invalid JSON at byte \(offset): \(reason)")
                case let .duplicateKey(_, _, key):
                    throw SafeTensorsError.invalidIndex(file: path, field: String(decoding: key, as: UTF8.self), reason: "duplicate key")
                }
            }
        }
        guard case .object = root else {
            throw SafeTensorsError.invalidIndex(file: path, field: "", reason: "top level is \(root.typeName), expected an object")
        }
        guard let mapValue = root.member("weight_map") else { throw SafeTensorsError.indexMissingWeightMap(file: path) }
        guard case let .object(members) = mapValue else {
            throw SafeTensorsError.invalidIndex(file: path, field: "weight_map",
                                                reason: "expected an object, found \(mapValue.typeName)")
        }
        var map: [String: String] = [:]
        for m in members {
            let tensor = m.keyString
            guard let shard = m.value.stringValue else {
                throw SafeTensorsError.invalidIndex(file: path, field: "weight_map.\(tensor)",
                                                    reason: "expected a shard file name, found \(m.value.typeName)")
            }
            // Names equal as Strings but not as bytes would collide in `map`.
            guard map[tensor] == nil else {
                throw SafeTensorsError.invalidIndex(file: path, field: tensor, reason: "duplicate key")
            }
            let parts = shard.split(separator: "/", omittingEmptySubsequences: false)
            guard !shard.isEmpty, !shard.hasPrefix("/"), !parts.contains(".."), !parts.contains("") else {
                throw SafeTensorsError.invalidIndex(file: path, field: "weight_map.\(tensor)",
                                                    reason: "shard \"\(shard)\" is not a relative path inside the folder")
            }
            map[tensor] = shard
        }
        return map
    }

    /// Tensor names, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// The file holding `name`.
    public func file(for name: String) throws -> SafeTensorsFile {
        guard let i = owner[name] else { throw SafeTensorsError.tensorNotFound(file: label, tensor: name) }
        return files[i]
    }

    /// The header entry of `name` (`byteOffset` is within `file(for: name)`).
    public func info(_ name: String) throws -> TensorInfo {
        try file(for: name).info(name)
    }

    /// The tensor's bytes; valid while this archive lives.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        try file(for: name).rawBytes(name)
    }

    /// The tensor converted to Float (see `SafeTensorsFile.floats`).
    public func floats(_ name: String) throws -> [Float] {
        try file(for: name).floats(name)
    }

    /// Converts the tensor to Float into `destination` (see `SafeTensorsFile.floats(_:into:)`).
    public func floats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        try file(for: name).floats(name, into: destination)
    }

    /// The tensor converted to Int64 (see `SafeTensorsFile.int64s`).
    public func int64s(_ name: String) throws -> [Int64] {
        try file(for: name).int64s(name)
    }
}
