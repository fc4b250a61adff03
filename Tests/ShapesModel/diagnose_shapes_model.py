#!/usr/bin/env python3
"""Where the shapes model fails, in two numbers the README quotes.

    python3 Tests/ShapesModel/diagnose_shapes_model.py [--model DIR] [--answers FILE] [--work DIR]

1. Existence errors by what the image holds (from transformers' held-out answers, the training
   script's `heldout_transformers.jsonl`, and the benchmark's COCO annotations): for absent objects,
   the share answered right when the asked colour / shape appear on other objects; for present ones,
   the share found per shape and size.
2. A linear probe on the frozen vision features (what LLaVA hands its projector: hidden state
   `vision_feature_layer`, CLS dropped), fit on --fit training images and tested on the --test images
   after them: per shape, the share of object patches whose shape it names right, and the share whose
   colour it names right. It says whether the vision tower separates shapes at all, whatever the
   decoder does with them.

Needs the training script's --work folder (the held-out benchmark and the training set it wrote) and
torch, transformers, numpy. Prints a JSON report to stdout; deterministic (fixed seed, one thread).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import train_shapes_model as tsm  # noqa: E402

EXISTENCE = re.compile(r"Is there an? (\w+) (\w+) in the image\?")


def existence_breakdown(answers: Path, annotations: Path) -> dict:
    coco = json.loads(annotations.read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    files = {i["id"]: i["file_name"] for i in coco["images"]}
    objects = collections.defaultdict(list)
    for a in coco["annotations"]:
        for field in ("color", "size", "category_id", "image_id"):
            if field not in a:
                raise SystemExit(f"{annotations}: annotation {a.get('id')} has no '{field}'")
        objects[files[a["image_id"]]].append((a["color"], names[a["category_id"]], a["size"]))
    n, right = collections.Counter(), collections.Counter()
    for line_no, line in enumerate(answers.read_text().splitlines(), 1):
        q = json.loads(line)
        if q.get("kind") != "existence":
            continue
        m = EXISTENCE.fullmatch(q["text"])
        if m is None:
            raise SystemExit(f"{answers}:{line_no}: not an existence question: {q['text']!r}")
        colour, shape = m.groups()
        objs = objects[q["image"]]
        ok = q["answer"].strip().lower().startswith(q["label"])
        if q["label"] == "no":
            c = "in" if any(o[0] == colour for o in objs) else "out"
            s = "in" if any(o[1] == shape for o in objs) else "out"
            key = f"absent: colour {c} the image, shape {s}"
        else:
            size = next(o[2] for o in objs if o[0] == colour and o[1] == shape)
            key = f"present: {shape} {size}"
        n[key] += 1
        right[key] += ok
    return {k: {"n": n[k], "right": round(100 * right[k] / n[k], 1)} for k in sorted(n)}


def fit_linear(x: torch.Tensor, y: torch.Tensor, classes: int, steps: int = 300) -> torch.nn.Linear:
    """Multinomial logistic regression, full batch, L-BFGS on standardised features (mild L2)."""
    head = torch.nn.Linear(x.shape[1], classes)
    opt = torch.optim.LBFGS(head.parameters(), lr=1, max_iter=steps, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(head(x), y) + 1e-4 * head.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return head


def probe(model_dir: Path, train_dir: Path, fit: int, test: int) -> dict:
    count = (train_dir / "images.u8").stat().st_size // (tsm.IMAGE_SIZE * tsm.IMAGE_SIZE * 3)
    if fit + test > count:
        raise SystemExit(f"{train_dir}: {count} training images, --fit + --test = {fit + test}")
    images = np.memmap(train_dir / "images.u8", dtype=np.uint8, mode="r",
                       shape=(count, tsm.IMAGE_SIZE, tsm.IMAGE_SIZE, 3))[:fit + test]
    patches = np.memmap(train_dir / "patches.u8", dtype=np.uint8, mode="r", shape=(count, tsm.N_IMAGE, 2))[:fit + test]
    model = tsm.fx.load_fp32(model_dir)
    x = tsm.vision_features(model, np.asarray(images), batch=100).reshape(-1, tsm.SPEC["vision"]["hidden_size"])
    labels = torch.from_numpy(np.asarray(patches, dtype=np.int64).reshape(-1, 2))
    split = fit * tsm.N_IMAGE
    mean, std = x[:split].mean(0), x[:split].std(0) + 1e-6
    x = (x - mean) / std
    shape_head = fit_linear(x[:split], labels[:split, 0], tsm.N_SHAPES + 1)
    colour_head = fit_linear(x[:split], labels[:split, 1], tsm.N_COLORS + 1)
    xt, yt = x[split:], labels[split:]
    with torch.no_grad():
        s_ok = shape_head(xt).argmax(-1) == yt[:, 0]
        c_ok = colour_head(xt).argmax(-1) == yt[:, 1]
    shapes, colours = tsm.right_per_shape(s_ok, yt[:, 0]), tsm.right_per_shape(c_ok, yt[:, 0])
    report = {name: {"patches": int((yt[:, 0] == k + 1).sum()), "shape_right": shapes[name], "colour_right": colours[name]}
              for k, name in enumerate(tsm.SHAPES)}
    bg = yt[:, 0] == 0
    report["background"] = {"patches": int(bg.sum()), "shape_right": round(100 * s_ok[bg].float().mean().item(), 1)}
    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=tsm.REPO / "Sources" / "clvs-trace" / "Resources" / "default-model")
    ap.add_argument("--answers", type=Path, default=HERE / "heldout_transformers.jsonl")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "clvs-shapes-work",
                    help="the training script's --work folder")
    ap.add_argument("--train-images", type=int, default=60000, help="the training set's size (its folder's name)")
    ap.add_argument("--fit", type=int, default=3000, help="training images the probe is fit on")
    ap.add_argument("--test", type=int, default=1000, help="training images after those, the probe is tested on")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    held = args.work / "heldout-1-300" / "annotations" / "instances_shapes.json"
    train_dir = args.work / f"train-1000-{args.train_images}"
    for p in (args.answers, held, train_dir / "images.u8", train_dir / "patches.u8", args.model / "config.json"):
        if not p.exists():
            raise SystemExit(f"missing {p} (run the training script with --work {args.work} first)")
    report = {"model": str(args.model), "existence": existence_breakdown(args.answers, held),
              "probe": probe(args.model, train_dir, args.fit, args.test)}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
