import Foundation
import JSONCore

/// A decoded JSON object with typed, defaulting accessors whose errors name the file and the
/// dotted field path. Used to mirror Hugging Face config classes, which fill omitted keys
/// with defaults (a plain `Codable` synthesis would reject real configs).
///
/// Parsed by `JSONCore` (strict RFC 8259): numbers are read from their source text, so integers are
/// exact and decimals correctly rounded, and `1` is never mistaken for `true`. A repeated key: the
/// last one counts (as in Python's `json`). Keys compare by their exact UTF-8 bytes.
public struct JSONObject {
    /// The file the object came from (for error messages).
    public let file: String
    /// Dotted path of this object inside the file; empty for the top level.
    public let path: String
    /// The object's members, in file order.
    public let members: [JSONMember]

    /// An object with `members`, found at `path` of `file`.
    public init(file: String, path: String = "", members: [JSONMember]) {
        self.file = file
        self.path = path
        self.members = members
    }

    /// Reads and parses a JSON object from disk.
    public static func load(_ url: URL) throws -> JSONObject {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelError.unreadableConfig(file: url.path, reason: "file not found or not readable")
        }
        let root: JSONValue
        do throws(JSONParseError) {
            root = try JSONParser.parse(data)
        } catch {
            throw ModelError.unreadableConfig(file: url.path, reason: "malformed JSON at byte \(error.offset): \(error.reason)")
        }
        guard case .object(let members) = root else {
            throw ModelError.unreadableConfig(file: url.path, reason: "top level is not a JSON object")
        }
        return JSONObject(file: url.path, members: members)
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func bad(_ key: String, _ reason: String) -> ModelError {
        .invalidConfig(file: file, field: field(key), reason: reason)
    }

    /// The value of `key`, nil when absent or JSON null.
    func value(_ key: String) -> JSONValue? {
        guard let m = JSONMember.last(named: key, in: members), !m.value.isNull else { return nil }
        return m.value
    }

    /// True if the key exists and is not JSON null.
    public func has(_ key: String) -> Bool { value(key) != nil }

    /// An integer; absent or null gives `def` (an error when there is no default). Integral
    /// decimals such as `2.0` or `1e3` are accepted, as Python's `int` fields would take them.
    public func int(_ key: String, default def: Int? = nil) throws -> Int {
        guard let v = value(key) else {
            if let def { return def }
            throw bad(key, "required integer is missing")
        }
        return try integer(v, field: key)
    }

    /// An integer, or nil when absent or null.
    public func optionalInt(_ key: String) throws -> Int? {
        has(key) ? try int(key) : nil
    }

    /// The value at `field` (a key of this object, or `key[i]`) as an integer.
    private func integer(_ v: JSONValue, field: String) throws -> Int {
        guard case .number(let n) = v else { throw bad(field, "expected an integer, found \(v.typeNameWithArticle)") }
        if let i = n.intValue { return i }
        if n.isIntegerLiteral { throw bad(field, "integer \(n.text) out of range") }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded() else { throw bad(field, "expected an integer, found \(n.text)") }
        // Beyond 2^53 a decimal's double is not the integer it spells; refuse rather than guess.
        guard abs(d) < 9.0e15 else { throw bad(field, "integer \(n.text) out of range") }
        return Int(d)
    }

    /// A number (any JSON number, correctly rounded); absent or null gives `def` (an error when
    /// there is no default). Numbers beyond Double's range are an error.
    public func double(_ key: String, default def: Double? = nil) throws -> Double {
        guard let v = value(key) else {
            if let def { return def }
            throw bad(key, "required number is missing")
        }
        guard case .number(let n) = v else { throw bad(key, "expected a number, found \(v.typeNameWithArticle)") }
        let d = n.doubleValue
        guard d.isFinite else { throw bad(key, "number \(n.text) is not finite") }
        return d
    }

    /// A string; absent or null gives `def` (an error when there is no default).
    public func string(_ key: String, default def: String? = nil) throws -> String {
        guard let v = value(key) else {
            if let def { return def }
            throw bad(key, "required string is missing")
        }
        guard let s = v.stringValue else { throw bad(key, "expected a string, found \(v.typeNameWithArticle)") }
        return s
    }

    /// A string, or nil when absent or null.
    public func optionalString(_ key: String) throws -> String? {
        has(key) ? try string(key) : nil
    }

    /// A boolean (`true`/`false` only, never a number); absent or null gives `def`.
    public func bool(_ key: String, default def: Bool) throws -> Bool {
        guard let v = value(key) else { return def }
        guard case .bool(let b) = v else { throw bad(key, "expected true or false, found \(v.typeNameWithArticle)") }
        return b
    }

    /// A nested object, or nil if absent/null.
    public func object(_ key: String) throws -> JSONObject? {
        guard let v = value(key) else { return nil }
        guard case .object(let members) = v else { throw bad(key, "expected an object, found \(v.typeNameWithArticle)") }
        return JSONObject(file: file, path: field(key), members: members)
    }

    /// An integer or a list of integers (e.g. `eos_token_id`, `vision_feature_layer`).
    public func intList(_ key: String) throws -> [Int]? {
        guard let v = value(key) else { return nil }
        switch v {
        case .number:
            return [try integer(v, field: key)]
        case .array(let items):
            return try items.enumerated().map { i, e in try integer(e, field: "\(key)[\(i)]") }
        default:
            throw bad(key, "expected an integer or a list of integers, found \(v.typeNameWithArticle)")
        }
    }
}
