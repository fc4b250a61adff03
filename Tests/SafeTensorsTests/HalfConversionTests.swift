import XCTest
@testable import SafeTensors

/// Independent software references, written with Double arithmetic instead of bit tricks.
enum Reference {
    /// binary16 bits -> Float bits (NaNs quiet, payload kept).
    static func halfToFloatBits(_ h: UInt16) -> UInt32 {
        let sign: UInt32 = (h & 0x8000) != 0 ? 0x8000_0000 : 0
        let e = Int((h >> 10) & 0x1f)
        let m = Int(h & 0x3ff)
        if e == 31 {
            if m == 0 { return sign | 0x7f80_0000 }
            return sign | 0x7fc0_0000 | (UInt32(m) << 13)
        }
        let magnitude: Double = e == 0
            ? Double(m) * 0x1p-24
            : (1.0 + Double(m) / 1024.0) * Double(sign: .plus, exponent: e - 15, significand: 1.0)
        guard let f = Float(exactly: magnitude) else { return 0xdead_beef }  // never: all halves fit
        return sign | f.bitPattern
    }

    /// Float -> binary16 bits, round to nearest even (NaN: quiet, top payload bits).
    static func floatToHalfBits(_ f: Float) -> UInt16 {
        let sign: UInt16 = f.sign == .minus ? 0x8000 : 0
        if f.isNaN { return sign | 0x7e00 | UInt16((f.bitPattern >> 13) & 0x3ff) }
        let a = Double(f.magnitude)
        if a.isInfinite || a >= 65520 { return sign | 0x7c00 }
        if a < 0x1p-14 {
            let m = (a * 0x1p24).rounded(.toNearestOrEven)  // exact product, RNE to the subnormal step
            return sign | UInt16(m)  // m == 1024 is the smallest normal's encoding
        }
        var e = Int(a.exponent)
        var m = (a * Double(sign: .plus, exponent: 10 - e, significand: 1.0)).rounded(.toNearestOrEven)
        if m == 2048 { m = 1024; e += 1 }
        return sign | UInt16((e + 15) << 10) | (UInt16(m) - 1024)
    }

    /// Float -> bfloat16 bits, round to nearest even (NaN: quiet, top payload bits).
    static func floatToBF16Bits(_ f: Float) -> UInt16 {
        if f.isNaN { return UInt16(f.bitPattern >> 16) | 0x0040 }
        let sign: UInt16 = f.sign == .minus ? 0x8000 : 0
        let a = Double(f.magnitude)
        if a.isInfinite { return sign | 0x7f80 }
        // bfloat16 = float with 8 significant bits; below 2^-126 the step is 2^-133.
        let e = max(Int(a.exponent), -126)
        if a == 0 { return sign }
        let step = Double(sign: .plus, exponent: e - 7, significand: 1.0)
        let q = (a / step).rounded(.toNearestOrEven) * step
        if q >= 0x1p128 { return sign | 0x7f80 }
        return sign | UInt16(Float(q).bitPattern >> 16)
    }
}

final class HalfConversionTests: XCTestCase {
    private var kernels: [HalfConversionKernel] { HalfConversionKernel.allCases.filter(\.isSupported) }

    func testKernelSelection() {
        XCTAssertTrue(HalfConversionKernel.portable.isSupported)
        XCTAssertTrue(HalfConversionKernel.best.isSupported)
        #if arch(x86_64)
        // Every x86-64 machine this project targets has F16C and AVX2.
        XCTAssertNotEqual(HalfConversionKernel.best, .portable)
        #endif
    }

    /// All 65536 binary16 patterns, every kernel, against the Double-arithmetic reference.
    func testF16ToF32Exhaustive() {
        let halves = (0...0xffff).map { UInt16($0) }
        let expected = halves.map(Reference.halfToFloatBits)
        for kernel in kernels + [nil] {
            var out = [Float](repeating: .nan, count: halves.count)
            halves.withUnsafeBytes { src in
                out.withUnsafeMutableBufferPointer { dst in
                    if let kernel {
                        convertF16ToF32(src.baseAddress!, dst.baseAddress!, count: halves.count, kernel: kernel)
                    } else {
                        convertF16ToF32(src.baseAddress!, dst.baseAddress!, count: halves.count)
                    }
                }
            }
            var mismatches = 0
            for i in 0..<halves.count where out[i].bitPattern != expected[i] {
                if mismatches < 5 {
                    XCTFail("\(kernel?.rawValue ?? "best"): f16 0x\(String(i, radix: 16)) -> 0x\(String(out[i].bitPattern, radix: 16)), want 0x\(String(expected[i], radix: 16))")
                }
                mismatches += 1
            }
            XCTAssertEqual(mismatches, 0, "kernel \(kernel?.rawValue ?? "best")")
        }
        for h in halves {
            XCTAssertEqual(halfBitsToFloat(h).bitPattern, Reference.halfToFloatBits(h))
        }
    }

    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    /// Cross-check against Swift's own Float16 (non-NaN values must match bit for bit).
    func testF16AgainstSwiftFloat16() {
        var nonNaN = 0
        for i in 0...0xffff {
            let h = UInt16(i)
            let swift = Float(Float16(bitPattern: h))
            let ours = halfBitsToFloat(h)
            if swift.isNaN {
                XCTAssertTrue(ours.isNaN)
            } else {
                XCTAssertEqual(ours.bitPattern, swift.bitPattern, "f16 0x\(String(i, radix: 16))")
                nonNaN += 1
            }
        }
        XCTAssertEqual(nonNaN, 65536 - 2 * 1023)
        // Float -> Float16 on the same probe set as the F32 -> F16 test.
        for f in Self.f16Probes() where !f.isNaN {
            XCTAssertEqual(floatToHalfBits(f), Float16(f).bitPattern, "float 0x\(String(f.bitPattern, radix: 16))")
        }
    }
    #endif

    /// Every binary16 value, the midpoints between neighbours, one float ulp either side of each
    /// midpoint, the overflow region, and 2^18 random bit patterns.
    static func f16Probes() -> [Float] {
        var probes: [Float] = []
        for i in 0..<0x7c00 {
            let lo = Double(Float(bitPattern: Reference.halfToFloatBits(UInt16(i))))
            let hi = Double(Float(bitPattern: Reference.halfToFloatBits(UInt16(i + 1))))
            let mid = Float((lo + hi) / 2)  // exact: halves have 11 significant bits
            probes += [Float(lo), mid, mid.nextUp, mid.nextDown]
        }
        probes += [65504, 65519.996, 65520, 65520.004, 1e5, .greatestFiniteMagnitude, .infinity,
                   .leastNonzeroMagnitude, .leastNormalMagnitude, 0x1p-25, 0x1p-26, 0x1.8p-25,
                   .nan, Float(bitPattern: 0x7f80_0001), Float(bitPattern: 0x7fbf_ffff), Float(bitPattern: 0x7fc0_2000)]
        probes += probes.map { -$0 }
        var rng = SplitMix64(seed: 0x5eed)
        for _ in 0..<(1 << 18) { probes.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        return probes
    }

    func testF32ToF16AgainstReference() {
        let probes = Self.f16Probes()
        let expected = probes.map(Reference.floatToHalfBits)
        for kernel in kernels + [nil] {
            var out = [UInt16](repeating: 0xffff, count: probes.count)
            probes.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBytes { dst in
                    if let kernel {
                        convertF32ToF16(src.baseAddress!, dst.baseAddress!, count: probes.count, kernel: kernel)
                    } else {
                        convertF32ToF16(src.baseAddress!, dst.baseAddress!, count: probes.count)
                    }
                }
            }
            var mismatches = 0
            for i in 0..<probes.count where out[i] != expected[i] {
                if mismatches < 5 {
                    XCTFail("\(kernel?.rawValue ?? "best"): float 0x\(String(probes[i].bitPattern, radix: 16)) -> 0x\(String(out[i], radix: 16)), want 0x\(String(expected[i], radix: 16))")
                }
                mismatches += 1
            }
            XCTAssertEqual(mismatches, 0, "kernel \(kernel?.rawValue ?? "best")")
        }
        for (f, e) in zip(probes, expected) where floatToHalfBits(f) != e {
            XCTFail("scalar floatToHalfBits(0x\(String(f.bitPattern, radix: 16)))")
            break
        }
    }

    /// Spot values with known answers (independent of both implementations).
    func testF32ToF16KnownValues() {
        let cases: [(Float, UInt16)] = [
            (0, 0x0000), (-0.0, 0x8000), (1, 0x3c00), (-2, 0xc000), (65504, 0x7bff),
            (65519.996, 0x7bff), (65520, 0x7c00), (.infinity, 0x7c00), (-.infinity, 0xfc00),
            (0x1p-24, 0x0001), (0x1p-25, 0x0000), (0x1.8p-24, 0x0002), (0x1.000002p-25, 0x0001),
            (0x1p-14, 0x0400), (0x1.ffcp-15, 0x0400), (0x1.ff8p-15, 0x03ff), (1.0009765625, 0x3c01), (1.00048828125, 0x3c00),
            (1.00146484375, 0x3c02), (Float(bitPattern: 0x7fc0_0000), 0x7e00), (Float(bitPattern: 0xff80_0001), 0xfe00),
        ]
        var src = cases.map(\.0)
        var out = [UInt16](repeating: 0, count: src.count)
        for kernel in kernels {
            src.withUnsafeMutableBufferPointer { s in
                out.withUnsafeMutableBytes { convertF32ToF16(s.baseAddress!, $0.baseAddress!, count: s.count, kernel: kernel) }
            }
            for (i, c) in cases.enumerated() {
                XCTAssertEqual(out[i], c.1, "\(kernel): \(c.0)")
            }
        }
    }

    func testBF16ToF32Exhaustive() {
        let patterns = (0...0xffff).map { UInt16($0) }
        for kernel in kernels + [nil] {
            var out = [Float](repeating: 0, count: patterns.count)
            patterns.withUnsafeBytes { src in
                out.withUnsafeMutableBufferPointer { dst in
                    if let kernel {
                        convertBF16ToF32(src.baseAddress!, dst.baseAddress!, count: patterns.count, kernel: kernel)
                    } else {
                        convertBF16ToF32(src.baseAddress!, dst.baseAddress!, count: patterns.count)
                    }
                }
            }
            for (i, f) in out.enumerated() where f.bitPattern != UInt32(i) << 16 {
                XCTFail("\(kernel?.rawValue ?? "best"): bf16 0x\(String(i, radix: 16))")
                break
            }
        }
        // Round trip bf16 -> f32 -> bf16 is the identity except that NaNs come back quiet.
        var floats = patterns.map(bf16BitsToFloat)
        var back = [UInt16](repeating: 0, count: floats.count)
        floats.withUnsafeMutableBufferPointer { s in
            back.withUnsafeMutableBytes { convertF32ToBF16(s.baseAddress!, $0.baseAddress!, count: s.count) }
        }
        for (i, b) in back.enumerated() {
            let isNaN = (i & 0x7f80) == 0x7f80 && (i & 0x7f) != 0
            XCTAssertEqual(b, isNaN ? UInt16(i) | 0x40 : UInt16(i), "bf16 0x\(String(i, radix: 16))")
        }
    }

    func testF32ToBF16AgainstReference() {
        var probes: [Float] = []
        for i in 0..<0x7f80 {  // every finite positive bf16, the midpoints and their neighbours
            let lo = Float(bitPattern: UInt32(i) << 16)
            let mid = Float(bitPattern: (UInt32(i) << 16) | 0x8000)
            probes += [lo, mid, mid.nextUp, mid.nextDown]
        }
        probes += [.infinity, .greatestFiniteMagnitude, .nan, Float(bitPattern: 0x7f80_0001), Float(bitPattern: 0x7fff_ffff)]
        probes += probes.map { -$0 }
        var rng = SplitMix64(seed: 0xbf16)
        for _ in 0..<(1 << 18) { probes.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        let expected = probes.map(Reference.floatToBF16Bits)
        for kernel in kernels + [nil] {
            var out = [UInt16](repeating: 0, count: probes.count)
            probes.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBytes { dst in
                    if let kernel {
                        convertF32ToBF16(src.baseAddress!, dst.baseAddress!, count: probes.count, kernel: kernel)
                    } else {
                        convertF32ToBF16(src.baseAddress!, dst.baseAddress!, count: probes.count)
                    }
                }
            }
            var mismatches = 0
            for i in 0..<probes.count where out[i] != expected[i] {
                if mismatches < 5 {
                    XCTFail("\(kernel?.rawValue ?? "best"): float 0x\(String(probes[i].bitPattern, radix: 16)) -> 0x\(String(out[i], radix: 16)), want 0x\(String(expected[i], radix: 16))")
                }
                mismatches += 1
            }
            XCTAssertEqual(mismatches, 0)
        }
        for (f, e) in zip(probes, expected) where floatToBF16Bits(f) != e {
            XCTFail("scalar floatToBF16Bits(0x\(String(f.bitPattern, radix: 16)))")
            break
        }
    }

    /// Unaligned pointers and every length 0...80 (SIMD bodies + scalar tails) give the same result.
    func testUnalignedAndTails() {
        var rng = SplitMix64(seed: 7)
        let halves = (0..<81).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
        let floats = (0..<81).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 2 * 81 + 8, alignment: 16)
        let fraw = UnsafeMutableRawPointer.allocate(byteCount: 4 * 81 + 8, alignment: 16)
        let fout = UnsafeMutablePointer<Float>.allocate(capacity: 81)
        defer { raw.deallocate(); fraw.deallocate(); fout.deallocate() }
        for kernel in kernels {
            for n in 0...80 {
                // halves at an odd address
                let src = raw + 1
                for i in 0..<n { src.storeBytes(of: halves[i], toByteOffset: 2 * i, as: UInt16.self) }
                fout.update(repeating: 12345, count: 81)
                convertF16ToF32(src, fout, count: n, kernel: kernel)
                for i in 0..<n { XCTAssertEqual(fout[i].bitPattern, Reference.halfToFloatBits(halves[i])) }
                XCTAssertEqual(fout[n], 12345, "wrote past the end (\(kernel), n=\(n))")
                convertBF16ToF32(src, fout, count: n, kernel: kernel)
                for i in 0..<n { XCTAssertEqual(fout[i].bitPattern, UInt32(halves[i]) << 16) }

                // floats at an address that is not 4-byte aligned, output at an odd address
                let fsrc = (fraw + 2).bindMemory(to: Float.self, capacity: n)
                for i in 0..<n { (fraw + 2).storeBytes(of: floats[i], toByteOffset: 4 * i, as: Float.self) }
                raw.initializeMemory(as: UInt8.self, repeating: 0xaa, count: 2 * 81 + 8)
                convertF32ToF16(fsrc, src, count: n, kernel: kernel)
                for i in 0..<n {
                    XCTAssertEqual(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self), Reference.floatToHalfBits(floats[i]))
                }
                XCTAssertEqual(src.load(fromByteOffset: 2 * n, as: UInt8.self), 0xaa)
                convertF32ToBF16(fsrc, src, count: n, kernel: kernel)
                for i in 0..<n {
                    XCTAssertEqual(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self), Reference.floatToBF16Bits(floats[i]))
                }
            }
        }
    }

    /// numpy's float32 -> float16 and torch's float32 -> bfloat16 on 4096 values (Python-made fixture).
    func testAgainstPythonConversions() throws {
        let file = try SafeTensorsFile(url: Fixtures.url("conversions.safetensors"))
        let src = try file.floats("f32")
        XCTAssertEqual(src.count, 4096)
        let f16 = try file.rawBytes("f16_numpy")
        let bf16 = try file.rawBytes("bf16_torch")
        var out = [UInt16](repeating: 0, count: src.count)
        for kernel in kernels {
            src.withUnsafeBufferPointer { s in out.withUnsafeMutableBytes { convertF32ToF16(s.baseAddress!, $0.baseAddress!, count: s.count, kernel: kernel) } }
            for i in 0..<src.count {
                XCTAssertEqual(out[i], f16.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self), "f16 \(kernel) #\(i)")
            }
            src.withUnsafeBufferPointer { s in out.withUnsafeMutableBytes { convertF32ToBF16(s.baseAddress!, $0.baseAddress!, count: s.count, kernel: kernel) } }
            var nanCount = 0
            for i in 0..<src.count {
                let want = bf16.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                if src[i].isNaN {
                    // torch writes every NaN as 0xFFFF; ours keeps the sign and payload (quiet).
                    XCTAssertEqual(want, 0xffff)
                    XCTAssertEqual(out[i], 0x7fc0)
                    nanCount += 1
                } else {
                    XCTAssertEqual(out[i], want, "bf16 \(kernel) #\(i)")
                }
            }
            XCTAssertGreaterThan(nanCount, 0)
        }
    }
}

/// Small deterministic PRNG for tests.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Locates the committed fixtures next to this source file.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
}
