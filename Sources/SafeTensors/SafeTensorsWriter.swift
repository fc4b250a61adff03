import Foundation
import JSONCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a safetensors file in memory and writes it atomically (temp file + rename).
///
/// The layout is the one the Python/Rust `safetensors` library writes: an 8-byte little-endian
/// header length, compact JSON (serde_json escaping) padded with spaces to a multiple of 8, then
/// the tensors sorted by dtype alignment (descending, in the crate's dtype order) and then by name
/// (byte-wise), with no gaps. For the same tensors the output is byte-identical to
/// `safetensors.numpy.save_file` / `safetensors.torch.save_file` when the metadata has at most one
/// key; with several keys the Python library's order is that of a Rust HashMap (varies per
/// process), while this writer sorts the keys. Empty metadata writes no `__metadata__` entry
/// (as Python's default `metadata=None`).
public struct SafeTensorsWriter: Sendable {
    /// Tensor bytes waiting to be written.
    private struct Entry: Sendable {
        var name: String
        var dtype: DType
        var shape: [Int]
        /// Little-endian element bytes, row-major.
        var bytes: [UInt8]
    }

    /// The `__metadata__` string map.
    public var metadata: [String: String]
    private var entries: [Entry] = []
    private var names = Set<String>()
    private static let label = "(SafeTensorsWriter)"

    /// An empty writer with the given `__metadata__`.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Number of tensors added so far.
    public var count: Int { entries.count }

    private func checkedCount(_ name: String, shape: [Int]) throws -> Int {
        if name == "__metadata__" {
            throw SafeTensorsError.invalidTensor(file: Self.label, tensor: name, reason: "reserved name")
        }
        if names.contains(name) {
            throw SafeTensorsError.invalidTensor(file: Self.label, tensor: name, reason: "added twice")
        }
        var n = 1
        for d in shape {
            guard d >= 0 else {
                throw SafeTensorsError.invalidTensor(file: Self.label, tensor: name, reason: "negative dimension in shape \(shape)")
            }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw SafeTensorsError.invalidTensor(file: Self.label, tensor: name, reason: "shape \(shape) overflows")
            }
            n = p
        }
        return n
    }

    private func checkCount(_ name: String, shape: [Int], expected: Int, given: Int) throws {
        guard expected == given else {
            throw SafeTensorsError.invalidTensor(file: Self.label, tensor: name,
                                                 reason: "shape \(shape) needs \(expected) elements, got \(given)")
        }
    }

    private mutating func append(_ name: String, _ dtype: DType, _ shape: [Int], _ bytes: [UInt8]) {
        entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: bytes))
        names.insert(name)
    }

    /// Adds a float tensor stored as F32, F16 or BF16 (F16/BF16 round to nearest even).
    /// `floats`: [product(shape)] row-major.
    public mutating func add(_ name: String, shape: [Int], floats: [Float], as dtype: DType = .F32) throws {
        let n = try checkedCount(name, shape: shape)
        try checkCount(name, shape: shape, expected: n, given: floats.count)
        var bytes = [UInt8](repeating: 0, count: n * dtype.byteSize)
        switch dtype {
        case .F32:
            bytes.withUnsafeMutableBytes { dst in floats.withUnsafeBytes { dst.copyMemory(from: $0) } }
        case .F16, .BF16:
            floats.withUnsafeBufferPointer { src in
                bytes.withUnsafeMutableBytes { dst in
                    guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                    if dtype == .F16 {
                        convertF32ToF16(s, d, count: n)
                    } else {
                        convertF32ToBF16(s, d, count: n)
                    }
                }
            }
        default:
            throw SafeTensorsError.invalidTensor(file: Self.label, tensor: name,
                                                 reason: "floats can be stored as F32, F16 or BF16, not \(dtype.rawValue)")
        }
        append(name, dtype, shape, bytes)
    }

    /// Adds an I64 tensor. `int64s`: [product(shape)] row-major.
    public mutating func add(_ name: String, shape: [Int], int64s: [Int64]) throws {
        let n = try checkedCount(name, shape: shape)
        try checkCount(name, shape: shape, expected: n, given: int64s.count)
        append(name, .I64, shape, int64s.withUnsafeBytes { Array($0) })
    }

    /// Adds an I32 tensor. `int32s`: [product(shape)] row-major.
    public mutating func add(_ name: String, shape: [Int], int32s: [Int32]) throws {
        let n = try checkedCount(name, shape: shape)
        try checkCount(name, shape: shape, expected: n, given: int32s.count)
        append(name, .I32, shape, int32s.withUnsafeBytes { Array($0) })
    }

    /// Adds a tensor of any dtype from its little-endian element bytes
    /// (`bytes.count` must be product(shape) * dtype.byteSize).
    public mutating func add(_ name: String, shape: [Int], dtype: DType, bytes: [UInt8]) throws {
        let n = try checkedCount(name, shape: shape)
        let (need, overflow) = n.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, need == bytes.count else {
            throw SafeTensorsError.invalidTensor(file: Self.label, tensor: name,
                                                 reason: "shape \(shape) of \(dtype.rawValue) needs \(n) * \(dtype.byteSize) bytes, got \(bytes.count)")
        }
        append(name, dtype, shape, bytes)
    }

    /// Byte-wise (UTF-8) order, as Rust's `str::cmp`.
    private static func utf8Less(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// The complete file contents.
    public func serialized() throws -> Data {
        let ordered = entries.sorted { l, r in
            if l.dtype.crateRank != r.dtype.crateRank { return l.dtype.crateRank > r.dtype.crateRank }
            return Self.utf8Less(l.name, r.name)
        }
        var header: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        if !metadata.isEmpty {
            JSONWriter.appendString("__metadata__", to: &header)
            header.append(contentsOf: Array(":{".utf8))
            for (i, key) in metadata.keys.sorted(by: Self.utf8Less).enumerated() {
                if i > 0 { header.append(UInt8(ascii: ",")) }
                JSONWriter.appendString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                JSONWriter.appendString(metadata[key] ?? "", to: &header)
            }
            header.append(UInt8(ascii: "}"))
            first = false
        }
        var offset = 0
        for e in ordered {
            if !first { header.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.appendString(e.name, to: &header)
            header.append(contentsOf: Array(":{\"dtype\":".utf8))
            JSONWriter.appendString(e.dtype.rawValue, to: &header)
            header.append(contentsOf: Array(",\"shape\":[".utf8))
            for (i, d) in e.shape.enumerated() {
                if i > 0 { header.append(UInt8(ascii: ",")) }
                JSONWriter.appendInt(d, to: &header)
            }
            header.append(contentsOf: Array("],\"data_offsets\":[".utf8))
            JSONWriter.appendInt(offset, to: &header)
            header.append(UInt8(ascii: ","))
            offset += e.bytes.count
            JSONWriter.appendInt(offset, to: &header)
            header.append(contentsOf: Array("]}".utf8))
        }
        header.append(UInt8(ascii: "}"))
        let pad = (8 - header.count % 8) % 8
        header.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: pad))
        guard header.count <= SafeTensorsHeader.maxHeaderSize else {
            throw SafeTensorsError.invalidTensor(file: Self.label, tensor: "",
                                                 reason: "header of \(header.count) bytes exceeds the \(SafeTensorsHeader.maxHeaderSize)-byte limit")
        }
        var data = Data()
        data.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for e in ordered { data.append(contentsOf: e.bytes) }
        return data
    }

    /// Writes the file atomically: to a temporary file in the same folder, then rename(2).
    public func write(to url: URL) throws {
        let data = try serialized()
        let path = url.path
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try data.write(to: tmp)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw SafeTensorsError.writeFailed(file: path, reason: "\(error.localizedDescription)")
        }
        guard rename(tmp.path, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw SafeTensorsError.writeFailed(file: path, reason: "rename failed: \(reason)")
        }
    }
}
