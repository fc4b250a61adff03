#!/usr/bin/env python3
"""Write a LLaVA-1.5-7B-shaped checkpoint with random fp16 weights, for speed/memory benchmarks.

    python3 Tests/Benchmarks/make_llava7b_random.py OUTDIR            # full size: ~14.1 GB (13.1 GiB), a few minutes
    python3 Tests/Benchmarks/make_llava7b_random.py /tmp/l7b --layers 2   # quick dry run (~1.6 GB)

Layout = the llava-hf/llava-1.5-7b-hf hub checkpoint: config.json (as on the hub, plus image_seq_length),
weight names `language_model.model.*`, `language_model.lm_head.weight`, `vision_tower.vision_model.*`
(incl. post_layernorm), `multi_modal_projector.*`, shards `model-0000i-of-0000n.safetensors` +
`model.safetensors.index.json`, preprocessor_config.json (shortest_edge 336, crop 336),
processor_config.json, generation_config.json and the LLaVA-1.5 tokenizer files (copied from
Tests/ModelsTests/Fixtures/tokenizer/, or --tokenizer-src).

Weights: N(0, 0.02^2) for every matrix/embedding, norm weights 1, all biases 0, fp16. Each tensor has its
own seed (seed + crc32(name)), so the values do not depend on the sharding. Tensors are generated and
written one shard at a time (shard <= --max-shard-gb, default 1.9), so memory stays around one shard.
The folder is written as OUTDIR.partial-<pid> and renamed to OUTDIR at the end. Needs only torch and
safetensors.

--layers N sets both the Llama and the CLIP layer count to N (N >= 2, vision_feature_layer is -2); the
config then says N layers, so the dry-run folder is a valid, smaller checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import zlib
from pathlib import Path

import torch
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
DEFAULT_TOKENIZER_SRC = HERE.parent / "ModelsTests" / "Fixtures" / "tokenizer"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")

# Shape of llava-hf/llava-1.5-7b-hf (Vicuna-7B v1.5 + CLIP ViT-L/14-336).
TEXT = dict(hidden=4096, layers=32, heads=32, kv_heads=32, intermediate=11008, vocab=32064)
VISION = dict(hidden=1024, layers=24, heads=16, intermediate=4096, image=336, patch=14, channels=3)


def hub_config(text_layers: int, vision_layers: int) -> dict:
    n_patches = (VISION["image"] // VISION["patch"]) ** 2
    text_config = {
        "_name_or_path": "lmsys/vicuna-7b-v1.5",
        "architectures": ["LlamaForCausalLM"],
        "max_position_embeddings": 4096,
        "model_type": "llama",
        "rms_norm_eps": 1e-05,
        "torch_dtype": "float16",
        "vocab_size": TEXT["vocab"],
    }
    vision_config = {
        "hidden_size": VISION["hidden"],
        "image_size": VISION["image"],
        "intermediate_size": VISION["intermediate"],
        "model_type": "clip_vision_model",
        "num_attention_heads": VISION["heads"],
        "num_hidden_layers": VISION["layers"],
        "patch_size": VISION["patch"],
        "projection_dim": 768,
        "vocab_size": 32000,
    }
    if text_layers != TEXT["layers"]:
        text_config["num_hidden_layers"] = text_layers
    if vision_layers != VISION["layers"]:
        vision_config["num_hidden_layers"] = vision_layers
    return {
        "architectures": ["LlavaForConditionalGeneration"],
        "ignore_index": -100,
        "image_seq_length": n_patches,
        "image_token_index": 32000,
        "model_type": "llava",
        "pad_token_id": 32001,
        "projector_hidden_act": "gelu",
        "text_config": text_config,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "transformers_version": "4.36.0.dev0",
        "vision_config": vision_config,
        "vision_feature_layer": -2,
        "vision_feature_select_strategy": "default",
        "vocab_size": TEXT["vocab"],
    }


def preprocessor_config() -> dict:
    s = VISION["image"]
    return {
        "crop_size": {"height": s, "width": s},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_processor_type": "CLIPImageProcessor",
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "processor_class": "LlavaProcessor",
        "resample": 3,
        "rescale_factor": 1 / 255,
        "size": {"shortest_edge": s},
    }


def tensor_specs(text_layers: int, vision_layers: int) -> list[tuple[str, tuple[int, ...], str]]:
    """(hub name, shape, kind) in write order; kind is 'w' (N(0, .02^2)), 'one' or 'zero'."""
    D, F, V = TEXT["hidden"], TEXT["intermediate"], TEXT["vocab"]
    kv = TEXT["kv_heads"] * (D // TEXT["heads"])
    specs = [("language_model.model.embed_tokens.weight", (V, D), "w")]
    for i in range(text_layers):
        p = f"language_model.model.layers.{i}."
        specs += [
            (p + "input_layernorm.weight", (D,), "one"),
            (p + "self_attn.q_proj.weight", (D, D), "w"),
            (p + "self_attn.k_proj.weight", (kv, D), "w"),
            (p + "self_attn.v_proj.weight", (kv, D), "w"),
            (p + "self_attn.o_proj.weight", (D, D), "w"),
            (p + "post_attention_layernorm.weight", (D,), "one"),
            (p + "mlp.gate_proj.weight", (F, D), "w"),
            (p + "mlp.up_proj.weight", (F, D), "w"),
            (p + "mlp.down_proj.weight", (D, F), "w"),
        ]
    specs += [("language_model.model.norm.weight", (D,), "one"),
              ("language_model.lm_head.weight", (V, D), "w")]
    Dv, Fv = VISION["hidden"], VISION["intermediate"]
    specs += [
        ("multi_modal_projector.linear_1.weight", (D, Dv), "w"),
        ("multi_modal_projector.linear_1.bias", (D,), "zero"),
        ("multi_modal_projector.linear_2.weight", (D, D), "w"),
        ("multi_modal_projector.linear_2.bias", (D,), "zero"),
    ]
    vp = "vision_tower.vision_model."
    n_pos = (VISION["image"] // VISION["patch"]) ** 2 + 1
    specs += [
        (vp + "embeddings.class_embedding", (Dv,), "w"),
        (vp + "embeddings.patch_embedding.weight", (Dv, VISION["channels"], VISION["patch"], VISION["patch"]), "w"),
        (vp + "embeddings.position_embedding.weight", (n_pos, Dv), "w"),
        (vp + "pre_layrnorm.weight", (Dv,), "one"),
        (vp + "pre_layrnorm.bias", (Dv,), "zero"),
    ]
    for i in range(vision_layers):
        p = f"{vp}encoder.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            specs += [(p + f"self_attn.{proj}.weight", (Dv, Dv), "w"), (p + f"self_attn.{proj}.bias", (Dv,), "zero")]
        specs += [
            (p + "layer_norm1.weight", (Dv,), "one"), (p + "layer_norm1.bias", (Dv,), "zero"),
            (p + "mlp.fc1.weight", (Fv, Dv), "w"), (p + "mlp.fc1.bias", (Fv,), "zero"),
            (p + "mlp.fc2.weight", (Dv, Fv), "w"), (p + "mlp.fc2.bias", (Dv,), "zero"),
            (p + "layer_norm2.weight", (Dv,), "one"), (p + "layer_norm2.bias", (Dv,), "zero"),
        ]
    specs += [(vp + "post_layernorm.weight", (Dv,), "one"), (vp + "post_layernorm.bias", (Dv,), "zero")]
    return specs


def make_tensor(name: str, shape: tuple[int, ...], kind: str, seed: int) -> torch.Tensor:
    if kind == "one":
        return torch.ones(shape, dtype=torch.float16)
    if kind == "zero":
        return torch.zeros(shape, dtype=torch.float16)
    g = torch.Generator().manual_seed(seed + zlib.crc32(name.encode()))
    t = torch.empty(shape, dtype=torch.float16)
    # Fill in row blocks through fp32 so the temporary stays small.
    flat = t.view(shape[0], -1)
    step = max(1, (64 << 20) // (4 * flat.shape[1]))
    for r in range(0, flat.shape[0], step):
        block = torch.randn((min(step, flat.shape[0] - r), flat.shape[1]), generator=g)
        flat[r:r + block.shape[0]] = (block * 0.02).to(torch.float16)
    return t


def plan_shards(specs, max_bytes: int) -> list[list[tuple[str, tuple[int, ...], str]]]:
    shards, cur, cur_bytes = [], [], 0
    for s in specs:
        n = 2
        for d in s[1]:
            n *= d
        if cur and cur_bytes + n > max_bytes:
            shards.append(cur)
            cur, cur_bytes = [], 0
        cur.append(s)
        cur_bytes += n
    if cur:
        shards.append(cur)
    return shards


def write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--layers", type=int, default=None, help="dry run: N text and N vision layers (N >= 2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-shard-gb", type=float, default=1.9)
    ap.add_argument("--tokenizer-src", type=Path, default=DEFAULT_TOKENIZER_SRC)
    ap.add_argument("--force", action="store_true", help="replace an existing OUTDIR")
    args = ap.parse_args(argv)

    text_layers = TEXT["layers"] if args.layers is None else args.layers
    vision_layers = VISION["layers"] if args.layers is None else min(args.layers, VISION["layers"])
    if text_layers < 1 or vision_layers < 2:
        ap.error("--layers must be >= 2 (vision_feature_layer is -2)")
    for f in TOKENIZER_FILES:
        if not (args.tokenizer_src / f).is_file():
            ap.error(f"missing tokenizer file {args.tokenizer_src / f}")
    out: Path = args.outdir
    if out.exists() and not args.force:
        ap.error(f"{out} exists (use --force to replace it)")
    part = out.with_name(out.name + f".partial-{os.getpid()}")
    part.mkdir(parents=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    try:
        t0 = time.time()
        specs = tensor_specs(text_layers, vision_layers)
        shards = plan_shards(specs, int(args.max_shard_gb * 1e9))
        n = len(shards)
        weight_map, total = {}, 0
        for i, shard in enumerate(shards, 1):
            fname = f"model-{i:05d}-of-{n:05d}.safetensors"
            tensors = {name: make_tensor(name, shape, kind, args.seed) for name, shape, kind in shard}
            size = sum(t.numel() * 2 for t in tensors.values())
            save_file(tensors, str(part / (fname + ".tmp")), metadata={"format": "pt"})
            os.chmod(part / (fname + ".tmp"), 0o644)
            os.replace(part / (fname + ".tmp"), part / fname)
            for name in tensors:
                weight_map[name] = fname
            total += size
            del tensors
            print(f"[{time.time() - t0:6.1f}s] {fname}: {len(shard)} tensors, {size / 1e9:.2f} GB", flush=True)
        write_json(part / "model.safetensors.index.json",
                   {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))})
        write_json(part / "config.json", hub_config(text_layers, vision_layers))
        write_json(part / "generation_config.json", {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 32001})
        write_json(part / "preprocessor_config.json", preprocessor_config())
        write_json(part / "processor_config.json", {
            "image_token": "<image>", "num_additional_image_tokens": 1, "patch_size": VISION["patch"],
            "processor_class": "LlavaProcessor", "vision_feature_select_strategy": "default"})
        for f in TOKENIZER_FILES:
            shutil.copyfile(args.tokenizer_src / f, part / (f + ".tmp"))
            os.replace(part / (f + ".tmp"), part / f)
    except BaseException:
        shutil.rmtree(part, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    os.replace(part, out)
    params = total // 2
    print(json.dumps({"outdir": str(out), "shards": n, "tensors": len(specs), "params": params,
                      "bytes": total, "text_layers": text_layers, "vision_layers": vision_layers,
                      "seconds": round(time.time() - t0, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
