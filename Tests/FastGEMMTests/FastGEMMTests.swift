import _CGemm
import FastGEMM
import XCTest

// MARK: - Independent Swift model of the kernel semantics (see cgemm.h)

/// fp32 -> bf16 bits: NaN -> quiet NaN (sign and top payload kept), subnormal -> signed zero, else RNE.
func modelBF16(_ x: Float) -> UInt16 {
    let u = x.bitPattern
    if x.isNaN { return UInt16(truncatingIfNeeded: u >> 16) | 0x0040 }
    if x.isSubnormal { return x.sign == .minus ? 0x8000 : 0 }
    let lsb = (u >> 16) & 1
    return UInt16(truncatingIfNeeded: (u &+ 0x7FFF &+ lsb) >> 16)
}

/// bf16 bits -> Float with bf16 subnormals read as signed zero (VDPBF16PS input rule).
func modelDAZ(_ h: UInt16) -> Float {
    let x = Float(bitPattern: UInt32(h) << 16)
    return x.isSubnormal ? (x.sign == .minus ? -0.0 : 0.0) : x
}

/// Subnormal results flushed to a zero of the same sign.
func modelFTZ(_ x: Float) -> Float { x.isSubnormal ? (x.sign == .minus ? -0.0 : 0.0) : x }

/// bf16 bits -> Float exactly.
func bf16ToFloat(_ h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }

/// Reference GEMM: a [m, lda] fp32, w [n, k] fp32 (rounded to bf16 here), bias [n] or nil -> [m, n].
/// Per element: acc = 0; per k-pair: odd element fused first, then even; FTZ after each; + bias.
func modelGEMM(m: Int, n: Int, k: Int, a: [Float], lda: Int, w16: [UInt16], bias: [Float]?) -> [Float] {
    let kp = (k + 1) / 2
    var out = [Float](repeating: 0, count: m * n)
    var arow = [UInt16](repeating: 0, count: 2 * kp)
    var wrow = [UInt16](repeating: 0, count: 2 * kp)
    for i in 0..<m {
        for kk in 0..<k { arow[kk] = modelBF16(a[i * lda + kk]) }
        for j in 0..<n {
            for kk in 0..<k { wrow[kk] = w16[j * k + kk] }
            var acc: Float = 0
            for p in 0..<kp {
                acc = modelFTZ(acc.addingProduct(modelDAZ(arow[2 * p + 1]), modelDAZ(wrow[2 * p + 1])))
                acc = modelFTZ(acc.addingProduct(modelDAZ(arow[2 * p]), modelDAZ(wrow[2 * p])))
            }
            out[i * n + j] = bias.map { acc + $0[j] } ?? acc
        }
    }
    return out
}

/// Deterministic xorshift generator.
struct Rng {
    var s: UInt64
    init(_ seed: UInt64) { s = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        return s
    }
    /// Uniform in [-1, 1).
    mutating func uniform() -> Float { Float(Int64(next() >> 40)) / Float(1 << 23) - 1 }
    /// Gaussian-ish (sum of 4 uniforms) with scale.
    mutating func normal(_ scale: Float) -> Float { (uniform() + uniform() + uniform() + uniform()) * 0.87 * scale }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Bitwise equality where NaN == NaN (any payload).
func sameBits(_ x: Float, _ y: Float) -> Bool { x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN) }

/// All supported kernels (portable always; AVX512-BF16 and AVX2 where the CPU has them).
let kernels = GEMMKernel.allCases.filter { $0.isSupported }

// MARK: - Helpers running the packed GEMM

func pack(_ w: [Float], n: Int, k: Int, kernel: GEMMKernel = .best) throws -> PackedBF16Weights {
    try w.withUnsafeBytes { try PackedBF16Weights(source: $0.baseAddress!, type: .float32, n: n, k: k, kernel: kernel) }
}

func gemmRun(_ pw: PackedBF16Weights, m: Int, a: [Float], lda: Int, ldc: Int, bias: [Float]?, kernel: GEMMKernel,
         path: GEMMPath, fill: Float = .nan, panels: Range<Int>? = nil) throws -> [Float] {
    var c = [Float](repeating: fill, count: max(m * ldc, 1))
    try a.withUnsafeBufferPointer { ap in
        try c.withUnsafeMutableBufferPointer { cp in
            if let bias {
                try bias.withUnsafeBufferPointer { bp in
                    try pw.multiply(m: m, a: ap.baseAddress!, lda: lda, c: cp.baseAddress!, ldc: ldc, bias: bp.baseAddress!,
                                    panels: panels, kernel: kernel, path: path)
                }
            } else {
                try pw.multiply(m: m, a: ap.baseAddress!, lda: lda, c: cp.baseAddress!, ldc: ldc, panels: panels,
                                kernel: kernel, path: path)
            }
        }
    }
    return c
}

final class FastGEMMTests: XCTestCase {

    // MARK: rounding

    func testBF16RoundingMatchesModelOnSpecialAndRandomValues() throws {
        var xs: [Float] = [0, -0.0, 1, -1, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                           .leastNormalMagnitude, -.leastNormalMagnitude, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                           Float(bitPattern: 0x007F_FFFF), Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000),
                           Float(bitPattern: 0x3F80_8001), Float(bitPattern: 0x3F80_7FFF), Float(bitPattern: 0x7F7F_FFFF),
                           Float(bitPattern: 0x7FC0_0001), Float(bitPattern: 0x7F80_0001), Float(bitPattern: 0xFF80_1234),
                           Float(bitPattern: 0x7FFF_FFFF), Float(bitPattern: 0x0080_0000)]
        var rng = Rng(11)
        for _ in 0..<5000 { xs.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        let expected = xs.map(modelBF16)
        // Hand-checked anchors of the model itself.
        XCTAssertEqual(modelBF16(Float(bitPattern: 0x3F80_8000)), 0x3F80)  // tie -> even
        XCTAssertEqual(modelBF16(Float(bitPattern: 0x3F81_8000)), 0x3F82)  // tie -> even (up)
        XCTAssertEqual(modelBF16(Float(bitPattern: 0x7F7F_FFFF)), 0x7F80)  // overflow -> inf
        XCTAssertEqual(modelBF16(Float(bitPattern: 0x807F_FFFF)), 0x8000)  // subnormal -> -0
        XCTAssertEqual(modelBF16(Float(bitPattern: 0x7F80_0001)), 0x7FC0)  // sNaN -> qNaN
        for kernel in kernels {
            var out = [UInt16](repeating: 0xDEAD, count: xs.count)
            try xs.withUnsafeBufferPointer { s in
                try out.withUnsafeMutableBufferPointer { d in
                    try FastGEMM.roundToBF16(s.baseAddress!, d.baseAddress!, count: xs.count, kernel: kernel)
                }
            }
            for i in 0..<xs.count where out[i] != expected[i] {
                XCTFail("\(kernel): bf16(\(String(xs[i].bitPattern, radix: 16))) = \(String(out[i], radix: 16)), expected \(String(expected[i], radix: 16))")
                break
            }
        }
    }

    // MARK: packing

    func testPackedLayoutFollowsTheDocumentedFormula() throws {
        for (n, k) in [(37, 7), (32, 8), (1, 1), (65, 64), (3, 385), (33, 1101)] {
            var rng = Rng(UInt64(n * 1000 + k))
            let w = (0..<(n * k)).map { _ in rng.normal(1) }
            let kp = (k + 1) / 2
            let panels = (n + 31) / 32
            for kernel in kernels {
                let pw = try pack(w, n: n, k: k, kernel: kernel)
                XCTAssertEqual(pw.panelCount, panels)
                XCTAssertEqual(pw.byteCount, panels * kp * 128)
                let d = pw.storage.assumingMemoryBound(to: UInt32.self)
                for j in 0..<panels {
                    for p in 0..<kp {
                        for c in 0..<32 {
                            let row = 32 * j + c
                            let lo: UInt32 = row < n ? UInt32(modelBF16(w[row * k + 2 * p])) : 0
                            let hi: UInt32 = (row < n && 2 * p + 1 < k) ? UInt32(modelBF16(w[row * k + 2 * p + 1])) : 0
                            let got = d[(j * kp + p) * 32 + c]
                            if got != lo | hi << 16 {
                                XCTFail("\(kernel) n=\(n) k=\(k): panel \(j) pair \(p) col \(c): \(got) != \(lo | hi << 16)")
                                return
                            }
                        }
                    }
                }
            }
        }
    }

    func testPackedSizeStaysNearTwoBytesPerWeightForModelShapes() {
        // LLaVA-1.5-7B / CLIP ViT-L shapes: N multiple of 32, K even -> exactly 2 bytes per weight.
        for (n, k) in [(4096, 4096), (11008, 4096), (4096, 11008), (32064, 4096), (1024, 1024), (4096, 1024), (1024, 4096)] {
            let bytes = FastGEMM.panelCount(n: n) * ((k + 1) / 2) * 128
            XCTAssertEqual(bytes, n * k * 2)
        }
        // Worst case for odd sizes stays bounded by the 32-row / even-k rounding.
        let bytes = FastGEMM.panelCount(n: 4095) * ((4097 + 1) / 2) * 128
        XCTAssertLessThanOrEqual(Double(bytes), 1.001 * Double(4095 * 4097 * 2))
    }

    func testF16BF16AndF32SourcesPackIdentically() throws {
        let n = 45, k = 77
        var rng = Rng(5)
        // fp16 bit patterns: random finite values plus specials (subnormals, max, inf, NaN, zeros).
        var h16 = (0..<(n * k)).map { _ -> UInt16 in
            let e = UInt16(1 + rng.int(29))  // exponent 1...29: normal, not inf
            return UInt16(rng.int(2)) << 15 | e << 10 | UInt16(rng.int(1024))
        }
        let specials: [UInt16] = [0x0000, 0x8000, 0x0001, 0x83FF, 0x03FF, 0x0400, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFE3F]
        for (i, s) in specials.enumerated() { h16[i * 7] = s }
        let f32 = h16.map { Float(Float16(bitPattern: $0)) }  // exact widening
        let b16 = f32.map(modelBF16)
        // Anchors: 65504 rounds to 65536 in bf16; fp16 inf stays inf; fp16 NaN becomes quiet NaN.
        XCTAssertEqual(modelBF16(Float(Float16(bitPattern: 0x7BFF))), 0x4780)
        XCTAssertEqual(modelBF16(Float(Float16(bitPattern: 0x7C00))), 0x7F80)
        XCTAssertEqual(modelBF16(Float(Float16(bitPattern: 0x7C01))) & 0x7FC0, 0x7FC0)

        var reference: [UInt8]? = nil
        for kernel in kernels {
            for (type, bytes) in [(WeightSourceType.float16, h16.withUnsafeBytes { Array($0) }),
                                  (.bfloat16, b16.withUnsafeBytes { Array($0) }),
                                  (.float32, f32.withUnsafeBytes { Array($0) })] {
                for threads in [1, 2] {
                    let pw = try bytes.withUnsafeBytes {
                        try PackedBF16Weights(source: $0.baseAddress!, type: type, n: n, k: k, threads: threads, kernel: kernel)
                    }
                    let got = Array(UnsafeRawBufferPointer(start: pw.storage, count: pw.byteCount))
                    if let reference {
                        XCTAssertEqual(got, reference, "\(kernel) \(type) threads \(threads)")
                    } else {
                        reference = got
                    }
                }
            }
        }
        // And the packed words are the model's bf16 of the widened fp16 values.
        let ref = try XCTUnwrap(reference)
        let kp = (k + 1) / 2
        for row in 0..<n {
            for kk in 0..<k {
                let j = row / 32, c = row % 32, p = kk / 2
                let off = ((j * kp + p) * 32 + c) * 4 + (kk % 2) * 2
                let got = UInt16(ref[off]) | UInt16(ref[off + 1]) << 8
                XCTAssertEqual(got, b16[row * k + kk], "row \(row) col \(kk) from fp16 \(String(h16[row * k + kk], radix: 16))")
            }
        }
    }

    func testPackingAConcatenationEqualsConcatenatingPackedParts() throws {
        // Fusing e.g. q/k/v projections: parts with n a multiple of 32 and the same k.
        let k = 50
        var rng = Rng(31)
        let parts = [64, 32, 96].map { n in (0..<(n * k)).map { _ in rng.normal(1) } }
        let fused = try pack(parts.flatMap { $0 }, n: 192, k: k)
        var joined: [UInt8] = []
        for p in parts {
            let pw = try pack(p, n: p.count / k, k: k)
            joined += Array(UnsafeRawBufferPointer(start: pw.storage, count: pw.byteCount))
        }
        XCTAssertEqual(joined, Array(UnsafeRawBufferPointer(start: fused.storage, count: fused.byteCount)))
    }

    func testUnalignedPackedBufferGivesTheSameBytes() throws {
        // The C API accepts any 4-byte-aligned buffer (non-temporal stores only when 64-aligned).
        let n = 40, k = 600
        var rng = Rng(4)
        let w = (0..<(n * k)).map { _ in rng.normal(1) }
        for kernel in kernels {
            let aligned = try pack(w, n: n, k: k, kernel: kernel)
            let size = Int(cgemm_packed_size_bytes(Int32(n), Int32(k)))
            let raw = UnsafeMutableRawPointer.allocate(byteCount: size + 64, alignment: 64)
            defer { raw.deallocate() }
            let rc = w.withUnsafeBytes {
                cgemm_pack_weights_bf16_ex(kernel.rawValue, $0.baseAddress!, Int32(CGEMM_SRC_F32), Int32(n), Int32(k),
                                           raw + 4, 0, Int32(aligned.panelCount))
            }
            XCTAssertEqual(rc, 0)
            XCTAssertEqual(Array(UnsafeRawBufferPointer(start: raw + 4, count: size)),
                           Array(UnsafeRawBufferPointer(start: aligned.storage, count: size)), "\(kernel)")
        }
    }

    // MARK: GEMM bit-exactness

    /// Shapes around every blocking boundary: MR = 12 (AVX-512) and 4 (AVX2) rows, 32-column
    /// panels and 16-column half panels, the 2-panel GEMV step, the 384- and 1024-wide (AVX-512:
    /// K blocks of 192 and 512 pairs) and 256-wide (AVX2) K blocks, the AVX2 160-row M block, odd
    /// K, M = 1, N = 1.
    let edgeShapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (1, 1, 2), (1, 33, 3), (2, 31, 5), (3, 64, 6), (4, 65, 17), (5, 97, 9), (11, 32, 385),
        (12, 40, 383), (13, 1, 384), (25, 70, 800), (24, 96, 31), (1, 130, 769), (7, 3, 1),
        (9, 17, 257), (6, 49, 513), (161, 47, 255), (330, 20, 600), (13, 40, 1023), (12, 33, 1025),
        (26, 64, 2049),
    ]

    /// The K blocks to run a kernel with: both of the AVX512-BF16 blocked GEMM's, one otherwise.
    func kBlocks(_ kernel: GEMMKernel) -> [Int32] { kernel == .avx512bf16 ? [192, 512] : [0] }

    func testAllKernelsAndPathsEqualTheModelBitForBit() throws {
        for (idx, s) in edgeShapes.enumerated() {
            var rng = Rng(UInt64(100 + idx))
            let lda = s.k + (idx % 3) * 5
            let a = (0..<(s.m * lda)).map { _ in rng.normal(2) }
            let w = (0..<(s.n * s.k)).map { _ in rng.normal(0.05) }
            let bias: [Float]? = idx % 2 == 0 ? (0..<s.n).map { _ in rng.normal(1) } : nil
            let w16 = w.map(modelBF16)
            let expected = modelGEMM(m: s.m, n: s.n, k: s.k, a: a, lda: lda, w16: w16, bias: bias)
            for kernel in kernels {
                let pw = try pack(w, n: s.n, k: s.k, kernel: kernel)
                for kb in kBlocks(kernel) {
                    XCTAssertEqual(cgemm_set_k_block(kb), 0)
                    defer { cgemm_set_k_block(0) }
                    if kb != 0 { XCTAssertEqual(cgemm_k_block(), kb) }
                    for path in [GEMMPath.auto, .blocked, .gemv] {
                        let c = try gemmRun(pw, m: s.m, a: a, lda: lda, ldc: s.n, bias: bias, kernel: kernel, path: path)
                        var bad = 0
                        for i in 0..<(s.m * s.n) where !sameBits(c[i], expected[i]) { bad += 1 }
                        XCTAssertEqual(bad, 0, "\(kernel) K block \(kb) \(path) m=\(s.m) n=\(s.n) k=\(s.k): \(bad) elements differ")
                    }
                }
            }
        }
    }

    func testMBlockingAboveTheBlockHeight() throws {
        // M beyond one M block (648 rows) exercises the balanced M split.
        let m = 700, n = 33, k = 10
        var rng = Rng(77)
        let a = (0..<(m * k)).map { _ in rng.normal(1) }
        let w = (0..<(n * k)).map { _ in rng.normal(1) }
        let expected = modelGEMM(m: m, n: n, k: k, a: a, lda: k, w16: w.map(modelBF16), bias: nil)
        for kernel in kernels {
            let c = try gemmRun(try pack(w, n: n, k: k, kernel: kernel), m: m, a: a, lda: k, ldc: n, bias: nil, kernel: kernel, path: .blocked)
            XCTAssertTrue(zip(c, expected).allSatisfy { sameBits($0, $1) }, "\(kernel)")
        }
    }

    func testExtremeValuesFollowTheFlushAndNaNRules() throws {
        // Random bit patterns over the whole exponent range (tiny products, subnormal inputs and
        // results, overflow to inf, NaN): the hardware must match the FTZ/DAZ/NaN model exactly.
        let m = 6, n = 40, k = 19
        var rng = Rng(9)
        func wild() -> Float {
            switch rng.int(8) {
            case 0: return Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x80FF_FFFF)  // tiny / subnormal
            case 1: return Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))  // anything, NaN/inf included
            case 2: return rng.uniform() * 1e-19
            case 3: return rng.uniform() * 1e19
            default: return rng.normal(1)
            }
        }
        var flushed = 0
        for trial in 0..<24 {
            // Trials 20...23: every value near 2^-63, so products and sums sit at the subnormal edge.
            let tiny = trial >= 20
            let a = (0..<(m * k)).map { _ in tiny ? rng.uniform() * 0x1p-62 : wild() }
            let w = (0..<(n * k)).map { _ in tiny ? rng.uniform() * 0x1p-62 : wild() }
            let bias: [Float]? = (trial % 2 == 0 && !tiny) ? (0..<n).map { _ in wild() } : nil
            let expected = modelGEMM(m: m, n: n, k: k, a: a, lda: k, w16: w.map(modelBF16), bias: bias)
            if tiny { flushed += expected.filter { $0 == 0 }.count }
            for kernel in kernels {
                let pw = try pack(w, n: n, k: k, kernel: kernel)
                for path in [GEMMPath.blocked, .gemv] {
                    let c = try gemmRun(pw, m: m, a: a, lda: k, ldc: n, bias: bias, kernel: kernel, path: path)
                    for i in 0..<(m * n) where !sameBits(c[i], expected[i]) {
                        XCTFail("trial \(trial) \(kernel) \(path) [\(i)]: \(c[i]) vs model \(expected[i])")
                        break
                    }
                }
            }
        }
        XCTAssertGreaterThan(flushed, 10, "the tiny trials must actually produce flushed results")
    }

    func testSubnormalBF16WeightsCountAsZero() throws {
        // bf16 subnormals can only come from a bf16 source; VDPBF16PS reads them as zero.
        let m = 3, n = 35, k = 12
        var rng = Rng(21)
        // Even rows of W: only subnormals (their outputs must be exactly zero); odd rows: mixed.
        let w16 = (0..<(n * k)).map { i -> UInt16 in
            let bits = UInt16(truncatingIfNeeded: rng.next())
            return (i / k) % 2 == 0 || rng.int(2) == 0 ? (bits & 0x807F) | 1 : bits & 0xBFFF
        }
        let a = (0..<(m * k)).map { _ in rng.normal(1) * 1e30 }
        let expected = modelGEMM(m: m, n: n, k: k, a: a, lda: k, w16: w16, bias: nil)
        XCTAssertTrue(expected.contains { $0 != 0 })
        for i in 0..<m { for j in stride(from: 0, to: n, by: 2) { XCTAssertEqual(expected[i * n + j], 0) } }
        for kernel in kernels {
            let pw = try w16.withUnsafeBytes {
                try PackedBF16Weights(source: $0.baseAddress!, type: .bfloat16, n: n, k: k, kernel: kernel)
            }
            for path in [GEMMPath.blocked, .gemv] {
                let c = try gemmRun(pw, m: m, a: a, lda: k, ldc: n, bias: nil, kernel: kernel, path: path)
                XCTAssertTrue(zip(c, expected).allSatisfy { sameBits($0, $1) }, "\(kernel) \(path)")
            }
        }
    }

    // MARK: accuracy bounds

    /// Deterministic bound against fp64 of the same bf16-rounded inputs: sequential fp32
    /// accumulation of K exact products (+ bias) has |err| <= gamma(K+1) * (sum |a_k w_k| + |bias|)
    /// + K * 2^-126 (flushes), gamma(n) = n u / (1 - n u), u = 2^-24.
    /// Against fp64 of the unrounded fp32 inputs, bf16 rounding (unit roundoff 2^-8 per operand)
    /// adds at most (2^-7 + 2^-16) * sum |a_k w_k| (worst case); statistically the error is about
    /// 2^-8 * sqrt(2/3) * ||a_k w_k||_2, and the test asserts a 6-sigma bound 5 * 2^-8 * ||a_k w_k||_2
    /// (i.e. 2^-8 scaled by sqrt(K) times the rms product).
    func testErrorWithinDerivedBounds() throws {
        let m = 9, n = 70, k = 1000
        var rng = Rng(2024)
        let a = (0..<(m * k)).map { _ in rng.normal(1) }
        let w = (0..<(n * k)).map { _ in rng.normal(0.03) }
        let bias = (0..<n).map { _ in rng.normal(0.5) }
        let u = pow(2.0, -24.0)
        let gamma = Double(k + 1) * u / (1 - Double(k + 1) * u)
        var worstRounded = 0.0, worstUnrounded = 0.0, worstStat = 0.0
        for kernel in kernels {
            let c = try gemmRun(try pack(w, n: n, k: k, kernel: kernel), m: m, a: a, lda: k, ldc: n, bias: bias,
                            kernel: kernel, path: .auto)
            for i in 0..<m {
                for j in 0..<n {
                    var exactR = Double(bias[j]), absR = abs(Double(bias[j]))
                    var exactU = Double(bias[j]), absU = abs(Double(bias[j])), sq = 0.0
                    for kk in 0..<k {
                        let pr = Double(bf16ToFloat(modelBF16(a[i * k + kk]))) * Double(bf16ToFloat(modelBF16(w[j * k + kk])))
                        exactR += pr; absR += abs(pr)
                        let pu = Double(a[i * k + kk]) * Double(w[j * k + kk])
                        exactU += pu; absU += abs(pu); sq += pu * pu
                    }
                    let got = Double(c[i * n + j])
                    let bR = gamma * absR + Double(k) * pow(2.0, -126.0)
                    XCTAssertLessThanOrEqual(abs(got - exactR), bR, "\(kernel) [\(i),\(j)] vs fp64 of bf16 inputs")
                    worstRounded = max(worstRounded, abs(got - exactR) / bR)
                    let bU = (pow(2.0, -7.0) + pow(2.0, -16.0)) * absU * (1 + gamma) + gamma * absU
                    XCTAssertLessThanOrEqual(abs(got - exactU), bU, "\(kernel) [\(i),\(j)] worst case vs unrounded")
                    worstUnrounded = max(worstUnrounded, abs(got - exactU) / bU)
                    let bS = 5 * pow(2.0, -8.0) * sq.squareRoot()
                    XCTAssertLessThanOrEqual(abs(got - exactU), bS, "\(kernel) [\(i),\(j)] statistical vs unrounded")
                    worstStat = max(worstStat, abs(got - exactU) / (pow(2.0, -8.0) * sq.squareRoot()))
                }
            }
        }
        print("error / bound: fp64-of-bf16 \(worstRounded), worst-case unrounded \(worstUnrounded), |err| / (2^-8 ||ab||_2) max \(worstStat)")
    }

    // MARK: strides, bias, panels, threads

    func testStridesKeepPaddingAndPanelRangesWriteOnlyTheirColumns() throws {
        let m = 14, n = 100, k = 21, lda = 29, ldc = 113
        var rng = Rng(3)
        let a = (0..<(m * lda)).map { _ in rng.normal(1) }
        let w = (0..<(n * k)).map { _ in rng.normal(1) }
        let bias = (0..<n).map { _ in rng.normal(1) }
        let exp = modelGEMM(m: m, n: n, k: k, a: a, lda: lda, w16: w.map(modelBF16), bias: bias)
        let sentinel = Float(-12345.5)
        for kernel in kernels {
            let pw = try pack(w, n: n, k: k, kernel: kernel)
            for path in [GEMMPath.blocked, .gemv] {
                // Panels 1..<3 only: columns 32..<96.
                let c = try gemmRun(pw, m: m, a: a, lda: lda, ldc: ldc, bias: bias, kernel: kernel, path: path,
                                fill: sentinel, panels: 1..<3)
                for i in 0..<m {
                    for j in 0..<ldc {
                        let v = c[i * ldc + j]
                        if j >= 32 && j < 96 {
                            XCTAssertTrue(sameBits(v, exp[i * n + j]), "\(kernel) \(path) [\(i),\(j)]")
                        } else {
                            XCTAssertEqual(v, sentinel, "\(kernel) \(path) wrote outside its panels at [\(i),\(j)]")
                        }
                    }
                }
            }
        }
        // Bias really is added: without it, results differ by exactly the fp32 addition.
        let noBias = try gemmRun(try pack(w, n: n, k: k), m: m, a: a, lda: lda, ldc: n, bias: nil, kernel: .best, path: .auto)
        for i in 0..<(m * n) { XCTAssertEqual(noBias[i] + bias[i % n], exp[i]) }
    }

    func testParallelSplitEqualsSingleThread() throws {
        let m = 150, n = 200, k = 64
        var rng = Rng(8)
        let a = (0..<(m * k)).map { _ in rng.normal(1) }
        let w = (0..<(n * k)).map { _ in rng.normal(1) }
        let pw = try pack(w, n: n, k: k)
        let single = try gemmRun(pw, m: m, a: a, lda: k, ldc: n, bias: nil, kernel: .best, path: .auto)
        for threads in [2, 3, 7] {
            for split in [GEMMSplit.auto, .panels, .rows] {
                var c = [Float](repeating: .nan, count: m * n)
                try a.withUnsafeBufferPointer { ap in
                    try c.withUnsafeMutableBufferPointer { cp in
                        try pw.multiplyParallel(m: m, a: ap.baseAddress!, lda: k, c: cp.baseAddress!, ldc: n, threads: threads,
                                                split: split)
                    }
                }
                XCTAssertEqual(c.map { $0.bitPattern }, single.map { $0.bitPattern }, "threads \(threads) \(split)")
            }
        }
        // Balanced panel ranges cover 0..<count exactly once.
        for (count, parts) in [(7, 2), (128, 2), (1, 2), (5, 8)] {
            let ranges = (0..<parts).map { FastGEMM.panelRange(panelCount: count, parts: parts, part: $0) }
            XCTAssertEqual(ranges.first?.lowerBound, 0)
            XCTAssertEqual(ranges.last?.upperBound, count)
            for i in 1..<parts { XCTAssertEqual(ranges[i - 1].upperBound, ranges[i].lowerBound) }
        }
    }

    func testKBlockChoiceRejectsUnknownSizes() {
        XCTAssertEqual(cgemm_set_k_block(100), Int32(CGEMM_EINVAL))
        XCTAssertEqual(cgemm_set_k_block(-1), Int32(CGEMM_EINVAL))
        XCTAssertEqual(cgemm_set_k_block(0), 0)
        XCTAssertTrue([192, 512].contains(cgemm_k_block()))
    }

    func testMZeroIsANoOp() throws {
        let pw = try pack([1, 2, 3, 4], n: 2, k: 2)
        let c = try gemmRun(pw, m: 0, a: [0], lda: 2, ldc: 2, bias: nil, kernel: .best, path: .auto, fill: 7)
        XCTAssertEqual(c, [7])
    }

    // MARK: invalid input

    func testInvalidArgumentsThrowNamedErrors() throws {
        let w: [Float] = [1, 2, 3, 4, 5, 6]
        XCTAssertThrowsError(try w.withUnsafeBytes { try PackedBF16Weights(source: $0.baseAddress!, type: .float32, n: 0, k: 6) }) {
            XCTAssertTrue("\($0)".contains("n"), "\($0)")
        }
        XCTAssertThrowsError(try w.withUnsafeBytes { try PackedBF16Weights(source: $0.baseAddress!, type: .float32, n: 1, k: -1) })
        XCTAssertThrowsError(try w.withUnsafeBytes { try PackedBF16Weights(source: $0, type: .float32, n: 2, k: 4) }) {
            XCTAssertEqual($0 as? FastGEMMError, .invalidArgument(function: "PackedBF16Weights.init", argument: "source",
                                                                  detail: "24 bytes for [2, 4] float32 weights"))
        }
        XCTAssertNoThrow(try w.withUnsafeBytes { try PackedBF16Weights(source: $0, type: .float32, n: 2, k: 3) })
        let pw = try pack(w, n: 2, k: 3)
        let a: [Float] = [1, 2, 3]
        XCTAssertThrowsError(try gemmRun(pw, m: 1, a: a, lda: 2, ldc: 2, bias: nil, kernel: .best, path: .auto)) {
            XCTAssertEqual($0 as? FastGEMMError, .invalidArgument(function: "multiply", argument: "lda", detail: "2 < k = 3 or too large"))
        }
        XCTAssertThrowsError(try gemmRun(pw, m: 1, a: a, lda: 3, ldc: 1, bias: nil, kernel: .best, path: .auto)) {
            XCTAssertTrue("\($0)".contains("ldc"), "\($0)")
        }
        XCTAssertThrowsError(try gemmRun(pw, m: 1, a: a, lda: 3, ldc: 2, bias: nil, kernel: .best, path: .auto, panels: 0..<2)) {
            XCTAssertTrue("\($0)".contains("panels"), "\($0)")
        }
        XCTAssertThrowsError(try gemmRun(pw, m: -1, a: a, lda: 3, ldc: 2, bias: nil, kernel: .best, path: .auto))
    }

    func testBestKernelIsTheFastestSupported() {
        // AVX512-BF16 where the CPU has it (Zen 4/5, Sapphire Rapids), else AVX2 (Zen 2/3,
        // Haswell and later), else portable; portable when CGEMM_FORCE_PORTABLE=1.
        let forced = ProcessInfo.processInfo.environment["CGEMM_FORCE_PORTABLE"] == "1"
        let expected: GEMMKernel = forced ? .portable
            : GEMMKernel.avx512bf16.isSupported ? .avx512bf16 : GEMMKernel.avx2.isSupported ? .avx2 : .portable
        XCTAssertEqual(GEMMKernel.best, expected)
        XCTAssertTrue(GEMMKernel.portable.isSupported)
        if GEMMKernel.avx512bf16.isSupported { XCTAssertTrue(GEMMKernel.avx2.isSupported, "AVX-512 CPUs have AVX2") }
    }
}
