/// Element types of the safetensors format (the subset this package reads and writes).
public enum DType: String, Sendable, Codable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, U16, U32, U64

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .F64, .I64, .U64: return 8
        case .F32, .I32, .U32: return 4
        case .F16, .BF16, .I16, .U16: return 2
        case .I8, .U8, .BOOL: return 1
        }
    }

    /// Whether this is a floating-point type (F16, BF16, F32, F64).
    public var isFloatingPoint: Bool {
        switch self {
        case .F64, .F32, .F16, .BF16: return true
        default: return false
        }
    }

    /// Whether this is an integer type or BOOL.
    public var isInteger: Bool { !isFloatingPoint }

    /// Position in the Rust `safetensors` crate's `Dtype` enum, which is ordered by alignment.
    /// The writers sort tensors by this rank, descending, then by name.
    var crateRank: Int {
        switch self {
        case .BOOL: return 0
        case .U8: return 4
        case .I8: return 5
        case .I16: return 11
        case .U16: return 12
        case .F16: return 13
        case .BF16: return 14
        case .I32: return 15
        case .U32: return 16
        case .F32: return 17
        case .F64: return 19
        case .I64: return 20
        case .U64: return 21
        }
    }

    /// Dtype names that are valid in the safetensors format (crate 0.8) but not supported here.
    static let knownUnsupported: Set<String> = [
        "F4", "F6_E2M3", "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "C64",
    ]
}

/// One tensor's header entry.
public struct TensorInfo: Sendable, Equatable {
    /// The tensor's name (header key).
    public let name: String
    /// Element type.
    public let dtype: DType
    /// Dimensions, outermost first (row-major); `[]` for a 0-d scalar.
    public let shape: [Int]
    /// Absolute offset of the first byte in the file (8 + header length + data_offsets[0]).
    public let byteOffset: Int
    /// Number of bytes (data_offsets[1] - data_offsets[0] == elementCount * dtype.byteSize).
    public let byteCount: Int

    /// Creates an entry (no validation; the reader validates before creating these).
    public init(name: String, dtype: DType, shape: [Int], byteOffset: Int, byteCount: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteOffset = byteOffset
        self.byteCount = byteCount
    }

    /// Product of the shape (1 for a 0-d tensor, 0 for an empty one).
    public var elementCount: Int { shape.reduce(1, *) }
}
