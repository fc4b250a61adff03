import ArgumentParser
import Benchmarks
import Foundation
import ShapesWorld

/// `clvs-trace synth`: the synthetic shapes world (benchmark files, training data).
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate the synthetic shapes benchmark (images, POPE/AMBER-style questions, COCO polygons) or training data.",
        subcommands: [SynthBenchmarkCommand.self, SynthTrainCommand.self])
}

struct SynthBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Images + pope/coco_pope_{random,popular,adversarial}.json + amber/ + annotations/instances_shapes.json + questions.jsonl.",
        discussion: "Deterministic: the same --seed and --images give the same bytes. The shipped model's held-out set is --seed 1 --images 300.")

    @Option(help: "Seed of the world.") var seed: UInt64 = 1
    @Option(help: "Number of images.") var images: Int = 300
    @Option(help: "Positive existence questions per image (POPE uses 3).") var perImage: Int = 3
    @Option(help: "Output directory (created; existing files of the same names are replaced).") var out: String

    func validate() throws {
        if images < 1 || images > 1_000_000 { throw ValidationError("--images must be in 1...1000000, found \(images)") }
        if perImage < 1 || perImage > 5 { throw ValidationError("--per-image must be in 1...5, found \(perImage)") }
    }

    func run() throws {
        do {
            let bench = ShapesBenchmark(seed: seed, images: images, questionsPerImage: perImage)
            let progress = EvalProgress(total: images, resumed: 0, label: "images")
            try bench.write(to: URL(fileURLWithPath: out)) { done, _ in progress.update(done: done) }
            progress.finish()
            print("wrote \(images) images, \(bench.pope["random"]?.count ?? 0) POPE questions per split, "
                  + "\(bench.amber["attribute"]?.count ?? 0) attribute and \(bench.amber["relation"]?.count ?? 0) relation questions, "
                  + "\(bench.all.count) held-out questions to \(out)")
        } catch {
            failWith(error)
        }
    }
}

struct SynthTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training data for the shipped model: images.u8 (N x H x W x 3 bytes) and qa.jsonl.")

    @Option(help: "Seed of the world (the benchmark's held-out seed is 1; training uses another).") var seed: UInt64 = 1000
    @Option(help: "Number of images.") var images: Int = 1000
    @Option(help: "Questions per image.") var questions: Int = 8
    @Option(help: "Patch size of the patch and contact labels (patches.u8, contacts.u8).") var patch: Int = 14
    @Option(help: "Output directory.") var out: String

    func validate() throws {
        if images < 1 || images > 10_000_000 { throw ValidationError("--images must be in 1...10000000, found \(images)") }
        if patch < 1 || patch > 112 { throw ValidationError("--patch must be in 1...112, found \(patch)") }
        if questions < 1 || questions > 64 { throw ValidationError("--questions must be in 1...64, found \(questions)") }
    }

    func run() throws {
        do {
            let progress = EvalProgress(total: images, resumed: 0, label: "images")
            try ShapesTrainingSet.write(to: URL(fileURLWithPath: out), seed: seed, images: images, questionsPerImage: questions, patchSize: patch) { done, _ in
                progress.update(done: done)
            }
            progress.finish()
        } catch {
            failWith(error)
        }
    }
}
