import Foundation
import JSONCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if _endian(big)
#error("SafeTensors assumes a little-endian host (safetensors data is little-endian).")
#endif

/// Header parsing and validation shared by the file reader (see `SafeTensorsFile`).
enum SafeTensorsHeader {
    /// Largest accepted header, in bytes (the Rust crate's `MAX_HEADER_SIZE`).
    static let maxHeaderSize = 100_000_000

    /// A validated header.
    struct Parsed {
        var metadata: [String: String]
        var tensors: [String: TensorInfo]
        /// Length of the JSON header (without the 8-byte prefix).
        var headerLength: Int
    }

    /// One raw entry before the offset checks.
    private struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// Parses and validates the header of a whole safetensors file held in `buffer`,
    /// with the checks of the Rust `safetensors` crate (see the cases of `SafeTensorsError`).
    static func parse(_ buffer: UnsafeRawBufferPointer, file: String) throws -> Parsed {
        let fileSize = buffer.count
        guard fileSize >= 8 else { throw SafeTensorsError.fileTooSmall(file: file, size: fileSize) }
        let n64 = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard n64 <= UInt64(maxHeaderSize) else {
            throw SafeTensorsError.headerTooLarge(file: file, headerLength: n64, limit: maxHeaderSize)
        }
        let n = Int(n64)
        guard 8 + n <= fileSize else {
            throw SafeTensorsError.headerExceedsFile(file: file, headerLength: n64, fileSize: fileSize)
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: buffer[8..<(8 + n)])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw SafeTensorsError.headerNotUTF8(file: file)
        }
        let root: JSONValue
        do throws(JSONParseError) {
            root = try JSONParser.parse(headerBytes, options: headerJSONOptions)
        } catch {
            switch error {
            case let .syntax(offset, reason):
                throw SafeTensorsError.headerInvalidJSON(file: file, offset: offset, reason: reason)
            case let .duplicateKey(_, _, key):
                throw SafeTensorsError.duplicateKey(file: file, context: error.headerContext,
                                                    key: String(decoding: key, as: UTF8.self))
            }
        }
        guard case let .object(members) = root else { throw SafeTensorsError.headerNotObject(file: file) }

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        entries.reserveCapacity(members.count)
        // The parser compares keys by bytes; names are Swift Strings from here on, which compare by
        // canonical equivalence, so two such names would collide in `tensors`: reject them as well.
        var names = Set<String>()
        names.reserveCapacity(members.count)
        for m in members {
            let key = m.keyString
            guard names.insert(key).inserted else {
                throw SafeTensorsError.duplicateKey(file: file, context: "the header", key: key)
            }
            if key == "__metadata__" {
                metadata = try parseMetadata(m.value, file: file)
            } else {
                entries.append(try parseEntry(name: key, value: m.value, file: file))
            }
        }

        // The crate sorts the entries by (begin, end) and requires them to tile the data section.
        let dataSize = fileSize - 8 - n
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expectedBegin = 0
        var tensors: [String: TensorInfo] = [:]
        tensors.reserveCapacity(entries.count)
        for e in entries {
            guard e.begin <= e.end else {
                throw SafeTensorsError.offsetsReversed(file: file, tensor: e.name, begin: e.begin, end: e.end)
            }
            guard e.begin == expectedBegin else {
                throw SafeTensorsError.offsetsNotContiguous(file: file, tensor: e.name, begin: e.begin,
                                                            expectedBegin: expectedBegin)
            }
            guard e.end <= dataSize else {
                throw SafeTensorsError.offsetsPastEnd(file: file, tensor: e.name, end: e.end, dataSize: dataSize)
            }
            expectedBegin = e.end
            var count = 1
            for d in e.shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else {
                    throw SafeTensorsError.shapeOverflow(file: file, tensor: e.name, shape: e.shape.map { String($0) })
                }
                count = p
            }
            let (nbytes, overflow) = count.multipliedReportingOverflow(by: e.dtype.byteSize)
            guard !overflow else {
                throw SafeTensorsError.shapeOverflow(file: file, tensor: e.name, shape: e.shape.map { String($0) })
            }
            guard e.end - e.begin == nbytes else {
                throw SafeTensorsError.byteCountMismatch(file: file, tensor: e.name, expected: nbytes,
                                                         actual: e.end - e.begin)
            }
            tensors[e.name] = TensorInfo(name: e.name, dtype: e.dtype, shape: e.shape,
                                         byteOffset: 8 + n + e.begin, byteCount: nbytes)
        }
        guard expectedBegin == dataSize else {
            throw SafeTensorsError.incompleteDataSection(file: file, covered: expectedBegin, dataSize: dataSize)
        }
        return Parsed(metadata: metadata, tensors: tensors, headerLength: n)
    }

    private static func parseMetadata(_ value: JSONValue, file: String) throws -> [String: String] {
        switch value {
        case .null:
            return [:]
        case let .object(members):
            var out: [String: String] = [:]
            for m in members {
                let k = m.keyString
                guard case let .string(s) = m.value else {
                    throw SafeTensorsError.invalidMetadata(file: file, key: k,
                                                           reason: "expected a string value, found \(m.value.typeName)")
                }
                // Keys equal as Strings but not as bytes would collide in the dictionary.
                guard out.updateValue(String(decoding: s, as: UTF8.self), forKey: k) == nil else {
                    throw SafeTensorsError.duplicateKey(file: file, context: "entry \"__metadata__\"", key: k)
                }
            }
            return out
        default:
            throw SafeTensorsError.invalidMetadata(file: file, key: "",
                                                   reason: "expected an object, found \(value.typeName)")
        }
    }

    private static func parseEntry(name: String, value: JSONValue, file: String) throws -> Entry {
        guard case .object = value else { throw SafeTensorsError.entryNotObject(file: file, tensor: name) }

        guard let dtypeValue = value.member("dtype") else {
            throw SafeTensorsError.missingField(file: file, tensor: name, field: "dtype")
        }
        guard let dtypeName = dtypeValue.stringValue else {
            throw SafeTensorsError.invalidField(file: file, tensor: name, field: "dtype",
                                                reason: "expected a string, found \(dtypeValue.typeName)")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            if DType.knownUnsupported.contains(dtypeName) {
                throw SafeTensorsError.unsupportedDType(file: file, tensor: name, dtype: dtypeName)
            }
            throw SafeTensorsError.unknownDType(file: file, tensor: name, dtype: dtypeName)
        }

        guard let shapeValue = value.member("shape") else {
            throw SafeTensorsError.missingField(file: file, tensor: name, field: "shape")
        }
        guard case let .array(dims) = shapeValue else {
            throw SafeTensorsError.invalidField(file: file, tensor: name, field: "shape",
                                                reason: "expected an array, found \(shapeValue.typeName)")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        for (i, d) in dims.enumerated() {
            switch d.nonNegativeInt() {
            case let .success(v): shape.append(v)
            case let .failure(problem):
                throw SafeTensorsError.invalidField(file: file, tensor: name, field: "shape",
                                                    reason: "element \(i): \(problem.reason)")
            }
        }

        guard let offsetsValue = value.member("data_offsets") else {
            throw SafeTensorsError.missingField(file: file, tensor: name, field: "data_offsets")
        }
        guard case let .array(offsets) = offsetsValue else {
            throw SafeTensorsError.invalidField(file: file, tensor: name, field: "data_offsets",
                                                reason: "expected an array, found \(offsetsValue.typeName)")
        }
        guard offsets.count == 2 else {
            throw SafeTensorsError.invalidField(file: file, tensor: name, field: "data_offsets",
                                                reason: "expected 2 elements, found \(offsets.count)")
        }
        var be: [Int] = []
        for (i, o) in offsets.enumerated() {
            switch o.nonNegativeInt() {
            case let .success(v): be.append(v)
            case let .failure(problem):
                throw SafeTensorsError.invalidField(file: file, tensor: name, field: "data_offsets",
                                                    reason: "element \(i): \(problem.reason)")
            }
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: be[0], end: be[1])
    }
}

/// A memory-mapped .safetensors file (mmap PROT_READ, MAP_PRIVATE; unmapped in deinit).
/// The header is fully validated on open. Immutable, so safe to read from several threads.
public final class SafeTensorsFile: @unchecked Sendable {
    /// The file this object maps.
    public let url: URL
    /// The header's `__metadata__` (empty if absent or null).
    public let metadata: [String: String]
    /// Every tensor's header entry, by name.
    public let tensors: [String: TensorInfo]
    /// Length of the JSON header in bytes (data starts at byte 8 + headerLength).
    public let headerLength: Int
    /// Size of the file in bytes.
    public let fileSize: Int

    private let base: UnsafeMutableRawPointer

    /// Maps and validates the file; throws `SafeTensorsError` naming the file and the bad field.
    public init(url: URL) throws {
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SafeTensorsError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw SafeTensorsError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw SafeTensorsError.cannotOpen(file: path, reason: "not a regular file")
        }
        let size = Int(st.st_size)
        guard size >= 8 else { throw SafeTensorsError.fileTooSmall(file: path, size: size) }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw SafeTensorsError.cannotOpen(file: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        let parsed: SafeTensorsHeader.Parsed
        do {
            parsed = try SafeTensorsHeader.parse(UnsafeRawBufferPointer(start: mapped, count: size), file: path)
        } catch {
            munmap(mapped, size)
            throw error
        }
        self.url = url
        self.base = mapped
        self.fileSize = size
        self.metadata = parsed.metadata
        self.tensors = parsed.tensors
        self.headerLength = parsed.headerLength
    }

    deinit {
        munmap(base, fileSize)
    }

    /// Tensor names, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// The header entry of `name`.
    public func info(_ name: String) throws -> TensorInfo {
        guard let info = tensors[name] else { throw SafeTensorsError.tensorNotFound(file: url.path, tensor: name) }
        return info
    }

    /// The tensor's bytes inside the mapping (little-endian, row-major); valid while this object lives.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let info = try info(name)
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(base) + info.byteOffset, count: info.byteCount)
    }

    /// The whole mapped file (header included); valid while this object lives.
    public var mappedBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: fileSize)
    }

    /// The tensor converted to Float (F32 copied, F16/BF16 exact, F64 rounded to nearest even).
    /// Shape: `info(name).shape`, row-major.
    public func floats(_ name: String) throws -> [Float] {
        let info = try info(name)
        let count = info.elementCount
        return try [Float](unsafeUninitializedCapacity: count) { buf, initialized in
            try copyFloats(info, into: buf)
            initialized = count
        }
    }

    /// Converts the tensor to Float into `destination`, whose count must equal the element count.
    public func floats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let info = try info(name)
        guard destination.count == info.elementCount else {
            throw SafeTensorsError.invalidTensor(
                file: url.path, tensor: name,
                reason: "destination holds \(destination.count) floats, tensor has \(info.elementCount) elements")
        }
        try copyFloats(info, into: destination)
    }

    private func copyFloats(_ info: TensorInfo, into dst: UnsafeMutableBufferPointer<Float>) throws {
        let count = info.elementCount
        guard count > 0, let out = dst.baseAddress else {
            if !info.dtype.isFloatingPoint {
                throw SafeTensorsError.wrongDType(file: url.path, tensor: info.name, dtype: info.dtype,
                                                  expected: "Float (F32, F16, BF16 or F64)")
            }
            return
        }
        let src = UnsafeRawPointer(base) + info.byteOffset
        switch info.dtype {
        case .F32:
            UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: count * 4)
        case .F16:
            convertF16ToF32(src, out, count: count)
        case .BF16:
            convertBF16ToF32(src, out, count: count)
        case .F64:
            for i in 0..<count {
                out[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Double.self))
            }
        default:
            throw SafeTensorsError.wrongDType(file: url.path, tensor: info.name, dtype: info.dtype,
                                              expected: "Float (F32, F16, BF16 or F64)")
        }
    }

    /// The tensor converted to Int64 (any integer dtype; BOOL gives 0 or 1 for zero/non-zero bytes).
    /// Throws `valueOutOfRange` for a U64 value above Int64.max. Shape: `info(name).shape`, row-major.
    public func int64s(_ name: String) throws -> [Int64] {
        let info = try info(name)
        let count = info.elementCount
        let src = UnsafeRawPointer(base) + info.byteOffset
        let file = url.path
        func read<T: FixedWidthInteger>(_: T.Type) -> [Int64] {
            (0..<count).map { Int64(T(littleEndian: src.loadUnaligned(fromByteOffset: MemoryLayout<T>.size * $0, as: T.self))) }
        }
        switch info.dtype {
        case .I64: return read(Int64.self)
        case .I32: return read(Int32.self)
        case .I16: return read(Int16.self)
        case .I8: return read(Int8.self)
        case .U8: return read(UInt8.self)
        case .U16: return read(UInt16.self)
        case .U32: return read(UInt32.self)
        case .BOOL: return (0..<count).map { src.load(fromByteOffset: $0, as: UInt8.self) != 0 ? 1 : 0 }
        case .U64:
            var out = [Int64]()
            out.reserveCapacity(count)
            for i in 0..<count {
                let v = UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                guard let s = Int64(exactly: v) else {
                    throw SafeTensorsError.valueOutOfRange(file: file, tensor: name, index: i)
                }
                out.append(s)
            }
            return out
        case .F64, .F32, .F16, .BF16:
            throw SafeTensorsError.wrongDType(file: file, tensor: name, dtype: info.dtype,
                                              expected: "Int64 (an integer dtype or BOOL)")
        }
    }
}
