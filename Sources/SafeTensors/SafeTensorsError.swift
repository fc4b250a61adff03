/// Everything that can go wrong reading, indexing or writing safetensors files.
/// Every case names the file (`file`, a path) and, where there is one, the tensor or field.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    // MARK: file level
    /// The file could not be opened, stat'ed or mapped.
    case cannotOpen(file: String, reason: String)
    /// The file is shorter than the 8-byte header length prefix.
    case fileTooSmall(file: String, size: Int)
    /// The header length prefix exceeds the sanity limit (100 MB, as in the Rust crate).
    case headerTooLarge(file: String, headerLength: UInt64, limit: Int)
    /// The header length prefix points past the end of the file.
    case headerExceedsFile(file: String, headerLength: UInt64, fileSize: Int)
    /// The header bytes are not valid UTF-8.
    case headerNotUTF8(file: String)
    /// The header is not valid JSON; `offset` is a byte offset inside the header.
    case headerInvalidJSON(file: String, offset: Int, reason: String)
    /// The header's JSON value is not an object.
    case headerNotObject(file: String)
    /// The same key appears twice in one JSON object (`key`; `context` says which object).
    case duplicateKey(file: String, context: String, key: String)
    /// `__metadata__` is not an object of string values (`key` is the bad key, or "" for the object).
    case invalidMetadata(file: String, key: String, reason: String)

    // MARK: tensor entries
    /// A tensor entry is not a JSON object.
    case entryNotObject(file: String, tensor: String)
    /// A tensor entry lacks `dtype`, `shape` or `data_offsets`.
    case missingField(file: String, tensor: String, field: String)
    /// A field of a tensor entry has the wrong JSON type, length or a negative/non-integer number.
    case invalidField(file: String, tensor: String, field: String, reason: String)
    /// `dtype` is not a safetensors dtype at all.
    case unknownDType(file: String, tensor: String, dtype: String)
    /// `dtype` is a valid safetensors dtype that this package does not support (e.g. F8_E4M3).
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// The product of the shape (or times the element size) overflows.
    case shapeOverflow(file: String, tensor: String, shape: [String])
    /// `data_offsets` has begin > end.
    case offsetsReversed(file: String, tensor: String, begin: Int, end: Int)
    /// `data_offsets` ends past the end of the data section.
    case offsetsPastEnd(file: String, tensor: String, end: Int, dataSize: Int)
    /// Tensors do not tile the data section contiguously (sorted by offsets, each must begin where
    /// the previous one ended, the first at 0): overlap when `begin < expectedBegin`, hole otherwise.
    case offsetsNotContiguous(file: String, tensor: String, begin: Int, expectedBegin: Int)
    /// end - begin differs from product(shape) * dtype size.
    case byteCountMismatch(file: String, tensor: String, expected: Int, actual: Int)
    /// The tensors end before the end of the file (trailing bytes not covered by any tensor).
    case incompleteDataSection(file: String, covered: Int, dataSize: Int)

    // MARK: access
    /// No tensor with this name.
    case tensorNotFound(file: String, tensor: String)
    /// The tensor's dtype cannot be read by the requested accessor.
    case wrongDType(file: String, tensor: String, dtype: DType, expected: String)
    /// An integer value does not fit the requested type (e.g. a U64 above Int64.max).
    case valueOutOfRange(file: String, tensor: String, index: Int)

    // MARK: archives and index files
    /// A folder holds no usable checkpoint.
    case noCheckpoint(directory: String, reason: String)
    /// A folder holds several candidate files and none of the standard names.
    case ambiguousCheckpoint(directory: String, candidates: [String])
    /// The same tensor name appears in two files.
    case duplicateTensor(tensor: String, file: String, otherFile: String)
    /// The index JSON cannot be read or parsed, or has a bad field.
    case invalidIndex(file: String, field: String, reason: String)
    /// The index has no `weight_map`.
    case indexMissingWeightMap(file: String)
    /// A shard named in the index does not exist.
    case shardMissing(file: String, tensor: String, shard: String)
    /// The index maps a tensor to a shard that does not contain it.
    case tensorMissingFromShard(file: String, tensor: String, shard: String)

    // MARK: writing
    /// A tensor given to the writer is invalid (shape/count mismatch, bad dtype, duplicate name...).
    case invalidTensor(file: String, tensor: String, reason: String)
    /// Writing the output failed.
    case writeFailed(file: String, reason: String)

    /// Human-readable message naming the file and the tensor/field.
    public var description: String {
        switch self {
        case let .cannotOpen(file, reason):
            return "\(file): cannot open safetensors file: \(reason)"
        case let .fileTooSmall(file, size):
            return "\(file): file is \(size) bytes, shorter than the 8-byte header length"
        case let .headerTooLarge(file, n, limit):
            return "\(file): header length \(n) exceeds the limit of \(limit) bytes"
        case let .headerExceedsFile(file, n, size):
            return "\(file): header length \(n) + 8 exceeds the file size \(size)"
        case let .headerNotUTF8(file):
            return "\(file): header is not valid UTF-8"
        case let .headerInvalidJSON(file, offset, reason):
            return "\(file): header is not valid JSON at byte \(offset) of the header: \(reason)"
        case let .headerNotObject(file):
            return "\(file): header JSON is not an object"
        case let .duplicateKey(file, context, key):
            return "\(file): duplicate key \"\(key)\" in \(context)"
        case let .invalidMetadata(file, key, reason):
            return key.isEmpty
                ? "\(file): field \"__metadata__\": \(reason)"
                : "\(file): field \"__metadata__\" key \"\(key)\": \(reason)"
        case let .entryNotObject(file, tensor):
            return "\(file): tensor \"\(tensor)\": header entry is not an object"
        case let .missingField(file, tensor, field):
            return "\(file): tensor \"\(tensor)\": missing field \"\(field)\""
        case let .invalidField(file, tensor, field, reason):
            return "\(file): tensor \"\(tensor)\": field \"\(field)\": \(reason)"
        case let .unknownDType(file, tensor, dtype):
            return "\(file): tensor \"\(tensor)\": field \"dtype\": unknown dtype \"\(dtype)\""
        case let .unsupportedDType(file, tensor, dtype):
            return "\(file): tensor \"\(tensor)\": field \"dtype\": dtype \"\(dtype)\" is not supported by this reader"
        case let .shapeOverflow(file, tensor, shape):
            return "\(file): tensor \"\(tensor)\": field \"shape\" [\(shape.joined(separator: ", "))]: size overflows"
        case let .offsetsReversed(file, tensor, begin, end):
            return "\(file): tensor \"\(tensor)\": field \"data_offsets\" [\(begin), \(end)]: begin > end"
        case let .offsetsPastEnd(file, tensor, end, dataSize):
            return "\(file): tensor \"\(tensor)\": field \"data_offsets\": end \(end) is past the data section (\(dataSize) bytes)"
        case let .offsetsNotContiguous(file, tensor, begin, expected):
            let what = begin < expected ? "overlaps the previous tensor" : "leaves a hole after the previous tensor"
            return "\(file): tensor \"\(tensor)\": field \"data_offsets\": begins at \(begin), expected \(expected) (\(what))"
        case let .byteCountMismatch(file, tensor, expected, actual):
            return "\(file): tensor \"\(tensor)\": field \"data_offsets\": spans \(actual) bytes, shape and dtype need \(expected)"
        case let .incompleteDataSection(file, covered, dataSize):
            return "\(file): tensors cover \(covered) of the \(dataSize) data bytes (data section not fully covered)"
        case let .tensorNotFound(file, tensor):
            return "\(file): no tensor named \"\(tensor)\""
        case let .wrongDType(file, tensor, dtype, expected):
            return "\(file): tensor \"\(tensor)\": dtype \(dtype.rawValue) cannot be read as \(expected)"
        case let .valueOutOfRange(file, tensor, index):
            return "\(file): tensor \"\(tensor)\": element \(index) does not fit in Int64"
        case let .noCheckpoint(directory, reason):
            return "\(directory): no safetensors checkpoint: \(reason)"
        case let .ambiguousCheckpoint(directory, candidates):
            return "\(directory): several safetensors files and no model.safetensors or index: \(candidates.joined(separator: ", "))"
        case let .duplicateTensor(tensor, file, other):
            return "\(file): tensor \"\(tensor)\" also appears in \(other)"
        case let .invalidIndex(file, field, reason):
            return "\(file): index field \"\(field)\": \(reason)"
        case let .indexMissingWeightMap(file):
            return "\(file): index has no \"weight_map\" object"
        case let .shardMissing(file, tensor, shard):
            return "\(file): tensor \"\(tensor)\": shard \"\(shard)\" does not exist"
        case let .tensorMissingFromShard(file, tensor, shard):
            return "\(file): tensor \"\(tensor)\" is listed in the index but absent from shard \"\(shard)\""
        case let .invalidTensor(file, tensor, reason):
            return "\(file): tensor \"\(tensor)\": \(reason)"
        case let .writeFailed(file, reason):
            return "\(file): write failed: \(reason)"
        }
    }
}
