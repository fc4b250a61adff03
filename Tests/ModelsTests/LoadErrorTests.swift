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
}
