import Foundation
import XCTest
import Imaging

final class CLIPPreprocessorTests: XCTestCase {
    /// pixel_values match transformers' CLIPImageProcessorPil (max abs diff <= 1e-5) and the
    /// geometry record matches what transformers computed, for every fixture case.
    func testPixelValuesAndGeometryMatchTransformers() throws {
        let index = try Fixtures.index()
        XCTAssertGreaterThanOrEqual(index.clip.count, 12)
        var worst: Float = 0
        for c in index.clip {
            let config = try CLIPPreprocessorConfig.load(url: Fixtures.url(c.config))
            let image = try ImageIO.load(Fixtures.url(c.image))
            let pre = CLIPImagePreprocessor(config: config, padToSquare: c.pad_to_square)
            let out = try pre(image)
            XCTAssertEqual(out.geometry, c.geometry, c.name)
            XCTAssertEqual(pre.geometry(width: image.width, height: image.height), c.geometry, c.name)
            XCTAssertEqual([3, out.height, out.width], c.pixel_values.shape, c.name)
            XCTAssertEqual(out.width, c.geometry.outputWidth, c.name)
            let d = try assertClose(out.pixelValues, c.pixel_values, tolerance: 1e-5, c.name)
            worst = max(worst, d)
            // Not required, but expected: the same float32 bits as transformers.
            XCTAssertEqual(fnv1a64(out.pixelValues), c.pixel_values.fnv1a64, "\(c.name): not bit-identical")
        }
        print("CLIP preprocessing: max abs diff over all fixture cases = \(worst)")
    }

    func testLlavaCasesHaveFullReferences() throws {
        let names = try Fixtures.index().clip.filter { $0.pixel_values.file != nil && $0.pixel_values.shape == [3, 336, 336] }.map(\.name)
        XCTAssertEqual(Set(names), ["llava336", "llava336_pad"])
    }

    func testPadFillIsTruncatedMeanTimes255() {
        let pre = CLIPImagePreprocessor(config: CLIPPreprocessorConfig(), padToSquare: true)
        // int(0.48145466 * 255) = 122, int(0.4578275 * 255) = 116, int(0.40821073 * 255) = 104
        XCTAssertEqual(pre.padFill.0, 122)
        XCTAssertEqual(pre.padFill.1, 116)
        XCTAssertEqual(pre.padFill.2, 104)
    }

    /// Geometry mapping round-trips through the record (pad + resize + negative crop offsets).
    func testGeometryMappingRoundTrip() throws {
        var config = CLIPPreprocessorConfig()
        config.size = .shortestEdge(20)
        config.cropSize = .init(height: 32, width: 32)
        let pre = CLIPImagePreprocessor(config: config, padToSquare: true)
        let geo = pre.geometry(width: 23, height: 17)
        XCTAssertEqual(geo.pad, ImageGeometry.Pad(size: 23, offsetX: 0, offsetY: 3))
        XCTAssertEqual(geo.resizedWidth, 20)
        XCTAssertEqual(geo.cropX, -6)
        let p = geo.originalToOutput(x: 5.5, y: 7.25)
        let back = geo.outputToOriginal(x: p.x, y: p.y)
        XCTAssertEqual(back.x, 5.5, accuracy: 1e-9)
        XCTAssertEqual(back.y, 7.25, accuracy: 1e-9)
    }

    func testRejectsBadImage() {
        let pre = CLIPImagePreprocessor(config: CLIPPreprocessorConfig())
        XCTAssertThrowsError(try pre(RGBImage(width: 2, height: 2, pixels: [0])))
        XCTAssertThrowsError(try pre(RGBImage(width: 0, height: 0, pixels: [])))
    }
}

final class CLIPConfigTests: XCTestCase {
    func testDefaultsForOmittedKeys() throws {
        let c = try JSONDecoder().decode(CLIPPreprocessorConfig.self, from: Data("{}".utf8))
        XCTAssertEqual(c, CLIPPreprocessorConfig())
        XCTAssertEqual(c.size, .shortestEdge(224))
        XCTAssertEqual(c.cropSize, .init(height: 224, width: 224))
        XCTAssertEqual(c.resample, 3)
        XCTAssertEqual(c.rescaleFactor, 1.0 / 255.0)
        XCTAssertEqual(c.imageMean, [0.48145466, 0.4578275, 0.40821073])
        XCTAssertEqual(c.imageStd, [0.26862954, 0.26130258, 0.27577711])
        XCTAssertTrue(c.doResize && c.doCenterCrop && c.doRescale && c.doNormalize && c.doConvertRGB)
    }

    func testBothConfigStylesLoadTheSame() throws {
        let openai = try CLIPPreprocessorConfig.load(url: Fixtures.url("configs/llava336.json"))
        let hf = try CLIPPreprocessorConfig.load(url: Fixtures.url("configs/llava_hf_style.json"))
        XCTAssertEqual(openai, hf)
        XCTAssertEqual(openai.size, .shortestEdge(336))
        XCTAssertEqual(openai.cropSize, .init(height: 336, width: 336))
    }

    func testNullsAndUnusedFieldsAreTolerated() throws {
        let json = #"{"size": {"shortest_edge": 40, "longest_edge": null}, "crop_size": null, "resample": 0, "do_resize": false, "processor_class": "X"}"#
        let c = try JSONDecoder().decode(CLIPPreprocessorConfig.self, from: Data(json.utf8))
        XCTAssertEqual(c.size, .shortestEdge(40))
        XCTAssertEqual(c.cropSize, .init(height: 224, width: 224))
        XCTAssertNoThrow(try c.validate())  // NEAREST is only an error when resizing
    }

    func testEncodeDecodeRoundTrip() throws {
        let c = try CLIPPreprocessorConfig.load(url: Fixtures.url("configs/no_crop_bilinear.json"))
        let again = try JSONDecoder().decode(CLIPPreprocessorConfig.self, from: try JSONEncoder().encode(c))
        XCTAssertEqual(c, again)
        XCTAssertEqual(c.size, .exact(height: 33, width: 21))
        XCTAssertEqual(c.resample, 2)
    }

    /// Bad configs throw typed errors naming the file and the field.
    func testBadConfigsNameFileAndField() throws {
        let cases: [(json: String, field: String)] = [
            (#"{"crop_size": {"height": -336, "width": 336}}"#, "crop_size.height"),
            (#"{"crop_size": 0}"#, "crop_size.height"),
            (#"{"image_mean": [0.5, 0.5]}"#, "image_mean"),
            (#"{"image_std": [0.5, 0.0, 0.5]}"#, "image_std[1]"),
            (#"{"size": {"shortest_edge": 0}}"#, "size.shortest_edge"),
            (#"{"size": {"longest_edge": 10}}"#, "size"),
            (#"{"size": "big"}"#, "size"),
            (#"{"size": [1, 2, 3]}"#, "size"),
            (#"{"resample": 0}"#, "resample"),
            (#"{"resample": 7, "do_resize": true}"#, "resample"),
            (#"{"do_resize": "yes"}"#, "do_resize"),
            (#"{"image_std": "wide"}"#, "image_std"),
            (#"{"crop_size": {"shortest_edge": 3}}"#, "crop_size"),
            (#"{"rescale_factor": "x"}"#, "rescale_factor"),
        ]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clvs-img-cfg-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (i, c) in cases.enumerated() {
            let url = dir.appendingPathComponent("bad\(i).json")
            try Data(c.json.utf8).write(to: url)
            XCTAssertThrowsError(try CLIPPreprocessorConfig.load(url: url), c.json) { error in
                guard case let CLIPConfigError.invalidField(file, field, _) = error else {
                    return XCTFail("\(c.json): expected invalidField, got \(error)")
                }
                XCTAssertEqual(file, url.path, c.json)
                XCTAssertEqual(field, c.field, c.json)
                XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains(c.field), "\(error)")
            }
        }
        let notJSON = dir.appendingPathComponent("notjson.json")
        try Data("not json".utf8).write(to: notJSON)
        XCTAssertThrowsError(try CLIPPreprocessorConfig.load(url: notJSON)) { error in
            guard case let CLIPConfigError.invalidJSON(file, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(file, notJSON.path)
        }
        let array = dir.appendingPathComponent("array.json")
        try Data("[1, 2]".utf8).write(to: array)
        XCTAssertThrowsError(try CLIPPreprocessorConfig.load(url: array)) { error in
            guard case CLIPConfigError.invalidJSON = error else { return XCTFail("got \(error)") }
        }
        XCTAssertThrowsError(try CLIPPreprocessorConfig.load(url: dir.appendingPathComponent("missing.json"))) { error in
            guard case CLIPConfigError.unreadable = error else { return XCTFail("got \(error)") }
        }
    }

    /// A config built in code with a bad value fails when used, not by crashing.
    func testInvalidInMemoryConfigThrowsOnUse() {
        var config = CLIPPreprocessorConfig()
        config.imageMean = [0.5]
        let pre = CLIPImagePreprocessor(config: config)
        XCTAssertThrowsError(try pre(RGBImage(width: 4, height: 4, fill: (1, 2, 3)))) { error in
            guard case let CLIPConfigError.invalidField(file, field, _) = error else { return XCTFail("got \(error)") }
            XCTAssertNil(file)
            XCTAssertEqual(field, "image_mean")
        }
    }
}
