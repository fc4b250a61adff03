#!/usr/bin/env python3
"""Where the shapes model fails, in the numbers the README quotes.

    python3 Tests/ShapesModel/diagnose_shapes_model.py [--model DIR] [--answers FILE] [--work DIR]

1. Existence errors by what the image holds (from transformers' held-out answers, the training
   script's `heldout_transformers.jsonl`, and the benchmark's COCO annotations): for absent objects,
   the share answered right when the asked colour / shape appear on other objects; for present ones,
   the share found per shape and size.
2. A linear probe on the frozen vision features (what LLaVA hands its projector: hidden state
   `vision_feature_layer`, CLS dropped), fit on --fit training images and tested on the --test images
   after them: per shape, the share of object patches whose shape it names right, and the share whose
   colour it names right, and whose column and row of the patch grid it names right (fit on object
   patches only), and (with the training set's contacts.u8) the share of patches where two objects
   touch that a probe finds, and of its finds the share that are. It says whether the vision tower
   separates shapes, and keeps objects' places and contacts, at all, whatever the decoder does with them.
3. Relation answers (the model's greedy first answer token) on --relation-images training images after
   the probe's: every left and above question the generator could ask about each (both orders of
   each pair, train_shapes_model.centre_relations), their accuracy by the distance between the two
   centres along the asked axis, and the share of "Yes" when the first-named object lies in the left
   (top) half against the right (bottom) half. A model that ignores the words' order scores 50% on
   these; one that reads only the first object's place answers "Yes" more when it is on the left.
   (The model may have trained on some of these images; answers at chance there say all the more.)

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


def training_images(train_dir: Path) -> tuple[int, np.memmap]:
    """The training set's image count and its images.u8, memory-mapped [N, H, W, 3]."""
    count = (train_dir / "images.u8").stat().st_size // (tsm.IMAGE_SIZE * tsm.IMAGE_SIZE * 3)
    return count, np.memmap(train_dir / "images.u8", dtype=np.uint8, mode="r",
                            shape=(count, tsm.IMAGE_SIZE, tsm.IMAGE_SIZE, 3))


def probe(model_dir: Path, train_dir: Path, fit: int, test: int) -> dict:
    count, all_images = training_images(train_dir)
    if fit + test > count:
        raise SystemExit(f"{train_dir}: {count} training images, --fit + --test = {fit + test}")
    images = all_images[:fit + test]
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
    # Where: the column and the row of the grid of each object patch (chance 1 / grid), which the
    # decoder needs to compare two objects' places (RoPE moves keys and queries, not values).
    obj_fit, obj_test = labels[:split, 0] > 0, yt[:, 0] > 0
    for name, place in zip(("column", "row"), tsm.patch_places(tsm.N_IMAGE)):
        target = place.repeat(len(labels) // tsm.N_IMAGE)
        head = fit_linear(x[:split][obj_fit], target[:split][obj_fit], tsm.GRID)
        with torch.no_grad():
            ok = head(xt[obj_test]).argmax(-1) == target[split:][obj_test]
        per = tsm.right_per_shape(ok, yt[obj_test, 0])
        for k in tsm.SHAPES:
            report[k][f"{name}_right"] = per[k]
        report[f"object patches, {name} right"] = round(100 * ok.float().mean().item(), 1)
    report["chance of column or row"] = round(100 / tsm.GRID, 1)
    # Whether: patches where two objects touch (contacts.u8, if the training set has it), what a
    # touching question needs and 14 px patch labels cannot give (a touching pair against one 4 px apart).
    if (train_dir / "contacts.u8").exists():
        touch = np.memmap(train_dir / "contacts.u8", dtype=np.uint8, mode="r", shape=(count, tsm.N_IMAGE))[:fit + test]
        target = torch.from_numpy((np.asarray(touch).reshape(-1) > 0).astype(np.int64))
        head = fit_linear(x[:split], target[:split], 2)
        with torch.no_grad():
            pred = head(xt).argmax(-1) == 1
        y = target[split:] == 1
        report["contact patches"] = {"patches": int(y.sum()), "found": round(100 * (pred & y).sum().item() / max(1, y.sum().item()), 1),
                                     "of those predicted, right": round(100 * (pred & y).sum().item() / max(1, pred.sum().item()), 1)}
    return report


@torch.no_grad()
def relation_breakdown(model_dir: Path, train_dir: Path, first: int, count: int) -> dict:
    total, all_images = training_images(train_dir)
    if first + count > total:
        raise SystemExit(f"{train_dir}: {total} training images, need {first + count} for the relation breakdown")
    with open(train_dir / "qa.jsonl") as f:
        lines = [json.loads(line) for _, line in zip(range(first + count), f)][first:]
    images = all_images[first:first + count]
    enc = tsm.Encoder(model_dir / "tokenizer.json")
    model = tsm.fx.load_fp32(model_dir)
    pad = enc.tok.token_to_id("<pad>")
    items = []  # (image, question, answer, type, distance, first-named object in the left/top half)
    for i, line in enumerate(lines):
        if "objects" not in line:
            raise SystemExit(f"{train_dir / 'qa.jsonl'}: line {first + i + 1} has no 'objects'")
        centre = {shape: (x, y) for shape, _, x, y in line["objects"]}
        for pair in tsm.centre_relations(line["objects"]):
            for _, q, a in pair:
                kind, a_shape, b_shape = tsm.parse_relation(q)
                axis = 0 if kind == "left" else 1
                items.append((i, q, a, kind, abs(centre[a_shape][axis] - centre[b_shape][axis]),
                              tsm.in_first_half(centre[a_shape][axis])))
    yes = enc.answer(tsm.prompt(items[0][1]), "Yes")[0] if items else None
    ok, said_yes = collections.defaultdict(list), collections.defaultdict(list)
    for s in range(0, len(items), 48):
        part = items[s:s + 48]
        seqs = [enc.first_turn(q) for _, q, *_ in part]
        ids, att = tsm.pad_batch(seqs, pad)
        logits = model(input_ids=ids, pixel_values=tsm.pixel_values(np.asarray(images[[x[0] for x in part]])),
                       attention_mask=att).logits
        for b, (_, q, a, kind, dist, low) in enumerate(part):
            pred = logits[b, len(seqs[b]) - 1].argmax().item()
            band = "6-15 px" if dist < 15 else "15-30 px" if dist < 30 else "30-50 px" if dist < 50 else ">= 50 px"
            for key in (kind, f"{kind} {band}"):
                ok[key].append(pred == enc.answer(tsm.prompt(q), a)[0])
            said_yes[f"{kind}, first object {'left/top' if low else 'right/bottom'} half"].append(pred == yes)
    pct = lambda v: {"n": len(v), "percent": round(100 * float(np.mean(v)), 1)}
    return {"images": count, "accuracy": {k: pct(v) for k, v in sorted(ok.items())},
            "yes": {k: pct(v) for k, v in sorted(said_yes.items())}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=tsm.REPO / "Sources" / "clvs-trace" / "Resources" / "default-model")
    ap.add_argument("--answers", type=Path, default=HERE / "heldout_transformers.jsonl")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "clvs-shapes-work",
                    help="the training script's --work folder")
    ap.add_argument("--train-images", type=int, default=60000, help="the training set's size (its folder's name)")
    ap.add_argument("--fit", type=int, default=3000, help="training images the probe is fit on")
    ap.add_argument("--test", type=int, default=1000, help="training images after those, the probe is tested on")
    ap.add_argument("--relation-images", type=int, default=400, help="training images after those, for the relation breakdown")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    held = args.work / "heldout-1-300" / "annotations" / "instances_shapes.json"
    train_dir = args.work / f"train-1000-{args.train_images}"
    for p in (args.answers, held, train_dir / "images.u8", train_dir / "patches.u8", args.model / "config.json"):
        if not p.exists():
            raise SystemExit(f"missing {p} (run the training script with --work {args.work} first)")
    report = {"model": str(args.model), "existence": existence_breakdown(args.answers, held),
              "probe": probe(args.model, train_dir, args.fit, args.test),
              "relation": relation_breakdown(args.model, train_dir, args.fit + args.test, args.relation_images)}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
