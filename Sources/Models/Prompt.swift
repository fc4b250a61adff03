import Foundation
import Tokenizers

/// Where the image tokens sit in a prompt, and how they map to the vision patch grid.
public struct ImageSpan: Codable, Sendable, Equatable {
    /// Index of the first image token in `input_ids`.
    public var start: Int
    /// Number of image tokens (the whole span, including a class token if kept).
    public var count: Int
    /// Image tokens before the patch grid inside the span (1 when the CLS token is kept).
    public var gridOffset: Int
    /// Patch grid, row-major: token `start + gridOffset + r * gridColumns + c` is patch (r, c).
    public var gridColumns: Int
    public var gridRows: Int

    public init(start: Int, count: Int, gridOffset: Int, gridColumns: Int, gridRows: Int) {
        self.start = start
        self.count = count
        self.gridOffset = gridOffset
        self.gridColumns = gridColumns
        self.gridRows = gridRows
    }

    /// One past the last image token.
    public var end: Int { start + count }
    /// Key positions of the image tokens.
    public var range: Range<Int> { start..<end }
}

/// The token layout of a prompt: the ids after image expansion and where the image is.
public struct TokenLayout: Codable, Sendable, Equatable {
    /// [T] token ids after the `<image>` placeholder is expanded to the image tokens.
    public var inputIds: [Int]
    public var image: ImageSpan

    public init(inputIds: [Int], image: ImageSpan) {
        self.inputIds = inputIds
        self.image = image
    }

    /// Tokens before the image (N_s of the CLVS page).
    public var tokensBeforeImage: Int { image.start }
}

/// Prompt templates.
public enum PromptTemplate: Sendable {
    /// The LLaVA-1.5 (Vicuna v1) conversation template used by the CLVS reference.
    case llava15
    /// The prompt is used as given; it must contain exactly one `<image>`.
    case raw

    public static let llava15SystemPrompt =
        "A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the human's questions."

    /// The full prompt text for a question (or the raw prompt).
    public func render(_ text: String, imagePlaceholder: String = "<image>") -> String {
        switch self {
        case .llava15:
            return "\(Self.llava15SystemPrompt) USER: \(imagePlaceholder)\n\(text) ASSISTANT:"
        case .raw:
            return text
        }
    }
}

extension LlavaModel {
    /// Tokenizes a full prompt (with BOS) and expands its single `<image>` placeholder to the
    /// model's image tokens, recording the span and the patch grid.
    public func layout(prompt: String, tokenizer: Tokenizer) throws -> TokenLayout {
        guard let placeholder = tokenizer.token(for: config.imageTokenIndex) else {
            throw ModelError.invalidInput("the tokenizer has no token with id \(config.imageTokenIndex) (image_token_index)")
        }
        let occurrences = prompt.components(separatedBy: placeholder).count - 1
        guard occurrences == 1 else {
            throw ModelError.invalidInput("the prompt must contain exactly one \(placeholder) placeholder; it contains \(occurrences)")
        }
        let ids = tokenizer.encode(prompt, addSpecialTokens: true)
        let positions = ids.indices.filter { ids[$0] == config.imageTokenIndex }
        guard positions.count == 1, let at = positions.first else {
            throw ModelError.invalidInput("the prompt encodes to \(positions.count) image tokens (id \(config.imageTokenIndex)); expected 1")
        }
        let n = config.imageTokenCount
        var expanded = Array(ids[..<at])
        expanded.append(contentsOf: repeatElement(config.imageTokenIndex, count: n))
        expanded.append(contentsOf: ids[(at + 1)...])
        let side = config.vision.gridSide
        let span = ImageSpan(start: at, count: n, gridOffset: config.visionFeatureSelectStrategy == .full ? 1 : 0,
                             gridColumns: side, gridRows: side)
        return TokenLayout(inputIds: expanded, image: span)
    }
}
