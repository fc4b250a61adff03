/// Turns a `JSONCursor`'s complaints into a module's own error type (which names the file).
public protocol JSONErrorReporter {
    /// The error type the cursor's accessors throw.
    associatedtype Failure: Error
    /// A required member at `path` (dotted, e.g. `model.vocab`) is absent or null.
    func missing(path: String) -> Failure
    /// The value at `path` (empty: the root) is present but unusable; `reason` reads like
    /// "expected a string, found a number".
    func invalid(path: String, reason: String) -> Failure
}

/// A JSON value together with its dotted path in the document (`model.merges[3]`), whose typed
/// accessors throw the module's own errors (built by `reporter`) naming that path.
///
/// Paths: an object member appends `.key` (just `key` at the root), an array element `[i]`.
/// Lookups take the last member with exactly the key's bytes.
public struct JSONCursor<Reporter: JSONErrorReporter> {
    /// The value under the cursor.
    public let value: JSONValue
    /// Dotted path of `value` inside the document; empty at the root.
    public let path: String
    /// Builds the errors thrown by the accessors.
    public let reporter: Reporter

    /// A cursor on `value`, found at `path`.
    public init(_ value: JSONValue, path: String = "", reporter: Reporter) {
        self.value = value
        self.path = path
        self.reporter = reporter
    }

    /// The path of member `key` of this value.
    public func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// True when the value is JSON null.
    public var isNull: Bool { value.isNull }

    /// An error about this value: `reason` says what is wrong with it.
    public func invalid(_ reason: String) -> Reporter.Failure {
        reporter.invalid(path: path, reason: reason)
    }

    /// "expected \(expected), found <this value's type>", e.g. `typeError("an array")`.
    public func typeError(_ expected: String) -> Reporter.Failure {
        invalid("expected \(expected), found \(value.typeNameWithArticle)")
    }

    /// The member `key`; throws `missing` when it is absent or null, `invalid` when this is not an object.
    public func field(_ key: String) throws(Reporter.Failure) -> JSONCursor {
        guard let c = try optionalField(key) else { throw reporter.missing(path: childPath(key)) }
        return c
    }

    /// The member `key`, or nil when it is absent or null; throws when this is not an object.
    public func optionalField(_ key: String) throws(Reporter.Failure) -> JSONCursor? {
        guard case .object(let members) = value else { throw typeError("an object") }
        guard let m = JSONMember.last(named: key, in: members), !m.value.isNull else { return nil }
        return JSONCursor(m.value, path: childPath(key), reporter: reporter)
    }

    /// Whether this is an object with a member `key` (even a null one).
    public func has(_ key: String) -> Bool { value.member(key) != nil }

    /// A string's UTF-8 bytes.
    public func bytes() throws(Reporter.Failure) -> [UInt8] {
        guard case .string(let b) = value else { throw typeError("a string") }
        return b
    }

    /// A string as a Swift `String`.
    public func string() throws(Reporter.Failure) -> String { String(decoding: try bytes(), as: UTF8.self) }

    /// A boolean.
    public func bool() throws(Reporter.Failure) -> Bool {
        guard case .bool(let b) = value else { throw typeError("a boolean") }
        return b
    }

    /// An integer literal that fits in `Int` (no fraction, no exponent).
    public func int() throws(Reporter.Failure) -> Int {
        guard case .number(let n) = value else { throw typeError("an integer") }
        guard let i = n.intValue else { throw invalid("expected an integer, found a fractional or out-of-range number") }
        return i
    }

    /// Any number, correctly rounded to `Double` (±infinity beyond its range).
    public func double() throws(Reporter.Failure) -> Double {
        guard case .number(let n) = value else { throw typeError("a number") }
        return n.doubleValue
    }

    /// The elements of an array, each with its path `path[i]`.
    public func array() throws(Reporter.Failure) -> [JSONCursor] {
        guard case .array(let items) = value else { throw typeError("an array") }
        var out: [JSONCursor] = []
        out.reserveCapacity(items.count)
        for (i, v) in items.enumerated() { out.append(JSONCursor(v, path: "\(path)[\(i)]", reporter: reporter)) }
        return out
    }

    /// The members of an object, in document order.
    public func members() throws(Reporter.Failure) -> [JSONMember] {
        guard case .object(let m) = value else { throw typeError("an object") }
        return m
    }
}
