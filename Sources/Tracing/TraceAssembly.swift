import Foundation
import Imaging
import Interventions
import Models

/// Slices of one step's generating rows [L, H, K]: the image tokens [L, H, N] and the masses
/// [L, H, 3] on (first token, image tokens, other text tokens).
func imageSliceAndMass(_ rows: [Float], layers L: Int, heads H: Int, keys K: Int, span: Range<Int>) -> (image: [Float], mass: [Float]) {
    var image = [Float](repeating: 0, count: L * H * span.count)
    var mass = [Float](repeating: 0, count: L * H * 3)
    for r in 0..<(L * H) {
        let base = r * K
        var img: Float = 0, total: Float = 0
        for (i, j) in span.enumerated() { let a = rows[base + j]; image[r * span.count + i] = a; img += a }
        for j in 0..<K { total += rows[base + j] }
        let sink = span.contains(0) ? 0 : rows[base]
        mass[r * 3] = sink
        mass[r * 3 + 1] = img
        mass[r * 3 + 2] = total - img - sink
    }
    return (image, mass)
}

/// Builds the trace tensors and the manifest of an outcome.
public func assembleTrace(_ outcome: TraceOutcome, checkpoint ckpt: LoadedCheckpoint, imageFile: URL,
                          prompt: PromptSpec, options: [String: String], padToSquare: Bool) throws -> (TraceWriter, TraceManifest) {
    var w = TraceWriter()
    let layout = outcome.result.layout
    let cfg = ckpt.model.config
    let L = cfg.text.numHiddenLayers, H = cfg.text.numAttentionHeads
    let span = layout.image.range, N = span.count
    try w.add(.inputIds, shape: [layout.inputIds.count], ints: layout.inputIds)
    try w.add(.generatedIds, shape: [outcome.result.steps.count], ints: outcome.result.generatedIds)
    for (s, step) in outcome.result.steps.enumerated() {
        try w.add(.stepLogits(step: s), shape: [step.logits.count], floats: step.logits)
        let keys = outcome.recorder.keyCounts[s]
        let rows = outcome.recorder.attention[s]
        if outcome.options.fullRows {
            try w.add(.stepAttention(step: s), shape: [L, H, keys], floats: rows)
        }
        let postSlices = imageSliceAndMass(rows, layers: L, heads: H, keys: keys, span: span)
        if let pre = outcome.preRecorder {
            let preSlices = imageSliceAndMass(pre.attention[s], layers: L, heads: H, keys: keys, span: span)
            try w.add(.imageAttention(step: s, stage: .pre), shape: [L, H, N], floats: preSlices.image)
            try w.add(.attentionMass(step: s, stage: .pre), shape: [L, H, 3], floats: preSlices.mass)
        }
        try w.add(.imageAttention(step: s, stage: .post), shape: [L, H, N], floats: postSlices.image)
        try w.add(.attentionMass(step: s, stage: .post), shape: [L, H, 3], floats: postSlices.mass)
        if let clvs = outcome.clvs, clvs.records.indices.contains(s) {
            let rec = clvs.records[s]
            try w.add(.clvsMemory(step: s), shape: [L, N], floats: rec.memoryAfterLayer.flatMap { $0.isEmpty ? [Float](repeating: .nan, count: N) : $0 })
            try w.add(.clvsStopLayer(step: s), shape: [], ints: [rec.stopLayer ?? -1])
            try w.add(.clvsUncertainty(step: s), shape: [L], floats: rec.uncertainty)
        }
        if let lens = outcome.lens, lens.steps.indices.contains(s) {
            let st = lens.steps[s]
            try w.add(.lensUncertainty(step: s), shape: [L], floats: st.uncertainty)
            try w.add(.lensEntropy(step: s), shape: [L], floats: st.entropy)
            try w.add(.lensTopIds(step: s), shape: [L, lens.topK], ints: st.topIds)
            try w.add(.lensTopProbs(step: s), shape: [L, lens.topK], floats: st.topProbs)
        }
    }
    if let prefill = outcome.prefill, !prefill.layers.isEmpty {
        let sh = prefill.shape
        let all = (0..<L).flatMap { prefill.layers[$0] ?? [Float](repeating: .nan, count: sh.heads * sh.queries * sh.keys) }
        try w.add(.prefillAttention, shape: [L, sh.heads, sh.queries, sh.keys], floats: all)
    }
    if let vision = outcome.vision {
        for l in vision.layers.keys.sorted() {
            let sh = vision.shape
            try w.add(.visionAttention(layer: l), shape: [sh.heads, sh.queries, sh.keys], floats: vision.layers[l] ?? [])
        }
    }
    let question: String?
    let template: String
    switch prompt {
    case let .question(q): question = q; template = "llava15"
    case .raw: question = nil; template = "raw"
    }
    var clvsConfig: CLVSConfig?
    if case let .clvs(c) = outcome.method { clvsConfig = c }
    var manifest = TraceManifest(
        model: .init(directory: ckpt.model.directory.path, modelType: "llava", weightLayout: ckpt.model.weightLayout.rawValue,
                     textLayers: L, textHeads: H, textKeyValueHeads: cfg.text.numKeyValueHeads, vocabSize: cfg.text.vocabSize,
                     visionLayers: cfg.vision.numHiddenLayers, imageSize: cfg.vision.imageSize, patchSize: cfg.vision.patchSize),
        prompt: .init(template: template, question: question, text: outcome.promptText),
        image: .init(file: imageFile.path, padToSquare: padToSquare, geometry: outcome.geometry),
        inputLength: layout.inputIds.count, imageSpan: layout.image, options: options,
        answer: outcome.answer, generatedIds: outcome.result.generatedIds, keys: [])
    manifest.method = .init(name: outcome.method.name, clvs: clvsConfig)
    manifest.model.precision = ckpt.model.precision.rawValue
    manifest.record = outcome.options
    return (w, manifest)
}

/// Writes an outcome's trace to `directory`, with the standard figures unless `figures` is false
/// (all in one atomic rename). Returns the names of the files written.
@discardableResult
public func writeTrace(_ outcome: TraceOutcome, checkpoint ckpt: LoadedCheckpoint, imageFile: URL,
                       prompt: PromptSpec, options: [String: String], padToSquare: Bool, figures: Bool = true,
                       keyObject: KeyObject? = nil, headsOfLayers: [Int] = [], force: Bool = false,
                       to directory: URL) throws -> [String] {
    let (files, _) = try traceFiles(outcome, checkpoint: ckpt, imageFile: imageFile, prompt: prompt, options: options,
                                    padToSquare: padToSquare, figures: figures, keyObject: keyObject, headsOfLayers: headsOfLayers)
    try commitDirectory(directory, force: force) { tmp in
        for (name, data) in files { try data.write(to: tmp.appendingPathComponent(name)) }
    }
    return files.map(\.0)
}

/// The files of one trace directory (trace.safetensors, trace.json, figures) and its view.
public func traceFiles(_ outcome: TraceOutcome, checkpoint ckpt: LoadedCheckpoint, imageFile: URL,
                       prompt: PromptSpec, options: [String: String], padToSquare: Bool, figures: Bool = true,
                       keyObject: KeyObject? = nil, headsOfLayers: [Int] = []) throws -> ([(String, Data)], TraceView) {
    let (w, manifest) = try assembleTrace(outcome, checkpoint: ckpt, imageFile: imageFile, prompt: prompt,
                                          options: options, padToSquare: padToSquare)
    let view = TraceView(outcome: outcome, manifest: manifest)
    var files = try w.files(manifest: manifest)
    if figures { files += try standardFigures(view, image: outcome.image, keyObject: keyObject, headsOfLayers: headsOfLayers) }
    return (files, view)
}
