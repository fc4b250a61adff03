import Foundation
import XCTest

/// Fixtures folder next to this file.
let fixturesURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// A JSON value decoded with `JSONDecoder`, which parses numbers exactly (Linux
/// `JSONSerialization` returns `NSDecimalNumber` for long decimals, whose `doubleValue` is off in
/// the last digits: not usable for 1e-12 comparisons).
private enum JSONValue: Decodable {
    case null, bool(Bool), int(Int), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// Native Swift values: Int, Double, String, Bool, [Any], [String: Any], NSNull.
    var native: Any {
        switch self {
        case .null: return NSNull()
        case let .bool(b): return b
        case let .int(i): return i
        case let .double(d): return d
        case let .string(s): return s
        case let .array(a): return a.map(\.native)
        case let .object(o): return o.mapValues(\.native)
        }
    }
}

/// Loads a JSON fixture as native Swift values (exact doubles).
func loadJSONFixture(_ relativePath: String) throws -> Any {
    let data = try Data(contentsOf: fixturesURL.appendingPathComponent(relativePath))
    return try JSONDecoder().decode(JSONValue.self, from: data).native
}

func double(_ v: Any?) -> Double? {
    if let d = v as? Double { return d }
    if let i = v as? Int { return Double(i) }
    return nil
}

func doubles(_ v: Any?) -> [Double]? {
    guard let a = v as? [Any] else { return nil }
    let r = a.compactMap(double)
    return r.count == a.count ? r : nil
}

func ints(_ v: Any?) -> [Int]? {
    guard let a = v as? [Any] else { return nil }
    let r = a.compactMap { $0 as? Int }
    return r.count == a.count ? r : nil
}

/// Relative difference `|a - b| / max(|a|, |b|)` (0 when both are 0).
func relativeDifference(_ a: Double, _ b: Double) -> Double {
    if a == b { return 0 }
    return abs(a - b) / max(abs(a), abs(b))
}
