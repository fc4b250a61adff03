import Foundation

/// The answer-format suffix of LLaVA-1.5's evaluation question files (POPE, MME, ...).
public let llavaShortAnswerSuffix = "\nAnswer the question using a single word or phrase."

// MARK: - POPE

/// POPE question files: the benchmark's own `coco_pope_<split>.json` (JSON Lines with labels,
/// any version) and LLaVA's `llava_pope_test.jsonl` (no labels; they come from the split files by
/// line order within each category, as LLaVA's `eval_pope.py` matches them).
public enum POPEData {
    struct NativeLine: Decodable {
        let question_id: QuestionID
        let image: String
        let text: String
        let label: String
    }

    struct LLaVALine: Decodable {
        let question_id: QuestionID
        let image: String
        let text: String
        let category: String
    }

    /// The split name of `coco_pope_<split>.json` (else the file's stem).
    public static func splitName(_ url: URL) -> String {
        let name = url.lastPathComponent
        if name.hasPrefix("coco_pope_") && name.hasSuffix(".json") {
            return String(name.dropFirst(10).dropLast(5))
        }
        return url.deletingPathExtension().lastPathComponent
    }

    /// The `coco_pope_*.json` files of a folder, sorted by name.
    public static func splitFiles(in directory: URL) throws -> [URL] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory.path) } catch {
            throw BenchmarkError.io(path: directory.path, reason: "cannot list the folder")
        }
        let files = names.filter { $0.hasPrefix("coco_pope_") && $0.hasSuffix(".json") }.sorted()
        guard !files.isEmpty else {
            throw BenchmarkError.format(location: directory.path, reason: "has no coco_pope_<split>.json files")
        }
        return files.map { directory.appendingPathComponent($0) }
    }

    /// Questions of one or more split files; keys are `<split>/<question_id>`.
    public static func loadSplits(_ files: [URL]) throws -> [BenchmarkQuestion] {
        var out: [BenchmarkQuestion] = []
        for f in files {
            let split = splitName(f)
            for (_, l) in try JSONFiles.decodeLines(NativeLine.self, from: f) {
                out.append(BenchmarkQuestion(key: "\(split)/\(l.question_id)", questionID: l.question_id, category: split,
                                             image: l.image, text: l.text, label: l.label))
            }
        }
        return out
    }

    /// Labels of one split file in line order (what `eval_pope.py` zips answers with).
    public static func labels(of file: URL) throws -> [String] {
        try JSONFiles.decodeLines(NativeLine.self, from: file).map(\.value.label)
    }

    /// LLaVA's question file with labels from `annotationDirectory/coco_pope_<category>.json`:
    /// the k-th question of a category gets the k-th line of that file, whose text must match
    /// (LLaVA's text = POPE text + the short-answer suffix). Keys are `<split>/<POPE question_id>`
    /// so they agree with runs on the split files; `questionID` is LLaVA's id.
    public static func loadLLaVA(_ file: URL, annotationDirectory: URL) throws -> [BenchmarkQuestion] {
        let lines = try JSONFiles.decodeLines(LLaVALine.self, from: file)
        var byCategory: [String: [NativeLine]] = [:]
        var used: [String: Int] = [:]
        var out: [BenchmarkQuestion] = []
        for (lineNo, l) in lines {
            if byCategory[l.category] == nil {
                let labelFile = annotationDirectory.appendingPathComponent("coco_pope_\(l.category).json")
                guard FileManager.default.fileExists(atPath: labelFile.path) else {
                    throw BenchmarkError.field(location: "\(file.path):\(lineNo)", field: "category",
                                               reason: "is '\(l.category)' but \(labelFile.path) does not exist")
                }
                byCategory[l.category] = try JSONFiles.decodeLines(NativeLine.self, from: labelFile).map(\.value)
            }
            let k = used[l.category, default: 0]
            used[l.category] = k + 1
            let labels = byCategory[l.category] ?? []
            let labelFile = "coco_pope_\(l.category).json"
            guard k < labels.count else {
                throw BenchmarkError.inconsistent(
                    "\(file.path) has more '\(l.category)' questions than \(labelFile) has lines (\(labels.count)); "
                    + "LLaVA's file was built from POPE commit e3e39262 (random: 2910 questions)")
            }
            let pope = labels[k]
            let base = l.text.hasSuffix(llavaShortAnswerSuffix) ? String(l.text.dropLast(llavaShortAnswerSuffix.count)) : l.text
            guard Py.equal(base, pope.text), pope.image == l.image else {
                throw BenchmarkError.inconsistent(
                    "\(file.path):\(lineNo) ('\(base)', \(l.image)) does not match line \(k + 1) of \(labelFile) "
                    + "('\(pope.text)', \(pope.image)); the label files must be the version LLaVA's file was built from (POPE commit e3e39262)")
            }
            out.append(BenchmarkQuestion(key: "\(l.category)/\(pope.question_id)", questionID: l.question_id, category: l.category,
                                         image: l.image, text: base, label: pope.label))
        }
        for (cat, labels) in byCategory where used[cat, default: 0] != labels.count {
            throw BenchmarkError.inconsistent(
                "\(file.path) has \(used[cat, default: 0]) '\(cat)' questions but coco_pope_\(cat).json has \(labels.count) lines; "
                + "LLaVA's file was built from POPE commit e3e39262 (random: 2910 questions)")
        }
        return out
    }
}

// MARK: - AMBER

/// AMBER's discriminative queries (`query_discriminative*.json`) with the ground truth of
/// `annotations.json`.
public enum AMBERData {
    struct Query: Decodable {
        let id: Int
        let image: String
        let query: String
    }

    struct Annotation: Decodable {
        let id: Int
        let type: String
        let truth: StringOrList
    }

    /// One annotation entry: type and truth ("yes"/"no"; nil for generative entries).
    public struct Truth: Sendable, Equatable {
        public var type: String
        public var truth: String?
    }

    /// The dimension of an annotation type as `inference.py` groups them.
    public static func dimension(ofType type: String) -> String? {
        switch type {
        case "discriminative-hallucination": return "existence"
        case "discriminative-attribute-state", "discriminative-attribute-number", "discriminative-attribute-action": return "attribute"
        case "generative": return nil
        default: return "relation" // `inference.py`'s else branch: discriminative-relation and relation
        }
    }

    /// Annotations by id. `inference.py` indexes the array by position (`ground_truth[id-1]`);
    /// the published file has entry i at id i+1, so indexing by the `id` field gives the same
    /// entries and also works for subsets. Duplicate ids are an error.
    public static func loadAnnotations(_ url: URL) throws -> [Int: Truth] {
        let list = try JSONFiles.decode([Annotation].self, from: url, what: "a JSON array of {id, type, truth}")
        var out: [Int: Truth] = [:]
        for (i, a) in list.enumerated() {
            if out[a.id] != nil { throw BenchmarkError.field(location: "\(url.path)[\(i)]", field: "id", reason: "\(a.id) occurs twice") }
            switch a.truth {
            case let .string(s): out[a.id] = Truth(type: a.type, truth: s)
            case .list: out[a.id] = Truth(type: a.type, truth: nil)
            }
        }
        return out
    }

    /// Discriminative questions of one or more query files; keys are the AMBER ids.
    public static func load(queryFiles: [URL], annotations: URL) throws -> [BenchmarkQuestion] {
        let truth = try loadAnnotations(annotations)
        var out: [BenchmarkQuestion] = []
        for f in queryFiles {
            let queries = try JSONFiles.decode([Query].self, from: f, what: "a JSON array of {id, image, query}")
            for (i, q) in queries.enumerated() {
                guard let t = truth[q.id] else {
                    throw BenchmarkError.field(location: "\(f.path)[\(i)]", field: "id", reason: "\(q.id) is not in \(annotations.path)")
                }
                guard let label = t.truth, let dim = dimension(ofType: t.type) else {
                    throw BenchmarkError.field(location: "\(f.path)[\(i)]", field: "id",
                                               reason: "\(q.id) is a generative query; only the discriminative part of AMBER is supported")
                }
                out.append(BenchmarkQuestion(key: "\(q.id)", questionID: .int(q.id), category: dim, type: t.type,
                                             image: q.image, text: q.query, label: label))
            }
        }
        return out
    }
}

// MARK: - R-Bench

/// R-Bench image-level questions (`image-level_filterd.json`, a JSON array) and its subset id
/// files (`nocaps_image-level_rel_ids_<i>.json`, JSON arrays of question ids). The data are not
/// public here; the format follows `eval.py` and `demos/eval_rbench.py`.
public enum RBenchData {
    struct Line: Decodable {
        let question_id: QuestionID
        let image: String
        let text: String
        let label: String?
    }

    /// The questions (label `null` or missing is kept as ""; `eval.py` then treats it as positive).
    public static func loadQuestions(_ url: URL) throws -> [BenchmarkQuestion] {
        let d = try JSONFiles.data(url)
        guard JSONFiles.looksLikeArray(d) else {
            throw BenchmarkError.format(location: url.path, reason: "must be a JSON array of {question_id, image, text, label} (eval.py uses json.load)")
        }
        let lines = try JSONFiles.decode([Line].self, from: url, what: "a JSON array")
        return lines.map { l in
            BenchmarkQuestion(key: "\(l.question_id)", questionID: l.question_id, category: "image-level",
                              image: l.image, text: l.text, label: l.label ?? "")
        }
    }

    /// One subset id file.
    public static func loadSubset(_ url: URL) throws -> RBenchSubset {
        let ids = try JSONFiles.decode([QuestionID].self, from: url, what: "a JSON array of question ids")
        return RBenchSubset(name: url.lastPathComponent, ids: ids)
    }

    /// Expands `eval.py`'s `--question-id-file` pattern: a path containing "holder" stands for
    /// the five files with "holder" replaced by 1...5.
    public static func subsetFiles(_ paths: [String]) -> [URL] {
        paths.flatMap { p -> [URL] in
            if p.contains("holder") {
                return (1...5).map { URL(fileURLWithPath: p.replacingOccurrences(of: "holder", with: "\($0)")) }
            }
            return [URL(fileURLWithPath: p)]
        }
    }
}

// MARK: - MME

/// MME question lists: the eval tool's `<subtask>.txt` files (`image \t question \t Yes|No`,
/// two lines per image; a 4th column, a model's response, is ignored here), and LLaVA's
/// `llava_mme.jsonl`.
public enum MMEData {
    /// The perception subtasks in the order `calculation.py` sums them.
    public static let perception = ["existence", "count", "position", "color", "posters", "celebrity", "scene", "landmark", "artwork", "OCR"]
    /// The cognition subtasks in `calculation.py`'s order.
    public static let cognition = ["commonsense_reasoning", "numerical_calculation", "text_translation", "code_reasoning"]
    /// The five subtasks the CLVS paper reports.
    public static let clvsPaperSubtasks = ["existence", "count", "position", "color", "OCR"]

    /// The answer-format sentence of MME's questions.
    public static let yesNoSentence = "Please answer yes or no."

    /// LLaVA's `llava_mme.jsonl` question text for an MME question: the trailing
    /// "Please answer yes or no." removed, then trailing whitespace (one or two spaces) removed.
    public static func llavaQuestionText(_ q: String) -> String {
        guard q.hasSuffix(yesNoSentence) else { return q }
        var v = Py.scalars(String(q.dropLast(yesNoSentence.count)))
        while let last = v.last, Py.isSpace(last) { v.removeLast() }
        return Py.string(v)
    }

    /// One line of a txt file: image, question, ground truth and (results files) the response
    /// with its line end kept, as `calculation.py` sees it.
    public struct Line: Sendable, Equatable {
        public var image: String
        public var question: String
        public var truth: String
        public var response: String?
        /// 1-based line number.
        public var line: Int
    }

    /// Reads a txt file with Python's text-mode line semantics. Question lists need 3 tab
    /// fields, results files exactly 4 (`calculation.py` unpacks 4).
    public static func readLines(_ url: URL, requireResponse: Bool) throws -> [Line] {
        var out: [Line] = []
        for (i, raw) in try Py.readLines(url).enumerated() {
            var fields = Py.split(raw, on: "\t")
            if requireResponse {
                guard fields.count == 4 else {
                    throw BenchmarkError.format(location: "\(url.path):\(i + 1)",
                                                reason: "has \(fields.count) tab-separated fields; a results line needs 4 (image, question, gt, response)")
                }
            } else {
                guard fields.count == 3 || fields.count == 4 else {
                    throw BenchmarkError.format(location: "\(url.path):\(i + 1)",
                                                reason: "has \(fields.count) tab-separated fields; expected image, question, Yes|No")
                }
                if fields.count == 3, fields[2].hasSuffix("\n") { fields[2] = String(fields[2].dropLast()) }
            }
            out.append(Line(image: fields[0], question: fields[1], truth: fields[2],
                            response: fields.count == 4 ? fields[3] : nil, line: i + 1))
        }
        return out
    }

    /// The txt files of a folder as (subtask, url): the perception then cognition subtasks in
    /// `calculation.py`'s order, then any others by name.
    public static func subtaskFiles(in directory: URL) throws -> [(String, URL)] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory.path) } catch {
            throw BenchmarkError.io(path: directory.path, reason: "cannot list the folder")
        }
        let present = Set(names.filter { $0.hasSuffix(".txt") }.map { String($0.dropLast(4)) })
        guard !present.isEmpty else { throw BenchmarkError.format(location: directory.path, reason: "has no <subtask>.txt files") }
        let known = perception + cognition
        let ordered = known.filter { present.contains($0) } + present.subtracting(known).sorted()
        return ordered.map { ($0, directory.appendingPathComponent("\($0).txt")) }
    }

    /// Questions of a folder of txt files or of one txt file; keys `<subtask>/<image>#<n>` (n-th
    /// line of that image in the file); `text` follows LLaVA's convention, `originalText` keeps
    /// the MME question; `image` is `<subtask>/<image>`.
    public static func loadText(_ url: URL) throws -> [BenchmarkQuestion] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw BenchmarkError.io(path: url.path, reason: "does not exist")
        }
        let files = isDir.boolValue ? try subtaskFiles(in: url) : [(url.deletingPathExtension().lastPathComponent, url)]
        var out: [BenchmarkQuestion] = []
        for (subtask, f) in files {
            var seen: [String: Int] = [:]
            for l in try readLines(f, requireResponse: false) {
                let n = seen[l.image, default: 0] + 1
                seen[l.image] = n
                out.append(BenchmarkQuestion(key: "\(subtask)/\(l.image)#\(n)", questionID: .string("\(subtask)/\(l.image)"),
                                             category: subtask, image: "\(subtask)/\(l.image)",
                                             text: llavaQuestionText(l.question), originalText: l.question,
                                             label: l.truth))
            }
        }
        return out
    }

    struct LLaVALine: Decodable {
        let question_id: String
        let image: String
        let text: String
        let category: String
    }

    /// LLaVA's `llava_mme.jsonl` with ground truth from the txt question folder: the question is
    /// found as LLaVA's `convert_answer_to_mme.py` finds it (text without the short-answer
    /// suffix + " Please answer yes or no.", retried with two spaces). `image` is LLaVA's path.
    public static func loadLLaVA(_ file: URL, truthDirectory: URL) throws -> [BenchmarkQuestion] {
        let truth = try loadText(truthDirectory)
        var index: [String: BenchmarkQuestion] = [:]
        for q in truth { index["\(q.category)\t\(q.image)\t\(q.originalText)"] = q }
        var out: [BenchmarkQuestion] = []
        for (lineNo, l) in try JSONFiles.decodeLines(LLaVALine.self, from: file) {
            let imageName = l.question_id.split(separator: "/").last.map(String.init) ?? l.question_id
            var base = l.text
            if base.hasSuffix(llavaShortAnswerSuffix) { base = String(base.dropLast(llavaShortAnswerSuffix.count)) }
            let stem = "\(l.category)\t\(l.category)/\(imageName)\t"
            guard let q = index[stem + base + " " + yesNoSentence] ?? index[stem + base + "  " + yesNoSentence] else {
                throw BenchmarkError.inconsistent("\(file.path):\(lineNo): question '\(base)' of \(l.question_id) is not in \(truthDirectory.path)/\(l.category).txt")
            }
            var copy = q
            copy.image = l.image
            copy.text = base
            out.append(copy)
        }
        return out
    }
}

// MARK: - Any benchmark

/// Loads the question set of a benchmark from the paths the command line gives.
public enum BenchmarkData {
    /// - `pope`: split files (`coco_pope_<split>.json`), a folder of them, or LLaVA's
    ///   `llava_pope_test.jsonl` with `annotations` = the folder of the split files it was built from.
    /// - `amber`: query files with `annotations` = `annotations.json`.
    /// - `rbench`: `image-level_filterd.json`; `subsetFiles` restrict and group the questions.
    /// - `mme`: a folder of `<subtask>.txt` (or one), or `llava_mme.jsonl` with `annotations` = that folder.
    /// `categories` keeps only those splits / dimensions / subtasks.
    public static func load(benchmark: BenchmarkKind, questions: [URL], annotations: URL?, subsetFiles: [URL] = [],
                            categories: [String]? = nil) throws -> QuestionSet {
        guard !questions.isEmpty else { throw BenchmarkError.invalidOption(option: "--questions", reason: "give at least one question file or folder") }
        for q in questions where !FileManager.default.fileExists(atPath: q.path) {
            throw BenchmarkError.io(path: q.path, reason: "does not exist")
        }
        if benchmark != .rbench && !subsetFiles.isEmpty {
            throw BenchmarkError.invalidOption(option: "--subset-ids", reason: "applies only to --benchmark rbench")
        }
        let source = questions.map(\.path).joined(separator: ", ")
        var set: QuestionSet
        switch benchmark {
        case .pope:
            var files: [URL] = []
            var llava: [URL] = []
            for q in questions {
                if isDirectory(q) { files += try POPEData.splitFiles(in: q) } else if isLLaVAQuestionFile(q) { llava.append(q) } else { files.append(q) }
            }
            if !llava.isEmpty && !files.isEmpty {
                throw BenchmarkError.invalidOption(option: "--questions", reason: "give either POPE split files or LLaVA's question file, not both")
            }
            if llava.isEmpty {
                if annotations != nil { throw BenchmarkError.invalidOption(option: "--annotations", reason: "POPE split files carry their labels; --annotations is for LLaVA's question file") }
                set = QuestionSet(benchmark: .pope, questions: try POPEData.loadSplits(files), source: source)
            } else {
                guard let annotations else {
                    throw BenchmarkError.invalidOption(option: "--annotations", reason: "LLaVA's question file has no labels; give the folder of coco_pope_<split>.json files it was built from")
                }
                set = QuestionSet(benchmark: .pope, questions: try llava.flatMap { try POPEData.loadLLaVA($0, annotationDirectory: annotations) },
                                  source: source, fromLLaVAFile: true)
            }
        case .amber:
            guard let annotations else { throw BenchmarkError.invalidOption(option: "--annotations", reason: "AMBER needs annotations.json") }
            set = QuestionSet(benchmark: .amber, questions: try AMBERData.load(queryFiles: questions, annotations: annotations), source: source)
        case .rbench:
            if annotations != nil { throw BenchmarkError.invalidOption(option: "--annotations", reason: "R-Bench questions carry their labels") }
            let subsets = try subsetFiles.map(RBenchData.loadSubset)
            set = QuestionSet(benchmark: .rbench, questions: try questions.flatMap(RBenchData.loadQuestions), rbenchSubsets: subsets, source: source)
        case .mme:
            var qs: [BenchmarkQuestion] = []
            var llava = false
            for q in questions {
                if !isDirectory(q) && q.pathExtension == "jsonl" {
                    guard let annotations else {
                        throw BenchmarkError.invalidOption(option: "--annotations", reason: "llava_mme.jsonl has no ground truth; give the folder of MME <subtask>.txt files")
                    }
                    qs += try MMEData.loadLLaVA(q, truthDirectory: annotations)
                    llava = true
                } else {
                    qs += try MMEData.loadText(q)
                }
            }
            set = QuestionSet(benchmark: .mme, questions: qs, source: source, fromLLaVAFile: llava)
        }
        _ = try set.keyIndex()
        return try set.filtered(categories: categories)
    }

    static func isDirectory(_ url: URL) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
    }

    /// LLaVA's POPE question file: JSON Lines whose first object has `category` and no `label`.
    static func isLLaVAQuestionFile(_ url: URL) -> Bool {
        guard let d = try? JSONFiles.data(url),
              let first = d.split(separator: UInt8(ascii: "\n")).first,
              let obj = try? JSONSerialization.jsonObject(with: Data(first)) as? [String: Any] else { return false }
        return obj["category"] != nil && obj["label"] == nil
    }
}
