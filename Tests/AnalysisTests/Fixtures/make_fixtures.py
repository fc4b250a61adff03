#!/usr/bin/env python3
"""Generates the reference fixtures of AnalysisTests (run once; tests never run Python).

    python3 make_fixtures.py            # writes stats_fixtures.json and grid_fixture.json here

Needs numpy, scipy, statsmodels, pycocotools. Versions used are recorded in the outputs.

stats_fixtures.json
  betainc        rows [a, b, x, scipy.special.betainc(a, b, x), reference]: a grid of a, b (1e-3 .. 1e5) and
                 x (0, 1e-300 .. 1-1e-10, 1), plus points around the mean for large a, b. `reference` is the
                 same function evaluated with mpmath at 60 significant digits (continued fraction on the
                 fast side, exact log-gamma prefactor), rounded to double: scipy itself is off by up to
                 1.8e-12 at a few extreme points (e.g. a = 10, b = 1e5 near the mean).
  t_sf           scipy.stats.t.sf(t, df).
  pearson        scipy.stats.pearsonr on several data sets (random, ties, n = 3, strong, weak, large n;
                 constant input -> scipy gives NaN, recorded as "constant").
  pointbiserial  scipy.stats.pointbiserialr(binary, continuous), same kinds of data sets.
  logit          statsmodels Logit(y, add_constant(X)).fit(method="newton"): params, bse, z, p, llf, llnull;
                 separated samples record statsmodels' warnings and the status we expect.
  bootstrap      an independent Python implementation of SplitMix64 / xoshiro256** / Lemire's bounded
                 draw, the percentile bootstrap of the mean, and raw generator outputs.
  histogram      numpy.histogram counts.

raster_fixture.json
  pycocotools frPyObjects on random polygons (convex, self-intersecting, partly outside the image, with
  repeated vertices, negative and fractional coordinates), on boxes (as an ndarray), and merge with
  intersect=1 / 0 of random polygon pairs: the compressed strings.

grid_fixture.json
  The union mask of 'truck' in COCO image 172648 (pycocotools annToMask), mapped to the model input of
  three preprocessing geometries and counted per patch with numpy. Mapping rule (same as
  Analysis.MaskMapping): output pixel (x, y) takes the original pixel (floor(ox), floor(oy)) with
  ox = ((x + 0.5) + cropX) * (preResizeW / resizedW) - padOffsetX (same for y), 0 outside the original.
"""
import json
import math
import os
import warnings

import mpmath
import numpy as np
import scipy
import scipy.special as sc
import scipy.stats as st
import statsmodels
import statsmodels.api as sm
import pycocotools
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

HERE = os.path.dirname(os.path.abspath(__file__))


def write_json(name, obj):
    path = os.path.join(HERE, name)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=None, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, path)


def fl(v):
    return [float(t) for t in v]


# ---------------------------------------------------------------- betainc, t
def betainc_reference(a, b, x):
    """I_x(a, b) at 60 digits: Lentz continued fraction on the side x < (a+1)/(a+b+2)."""
    with mpmath.workdps(60):
        a, b, x = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(x)
        y = 1 - x
        if x == 0:
            return 0.0
        if y == 0:
            return 1.0

        def cf(a, b, x):
            tiny, eps = mpmath.mpf(10) ** -200, mpmath.mpf(10) ** -45
            c, d = mpmath.mpf(1), 1 - (a + b) * x / (a + 1)
            d = 1 / (tiny if abs(d) < tiny else d)
            h, m = d, 1
            while True:
                for aa in (m * (b - m) * x / ((a - 1 + 2 * m) * (a + 2 * m)),
                           -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 1 + 2 * m))):
                    d = 1 + aa * d
                    d = 1 / (tiny if abs(d) < tiny else d)
                    c = 1 + aa / c
                    c = tiny if abs(c) < tiny else c
                    h *= d * c
                if abs(d * c - 1) < eps:
                    return h
                m += 1

        lbeta = mpmath.loggamma(a) + mpmath.loggamma(b) - mpmath.loggamma(a + b)
        front = mpmath.exp(a * mpmath.log(x) + b * mpmath.log(y) - lbeta)
        if x < (a + 1) / (a + b + 2):
            return float(front * cf(a, b, x) / a)
        return float(1 - front * cf(b, a, y) / b)


def betainc_cases():
    shapes = [1e-3, 0.05, 0.5, 1.0, 2.5, 7.9, 8.0, 33.3, 100.0, 1e4, 1e5]
    xs = [0.0, 1e-300, 1e-100, 1e-10, 1e-4, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.9999, 1 - 1e-10, 1.0]
    out = []
    for a in shapes:
        for b in shapes:
            for x in xs:
                out.append([a, b, x, float(sc.betainc(a, b, x)), betainc_reference(a, b, x)])
    # around the mean for large shapes (where the function is steep)
    for a in [10.0, 33.3, 100.0, 1e3, 1e4, 1e5]:
        for b in [10.0, 100.0, 1e4, 1e5]:
            m = a / (a + b)
            sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
            for k in [-3, -1, -0.1, 0, 0.1, 1, 3]:
                x = m + k * sd
                if 0 < x < 1:
                    out.append([a, b, x, float(sc.betainc(a, b, x)), betainc_reference(a, b, x)])
    # t-test shapes (df/2, 1/2) at small x
    for df in [1, 2, 5, 28, 498, 1e4]:
        for x in [1e-30, 1e-8, 1e-3, 0.2, 0.6, 0.97]:
            out.append([df / 2, 0.5, x, float(sc.betainc(df / 2, 0.5, x)), betainc_reference(df / 2, 0.5, x)])
    return out


def t_cases():
    out = []
    for df in [1.0, 2.0, 3.0, 5.5, 10.0, 30.0, 100.0, 1e4]:
        for t in [-50.0, -5.0, -2.0, -0.5, 0.0, 0.3, 1.0, 2.5, 4.0, 10.0, 100.0, 1e4]:
            out.append([t, df, float(st.t.sf(t, df))])
    return out


# ---------------------------------------------------------------- correlations
def correlation_sets(rng):
    sets = []
    x = rng.normal(size=50)
    sets.append(("random_n50", x, 0.5 * x + rng.normal(size=50)))
    xt = rng.integers(0, 5, size=40).astype(float)
    sets.append(("ties_n40", xt, rng.integers(0, 3, size=40).astype(float) + 0.3 * xt))
    sets.append(("n3", np.array([1.0, 2.0, 4.0]), np.array([2.0, 1.0, 5.0])))
    sets.append(("n3_b", np.array([0.1, 0.7, 0.2]), np.array([3.0, -1.0, 2.5])))
    xs = rng.uniform(size=30)
    sets.append(("strong_n30", xs, 2 * xs + 0.05 * rng.normal(size=30)))
    xw = rng.normal(size=2000)
    sets.append(("weak_n2000", xw, 0.05 * xw + rng.normal(size=2000)))
    xn = rng.normal(size=200)
    sets.append(("negative_n200", xn, -0.3 * xn + rng.normal(size=200)))
    sets.append(("constant_x", np.full(10, 3.0), rng.normal(size=10)))
    return sets


def pearson_cases(rng):
    out = []
    for name, x, y in correlation_sets(rng):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = st.pearsonr(x, y)
        if math.isnan(r.statistic):
            out.append({"name": name, "x": fl(x), "y": fl(y), "error": "constant"})
        else:
            out.append({"name": name, "x": fl(x), "y": fl(y), "r": float(r.statistic), "p": float(r.pvalue)})
    return out


def pointbiserial_cases(rng):
    out = []
    sets = []
    b = rng.integers(0, 2, size=100).astype(float)
    sets.append(("random_n100", b, rng.normal(size=100) + 0.4 * b))
    bt = rng.integers(0, 2, size=60).astype(float)
    sets.append(("ties_n60", bt, rng.integers(0, 4, size=60).astype(float) / 4 + 0.2 * bt))
    sets.append(("n3", np.array([0.0, 1.0, 1.0]), np.array([0.2, 0.5, 0.9])))
    bs = np.array([0.0] * 10 + [1.0] * 10)
    sets.append(("separated_n20", bs, np.concatenate([rng.uniform(0, 0.4, 10), rng.uniform(0.6, 1, 10)])))
    bu = rng.integers(0, 2, size=500).astype(float)
    sets.append(("uncertainty_n500", bu, np.clip(rng.normal(0.6 - 0.25 * bu, 0.2), 0, 1)))
    sets.append(("constant_binary", np.ones(12), rng.normal(size=12)))
    for name, bb, x in sets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = st.pointbiserialr(bb, x)
        if math.isnan(r.statistic):
            out.append({"name": name, "binary": fl(bb), "x": fl(x), "error": "constant"})
        else:
            out.append({"name": name, "binary": fl(bb), "x": fl(x), "r": float(r.statistic), "p": float(r.pvalue)})
    return out


# ---------------------------------------------------------------- logistic regression
def logit_cases(rng):
    sets = []
    x = rng.uniform(size=200)
    p = 1 / (1 + np.exp(-(3 - 6 * x)))
    sets.append(("random_n200", [x], (rng.uniform(size=200) < p).astype(float), "converged"))
    xt = rng.integers(0, 5, size=80).astype(float) / 4
    pt = 1 / (1 + np.exp(-(-1 + 2.5 * xt)))
    sets.append(("ties_n80", [xt], (rng.uniform(size=80) < pt).astype(float), "converged"))
    sets.append(("n3", [np.array([1.0, 2.0, 4.0])], np.array([1.0, 0.0, 1.0]), "converged"))
    sets.append(("n5_overlap", [np.array([0.1, 0.4, 0.35, 0.8, 0.6])], np.array([0.0, 0.0, 1.0, 1.0, 0.0]), "converged"))
    xu = np.clip(rng.normal(0.5, 0.2, size=500), 0, 1)
    pu = 1 / (1 + np.exp(-(4 - 9 * xu)))
    sets.append(("uncertainty_n500", [xu], (rng.uniform(size=500) < pu).astype(float), "converged"))
    x1 = rng.normal(size=300)
    x2 = rng.uniform(size=300)
    pm = 1 / (1 + np.exp(-(0.3 + 1.2 * x1 - 2.0 * x2)))
    sets.append(("two_features_n300", [x1, x2], (rng.uniform(size=300) < pm).astype(float), "converged"))
    x3 = rng.normal(size=150)
    pm3 = 1 / (1 + np.exp(-(-0.5 + 0.8 * x1[:150] + 0.5 * x2[:150] - 0.7 * x3)))
    sets.append(("three_features_n150", [x1[:150], x2[:150], x3], (rng.uniform(size=150) < pm3).astype(float), "converged"))
    sets.append(("complete_separation", [np.array([1.0, 2, 3, 4, 5, 6])], np.array([0.0, 0, 0, 1, 1, 1]), "completeSeparation"))
    sets.append(("complete_separation_reversed", [np.array([0.9, 0.8, 0.7, 0.2, 0.1])], np.array([0.0, 0, 0, 1, 1]), "completeSeparation"))
    sets.append(("quasi_separation", [np.array([1.0, 2, 3, 3, 5, 6])], np.array([0.0, 0, 0, 1, 1, 1]), "quasiCompleteSeparation"))
    s1 = rng.uniform(size=40)
    s2 = rng.uniform(size=40)
    sets.append(("two_features_complete_separation", [s1, s2], (s1 + s2 > 1).astype(float), "completeSeparation"))
    sets.append(("constant_x", [np.full(8, 0.5)], np.array([0.0, 1, 0, 1, 1, 0, 1, 0]), "error_constant"))
    out = []
    for name, feats, y, expect in sets:
        entry = {"name": name, "features": [fl(f) for f in feats], "y": fl(y), "expect": expect}
        if expect == "converged":
            X = sm.add_constant(np.column_stack(feats), has_constant="add")
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                res = sm.Logit(y, X).fit(method="newton", maxiter=100, tol=1e-12, disp=0)
            assert res.mle_retvals["converged"], name
            entry.update({
                "params": fl(res.params), "bse": fl(res.bse), "z": fl(res.tvalues), "p": fl(res.pvalues),
                "llf": float(res.llf), "llnull": float(res.llnull),
                "warnings": [str(x.category.__name__) for x in w],
            })
            if len(feats) == 1:
                entry["x_at_half"] = float(-res.params[0] / res.params[1])
        elif expect != "error_constant":
            X = sm.add_constant(np.column_stack(feats), has_constant="add")
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                res = sm.Logit(y, X).fit(method="newton", maxiter=100, disp=0)
            entry["statsmodels_warnings"] = sorted({str(x.category.__name__) for x in w})
            entry["statsmodels_converged"] = bool(res.mle_retvals["converged"])
        out.append(entry)
    return out


# ---------------------------------------------------------------- bootstrap (independent implementation)
M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


class Xoshiro256ss:
    def __init__(self, seed):
        sm_ = SplitMix64(seed)
        self.s = [sm_.next() for _ in range(4)]

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def index(self, n):
        m = self.next() * n
        lo = m & M64
        if lo < n:
            thr = ((1 << 64) - n) % n
            while lo < thr:
                m = self.next() * n
                lo = m & M64
        return m >> 64


def quantile_linear(sorted_vals, q):
    h = (len(sorted_vals) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (h - lo) * (sorted_vals[hi] - sorted_vals[lo])


def bootstrap_case(rng):
    assert SplitMix64(0).next() == 0xE220A8397B1DCDAF  # published first output for seed 0
    values = fl(np.round(rng.normal(0.3, 0.2, size=37), 6))
    seed, B, conf = 20240611, 2000, 0.95
    g = Xoshiro256ss(seed)
    means = []
    n = len(values)
    for _ in range(B):
        s = 0.0
        for _ in range(n):
            s += values[g.index(n)]
        means.append(s / n)
    means.sort()
    alpha = (1 - conf) / 2
    mean = 0.0
    for v in values:
        mean += v
    mean /= n
    sm0 = SplitMix64(0)
    x0 = Xoshiro256ss(0)
    xi = Xoshiro256ss(7)
    return {
        "values": values, "seed": seed, "resamples": B, "confidence": conf,
        "mean": mean, "lower": quantile_linear(means, alpha), "upper": quantile_linear(means, 1 - alpha),
        "numpy_mean": float(np.mean(values)),
        "splitmix64_seed0": [str(sm0.next()) for _ in range(5)],
        "xoshiro_seed0": [str(x0.next()) for _ in range(5)],
        "xoshiro_seed7_index_below_37": [int(xi.index(37)) for _ in range(20)],
    }


def histogram_case(rng):
    vals = np.concatenate([rng.normal(0, 1, size=200), [-2.0, 0.0, 2.0, 2.5, -3.0]])
    edges = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    counts, _ = np.histogram(vals, bins=edges)
    return {"values": fl(vals), "edges": fl(edges), "counts": [int(c) for c in counts]}


# ---------------------------------------------------------------- mask on the token grid
def grid_fixture():
    coco = COCO(os.path.join(HERE, "coco", "instances_val2017_subset.json"))
    img_id = 172648
    info = coco.loadImgs(img_id)[0]
    W, H = info["width"], info["height"]
    cat = coco.getCatIds(catNms=["truck"])[0]
    mask = np.zeros((H, W), dtype=np.uint8)
    for a in coco.loadAnns(coco.getAnnIds(imgIds=img_id, catIds=[cat])):
        mask |= coco.annToMask(a)
    cases = []

    def run(name, pad, shortest, crop, grid):
        # geometry, written out independently of the Swift code
        if pad and W != H:
            S = max(W, H)
            offx, offy = (S - W) // 2, (S - H) // 2
            pw, ph = S, S
        else:
            offx = offy = 0
            pw, ph = W, H
        short, long_ = min(pw, ph), max(pw, ph)
        new_long = int(shortest * long_ / short)
        rw, rh = (shortest, new_long) if pw <= ph else (new_long, shortest)
        cw, ch = crop
        cx = int((rw - cw) / 2.0) if rw >= cw else -((cw - rw) // 2)
        cy = int((rh - ch) / 2.0) if rh >= ch else -((ch - rh) // 2)
        xs = np.arange(cw, dtype=np.float64)
        ys = np.arange(ch, dtype=np.float64)
        ox = np.floor(((xs + 0.5) + cx) * (pw / rw) - offx)
        oy = np.floor(((ys + 0.5) + cy) * (ph / rh) - offy)
        vx = (ox >= 0) & (ox < W)
        vy = (oy >= 0) & (oy < H)
        out = np.zeros((ch, cw), dtype=np.uint8)
        sub = mask[np.ix_(oy[vy].astype(int), ox[vx].astype(int))]
        out[np.ix_(np.nonzero(vy)[0], np.nonzero(vx)[0])] = sub
        gc, gr = grid
        counts = []
        for r in range(gr):
            y0, y1 = r * ch // gr, (r + 1) * ch // gr
            for c in range(gc):
                x0, x1 = c * cw // gc, (c + 1) * cw // gc
                counts.append(int(out[y0:y1, x0:x1].sum()))
        cases.append({
            "name": name, "pad_to_square": pad, "shortest_edge": shortest, "crop": [cw, ch], "grid": [gc, gr],
            "expected_geometry": {"pad": [max(W, H), offx, offy] if (pad and W != H) else None,
                                  "resized": [rw, rh], "crop_xy": [cx, cy]},
            "covered_pixels": counts, "model_input_area": int(out.sum()),
        })

    run("pad_resize336_crop336_grid24", True, 336, (336, 336), (24, 24))
    run("resize336_crop336_grid24", False, 336, (336, 336), (24, 24))
    run("resize336_crop336_grid28x21", False, 336, (336, 336), (28, 21))
    return {"image_id": img_id, "category": "truck", "width": W, "height": H,
            "original_area": int(mask.sum()), "cases": cases,
            "generator": f"pycocotools {pycocotools.__version__ if hasattr(pycocotools, '__version__') else '?'}, numpy {np.__version__}"}


# ---------------------------------------------------------------- rasterisation vs pycocotools
def raster_fixture(rng):
    polys = []
    for i in range(120):
        h, w = int(rng.integers(5, 60)), int(rng.integers(5, 60))
        k = int(rng.integers(3, 9))
        pts = rng.uniform(-0.3, 1.3, size=(k, 2)) * [w, h]
        if i % 3 == 0:
            pts = np.round(pts * 2) / 2  # half-pixel vertices
        if i % 5 == 0:
            pts = np.vstack([pts, pts[-1:]])  # repeated vertex
        if i % 7 == 0:
            pts = np.round(pts)  # integer vertices
        xy = [float(v) for v in pts.reshape(-1)]
        rle = mask_utils.frPyObjects([xy], h, w)[0]
        polys.append({"h": h, "w": w, "xy": xy, "counts": rle["counts"].decode("ascii"),
                      "area": int(mask_utils.area(rle)), "bbox": fl(mask_utils.toBbox(rle))})
    boxes = []
    for i in range(30):
        h, w = int(rng.integers(5, 50)), int(rng.integers(5, 50))
        x, y = rng.uniform(-5, w), rng.uniform(-5, h)
        bw, bh = rng.uniform(0, w), rng.uniform(0, h)
        box = [float(x), float(y), float(bw), float(bh)]
        rle = mask_utils.frPyObjects(np.array([box]), h, w)[0]
        boxes.append({"h": h, "w": w, "box": box, "counts": rle["counts"].decode("ascii")})
    merges = []
    for i in range(30):
        h, w = int(rng.integers(5, 40)), int(rng.integers(5, 40))
        parts = [[float(v) for v in (rng.uniform(-0.2, 1.2, size=(int(rng.integers(3, 7)), 2)) * [w, h]).reshape(-1)]
                 for _ in range(int(rng.integers(2, 4)))]
        rles = mask_utils.frPyObjects(parts, h, w)
        merges.append({"h": h, "w": w, "parts": parts,
                       "union": mask_utils.merge(rles, intersect=0)["counts"].decode("ascii"),
                       "intersection": mask_utils.merge(rles, intersect=1)["counts"].decode("ascii")})
    return {"generator": f"pycocotools frPyObjects / merge, numpy {np.__version__}",
            "polygons": polys, "boxes": boxes, "merges": merges}


def main():
    rng = np.random.default_rng(20240611)
    stats = {
        "generator": f"numpy {np.__version__}, scipy {scipy.__version__}, statsmodels {statsmodels.__version__}, mpmath {mpmath.__version__}",
        "betainc": betainc_cases(),
        "t_sf": t_cases(),
        "pearson": pearson_cases(rng),
        "pointbiserial": pointbiserial_cases(rng),
        "logit": logit_cases(rng),
        "bootstrap": bootstrap_case(rng),
        "histogram": histogram_case(rng),
    }
    write_json("stats_fixtures.json", stats)
    write_json("grid_fixture.json", grid_fixture())
    write_json("raster_fixture.json", raster_fixture(np.random.default_rng(7)))


if __name__ == "__main__":
    main()
