import Foundation

/// How two objects of a scene relate spatially (from their pixel masks).
public enum Contact: String, Sendable, Codable {
    case touching, apart
}

/// Draws scenes from the world's priors.
public struct SceneSampler: Sendable {
    public var parameters: WorldParameters

    public init(parameters: WorldParameters = WorldParameters()) { self.parameters = parameters }

    /// The shapes of a new scene: a count, then shapes without replacement, weighted by the
    /// priors and their affinity with the shapes already drawn.
    func sampleShapes(_ g: inout SplitMix64) -> [ShapeKind] {
        let pr = parameters.priors
        let n = g.pick(weights: pr.objectCountWeights) + 1
        var chosen: [ShapeKind] = []
        while chosen.count < min(n, ShapeKind.allCases.count) {
            let candidates = ShapeKind.allCases.filter { !chosen.contains($0) }
            let w = candidates.map { s -> Double in
                var v = pr.shapeWeight[s] ?? 0
                for c in chosen { v *= pr.affinity[[s, c]] ?? 1 }
                return v
            }
            chosen.append(candidates[g.pick(weights: w)])
        }
        return chosen
    }

    func sampleColor(_ shape: ShapeKind, _ g: inout SplitMix64) -> ShapeColor {
        let pr = parameters.priors
        let fav = pr.favouriteColor[shape]
        if let fav, g.unit() < pr.favouriteColorProbability { return fav }
        let others = ShapeColor.allCases.filter { $0 != fav }
        return others[g.int(0, others.count - 1)]
    }

    /// One scene from the stream `g`.
    public func sample(_ g: inout SplitMix64) -> Scene {
        let p = parameters
        let w = p.width, h = p.height
        let shapes = sampleShapes(&g)
        var objects: [SceneObject] = []
        var masks: [[Bool]] = []
        for shape in shapes {
            let color = sampleColor(shape, &g)
            let size: SizeClass = g.unit() < 0.5 ? .small : .large
            let range = size == .small ? p.smallRadius : p.largeRadius
            let jitter = (0..<3).map { _ in g.uniform(-18, 18) }
            let (cr, cg, cb) = color.rgb
            let fill = [cr + jitter[0], cg + jitter[1], cb + jitter[2]]
            let wantTouch = !objects.isEmpty && g.unit() < p.priors.touchProbability
            for attempt in 0..<60 {
                let r = g.uniform(range.lowerBound, range.upperBound)
                var cx: Double, cy: Double
                if wantTouch && attempt < 40 {
                    // Walk in from far away along a random direction until the masks touch.
                    let ai = g.int(0, objects.count - 1)
                    let anchor = objects[ai]
                    let theta = g.uniform(0, 2 * Double.pi)
                    var d = anchor.radius + r + 1.5
                    var found: (Double, Double)? = nil
                    while d > 0 {
                        let x = anchor.centerX + d * cos(theta), y = anchor.centerY + d * sin(theta)
                        let poly = SceneObject.polygon(shape, cx: x, cy: y, r: r)
                        let m = PolygonCoverage.mask(PolygonCoverage.coverage(poly, width: w, height: h))
                        if contactOrAmbiguous(m, masks[ai]) == .touching {
                            found = (x, y)
                            break
                        }
                        d -= 0.5
                    }
                    guard let f = found else { continue }
                    (cx, cy) = f
                } else {
                    cx = g.uniform(r + 2, Double(w) - r - 2)
                    cy = g.uniform(r + 2, Double(h) - r - 2)
                }
                if cx < r + 1 || cy < r + 1 || cx > Double(w) - r - 1 || cy > Double(h) - r - 1 { continue }
                let poly = SceneObject.polygon(shape, cx: cx, cy: cy, r: r)
                let m = PolygonCoverage.mask(PolygonCoverage.coverage(poly, width: w, height: h))
                let area = m.reduce(0) { $0 + ($1 ? 1 : 0) }
                if area < 20 { continue }
                var ok = true
                for other in masks {
                    guard let c = contactOrAmbiguous(m, other) else { ok = false; break }
                    if c == .touching {
                        let inter = zip(m, other).reduce(0) { $0 + ($1.0 && $1.1 ? 1 : 0) }
                        let otherArea = other.reduce(0) { $0 + ($1 ? 1 : 0) }
                        if Double(inter) > p.maxOverlap * Double(min(area, otherArea)) { ok = false; break }
                    }
                }
                if !ok { continue }
                objects.append(SceneObject(shape: shape, color: color, size: size, centerX: cx, centerY: cy, radius: r,
                                           fill: fill, polygon: poly))
                masks.append(m)
                break
            }
        }
        let kind = BackgroundKind.allCases[g.int(0, BackgroundKind.allCases.count - 1)]
        let gray = g.uniform(25, 150)
        let base = (0..<3).map { _ in max(0, gray + g.uniform(-22, 22)) }
        let offset = g.uniform(-55, 55)
        let other = base.map { max(0, min(255, $0 + offset + g.uniform(-10, 10))) }
        let params = [base[0], base[1], base[2], g.uniform(0.6, 1), g.uniform(6, 22), g.uniform(0, Double.pi),
                      g.uniform(3, 20), other[0], other[1], other[2]]
        return Scene(width: w, height: h, background: kind, backgroundParameters: params, objects: objects, noiseSeed: g.next())
    }

    /// Touching, apart, or nil when the gap is between 1 pixel and `apartGap` (ambiguous).
    func contactOrAmbiguous(_ a: [Bool], _ b: [Bool]) -> Contact? {
        let w = parameters.width, h = parameters.height
        let near = PolygonCoverage.dilate(a, width: w, height: h, by: 1)
        if zip(near, b).contains(where: { $0 && $1 }) { return .touching }
        let far = PolygonCoverage.dilate(a, width: w, height: h, by: parameters.apartGap)
        if zip(far, b).contains(where: { $0 && $1 }) { return nil }
        return .apart
    }

    /// The contact of two objects of a scene sampled with these parameters.
    public func contact(_ a: SceneObject, _ b: SceneObject) -> Contact? {
        let w = parameters.width, h = parameters.height
        let ma = PolygonCoverage.mask(PolygonCoverage.coverage(a.polygon, width: w, height: h))
        let mb = PolygonCoverage.mask(PolygonCoverage.coverage(b.polygon, width: w, height: h))
        return contactOrAmbiguous(ma, mb)
    }
}
