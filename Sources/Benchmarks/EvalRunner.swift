import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What to run: everything but the questions and the engine.
public struct EvalConfiguration: Sendable {
    /// Folder the question files' image paths are relative to.
    public var imageDirectory: URL
    /// The JSONL answers file (appended to; resumed if it exists).
    public var output: URL
    public var settings: MethodSettings
    /// Greedy decoding stops at EOS or after this many tokens (LLaVA's evaluation default: 128).
    public var maxNewTokens: Int
    /// Appended to each question (nil: `BenchmarkPrompts.defaultSuffix`).
    public var promptSuffix: String?
    public var shard: Shard?
    /// Only the first `limit` questions (of the shard).
    public var limit: Int?
    /// Keep one trace folder per question here.
    public var traceDirectory: URL?
    /// fsync the answers file after every line (the default; a kill or a crash of the machine
    /// then loses at most the answer in flight). Off only makes sense on a scratch file system.
    public var syncEachAnswer = true

    /// A configuration; unset options take LLaVA's evaluation defaults.
    public init(imageDirectory: URL, output: URL, settings: MethodSettings = .vanilla, maxNewTokens: Int = 128,
                promptSuffix: String? = nil, shard: Shard? = nil, limit: Int? = nil, traceDirectory: URL? = nil) {
        self.imageDirectory = imageDirectory
        self.output = output
        self.settings = settings
        self.maxNewTokens = maxNewTokens
        self.promptSuffix = promptSuffix
        self.shard = shard
        self.limit = limit
        self.traceDirectory = traceDirectory
    }
}

/// The outcome of a run.
public struct EvalSummary: Sendable {
    /// Questions selected by shard and limit.
    public var selected: [BenchmarkQuestion]
    /// Answered before this run (resume) and by this run.
    public var resumed: Int
    public var answeredNow: Int
    /// Bytes of a cut last line found and removed on resume (0 if none).
    public var truncatedBytes: Int
}

/// Runs a question set through an engine, appending one `RunRecord` line per answer to the
/// output file with an fsync after each, so a kill loses at most the question in flight.
/// Re-running with the same output skips answered questions; a last line cut by a kill is
/// removed before appending (it is never parsed or counted).
public final class EvalRunner {
    public let questions: QuestionSet
    public let configuration: EvalConfiguration
    public let engine: AnswerEngine
    /// Receives (done, total) after each answer and at the start; nil: no progress output.
    public var progress: EvalProgress?
    /// Called with (done so far, total selected) before the progress bar starts.
    public var onStart: ((Int, Int) -> Void)?

    /// A runner of `questions` through `engine`.
    public init(questions: QuestionSet, configuration: EvalConfiguration, engine: AnswerEngine) {
        self.questions = questions
        self.configuration = configuration
        self.engine = engine
    }

    /// The suffix in use.
    public var suffix: String { configuration.promptSuffix ?? BenchmarkPrompts.defaultSuffix(for: questions.benchmark) }

    /// The questions this run is responsible for: the shard, then the limit.
    public func selection() throws -> [BenchmarkQuestion] {
        var qs = configuration.shard.map { $0.select(questions.questions) } ?? questions.questions
        if let limit = configuration.limit {
            guard limit >= 0 else { throw BenchmarkError.invalidOption(option: "--limit", reason: "must be >= 0, found \(limit)") }
            qs = Array(qs.prefix(limit))
        }
        return qs
    }

    /// The image file of a question, or nil if it is not there. MME's txt lists name images
    /// `<subtask>/<file>`; the release keeps some subtasks in `<subtask>/images/<file>`.
    public static func imageURL(_ q: BenchmarkQuestion, in directory: URL, benchmark: BenchmarkKind) -> URL? {
        var candidates = [directory.appendingPathComponent(q.image)]
        if benchmark == .mme {
            let parts = q.image.split(separator: "/", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                candidates.append(directory.appendingPathComponent(parts[0]).appendingPathComponent("images").appendingPathComponent(parts[1]))
            }
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The image file of every question; a missing image is an error listing every missing one.
    public static func resolveImages(_ selected: [BenchmarkQuestion], directory: URL, benchmark: BenchmarkKind) throws -> [String: URL] {
        var images: [String: URL] = [:]
        var missing: [String] = []
        var seen = Set<String>()
        for q in selected {
            if let u = imageURL(q, in: directory, benchmark: benchmark) {
                images[q.key] = u
            } else if seen.insert(q.image).inserted {
                missing.append(q.image)
            }
        }
        if !missing.isEmpty {
            throw BenchmarkError.missingImages(directory: directory.path, missing: missing, total: Set(selected.map(\.image)).count)
        }
        return images
    }

    /// Trace folder name of a key ("/" and "#" become "_").
    public static func traceFolderName(_ key: String) -> String {
        key.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "#", with: "_")
    }

    /// Runs the selection; returns what was done.
    @discardableResult
    public func run() throws -> EvalSummary {
        let cfg = configuration
        guard cfg.maxNewTokens >= 1 else {
            throw BenchmarkError.invalidOption(option: "--max-new-tokens", reason: "must be at least 1, found \(cfg.maxNewTokens)")
        }
        let selected = try selection()
        let index = try questions.keyIndex()

        let images = try Self.resolveImages(selected, directory: cfg.imageDirectory, benchmark: questions.benchmark)
        if cfg.traceDirectory != nil {
            var names: [String: String] = [:]
            for q in selected {
                let n = Self.traceFolderName(q.key)
                if let other = names[n] { throw BenchmarkError.inconsistent("questions '\(other)' and '\(q.key)' would share the trace folder \(n)") }
                names[n] = q.key
            }
        }

        // Resume: drop a cut last line, check the records, collect the answered keys.
        let out = try AppendOnlyFile(url: cfg.output)
        defer { out.close() }
        let existing = try out.recover()
        var answered = Set<String>()
        for (line, r) in existing.records {
            let loc = "\(cfg.output.path):\(line)"
            guard r.benchmark == questions.benchmark else {
                throw BenchmarkError.inconsistent("\(loc) is a \(r.benchmark.rawValue) answer; this run is \(questions.benchmark.rawValue): use another --out")
            }
            guard r.settings == cfg.settings else {
                throw BenchmarkError.inconsistent("\(loc) was run with \(r.settings.summary); this run is \(cfg.settings.summary): use another --out")
            }
            guard r.maxNewTokens == cfg.maxNewTokens else {
                throw BenchmarkError.inconsistent("\(loc) was run with --max-new-tokens \(r.maxNewTokens); this run uses \(cfg.maxNewTokens): use another --out")
            }
            guard let i = index[r.key] else {
                throw BenchmarkError.inconsistent("\(loc): question '\(r.key)' is not in \(questions.source): use another --out")
            }
            let q = questions.questions[i]
            guard Py.equal(r.prompt, BenchmarkPrompts.userText(q, suffix: suffix)), Py.equal(r.label, q.label) else {
                throw BenchmarkError.inconsistent("\(loc): question '\(r.key)' was asked with another prompt or label (another --prompt-suffix or question file?): use another --out")
            }
            guard answered.insert(r.key).inserted else {
                throw BenchmarkError.duplicateAnswers(keys: [r.key], files: [cfg.output.path])
            }
        }
        let todo = selected.filter { !answered.contains($0.key) }
        let resumed = selected.count - todo.count
        onStart?(resumed, selected.count)
        progress?.update(done: resumed)

        var done = resumed
        for q in todo {
            guard let image = images[q.key] else { continue }
            var traceURL: URL?
            if let dir = cfg.traceDirectory {
                let t = dir.appendingPathComponent(Self.traceFolderName(q.key))
                try Self.clearStaleTrace(t)
                traceURL = t
            }
            let t0 = Date()
            let raw = try engine.answer(image: image, prompt: BenchmarkPrompts.prompt(q, suffix: suffix),
                                        maxNewTokens: cfg.maxNewTokens, traceDirectory: traceURL, traceNotes: q.traceNotes)
            let answer = Py.strip(raw)
            let record = RunRecord(benchmark: questions.benchmark, key: q.key, questionID: q.questionID, category: q.category,
                                   image: q.image, question: q.originalText, prompt: BenchmarkPrompts.userText(q, suffix: suffix),
                                   label: q.label, rawAnswer: raw, answer: answer,
                                   parsedAnswer: RunRecord.parse(answer, benchmark: questions.benchmark),
                                   method: cfg.settings.method, settings: cfg.settings, maxNewTokens: cfg.maxNewTokens,
                                   seconds: (Date().timeIntervalSince(t0) * 1000).rounded() / 1000,
                                   shard: cfg.shard?.description, trace: traceURL?.path)
            try out.append(record, sync: cfg.syncEachAnswer)
            done += 1
            progress?.update(done: done)
        }
        progress?.finish()
        return EvalSummary(selected: selected, resumed: resumed, answeredNow: todo.count, truncatedBytes: existing.partialBytes)
    }

    /// A trace folder left by an interrupted run (trace written, answer line not) is removed, with
    /// any `.name.partial-*` sibling; a non-empty folder that is not a trace is an error.
    static func clearStaleTrace(_ url: URL) throws {
        let fm = FileManager.default
        let parent = url.deletingLastPathComponent()
        if let siblings = try? fm.contentsOfDirectory(atPath: parent.path) {
            for s in siblings where s.hasPrefix(".\(url.lastPathComponent).partial-") {
                try? fm.removeItem(at: parent.appendingPathComponent(s))
            }
        }
        guard fm.fileExists(atPath: url.path) else { return }
        let entries = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
        if entries.isEmpty { return }
        guard entries.contains("trace.json") else {
            throw BenchmarkError.io(path: url.path, reason: "exists, is not empty and is not a trace folder; choose another --trace-dir")
        }
        do { try fm.removeItem(at: url) } catch {
            throw BenchmarkError.io(path: url.path, reason: "cannot remove the trace of an interrupted run (\(error.localizedDescription))")
        }
    }
}

/// The runner's output file: opened for appending; `recover` cuts a partial last line;
/// `append` writes one line with a single `write` and fsyncs.
final class AppendOnlyFile {
    let url: URL
    var fd: Int32 = -1

    init(url: URL) throws {
        self.url = url
        let dir = url.deletingLastPathComponent()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw BenchmarkError.io(path: url.path, reason: "the folder \(dir.path) does not exist")
        }
        let existed = FileManager.default.fileExists(atPath: url.path)
        fd = open(url.path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchmarkError.io(path: url.path, reason: "cannot open for appending (\(String(cString: strerror(errno))))") }
        if !existed {
            // Make the new file's directory entry durable too.
            let dfd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dfd >= 0 { _ = fsync(dfd); _ = Glibc.close(dfd) }
        }
    }

    /// Reads the complete records and truncates any bytes after the last newline.
    func recover() throws -> RunFile.Contents {
        let c = try RunFile.read(url)
        if c.partialBytes > 0 {
            guard ftruncate(fd, off_t(c.completeLength)) == 0, fsync(fd) == 0 else {
                throw BenchmarkError.io(path: url.path, reason: "cannot cut the partial last line (\(String(cString: strerror(errno))))")
            }
        }
        return c
    }

    /// Appends one record line and flushes it to disk.
    func append(_ record: RunRecord, sync: Bool = true) throws {
        var data = try record.jsonLine()
        data.append(UInt8(ascii: "\n"))
        try data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
            guard let base = buf.baseAddress else { return }
            var offset = 0
            while offset < buf.count {
                let n = Glibc.write(fd, base + offset, buf.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BenchmarkError.io(path: url.path, reason: "write failed (\(String(cString: strerror(errno))))")
                }
                offset += n
            }
        }
        guard !sync || fsync(fd) == 0 else { throw BenchmarkError.io(path: url.path, reason: "fsync failed (\(String(cString: strerror(errno))))") }
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }
}
