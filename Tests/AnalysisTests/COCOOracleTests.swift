@testable import Analysis
import XCTest

/// Every entry of `rle_oracles.json` (pycocotools 2.0.11) reproduced exactly.
final class COCOOracleTests: XCTestCase {
    private static let oracles: [String: Any] = (try? loadJSONFixture("coco/rle_oracles.json") as? [String: Any]) ?? [:]
    private static let subset: COCODataset? = try? COCODataset(contentsOf: fixturesURL.appendingPathComponent("coco/instances_val2017_subset.json"))

    private func dataset() throws -> COCODataset { try XCTUnwrap(Self.subset) }

    func testReadsInstancesFile() throws {
        let ds = try dataset()
        XCTAssertEqual(ds.images.count, 9)
        XCTAssertEqual(ds.annotations.count, 125)
        XCTAssertEqual(ds.categories.count, 80)
        XCTAssertEqual(ds.categories.last?.id, 90, "non-contiguous ids are kept")
        XCTAssertEqual(ds.image(id: 172648)?.width, 640)
        let crowd = ds.annotations.filter { $0.iscrowd == 1 }
        XCTAssertEqual(crowd.count, 3)
        guard case let .uncompressedRLE(h, w, counts)? = crowd.first?.segmentation,
              let image = ds.image(id: crowd[0].imageID), h == image.height, w == image.width, counts.count == 2819 else {
            return XCTFail("crowd segmentation should be uncompressed RLE")
        }
    }

    func testEveryInstanceAnnotation() throws {
        let ds = try dataset()
        let entries = try XCTUnwrap(Self.oracles["instances"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 125)
        for e in entries {
            let id = try XCTUnwrap(e["ann_id"] as? Int)
            let ann = try ds.annotation(id: id)
            let rle = try ds.rle(of: ann)
            let expected = try XCTUnwrap(e["rle"] as? [String: Any])
            XCTAssertEqual(rle.compressedString, expected["counts"] as? String, "ann \(id)")
            XCTAssertEqual(rle.size, ints(expected["size"]), "ann \(id)")
            XCTAssertEqual(rle.area, e["rle_area"] as? Int, "ann \(id)")
            XCTAssertEqual(rle.bbox, doubles(e["rle_bbox"]), "ann \(id)")
            XCTAssertEqual(SHA256.hexDigest(rle.decode()), e["mask_sha256_rowmajor_hxw_u8"] as? String, "ann \(id)")
            if let parts = e["per_polygon_rles"] as? [[String: Any]], case let .polygons(polys)? = ann.segmentation {
                let mine = try RLE.polygons(polys, height: rle.height, width: rle.width)
                XCTAssertEqual(mine.map(\.compressedString), parts.map { $0["counts"] as? String ?? "" }, "ann \(id)")
                XCTAssertEqual(mine.map(\.area), parts.map { $0["area"] as? Int ?? -1 }, "ann \(id)")
            }
        }
    }

    func testEveryCategoryUnion() throws {
        let ds = try dataset()
        let entries = try XCTUnwrap(Self.oracles["category_unions"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 42)
        for e in entries {
            let image = try XCTUnwrap(e["image_id"] as? Int), cat = try XCTUnwrap(e["category_id"] as? Int)
            let rle = try ds.unionMask(imageID: image, categoryID: cat)
            let expected = try XCTUnwrap(e["rle"] as? [String: Any])
            XCTAssertEqual(rle.compressedString, expected["counts"] as? String, "\(image)/\(cat)")
            XCTAssertEqual(rle.area, e["area"] as? Int)
            XCTAssertEqual(rle.bbox, doubles(e["bbox"]))
            XCTAssertEqual(SHA256.hexDigest(rle.decode()), e["mask_sha256_rowmajor_hxw_u8"] as? String)
            XCTAssertEqual(ds.annotations(imageID: image, categoryID: cat).count, e["n_instances"] as? Int)
            // by name, through the object-name resolver
            let name = try XCTUnwrap(e["category"] as? String)
            XCTAssertEqual(try ds.category(named: name).id, cat)
        }
    }

    func testEveryPanopticSegment() throws {
        let ds = try COCODataset(contentsOf: fixturesURL.appendingPathComponent("coco/panoptic_coco_detection_format.json"))
        let entries = try XCTUnwrap(Self.oracles["panoptic_sample"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 50)
        XCTAssertEqual(ds.annotations.count, 50)
        for e in entries {
            let id = try XCTUnwrap(e["id"] as? Int)
            let ann = try ds.annotation(id: id)
            guard case let .compressedRLE(_, _, string)? = ann.segmentation else { return XCTFail("segment \(id)") }
            let rle = try ds.rle(of: ann)
            XCTAssertEqual(rle.size, ints(e["size"]))
            XCTAssertEqual(rle.area, e["rle_area"] as? Int)
            XCTAssertEqual(rle.bbox, doubles(e["rle_bbox"]))
            XCTAssertEqual(SHA256.hexDigest(rle.decode()), e["mask_sha256_rowmajor_hxw_u8"] as? String)
            XCTAssertEqual(rle.compressedString, string, "re-encoding reproduces the stored string")
            XCTAssertEqual(try RLE(mask: rle.decode(), height: rle.height, width: rle.width).compressedString, string)
        }
    }

    func testCocoapiResultsFile() throws {
        let results = try loadCOCOResults(contentsOf: fixturesURL.appendingPathComponent("coco/instances_val2014_fakesegm100_results.json"))
        XCTAssertEqual(results.count, 734)
        XCTAssertEqual(Set(results.map(\.imageID)).count, 99)
        let entries = try XCTUnwrap(Self.oracles["cocoapi_fakesegm_first25"] as? [[String: Any]])
        XCTAssertEqual(entries.count, 25)
        for e in entries {
            let i = try XCTUnwrap(e["index"] as? Int)
            let r = results[i]
            XCTAssertEqual(r.imageID, e["image_id"] as? Int)
            XCTAssertEqual(r.categoryID, e["category_id"] as? Int)
            let rle = try XCTUnwrap(r.segmentation).rle(imageHeight: 0, imageWidth: 0)
            XCTAssertEqual(rle.size, ints(e["size"]))
            XCTAssertEqual(rle.area, e["rle_area"] as? Int)
            XCTAssertEqual(rle.bbox, doubles(e["rle_bbox"]))
            XCTAssertEqual(Array(rle.counts.prefix(8)), ints(e["uncompressed_counts_first8"]))
            XCTAssertEqual(SHA256.hexDigest(rle.decode()), e["mask_sha256_rowmajor_hxw_u8"] as? String)
        }
        // every one of the 734 strings decodes and re-encodes to itself
        for (i, r) in results.enumerated() {
            guard case let .compressedRLE(h, w, s)? = r.segmentation else { return XCTFail("result \(i)") }
            let rle = try RLE(compressed: s, height: h, width: w, context: "result \(i)")
            XCTAssertEqual(rle.compressedString, s, "result \(i)")
        }
    }

    func testMalformedFilesGiveErrorsNamingTheField() throws {
        let bad = Data(#"{"images": [{"id": 1, "width": 4, "height": 3}], "annotations": [{"id": 5, "image_id": 1, "category_id": 2, "segmentation": "x"}]}"#.utf8)
        XCTAssertThrowsError(try COCODataset(data: bad, file: "bad.json")) { e in
            guard case let .invalidJSON(file, path, _)? = e as? COCOError else { return XCTFail("\(e)") }
            XCTAssertEqual(file, "bad.json")
            XCTAssertEqual(path, "annotations[0].segmentation")
        }
        let badString = Data(#"{"images": [{"id": 1, "width": 4, "height": 3}], "annotations": [{"id": 5, "image_id": 1, "category_id": 2, "segmentation": {"size": [3, 4], "counts": "0~"}}]}"#.utf8)
        let ds = try COCODataset(data: badString, file: "bad.json")
        XCTAssertThrowsError(try ds.rle(of: try ds.annotation(id: 5))) { e in
            guard case let .badRLECharacter(context, 1, "~")? = e as? MaskError else { return XCTFail("\(e)") }
            XCTAssertTrue(context.contains("bad.json") && context.contains("id=5"), context)
        }
        XCTAssertThrowsError(try ds.annotation(id: 6))
        XCTAssertThrowsError(try ds.unionMask(imageID: 2, categoryID: nil)) { e in
            XCTAssertEqual(e as? COCOError, .missingImageSize(file: "bad.json", imageID: 2))
        }
        XCTAssertThrowsError(try COCODataset(data: Data("[1,".utf8), file: "trunc.json"))
    }
}
