import ArgumentParser
import Foundation

/// `clvs-trace`: attention tracing for vision-language models.
@main
struct CLVSTrace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clvs-trace",
        abstract: "Trace where a vision-language model looks: attention per token, layer and head.",
        subcommands: [RunCommand.self, PlotCommand.self, MaskCommand.self, StatsCommand.self, StudyCommand.self, BenchCommand.self, EvalCommand.self, ScoreCommand.self, SynthCommand.self],
        defaultSubcommand: RunCommand.self)
}

/// Prints a one-line error and exits non-zero (used for library errors, which already name
/// the file and field).
func failWith(_ error: Error) -> Never {
    let message = "\(error)"
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    Foundation.exit(1)
}
