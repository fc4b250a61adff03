import Foundation
import Models
import SafeTensors
import Tracing
import XCTest

/// Strict loading and config parsing: every bad checkpoint is a typed error naming the file and
/// the field or tensor.
final class LoadErrorTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("clvs-load-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    /// A copy of the GQA fixture checkpoint whose config and tensors can be edited.
    func copyCheckpoint() throws -> URL {
        let dst = tmp.appendingPathComponent("ckpt")
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("llava-tiny-gqa"), to: dst)
        return dst
    }

    func editConfig(_ dir: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let url = dir.appendingPathComponent("config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: url)
    }

    /// Rewrites model.safetensors through `edit` (name -> (shape, values)).
    func editTensors(_ dir: URL, _ edit: (inout [String: ([Int], [Float])]) -> Void) throws {
        let url = dir.appendingPathComponent("model.safetensors")
        let file = try SafeTensorsFile(url: url)
        var all: [String: ([Int], [Float])] = [:]
        for n in file.names { all[n] = (try file.info(n).shape, try file.floats(n)) }
        edit(&all)
        var w = SafeTensorsWriter()
        for (n, t) in all.sorted(by: { $0.key < $1.key }) { try w.add(n, shape: t.0, floats: t.1, as: .F16) }
        let data = try w.serialized()
        try FileManager.default.removeItem(at: url)
        try data.write(to: url)
    }

    func assertModelError(_ expected: (ModelError) -> Bool, _ body: () throws -> Void, line: UInt = #line) {
        do {
            try body()
            XCTFail("expected an error", line: line)
        } catch let e as ModelError {
            XCTAssertTrue(expected(e), "unexpected error: \(e)", line: line)
        } catch {
            XCTFail("unexpected error type: \(error)", line: line)
        }
    }

    func testFixtureLoads() throws {
        let dir = try copyCheckpoint()
        XCTAssertNoThrow(try LlavaModel(directory: dir))
    }

    func testUnknownModelType() throws {
        let dir = try copyCheckpoint()
        try editConfig(dir) { $0["model_type"] = "llava_next_video" }
        assertModelError({ if case let .unsupportedModelType(file, field, value) = $0 {
            return file.hasSuffix("config.json") && field == "model_type" && value == "llava_next_video" }; return false }) {
            _ = try LlavaModel(directory: dir)
        }
    }

    func testUnknownTextModelType() throws {
        let dir = try copyCheckpoint()
        try editConfig(dir) { j in
            var t = j["text_config"] as? [String: Any] ?? [:]
            t["model_type"] = "mistral"
            j["text_config"] = t
        }
        assertModelError({ if case let .unsupportedModelType(_, field, _) = $0 { return field == "text_config.model_type" }; return false }) {
            _ = try LlavaModel(directory: dir)
        }
    }

    func testMalformedConfig() throws {
        let dir = try copyCheckpoint()
        try Data("{\"model_type\": \"llava\", ".utf8).write(to: dir.appendingPathComponent("config.json"))
        assertModelError({ if case let .unreadableConfig(file, reason) = $0 { return file.hasSuffix("config.json") && reason.contains("malformed") }; return false }) {
            _ = try LlavaModel(directory: dir)
        }
    }

    func testWrongFieldType() throws {
        let dir = try copyCheckpoint()
        try editConfig(dir) { j in
            var t = j["text_config"] as? [String: Any] ?? [:]
            t["hidden_size"] = "big"
            j["text_config"] = t
        }
        assertModelError({ if case let .invalidConfig(_, field, _) = $0 { return field == "text_config.hidden_size" }; return false }) {
            _ = try LlavaModel(directory: dir)
        }
    }

    func testUnsupportedRope() throws {
        let dir = try copyCheckpoint()
        try editConfig(dir) { j in
            var t = j["text_config"] as? [String: Any] ?? [:]
            t["rope_parameters"] = ["rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0]
            j["text_config"] = t
        }
        assertModelError({ if case let .invalidConfig(_, field, _) = $0 { return field == "text_config.rope_parameters.rope_type" }; return false }) {
            _ = try LlavaModel(directory: dir)
        }
    }

    func testMissingTensor() throws {
        let dir = try copyCheckpoint()
        let victim = "model.language_model.layers.1.mlp.up_proj.weight"
        try editTensors(dir) { $0[victim] = nil }
        assertModelError({ if case let .missingTensor(_, name) = $0 { return name == victim }; return false }) {
            _ = try LlavaModel(directory: dir)
        }
    }

    func testUnexpectedTensor() throws {
        let dir = try copyCheckpoint()
        try editTensors(dir) { $0["model.language_model.layers.9.extra.weight"] = ([2], [1, 2]) }
        assertModelError({ if case let .unexpectedTensors(_, names) = $0 { return names == ["model.language_model.layers.9.extra.weight"] }; return false }) {
            _ = try LlavaModel(directory: dir)
        }
    }

    func testShapeMismatch() throws {
        let dir = try copyCheckpoint()
        let victim = "model.language_model.norm.weight"
        try editTensors(dir) { $0[victim] = ([31], [Float](repeating: 1, count: 31)) }
        assertModelError({ if case let .shapeMismatch(_, name, expected, found) = $0 { return name == victim && expected == [32] && found == [31] }; return false }) {
            _ = try LlavaModel(directory: dir)
        }
    }

    func testUnknownWeightLayout() throws {
        let dir = try copyCheckpoint()
        try editTensors(dir) { all in
            let renamed = Dictionary(uniqueKeysWithValues: all.map { ("foo." + $0.key, $0.value) })
            all = renamed
        }
        assertModelError({ if case .unknownWeightLayout = $0 { return true }; return false }) {
            _ = try LlavaModel(directory: dir)
        }
    }

    /// The real `llava-hf/llava-1.5-7b-hf` config.json omits most keys; Hugging Face's defaults fill them.
    func testRealLlava15ConfigDefaults() throws {
        let text = """
        {"architectures": ["LlavaForConditionalGeneration"], "ignore_index": -100, "image_token_index": 32000,
         "model_type": "llava", "pad_token_id": 32001, "projector_hidden_act": "gelu",
         "text_config": {"_name_or_path": "lmsys/vicuna-7b-v1.5", "architectures": ["LlamaForCausalLM"],
           "max_position_embeddings": 4096, "model_type": "llama", "rms_norm_eps": 1e-05, "torch_dtype": "float16", "vocab_size": 32064},
         "tie_word_embeddings": false, "torch_dtype": "float16", "transformers_version": "4.36.0.dev0",
         "vision_config": {"hidden_size": 1024, "image_size": 336, "intermediate_size": 4096, "model_type": "clip_vision_model",
           "num_attention_heads": 16, "num_hidden_layers": 24, "patch_size": 14, "projection_dim": 768, "vocab_size": 32000},
         "vision_feature_layer": -2, "vision_feature_select_strategy": "default", "vocab_size": 32064}
        """
        let url = tmp.appendingPathComponent("config.json")
        try Data(text.utf8).write(to: url)
        let c = try LlavaConfig.load(url)
        XCTAssertEqual(c.text.hiddenSize, 4096)
        XCTAssertEqual(c.text.numHiddenLayers, 32)
        XCTAssertEqual(c.text.numAttentionHeads, 32)
        XCTAssertEqual(c.text.numKeyValueHeads, 32)
        XCTAssertEqual(c.text.headDim, 128)
        XCTAssertEqual(c.text.intermediateSize, 11008)
        XCTAssertEqual(c.text.vocabSize, 32064)
        XCTAssertEqual(c.text.rmsNormEps, 1e-5)
        XCTAssertEqual(c.text.ropeTheta, 10000)
        XCTAssertEqual(c.text.eosTokenIds, [2])
        XCTAssertEqual(c.vision.numHiddenLayers, 24)
        XCTAssertEqual(c.vision.hiddenAct, .quickGelu)
        XCTAssertEqual(c.vision.gridSide, 24)
        XCTAssertEqual(c.resolvedFeatureLayers, [23])
        XCTAssertEqual(c.visionLayersNeeded, 23)
        XCTAssertEqual(c.imageTokenCount, 576)
        XCTAssertEqual(c.projectorHiddenAct, .gelu)
    }

    func testPromptPlaceholderCount() throws {
        let ckpt = try LoadedCheckpoint(directory: fixtures.appendingPathComponent("llava-tiny-gqa"),
                                        tokenizerDirectory: fixtures.appendingPathComponent("tokenizer"))
        for bad in ["USER: no image here ASSISTANT:", "USER: <image><image>\nTwo? ASSISTANT:"] {
            assertModelError({ if case let .invalidInput(m) = $0 { return m.contains("exactly one <image>") }; return false }) {
                _ = try ckpt.model.layout(prompt: bad, tokenizer: ckpt.tokenizer)
            }
        }
        let ok = try ckpt.model.layout(prompt: "USER: <image>\nHi ASSISTANT:", tokenizer: ckpt.tokenizer)
        XCTAssertEqual(ok.image.count, 16)
        XCTAssertEqual(ok.inputIds.filter { $0 == 32000 }.count, 16)
        XCTAssertEqual(Array(ok.inputIds[ok.image.range]), [Int](repeating: 32000, count: 16))
    }
}

final class JSONObjectTests: XCTestCase {
    /// Long decimals must parse to the correctly rounded double (Foundation's NSDecimalNumber
    /// path on Linux is off by an ulp for these).
    func testLongDecimalsAreExact() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("clvs-json-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(#"{"a": 0.00392156862745098, "b": 0.9998968482114295, "c": 1e-06, "n": 3, "t": true}"#.utf8).write(to: url)
        let j = try JSONObject.load(url)
        XCTAssertEqual(try j.double("a"), 0.00392156862745098)
        XCTAssertEqual(try j.double("b"), 0.9998968482114295)
        XCTAssertEqual(try j.double("c"), 1e-06)
        XCTAssertEqual(try j.int("n"), 3)
        XCTAssertEqual(try j.bool("t", default: false), true)
        XCTAssertThrowsError(try j.int("t"))
        XCTAssertThrowsError(try j.bool("n", default: false))
        XCTAssertThrowsError(try j.int("a"))
    }

    func write(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("clvs-json-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        return url
    }

    func assertInvalid(_ field: String, _ reasonPart: String, file: StaticString = #filePath, line: UInt = #line,
                       _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case let .invalidConfig(_, f, reason)? = error as? ModelError else {
                return XCTFail("wrong error \(error)", file: file, line: line)
            }
            XCTAssertEqual(f, field, file: file, line: line)
            XCTAssertTrue(reason.contains(reasonPart), reason, file: file, line: line)
        }
    }

    /// Every accessor: defaults for absent and null keys, types told apart, errors naming the dotted field.
    func testAccessorsDefaultsAndErrors() throws {
        let url = try write(#"""
            {"i": 7, "i2": 2.0, "big": 9007199254740993, "huge": 9223372036854775808, "neg": -3,
             "f": 0.5, "inf": 1e400, "s": "x\u00e9", "b": false, "n": null, "one": 1,
             "list": [1, 2.0, -4], "badList": [1, "2"], "fracList": [1.5],
             "sub": {"deep": {"k": "v", "m": [true]}}, "dup": 1, "dup": 2}
            """#)
        defer { try? FileManager.default.removeItem(at: url) }
        let j = try JSONObject.load(url)
        XCTAssertEqual(j.file, url.path)
        XCTAssertEqual(try j.int("i"), 7)
        XCTAssertEqual(try j.int("i2"), 2)
        XCTAssertEqual(try j.int("big"), 9007199254740993)  // exact, not via Double
        XCTAssertEqual(try j.int("neg"), -3)
        XCTAssertEqual(try j.int("absent", default: 5), 5)
        XCTAssertEqual(try j.int("n", default: 6), 6)
        XCTAssertEqual(try j.optionalInt("i"), 7)
        XCTAssertNil(try j.optionalInt("n"))
        XCTAssertNil(try j.optionalInt("absent"))
        assertInvalid("huge", "out of range") { _ = try j.int("huge") }
        assertInvalid("absent", "required integer") { _ = try j.int("absent") }
        assertInvalid("f", "expected an integer") { _ = try j.int("f") }
        assertInvalid("s", "expected an integer") { _ = try j.int("s") }
        assertInvalid("b", "expected an integer") { _ = try j.int("b") }

        XCTAssertEqual(try j.double("f"), 0.5)
        XCTAssertEqual(try j.double("i"), 7)
        XCTAssertEqual(try j.double("absent", default: 1.5), 1.5)
        assertInvalid("inf", "not finite") { _ = try j.double("inf") }
        assertInvalid("b", "expected a number") { _ = try j.double("b") }
        assertInvalid("absent", "required number") { _ = try j.double("absent") }

        XCTAssertEqual(try j.string("s"), "x\u{e9}")
        XCTAssertEqual(try j.string("n", default: "d"), "d")
        XCTAssertEqual(try j.optionalString("s"), "x\u{e9}")
        XCTAssertNil(try j.optionalString("n"))
        assertInvalid("i", "expected a string") { _ = try j.string("i") }
        assertInvalid("absent", "required string") { _ = try j.string("absent") }

        XCTAssertEqual(try j.bool("b", default: true), false)
        XCTAssertEqual(try j.bool("n", default: true), true)
        XCTAssertEqual(try j.bool("absent", default: false), false)
        assertInvalid("one", "expected true or false") { _ = try j.bool("one", default: false) }

        XCTAssertTrue(j.has("i"))
        XCTAssertFalse(j.has("n"))
        XCTAssertFalse(j.has("absent"))
        XCTAssertEqual(try j.int("dup"), 2)  // a repeated key: the last one counts

        XCTAssertEqual(try j.intList("i"), [7])
        XCTAssertEqual(try j.intList("list"), [1, 2, -4])
        XCTAssertNil(try j.intList("n"))
        assertInvalid("badList[1]", "expected an integer") { _ = try j.intList("badList") }
        assertInvalid("fracList[0]", "expected an integer") { _ = try j.intList("fracList") }
        assertInvalid("s", "integer or a list") { _ = try j.intList("s") }

        let deep = try XCTUnwrap(try XCTUnwrap(try j.object("sub")).object("deep"))
        XCTAssertEqual(deep.path, "sub.deep")
        XCTAssertEqual(try deep.string("k"), "v")
        XCTAssertNil(try j.object("n"))
        XCTAssertNil(try j.object("absent"))
        assertInvalid("sub.deep.k", "expected an integer") { _ = try deep.int("k") }
        assertInvalid("sub.deep.m[0]", "expected an integer") { _ = try deep.intList("m") }
        assertInvalid("list", "expected an object") { _ = try j.object("list") }
    }

    func testLoadErrors() throws {
        func reason(_ text: String?) throws -> String {
            let url = text == nil ? URL(fileURLWithPath: "/nonexistent/clvs/config.json") : try write(text ?? "")
            defer { if text != nil { try? FileManager.default.removeItem(at: url) } }
            do {
                _ = try JSONObject.load(url)
                XCTFail("loaded \(text ?? "nothing")")
                return ""
            } catch let ModelError.unreadableConfig(file, reason) {
                XCTAssertEqual(file, url.path)
                return reason
            }
        }
        XCTAssertEqual(try reason(nil), "file not found or not readable")
        XCTAssertEqual(try reason("[1, 2]"), "top level is not a JSON object")
        XCTAssertEqual(try reason("3"), "top level is not a JSON object")
        XCTAssertEqual(try reason(#"{"a": 1,}"#), "malformed JSON at byte 8: expected a string key, found '}'")
        XCTAssertTrue(try reason(#"{"a": NaN}"#).hasPrefix("malformed JSON at byte 6"))
    }
}
