/// Frozen facts of the shapes world at the held-out seed (1), scenes 0-3 (checked against the
/// images `clvs-trace synth benchmark --seed 1` wrote when the shipped model was trained).
enum ShapesWorldGolden {
    static let heldOutNames = [
        "blue square+green circle+red star",
        "blue triangle+blue square+orange circle+purple star+green cross",
        "red circle+purple cross",
        "green triangle",
    ]
    static let heldOutPixelsSHA256 = "dba8b098b2a3f7dd7ea28a2f4514308841fe06cca425621f8b84ce9956609979"
}
