import ArgumentParser
import Foundation
import Tracing

/// `clvs-trace study`: the paper's multi-trace studies (convergence, key-object attention).
struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Studies over many traces: convergence vs uncertainty (Fig. 4), key-object attention (Fig. 2, 6).",
        subcommands: [StudyConvergenceCommand.self, StudyKeyObjectsCommand.self])
}

/// `clvs-trace study convergence`.
struct StudyConvergenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convergence",
        abstract: "Lens uncertainty U and convergence per trace and layer; point-biserial r, logistic fit, Figure 4.")

    @Option(name: .long, parsing: .upToNextOption, help: "Trace directories, or folders holding trace directories.")
    var traces: [String]

    @Option(help: "Generation step (0 = the first generated token).")
    var step: Int = 0

    @Flag(help: "Replace a non-empty output directory.")
    var force = false

    @Option(help: "Output directory: convergence.csv, convergence.json, figure4.png.")
    var out: String

    func validate() throws {
        if traces.isEmpty { throw ValidationError("--traces needs at least one directory") }
        if step < 0 { throw ValidationError("--step must be >= 0, found \(step)") }
    }

    func run() throws {
        do {
            let outURL = URL(fileURLWithPath: out)
            try TraceWriter.checkWritable(outURL, force: force)
            let dirs = try StudyTraces.discover(traces.map { URL(fileURLWithPath: $0) })
            let study = try ConvergenceStudy.compute(traces: dirs, step: step)
            try study.write(to: outURL, force: force)
            print(String(decoding: try study.json(), as: UTF8.self))
        } catch {
            failWith(error)
        }
    }
}

/// `clvs-trace study key-objects`.
struct StudyKeyObjectsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key-objects",
        abstract: "Key-object attention of paired vanilla/CLVS traces: peak layers, relative increase, Figures 6 and 2.")

    @Option(name: .long, parsing: .upToNextOption, help: "Vanilla trace directories (or folders of them).")
    var vanilla: [String]

    @Option(name: .long, parsing: .upToNextOption, help: "CLVS trace directories (or folders of them).")
    var clvs: [String]

    @Option(help: "COCO instances JSON.")
    var annotations: String

    @Option(help: "Key-object category for every trace (default: each trace's options.key_object).")
    var category: String?

    @Option(name: .customLong("image-id"), help: "COCO image id for every trace (default: options.image_id, else the digits of the image file name).")
    var imageID: Int?

    @Option(help: "Layer range A-B for the mean relative increase (default: the middle three layers).")
    var layers: String?

    @Option(help: "Generation step (0 = the first generated token).")
    var step: Int = 0

    @Flag(help: "Replace a non-empty output directory.")
    var force = false

    @Option(help: "Output directory: key_objects.csv/.json, figure6_peaks.png, figure6_relative_increase.png, figure2_mean.png.")
    var out: String

    func validate() throws {
        if vanilla.isEmpty || clvs.isEmpty { throw ValidationError("--vanilla and --clvs each need at least one directory") }
        if step < 0 { throw ValidationError("--step must be >= 0, found \(step)") }
    }

    func run() throws {
        do {
            let outURL = URL(fileURLWithPath: out)
            try TraceWriter.checkWritable(outURL, force: force)
            let v = try StudyTraces.discover(vanilla.map { URL(fileURLWithPath: $0) })
            let c = try StudyTraces.discover(clvs.map { URL(fileURLWithPath: $0) })
            let study = try KeyObjectStudy.compute(vanilla: v, clvs: c, annotations: URL(fileURLWithPath: annotations),
                                                   category: category, imageID: imageID, layers: layers, step: step)
            if !study.unpaired.isEmpty {
                FileHandle.standardError.write(Data("warning: skipped \(study.unpaired.count) unpaired trace(s): \(study.unpaired.joined(separator: ", "))\n".utf8))
            }
            try study.write(to: outURL, force: force)
            print(String(decoding: try study.json(), as: UTF8.self))
        } catch {
            failWith(error)
        }
    }
}
