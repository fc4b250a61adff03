#!/usr/bin/env python3
"""Train the tiny LLaVA-1.5 "shapes" model that `clvs-trace` ships as its default model.

One command, from the repository root (54.6 minutes alone with the default 2 threads on a
2-vCPU Intel Xeon, family 6 model 207, with the training set and held-out benchmark already in
--work, about 2.7 minutes more to write them, the Swift build not counted; these defaults trained the
shipped model, run X, see the README and training_report.json):

    python3 Tests/ShapesModel/train_shapes_model.py

Requirements: torch (CPU), transformers 5.x, safetensors, tokenizers, numpy; a Swift toolchain (the
data come from the Swift generator, `clvs-trace synth`, which is the single definition of the world).

What it does, all with fixed seeds:
1. builds `clvs-trace` (release) and writes the training set (`synth train --seed 1000`, one image per
   sequence, 8 questions per image) and the held-out benchmark (`synth benchmark --seed 1 --images 300`)
   into --work;
2. trains the tokenizer (shapes_tokenizer.py: LLaMA-layout BPE with byte fallback) on the training
   questions and answers plus the LLaVA-1.5 template text;
3. builds `LlavaForConditionalGeneration` (CLIP ViT 112 px / patch 14 = 8x8 grid, 2-layer GELU
   projector, Llama decoder with 8 layers) and trains it from scratch:
   (1) the vision tower alone (--vision-steps 1,100 steps of 64 images), with a linear probe naming
   the shape and colour on every patch (the generator's exact patch labels) and, with --probe-position
   (the default), the patch's column and row; optionally
   (--caption-steps, off by default: see the README) a caption stage on image -> description ("A red
   circle and a blue square.", objects left to right); (2) the whole model on LLaVA-1.5 questions
   about each image, asked as branches (--branches, the default: one sequence per image, the shared
   prefix <s> + system prompt + image, then each question as if alone; loss on the answers and their
   </s> only; run packed, --packed, the default since run U: the prefix once per image, the branches
   as short rows over its cached keys and values, the same logits as one block-masked sequence per
   image in less time). The first --existence-steps (800) of its 2,150 steps of 12 images ask existence
   questions only, with --dense-existence 8 more per image (present (colour, shape) pairs and as many
   absent ones, hard ones among them); then every kind, with --late-dense-existence 4 dense existence
   questions, --dense-relation 3 more relation questions per image (mirrors, and left/above from the
   centres in both orders) and --dense-touching 2 touching questions (exact answers from the training
   set's "contacts"), and the binding read-outs (--binding-aux 0.3): at each relation question's
   answer-predicting token, linear heads on the decoder's residual stream name the first and second
   shape the question names and the relation it asks (after 2 layers; --binding-relation) and each
   object's patch cell (after 4), intermediate supervision without which relations stayed at chance.
   The learning rate stays at its peak until step 1,400 (--lr-hold), then the cosine decay runs over
   the last 750 steps. From the
   first step each image also gets --open-questions 6 open questions, training aids the benchmark
   never asks ("What color is the square?" -> its colour or "none"; "Where is the square?" -> "column
   3, row 7", from the training set's object centres). The patch probe stays on as an auxiliary loss
   (--aux-weight), on the step's images and on --vision-extra (36) more that only the vision tower
   sees. The probe and the binding heads are training aids and not part of the checkpoint; attention
   is never supervised. Off by default, for touching: --contact-probe W (a contact head on the vision
   features, from contacts.u8) and --binding-contact (a read-out of where the two objects touch);
   both together (run M) taught the vision tower contacts and cost the decoder (README);
   --binding-distance (a read-out of the two centres' distance; run O: touching 66.9%, existence and
   attribute lost, README). AdamW with warm-up and cosine decay in every stage (in the question stage
   after the --lr-hold steps; run Q: run P's seed with --lr-hold went from existence 83.2% / relation
   75.0% to 92.7% / 83.2%; README). Earlier recipes, each the shipped model of its day. Runs L and
   U (2026-12-05 evening to 2026-12-06; U shipped until run X): --late-dense-existence 6
   --dense-relation 2 --dense-touching 0 --no-binding-relation --lr-hold 0. The ones before are changes to that one (all of them also
   --dense-relation 0 --binding-aux 0, and --no-packed, which gives the same logits): six-turn
   conversations (until 2026-12-04): --no-branches --dense-existence 0 --existence-steps 0
   --open-questions 0 --vision-steps 0 --vision-extra 0 --batch 24 --steps 4000; 2026-12-04:
   --open-questions 0 --dense-existence 16 --late-dense-existence 16 --vision-steps 0 --vision-extra 0
   --existence-steps 1000 --steps 3000; the morning of 2026-12-05: --late-dense-existence 8
   --vision-steps 0 --vision-extra 0 --existence-steps 1000 --steps 3000; midday of 2026-12-05 (run I):
   --late-dense-existence 8 --no-probe-position --steps 2300 --vision-steps 1200; the evening of
   2026-12-05 (run J): --steps 2200 --late-dense-existence 8;
4. rounds the weights to fp16, saves the checkpoint in the llava-hf hub layout with its tokenizer and
   processor files into --out (default: the CLI's embedded default model), reloads it and answers every
   held-out question greedily with transformers (eager attention, fp32 from the fp16 weights);
5. writes `heldout_transformers.jsonl` (transformers' answer per held-out question) and
   `training_report.json` (losses, timings, accuracy per question kind) next to this script when --out
   is the embedded model (the Swift tests check the runtime's answers against the former), into --out
   otherwise.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_OUT = REPO / "Sources" / "clvs-trace" / "Resources" / "default-model"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "Tests" / "ModelsTests" / "Fixtures"))
import shapes_tokenizer as stok  # noqa: E402
import generate_llava_fixtures as fx  # noqa: E402

import transformers  # noqa: E402
from transformers.cache_utils import DynamicCache  # noqa: E402
from transformers import CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration  # noqa: E402

SYSTEM_PROMPT = fx.SYSTEM_PROMPT
SUFFIX = "\nAnswer the question using a single word or phrase."
IMAGE_SIZE, PATCH = 112, 14
N_IMAGE = (IMAGE_SIZE // PATCH) ** 2
CAPTION_VAL = 512
MEAN = np.array(fx.OPENAI_CLIP_MEAN, dtype=np.float32)
STD = np.array(fx.OPENAI_CLIP_STD, dtype=np.float32)

SPEC = dict(
    text=dict(hidden_size=192, num_hidden_layers=8, num_attention_heads=6, num_key_value_heads=6,
              intermediate_size=512, rope_theta=10000.0),
    vision=dict(image_size=IMAGE_SIZE, patch_size=PATCH, hidden_size=128, num_hidden_layers=5,
                num_attention_heads=4, intermediate_size=512),
    vision_feature_layer=-2,
    strategy="default",
)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------------

def build_swift(clvs_trace: str | None) -> str:
    if clvs_trace:
        return clvs_trace
    subprocess.run(["swift", "build", "-c", "release", "--product", "clvs-trace"], cwd=REPO, check=True)
    out = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout.strip()
    return str(Path(out) / "clvs-trace")


def make_data(exe: str, work: Path, train_images: int, train_seed: int) -> tuple[Path, Path]:
    train, held = work / f"train-{train_seed}-{train_images}", work / "heldout-1-300"
    # A training set from before 2026-12-05 lacks the objects' centres (--open-questions), one written
    # before contacts.u8 existed the contact labels (--contact-probe): write it again (same seed: the
    # other files come out byte for byte the same).
    # One from before 2026-12-06 lacks the pairs' contacts (--dense-touching).
    if not (train / "qa.jsonl").exists() or '"contacts"' not in open(train / "qa.jsonl").readline() \
            or not (train / "contacts.u8").exists():
        subprocess.run([exe, "synth", "train", "--seed", str(train_seed), "--images", str(train_images),
                        "--questions", "8", "--patch", str(PATCH), "--out", str(train)], check=True)
    if not (held / "questions.jsonl").exists():
        subprocess.run([exe, "synth", "benchmark", "--seed", "1", "--images", "300", "--out", str(held)], check=True)
    return train, held


def prompt(question: str) -> str:
    return f"{SYSTEM_PROMPT} USER: <image>\n{question} ASSISTANT:"


class Encoder:
    """Token ids of prompts and answers, cached (the world has few distinct texts)."""

    def __init__(self, tokenizer_json: Path):
        from tokenizers import Tokenizer
        self.tok = Tokenizer.from_file(str(tokenizer_json))
        self.image_id = self.tok.token_to_id("<image>")
        self.eos = self.tok.token_to_id("</s>")
        self.cache: dict[tuple, list[int]] = {}

    def ids(self, text: str, special: bool) -> list[int]:
        key = (text, special)
        if key not in self.cache:
            self.cache[key] = self.tok.encode(text, add_special_tokens=special).ids
        return self.cache[key]

    def first_turn(self, question: str) -> list[int]:
        """<s> ... USER: <image>\\n{q} ASSISTANT: with the image placeholder expanded (LlavaProcessor order)."""
        ids = self.ids(prompt(question), True)
        k = ids.index(self.image_id)
        return ids[:k] + [self.image_id] * N_IMAGE + ids[k + 1:]

    def answer(self, context: str, answer: str) -> list[int]:
        """Ids of ' {answer}' after `context` (encode both and take the difference) + </s>."""
        a, b = self.ids(context, False), self.ids(context + " " + answer, False)
        assert b[:len(a)] == a, (context, answer)
        return b[len(a):] + [self.eos]

    def later_turn(self, question: str) -> list[int]:
        return self.ids(f"USER: {question} ASSISTANT:", False)


def conversation(enc: Encoder, qa: list, rng: random.Random, turns: int,
                 caption: bool = False, describe_turn: bool = False) -> tuple[list[int], list[int], list[int]]:
    """input ids, labels (-100 outside answers) and answer index (-1 outside answers, else the turn)
    of one multi-turn conversation; with `caption`, the single turn "What objects are in the image?"
    and its description (every object's colour and shape, left to right); with `describe_turn`,
    `turns` questions and then the description, when the image has one."""
    qa = list(qa)
    if caption:
        qa = [x for x in qa if x[0] == "describe"][:1]
    rng.shuffle(qa)
    # A description names every object: ask it last so it cannot answer the other turns.
    qa.sort(key=lambda x: x[0] == "describe")
    if describe_turn:
        qa = [x for x in qa if x[0] != "describe"][:turns] + [x for x in qa if x[0] == "describe"][:1]
    else:
        qa = qa[:turns]
    ids: list[int] = []
    labels: list[int] = []
    turn: list[int] = []
    for t, (kind, q, a) in enumerate(qa):
        if kind != "describe" and rng.random() < 0.5:
            q = q + SUFFIX
        if t == 0:
            p = enc.first_turn(q)
            ctx = prompt(q)
        else:
            p = enc.later_turn(q)
            ctx = f"USER: {q} ASSISTANT:"
        ans = enc.answer(ctx, a)
        ids += p + ans
        labels += [-100] * len(p) + ans
        turn += [-1] * len(p) + [t] * len(ans)
    return ids, labels, turn


SHAPES = ["circle", "square", "triangle", "star", "cross"]
COLORS = ["red", "green", "blue", "yellow", "purple", "orange"]


def existence_text(color: str, shape: str) -> str:
    """The generator's existence question (QuestionText.existence)."""
    return f"Is there {'an' if color == 'orange' else 'a'} {color} {shape} in the image?"


def described_in_order(description: str) -> list[tuple[str, str]]:
    """(colour, shape) pairs named by a description ("A red circle, a blue square and a green star."),
    in its order (left to right: the generator sorts by the x of the centres)."""
    out = []
    for part in description.rstrip(".").replace(" and ", ", ").split(", "):
        words = part.split()
        if len(words) == 3 and words[1] in COLORS and words[2] in SHAPES:
            out.append((words[1], words[2]))
    return out


def described_objects(description: str) -> set[tuple[str, str]]:
    """The set of (colour, shape) pairs named by a description."""
    return set(described_in_order(description))


def dense_existence(qa: list, rng: random.Random, k: int) -> list:
    """Up to k extra existence questions for an image with a description: its present (colour, shape)
    pairs (at most k / 2) and as many absent ones (half sharing a colour or a shape with a present
    object, half any other), so one image answers many existence questions at once."""
    desc = [a for kind, _, a in qa if kind == "describe"]
    if not desc or k <= 0:
        return []
    present = described_objects(desc[0])
    if not present:
        return []
    absent = [(c, s) for c in COLORS for s in SHAPES if (c, s) not in present]
    hard = [x for x in absent if any(x[0] == c or x[1] == s for c, s in present)]
    pos = sorted(present)
    rng.shuffle(pos)
    pos = pos[:k // 2]
    rng.shuffle(hard)
    rng.shuffle(absent)
    neg: list = []
    for x in hard[:(len(pos) + 1) // 2] + absent:
        if len(neg) >= len(pos):
            break
        if x not in neg:
            neg.append(x)
    return [("existence", existence_text(c, s), "Yes") for c, s in pos] + \
        [("existence", existence_text(c, s), "No") for c, s in neg]


RELATION_TEXT = {
    "left": "Is the {} to the left of the {}?",
    "above": "Is the {} above the {}?",
    "touching": "Is the {} touching the {}?",
}


def parse_relation(question: str) -> tuple[str, str, str] | None:
    """(type, first shape, second shape) of one of the generator's relation questions
    (QuestionText.left/above/touching), else None."""
    for kind, text in RELATION_TEXT.items():
        head, tail = text.split("{}", 1)
        middle, end = tail.split("{}", 1)
        if question.startswith(head) and question.endswith(end):
            a, sep, b = question[len(head):len(question) - len(end)].partition(middle)
            if sep and a in SHAPES and b in SHAPES:
                return kind, a, b
    return None


RELATION_MARGIN = 6.0  # ShapesWorld's SceneFacts.relationMargin: closer centres are never asked about
CLEAR_OF_MARGIN = RELATION_MARGIN + 0.01  # qa.jsonl rounds centres to 0.01 px


def centre_relations(objects: list) -> list:
    """Every left and above question the generator could ask about an image, from its objects' centres
    ([shape, colour, centre x, centre y] rows of qa.jsonl, rounded to 0.01 px), as pairs of the two
    orders (a left of b, b left of a). Centres closer than the margin along the axis are skipped, with
    0.01 px to spare for the rounding."""
    pairs = []
    for i, (a, _, ax, ay) in enumerate(objects):
        for b, _, bx, by in objects[i + 1:]:
            for kind, d in (("left", bx - ax), ("above", by - ay)):
                if abs(d) > CLEAR_OF_MARGIN:
                    yes = d > 0  # a is left of (above) b
                    pairs.append([("relation", RELATION_TEXT[kind].format(a, b), "Yes" if yes else "No"),
                                  ("relation", RELATION_TEXT[kind].format(b, a), "No" if yes else "Yes")])
    return pairs


def dense_relation(qa: list, rng: random.Random, k: int, objects: list | None = None) -> list:
    """Up to k extra relation questions for an image, each with an exact answer: the mirror of every
    relation question the image has (a left of b / a above b swap the answer when the order swaps,
    touching keeps it: the generator's margin is symmetric), then, with the image's `objects`, left and
    above for every pair in both orders (centre_relations); without them "Is the A to the left of the
    B?" for pairs of described objects, in both orders (the description lists the objects by the x of
    their centres; shapes are unique in a scene; a pair closer than the generator's margin, which it
    never asks about, is then still answered by the order of the centres). Both orders of one pair in
    one image make the words' order, not the pair, decide the answer."""
    if k <= 0:
        return []
    out: list = []
    for kind, q, a in qa:
        r = parse_relation(q) if kind == "relation" else None
        if r is not None:
            t, x, y = r
            flip = {"Yes": "No", "No": "Yes"}[a] if t != "touching" else a
            out.append(("relation", RELATION_TEXT[t].format(y, x), flip))
    desc = [a for kind, _, a in qa if kind == "describe"]
    if objects:
        pairs = centre_relations(objects)
        rng.shuffle(pairs)
        out += [x for pair in pairs for x in pair]
    elif desc:
        names = [shape for _, shape in described_in_order(desc[0])]
        if len(names) == len(set(names)):
            pairs = [(names[i], names[j]) for i in range(len(names)) for j in range(i + 1, len(names))]
            rng.shuffle(pairs)
            for x, y in pairs:
                out += [("relation", RELATION_TEXT["left"].format(x, y), "Yes"),
                        ("relation", RELATION_TEXT["left"].format(y, x), "No")]
    asked = {q for _, q, _ in qa}
    seen: set = set()
    kept = []
    for x in out:
        if x[1] not in asked and x[1] not in seen:
            seen.add(x[1])
            kept.append(x)
    return kept[:k]


def existence_first(qa: list, dense: int) -> list:
    """An image's existence questions (and its description, from which `dense` > 0 draws more), for the
    existence stage of --existence-steps; the image's questions unchanged if that would leave none."""
    kept = [x for x in qa if x[0] in ("existence", "describe")]
    # dense_existence adds questions when k // 2 >= 1 and the description names an object
    if any(k == "existence" for k, _, _ in kept) or (dense >= 2 and any(k == "describe" and described_objects(a) for k, _, a in kept)):
        return kept
    return qa


def open_questions(objects: list, rng: random.Random, k: int) -> list:
    """Up to k open questions about an image's objects (training aids; the benchmark asks none): "What
    color is the {shape}?" (its colour word, "none" for one shape that is absent) and "Where is the
    {shape}?" ("column X, row Y": its centre's tenth of the width and of the height, 0-9 from the top
    left). They name what the yes/no questions only test, so the decoder gets a gradient for finding an
    object by its shape and reading its colour and place before it can compare them with the question's
    words. `objects`: the training set's [shape, colour, centre x, centre y] rows."""
    if k <= 0 or not objects:
        return []
    def tenth(v: float) -> int:
        return min(9, max(0, int(v * 10 / IMAGE_SIZE)))

    present = {shape for shape, _, _, _ in objects}
    out = [("open", f"What color is the {shape}?", color) for shape, color, _, _ in objects]
    out += [("open", f"Where is the {shape}?", f"column {tenth(x)}, row {tenth(y)}") for shape, _, x, y in objects]
    absent = [shape for shape in SHAPES if shape not in present]
    if absent:
        out.append(("open", f"What color is the {rng.choice(absent)}?", "none"))
    rng.shuffle(out)
    return out[:k]


def in_first_half(v: float) -> bool:
    """Whether a centre's x (y) lies in the image's left (top) half."""
    return v < IMAGE_SIZE / 2


def place_questions(objects: list, rng: random.Random, k: int) -> list:
    """Up to k yes/no questions about one object's place (training aids; the benchmark asks none): "Is
    the {shape} in the left half of the image?" and "... in the top half ...", from its centre, none for
    a centre within the generator's relation margin of the middle. They give the decoder a first-order
    path from a named object's place to a yes/no answer, which the relation questions lack when both
    orders of a pair are asked (a pilot fine-tuning run J with 4 of them per image: relation 60.3% ->
    62.7% in 300 steps, the only aid that moved relations; README). `objects`: as open_questions."""
    if k <= 0:
        return []
    out = [("place", f"Is the {shape} in the {word} half of the image?", "Yes" if in_first_half(v) else "No")
           for shape, _, x, y in objects for word, v in (("left", x), ("top", y))
           if abs(v - IMAGE_SIZE / 2) > CLEAR_OF_MARGIN]
    rng.shuffle(out)
    return out[:k]


def touching_questions(objects: list, contacts: list, rng: random.Random, k: int) -> list:
    """Up to k touching questions about an image with exact answers (training aids, after the existence
    stage; --dense-touching): every pair of objects in both orders from the training set's "contacts"
    ([a, b, "touching" | "apart"] rows: object indices and the sampler's rule), taken alternately from
    the touching and the apart ones (a random one first), so an image with both gives as many "Yes" as
    "No". `objects`: as open_questions."""
    if k <= 0 or not contacts:
        return []
    sides: dict = {"touching": [], "apart": []}
    for a, b, contact in contacts:
        x, y = objects[a][0], objects[b][0]
        answer = "Yes" if contact == "touching" else "No"
        sides[contact] += [("relation", RELATION_TEXT["touching"].format(x, y), answer),
                           ("relation", RELATION_TEXT["touching"].format(y, x), answer)]
    yes, no = sides["touching"], sides["apart"]
    rng.shuffle(yes)
    rng.shuffle(no)
    first, second = (yes, no) if rng.random() < 0.5 else (no, yes)
    out = [q for pair in itertools.zip_longest(first, second) for q in pair if q is not None]
    return out[:k]


def branched(enc: Encoder, qa: list, rng: random.Random, turns: int, describe_turn: bool = False, dense: int = 0,
             dense_rel: int = 0, more: list | None = None, objects: list | None = None) -> tuple[list[int], list[int], list[int], list[int], list[int], list]:
    """One image, several questions, each asked as if alone: the shared prefix (<s>, system prompt,
    "USER:" and the image tokens) and then one branch per question (the rest of the single-turn prompt,
    the answer and </s>). Returns ids, labels (-100 outside answers), answer index (-1 outside answers,
    else the branch), position ids (each branch continues the prefix's positions, as it would alone),
    segment (0 for the prefix, b + 1 for branch b) and, per branch, its question (without the suffix)
    and the index of the token that predicts its answer (for binding_targets). With `branch_mask` a
    branch sees the prefix and itself only, so every answer is the single-turn prediction and none can be read off another turn's
    question or answer (in a multi-turn conversation, "Is the circle red? Yes" gives away "Is the
    circle blue?"). `more`: further branches (the open questions), after the others; `objects`: the
    image's objects, for dense_relation."""
    extra = dense_existence(qa, rng, dense) + dense_relation(qa, rng, dense_rel, objects) + (more or [])
    description = [x for x in qa if x[0] == "describe"][:1] if describe_turn else []
    qa = [x for x in qa if x[0] != "describe"]
    rng.shuffle(qa)
    qa = qa[:turns]
    seen = {q for _, q, _ in qa}
    for x in extra:  # an extra branch asks what no other branch asks (a dense touching question can be a mirror)
        if x[1] not in seen:
            seen.add(x[1])
            qa.append(x)
    qa += description
    ids: list[int] = []
    labels: list[int] = []
    turn: list[int] = []
    pos: list[int] = []
    seg: list[int] = []
    asked: list[tuple[str, int]] = []
    for b, (kind, q, a) in enumerate(qa):
        plain = q
        if kind != "describe" and rng.random() < 0.5:
            q = q + SUFFIX
        p = enc.first_turn(q)
        k = p.index(enc.image_id) + N_IMAGE  # the prefix ends with the last image token
        if b == 0:
            ids += p[:k]
            labels += [-100] * k
            turn += [-1] * k
            pos += list(range(k))
            seg += [0] * k
        assert ids[:k] == p[:k], q
        ans = enc.answer(prompt(q), a)
        part = p[k:] + ans
        asked.append((plain, len(ids) + len(p) - k - 1))  # the last prompt token predicts the answer
        ids += part
        labels += [-100] * (len(p) - k) + ans
        turn += [-1] * (len(p) - k) + [b] * len(ans)
        pos += list(range(k, k + len(part)))
        seg += [b + 1] * len(part)
    return ids, labels, turn, pos, seg, asked


def branch_mask(segs: list[list[int]], T: int) -> torch.Tensor:
    """Boolean attention mask [B, 1, T, T] (True: may attend): causal, and a branch token sees the
    prefix (segment 0) and its own branch only; a padding position sees itself (no empty rows)."""
    B = len(segs)
    s = torch.full((B, T), -1, dtype=torch.long)
    for b, x in enumerate(segs):
        s[b, :len(x)] = torch.tensor(x)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    same = (s[:, :, None] == s[:, None, :]) | (s[:, None, :] == 0)
    m = causal[None] & same & (s[:, :, None] >= 0)
    m |= torch.eye(T, dtype=torch.bool)[None]
    return m[:, None]


def optimizer_step(opt: torch.optim.Optimizer, loss: torch.Tensor, params) -> None:
    """One AdamW step of every training loop here: gradients of `loss`, clipped to norm 1 over `params`."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()


EXTENT_HEADS = tuple(f"{e}{k}" for k in (1, 2) for e in ("col_min", "col_max", "row_min", "row_max"))


DISTANCE_STEP = 4  # px per class of the distance read-out
DISTANCE_CLASSES = 16  # the last one: DISTANCE_STEP * 15 px and more


def centre_distance_class(a: list, b: list) -> int:
    """The distance read-out's class for two objects (rows of qa.jsonl): the distance between their
    centres in steps of DISTANCE_STEP px, the last class open-ended."""
    return min(DISTANCE_CLASSES - 1, int(math.hypot(a[2] - b[2], a[3] - b[3]) // DISTANCE_STEP))


def binding_heads(hidden: int, extents: bool = False, contact: bool = False, distance: bool = False,
                  relation: bool = False) -> torch.nn.ModuleDict:
    """Linear read-outs for --binding-aux: the first and second shape a relation question names, and the
    column and row (patch cell) of each of the two objects; with `extents` also each object's first and
    last column and row among the patches labelled with its shape; with `contact`, for touching
    questions, the first patch (raster order) where the two touch, or N_IMAGE for none; with `distance`
    the distance between the two centres (centre_distance_class); with `relation` which relation the
    question asks (RELATION_TEXT's order). Training aids only, not in the checkpoint."""
    places = ("col1", "row1", "col2", "row2") + (EXTENT_HEADS if extents else ())
    heads = {"first": torch.nn.Linear(hidden, N_SHAPES), "second": torch.nn.Linear(hidden, N_SHAPES),
             **{k: torch.nn.Linear(hidden, GRID) for k in places}}
    if contact:
        heads["contact"] = torch.nn.Linear(hidden, N_IMAGE + 1)
    if distance:
        heads["distance"] = torch.nn.Linear(hidden, DISTANCE_CLASSES)
    if relation:
        heads["relation"] = torch.nn.Linear(hidden, len(RELATION_TEXT))
    return torch.nn.ModuleDict(heads)


def binding_target(question: str, objects: list, labels: np.ndarray | None = None,
                   extents: bool = False, contact: bool = False, distance: bool = False,
                   relation: bool = False) -> list[int] | None:
    """The binding read-outs' targets for a relation question about an image's `objects` (rows of
    qa.jsonl): first and second named shape, then the two objects' cells (column and row of the patch
    holding the centre); from the image's patch `labels` ([patches, (shape, colour[, contact byte])],
    patches.u8 and contacts.u8), with `extents` each object's extent (EXTENT_HEADS; the centre's cell
    for an object no patch is labelled with), with `contact` the contact cell (binding_heads; -100,
    ignored, for left/above), with `distance` the centres' distance class, with `relation` the relation's
    index in RELATION_TEXT. None for other questions or a shape the image lacks."""
    r = parse_relation(question)
    where = {o[0]: o for o in objects}
    if r is None or r[1] not in where or r[2] not in where:
        return None
    cells = [min(GRID - 1, int(v // PATCH)) for name in r[1:] for v in where[name][2:4]]
    out = [SHAPES.index(r[1]), SHAPES.index(r[2]), *cells]
    if extents:
        for j, name in enumerate(r[1:]):
            on = np.flatnonzero(labels[:, 0] == SHAPES.index(name) + 1)
            cols, rows = (on % GRID, on // GRID) if on.size else ([cells[2 * j]], [cells[2 * j + 1]])
            out += [int(min(cols)), int(max(cols)), int(min(rows)), int(max(rows))]
    if contact:
        both = (1 << SHAPES.index(r[1])) | (1 << SHAPES.index(r[2]))
        at = np.flatnonzero((labels[:, 2] & both) == both)
        out.append(-100 if r[0] != "touching" else int(at[0]) if at.size else N_IMAGE)
    if distance:
        out.append(centre_distance_class(where[r[1]], where[r[2]]))
    if relation:
        out.append(list(RELATION_TEXT).index(r[0]))
    return out


def binding_targets(seqs: list, objects: list, labels: np.ndarray | None = None,
                    extents: bool = False, contact: bool = False, distance: bool = False,
                    relation: bool = False) -> tuple[torch.Tensor, torch.Tensor] | None:
    """For every relation branch of a batch of `branched` sequences (with their images' `objects` and,
    for the extents and contact cells, patch `labels` [B, patches, 2 or 3]): its (sequence, position of
    the token that predicts the answer) [N, 2] and its binding_target [N, 6 + 8 extents + 1 contact
    + 1 distance + 1 relation].
    None without any."""
    tokens, targets = [], []
    for b, (seq, objs) in enumerate(zip(seqs, objects)):
        for q, at in seq[5]:
            t = binding_target(q, objs, None if labels is None else labels[b], extents, contact, distance, relation)
            if t is not None:
                tokens.append((b, at))
                targets.append(t)
    if not targets:
        return None
    return torch.tensor(tokens), torch.tensor(targets)


def binding_loss(heads: torch.nn.ModuleDict, hidden_states: tuple, found: tuple[torch.Tensor, torch.Tensor],
                 name_layer: int, place_layer: int, distance_layer: int | None = None) -> torch.Tensor:
    """--binding-aux: cross-entropy of the binding read-outs at the answer-predicting token of each
    relation branch, the named shapes (and the relation, if `heads` has it) from the decoder's residual
    stream after `name_layer` layers and the two objects' cells (and extents and contact cell, if
    `heads` has them) after `place_layer`, the centres' distance (if `heads` has it) after
    `distance_layer` (intermediate
    supervision: without it the decoder stays at chance on relations even with perfect image features;
    README)."""
    at, t = found
    hn = hidden_states[name_layer][at[:, 0], at[:, 1]].float()
    hp = hidden_states[place_layer][at[:, 0], at[:, 1]].float()
    loss = F.cross_entropy(heads["first"](hn), t[:, 0]) + F.cross_entropy(heads["second"](hn), t[:, 1])
    hd = None
    if "distance" in heads:
        if distance_layer is None:
            raise ValueError("binding_loss: the heads have a distance read-out but no distance_layer was given")
        hd = hidden_states[distance_layer][at[:, 0], at[:, 1]].float()
    for j, k in enumerate(list(heads)[2:]):  # the places, in binding_target's order
        y = t[:, 2 + j]
        if (y >= 0).any():  # the contact cell is -100 (ignored) on left/above questions
            h = hd if k == "distance" else hn if k == "relation" else hp
            loss = loss + F.cross_entropy(heads[k](h), y, ignore_index=-100)
    return loss


def batch_tensors(seqs: list, pad: int, branches: bool) -> tuple[torch.Tensor, torch.Tensor, dict, torch.Tensor]:
    """Input ids, attention mask, extra model inputs (position ids for branches) and labels of a batch
    of `conversation` (branches False) or `branched` (True) sequences."""
    ids, att = pad_batch([x[0] for x in seqs], pad)
    extra = {}
    if branches:
        extra["position_ids"] = torch.zeros(ids.shape, dtype=torch.long)
        for b, x in enumerate(seqs):
            extra["position_ids"][b, :len(x[3])] = torch.tensor(x[3])
        att = branch_mask([x[4] for x in seqs], ids.shape[1])
    lab = torch.full(ids.shape, -100, dtype=torch.long)
    for b, x in enumerate(seqs):
        lab[b, :len(x[1])] = torch.tensor(x[1])
    return ids, att, extra, lab


class Packed:
    """A batch of `branched` sequences, packed: the shared prefixes [B, P] (one per image, all the same
    length) and the branches in rows [N, L] (L the longest branch; an image's branches fill its rows
    first-fit, longest first, so short ones share a row), each row's image (`owner` [N]), the rows'
    position ids (each branch continues the prefix's), labels and the additive
    attention mask over prefix + row [N, 1, L, P + L] (0 where a token may attend: the prefix, and its
    own branch causally; a large negative number elsewhere). The prefix runs once per image and its keys
    and values are shared by that image's rows (packed_forward), so a branch's attention costs P + L keys
    instead of the whole sequence's (~115 against ~380 for the shipped recipe), with the logits of
    branch_mask's dense run (--check-branches). `where(b, t)`: the row and column of position t of
    sequence b."""

    def __init__(self, seqs: list, pad: int):
        P = {x[4].index(1) if 1 in x[4] else len(x[4]) for x in seqs}
        if len(P) != 1:
            raise ValueError(f"packed branches need one prefix length, the batch has {sorted(P)}")
        self.P = P.pop()
        self.prefix = torch.tensor([x[0][:self.P] for x in seqs], dtype=torch.long)
        spans = []  # (image, start, end) of every branch
        for b, x in enumerate(seqs):
            seg, start = x[4], self.P
            while start < len(seg):
                end = start
                while end < len(seg) and seg[end] == seg[start]:
                    end += 1
                spans.append((b, start, end))
                start = end
        L = max(e - s for _, s, e in spans)
        rows: list[list[tuple[int, int, int]]] = []
        for b in range(len(seqs)):
            mine: list[list[tuple[int, int, int]]] = []
            for span in sorted((x for x in spans if x[0] == b), key=lambda x: x[1] - x[2]):
                fit = next((r for r in mine if sum(e - s for _, s, e in r) + span[2] - span[1] <= L), None)
                if fit is None:
                    mine.append([span])
                else:
                    fit.append(span)
            rows += mine
        N = len(rows)
        self.owner = torch.tensor([r[0][0] for r in rows], dtype=torch.long)
        self.ids = torch.full((N, L), pad, dtype=torch.long)
        self.labels = torch.full((N, L), -100, dtype=torch.long)
        self.pos = torch.zeros((N, L), dtype=torch.long)
        allowed = torch.zeros((N, L, self.P + L), dtype=torch.bool)
        allowed[:, :, :self.P] = True
        self._where: list[dict[int, tuple[int, int]]] = [{} for _ in seqs]
        for n, row in enumerate(rows):
            c = 0
            for b, s, e in row:
                x, k = seqs[b], e - s
                self.ids[n, c:c + k] = torch.tensor(x[0][s:e])
                self.labels[n, c:c + k] = torch.tensor(x[1][s:e])
                self.pos[n, c:c + k] = torch.tensor(x[3][s:e])
                allowed[n, c:c + k, self.P + c:self.P + c + k] = torch.ones(k, k, dtype=torch.bool).tril()
                for t in range(s, e):
                    self._where[b][t] = (n, c + t - s)
                c += k
        self.att = torch.zeros(allowed.shape, dtype=torch.float32).masked_fill_(~allowed, torch.finfo(torch.float32).min)[:, None]

    def where(self, b: int, t: int) -> tuple[int, int]:
        if t not in self._where[b]:
            raise ValueError(f"position {t} of sequence {b} is in no branch")
        return self._where[b][t]


def packed_forward(model, packed: Packed, px: torch.Tensor, hidden: bool = False):
    """The model on a Packed batch: the prefixes (with the images) once, then every branch row over its
    image's cached prefix keys and values (gradients flow into both). Returns the rows' output (logits
    [N, L, V]; with `hidden` the hidden states of the rows, as output_hidden_states gives them)."""
    pre = model(input_ids=packed.prefix, pixel_values=px, attention_mask=torch.ones_like(packed.prefix), use_cache=True,
                logits_to_keep=1)
    kv = [(layer.keys.index_select(0, packed.owner), layer.values.index_select(0, packed.owner)) for layer in pre.cache.layers]
    return model(input_ids=packed.ids, attention_mask=packed.att, position_ids=packed.pos, cache=DynamicCache(kv),
                 use_cache=True, output_hidden_states=hidden)


def pad_batch(seqs: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded input ids [B, T] and their attention mask."""
    T = max(len(x) for x in seqs)
    ids = torch.full((len(seqs), T), pad, dtype=torch.long)
    att = torch.zeros((len(seqs), T), dtype=torch.long)
    for b, x in enumerate(seqs):
        ids[b, :len(x)] = torch.tensor(x)
        att[b, :len(x)] = 1
    return ids, att


def pixel_values(images: np.ndarray) -> torch.Tensor:
    """uint8 [B, H, W, 3] -> CLIP-normalised [B, 3, H, W] (resize and crop are identities at 112 px).
    For training only: it can differ from CLIPImageProcessorPil by an ulp (the evaluation uses the latter)."""
    x = images.astype(np.float32) * np.float32(1 / 255)
    x = (x - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


# ------------------------------------------------------------------------------------------------
# Model
# ------------------------------------------------------------------------------------------------

def build_config(vocab_size: int, image_id: int, pad_id: int) -> LlavaConfig:
    t, v = SPEC["text"], SPEC["vision"]
    text = LlamaConfig(
        hidden_size=t["hidden_size"], num_hidden_layers=t["num_hidden_layers"], num_attention_heads=t["num_attention_heads"],
        num_key_value_heads=t["num_key_value_heads"], intermediate_size=t["intermediate_size"], vocab_size=vocab_size,
        rms_norm_eps=1e-5, max_position_embeddings=1024,
        rope_parameters={"rope_type": "default", "rope_theta": float(t["rope_theta"])},
        bos_token_id=1, eos_token_id=2, pad_token_id=pad_id, tie_word_embeddings=False)
    vision = CLIPVisionConfig(
        image_size=v["image_size"], patch_size=v["patch_size"], hidden_size=v["hidden_size"],
        num_hidden_layers=v["num_hidden_layers"], num_attention_heads=v["num_attention_heads"],
        intermediate_size=v["intermediate_size"], hidden_act="quick_gelu", layer_norm_eps=1e-5, projection_dim=128)
    return LlavaConfig(vision_config=vision, text_config=text, image_token_index=image_id, image_seq_length=N_IMAGE,
                       projector_hidden_act="gelu", vision_feature_select_strategy=SPEC["strategy"],
                       vision_feature_layer=SPEC["vision_feature_layer"], tie_word_embeddings=False)


def hub_config(config: LlavaConfig, vocab_size: int, image_id: int, pad_id: int) -> dict:
    spec = dict(SPEC, text=dict(SPEC["text"], head_dim=SPEC["text"]["hidden_size"] // SPEC["text"]["num_attention_heads"]),
                vision=dict(SPEC["vision"], projection_dim=128))
    cfg = fx.hub_config_json(spec, config)
    cfg["image_token_index"] = image_id
    cfg["pad_token_id"] = pad_id
    cfg["vocab_size"] = vocab_size
    cfg["text_config"]["vocab_size"] = vocab_size
    cfg["text_config"]["max_position_embeddings"] = 1024
    cfg["vision_config"]["vocab_size"] = vocab_size
    cfg["transformers_version"] = transformers.__version__
    return cfg


# ------------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------------

N_SHAPES, N_COLORS = 5, 6


GRID = IMAGE_SIZE // PATCH


def patch_probe(kind: str = "separate", position: bool = False, contact: bool = False) -> torch.nn.ModuleDict:
    """Linear heads on the selected vision features of each patch: "separate" names the shape
    (5 + background) and the colour (6 + background); "combo" names the (colour, shape) pair (30 +
    background), so the binding of colour to shape is linear on every patch and survives averaging
    over patches. With `position`, two more name the patch's column and row of the grid: CLIP's
    position embeddings enter at the input, but nothing else asks the features to keep them, and the
    decoder's RoPE moves keys and queries, not values, so an object's place reaches the answer only
    if its patches' features carry it. With `contact`, one logit per shape kind says whether an object
    of that kind touches another object on this patch (contacts.u8; the 14 px patch labels cannot tell
    touching from a 4 px gap). Training aid only: not part of the checkpoint."""
    vh = SPEC["vision"]["hidden_size"]
    heads = {"combo": torch.nn.Linear(vh, N_SHAPES * N_COLORS + 1)} if kind == "combo" else \
        {"shape": torch.nn.Linear(vh, N_SHAPES + 1), "color": torch.nn.Linear(vh, N_COLORS + 1)}
    if position:
        heads.update(column=torch.nn.Linear(vh, GRID), row=torch.nn.Linear(vh, GRID))
    if contact:
        heads.update(contact=torch.nn.Linear(vh, N_SHAPES))
    return torch.nn.ModuleDict(heads)


CONTACT_POS_WEIGHT = 5.0  # contact_loss's weight of the positive terms


def with_contacts(labels: np.ndarray, train_dir: Path) -> np.ndarray:
    """Patch labels [images, patches, 2] with each patch's contact byte (train_dir's contacts.u8) as a
    third label, in the labels' dtype; exits naming the file if it is missing or of another size."""
    f = train_dir / "contacts.u8"
    c = np.fromfile(f, dtype=np.uint8) if f.exists() else None
    if c is None or c.size != labels.shape[0] * N_IMAGE:
        raise SystemExit(f"{f}: {'missing' if c is None else f'{c.size} bytes'}, expected {labels.shape[0]} images x "
                         f"{N_IMAGE} patches (clvs-trace synth train writes it)")
    return np.concatenate([labels, c.reshape(labels.shape[0], N_IMAGE, 1).astype(labels.dtype)], axis=2)


def contact_bits(labels: torch.Tensor) -> torch.Tensor:
    """Contact bytes [...] (contacts.u8) -> one 0/1 float per shape kind [..., N_SHAPES]."""
    return ((labels.unsqueeze(-1) >> torch.arange(N_SHAPES)) & 1).float()


def contact_loss(aux: torch.nn.ModuleDict, x: torch.Tensor, pl: torch.Tensor, weight: float) -> torch.Tensor:
    """`weight` x the contact head's binary cross-entropy on features x [B, P, H] against the contact
    byte pl[..., 2] (positive terms weighted CONTACT_POS_WEIGHT: about 1% of the bits are set);
    zero without the head."""
    if "contact" not in aux or weight <= 0:
        return torch.zeros(())
    pos = torch.full((N_SHAPES,), CONTACT_POS_WEIGHT)
    return weight * F.binary_cross_entropy_with_logits(aux["contact"](x), contact_bits(pl[..., 2]), pos_weight=pos)


@torch.no_grad()
def contact_recall_precision(aux: torch.nn.ModuleDict, x: torch.Tensor, labels: np.ndarray) -> tuple[float, float]:
    """Of the set contact bits of patch labels [B, P, 3], the fraction the head predicts (logit > 0),
    and of its predictions the fraction that are set."""
    y = contact_bits(torch.from_numpy(labels[..., 2].astype(np.int64))) > 0
    p = aux["contact"](x) > 0
    hit = (p & y).sum().item()
    return hit / max(1, y.sum().item()), hit / max(1, p.sum().item())


def position_loss(aux: torch.nn.ModuleDict, x: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the column and row heads (if the probe has them) on features x [B, P, H],
    patches in raster order; zero without them."""
    if "column" not in aux:
        return torch.zeros(())
    col, row = (t.expand(x.shape[0], -1) for t in patch_places(x.shape[1]))
    return F.cross_entropy(aux["column"](x).reshape(-1, GRID), col.reshape(-1)) \
        + F.cross_entropy(aux["row"](x).reshape(-1, GRID), row.reshape(-1))


def patch_places(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Column and row of each of n patches in raster order."""
    p = torch.arange(n)
    return p % GRID, p // GRID


def pair_class(shape: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
    """Patch labels -> the (colour, shape) class: 0 for background, else 1 + (shape - 1) * colours + (colour - 1)."""
    return torch.where(shape > 0, 1 + (shape - 1) * N_COLORS + (colour - 1), torch.zeros_like(shape))


def probe_loss(aux: torch.nn.ModuleDict, x: torch.Tensor, labels: np.ndarray,
               accuracy: bool = False, contact_weight: float = 0.0) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Cross-entropy of the probe on features x [B, P, H] against patch labels [B, P, 2] (with the
    contact head, [B, P, 3]: the contact byte third; contact_loss at `contact_weight`) and, with
    `accuracy`, the fraction of object (non-background) patches whose shape and colour are both right."""
    pl = torch.from_numpy(labels.astype(np.int64))
    if "combo" in aux:
        target = pair_class(pl[..., 0], pl[..., 1])
        logits = aux["combo"](x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1)) + position_loss(aux, x) \
            + contact_loss(aux, x, pl, contact_weight)
        if not accuracy:
            return loss, None
        obj = target > 0
        return loss, (logits.argmax(-1) == target)[obj].float().mean()
    s, c = aux["shape"](x), aux["color"](x)
    loss = F.cross_entropy(s.reshape(-1, N_SHAPES + 1), pl[..., 0].reshape(-1)) \
        + F.cross_entropy(c.reshape(-1, N_COLORS + 1), pl[..., 1].reshape(-1)) + position_loss(aux, x) \
        + contact_loss(aux, x, pl, contact_weight)
    if not accuracy:
        return loss, None
    obj = pl[..., 0] > 0
    right = ((s.argmax(-1) == pl[..., 0]) & (c.argmax(-1) == pl[..., 1]))[obj].float().mean()
    return loss, right


def selected_vision_features(model, px: torch.Tensor) -> torch.Tensor:
    """What LLaVA hands its projector: hidden state `vision_feature_layer` without the CLS token."""
    out = model.model.vision_tower(px, output_hidden_states=True)
    return out.hidden_states[SPEC["vision_feature_layer"]][:, 1:]


@torch.no_grad()
def vision_features(model, images: np.ndarray, batch: int = 128) -> torch.Tensor:
    """selected_vision_features of uint8 images [N, H, W, 3] in batches, no gradient, fp32 [N, P, H]."""
    return torch.cat([selected_vision_features(model, pixel_values(images[s:s + batch])).float()
                      for s in range(0, len(images), batch)])


def right_per_shape(right: torch.Tensor, shape: torch.Tensor) -> dict:
    """Percentage of `right` (bool per patch) over the patches of each shape (labels 1..5; 0 = background)."""
    return {name: round(100 * right[shape == k + 1].float().mean().item(), 1) for k, name in enumerate(SHAPES)}


@torch.no_grad()
def probe_by_shape(model, aux: torch.nn.ModuleDict, images: np.ndarray, patches: np.ndarray, n: int = 512) -> dict:
    """Diagnostic for pilots: of the object patches of the last n training images, the percentage whose
    shape the probe names right, per shape ("separate" probe only)."""
    if "shape" not in aux:
        return {}
    was = model.training
    model.eval()
    pred = aux["shape"](vision_features(model, images[-n:])).argmax(-1)
    model.train(was)
    y = torch.from_numpy(patches[-n:, :, 0].astype(np.int64))
    return right_per_shape(pred == y, y)


def pretrain_vision(model, aux, images: np.ndarray, patches: np.ndarray, args) -> dict:
    """Stage 1: the vision tower alone learns to name the shape and colour on every patch (the probe's
    dense labels), so stage 2 starts from features that already separate the objects. AdamW, warm-up
    and cosine decay, own seed; the text model and projector are untouched."""
    rng = np.random.default_rng(args.seed + 1)
    params = list(model.model.vision_tower.parameters()) + list(aux.parameters())
    opt = torch.optim.AdamW(params, lr=args.vision_lr, betas=(0.9, 0.98), weight_decay=0.05)
    steps, bs = args.vision_steps, args.vision_batch
    t0 = time.time()
    losses, rights = [], []
    model.train()
    for step in range(steps):
        lr = args.vision_lr * min(1.0, (step + 1) / 100) * (0.5 * (1 + math.cos(math.pi * step / steps)) * 0.9 + 0.1)
        for g in opt.param_groups:
            g["lr"] = lr
        idx = np.sort(rng.choice(len(images), bs, replace=False))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            x = selected_vision_features(model, pixel_values(images[idx]))
            loss, right = probe_loss(aux, x.float(), patches[idx], accuracy=True, contact_weight=args.contact_probe)
        optimizer_step(opt, loss, params)
        losses.append(loss.item())
        rights.append(right.item())
        if (step + 1) % args.log_every == 0 or step == steps - 1:
            el = time.time() - t0
            if "column" in aux:
                with torch.no_grad():
                    col, row = patch_places(x.shape[1])
                    places = (aux["column"](x.float()).argmax(-1) == col) & (aux["row"](x.float()).argmax(-1) == row)
                log(f"vision step {step + 1}: patches whose column and row the probe names right {100 * places.float().mean().item():.1f}%")
            if "contact" in aux:
                rec, prec = contact_recall_precision(aux, x.float(), patches[idx])
                log(f"vision step {step + 1}: contact bits found {100 * rec:.1f}%, of those predicted {100 * prec:.1f}% right")
            log(f"vision step {step + 1}/{steps} probe loss {np.mean(losses[-args.log_every:]):.4f} object patches right {100 * np.mean(rights[-args.log_every:]):.1f}% lr {lr:.2e} {el / (step + 1):.2f}s/step ETA {el / (step + 1) * (steps - step - 1) / 60:.1f} min")
    return {"steps": steps, "batch": bs, "seconds": time.time() - t0,
            "probe_loss_last_100": float(np.mean(losses[-100:])), "patches_right_last_100": float(np.mean(rights[-100:]))}


def cosine_factor(step: int, steps: int, hold: int = 0) -> float:
    """The question stage's learning-rate factor after warm-up: 1 until step `hold` (--lr-hold), then a
    cosine from 1 down to 0.05 at the last step."""
    progress = min(1.0, max(0, step - hold) / max(1, steps - hold))
    return 0.5 * (1 + math.cos(math.pi * progress)) * 0.95 + 0.05


def train(model, enc: Encoder, images: np.ndarray, patches: np.ndarray | None, qas: list, args, held: Path,
          aux: torch.nn.ModuleDict | None = None, caption: bool = False, objects: list | None = None,
          contacts: list | None = None) -> dict:
    """AdamW on the answer tokens' cross-entropy. With `aux` (the patch probe; --aux-weight > 0) the
    probe on the projector's input (the selected vision features, one per patch) keeps being trained
    to name the shape and colour on each patch; it speeds up grounding and is not part of the checkpoint.
    With `caption` (the caption stage, LLaVA's stage 1 in spirit): every sequence is one image and its
    description, over the images that have one (--caption-steps/--caption-batch/--caption-lr)."""
    rng = random.Random(args.seed + (2 if caption else 0))
    vision_rng = random.Random(args.seed + 4)
    feats: dict = {}
    if patches is None or args.aux_weight <= 0:
        aux = None
    hook = None
    if aux is not None:
        hook = model.model.multi_modal_projector.register_forward_hook(lambda m, inp, out: feats.__setitem__("x", inp[0]))
    bind = None
    if args.binding_aux > 0 and args.branches and not caption and objects:
        if (args.binding_extents or args.binding_contact) and patches is None:
            raise SystemExit("--binding-extents and --binding-contact need the training set's patch labels "
                             "(patches.u8; clvs-trace synth train --patch 14)")
        bind = binding_heads(model.config.text_config.hidden_size, args.binding_extents, args.binding_contact,
                             args.binding_distance, args.binding_relation)
    params = (list(model.parameters()) + (list(aux.parameters()) if aux is not None else [])
              + (list(bind.parameters()) if bind is not None else []))
    base_lr = args.caption_lr if caption else args.lr
    opt = torch.optim.AdamW(params, lr=base_lr, betas=(0.9, 0.98), weight_decay=0.05)
    steps, bs = (args.caption_steps, args.caption_batch) if caption else (args.steps, args.batch)
    stage = "caption step" if caption else "step"
    pool = [i for i, qa in enumerate(qas) if any(k == "describe" for k, _, _ in qa)] if caption else list(range(len(qas)))
    # The last CAPTION_VAL described images measure the caption stage and are kept out of it.
    pool, val = (pool[:-CAPTION_VAL], pool[-CAPTION_VAL:]) if caption else (pool, [])
    n = len(pool)
    order = list(pool)
    rng.shuffle(order)
    cursor = 0
    history, aux_history, bind_history = [], [], []
    t0 = time.time()
    model.train()
    if args.branches and args.packed and not caption:
        # Packed branches are many short rows: plain matmul attention is faster there than the CPU
        # flash kernel (whose backward dominated the dense run); the saved config does not record it.
        model.set_attn_implementation({"text_config": "eager"})
    pad = enc.tok.token_to_id("<pad>")
    for step in range(steps):
        lr = base_lr * min(1.0, (step + 1) / args.warmup) * cosine_factor(step, steps, 0 if caption else args.lr_hold)
        for g in opt.param_groups:
            g["lr"] = lr
        if cursor + bs > n:
            rng.shuffle(order)
            cursor = 0
        idx = order[cursor:cursor + bs]
        cursor += bs
        if step < args.existence_steps and not caption:  # the existence stage (--existence-steps)
            stage_qas = [existence_first(qas[i], args.dense_existence if args.branches else 0) for i in idx]
        else:
            stage_qas = [qas[i] for i in idx]
        branches = args.branches and not caption
        if branches:
            late = step >= args.existence_steps
            dense_rel = args.dense_relation if late else 0
            seqs = [branched(enc, qa, rng, args.turns, args.describe_turn,
                             args.late_dense_existence if late else args.dense_existence, dense_rel,
                             (open_questions(objects[i], rng, args.open_questions)
                              + place_questions(objects[i], rng, args.place_questions)
                              + (touching_questions(objects[i], contacts[i], rng, args.dense_touching)
                                 if late and contacts else [])) if objects else None,
                             objects[i] if objects else None)
                    for i, qa in zip(idx, stage_qas)]
        else:
            seqs = [conversation(enc, qa, rng, args.turns, caption, args.describe_turn) for qa in stage_qas]
        packed = Packed(seqs, pad) if branches and args.packed else None
        if packed is not None:
            lab = packed.labels
        else:
            ids, att, extra, lab = batch_tensors(seqs, pad, branches)
        if args.weighting == "answer":  # per-token weight 1 / (tokens of its answer, counted per image)
            wt = torch.zeros(lab.shape, dtype=torch.float32)
            answers = 0
            for b, x in enumerate(seqs):
                tn = x[2]
                sizes = collections.Counter(t for t in tn if t >= 0)
                answers += len(sizes)
                w = [1.0 / sizes[t] if t >= 0 else 0.0 for t in tn]
                if packed is None:
                    wt[b, :len(tn)] = torch.tensor(w)
                else:
                    for t, v in enumerate(w):
                        if v:
                            wt[packed.where(b, t)] = v
        px = pixel_values(images[np.array(idx)])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            found = None
            if bind is not None:
                found = binding_targets(seqs, [objects[i] for i in idx], None if patches is None else patches[np.array(idx)],
                                        args.binding_extents, args.binding_contact, args.binding_distance,
                                        args.binding_relation)
                if found is not None and packed is not None:  # (sequence, position) -> (row, column)
                    found = (torch.tensor([packed.where(int(b), int(t)) for b, t in found[0]]), found[1])
            if packed is not None:
                out = packed_forward(model, packed, px, hidden=found is not None)
            else:
                out = model(input_ids=ids, pixel_values=px, attention_mask=att, output_hidden_states=found is not None, **extra)
            logits = out.logits.float()
            ce = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), lab[:, 1:].reshape(-1), ignore_index=-100,
                                 reduction="none")
            if args.weighting == "answer":  # every answer weighs the same, whatever its length
                loss = (ce * wt[:, 1:].reshape(-1)).sum() / answers
            else:  # every answer token weighs the same
                loss = ce.sum() / (lab[:, 1:] != -100).sum()
            aux_loss = torch.zeros(())
            if aux is not None:
                aux_loss, _ = probe_loss(aux, feats["x"].float(), patches[np.array(idx)], contact_weight=args.contact_probe)
                if args.vision_extra > 0 and not caption:  # more images for the vision tower and probe only
                    extra_idx = np.sort(np.array(vision_rng.sample(range(len(images)), args.vision_extra)))
                    vx = selected_vision_features(model, pixel_values(images[extra_idx]))
                    extra_loss, _ = probe_loss(aux, vx.float(), patches[extra_idx], contact_weight=args.contact_probe)
                    aux_loss = (aux_loss * len(idx) + extra_loss * len(extra_idx)) / (len(idx) + len(extra_idx))
            total = loss + args.aux_weight * aux_loss
            if found is not None:
                bind_loss = binding_loss(bind, out.hidden_states, found, args.binding_name_layer, args.binding_place_layer,
                                         args.binding_distance_layer)
                total = total + args.binding_aux * bind_loss
                bind_history.append(bind_loss.item())
        optimizer_step(opt, total, params)
        history.append(loss.item())
        aux_history.append(float(aux_loss.detach()))
        if (step + 1) % args.log_every == 0 or step == steps - 1:
            el = time.time() - t0
            recent = float(np.mean(history[-args.log_every:]))
            log(f"{stage} {step + 1}/{steps} loss {recent:.4f} aux {float(np.mean(aux_history[-args.log_every:])):.3f}{f' binding {np.mean(bind_history[-args.log_every:]):.3f}' if bind_history else ''} lr {lr:.2e} {el / (step + 1):.2f}s/step ETA {el / (step + 1) * (steps - step - 1) / 60:.1f} min")
        if args.eval_every and (step + 1) % args.eval_every == 0 and step < steps - 1:
            if caption:
                log(f"{stage} {step + 1}: descriptions of unseen images right {caption_accuracy(model, enc, images, qas, val)}")
            else:
                log(f"step {step + 1}: quick held-out first-token accuracy {quick_accuracy(model, enc, held, args.quick_eval or 400)}")
                if aux is not None:
                    log(f"step {step + 1}: probe, patches of each shape named right {probe_by_shape(model, aux, images, patches)}")
    if hook is not None:
        hook.remove()
    result = {"steps": steps, "batch": bs, "lr": base_lr, "seconds": time.time() - t0,
              "loss_first_100": float(np.mean(history[:100])), "loss_last_100": float(np.mean(history[-100:]))}
    if bind_history:
        result["binding_loss_first_100"] = float(np.mean(bind_history[:100]))
        result["binding_loss_last_100"] = float(np.mean(bind_history[-100:]))
    if caption:
        result["unseen_descriptions_right"] = caption_accuracy(model, enc, images, qas, val)
        log(f"caption stage: descriptions of {len(val)} unseen images right {result['unseen_descriptions_right']}")
    return result


# ------------------------------------------------------------------------------------------------
# Evaluation
# ------------------------------------------------------------------------------------------------

@torch.no_grad()
def greedy_answers(model, enc: Encoder, held: Path, ckpt: Path, max_new: int = 24) -> list[dict]:
    """Greedy answers (the plain question in the single-turn template) for every held-out question,
    with a KV cache, one question at a time; pixels from the checkpoint's `CLIPImageProcessorPil`."""
    from PIL import Image
    processor = fx.CLIPImageProcessorPil.from_pretrained(str(ckpt))
    model.eval()
    rows = [json.loads(l) for l in open(held / "questions.jsonl")]
    cache_px: dict[str, torch.Tensor] = {}
    out = []
    for r in rows:
        if r["image"] not in cache_px:
            image = Image.open(held / "images" / r["image"])
            cache_px = {r["image"]: processor(images=image, return_tensors="pt")["pixel_values"]}
        px = cache_px[r["image"]]
        ids = torch.tensor([enc.first_turn(r["text"])])
        res = model.generate(input_ids=ids, pixel_values=px, max_new_tokens=max_new, do_sample=False,
                             eos_token_id=enc.eos, pad_token_id=enc.tok.token_to_id("<pad>"))
        gen = res[0, ids.shape[1]:].tolist()
        if gen and gen[-1] == enc.eos:
            gen = gen[:-1]
        text = enc.tok.decode(gen)
        out.append(dict(question_id=r["question_id"], kind=r["kind"], type=r["type"], label=r["label"],
                        text=r["text"], image=r["image"], ids=gen, answer=text))
    return out


@torch.no_grad()
def caption_accuracy(model, enc: Encoder, images: np.ndarray, qas: list, idx: list[int], batch: int = 32) -> dict:
    """Teacher-forced description accuracy on the images `idx` (kept out of the caption stage): the
    fraction of description tokens whose argmax is right, and of descriptions right in every token
    (which is what greedy decoding would then write)."""
    model.eval()
    pad = enc.tok.token_to_id("<pad>")
    tokens = right_tokens = whole = 0
    rng = random.Random(0)
    for s in range(0, len(idx), batch):
        part = idx[s:s + batch]
        seqs = [conversation(enc, qas[i], rng, 1, caption=True) for i in part]
        ids, att = pad_batch([x for x, _, _ in seqs], pad)
        logits = model(input_ids=ids, pixel_values=pixel_values(images[np.array(part)]), attention_mask=att).logits
        pred = logits[:, :-1].argmax(-1)
        for b, (_, y, _) in enumerate(seqs):
            y = torch.tensor(y[1:])
            m = y != -100
            ok = pred[b, :len(y)][m] == y[m]
            tokens += int(m.sum())
            right_tokens += int(ok.sum())
            whole += int(ok.all())
    model.train()
    return {"tokens": round(100 * right_tokens / max(tokens, 1), 2), "descriptions": round(100 * whole / max(len(idx), 1), 2)}


@torch.no_grad()
def quick_accuracy(model, enc: Encoder, held: Path, n: int, batch: int = 32) -> dict:
    """First-token accuracy of the first n held-out questions, teacher-forced in batches: is the
    argmax after "ASSISTANT:" the first token of the right answer? (For pilot runs; not the report.)"""
    from PIL import Image
    rows = [json.loads(l) for l in open(held / "questions.jsonl")]
    rng = random.Random(0)
    rng.shuffle(rows)
    rows = rows[:n]
    model.eval()
    pad = enc.tok.token_to_id("<pad>")
    by: dict[str, list[int]] = collections.defaultdict(list)
    for s in range(0, len(rows), batch):
        part = rows[s:s + batch]
        seqs = [enc.first_turn(r["text"]) for r in part]
        ids, att = pad_batch(seqs, pad)
        imgs = np.stack([np.asarray(Image.open(held / "images" / r["image"]).convert("RGB")) for r in part])
        logits = model(input_ids=ids, pixel_values=pixel_values(imgs), attention_mask=att).logits
        for b, r in enumerate(part):
            label = r["label"].capitalize()
            want = enc.answer(prompt(r["text"]), label)[0]
            ok = int(logits[b, len(seqs[b]) - 1].argmax().item() == want)
            by[r["kind"]].append(ok)
            by["all"].append(ok)
    model.train()
    return {k: round(100 * sum(v) / len(v), 2) for k, v in sorted(by.items())}


@torch.no_grad()
def check_branches(tokenizer_json: Path, tolerance: float = 1e-5) -> float:
    """--check-branches: a randomly initialised model (the shipped spec, fp32, random pixels) must give
    every branch of a branched sequence the logits of the same question asked alone (prefix + branch,
    a plain causal run); returns the largest difference and raises past `tolerance`."""
    enc = Encoder(tokenizer_json)
    model = LlavaForConditionalGeneration(build_config(enc.tok.get_vocab_size(with_added_tokens=True), enc.image_id,
                                                       enc.tok.token_to_id("<pad>"))).eval()
    qas = [[("existence", existence_text("red", "circle"), "Yes"), ("attribute", "Is the circle blue?", "No"),
            ("count", "How many objects are in the image?", "2"),
            ("describe", "What objects are in the image?", "A red circle and an orange star.")],
           [("relation", "Is the star to the left of the square?", "No"),
            ("describe", "What objects are in the image?", "A green square and a yellow star.")]]
    rng = random.Random(0)
    seqs = [branched(enc, qa, rng, 8, describe_turn=True, dense=4) for qa in qas]
    ids, _ = pad_batch([x[0] for x in seqs], enc.tok.token_to_id("<pad>"))
    pos = torch.zeros(ids.shape, dtype=torch.long)
    for b, x in enumerate(seqs):
        pos[b, :len(x[3])] = torch.tensor(x[3])
    px = torch.randn(len(qas), 3, IMAGE_SIZE, IMAGE_SIZE)
    logits = model(input_ids=ids, pixel_values=px, attention_mask=branch_mask([x[4] for x in seqs], ids.shape[1]),
                   position_ids=pos).logits
    worst, branches = 0.0, 0
    for b, x in enumerate(seqs):
        seg = torch.tensor(x[4])
        for s in range(1, int(seg.max()) + 1):
            keep = ((seg == 0) | (seg == s)).nonzero().flatten()
            alone = model(input_ids=torch.tensor(x[0])[keep][None], pixel_values=px[b:b + 1]).logits[0]
            worst = max(worst, (alone - logits[b, keep]).abs().max().item())
            branches += 1
    log(f"branches: {branches} branches, largest |logit difference| from the question asked alone {worst:.2e}")
    if worst > tolerance:
        raise SystemExit(f"branched sequences differ from single-turn runs by {worst} (> {tolerance})")
    packed = Packed(seqs, enc.tok.token_to_id("<pad>"))
    model.set_attn_implementation({"text_config": "eager"})  # as train() runs packed batches
    rows = packed_forward(model, packed, px).logits
    off = max(((logits[b, t] - rows[packed.where(b, t)]).abs().max().item()
               for b, x in enumerate(seqs) for t in range(packed.P, len(x[0]))), default=0.0)
    log(f"packed: {packed.ids.shape[0]} rows, largest |logit difference| from the dense branch mask {off:.2e}")
    if off > tolerance:
        raise SystemExit(f"packed branches differ from the dense branch mask by {off} (> {tolerance})")
    return max(worst, off)


def accuracy(answers: list[dict]) -> dict:
    by: dict[str, list[int]] = collections.defaultdict(list)
    for a in answers:
        got = a["answer"].strip().rstrip(".").lower()
        by[a["kind"]].append(int(got == a["label"].lower()))
        by[f"{a['kind']}/{a['type']}"].append(int(got == a["label"].lower()))
    return {k: {"n": len(v), "accuracy": round(100 * sum(v) / len(v), 2)} for k, v in sorted(by.items())}


# ------------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "clvs-shapes-work")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help="the checkpoint folder (default: the CLI's embedded model, whose held-out answers and report "
                         "go next to this script for the tests; for any other folder they go into it)")
    ap.add_argument("--clvs-trace", help="a built clvs-trace binary (default: swift build -c release)")
    ap.add_argument("--train-images", type=int, default=60000)
    ap.add_argument("--steps", type=int, default=2150)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--turns", type=int, default=6)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--lr-hold", type=int, default=1400, metavar="S",
                    help="question stage: the learning rate stays at --lr until step S, then the cosine decay runs over "
                         "the remaining steps (0: the cosine runs from the first step, as in runs L-P and T-W; runs Q-S held it)")
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True, help="bf16 autocast for matmuls")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--vision-steps", type=int, default=1100,
                    help="stage 1: steps of vision-tower pre-training on the patch labels (0: none). With the "
                         "multi-turn recipe of 2026-12-04 it did not help (1800 steps, then held-out existence 53.9%%); "
                         "with branches, dense existence and open questions it does (README)")
    ap.add_argument("--vision-batch", type=int, default=64)
    ap.add_argument("--vision-extra", type=int, default=36, metavar="B",
                    help="question stage: B more training images per step through the vision tower and the patch probe "
                         "only (their probe loss joins the aux loss), so the vision tower sees more images than the decoder")
    ap.add_argument("--caption-steps", type=int, default=0,
                    help="caption stage before the question stage: steps on image -> description only (0: none)")
    ap.add_argument("--caption-batch", type=int, default=32)
    ap.add_argument("--caption-lr", type=float, default=1e-3)
    ap.add_argument("--caption-state", type=Path,
                    help="for pilots: the model after the caption stage is saved here, or loaded from here if it exists")
    ap.add_argument("--vision-lr", type=float, default=2e-3)
    ap.add_argument("--aux-weight", type=float, default=0.5, help="weight of the per-patch shape/colour probe loss (0: off)")
    ap.add_argument("--contact-probe", type=float, default=0.0,
                    help="weight of a per-patch probe head saying which shape kinds touch another object on the patch "
                         "(contacts.u8), in the vision stage and with the patch probe after it (0: off)")
    ap.add_argument("--probe", choices=["separate", "combo"], default="separate",
                    help="the patch probe's classes: shape and colour apart, or the (colour, shape) pair")
    ap.add_argument("--probe-position", action=argparse.BooleanOptionalAction, default=True,
                    help="the patch probe also names each patch's column and row, so the vision features keep the "
                         "patch's place: without it a linear probe finds an object patch's column 19.1%% of the time "
                         "(chance 12.5%%; README)")
    ap.add_argument("--describe-turn", action="store_true",
                    help="end every conversation with the description turn (\"What objects are in the image?\"), when the image has one")
    ap.add_argument("--branches", action=argparse.BooleanOptionalAction, default=True,
                    help="each question of an image is its own single-turn branch after the shared prefix (system prompt and "
                         "image): a branch sees the prefix and itself only, so no answer can be read off another question")
    ap.add_argument("--packed", action=argparse.BooleanOptionalAction, default=True,
                    help="with --branches: run each image's prefix once and its branches in short rows over the prefix's "
                         "cached keys and values (class Packed; the same logits as the dense branch mask, --check-branches, "
                         "with 15-23%% less time per step; since run U); --no-packed: one masked sequence per image (runs L to T)")
    ap.add_argument("--dense-existence", type=int, default=8, metavar="K",
                    help="with --branches: up to K more existence branches per described image (its present colour-shape "
                         "pairs, at most K / 2, and as many absent ones, half of them sharing a colour or a shape with a present object)")
    ap.add_argument("--late-dense-existence", type=int, default=4, metavar="K",
                    help="with --branches, after the existence stage: K instead of --dense-existence, to make room for "
                         "other branches (--dense-relation) within the time budget")
    ap.add_argument("--dense-relation", type=int, default=3, metavar="K",
                    help="with --branches, after the existence stage: up to K more relation branches per image, with "
                         "exact answers (the mirror of each relation question it has, then left and above for every pair "
                         "of objects from their centres, both orders; before 2026-12-05 evening: left/right of "
                         "described objects only)")
    ap.add_argument("--dense-touching", type=int, default=2, metavar="K",
                    help="with --branches, after the existence stage: up to K touching branches per image with exact "
                         "answers (every pair of objects, both orders, touching and apart ones taken in turn; needs the "
                         "training set's \"contacts\", which clvs-trace synth train writes since 2026-12-06; 0: off, as in runs L-Q, T and U)")
    ap.add_argument("--open-questions", type=int, default=6, metavar="K",
                    help="with --branches: up to K open-question branches per image, from the first step (\"What color is "
                         "the square?\" -> its colour or \"none\"; \"Where is the square?\" -> \"column 3, row 7\"): "
                         "training aids that name what the benchmark's yes/no questions test; needs the training set's "
                         "\"objects\" (clvs-trace synth train writes them since 2026-12-05)")
    ap.add_argument("--place-questions", type=int, default=0, metavar="K",
                    help="with --branches: up to K yes/no branches per image about one object's place (\"Is the square in "
                         "the left half of the image?\", \"... top half ...\"), from the first step; training aids for "
                         "relations (off by default: run K, run J's recipe with 4 of them, 2,000 steps and --late-dense-existence 2, "
                         "bound \"left\" answers to the first-named object's half yet scored worse at every kind, "
                         "relation 53.4%%; README)")
    ap.add_argument("--binding-aux", type=float, default=0.3, metavar="W",
                    help="with --branches: weight of the binding read-outs' loss (binding_loss): at each relation "
                         "question's answer-predicting token, linear heads name the first and second shape the question "
                         "names (after --binding-name-layer decoder layers) and the two objects' patch cells (after "
                         "--binding-place-layer); the heads are dropped after training (0: off; run L took relations from "
                         "60.3%% to 82.4%% with it, run U 83.4%%; README)")
    ap.add_argument("--binding-extents", action="store_true",
                    help="with --binding-aux: the read-outs also give each object's first and last column and row "
                         "(from the training set's patch labels), a path to touching")
    ap.add_argument("--binding-contact", action="store_true",
                    help="with --binding-aux: for touching questions the read-outs also name the first patch where the "
                         "two objects touch, or none (contacts.u8; after --binding-place-layer)")
    ap.add_argument("--binding-distance", action="store_true",
                    help="with --binding-aux: the read-outs also give the distance between the two objects' centres "
                         "(in 4 px classes, 60 px and more in one; after --binding-distance-layer), a path to touching")
    ap.add_argument("--binding-relation", action=argparse.BooleanOptionalAction, default=True,
                    help="with --binding-aux: the read-outs also name the relation the question asks (left, above or "
                         "touching; after --binding-name-layer): run U, without it, answered touching questions by the "
                         "above rule")
    ap.add_argument("--binding-name-layer", type=int, default=2, metavar="L")
    ap.add_argument("--binding-place-layer", type=int, default=4, metavar="L")
    ap.add_argument("--binding-distance-layer", type=int, default=6, metavar="L")
    ap.add_argument("--existence-steps", type=int, default=800, metavar="N",
                    help="the first N question-stage steps ask existence questions only (with --dense-existence, more of "
                         "them per image), then every kind; 0: every kind from the start")
    ap.add_argument("--weighting", choices=["answer", "token"], default="token",
                    help="loss weighting: every answer token the same (default, the shipped model) or every answer the same (the same loss unless a turn has a multi-token answer, i.e. the description, which only --turns 8 or --describe-turn reach)")
    ap.add_argument("--quick-eval", type=int, default=0, metavar="N",
                    help="after training, the first-token accuracy on N held-out questions (teacher-forced, batched; for pilots)")
    ap.add_argument("--eval-every", type=int, default=0, metavar="S", help="also every S steps, the quick accuracy (on --quick-eval questions, else 400; the run goes on)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--check-branches", action="store_true",
                    help="check that --branches gives every question the logits it has alone (random weights; the "
                         "shipped tokenizer) and exit")
    ap.add_argument("--eval-only", action="store_true", help="skip training; evaluate the checkpoint in --out")
    args = ap.parse_args(argv)

    if not 0 <= args.lr_hold < args.steps:
        ap.error("--lr-hold must be at least 0 and below --steps")
    layers = SPEC["text"]["num_hidden_layers"]
    for name in ("binding_name_layer", "binding_place_layer", "binding_distance_layer"):
        if not 1 <= getattr(args, name) <= layers:
            ap.error(f"--{name.replace('_', '-')} must be between 1 and {layers} (the decoder's layers)")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed % 2**32)
    transformers.logging.set_verbosity_error()
    args.work.mkdir(parents=True, exist_ok=True)
    t_start = time.time()

    if args.check_branches:
        check_branches(args.out / "tokenizer.json")
        return 0
    exe = build_swift(args.clvs_trace)
    train_dir, held = make_data(exe, args.work, args.train_images, 1000)
    lines = [json.loads(l) for l in open(train_dir / "qa.jsonl")]
    qas = [x["qa"] for x in lines]
    objects = None
    if args.open_questions > 0 or args.place_questions > 0 or args.dense_touching > 0:
        if not args.branches or any("objects" not in x for x in lines):
            raise SystemExit(f"--open-questions, --place-questions and --dense-touching need --branches and the objects of every image in {train_dir / 'qa.jsonl'} "
                             f"(written by clvs-trace synth train since 2026-12-05: delete the folder to regenerate it)")
        objects = [x["objects"] for x in lines]
    contacts = None
    if args.dense_touching > 0:
        if any("contacts" not in x for x in lines):
            raise SystemExit(f"--dense-touching needs the contacts of every image in {train_dir / 'qa.jsonl'} "
                             f"(written by clvs-trace synth train since 2026-12-06: delete the folder to regenerate it)")
        contacts = [x["contacts"] for x in lines]
    del lines
    images = np.fromfile(train_dir / "images.u8", dtype=np.uint8).reshape(len(qas), IMAGE_SIZE, IMAGE_SIZE, 3)
    patches = None
    if (train_dir / "patches.u8").exists():
        patches = np.fromfile(train_dir / "patches.u8", dtype=np.uint8).reshape(len(qas), N_IMAGE, 2)
        if args.contact_probe > 0 or args.binding_contact:
            patches = with_contacts(patches, train_dir)
    log(f"data: {len(qas)} training images, held-out {held}")

    report: dict = {"spec": SPEC, "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}}
    if not args.eval_only:
        counts = collections.Counter()
        for qa in qas:
            for _, q, a in qa:
                counts[f"USER: {q} ASSISTANT: {a}"] += 1
        if objects is not None:  # the open questions' words (their answers: one per object, "none" once per image)
            rng0 = random.Random(args.seed + 3)
            for objs in objects:
                aids = open_questions(objs, rng0, 2 * len(SHAPES) + 1) if args.open_questions > 0 else []  # all of them
                aids += place_questions(objs, rng0, 2 * len(SHAPES)) if args.place_questions > 0 else []
                for _, q, a in aids:
                    counts[f"USER: {q} ASSISTANT: {a}"] += 1
        texts = list(counts.items()) + [(SYSTEM_PROMPT, len(qas)), (SUFFIX.strip(), len(qas))]
        tj, tc = stok.build(sorted(texts))
        tmp = Path(tempfile.mkdtemp(prefix="shapes-model.", dir=args.work))
        fx.atomic_write_json(tmp / "tokenizer.json", tj)
        fx.atomic_write_json(tmp / "tokenizer_config.json", tc)
        fx.atomic_write_json(tmp / "special_tokens_map.json", stok.SPECIAL_TOKENS_MAP)
        enc = Encoder(tmp / "tokenizer.json")
        vocab = enc.tok.get_vocab_size(with_added_tokens=True)
        pad_id = enc.tok.token_to_id("<pad>")
        log(f"tokenizer: {vocab} tokens ({len(tj['model']['merges'])} merges)")

        config = build_config(vocab, enc.image_id, pad_id)
        model = LlavaForConditionalGeneration(config)
        nparams = sum(p.numel() for p in model.parameters())
        log(f"model: {nparams / 1e6:.2f} M parameters")
        report["parameters"] = nparams
        aux = patch_probe(args.probe, args.probe_position, args.contact_probe > 0) if patches is not None and (args.aux_weight > 0 or args.vision_steps > 0) else None
        if aux is not None and args.vision_steps > 0:
            report["vision_pretraining"] = pretrain_vision(model, aux, images, patches, args)
        if args.caption_steps > 0 and args.caption_state and args.caption_state.exists():
            state = torch.load(args.caption_state)
            model.load_state_dict(state["model"])
            if aux is not None:
                aux.load_state_dict(state["aux"])
            log(f"caption stage: loaded {args.caption_state}")
        elif args.caption_steps > 0:
            report["caption_training"] = train(model, enc, images, patches, qas, args, held, aux, caption=True)
            if args.caption_state:
                torch.save({"model": model.state_dict(), "aux": aux.state_dict() if aux is not None else {}}, args.caption_state)
        report["training"] = train(model, enc, images, patches, qas, args, held, aux, objects=objects, contacts=contacts)
        if args.quick_eval:
            q = quick_accuracy(model, enc, held, args.quick_eval)
            log(f"quick held-out first-token accuracy: {q}")
            fx.atomic_write_json(args.work / "quick_eval.json", dict(report, quick=q))
            return 0

        model = model.to(torch.float16)
        sd = {fx.to_hub_name(k): v.detach().contiguous() for k, v in model.state_dict().items()}
        fx.atomic_save_safetensors(dict(sorted(sd.items())), tmp / "model.safetensors", metadata={"format": "pt"})
        fx.atomic_write_json(tmp / "config.json", hub_config(config, vocab, enc.image_id, pad_id))
        fx.atomic_write_json(tmp / "generation_config.json", {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": pad_id})
        fx.atomic_write_json(tmp / "preprocessor_config.json", fx.preprocessor_config(IMAGE_SIZE))
        pc = fx.processor_config(PATCH, SPEC["strategy"])
        fx.atomic_write_json(tmp / "processor_config.json", pc)
        for root, _, files in os.walk(tmp):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        fx.replace_dir(tmp, args.out)
        log(f"saved {args.out}")

    enc = Encoder(args.out / "tokenizer.json")
    loaded = fx.load_fp32(args.out)
    answers = greedy_answers(loaded, enc, held, args.out)
    acc = accuracy(answers)
    report["heldout_accuracy"] = acc
    if not args.eval_only:
        report["total_minutes"] = round((time.time() - t_start) / 60, 1)
    # The references the Swift tests read belong to the embedded model only: a run into another folder
    # (a smoke run, an experiment) keeps its answers and report with its checkpoint.
    refs = HERE if args.out.resolve() == DEFAULT_OUT.resolve() else args.out
    fx.atomic_write_bytes(refs / "heldout_transformers.jsonl", "".join(json.dumps(a) + "\n" for a in answers).encode())
    if args.eval_only and (refs / "training_report.json").exists():
        # Keep the training record; replace the evaluation.
        old = json.load(open(refs / "training_report.json"))
        old["heldout_accuracy"] = acc
        report = old
    fx.atomic_write_json(refs / "training_report.json", report)
    log(f"held-out answers and report: {refs}")
    for k, v in acc.items():
        log(f"held-out {k}: {v['accuracy']}% of {v['n']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
