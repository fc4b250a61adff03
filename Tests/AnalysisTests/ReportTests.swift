@testable import Analysis
import XCTest

final class ReportTests: XCTestCase {
    func testCSVParsing() throws {
        let t = try CSVTable(text: "U,converged,\"note, quoted\"\r\n0.5,1,\"a \"\"b\"\"\"\n\n0.25,false,x\n", file: "t.csv")
        XCTAssertEqual(t.header, ["U", "converged", "note, quoted"])
        XCTAssertEqual(t.rows.count, 2)
        XCTAssertEqual(t.rows[0][2], "a \"b\"")
        XCTAssertEqual(try t.numericColumn("U"), [0.5, 0.25])
        XCTAssertEqual(try t.numericColumn("converged"), [1, 0])
        XCTAssertEqual(t.lineNumbers, [2, 4])
        XCTAssertThrowsError(try t.numericColumn("note, quoted")) { e in
            XCTAssertEqual(e as? TableError, .notANumber(file: "t.csv", line: 2, column: "note, quoted", value: "a \"b\""))
        }
        XCTAssertThrowsError(try t.numericColumn("V")) { e in
            guard case .missingColumn("t.csv", "V", _)? = e as? TableError else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try CSVTable(text: "a,b\n1\n", file: "r.csv")) { e in
            XCTAssertEqual(e as? TableError, .raggedRow(file: "r.csv", line: 2, fields: 1, expected: 2))
        }
        XCTAssertThrowsError(try CSVTable(text: "a\n\"1\n", file: "q.csv"))
        XCTAssertThrowsError(try CSVTable(text: "", file: "e.csv"))
    }

    func testBinaryOutcomeReportJSON() throws {
        let x = [0.9, 0.8, 0.75, 0.7, 0.6, 0.5, 0.45, 0.4, 0.3, 0.2, 0.1, 0.65]
        let y: [Double] = [0, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1]
        let report = try BinaryOutcomeReport.compute(x: x, y: y, xName: "U", yName: "converged")
        XCTAssertEqual(report.n, 12)
        XCTAssertLessThan(report.pointBiserial.r, 0)
        XCTAssertEqual(report.logistic.status, .converged)
        XCTAssertEqual(report.logistic.names, ["const", "U"])
        let json = try report.json()
        let back = try JSONDecoder().decode(BinaryOutcomeReport.self, from: Data(json.utf8))
        XCTAssertEqual(back, report)
        XCTAssertTrue(json.contains("\"xAtHalf\""))
        // the same numbers through the CSV path
        var csv = "U,converged\n"
        for (a, b) in zip(x, y) { csv += "\(a),\(Int(b))\n" }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ana-report-\(UUID().uuidString).csv")
        try MaskExport.writeAtomically(csv, to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try BinaryOutcomeReport.compute(csv: url, xColumn: "U", yColumn: "converged"), report)
    }

    func testCoverageCSV() throws {
        let cov = PatchCoverage(grid: PatchGrid(columns: 2, rows: 1), coveredPixels: [1, 0], patchPixels: [4, 4])
        XCTAssertEqual(MaskExport.coverageCSV(cov),
                       "patch,row,column,covered_pixels,patch_pixels,covered_fraction,any_pixel\n0,0,0,1,4,0.25,1\n1,0,1,0,4,0.0,0\n")
        let rle = try RLE(mask: [1, 0, 0, 1], height: 2, width: 2)
        XCTAssertEqual(MaskExport.grayImage(rle), [255, 0, 0, 255])
    }
}
