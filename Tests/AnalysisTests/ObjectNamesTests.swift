@testable import Analysis
import XCTest

final class ObjectNamesTests: XCTestCase {
    private static let names: Set<String> = ["person", "dining table", "tv", "cell phone", "skis", "wine glass", "mouse",
                                             "knife", "bus", "bench", "sports ball", "hot dog", "teddy bear", "couch",
                                             "potted plant", "hair drier", "sheep", "motorcycle", "airplane", "donut",
                                             "scissors", "car", "truck", "cup"]

    private func resolve(_ s: String) -> String? { ObjectNames.resolveName(s, among: Self.names) }

    func testCOCONamesPluralsAndSynonyms() {
        XCTAssertEqual(resolve("dining table"), "dining table")
        XCTAssertEqual(resolve("  A Dining   Table "), "dining table")
        XCTAssertEqual(resolve("table"), "dining table")
        XCTAssertEqual(resolve("tables"), "dining table")
        XCTAssertEqual(resolve("television"), "tv")
        XCTAssertEqual(resolve("people"), "person")
        XCTAssertEqual(resolve("women"), "person")
        XCTAssertEqual(resolve("mice"), "mouse")
        XCTAssertEqual(resolve("knives"), "knife")
        XCTAssertEqual(resolve("buses"), "bus")
        XCTAssertEqual(resolve("benches"), "bench")
        XCTAssertEqual(resolve("ski"), "skis")
        XCTAssertEqual(resolve("skis"), "skis")
        XCTAssertEqual(resolve("wine glasses"), "wine glass")
        XCTAssertEqual(resolve("cellphones"), "cell phone")
        XCTAssertEqual(resolve("hot dogs"), "hot dog")
        XCTAssertEqual(resolve("teddy bears"), "teddy bear")
        XCTAssertEqual(resolve("sofas"), "couch")
        XCTAssertEqual(resolve("plants"), "potted plant")
        XCTAssertEqual(resolve("hair dryer"), "hair drier")
        XCTAssertEqual(resolve("sheep"), "sheep")
        XCTAssertEqual(resolve("motorbike"), "motorcycle")
        XCTAssertEqual(resolve("doughnuts"), "donut")
        XCTAssertEqual(resolve("trucks"), "truck")
        XCTAssertEqual(resolve("mugs"), "cup")
        XCTAssertEqual(resolve("the car"), "car")
    }

    func testUnmappedAndAmbiguousNames() {
        XCTAssertEqual(resolve("red car"), "car", "a modifier before the noun")
        XCTAssertEqual(resolve("old buses"), "bus")
        XCTAssertEqual(resolve("wooden tables"), "dining table")
        XCTAssertEqual(resolve("dining table"), "dining table")
        XCTAssertNil(resolve("reading glasses"), "the head noun keeps the eyewear rule")
        XCTAssertNil(resolve("green tree"))
        XCTAssertNil(resolve("tree"))
        XCTAssertNil(resolve("sky"))
        XCTAssertNil(resolve("glasses"), "eyewear, not wine glass")
        XCTAssertNil(resolve("bat"))
        XCTAssertNil(resolve("bag"))
        XCTAssertNil(resolve(""))
    }

    func testResolveAgainstCategoriesAndErrors() throws {
        let cats = [COCOCategory(id: 67, name: "dining table"), COCOCategory(id: 72, name: "tv")]
        XCTAssertEqual(ObjectNames.resolve("table", in: cats)?.id, 67)
        XCTAssertNil(ObjectNames.resolve("cat", in: cats))
        let ds = try COCODataset(data: Data(#"{"categories": [{"id": 72, "name": "tv"}]}"#.utf8), file: "c.json")
        XCTAssertEqual(try ds.category(named: "televisions").id, 72)
        XCTAssertThrowsError(try ds.category(named: "giraffe")) { e in
            XCTAssertEqual(e as? COCOError, .unknownCategory(file: "c.json", name: "giraffe"))
        }
    }
}
