import Foundation

/// Errors reading a CSV table.
public enum TableError: Error, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case empty(file: String)
    case raggedRow(file: String, line: Int, fields: Int, expected: Int)
    case unterminatedQuote(file: String, line: Int)
    case missingColumn(file: String, column: String, available: [String])
    case notANumber(file: String, line: Int, column: String, value: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read: \(reason)"
        case let .empty(file): return "\(file): no header line"
        case let .raggedRow(file, line, fields, expected):
            return "\(file): line \(line): \(fields) fields, the header has \(expected)"
        case let .unterminatedQuote(file, line): return "\(file): line \(line): unterminated quoted field"
        case let .missingColumn(file, column, available):
            return "\(file): no column '\(column)' (columns: \(available.joined(separator: ", ")))"
        case let .notANumber(file, line, column, value):
            return "\(file): line \(line), column '\(column)': '\(value)' is not a number"
        }
    }
}

/// A CSV file with a header line (RFC 4180: comma-separated, fields may be double-quoted with
/// `""` for a quote; blank lines are skipped).
public struct CSVTable: Sendable {
    /// Name used in errors (the path).
    public let file: String
    public let header: [String]
    /// Data rows, each with `header.count` fields.
    public let rows: [[String]]
    /// File line number (1-based) of each row.
    public let lineNumbers: [Int]

    /// Reads and parses a CSV file.
    public init(contentsOf url: URL) throws {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw TableError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        try self.init(text: text, file: url.path)
    }

    /// Parses CSV text; `file` names the source in errors.
    public init(text: String, file: String) throws {
        var records: [([String], Int)] = []
        var field = ""
        var record: [String] = []
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        var fieldStarted = false
        func endRecord() {
            record.append(field)
            if !(record.count == 1 && record[0].isEmpty && !fieldStarted) { records.append((record, recordLine)) }
            record = []; field = ""; fieldStarted = false
        }
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 1 } else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                inQuotes = true; fieldStarted = true
            } else if c == "," {
                record.append(field); field = ""; fieldStarted = true
            } else if c == "\n" || c == "\r" {
                if c == "\r" && i + 1 < chars.count && chars[i + 1] == "\n" { i += 1 }
                endRecord()
                line += 1
                recordLine = line
            } else {
                field.unicodeScalars.append(c); fieldStarted = true
            }
            i += 1
        }
        if inQuotes { throw TableError.unterminatedQuote(file: file, line: recordLine) }
        if !field.isEmpty || !record.isEmpty || fieldStarted { endRecord() }
        guard let first = records.first else { throw TableError.empty(file: file) }
        self.file = file
        self.header = first.0.map { $0.trimmingCharacters(in: .whitespaces) }
        var rows: [[String]] = []
        var lines: [Int] = []
        for (r, l) in records.dropFirst() {
            guard r.count == header.count else {
                throw TableError.raggedRow(file: file, line: l, fields: r.count, expected: header.count)
            }
            rows.append(r); lines.append(l)
        }
        self.rows = rows
        self.lineNumbers = lines
    }

    /// A column parsed as numbers. `true`/`false` (any case) read as 1/0.
    public func numericColumn(_ name: String) throws -> [Double] {
        guard let j = header.firstIndex(of: name) else {
            throw TableError.missingColumn(file: file, column: name, available: header)
        }
        return try rows.enumerated().map { i, row in
            let s = row[j].trimmingCharacters(in: .whitespaces)
            switch s.lowercased() {
            case "true": return 1
            case "false": return 0
            default:
                guard let v = Double(s), v.isFinite else {
                    throw TableError.notANumber(file: file, line: lineNumbers[i], column: name, value: s)
                }
                return v
            }
        }
    }
}
