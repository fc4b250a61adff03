import Foundation

/// Formats of an answers file `clvs-trace score` accepts.
public enum AnswerFormat: String, CaseIterable, Sendable {
    /// Decide from the file: a folder is an MME results folder; a JSON line with `raw_answer`
    /// and `key` is the runner's; one with `output` and `label` is the CLVS paper's; else official.
    case auto
    /// This project's runner JSONL (`RunRecord` per line).
    case runner
    /// The benchmark's official answer format: POPE/LLaVA answer JSONL (`answer` or `text`),
    /// AMBER `[{"id","response"}]`, R-Bench answer JSONL (`question_id`, `text`), MME results
    /// folder (`<subtask>.txt` with a 4th column).
    case official
    /// The CLVS paper's inference output (`question_id`, `output`, `label`, ...; last line = arguments).
    case clvsPaper = "clvs-paper"
}

/// The runner's JSONL files.
public enum RunFile {
    /// What a runner file holds.
    public struct Contents {
        /// Complete records with their 1-based line numbers.
        public var records: [(line: Int, record: RunRecord)]
        /// Bytes after the last newline (a line cut by a kill); never parsed or counted.
        public var partialBytes: Int
        /// Byte length of the complete lines.
        public var completeLength: Int
    }

    /// Reads the complete lines of `url`; a final line without "\n" is reported in
    /// `partialBytes` and ignored. A complete line that is not a record is an error.
    public static func read(_ url: URL) throws -> Contents {
        let data = try JSONFiles.data(url)
        return try read(data: data, name: url.path)
    }

    /// `read` on bytes already in memory.
    public static func read(data: Data, name: String) throws -> Contents {
        let complete: Data
        if let last = data.lastIndex(of: UInt8(ascii: "\n")) {
            complete = data[data.startIndex...last]
        } else {
            complete = Data()
        }
        let lines = try JSONFiles.decodeLines(RunRecord.self, data: Data(complete), name: name)
        return Contents(records: lines.map { (line: $0.line, record: $0.value) }, partialBytes: data.count - complete.count,
                        completeLength: complete.count)
    }

    /// Whether the first non-blank line of a JSONL file decodes as a runner record.
    public static func isRunnerFile(_ url: URL) -> Bool {
        guard let d = try? JSONFiles.data(url),
              let first = d.split(separator: UInt8(ascii: "\n")).first(where: { !$0.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }),
              let obj = try? JSONSerialization.jsonObject(with: Data(first)) as? [String: Any] else { return false }
        return obj["raw_answer"] != nil && obj["key"] != nil
    }

    /// Writes records as JSONL to `url` through a temporary sibling and a rename.
    public static func write(_ records: [RunRecord], to url: URL) throws {
        var data = Data()
        for r in records {
            data.append(try r.jsonLine())
            data.append(UInt8(ascii: "\n"))
        }
        try AtomicFile.write(data, to: url)
    }
}

/// Writes a file through a temporary sibling that is renamed into place.
public enum AtomicFile {
    /// Writes `data` to `url` via `.<name>.partial-<pid>` and a rename.
    public static func write(_ data: Data, to url: URL) throws {
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try data.write(to: tmp)
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: tmp, to: url)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw BenchmarkError.io(path: url.path, reason: "cannot write (\(error.localizedDescription))")
        }
    }
}

/// Readers of the benchmarks' own answer formats and the CLVS paper's.
public enum OfficialAnswers {
    struct POPELine: Decodable {
        let question_id: QuestionID?
        let answer: String?
        let text: String?
    }

    /// A POPE answers line: `answer` (POPE's `evaluate.py`) or `text` (LLaVA), with the
    /// `question_id` if present.
    public struct POPEAnswer: Sendable, Equatable {
        public var questionID: QuestionID?
        public var text: String
    }

    /// POPE (`{"answer"}`) or LLaVA (`{"question_id","text"}`) answers JSONL in file order.
    public static func pope(_ url: URL) throws -> [POPEAnswer] {
        try JSONFiles.decodeLines(POPELine.self, from: url).map { line, l in
            guard let text = l.answer ?? l.text else {
                throw BenchmarkError.field(location: "\(url.path):\(line)", field: "answer", reason: "is missing (POPE answers need 'answer', LLaVA answers 'text')")
            }
            return POPEAnswer(questionID: l.question_id, text: text)
        }
    }

    struct AMBERLine: Decodable {
        let id: Int
        let response: String
    }

    /// AMBER's response file: a JSON array of `{"id","response"}`.
    public static func amber(_ url: URL) throws -> [AMBERInferencePy.Response] {
        try JSONFiles.decode([AMBERLine].self, from: url, what: "a JSON array of {id, response}").map {
            AMBERInferencePy.Response(id: $0.id, response: $0.response)
        }
    }

    struct RBenchLine: Decodable {
        let question_id: QuestionID
        let text: String
    }

    /// R-Bench answers JSONL (`question_id`, `text`) in file order.
    public static func rbench(_ url: URL) throws -> [(QuestionID, String)] {
        try JSONFiles.decodeLines(RBenchLine.self, from: url).map { ($0.value.question_id, $0.value.text) }
    }

    struct PaperLine: Decodable {
        let label: String?
        let output: String?
    }

    /// The CLVS paper's answers file: every JSON line but the last (its arguments line) as
    /// (label, output), and the number of lines (the accuracy denominator).
    public static func clvsPaper(_ url: URL) throws -> (pairs: [(label: String, output: String)], lines: Int) {
        let lines = try JSONFiles.decodeLines(PaperLine.self, from: url)
        guard !lines.isEmpty else { throw BenchmarkError.format(location: url.path, reason: "is empty") }
        var pairs: [(label: String, output: String)] = []
        for (line, l) in lines.dropLast() {
            guard let label = l.label, let output = l.output else {
                throw BenchmarkError.field(location: "\(url.path):\(line)", field: l.label == nil ? "label" : "output", reason: "is missing")
            }
            pairs.append((label: label, output: output))
        }
        return (pairs, lines.count)
    }

    /// Detects the format of an answers path.
    public static func detect(_ url: URL) -> AnswerFormat {
        if BenchmarkData.isDirectory(url) { return .official }
        if RunFile.isRunnerFile(url) { return .runner }
        if let d = try? JSONFiles.data(url), !JSONFiles.looksLikeArray(d),
           let first = d.split(separator: UInt8(ascii: "\n")).first,
           let obj = try? JSONSerialization.jsonObject(with: Data(first)) as? [String: Any],
           obj["output"] != nil, obj["label"] != nil {
            return .clvsPaper
        }
        return .official
    }
}

/// Runner answer files merged (shards, resumed runs) and checked against a question set.
public struct MergedRun {
    /// Answered records in question-set order.
    public var records: [RunRecord]
    /// Keys of questions in the expected set without an answer, in question order.
    public var missing: [String]
    /// Notes for the user (ignored partial lines).
    public var notes: [String]

    /// Merges runner files: every record must belong to `questions` (same benchmark, a known key,
    /// the same label and question text) and all must share method, settings and max new tokens;
    /// a key answered twice (in one file or across files) is an error. `expected` (default: all
    /// questions) defines the gaps.
    public static func merge(files: [URL], questions: QuestionSet, expected: [BenchmarkQuestion]? = nil) throws -> MergedRun {
        var contents: [(URL, RunFile.Contents)] = []
        for f in files { contents.append((f, try RunFile.read(f))) }
        return try merge(contents: contents, questions: questions, expected: expected)
    }

    /// `merge` on files already read.
    public static func merge(contents: [(URL, RunFile.Contents)], questions: QuestionSet, expected: [BenchmarkQuestion]? = nil) throws -> MergedRun {
        let index = try questions.keyIndex()
        var byKey: [String: (RunRecord, String)] = [:]
        var dups: [String] = [], dupFiles = Set<String>()
        var notes: [String] = []
        var reference: (RunRecord, String)?
        for (url, c) in contents {
            if c.partialBytes > 0 {
                notes.append("\(url.path): ignored a partial last line (\(c.partialBytes) bytes, a run was interrupted while writing)")
            }
            for (line, r) in c.records {
                let loc = "\(url.path):\(line)"
                guard r.benchmark == questions.benchmark else {
                    throw BenchmarkError.inconsistent("\(loc) is a \(r.benchmark.rawValue) answer; the questions are \(questions.benchmark.rawValue)")
                }
                if let (ref, refLoc) = reference {
                    guard r.settings == ref.settings, r.method == ref.method else {
                        throw BenchmarkError.inconsistent("\(loc) was run with \(r.settings.summary) but \(refLoc) with \(ref.settings.summary); score each method separately")
                    }
                    guard r.maxNewTokens == ref.maxNewTokens else {
                        throw BenchmarkError.inconsistent("\(loc) was run with max_new_tokens \(r.maxNewTokens) but \(refLoc) with \(ref.maxNewTokens)")
                    }
                } else {
                    reference = (r, loc)
                }
                guard let i = index[r.key] else {
                    throw BenchmarkError.inconsistent("\(loc): question '\(r.key)' is not in the questions (\(questions.source))")
                }
                let q = questions.questions[i]
                guard Py.equal(q.label, r.label), Py.equal(q.originalText, r.question) else {
                    throw BenchmarkError.inconsistent("\(loc): question '\(r.key)' has another text or label than in \(questions.source); were the answers made from another version of the question file?")
                }
                if let (_, first) = byKey[r.key] {
                    dups.append(r.key)
                    dupFiles.insert(first.components(separatedBy: ":").first ?? first)
                    dupFiles.insert(url.path)
                } else {
                    byKey[r.key] = (r, loc)
                }
            }
        }
        if !dups.isEmpty { throw BenchmarkError.duplicateAnswers(keys: dups, files: dupFiles.sorted()) }
        let ordered = questions.questions.compactMap { byKey[$0.key]?.0 }
        let missing = (expected ?? questions.questions).filter { byKey[$0.key] == nil }.map(\.key)
        return MergedRun(records: ordered, missing: missing, notes: notes)
    }
}
