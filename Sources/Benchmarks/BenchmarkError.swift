import Foundation

/// Errors of the benchmark loaders, scorers, answer readers and runner. Every message names the
/// file (and line or key) and the field at fault.
public enum BenchmarkError: Error, CustomStringConvertible, Equatable {
    /// A file could not be read or written.
    case io(path: String, reason: String)
    /// A file is not in the expected format: `location` is "file", "file:line" or "file[index]".
    case format(location: String, reason: String)
    /// A field is missing or has the wrong type or value.
    case field(location: String, field: String, reason: String)
    /// Images a run needs are not in the image folder.
    case missingImages(directory: String, missing: [String], total: Int)
    /// A question key appears more than once (in one answers file or across shard files).
    case duplicateAnswers(keys: [String], files: [String])
    /// Answer records that do not belong together (another benchmark, method or settings, or
    /// answers to questions that are not in the question set).
    case inconsistent(String)
    /// A computation the official script would crash on (e.g. a division by zero), or an
    /// input combination it cannot score.
    case notScorable(String)
    /// A command-line value is invalid.
    case invalidOption(option: String, reason: String)

    public var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .format(location, reason): return "\(location): \(reason)"
        case let .field(location, field, reason): return "\(location): field '\(field)' \(reason)"
        case let .missingImages(directory, missing, total):
            let shown = missing.prefix(20).joined(separator: ", ")
            let more = missing.count > 20 ? " and \(missing.count - 20) more" : ""
            let hint = missing.count == total ? " (is --images the folder the question file's image names are relative to?)" : ""
            return "\(missing.count) of \(total) images are missing in \(directory)\(hint): \(shown)\(more)"
        case let .duplicateAnswers(keys, files):
            let shown = keys.prefix(20).joined(separator: ", ")
            let more = keys.count > 20 ? " and \(keys.count - 20) more" : ""
            return "duplicate answers for \(keys.count) question(s) in \(files.joined(separator: ", ")): \(shown)\(more)"
        case let .inconsistent(message): return message
        case let .notScorable(message): return message
        case let .invalidOption(option, reason): return "\(option): \(reason)"
        }
    }
}
