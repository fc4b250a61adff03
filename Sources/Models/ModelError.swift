import Foundation

/// Errors from loading or running a model. Every case names the file and the field or tensor.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// A config file could not be read or parsed.
    case unreadableConfig(file: String, reason: String)
    /// A config field has a wrong type or an invalid value.
    case invalidConfig(file: String, field: String, reason: String)
    /// `model_type` (or a sub-config's) is not one this runtime implements.
    case unsupportedModelType(file: String, field: String, value: String)
    /// A tensor the architecture needs is absent from the checkpoint.
    case missingTensor(directory: String, name: String)
    /// Tensors in the checkpoint that the architecture does not use.
    case unexpectedTensors(directory: String, names: [String])
    /// A tensor with the wrong shape.
    case shapeMismatch(directory: String, name: String, expected: [Int], found: [Int])
    /// A tensor stored in a dtype the runtime cannot use for it.
    case unsupportedDType(directory: String, name: String, dtype: String)
    /// The weight names match neither supported layout.
    case unknownWeightLayout(directory: String, sample: [String])
    /// Inputs that do not fit the model (wrong image size, token counts, ...).
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .unreadableConfig(file, reason):
            return "\(file): cannot read config: \(reason)"
        case let .invalidConfig(file, field, reason):
            return "\(file): field '\(field)': \(reason)"
        case let .unsupportedModelType(file, field, value):
            return "\(file): field '\(field)': unsupported model type '\(value)'"
        case let .missingTensor(dir, name):
            return "\(dir): missing tensor '\(name)'"
        case let .unexpectedTensors(dir, names):
            let shown = names.prefix(5).joined(separator: ", ")
            let more = names.count > 5 ? " (and \(names.count - 5) more)" : ""
            return "\(dir): unexpected tensors \(shown)\(more)"
        case let .shapeMismatch(dir, name, expected, found):
            return "\(dir): tensor '\(name)' has shape \(found), expected \(expected)"
        case let .unsupportedDType(dir, name, dtype):
            return "\(dir): tensor '\(name)' has dtype \(dtype); weights must be F32, F16 or BF16"
        case let .unknownWeightLayout(dir, sample):
            return "\(dir): weight names match no supported LLaVA layout (e.g. \(sample.prefix(3).joined(separator: ", ")))"
        case let .invalidInput(message):
            return message
        }
    }
}
