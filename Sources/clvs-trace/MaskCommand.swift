import Analysis
import ArgumentParser
import Foundation

/// `clvs-trace mask`: a COCO key-object mask as a PNG, and optionally its coverage of the
/// model's patch grid as CSV. Prints a JSON summary.
struct MaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mask",
        abstract: "Write a COCO mask (category union or one annotation) as an 8-bit PNG, and its per-patch coverage as CSV.",
        discussion: """
        Without --category or --annotation-id, the union of all annotations of the image is written. \
        With --grid, the mask follows the image's preprocessing (optional --pad-to-square, resize of the \
        shortest edge to --resize-shortest, centre --crop) and each patch's covered fraction is written \
        to --grid-csv. Output pixels are sampled at their centres (see Analysis.MaskMapping).
        """
    )

    @Option(name: .long, help: "COCO instances JSON file.")
    var annotations: String

    @Option(name: .customLong("image-id"), help: "COCO image id.")
    var imageID: Int

    @Option(name: .long, help: "Object name (COCO category, or a POPE/AMBER name: plurals and synonyms are mapped).")
    var category: String?

    @Option(name: .customLong("annotation-id"), help: "Write only this annotation's mask.")
    var annotationID: Int?

    @Option(name: .long, help: "Output PNG (0 and 255, the image's size).")
    var out: String

    @Option(name: .long, help: "Patch grid COLUMNSxROWS of the image token span, e.g. 24x24.")
    var grid: String?

    @Option(name: .customLong("grid-csv"), help: "Output CSV of per-patch coverage (default: the PNG path with .grid.csv).")
    var gridCSV: String?

    @Option(name: .customLong("image-size"), help: "Original image size WIDTHxHEIGHT, if the image is not in the annotations.")
    var imageSize: String?

    @Option(name: .customLong("resize-shortest"), help: "Resize the shortest edge to N pixels (default: the crop's shorter side).")
    var resizeShortest: Int?

    @Option(name: .long, help: "Centre crop WIDTHxHEIGHT (e.g. 336x336). Without it and without --resize-shortest the grid lies on the original image.")
    var crop: String?

    @Flag(name: .customLong("pad-to-square"), help: "Pad to a square first (LLaVA's image_aspect_ratio=pad).")
    var padToSquare = false

    func run() throws {
        let request = MaskRequest(
            imageID: imageID, category: category, annotationID: annotationID,
            imageSize: try imageSize.map { try PixelSize(parsing: $0, option: "--image-size") },
            grid: try grid.map { try PixelSize(parsing: $0, option: "--grid") }.map { PatchGrid(columns: $0.width, rows: $0.height) },
            padToSquare: padToSquare, shortestEdge: resizeShortest,
            crop: try crop.map { try PixelSize(parsing: $0, option: "--crop") })
        let result = try MaskResult(dataset: try COCODataset(contentsOf: URL(fileURLWithPath: annotations)), request: request)
        try MaskExport.writePNG(result.rle, to: URL(fileURLWithPath: out))
        if let coverage = result.coverage {
            let csvPath = gridCSV ?? URL(fileURLWithPath: out).deletingPathExtension().appendingPathExtension("grid.csv").path
            try MaskExport.writeAtomically(MaskExport.coverageCSV(coverage), to: URL(fileURLWithPath: csvPath))
        }
        print(try result.summary.json())
    }
}
