import FastGEMM
import Foundation
import SafeTensors
import Tensors
#if canImport(Glibc)
import Glibc
#endif

/// Compute precision of the linear layers (matrix products with the weights).
public enum Precision: String, Sendable, Codable, CaseIterable {
    /// fp32 activations and fp32 products (weights converted exactly from their stored dtype,
    /// tile by tile, or read directly by `HalfGEMV` in decode); the parity mode: matches Hugging
    /// Face fp32 within rounding.
    case fp32
    /// Weights packed once to bf16 at load, activations rounded to bf16 per product, fp32
    /// accumulation (AVX512-BF16 or AVX2 kernels, bit-identical); norms, softmax and attention
    /// stay fp32.
    case bf16
}

/// The weight-name layouts of LLaVA checkpoints in Hugging Face format. Canonical names inside
/// the runtime are transformers 5's.
public enum LlavaWeightLayout: String, Sendable, Codable {
    /// transformers 5 (`save_original_format=False`): `model.language_model.*`,
    /// `model.vision_tower.*` (the CLIP transformer itself, no `vision_model.` level),
    /// `model.multi_modal_projector.*`, `lm_head.weight`.
    case transformers5
    /// transformers 4.52+: as transformers 5 but `model.vision_tower.vision_model.*`.
    case transformers4
    /// The hub's llava-hf checkpoints: `language_model.model.*`, `language_model.lm_head.weight`,
    /// `vision_tower.vision_model.*`, `multi_modal_projector.*`.
    case hub
    /// What transformers 5's `save_pretrained` writes by default: the hub layout, except the
    /// vision tower without its `vision_model.` level (`vision_tower.embeddings.*`).
    case hubFlatVision

    /// Maps a canonical (transformers 5) name to this layout's stored name.
    public func storedName(_ canonical: String) -> String {
        let vision = "model.vision_tower."
        switch self {
        case .transformers5:
            return canonical
        case .transformers4:
            return canonical.hasPrefix(vision) ? "model.vision_tower.vision_model." + canonical.dropFirst(vision.count) : canonical
        case .hub, .hubFlatVision:
            if canonical == "lm_head.weight" { return "language_model.lm_head.weight" }
            let visionTo = self == .hub ? "vision_tower.vision_model." : "vision_tower."
            for (from, to) in [("model.language_model.", "language_model.model."),
                               (vision, visionTo),
                               ("model.multi_modal_projector.", "multi_modal_projector.")] where canonical.hasPrefix(from) {
                return to + canonical.dropFirst(from.count)
            }
            return canonical
        }
    }

    /// Detects the layout from the stored names.
    public static func detect(_ names: [String], directory: String) throws -> LlavaWeightLayout {
        if names.contains(where: { $0.hasPrefix("model.language_model.") }) {
            return names.contains(where: { $0.hasPrefix("model.vision_tower.vision_model.") }) ? .transformers4 : .transformers5
        }
        if names.contains(where: { $0.hasPrefix("language_model.model.") }) {
            return names.contains(where: { $0.hasPrefix("vision_tower.vision_model.") }) ? .hub : .hubFlatVision
        }
        throw ModelError.unknownWeightLayout(directory: directory, sample: Array(names.sorted().prefix(3)))
    }
}

/// The checkpoint's tensors, addressed by canonical name, checked strictly: every tensor the
/// architecture needs must exist with the right shape, and nothing else may be present (except
/// known non-parameter buffers that older exports persisted).
public final class WeightStore: @unchecked Sendable {
    public let archive: SafeTensorsArchive
    public let layout: LlavaWeightLayout
    public let directory: String
    private var expected: [String: [Int]] = [:]

    /// Buffers some exports persist that are not parameters; accepted and ignored.
    static func isIgnorableBuffer(_ name: String) -> Bool {
        name.hasSuffix("embeddings.position_ids") || name.hasSuffix("rotary_emb.inv_freq")
    }

    public init(archive: SafeTensorsArchive, directory: String) throws {
        self.archive = archive
        self.directory = directory
        self.layout = try LlavaWeightLayout.detect(archive.names, directory: directory)
    }

    /// Declares a tensor the model needs, with its shape.
    public func expect(_ canonical: String, _ shape: [Int]) {
        expected[canonical] = shape
    }

    /// Checks that the expected set equals the stored set and every shape matches.
    public func verify() throws {
        var storedToCanonical: [String: String] = [:]
        for c in expected.keys { storedToCanonical[layout.storedName(c)] = c }
        for c in expected.keys.sorted() {
            let stored = layout.storedName(c)
            guard let info = archive.tensors[stored] else {
                throw ModelError.missingTensor(directory: directory, name: stored)
            }
            let shape = expected[c] ?? []
            guard info.shape == shape else {
                throw ModelError.shapeMismatch(directory: directory, name: stored, expected: shape, found: info.shape)
            }
            switch info.dtype {
            case .F32, .F16, .BF16: break
            default: throw ModelError.unsupportedDType(directory: directory, name: stored, dtype: info.dtype.rawValue)
            }
        }
        let unexpected = archive.names.filter { storedToCanonical[$0] == nil && !Self.isIgnorableBuffer($0) }
        if !unexpected.isEmpty {
            throw ModelError.unexpectedTensors(directory: directory, names: unexpected.sorted())
        }
    }

    /// A small tensor converted to fp32 (norm weights, biases, embeddings of the vision tower).
    public func floats(_ canonical: String) throws -> [Float] {
        try archive.floats(layout.storedName(canonical))
    }

    /// A matrix kept in its stored dtype; `[rows, cols]` must be its (flattened) shape.
    public func matrix(_ canonical: String, rows: Int, cols: Int) throws -> StoredMatrix {
        let name = layout.storedName(canonical)
        let info = try archive.info(name)
        guard info.elementCount == rows * cols else {
            throw ModelError.shapeMismatch(directory: directory, name: name, expected: [rows, cols], found: info.shape)
        }
        let raw = try archive.rawBytes(name)
        guard let base = raw.baseAddress else {
            throw ModelError.missingTensor(directory: directory, name: name)
        }
        return StoredMatrix(owner: archive, name: name, base: base, dtype: info.dtype, rows: rows, cols: cols)
    }

    /// A linear layer `[rows, cols]` (+ optional bias) in the given precision. In bf16 the
    /// weight is packed now and its mapped pages are released, so resident memory holds one copy.
    public func linear(_ canonical: String, rows: Int, cols: Int, bias: Bool, precision: Precision) throws -> Linear {
        let w = try matrix(canonical + ".weight", rows: rows, cols: cols)
        let b = bias ? try floats(canonical + ".bias") : nil
        guard precision == .bf16 else { return Linear(weight: w, bias: b) }
        return try Linear(weight: w, bias: b, packing: true)
    }

    public func has(_ canonical: String) -> Bool {
        archive.tensors[layout.storedName(canonical)] != nil
    }
}

/// A row-major matrix [rows, cols] kept in the checkpoint's dtype (memory-mapped), converted to
/// fp32 a tile at a time when used.
public struct StoredMatrix: @unchecked Sendable {
    /// Keeps the memory mapping alive as long as the matrix exists.
    let owner: AnyObject
    public let name: String
    public let base: UnsafeRawPointer
    public let dtype: DType
    public let rows: Int
    public let cols: Int

    /// Converts rows [start, start+count) into `dst` [count, cols] fp32.
    @inline(__always)
    public func convertRows(_ start: Int, _ count: Int, into dst: UnsafeMutablePointer<Float>) {
        let n = count * cols
        switch dtype {
        case .F16:
            convertF16ToF32(base + start * cols * 2, dst, count: n)
        case .BF16:
            convertBF16ToF32(base + start * cols * 2, dst, count: n)
        default:  // .F32 (WeightStore.verify admits only F32/F16/BF16)
            (dst).update(from: (base + start * cols * 4).assumingMemoryBound(to: Float.self), count: n)
        }
    }
}

/// A linear layer `y = x W^T + b` with W [out, in] in its stored dtype, or packed to bf16.
public struct Linear: @unchecked Sendable {
    public let weight: StoredMatrix
    /// [out] or nil.
    public let bias: [Float]?
    /// The bf16-packed weight (precision bf16), or nil.
    public let packed: PackedBF16Weights?
    public var inFeatures: Int { weight.cols }
    public var outFeatures: Int { weight.rows }

    public init(weight: StoredMatrix, bias: [Float]?) {
        self.weight = weight
        self.bias = bias
        self.packed = nil
    }

    /// Packs the weight to bf16 (using both cores) and releases its mapped pages.
    public init(weight: StoredMatrix, bias: [Float]?, packing: Bool) throws {
        self.weight = weight
        self.bias = bias
        guard packing else { self.packed = nil; return }
        guard GEMMKernel.best != .portable else {
            throw ModelError.invalidInput("precision bf16 needs an x86-64 CPU with AVX512-BF16 or AVX2+FMA+F16C (or CGEMM_FORCE_PORTABLE is set); use fp32")
        }
        let type: WeightSourceType
        switch weight.dtype {
        case .F16: type = .float16
        case .BF16: type = .bfloat16
        default: type = .float32
        }
        do {
            packed = try PackedBF16Weights(source: weight.base, type: type, n: weight.rows, k: weight.cols,
                                           threads: Parallel.workers)
        } catch {
            throw ModelError.invalidInput("\(weight.name): cannot pack to bf16: \(error)")
        }
        releaseMappedPages(weight.base, byteCount: weight.rows * weight.cols * (type == .float32 ? 4 : 2))
    }

    /// x: [rows, in] -> y: [rows, out].
    ///
    /// Output columns are split into tiles of weight rows; each tile is converted to fp32 and
    /// multiplied with OpenBLAS; tiles run on both cores. For F32 weights the mapped memory is
    /// used directly; for up to `FastGEMM.gemvMaxRows` rows (decode) of fp16/bf16 weights on an
    /// AVX2+F16C CPU, `HalfGEMV` reads the stored weights directly.
    public func callAsFunction(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let out = outFeatures, inF = inFeatures
        if let packed {
            // Arguments are consistent by construction; a kernel failure would be a bug, in which
            // case the fp32 path below still gives the right result.
            do {
                if let bias {
                    try bias.withUnsafeBufferPointer { b in
                        try packed.multiplyParallel(m: rows, a: x, lda: inF, c: y, ldc: out, bias: b.baseAddress, threads: Parallel.workers)
                    }
                } else {
                    try packed.multiplyParallel(m: rows, a: x, lda: inF, c: y, ldc: out, threads: Parallel.workers)
                }
                return
            } catch {
                FallbackLog.report(weight.name, error)
            }
        }
        let tile = Swift.max(16, Swift.min(out, rows >= 32 ? 256 : 64))
        let tiles = (out + tile - 1) / tile
        let w = weight
        // A decode step (a few rows) on fp16/bf16 weights: fp32 products straight from the stored
        // weights, without writing and re-reading a converted fp32 copy of every tile.
        let direct: WeightSourceType? = rows <= FastGEMM.gemvMaxRows && HalfGEMV.isSupported
            ? (w.dtype == .F16 ? .float16 : w.dtype == .BF16 ? .bfloat16 : nil) : nil
        Parallel.forEach(tiles) { t in
            let start = t * tile
            let count = Swift.min(tile, out - start)
            if let direct {
                do {
                    try HalfGEMV.multiply(type: direct, m: rows, n: out, k: inF, a: x, lda: inF, w: w.base, c: y, ldc: out,
                                          columns: start..<(start + count))
                    return
                } catch {
                    FallbackLog.report(w.name, error)  // the converted-tile path below still gives the result
                }
            }
            if w.dtype == .F32 {
                let wp = (w.base + start * inF * 4).assumingMemoryBound(to: Float.self)
                BLAS.gemm(m: rows, n: count, k: inF, a: x, lda: inF, b: wp, ldb: inF, transB: true,
                          c: y + start, ldc: out)
            } else {
                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: count * inF)  // [count, in]
                defer { scratch.deallocate() }
                w.convertRows(start, count, into: scratch)
                BLAS.gemm(m: rows, n: count, k: inF, a: x, lda: inF, b: scratch, ldb: inF, transB: true,
                          c: y + start, ldc: out)
            }
        }
        if let bias {
            bias.withUnsafeBufferPointer { b in
                if let bp = b.baseAddress { Ops.addBias(y, rows: rows, cols: out, bias: bp) }
            }
        }
    }

    /// Convenience: x [rows, in] -> [rows, out].
    public func callAsFunction(_ x: [Float], rows: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * outFeatures)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                if let a = xp.baseAddress, let c = yp.baseAddress { self(a, rows: rows, into: c) }
            }
        }
        return y
    }
}

/// Drops the resident pages of a read-only file mapping (they are re-read from the file if
/// touched again). Only whole pages inside the range are released.
func releaseMappedPages(_ base: UnsafeRawPointer, byteCount: Int) {
    #if canImport(Glibc)
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    guard page > 0 else { return }
    let start = (Int(bitPattern: base) + page - 1) / page * page
    let end = (Int(bitPattern: base) + byteCount) / page * page
    if end > start, let p = UnsafeMutableRawPointer(bitPattern: start) {
        _ = madvise(p, end - start, MADV_DONTNEED)
    }
    #endif
}

/// Reports (once per weight) a bf16 or HalfGEMV kernel failure that made a layer fall back to
/// converted fp32 tiles and OpenBLAS.
enum FallbackLog {
    nonisolated(unsafe) private static var reported = Set<String>()
    private static let lock = NSLock()

    static func report(_ name: String, _ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        guard reported.insert(name).inserted else { return }
        FileHandle.standardError.write(Data("warning: \(name): fast kernel failed (\(error)); computing this layer with converted fp32 tiles\n".utf8))
    }
}
