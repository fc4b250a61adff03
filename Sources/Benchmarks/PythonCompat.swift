import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The few Python and NumPy semantics the official scorers depend on, reproduced exactly.
/// Python strings are sequences of code points, so everything here works on Unicode scalars,
/// never on Swift `Character`s (grapheme clusters) or with Swift's canonical-equivalence `==`.
public enum Py {
    /// The code points of `s` (Python's view of a `str`).
    public static func scalars(_ s: String) -> [Unicode.Scalar] { Array(s.unicodeScalars) }

    /// A string from code points.
    public static func string<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: scalars)
        return String(v)
    }

    /// Code-point equality (Python `==` on `str`).
    public static func equal(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.elementsEqual(b.unicodeScalars)
    }

    /// Python `needle in haystack` for strings (code-point substring test; "" is in everything).
    public static func contains(_ haystack: String, _ needle: String) -> Bool {
        let h = scalars(haystack), n = scalars(needle)
        if n.isEmpty { return true }
        if n.count > h.count { return false }
        for i in 0...(h.count - n.count) where h[i] == n[0] {
            var j = 1
            while j < n.count && h[i + j] == n[j] { j += 1 }
            if j == n.count { return true }
        }
        return false
    }

    /// Python `s.split(sep)` with an explicit one-character separator (empty parts kept).
    public static func split(_ s: String, on sep: Unicode.Scalar) -> [String] {
        var parts: [String] = []
        var cur = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            if c == sep {
                parts.append(String(cur))
                cur = String.UnicodeScalarView()
            } else {
                cur.append(c)
            }
        }
        parts.append(String(cur))
        return parts
    }

    /// Python `s.replace(old, "")` for a one-character `old`.
    public static func removing(_ s: String, _ c: Unicode.Scalar) -> String {
        string(s.unicodeScalars.filter { $0 != c })
    }

    /// Python `s[:n]` (the first `n` code points).
    public static func prefix(_ s: String, _ n: Int) -> String { string(s.unicodeScalars.prefix(n)) }

    /// Python `str.lower()` (full Unicode lower-case mapping; Swift's `lowercased()` uses the
    /// same Unicode data).
    public static func lower(_ s: String) -> String { s.lowercased() }

    /// Python `str.isspace()` for one code point: Unicode whitespace (bidi classes WS, B, S or
    /// category Zs), which includes the ASCII separators 0x1C-0x1F that Foundation's
    /// whitespace set lacks.
    public static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python `s.strip()` with no argument.
    public static func strip(_ s: String) -> String {
        let v = scalars(s)
        var lo = 0, hi = v.count
        while lo < hi && isSpace(v[lo]) { lo += 1 }
        while hi > lo && isSpace(v[hi - 1]) { hi -= 1 }
        return string(v[lo..<hi])
    }

    /// Python `round(x, ndigits)` for a float: the decimal value with `ndigits` digits after the
    /// point nearest to the exact binary value of `x` (ties to even), as a float. glibc's
    /// `printf("%.*f")` rounds the exact binary value the same way, so it is used to do it.
    public static func round(_ x: Double, _ ndigits: Int) -> Double {
        guard x.isFinite, ndigits >= 0 else { return x }
        return Double(fixed(x, ndigits)) ?? x
    }

    /// Python `'%.<digits>f' % x` (correctly rounded, like glibc's printf).
    public static func fixed(_ x: Double, _ digits: Int) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        var buffer = [CChar](repeating: 0, count: 512)
        let n = withVaList([Int32(digits), x]) { vsnprintf(&buffer, buffer.count, "%.*f", $0) }
        guard n > 0 && Int(n) < buffer.count else { return "\(x)" }
        return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// NumPy `np.round(x, decimals)` for float64 with `decimals >= 0`: `rint(x * 10**d) / 10**d`,
    /// which differs from Python's `round` when the scaling is inexact.
    public static func numpyRound(_ x: Double, _ decimals: Int) -> Double {
        let f = pow(10.0, Double(decimals))
        return (x * f).rounded(.toNearestOrEven) / f
    }

    /// Python's `float.__repr__` (shortest round-tripping digits, exponent form below 1e-4 and
    /// from 1e16 on), which Swift's `description` of a `Double` matches.
    public static func repr(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return "\(x)"
    }

    /// Python 3 `open(path).readlines()` in text mode: UTF-8, universal newlines ("\r\n" and
    /// lone "\r" become "\n"), each line keeps its "\n" (the last one may have none).
    public static func readLines(_ url: URL) throws -> [String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw BenchmarkError.io(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        return try readLines(data: data, name: url.path)
    }

    /// `readLines` on bytes already in memory; `name` is used in errors.
    public static func readLines(data: Data, name: String) throws -> [String] {
        guard let text = String(validating: data, as: UTF8.self) else {
            throw BenchmarkError.format(location: name, reason: "is not valid UTF-8")
        }
        var lines: [String] = []
        var cur = String.UnicodeScalarView()
        var it = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = it.next()
        while let c = pending {
            pending = it.next()
            if c == "\r" {
                if pending == "\n" { pending = it.next() }
                cur.append("\n")
                lines.append(String(cur))
                cur = String.UnicodeScalarView()
            } else if c == "\n" {
                cur.append("\n")
                lines.append(String(cur))
                cur = String.UnicodeScalarView()
            } else {
                cur.append(c)
            }
        }
        if !cur.isEmpty { lines.append(String(cur)) }
        return lines
    }
}
