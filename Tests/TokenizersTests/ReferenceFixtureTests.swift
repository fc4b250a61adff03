import Foundation
import XCTest
import JSONCore
@testable import Tokenizers

/// Compares encode/decode against outputs of the Rust `tokenizers` library (Python binding),
/// stored in Fixtures/reference.json by Fixtures/make_reference.py.
final class ReferenceFixtureTests: XCTestCase {
    struct Case {
        let text: String
        let idsSpecial: [Int]
        let idsPlain: [Int]
        let decodeSkip: String
        let decodeKeep: String
        let decodePlainKeep: String
    }

    static let reference: Result<[String: Any], Error> = Result {
        let data = try Data(contentsOf: fixturesURL.appendingPathComponent("reference.json"))
        guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NSError(domain: "reference", code: 1)
        }
        return obj
    }

    func cases(_ raw: Any?) throws -> [Case] {
        let list = try XCTUnwrap(raw as? [[String: Any]])
        return try list.map { c in
            Case(text: try XCTUnwrap(c["text"] as? String),
                 idsSpecial: try XCTUnwrap(c["ids_special"] as? [Int]),
                 idsPlain: try XCTUnwrap(c["ids_plain"] as? [Int]),
                 decodeSkip: try XCTUnwrap(c["decode_skip"] as? String),
                 decodeKeep: try XCTUnwrap(c["decode_keep"] as? String),
                 decodePlainKeep: try XCTUnwrap(c["decode_plain_keep"] as? String))
        }
    }

    /// Checks every case; returns (cases, cases whose decode(encode(s)) == s).
    @discardableResult
    func check(_ tok: Tokenizer, _ cases: [Case], label: String) -> (Int, Int) {
        var roundTrips = 0
        var failures = 0
        for c in cases {
            let special = tok.encode(c.text, addSpecialTokens: true)
            let plain = tok.encode(c.text, addSpecialTokens: false)
            if special != c.idsSpecial || plain != c.idsPlain { failures += 1 }
            XCTAssertEqual(special, c.idsSpecial, "\(label): encode \(c.text.debugDescription)")
            XCTAssertEqual(plain, c.idsPlain, "\(label): encode without specials \(c.text.debugDescription)")
            let skip = tok.decode(c.idsSpecial, skipSpecialTokens: true)
            XCTAssertSameScalars(skip, c.decodeSkip, "\(label): decode \(c.idsSpecial)")
            XCTAssertSameScalars(tok.decode(c.idsSpecial, skipSpecialTokens: false), c.decodeKeep, "\(label): decode keep \(c.idsSpecial)")
            XCTAssertSameScalars(tok.decode(c.idsPlain, skipSpecialTokens: false), c.decodePlainKeep, "\(label): decode keep \(c.idsPlain)")
            if Array(c.decodeSkip.unicodeScalars) == Array(c.text.unicodeScalars) {
                roundTrips += 1
                XCTAssertSameScalars(tok.decode(tok.encode(c.text)), c.text)
            }
        }
        XCTAssertEqual(failures, 0, "\(label): \(failures) encode mismatches")
        return (cases.count, roundTrips)
    }

    func testEncodeDecodeMatchesRustLibrary() throws {
        let ref = try Self.reference.get()
        let tok = try Shared.llava.get()
        let all = try cases(ref["cases"])
        XCTAssertEqual(all.count, 403)
        let (n, roundTrips) = check(tok, all, label: "llava")
        // Most strings survive a round trip; the library itself loses e.g. leading spaces and <unk>.
        XCTAssertGreaterThan(roundTrips, n / 2)
        print("reference: \(n) strings, \(roundTrips) round-trip exactly")
    }

    func testDecodeOfArbitraryIdsMatchesRustLibrary() throws {
        let ref = try Self.reference.get()
        let tok = try Shared.llava.get()
        let list = try XCTUnwrap(ref["decode_cases"] as? [[String: Any]])
        XCTAssertEqual(list.count, 150)
        for c in list {
            let ids = try XCTUnwrap(c["ids"] as? [Int])
            XCTAssertSameScalars(tok.decode(ids, skipSpecialTokens: true), try XCTUnwrap(c["skip"] as? String), "decode \(ids)")
            XCTAssertSameScalars(tok.decode(ids, skipSpecialTokens: false), try XCTUnwrap(c["keep"] as? String), "decode keep \(ids)")
        }
        // Negative and huge ids are ignored like unknown ones.
        XCTAssertEqual(tok.decode([-5, 15043, Int.max]), "Hello")
    }

    /// Variants of the fixture tokenizer.json (added-token flags, Metaspace pre-tokenizer), built by
    /// replacing top-level members exactly as the generator did.
    func testVariantsMatchRustLibrary() throws {
        let ref = try Self.reference.get()
        let variantsData = try JSONSerialization.data(withJSONObject: try XCTUnwrap(ref["variants"]))
        let variants = try parseJSON(variantsData, file: "variants")
        guard case .object(let variantList) = variants else { return XCTFail("variants must be an object") }
        guard case .object(let baseMembers) = try Shared.llavaJSON.get() else { return XCTFail("tokenizer.json must be an object") }
        let variantCases = try XCTUnwrap(ref["variant_cases"] as? [String: Any])
        XCTAssertEqual(variantList.count, 5)
        for v in variantList {
            let name = String(decoding: v.key, as: UTF8.self)
            guard case .object(let overrides) = v.value else { return XCTFail("variant \(name) must be an object") }
            var members = baseMembers
            for o in overrides {
                let idx = try XCTUnwrap(members.firstIndex { $0.key == o.key })
                members[idx] = JSONMember(key: o.key, value: o.value)
            }
            let tok = try Tokenizer(json: JSONCursor(.object(members), file: "variant \(name)"), config: nil)
            let list = try cases(variantCases[name])
            XCTAssertEqual(list.count, 57 + 11 + 80)
            check(tok, list, label: name)
        }
    }
}
