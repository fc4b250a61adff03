import Foundation

/// Reading JSON and JSON Lines files into Codable values with errors that name the file,
/// the line (or array index) and the field.
enum JSONFiles {
    /// Reads the whole file.
    static func data(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw BenchmarkError.io(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
    }

    /// The field path and reason of a decoding error.
    static func explain(_ error: Error) -> (field: String?, reason: String) {
        guard let e = error as? DecodingError else { return (nil, "\(error)") }
        func path(_ ctx: DecodingError.Context, _ extra: CodingKey? = nil) -> String? {
            let keys = (ctx.codingPath + (extra.map { [$0] } ?? [])).map { k -> String in
                k.intValue.map { "[\($0)]" } ?? k.stringValue
            }
            return keys.isEmpty ? nil : keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch e {
        case let .keyNotFound(key, ctx): return (path(ctx, key), "is missing")
        case let .typeMismatch(type, ctx): return (path(ctx), "has the wrong type (expected \(type))")
        case let .valueNotFound(type, ctx): return (path(ctx), "is null (expected \(type))")
        case let .dataCorrupted(ctx):
            return (path(ctx), "is not valid JSON (\(ctx.underlyingError.map { "\($0.localizedDescription)" } ?? ctx.debugDescription))")
        @unknown default: return (nil, "\(error)")
        }
    }

    static func wrap(_ error: Error, location: String) -> BenchmarkError {
        if let b = error as? BenchmarkError { return b }
        let (field, reason) = explain(error)
        if let field { return .field(location: location, field: field, reason: reason) }
        return .format(location: location, reason: reason)
    }

    /// Decodes a JSON document (e.g. an array) of `T`.
    static func decode<T: Decodable>(_ type: T.Type, from url: URL, what: String) throws -> T {
        let d = try data(url)
        do { return try JSONDecoder().decode(T.self, from: d) } catch {
            if let e = error as? DecodingError, case .dataCorrupted = e, (try? JSONSerialization.jsonObject(with: d)) == nil {
                throw BenchmarkError.format(location: url.path, reason: "is not a JSON document (\(what) expected)")
            }
            throw wrap(error, location: url.path)
        }
    }

    /// Decodes each non-blank line as a `T`; returns (1-based line number, value).
    static func decodeLines<T: Decodable>(_ type: T.Type, from url: URL) throws -> [(line: Int, value: T)] {
        let d = try data(url)
        return try decodeLines(type, data: d, name: url.path)
    }

    /// `decodeLines` on bytes already read.
    static func decodeLines<T: Decodable>(_ type: T.Type, data d: Data, name: String) throws -> [(line: Int, value: T)] {
        var out: [(Int, T)] = []
        let decoder = JSONDecoder()
        var lineNo = 0
        for slice in d.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNo += 1
            if slice.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do { out.append((lineNo, try decoder.decode(T.self, from: Data(slice)))) } catch {
                throw wrap(error, location: "\(name):\(lineNo)")
            }
        }
        return out
    }

    /// Whether the first non-blank byte is `[` (a JSON array rather than JSON Lines).
    static func looksLikeArray(_ d: Data) -> Bool {
        d.first(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }) == UInt8(ascii: "[")
    }
}

/// A JSON string or list of strings (AMBER's `truth` is a string for discriminative entries
/// and a list for generative ones).
enum StringOrList: Decodable {
    case string(String)
    case list([String])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .string(s) } else { self = .list(try c.decode([String].self)) }
    }
}
