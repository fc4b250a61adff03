import Foundation

/// Writes runner answers in each benchmark's own answer format, so the official scripts can be
/// run on them unchanged:
/// - POPE from LLaVA's question file: one JSONL file `{"question_id", "prompt", "text"}` (LLaVA's
///   answers format, for `eval_pope.py` with the annotation folder);
///   from split files: a folder with `<split>.jsonl` of `{"question_id", "question", "answer"}`
///   (for `evaluate.py` with `coco_pope_<split>.json`; it matches by line order, so the run must
///   be complete);
/// - AMBER: a JSON array `[{"id", "response"}]` with the normalised responses;
/// - R-Bench: JSONL `{"question_id", "prompt", "text"}`;
/// - MME: a results folder of `<subtask>.txt` lines `image \t question \t gt \t response`, tabs
///   and line breaks in a response replaced by spaces (they would break the line format); only
///   images whose two questions are both answered.
/// Every file is written to a temporary name and renamed.
public enum OfficialExport {
    /// Writes `records` (in question order) for `questions` at `url`; returns the files written.
    @discardableResult
    public static func write(_ records: [RunRecord], questions: QuestionSet, to url: URL) throws -> [URL] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func jsonl<T: Encodable>(_ rows: [T]) throws -> Data {
            var d = Data()
            for r in rows { d.append(try enc.encode(r)); d.append(UInt8(ascii: "\n")) }
            return d
        }
        switch questions.benchmark {
        case .pope where questions.fromLLaVAFile, .rbench:
            struct Row: Encodable { let question_id: QuestionID; let prompt: String; let text: String }
            try AtomicFile.write(try jsonl(records.map { Row(question_id: $0.questionID, prompt: $0.prompt, text: $0.answer) }), to: url)
            return [url]
        case .pope:
            struct Row: Encodable { let question_id: QuestionID; let question: String; let answer: String }
            try makeFolder(url)
            var files: [URL] = []
            for cat in Scoring.orderedCategories(records.map(\.category)) {
                let f = url.appendingPathComponent("\(cat).jsonl")
                try AtomicFile.write(try jsonl(records.filter { $0.category == cat }.map { Row(question_id: $0.questionID, question: $0.question, answer: $0.answer) }), to: f)
                files.append(f)
            }
            return files
        case .amber:
            struct Row: Encodable { let id: Int; let response: String }
            let rows = try records.map { r -> Row in
                guard case let .int(id) = r.questionID else { throw BenchmarkError.inconsistent("AMBER answer '\(r.key)' has a non-integer id") }
                return Row(id: id, response: AMBERResponseNormalizer.normalize(r.answer))
            }
            try AtomicFile.write(try enc.encode(rows), to: url)
            return [url]
        case .mme:
            try makeFolder(url)
            var byKey: [String: RunRecord] = [:]
            for r in records { byKey[r.key] = r }
            var files: [URL] = []
            for cat in Scoring.orderedCategories(questions.questions.map(\.category)) {
                let qs = questions.questions.filter { $0.category == cat }
                var text = ""
                for pair in stride(from: 0, to: qs.count - 1, by: 2) {
                    guard let a = byKey[qs[pair].key], let b = byKey[qs[pair + 1].key] else { continue }
                    for (q, r) in [(qs[pair], a), (qs[pair + 1], b)] {
                        let image = q.image.split(separator: "/").last.map(String.init) ?? q.image
                        let response = String(r.answer.map { $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
                        text += "\(image)\t\(q.originalText)\t\(q.label)\t\(response)\n"
                    }
                }
                if text.isEmpty { continue }
                let f = url.appendingPathComponent("\(cat).txt")
                try AtomicFile.write(Data(text.utf8), to: f)
                files.append(f)
            }
            return files
        }
    }

    static func makeFolder(_ url: URL) throws {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw BenchmarkError.io(path: url.path, reason: "cannot create the folder (\(error.localizedDescription))")
        }
    }
}
