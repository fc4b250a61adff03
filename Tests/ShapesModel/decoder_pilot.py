#!/usr/bin/env python3
"""Decoder pilots for the shapes model: is the language model's read-out of the image the bottleneck?

The vision tower is replaced by perfect image features: every patch gets the one-hot shape, colour and
(colour, shape) pair of the generator's patch labels (`patches.u8`, written by `clvs-trace synth train
--patch 14`), and with `--position-features` its one-hot column and row on the patch grid. Whatever the
decoder still fails to learn, it fails for its own reasons. Two set-ups:

* `--mode llava` (default): the shapes model's Llama decoder and projector (`train_shapes_model.py`'s
  config), the exact LLaVA-1.5 prompt and the training script's sequence builders (multi-turn, or
  `--branches` with `--dense-existence`); `--only KIND` keeps one question kind, `--no-system` drops
  the system prompt (a diagnostic: the runtime's prompt always has it). Relation curricula:
  `--place-questions K --place-first N` (single-object place questions alone for N steps, then with
  every question) and `--opposite-first N` (until step N, only left/above questions about two objects
  on either side of the middle, whose answer is the first-named object's half).
* `--mode minimal`: existence questions only, as a bare sequence [64 patch tokens, Is there a <colour>
  <shape> in the image? ASSISTANT:] -> Yes/No, with a small Llama (`--layers`); `--merged` gives the
  (colour, shape) pair one token instead of two words.
* `--mode relation`: left/above questions only, as a bare sequence [64 patch tokens with their column and
  row, Is the <shape> to the left of (above) the <shape>? ASSISTANT:] -> Yes/No, with an 8-layer Llama of
  the shapes decoder's width; `--binding-aux W` adds the training script's binding read-outs (the named
  shapes and the two objects' cells at the answer-predicting token, train_shapes_model.py --binding-aux);
  `--touching` adds the generator's touching questions, `--binding-extents` each object's extent,
  `--contact-features` each patch's contact bits (contacts.u8: which shape kinds touch another object
  on the patch).

All train with AdamW (warm-up, then cosine; constant in minimal mode) and report the
teacher-forced first answer token's accuracy on the questions of the last `--held-back` training
images, which are kept out of training. Python only, one thread by default; no Swift needed once the
training data exist (run train_shapes_model.py once, or `clvs-trace synth train --seed 1000 --images
60000 --questions 8 --patch 14 --out DIR`).

    python3 Tests/ShapesModel/decoder_pilot.py --data /tmp/clvs-shapes-work/train-1000-60000 --branches --turns 8
    python3 Tests/ShapesModel/decoder_pilot.py --data ... --mode minimal --batch 256
    python3 Tests/ShapesModel/decoder_pilot.py --data ... --mode relation --batch 32 --binding-aux 0.3

Results of 2026-12-04 are in the README (shapes model section).
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[0] / "ModelsTests" / "Fixtures"))
import train_shapes_model as tsm  # noqa: E402

from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

N_FEATURES = (tsm.N_SHAPES + 1) + (tsm.N_COLORS + 1) + (tsm.N_SHAPES * tsm.N_COLORS + 1)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def load(data: Path, contacts: bool = False) -> tuple[list, list, np.ndarray]:
    """The training conversations and objects (qa.jsonl) and patch labels [images, patches, (shape, colour)];
    with `contacts`, the contact byte (contacts.u8) as a third label."""
    qa_file, patch_file = data / "qa.jsonl", data / "patches.u8"
    for f in (qa_file, patch_file):
        if not f.exists():
            raise SystemExit(f"{f}: missing (make the training data first, see --help)")
    lines = [json.loads(line) for line in open(qa_file)]
    qas, objects = [x["qa"] for x in lines], [x.get("objects", []) for x in lines]
    raw = np.fromfile(patch_file, dtype=np.uint8)
    if raw.size != len(qas) * tsm.N_IMAGE * 2:
        raise SystemExit(f"{patch_file}: {raw.size} bytes, expected {len(qas)} images x {tsm.N_IMAGE} patches x 2")
    labels = raw.reshape(len(qas), tsm.N_IMAGE, 2).astype(np.int64)
    return qas, objects, (tsm.with_contacts(labels, data) if contacts else labels)


def oracle_features(labels: np.ndarray, position: bool = False) -> torch.Tensor:
    """[B, P, 2] patch labels -> [B, P, N_FEATURES] one-hot shape, colour and (colour, shape) pair; with
    `position` [B, P, N_FEATURES + 2 * tsm.GRID], the patch's one-hot column and row appended; labels
    [B, P, 3] (load's `contacts`) append the contact bits (tsm.N_SHAPES more)."""
    p = torch.from_numpy(labels)
    s, c = p[..., 0], p[..., 1]
    pair = tsm.pair_class(s, c)
    parts = [F.one_hot(s, tsm.N_SHAPES + 1), F.one_hot(c, tsm.N_COLORS + 1), F.one_hot(pair, tsm.N_SHAPES * tsm.N_COLORS + 1)]
    if position:
        parts += [F.one_hot(t, tsm.GRID).expand(*p.shape[:2], -1) for t in tsm.patch_places(p.shape[1])]
    if p.shape[-1] > 2:
        parts.append(tsm.contact_bits(p[..., 2]))
    return torch.cat(parts, -1).float()


def lr_at(args, step: int) -> float:
    warm = min(1.0, (step + 1) / args.warmup)
    if args.mode == "minimal":
        return args.lr * warm
    return args.lr * warm * (0.5 * (1 + math.cos(math.pi * step / args.steps)) * 0.95 + 0.05)


def across_middle(question: str, objects: list) -> bool:
    """Whether a left/above question names two objects on either side of the image's middle along its
    axis: there "Is the A to the left of the B?" has the answer of "Is the A in the left half?", a
    first-order path to the comparison (--opposite-first). Touching and unparsed questions: False."""
    r = tsm.parse_relation(question)
    if r is None or r[0] == "touching":
        return False
    kind, a, b = r
    axis = 2 if kind == "left" else 3
    where = {o[0]: o[axis] for o in objects}
    return a in where and b in where and tsm.in_first_half(where[a]) != tsm.in_first_half(where[b])


def run_llava(args, qas: list, objects: list, labels: np.ndarray) -> None:
    if args.no_system:
        tsm.SYSTEM_PROMPT = ""
    if args.only:
        # keep the description too: --dense-existence derives its questions from it
        qas = [[x for x in qa if x[0] in (args.only, "describe")] for qa in qas]
    enc = tsm.Encoder(args.tokenizer)
    pad = enc.tok.token_to_id("<pad>")
    config = tsm.build_config(enc.tok.get_vocab_size(with_added_tokens=True), enc.image_id, pad)
    model = tsm.LlavaForConditionalGeneration(config)
    width = config.vision_config.hidden_size

    def embeds(ids: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
        e = model.model.get_input_embeddings()(ids)
        feats = oracle_features(labels[idx], args.position_features)
        img = model.model.multi_modal_projector(F.pad(feats, (0, width - feats.shape[-1])))
        mask = (ids == enc.image_id)[..., None].expand_as(e)
        return e.masked_scatter(mask, img.to(e.dtype).reshape(-1))

    held = list(range(len(qas) - args.held_back, len(qas)))
    pool = [i for i in range(len(qas) - args.held_back) if any(k != "describe" for k, _, _ in qas[i])]
    rows = []  # the first question (not the description) of every held-back image
    for i in held:
        first = [(k, q, a) for k, q, a in qas[i] if k != "describe"][:1]
        rows += [(i, *x) for x in first]

    @torch.no_grad()
    def evaluate() -> dict:
        model.eval()
        by: dict[str, list[int]] = collections.defaultdict(list)
        for s in range(0, len(rows), 50):
            part = rows[s:s + 50]
            seqs = [enc.first_turn(q) for _, _, q, _ in part]
            ids, att = tsm.pad_batch(seqs, pad)
            logits = model(inputs_embeds=embeds(ids, np.array([r[0] for r in part])), attention_mask=att).logits
            for b, (_, kind, q, a) in enumerate(part):
                ok = int(logits[b, len(seqs[b]) - 1].argmax().item() == enc.answer(tsm.prompt(q), a)[0])
                by[kind].append(ok)
                by["all"].append(ok)
        model.train()
        return {k: round(100 * sum(v) / len(v), 1) for k, v in sorted(by.items())}

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.05)
    rng = random.Random(args.seed)
    order = list(pool)
    rng.shuffle(order)
    cursor, history, answers, t0 = 0, [], [], time.time()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(args, step)
        if cursor + args.batch > len(order):
            rng.shuffle(order)
            cursor = 0
        idx = order[cursor:cursor + args.batch]
        cursor += args.batch
        if args.branches:
            early = step < args.place_first  # the curriculum's first stage: place questions only
            opposite = not early and step < args.opposite_first  # then relations across the middle only
            seqs, kept = [], []
            for i in idx:
                more = tsm.place_questions(objects[i], rng, args.place_questions)
                asked, dense_rel = qas[i], args.dense_relation
                if early:
                    asked, dense_rel = [x for x in qas[i] if x[0] == "describe"], 0
                elif opposite:  # non-relation questions (the description) stay
                    more += [x for x in tsm.dense_relation(qas[i], rng, args.dense_relation, objects[i])
                             if across_middle(x[1], objects[i])]
                    asked = [x for x in qas[i] if x[0] != "relation" or across_middle(x[1], objects[i])]
                    dense_rel = 0
                if all(x[0] == "describe" for x in asked + more):  # nothing to ask in this stage
                    continue
                seqs.append(tsm.branched(enc, asked, rng, args.turns, False, args.dense_existence, dense_rel, more,
                                         objects[i]))
                kept.append(i)
            idx = kept
        else:
            seqs = [tsm.conversation(enc, qas[i], rng, args.turns) for i in idx]
        ids, att, extra, lab = tsm.batch_tensors(seqs, pad, args.branches)
        answers.append(sum(len({t for t in x[2] if t >= 0}) for x in seqs))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            logits = model(inputs_embeds=embeds(ids, np.array(idx)), attention_mask=att, **extra).logits.float()
            loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), lab[:, 1:].reshape(-1), ignore_index=-100)
        tsm.optimizer_step(opt, loss, model.parameters())
        history.append(loss.item())
        if (step + 1) % args.log_every == 0:
            log(f"step {step + 1} loss {np.mean(history[-args.log_every:]):.4f} questions/step "
                f"{np.mean(answers[-args.log_every:]):.0f} {(time.time() - t0) / (step + 1):.2f}s/step")
        if (step + 1) % args.eval_every == 0 or step == args.steps - 1:
            log(f"step {step + 1} held-back first-token accuracy {evaluate()}")


def small_llama(args, vocab: int) -> LlamaForCausalLM:
    """The bare-sequence modes' decoder: --layers layers of --hidden width, heads of 32."""
    return LlamaForCausalLM(LlamaConfig(vocab_size=vocab, hidden_size=args.hidden, num_hidden_layers=args.layers,
                                        num_attention_heads=args.hidden // 32, num_key_value_heads=args.hidden // 32,
                                        intermediate_size=512, max_position_embeddings=256))


def by_relation(rows: list) -> dict[str, list]:
    """run_relation's rows grouped by relation (left, above, touching), in their order."""
    out: dict[str, list] = collections.defaultdict(list)
    for r in rows:
        out[tsm.parse_relation(r[1])[0]].append(r)
    return out


def run_relation(args, qas: list, objects: list, labels: np.ndarray) -> None:
    """Left/above questions only, as a bare sequence [64 patch tokens with their one-hot column and row,
    Is the A to the left of / above the B? ASSISTANT:] -> Yes/No, every ordered pair an image has
    (centre_relations), with --touching also the generator's touching questions (then each batch draws
    the three relations equally often); with --binding-aux W
    the training script's binding read-outs (binding_loss) at the last token, after
    --binding-name-layer and --binding-place-layer layers (--binding-extents: the objects' extents too).
    Reports the held-back accuracy per relation."""
    rows = []  # (image, question, answer is yes, binding targets)
    for i in range(len(qas)):
        asked = [x for pair in tsm.centre_relations(objects[i]) for x in pair]
        if args.touching:  # the generator's touching questions (their answers need the outlines)
            asked += [x for x in qas[i] if x[0] == "relation" and (tsm.parse_relation(x[1]) or ("",))[0] == "touching"]
        for _, q, a in asked:
            t = tsm.binding_target(q, objects[i], labels[i], args.binding_extents, args.binding_contact,
                                   args.binding_distance)
            if t is not None:
                rows.append((i, q, a == "Yes", torch.tensor(t)))
    cut = len(qas) - args.held_back
    train = [r for r in rows if r[0] < cut]
    by_kind = by_relation(train)
    held_by = {k: v[:1000] for k, v in by_relation([r for r in rows if r[0] >= cut]).items()}  # up to 1,000 per relation
    held = [r for k in sorted(held_by) for r in held_by[k]]
    kinds = np.array([k for k in sorted(held_by) for _ in held_by[k]])
    # vocabulary: the question words, ASSISTANT:, padding, shapes, No, Yes
    words = {w: k for k, w in enumerate(["Is", "the", "to", "left", "of", "above", "touching", "?", "ASSISTANT:", "<pad>"])}
    shape0 = len(words)
    no, yes = shape0 + tsm.N_SHAPES, shape0 + tsm.N_SHAPES + 1
    words.update({w: shape0 + k for k, w in enumerate(tsm.SHAPES)})
    model = small_llama(args, yes + 1)
    n_in = N_FEATURES + 2 * tsm.GRID + (tsm.N_SHAPES if labels.shape[-1] > 2 else 0)
    proj = torch.nn.Sequential(torch.nn.Linear(n_in, args.hidden), torch.nn.GELU(),
                               torch.nn.Linear(args.hidden, args.hidden))
    heads = tsm.binding_heads(args.hidden, args.binding_extents, args.binding_contact, args.binding_distance)
    params = list(model.parameters()) + list(proj.parameters()) + list(heads.parameters())

    def batch(part: list) -> tuple[torch.Tensor, torch.Tensor, tuple]:
        img = proj(oracle_features(labels[np.array([r[0] for r in part])], True))
        text = [[words[w] for w in q.replace("?", " ?").split()] + [words["ASSISTANT:"]] for _, q, _, _ in part]
        T = max(map(len, text))  # left-padded: the answer-predicting token is the last
        text = [[words["<pad>"]] * (T - len(t)) + t for t in text]
        x = torch.cat([img, model.model.embed_tokens(torch.tensor(text))], 1)
        at = torch.tensor([[b, x.shape[1] - 1] for b in range(len(part))])
        return x, torch.tensor([yes if r[2] else no for r in part]), (at, torch.stack([r[3] for r in part]))

    log(f"{len(train)} training and {len(held)} held-back questions, yes {100 * np.mean([r[2] for r in held]):.1f}%")
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.05)
    rng, history, bound, t0 = random.Random(args.seed), [], [], time.time()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(args, step)
        if args.touching:  # every relation equally often (touching questions are 4% of the rows)
            part = [rng.choice(by_kind[k]) for k in rng.choices(sorted(by_kind), k=args.batch)]
        else:
            part = rng.sample(train, args.batch)
        x, y, found = batch(part)
        out = model(inputs_embeds=x, output_hidden_states=args.binding_aux > 0)
        loss = F.cross_entropy(out.logits[:, -1], y)
        total = loss
        if args.binding_aux > 0:
            b = tsm.binding_loss(heads, out.hidden_states, found, args.binding_name_layer, args.binding_place_layer,
                                 args.binding_distance_layer)
            total = loss + args.binding_aux * b
            bound.append(b.item())
        tsm.optimizer_step(opt, total, params)
        history.append(loss.item())
        if (step + 1) % args.eval_every == 0 or step == args.steps - 1:
            with torch.no_grad():
                right = []
                for s in range(0, len(held), 500):
                    x, y, _ = batch(held[s:s + 500])
                    last = model(inputs_embeds=x).logits[:, -1]
                    right.append(torch.where(last[:, yes] > last[:, no], yes, no) == y)
                right = torch.cat(right).float()
            per = {str(k): round(100 * right[torch.from_numpy(kinds == k)].mean().item(), 1) for k in sorted(set(kinds))}
            log(f"step {step + 1} answer loss {np.mean(history[-args.eval_every:]):.3f}"
                + (f" binding loss {np.mean(bound[-args.eval_every:]):.3f}" if bound else "")
                + f" held-back accuracy {100 * right.mean().item():.1f} {per} {(time.time() - t0) / (step + 1):.2f}s/step")


def run_minimal(args, qas: list, objects: list, labels: np.ndarray) -> None:
    rows = []  # (image, colour index, shape index, answer is yes)
    for i, qa in enumerate(qas):
        for kind, q, a in qa:
            if kind == "existence":
                words = q.rstrip("?").split()
                rows.append((i, tsm.COLORS.index(words[3]), tsm.SHAPES.index(words[4]), a == "Yes"))
    cut = len(qas) - args.held_back
    train, held = [r for r in rows if r[0] < cut], [r for r in rows if r[0] >= cut]
    # vocabulary: 0-6 "Is there a in the image? ASSISTANT:", colours, shapes, pairs, No, Yes
    IS, THERE, A, IN, THE, IMAGE, ASSISTANT = range(7)
    colour0, shape0 = 7, 7 + tsm.N_COLORS
    pair0 = shape0 + tsm.N_SHAPES
    no = pair0 + tsm.N_COLORS * tsm.N_SHAPES
    yes = no + 1
    model = small_llama(args, yes + 1)
    proj = torch.nn.Linear(N_FEATURES, args.hidden)
    params = list(model.parameters()) + list(proj.parameters())

    def batch(part: list) -> tuple[torch.Tensor, torch.Tensor]:
        img = proj(oracle_features(labels[np.array([r[0] for r in part])]))
        words = [[IS, THERE, A] + ([pair0 + c * tsm.N_SHAPES + s] if args.merged else [colour0 + c, shape0 + s])
                 + [IN, THE, IMAGE, ASSISTANT] for _, c, s, _ in part]
        x = torch.cat([img, model.model.embed_tokens(torch.tensor(words))], 1)
        return x, torch.tensor([yes if r[3] else no for r in part])

    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.98), weight_decay=0.05)
    rng, history, t0 = random.Random(args.seed), [], time.time()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(args, step)
        x, y = batch(rng.sample(train, args.batch))
        loss = F.cross_entropy(model(inputs_embeds=x).logits[:, -1], y)
        tsm.optimizer_step(opt, loss, params)
        history.append(loss.item())
        if (step + 1) % args.eval_every == 0 or step == args.steps - 1:
            with torch.no_grad():
                x, y = batch(held[:1000])
                last = model(inputs_embeds=x).logits[:, -1]
                pred = torch.where(last[:, yes] > last[:, no], yes, no)
            log(f"step {step + 1} ({(step + 1) * args.batch} questions) loss {np.mean(history[-args.eval_every:]):.3f} "
                f"held-back accuracy {100 * (pred == y).float().mean().item():.1f} "
                f"(always-no {100 * (y == no).float().mean().item():.1f}) {(time.time() - t0) / (step + 1):.2f}s/step")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("/tmp/clvs-shapes-work/train-1000-60000"),
                    help="training data with patch labels (qa.jsonl, patches.u8)")
    ap.add_argument("--tokenizer", type=Path, default=tsm.REPO / "Sources" / "clvs-trace" / "Resources" / "default-model" / "tokenizer.json")
    ap.add_argument("--mode", choices=["llava", "minimal", "relation"], default="llava")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=12, help="images per step (llava) or questions per step (minimal)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=None, help="default: 200 (llava), 100 (minimal)")
    ap.add_argument("--held-back", type=int, default=1000, help="last training images kept out for the accuracy")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--turns", type=int, default=8, help="llava: questions per image")
    ap.add_argument("--branches", action="store_true", help="llava: every question its own branch (train_shapes_model.py --branches)")
    ap.add_argument("--dense-existence", type=int, default=0, metavar="K", help="llava, with --branches: K more existence questions per image")
    ap.add_argument("--dense-relation", type=int, default=0, metavar="K",
                    help="llava, with --branches: K more relation questions per image (train_shapes_model.py's dense_relation)")
    ap.add_argument("--place-questions", type=int, default=0, metavar="K",
                    help="llava, with --branches: up to K single-object place questions per image (train_shapes_model.py "
                         "--place-questions)")
    ap.add_argument("--place-first", type=int, default=0, metavar="N",
                    help="llava, with --branches: a curriculum, the first N steps ask the place questions only")
    ap.add_argument("--opposite-first", type=int, default=0, metavar="N",
                    help="llava, with --branches: a curriculum, until step N (after any --place-first steps) the "
                         "left/above questions (and --dense-relation's) are only those whose two objects lie on "
                         "either side of the middle, and touching is not asked")
    ap.add_argument("--position-features", action="store_true", help="llava: each patch's one-hot column and row join its features")
    ap.add_argument("--only", choices=["existence", "attribute", "relation", "count"], help="llava: one question kind only")
    ap.add_argument("--no-system", action="store_true", help="llava: no system prompt (diagnostic)")
    ap.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=True, help="llava: bf16 autocast")
    ap.add_argument("--layers", type=int, default=None,
                    help="minimal, relation: decoder layers (default 2 and the shapes model's 8)")
    ap.add_argument("--hidden", type=int, default=192, help="minimal: hidden size (a multiple of 32)")
    ap.add_argument("--merged", action="store_true", help="minimal: the (colour, shape) pair is one token")
    ap.add_argument("--binding-aux", type=float, default=0.0, metavar="W",
                    help="relation: weight of the training script's binding read-outs (train_shapes_model.py --binding-aux)")
    ap.add_argument("--binding-extents", action="store_true", help="relation: the read-outs also give each object's extent")
    ap.add_argument("--touching", action="store_true", help="relation: the generator's touching questions too")
    ap.add_argument("--contact-features", action="store_true",
                    help="relation: each patch's perfect features also carry its contact bits (contacts.u8)")
    ap.add_argument("--binding-contact", action="store_true",
                    help="relation, with --binding-aux and --contact-features: the read-outs also name the touching "
                         "pair's first contact patch (train_shapes_model.py --binding-contact)")
    ap.add_argument("--binding-distance", action="store_true",
                    help="relation, with --binding-aux: the read-outs also give the two centres' distance "
                         "(train_shapes_model.py --binding-distance)")
    ap.add_argument("--binding-name-layer", type=int, default=2, metavar="L")
    ap.add_argument("--binding-place-layer", type=int, default=4, metavar="L")
    ap.add_argument("--binding-distance-layer", type=int, default=6, metavar="L")
    args = ap.parse_args(argv)
    if args.place_first > 0 and (args.place_questions <= 0 or not args.branches):
        ap.error("--place-first needs --branches and --place-questions K > 0 (its steps ask nothing else)")
    if args.layers is None:
        args.layers = tsm.SPEC["text"]["num_hidden_layers"] if args.mode == "relation" else 2
    if args.mode == "relation" and args.binding_aux > 0:
        for name in ("binding_name_layer", "binding_place_layer") + (("binding_distance_layer",) if args.binding_distance else ()):
            if not 1 <= getattr(args, name) <= args.layers:
                ap.error(f"--{name.replace('_', '-')} must be between 1 and {args.layers} (--layers)")
    if args.warmup is None:
        args.warmup = 200 if args.mode == "llava" else 100
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.binding_contact and not args.contact_features:
        raise SystemExit("--binding-contact needs --contact-features")
    qas, objects, labels = load(args.data, args.contact_features)
    {"llava": run_llava, "minimal": run_minimal, "relation": run_relation}[args.mode](args, qas, objects, labels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
