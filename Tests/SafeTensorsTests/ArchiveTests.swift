import Foundation
import XCTest
@testable import SafeTensors

final class ArchiveTests: XCTestCase {
    private var dir: URL!
    private let shard1 = "model-00001-of-00002.safetensors"
    private let shard2 = "model-00002-of-00002.safetensors"

    override func setUpWithError() throws {
        dir = try TempDir.make()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private var sharded: URL { Fixtures.url("sharded") }

    /// A copy of the sharded fixture folder whose index is replaced by `index` (if given).
    private func shardedCopy(index: String? = nil, dropShard: String? = nil, name: String = #function) throws -> URL {
        let folder = dir.appendingPathComponent(name.replacingOccurrences(of: "()", with: ""))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for f in [shard1, shard2] where f != dropShard {
            try FileManager.default.copyItem(at: sharded.appendingPathComponent(f), to: folder.appendingPathComponent(f))
        }
        let indexURL = folder.appendingPathComponent("model.safetensors.index.json")
        if let index {
            try Data(index.utf8).write(to: indexURL)
        } else {
            try FileManager.default.copyItem(at: sharded.appendingPathComponent("model.safetensors.index.json"), to: indexURL)
        }
        return folder
    }

    func testShardedFixture() throws {
        let archive = try SafeTensorsArchive(directory: sharded)
        XCTAssertEqual(archive.names, ["embed.ids", "layers.0.bias", "layers.0.weight", "layers.1.weight"])
        XCTAssertEqual(archive.files.map(\.url.lastPathComponent), [shard1, shard2])
        XCTAssertEqual(archive.indexURL?.lastPathComponent, "model.safetensors.index.json")
        XCTAssertEqual(try archive.floats("layers.0.weight"), [0, 0.25, 0.5, 0.75, 1, 1.25])
        XCTAssertEqual(try archive.floats("layers.0.bias"), [0.5, -1, 2])
        XCTAssertEqual(try archive.floats("layers.1.weight"), [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
        XCTAssertEqual(try archive.int64s("embed.ids"), [3, 1, 4, 1])
        XCTAssertEqual(try archive.info("layers.1.weight").dtype, .BF16)
        XCTAssertEqual(try archive.info("layers.1.weight").shape, [3, 2])
        XCTAssertEqual(try archive.file(for: "embed.ids").url.lastPathComponent, shard2)
        XCTAssertEqual(try archive.rawBytes("layers.0.bias").count, 12)
        var out = [Float](repeating: 0, count: 3)
        try out.withUnsafeMutableBufferPointer { try archive.floats("layers.0.bias", into: $0) }
        XCTAssertEqual(out, [0.5, -1, 2])
        // The index is authoritative: a tensor only present in a shard is not part of the archive.
        XCTAssertNil(archive.tensors["unlisted.extra"])
        XCTAssertThrowsError(try archive.floats("unlisted.extra")) { error in
            guard case SafeTensorsError.tensorNotFound(let f, "unlisted.extra") = error else { return XCTFail("\(error)") }
            XCTAssertTrue(f.hasSuffix("model.safetensors.index.json"))
        }
    }

    func testSingleFileAndFallbacks() throws {
        // model.safetensors wins over an index in the same folder (transformers' order).
        let both = try shardedCopy()
        try FileManager.default.copyItem(at: Fixtures.url("dtypes.safetensors"), to: both.appendingPathComponent("model.safetensors"))
        let single = try SafeTensorsArchive(directory: both)
        XCTAssertNil(single.indexURL)
        XCTAssertEqual(single.files.count, 1)
        XCTAssertEqual(single.tensors.count, try SafeTensorsFile(url: Fixtures.url("dtypes.safetensors")).tensors.count)

        // Any single *.safetensors file.
        let lone = dir.appendingPathComponent("lone")
        try FileManager.default.createDirectory(at: lone, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.url("writer_numpy.safetensors"), to: lone.appendingPathComponent("weights.safetensors"))
        XCTAssertEqual(try SafeTensorsArchive(directory: lone).names.count, 8)

        // Two candidates and no standard name: ambiguous.
        try FileManager.default.copyItem(at: Fixtures.url("writer_torch.safetensors"), to: lone.appendingPathComponent("other.safetensors"))
        XCTAssertThrowsError(try SafeTensorsArchive(directory: lone)) { error in
            XCTAssertEqual(error as? SafeTensorsError,
                           .ambiguousCheckpoint(directory: lone.path, candidates: ["other.safetensors", "weights.safetensors"]))
        }

        // A non-standard index name, when it is the only one.
        let custom = try shardedCopy(name: "custom")
        try FileManager.default.moveItem(at: custom.appendingPathComponent("model.safetensors.index.json"),
                                         to: custom.appendingPathComponent("diffusion.safetensors.index.json"))
        XCTAssertEqual(try SafeTensorsArchive(directory: custom).names.count, 4)

        // Nothing at all.
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        XCTAssertThrowsError(try SafeTensorsArchive(directory: empty)) { error in
            guard case SafeTensorsError.noCheckpoint(let d, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(d, empty.path)
        }
        XCTAssertThrowsError(try SafeTensorsArchive(directory: dir.appendingPathComponent("absent"))) { error in
            guard case SafeTensorsError.noCheckpoint = error else { return XCTFail("\(error)") }
        }
    }

    func testFilesInitAndDuplicates() throws {
        let a = sharded.appendingPathComponent(shard1)
        let b = sharded.appendingPathComponent(shard2)
        let archive = try SafeTensorsArchive(files: [a, b])
        // Without an index every tensor of every file is included.
        XCTAssertEqual(archive.names.count, 5)
        XCTAssertEqual(try archive.floats("unlisted.extra"), [9])
        XCTAssertThrowsError(try SafeTensorsArchive(files: [a, b, a])) { error in
            XCTAssertEqual(error as? SafeTensorsError,
                           .duplicateTensor(tensor: "layers.0.bias", file: a.path, otherFile: a.path))
        }
        let copy = dir.appendingPathComponent("copy.safetensors")
        try FileManager.default.copyItem(at: b, to: copy)
        XCTAssertThrowsError(try SafeTensorsArchive(files: [b, copy])) { error in
            guard case SafeTensorsError.duplicateTensor(_, let f, let other) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(f, copy.path)
            XCTAssertEqual(other, b.path)
            XCTAssertTrue("\(error)".contains(copy.path) && "\(error)".contains(b.path))
        }
    }

    func testIndexErrors() throws {
        let malformed = try shardedCopy(index: #"{"weight_map": {"a": "x.safetensors",}}"#, name: "malformed")
        XCTAssertThrowsError(try SafeTensorsArchive(directory: malformed)) { error in
            guard case SafeTensorsError.invalidIndex(let f, _, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(f.hasSuffix("malformed/model.safetensors.index.json"))
            XCTAssertTrue(reason.contains("invalid JSON"), reason)
        }

        let noMap = try shardedCopy(index: #"{"metadata": {"total_size": 10}}"#, name: "nomap")
        XCTAssertThrowsError(try SafeTensorsArchive(directory: noMap)) { error in
            XCTAssertEqual(error as? SafeTensorsError,
                           .indexMissingWeightMap(file: noMap.appendingPathComponent("model.safetensors.index.json").path))
        }

        let badMap = try shardedCopy(index: #"{"weight_map": ["a"]}"#, name: "badmap")
        XCTAssertThrowsError(try SafeTensorsArchive(directory: badMap)) { error in
            guard case SafeTensorsError.invalidIndex(_, "weight_map", _) = error else { return XCTFail("\(error)") }
        }

        let badValue = try shardedCopy(index: #"{"weight_map": {"layers.0.bias": 3}}"#, name: "badvalue")
        XCTAssertThrowsError(try SafeTensorsArchive(directory: badValue)) { error in
            guard case SafeTensorsError.invalidIndex(_, "weight_map.layers.0.bias", _) = error else { return XCTFail("\(error)") }
        }

        // Repeated tensor names, byte-identical or only canonically equivalent.
        for (i, (a, b)) in [("layers.0.bias", "layers.0.bias"), ("\u{E9}", "e\u{301}")].enumerated() {
            let dup = try shardedCopy(index: "{\"weight_map\": {\"\(a)\": \"x.safetensors\", \"\(b)\": \"x.safetensors\"}}", name: "dup\(i)")
            XCTAssertThrowsError(try SafeTensorsArchive(directory: dup)) { error in
                guard case SafeTensorsError.invalidIndex(_, let field, "duplicate key") = error else { return XCTFail("\(error)") }
                XCTAssertEqual(Array(field.unicodeScalars), Array(b.unicodeScalars))
            }
        }

        let escape = try shardedCopy(index: #"{"weight_map": {"layers.0.bias": "../model-00001-of-00002.safetensors"}}"#, name: "escape")
        XCTAssertThrowsError(try SafeTensorsArchive(directory: escape)) { error in
            guard case SafeTensorsError.invalidIndex(_, "weight_map.layers.0.bias", _) = error else { return XCTFail("\(error)") }
        }

        let missingShard = try shardedCopy(dropShard: shard2, name: "missingshard")
        XCTAssertThrowsError(try SafeTensorsArchive(directory: missingShard)) { error in
            XCTAssertEqual(error as? SafeTensorsError,
                           .shardMissing(file: missingShard.appendingPathComponent("model.safetensors.index.json").path,
                                         tensor: "embed.ids", shard: shard2))
            XCTAssertTrue("\(error)".contains("embed.ids") && "\(error)".contains(self.shard2))
        }

        let absent = try shardedCopy(index: #"{"weight_map": {"layers.0.bias": "model-00001-of-00002.safetensors", "ghost": "model-00002-of-00002.safetensors"}}"#,
                                     name: "absent")
        XCTAssertThrowsError(try SafeTensorsArchive(directory: absent)) { error in
            XCTAssertEqual(error as? SafeTensorsError,
                           .tensorMissingFromShard(file: absent.appendingPathComponent("model.safetensors.index.json").path,
                                                   tensor: "ghost", shard: shard2))
        }

        // A bad shard reports the shard's own path.
        let badShard = try shardedCopy(name: "badshard")
        try Data([1, 2, 3]).write(to: badShard.appendingPathComponent(shard1))
        XCTAssertThrowsError(try SafeTensorsArchive(directory: badShard)) { error in
            XCTAssertEqual(error as? SafeTensorsError, .fileTooSmall(file: badShard.appendingPathComponent(shard1).path, size: 3))
        }
    }
}
