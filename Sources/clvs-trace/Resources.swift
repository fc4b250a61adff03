import Foundation

/// Finds the embedded default model and image without `Bundle.module` (whose generated accessor
/// traps when the bundle is missing): the resource bundle next to the executable, then the
/// source tree this binary was built from.
enum EmbeddedResources {
    struct NotFound: Error, CustomStringConvertible {
        let name: String
        var description: String { "embedded resource '\(name)' not found next to the executable or in the source tree; pass --model/--image explicitly" }
    }

    static func url(_ name: String) throws -> URL {
        var candidates: [URL] = []
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(exe.appendingPathComponent("clvs-trace_clvs-trace.resources").appendingPathComponent(name))
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources")
        candidates.append(source.appendingPathComponent(name))
        for c in candidates where FileManager.default.fileExists(atPath: c.path) { return c }
        throw NotFound(name: name)
    }

    static var defaultModel: URL { get throws { try url("default-model") } }
    static var defaultImage: URL { get throws { try url(DefaultSample.imageName) } }
}

/// The sample `clvs-trace` runs with no arguments: an image of the shipped model's shapes world
/// (held-out seed 1), a question about one of its objects, and that image's COCO annotations so
/// the key object is outlined and its attention plotted.
enum DefaultSample {
    static let imageName = "default-image.png"
    static let annotationsName = "default-annotations.json"
    /// The id of the image in the annotations file.
    static let imageID = 78
    static let question = "Is there a red circle in the image?"
    static let keyObject = "circle"

    static var annotations: URL { get throws { try EmbeddedResources.url(annotationsName) } }
}
