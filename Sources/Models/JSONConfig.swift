import Foundation

/// A decoded JSON object with typed, defaulting accessors whose errors name the file and the
/// dotted field path. Used to mirror Hugging Face config classes, which fill omitted keys
/// with defaults (a plain `Codable` synthesis would reject real configs).
public struct JSONObject {
    public let file: String
    public let path: String
    public let values: [String: Any]

    public init(file: String, path: String = "", values: [String: Any]) {
        self.file = file
        self.path = path
        self.values = values
    }

    /// Reads and parses a JSON object from disk.
    public static func load(_ url: URL) throws -> JSONObject {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelError.unreadableConfig(file: url.path, reason: "file not found or not readable")
        }
        let any: Any
        do {
            any = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw ModelError.unreadableConfig(file: url.path, reason: "malformed JSON")
        }
        guard let dict = any as? [String: Any] else {
            throw ModelError.unreadableConfig(file: url.path, reason: "top level is not a JSON object")
        }
        return JSONObject(file: url.path, values: dict)
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func bad(_ key: String, _ reason: String) -> ModelError {
        .invalidConfig(file: file, field: field(key), reason: reason)
    }

    /// True if the key exists and is not JSON null.
    public func has(_ key: String) -> Bool {
        guard let v = values[key] else { return false }
        return !(v is NSNull)
    }

    public func int(_ key: String, default def: Int? = nil) throws -> Int {
        guard has(key), let v = values[key] else {
            if let def { return def }
            throw bad(key, "required integer is missing")
        }
        if let n = v as? NSNumber, !isJSONBool(v), n.doubleValue == n.doubleValue.rounded() {
            let d = n.doubleValue
            guard d.isFinite, abs(d) < 9.0e15 else { throw bad(key, "integer out of range") }
            return Int(d)
        }
        throw bad(key, "expected an integer, found \(type(of: v))")
    }

    public func optionalInt(_ key: String) throws -> Int? {
        has(key) ? try int(key) : nil
    }

    public func double(_ key: String, default def: Double? = nil) throws -> Double {
        guard has(key), let v = values[key] else {
            if let def { return def }
            throw bad(key, "required number is missing")
        }
        guard let n = v as? NSNumber, !isJSONBool(v) else { throw bad(key, "expected a number") }
        // swift-corelibs-foundation returns long decimals as NSDecimalNumber, whose doubleValue
        // can be off by an ulp (0.00392156862745098 -> ...795); its decimal string is exact.
        let d = (n as? NSDecimalNumber).flatMap { Double($0.stringValue) } ?? n.doubleValue
        guard d.isFinite else { throw bad(key, "number is not finite") }
        return d
    }

    public func string(_ key: String, default def: String? = nil) throws -> String {
        guard has(key), let v = values[key] else {
            if let def { return def }
            throw bad(key, "required string is missing")
        }
        guard let s = v as? String else { throw bad(key, "expected a string") }
        return s
    }

    public func optionalString(_ key: String) throws -> String? {
        has(key) ? try string(key) : nil
    }

    public func bool(_ key: String, default def: Bool) throws -> Bool {
        guard has(key), let v = values[key] else { return def }
        guard isJSONBool(v), let b = v as? Bool else { throw bad(key, "expected true or false") }
        return b
    }

    /// A nested object, or nil if absent/null.
    public func object(_ key: String) throws -> JSONObject? {
        guard has(key), let v = values[key] else { return nil }
        guard let d = v as? [String: Any] else { throw bad(key, "expected an object") }
        return JSONObject(file: file, path: field(key), values: d)
    }

    /// An integer or a list of integers (e.g. `eos_token_id`, `vision_feature_layer`).
    public func intList(_ key: String) throws -> [Int]? {
        guard has(key), let v = values[key] else { return nil }
        if v is NSNumber, !isJSONBool(v) { return [try int(key)] }
        guard let arr = v as? [Any] else { throw bad(key, "expected an integer or a list of integers") }
        return try arr.enumerated().map { i, e in
            guard let n = e as? NSNumber, !isJSONBool(e), n.doubleValue == n.doubleValue.rounded() else {
                throw bad("\(key)[\(i)]", "expected an integer")
            }
            return n.intValue
        }
    }
}

/// JSONSerialization on Linux returns `true`/`false` as an NSNumber subclass, and `1 is Bool`
/// is true for plain numbers, so booleans are told apart by their exact class.
func isJSONBool(_ v: Any) -> Bool {
    guard v is NSNumber, !(v is NSDecimalNumber) else { return false }
    return type(of: v) != NSNumber.self
}
