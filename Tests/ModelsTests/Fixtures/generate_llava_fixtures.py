#!/usr/bin/env python3
"""Generate the tiny LLaVA-1.5 reference fixtures used by the Swift `ModelsTests`.

Run from the repository root (one command, no arguments needed):

    python3 Tests/ModelsTests/Fixtures/generate_llava_fixtures.py

Requirements: torch (CPU), transformers 5.x, safetensors, tokenizers, pillow, numpy.
Sources (only read when the copies below are missing):
    /work/shared/data/tokenizers/llava-1.5/{tokenizer.json,tokenizer_config.json,special_tokens_map.json}
    /work/shared/data/coco/images/val2017/000000184324.jpg
Override with --tokenizer-src DIR and --coco-image FILE.

What it writes (next to this script):
    tokenizer/                  one shared copy of the LLaVA-1.5 tokenizer files
    images/000000184324.jpg     COCO val2017 image (CC BY 2.0), used by llava-tiny-gqa
    images/synthetic_90x50.png  synthetic non-square image drawn here, used by llava-tiny-mha
    llava-tiny-gqa/             HF checkpoint written by save_pretrained (transformers-5 weight names,
                                one model.safetensors, fp16) + reference/
    llava-tiny-mha/             HF checkpoint in the llava-hf hub layout (legacy weight names, 2 fp16
                                shards + model.safetensors.index.json, hub-style config.json) + reference/

How the references are made: fixed seeds; random weights are drawn in fp32, rounded to fp16 and saved;
the checkpoint is then loaded back with `from_pretrained` and upcast with `.float()`, so every reference
value is computed in fp32 from exactly the fp16 weights on disk (fp16 -> fp32 is exact).
`attn_implementation="eager"` everywhere, one torch thread. Image preprocessing uses `CLIPImageProcessorPil`
(transformers' PIL backend) loaded from the checkpoint's preprocessor_config.json.

The keys of reference/reference.safetensors are described in reference/reference.json ("keys").
The script asserts: cached (KV cache) decode logits == full recompute within 1e-5; the projector output
equals the embeddings the model inserts at the <image> positions; the token ids equal LlavaProcessor's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer

import transformers
from transformers import (
    CLIPImageProcessorPil,
    CLIPVisionConfig,
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
)

HERE = Path(__file__).resolve().parent
DEFAULT_TOKENIZER_SRC = Path("/work/shared/data/tokenizers/llava-1.5")
DEFAULT_COCO_IMAGE = Path("/work/shared/data/coco/images/val2017/000000184324.jpg")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")

OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

SYSTEM_PROMPT = (
    "A chat between a curious human and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the human's questions."
)
IMAGE_TOKEN = "<image>"
IMAGE_TOKEN_ID = 32000
PAD_TOKEN_ID = 32001
GEN_STEPS = 5


def llava15_prompt(question: str) -> str:
    """The LLaVA-1.5 (vicuna_v1) single-turn template with one image."""
    return f"{SYSTEM_PROMPT} USER: {IMAGE_TOKEN}\n{question} ASSISTANT:"


# --------------------------------------------------------------------------------------------
# Model specifications
# --------------------------------------------------------------------------------------------

MODEL_SPECS = {
    "llava-tiny-gqa": dict(
        seed=1234,
        text=dict(hidden_size=32, num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=2,
                  head_dim=8, intermediate_size=64, rope_theta=10000.0),
        vision=dict(image_size=56, patch_size=14, hidden_size=32, num_hidden_layers=3,
                    num_attention_heads=4, intermediate_size=64),
        vision_feature_layer=-2,
        strategy="default",
        layout="transformers5",
        image="images/000000184324.jpg",
        question="What is in the image?",
        prompt=None,  # -> LLaVA-1.5 template
    ),
    "llava-tiny-mha": dict(
        seed=5678,
        text=dict(hidden_size=48, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=4,
                  head_dim=12, intermediate_size=96, rope_theta=500000.0),
        vision=dict(image_size=60, patch_size=10, hidden_size=24, num_hidden_layers=4,
                    num_attention_heads=2, intermediate_size=48),
        vision_feature_layer=-1,
        strategy="full",
        layout="hub",
        image="images/synthetic_90x50.png",
        question="Is there a red square in the image?",
        prompt="USER: <image>\nIs there a red square in the image? ASSISTANT:",
    ),
}


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode("utf-8"))


def atomic_copy(src: Path, dst: Path) -> None:
    atomic_write_bytes(dst, src.read_bytes())


def atomic_save_safetensors(tensors: dict, path: Path, metadata: dict | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    save_file({k: v.contiguous() for k, v in tensors.items()}, tmp, metadata=metadata)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def replace_dir(tmp_dir: Path, final_dir: Path) -> None:
    """Swap a fully written temp folder into place."""
    if final_dir.exists():
        old = final_dir.with_name(final_dir.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(final_dir, old)
        os.replace(tmp_dir, final_dir)
        shutil.rmtree(old)
    else:
        os.replace(tmp_dir, final_dir)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# Inputs: tokenizer, images
# --------------------------------------------------------------------------------------------

def ensure_shared_inputs(tokenizer_src: Path, coco_image: Path) -> None:
    tok_dir = HERE / "tokenizer"
    for name in TOKENIZER_FILES:
        if not (tok_dir / name).exists():
            atomic_copy(tokenizer_src / name, tok_dir / name)
    img = HERE / "images" / coco_image.name
    if not img.exists():
        atomic_copy(coco_image, img)
    synth = HERE / "images" / "synthetic_90x50.png"
    if not synth.exists():
        make_synthetic_image(synth)


def make_synthetic_image(path: Path) -> None:
    """90x50 RGB: a horizontal/vertical colour gradient, a red square, a blue disc, a green bar."""
    w, h = 90, 50
    xs = np.arange(w, dtype=np.float64)[None, :]
    ys = np.arange(h, dtype=np.float64)[:, None]
    r = np.broadcast_to(40 + 150 * xs / (w - 1), (h, w))
    g = np.broadcast_to(60 + 120 * ys / (h - 1), (h, w))
    b = 200 - 100 * (xs / (w - 1)) * (ys / (h - 1))
    arr = np.stack([r, g, b], axis=-1).round().astype(np.uint8)
    img = Image.fromarray(arr, "RGB")
    draw = ImageDraw.Draw(img)
    draw.rectangle([8, 10, 27, 29], fill=(230, 20, 25))          # red square 20x20
    draw.ellipse([50, 6, 79, 35], fill=(20, 40, 220))             # blue disc
    draw.rectangle([35, 38, 85, 44], fill=(10, 180, 40))          # green bar
    for i in range(0, w, 6):                                      # 1-px checker row: high frequency
        draw.point((i, 48), fill=(255, 255, 255))
    import io
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    atomic_write_bytes(path, buf.getvalue())


def preprocessor_config(image_size: int) -> dict:
    """CLIPImageProcessor config in the llava-hf hub layout."""
    return {
        "crop_size": {"height": image_size, "width": image_size},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": OPENAI_CLIP_MEAN,
        "image_processor_type": "CLIPImageProcessor",
        "image_std": OPENAI_CLIP_STD,
        "processor_class": "LlavaProcessor",
        "resample": 3,
        "rescale_factor": 1 / 255,
        "size": {"shortest_edge": image_size},
    }


def processor_config(patch_size: int, strategy: str) -> dict:
    """processor_config.json as on the llava-hf hub (num_additional_image_tokens = 1 for CLIP's CLS)."""
    return {
        "image_token": IMAGE_TOKEN,
        "num_additional_image_tokens": 1,
        "patch_size": patch_size,
        "processor_class": "LlavaProcessor",
        "vision_feature_select_strategy": strategy,
    }


def generation_config() -> dict:
    return {"bos_token_id": 1, "eos_token_id": 2, "pad_token_id": PAD_TOKEN_ID}


def num_image_tokens(image_size: int, patch_size: int, strategy: str) -> int:
    """LlavaProcessor: (H // p) * (W // p) + num_additional_image_tokens(1) - (1 if strategy == default)."""
    n = (image_size // patch_size) ** 2 + 1
    return n - 1 if strategy == "default" else n


def tokenize_expanded(tokenizer_json: Path, prompt: str, n_image: int) -> list[int]:
    """Exactly LlavaProcessor's order: expand '<image>' in the text N times, then tokenize (with BOS)."""
    tok = Tokenizer.from_file(str(tokenizer_json))
    expanded = prompt.replace(IMAGE_TOKEN, IMAGE_TOKEN * n_image)
    ids = tok.encode(expanded, add_special_tokens=True).ids
    # Same thing done on ids: tokenize once, repeat the single image id.
    single = tok.encode(prompt, add_special_tokens=True).ids
    assert single.count(IMAGE_TOKEN_ID) == 1, single
    k = single.index(IMAGE_TOKEN_ID)
    by_ids = single[:k] + [IMAGE_TOKEN_ID] * n_image + single[k + 1:]
    assert ids == by_ids, (ids, by_ids)
    return ids


def check_with_llava_processor(ckpt_dir: Path, tok_dir: Path, prompt: str, image: Image.Image,
                               ids: list[int], pixel_values: torch.Tensor, patch_size: int,
                               strategy: str) -> str:
    """Build LlavaProcessor offline (PIL image processor) and compare ids and pixels. Returns a note."""
    from transformers import AutoTokenizer, LlavaProcessor
    tokenizer = AutoTokenizer.from_pretrained(str(tok_dir))
    image_processor = CLIPImageProcessorPil.from_pretrained(str(ckpt_dir))
    proc = LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=patch_size,
                          vision_feature_select_strategy=strategy, num_additional_image_tokens=1)
    out = proc(images=image, text=prompt, return_tensors="pt")
    got = out["input_ids"][0].tolist()
    assert got == ids, f"LlavaProcessor ids differ:\n{got}\n{ids}"
    assert torch.equal(out["pixel_values"][0].float(), pixel_values), "LlavaProcessor pixels differ"
    return f"LlavaProcessor({type(tokenizer).__name__}, CLIPImageProcessorPil) ids and pixel_values identical"


# --------------------------------------------------------------------------------------------
# Model construction and saving
# --------------------------------------------------------------------------------------------

def build_config(spec: dict) -> LlavaConfig:
    t, v = spec["text"], spec["vision"]
    text_config = LlamaConfig(
        hidden_size=t["hidden_size"], num_hidden_layers=t["num_hidden_layers"],
        num_attention_heads=t["num_attention_heads"], num_key_value_heads=t["num_key_value_heads"],
        head_dim=t["head_dim"], intermediate_size=t["intermediate_size"], vocab_size=32064,
        rms_norm_eps=1e-5, max_position_embeddings=4096,
        rope_parameters={"rope_type": "default", "rope_theta": float(t["rope_theta"])},
        bos_token_id=1, eos_token_id=2, pad_token_id=PAD_TOKEN_ID, tie_word_embeddings=False,
    )
    vision_config = CLIPVisionConfig(
        image_size=v["image_size"], patch_size=v["patch_size"], hidden_size=v["hidden_size"],
        num_hidden_layers=v["num_hidden_layers"], num_attention_heads=v["num_attention_heads"],
        intermediate_size=v["intermediate_size"], hidden_act="quick_gelu", layer_norm_eps=1e-5,
        projection_dim=v.get("projection_dim", 768),
    )
    n = num_image_tokens(v["image_size"], v["patch_size"], spec["strategy"])
    return LlavaConfig(
        vision_config=vision_config, text_config=text_config, image_token_index=IMAGE_TOKEN_ID,
        image_seq_length=n, projector_hidden_act="gelu",
        vision_feature_select_strategy=spec["strategy"], vision_feature_layer=spec["vision_feature_layer"],
        tie_word_embeddings=False,
    )


@torch.no_grad()
def randomize_weights(model: torch.nn.Module, seed: int) -> None:
    """Deterministic weights with O(1) activations so attention and logits are far from uniform.

    Linear/conv weights ~ N(0, 1/fan_in) (q/k scaled x1.5 for peakier attention), biases ~ N(0, 0.1^2),
    norm weights ~ 1 + N(0, 0.2^2), norm biases ~ N(0, 0.1^2), token embeddings ~ N(0, 1),
    CLIP class/position embeddings ~ N(0, 0.5^2). Drawn in a fixed order (sorted names)."""
    g = torch.Generator().manual_seed(seed)
    params = dict(model.named_parameters())
    for name in sorted(params):
        p = params[name]
        shape = p.shape
        if "norm" in name:   # layer_norm1/2, pre_layrnorm, post_layernorm, RMSNorms
            if name.endswith("weight"):
                val = 1.0 + 0.2 * torch.randn(shape, generator=g)
            else:
                val = 0.1 * torch.randn(shape, generator=g)
        elif name.endswith("embed_tokens.weight"):
            val = torch.randn(shape, generator=g)
        elif name.endswith("class_embedding") or name.endswith("position_embedding.weight"):
            val = 0.5 * torch.randn(shape, generator=g)
        elif name.endswith("bias"):
            val = 0.1 * torch.randn(shape, generator=g)
        else:
            fan_in = int(np.prod(shape[1:]))
            gain = 1.5 if (".q_proj." in name or ".k_proj." in name) else 1.0
            val = gain * torch.randn(shape, generator=g) / np.sqrt(fan_in)
        p.copy_(val.to(p.dtype))


HUB_RENAMES = (
    ("model.language_model.", "language_model.model."),
    ("model.vision_tower.", "vision_tower.vision_model."),
    ("model.multi_modal_projector.", "multi_modal_projector."),
    ("lm_head.", "language_model.lm_head."),
)


def to_hub_name(name: str) -> str:
    for old, new in HUB_RENAMES:
        if name.startswith(old):
            return new + name[len(old):]
    raise KeyError(f"no hub rename for {name}")


def from_hub_name(name: str) -> str:
    for old, new in HUB_RENAMES:
        if name.startswith(new):
            return old + name[len(new):]
    raise KeyError(f"unknown hub weight name {name}")


def hub_config_json(spec: dict, config: LlavaConfig) -> dict:
    """config.json in the shape of the llava-hf hub files (transformers 4.x keys, rope_theta flat)."""
    t, v = spec["text"], spec["vision"]
    cfg = {
        "architectures": ["LlavaForConditionalGeneration"],
        "ignore_index": -100,
        "image_seq_length": config.image_seq_length,
        "image_token_index": IMAGE_TOKEN_ID,
        "model_type": "llava",
        "pad_token_id": PAD_TOKEN_ID,
        "projector_hidden_act": "gelu",
        "text_config": {
            "architectures": ["LlamaForCausalLM"],
            "hidden_size": t["hidden_size"],
            "intermediate_size": t["intermediate_size"],
            "max_position_embeddings": 4096,
            "model_type": "llama",
            "num_attention_heads": t["num_attention_heads"],
            "num_hidden_layers": t["num_hidden_layers"],
            "num_key_value_heads": t["num_key_value_heads"],
            "rms_norm_eps": 1e-05,
            "rope_theta": float(t["rope_theta"]),
            "torch_dtype": "float16",
            "vocab_size": 32064,
        },
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "transformers_version": "4.36.0.dev0",
        "vision_config": {
            "hidden_size": v["hidden_size"],
            "image_size": v["image_size"],
            "intermediate_size": v["intermediate_size"],
            "model_type": "clip_vision_model",
            "num_attention_heads": v["num_attention_heads"],
            "num_hidden_layers": v["num_hidden_layers"],
            "patch_size": v["patch_size"],
            "projection_dim": v.get("projection_dim", 768),
            "vocab_size": 32000,
        },
        "vision_feature_layer": spec["vision_feature_layer"],
        "vision_feature_select_strategy": spec["strategy"],
        "vocab_size": 32064,
    }
    # Like the hub files, leave head_dim out when it is the default hidden_size // num_attention_heads.
    if t["head_dim"] != t["hidden_size"] // t["num_attention_heads"]:
        cfg["text_config"]["head_dim"] = t["head_dim"]
    return cfg


def save_hub_sharded(model: LlavaForConditionalGeneration, out_dir: Path) -> dict:
    """Two fp16 shards with hub names: shard 1 = vision tower + projector + embed_tokens, shard 2 = rest."""
    sd = {to_hub_name(k): v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    first = sorted(k for k in sd if k.startswith(("vision_tower.", "multi_modal_projector.",
                                                  "language_model.model.embed_tokens.")))
    second = sorted(k for k in sd if k not in set(first))
    names = ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
    weight_map = {}
    total = 0
    for fname, keys in zip(names, (first, second)):
        atomic_save_safetensors({k: sd[k] for k in keys}, out_dir / fname, metadata={"format": "pt"})
        for k in keys:
            weight_map[k] = fname
            total += sd[k].numel() * sd[k].element_size()
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    atomic_write_json(out_dir / "model.safetensors.index.json", index)
    return index


def write_checkpoint(name: str, spec: dict, out_dir: Path, with_tokenizer_json: bool = False) -> LlavaConfig:
    """Build, randomise, round to fp16 and save one checkpoint folder (everything but reference/)."""
    config = build_config(spec)
    torch.manual_seed(spec["seed"])
    model = LlavaForConditionalGeneration(config)
    randomize_weights(model, spec["seed"])
    model = model.to(torch.float16)
    v = spec["vision"]
    out_dir.mkdir(parents=True, exist_ok=True)
    if spec["layout"] == "transformers5":
        # save_original_format=False: keep the transformers-5 module names (model.language_model.*, ...).
        # The default (True) writes a hybrid: language_model.model.*, language_model.lm_head.weight,
        # multi_modal_projector.*, but vision_tower.* WITHOUT the hub's "vision_model." infix.
        model.save_pretrained(str(out_dir), max_shard_size="10GB", save_original_format=False)
    else:
        save_hub_sharded(model, out_dir)
        atomic_write_json(out_dir / "config.json", hub_config_json(spec, config))
    atomic_write_json(out_dir / "generation_config.json", generation_config())
    atomic_write_json(out_dir / "preprocessor_config.json", preprocessor_config(v["image_size"]))
    atomic_write_json(out_dir / "processor_config.json", processor_config(v["patch_size"], spec["strategy"]))
    tok_src = HERE / "tokenizer"
    files = TOKENIZER_FILES if with_tokenizer_json else TOKENIZER_FILES[1:]
    for f in files:
        atomic_copy(tok_src / f, out_dir / f)
    return config


# --------------------------------------------------------------------------------------------
# Reference computation
# --------------------------------------------------------------------------------------------

def load_fp32(ckpt_dir: Path) -> LlavaForConditionalGeneration:
    model = LlavaForConditionalGeneration.from_pretrained(
        str(ckpt_dir), dtype=torch.float16, attn_implementation="eager")
    model = model.float().eval()
    return model


def check_weights_equal_files(model: LlavaForConditionalGeneration, ckpt_dir: Path, hub: bool) -> int:
    """Every tensor in the files must equal the loaded (upcast) parameter. Returns the tensor count."""
    files = sorted(ckpt_dir.glob("model*.safetensors"))
    sd = model.state_dict()
    n = 0
    for f in files:
        for k, v in load_file(str(f)).items():
            key = from_hub_name(k) if hub else k
            assert key in sd, f"{f.name}: {k} not in model"
            assert v.dtype == torch.float16, f"{f.name}: {k} is {v.dtype}"
            assert torch.equal(v.float(), sd[key]), f"{f.name}: {k} differs after loading"
            n += 1
    expected = len([k for k in sd if not k.endswith("position_ids")])
    assert n == expected, f"file tensors {n} != model tensors {expected}"
    return n


@torch.no_grad()
def compute_reference(name: str, spec: dict, ckpt_dir: Path) -> tuple[dict, dict]:
    model = load_fp32(ckpt_dir)
    cfg = model.config
    hub = spec["layout"] == "hub"
    n_weights = check_weights_equal_files(model, ckpt_dir, hub)
    assert cfg.text_config.rope_parameters["rope_theta"] == spec["text"]["rope_theta"]
    assert abs(cfg.text_config.rms_norm_eps - 1e-5) < 1e-12
    assert cfg.text_config.head_dim == spec["text"]["head_dim"]
    assert cfg.text_config.num_key_value_heads == spec["text"]["num_key_value_heads"]
    assert cfg.image_seq_length == num_image_tokens(spec["vision"]["image_size"], spec["vision"]["patch_size"],
                                                    spec["strategy"])
    v = spec["vision"]
    Lv = v["num_hidden_layers"]
    L = spec["text"]["num_hidden_layers"]
    H = spec["text"]["num_attention_heads"]
    grid = v["image_size"] // v["patch_size"]

    # ---- inputs
    image_path = HERE / spec["image"]
    image = Image.open(image_path)
    image.load()
    rgb = np.asarray(image.convert("RGB"))
    image_processor = CLIPImageProcessorPil.from_pretrained(str(ckpt_dir))
    pixel_values = image_processor(images=image, return_tensors="pt")["pixel_values"]
    assert pixel_values.dtype == torch.float32, pixel_values.dtype
    assert tuple(pixel_values.shape) == (1, 3, v["image_size"], v["image_size"])

    prompt = spec["prompt"] or llava15_prompt(spec["question"])
    n_img = num_image_tokens(v["image_size"], v["patch_size"], spec["strategy"])
    assert n_img == cfg.image_seq_length
    ids = tokenize_expanded(HERE / "tokenizer" / "tokenizer.json", prompt, n_img)
    if spec["prompt"] is not None and spec["prompt"].startswith("USER: <image>\nIs there a red square"):
        # Vector from /work/shared/data/tokenizers/README.md (before expansion).
        expect = [1, 3148, 1001, 29901, 29871, 32000, 29871, 13, 3624, 727, 263, 2654, 6862, 297, 278,
                  1967, 29973, 319, 1799, 9047, 13566, 29901]
        k = expect.index(IMAGE_TOKEN_ID)
        assert ids == expect[:k] + [IMAGE_TOKEN_ID] * n_img + expect[k + 1:], ids
    proc_note = check_with_llava_processor(ckpt_dir, HERE / "tokenizer", prompt, image, ids,
                                           pixel_values[0], v["patch_size"], spec["strategy"])
    T = len(ids)
    span_start = ids.index(IMAGE_TOKEN_ID)
    span_end = span_start + n_img  # exclusive
    assert all(i == IMAGE_TOKEN_ID for i in ids[span_start:span_end])
    assert IMAGE_TOKEN_ID not in ids[span_end:]
    input_ids = torch.tensor([ids], dtype=torch.long)

    # ---- vision tower alone
    vt = model.model.vision_tower
    vout = vt(pixel_values, output_hidden_states=True, output_attentions=True, return_dict=True)
    assert len(vout.hidden_states) == Lv + 1, len(vout.hidden_states)
    assert len(vout.attentions) == Lv, len(vout.attentions)
    emb = vt.pre_layrnorm(vt.embeddings(pixel_values))
    assert torch.equal(emb, vout.hidden_states[0]), "vision hidden_states[0] is not pre_layrnorm(embeddings)"
    assert torch.equal(vout.hidden_states[-1], vout.last_hidden_state)
    sel = vout.hidden_states[spec["vision_feature_layer"]]
    image_features = sel[:, 1:] if spec["strategy"] == "default" else sel
    assert image_features.shape[1] == n_img
    projector_output = model.model.multi_modal_projector(image_features)
    via_model = model.model.get_image_features(pixel_values=pixel_values, return_dict=True).pooler_output
    assert torch.equal(torch.cat(list(via_model), 0), projector_output[0]), "get_image_features differs"

    # ---- prefill (full prompt incl. image)
    captured = {}

    def grab_inputs_embeds(module, args, kwargs):
        captured["inputs_embeds"] = kwargs["inputs_embeds"].clone()

    h = model.model.language_model.register_forward_pre_hook(grab_inputs_embeds, with_kwargs=True)
    out = model(input_ids=input_ids, pixel_values=pixel_values, output_attentions=True,
                output_hidden_states=True, use_cache=True, return_dict=True)
    h.remove()
    inserted = captured["inputs_embeds"][0, span_start:span_end]
    assert torch.equal(inserted, projector_output[0]), "projector_output != inserted embeddings"
    text_pos = [i for i in range(T) if not span_start <= i < span_end]
    assert torch.equal(captured["inputs_embeds"][0, text_pos],
                       model.model.language_model.embed_tokens(input_ids[0, text_pos]))
    assert len(out.attentions) == L and tuple(out.attentions[0].shape) == (1, H, T, T), \
        [tuple(a.shape) for a in out.attentions]
    assert len(out.hidden_states) == L + 1
    assert torch.equal(out.hidden_states[0], captured["inputs_embeds"])
    # What is the last entry of hidden_states? (transformers 5: the final-norm output.)
    final_norm = model.model.language_model.norm
    # Recompute the raw output of the last decoder layer with a hook to document hidden_states[L].
    raw = {}
    hk = model.model.language_model.layers[L - 1].register_forward_hook(
        lambda m, a, o: raw.__setitem__("x", (o[0] if isinstance(o, tuple) else o).clone()))
    out2 = model(input_ids=input_ids, pixel_values=pixel_values, output_hidden_states=True,
                 use_cache=False, return_dict=True)
    hk.remove()
    assert torch.equal(out2.logits, out.logits)
    last_is_normed = torch.equal(out.hidden_states[L], final_norm(raw["x"]))
    last_is_raw = torch.equal(out.hidden_states[L], raw["x"])
    assert last_is_normed != last_is_raw, "cannot tell what hidden_states[L] is"

    tensors: dict[str, torch.Tensor] = {}
    tensors["input_ids"] = input_ids[0].clone()
    tensors["pixel_values"] = pixel_values[0].clone()
    for i, hs in enumerate(vout.hidden_states):
        tensors[f"vision_hidden.{i}"] = hs[0].clone()
    for l, a in enumerate(vout.attentions):
        tensors[f"vision_attention.{l}"] = a[0].clone()
    tensors["image_features"] = image_features[0].clone()
    tensors["projector_output"] = projector_output[0].clone()
    tensors["prefill_logits"] = out.logits[0, -1].clone()
    for l, a in enumerate(out.attentions):
        tensors[f"prefill_attention.{l}"] = a[0, :, -1, :].clone()
    for l, hs in enumerate(out.hidden_states):
        tensors[f"prefill_hidden_last.{l}"] = hs[0, -1].clone()
    tensors["prefill_last_layer_raw"] = raw["x"][0, -1].clone()

    # ---- greedy decode with the KV cache, 5 tokens, no EOS stopping
    cache = out.cache
    logits_row = out.logits[0, -1]
    step_logits, step_attn, generated, margins = [], [], [], []
    attn_rows = [a[0, :, -1, :] for a in out.attentions]
    for s in range(GEN_STEPS):
        if s > 0:
            o = model(input_ids=torch.tensor([[generated[-1]]]), cache=cache, output_attentions=True,
                      use_cache=True, return_dict=True)
            cache = o.cache
            logits_row = o.logits[0, -1]
            attn_rows = [a[0, :, -1, :] for a in o.attentions]
            assert attn_rows[0].shape[-1] == T + s
        top2 = torch.topk(logits_row, 2).values
        margins.append(float(top2[0] - top2[1]))
        nxt = int(torch.argmax(logits_row))
        step_logits.append(logits_row.clone())
        step_attn.append(torch.stack(attn_rows, 0).clone())     # [L, H, T+s]
        generated.append(nxt)
    assert min(margins) > 1e-3, f"{name}: greedy top-2 margin too small {margins}; pick another seed"
    tensors["generated_ids"] = torch.tensor(generated, dtype=torch.long)
    tensors["step_logits"] = torch.stack(step_logits, 0)
    for s, a in enumerate(step_attn):
        tensors[f"step_attention.{s}"] = a

    # ---- sanity: cached decode == full recompute (no cache) of the growing sequence
    max_logit_diff = 0.0
    max_attn_diff = 0.0
    for s in range(GEN_STEPS):
        seq = torch.tensor([ids + generated[:s]], dtype=torch.long)
        o = model(input_ids=seq, pixel_values=pixel_values, output_attentions=True, use_cache=False,
                  return_dict=True)
        d = float((o.logits[0, -1] - step_logits[s]).abs().max())
        da = float((torch.stack([a[0, :, -1, :] for a in o.attentions], 0) - step_attn[s]).abs().max())
        max_logit_diff = max(max_logit_diff, d)
        max_attn_diff = max(max_attn_diff, da)
        assert d <= 1e-5, f"{name}: step {s} cached logits differ from full recompute by {d}"
        assert da <= 1e-5, f"{name}: step {s} cached attention differs from full recompute by {da}"
    # ---- and HF generate agrees on the greedy tokens
    gen = model.generate(input_ids=input_ids, pixel_values=pixel_values, max_new_tokens=GEN_STEPS,
                         do_sample=False, eos_token_id=None, pad_token_id=PAD_TOKEN_ID)
    gen_ids = gen[0, T:].tolist()
    assert gen_ids == generated, f"generate {gen_ids} != manual loop {generated}"

    for k, t in tensors.items():
        assert t.dtype in (torch.float32, torch.int64), (k, t.dtype)
        assert torch.isfinite(t.float()).all(), k

    resized = resize_size(rgb.shape[0], rgb.shape[1], v["image_size"])
    info = {
        "model": name,
        "checkpoint_layout": ("transformers-5 save_pretrained names, single model.safetensors"
                              if not hub else
                              "llava-hf hub names, 2 shards + model.safetensors.index.json"),
        "prompt": prompt,
        "question": spec["question"],
        "image_file": Path(spec["image"]).name,
        "image_path_in_fixtures": spec["image"],
        "image_size_wh": [int(rgb.shape[1]), int(rgb.shape[0])],
        "image_rgb_sha256": hashlib.sha256(np.ascontiguousarray(rgb).tobytes()).hexdigest(),
        "resized_hw_before_crop": list(resized),
        "crop_top_left": [(resized[0] - v["image_size"]) // 2, (resized[1] - v["image_size"]) // 2],
        "T": T,
        "n_image_tokens": n_img,
        "image_span_start": span_start,
        "image_span_end_exclusive": span_end,
        "grid_cols_rows": [grid, grid],
        "vision_feature_layer": spec["vision_feature_layer"],
        "vision_feature_select_strategy": spec["strategy"],
        "generated_ids": generated,
        "greedy_top2_margins": margins,
        "num_layers_text": L,
        "num_heads_text": H,
        "num_layers_vision": Lv,
        "seed": spec["seed"],
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "dtype": "weights fp16 on disk, upcast to fp32; all reference math fp32, eager attention, 1 thread",
        "hidden_states_last_entry": ("final RMSNorm output (norm applied)" if last_is_normed
                                     else "raw last decoder layer output (no final norm)"),
        "checks": {
            "weights_in_files_equal_loaded": n_weights,
            "cached_vs_full_recompute_max_abs_logit_diff": max_logit_diff,
            "cached_vs_full_recompute_max_abs_attention_diff": max_attn_diff,
            "projector_output_equals_inserted_embeddings": True,
            "hf_generate_matches_manual_loop": True,
            "llava_processor": proc_note,
        },
        "keys": describe_keys(tensors, Lv, L, last_is_normed),
    }
    return tensors, info


def resize_size(h: int, w: int, shortest: int) -> tuple[int, int]:
    """HF get_resize_output_image_size(default_to_square=False): short side -> S, long = int(S*long/short)."""
    if w <= h:
        return int(shortest * h / w), shortest
    return shortest, int(shortest * w / h)


def describe_keys(tensors: dict, Lv: int, L: int, last_is_normed: bool) -> dict:
    desc = {
        "input_ids": "int64 token ids after expanding <image> to N copies (BOS first)",
        "pixel_values": "CLIPImageProcessorPil output (resize shortest edge bicubic, center crop, /255, CLIP mean/std), CHW",
        "image_features": "vision hidden state at vision_feature_layer, CLS dropped iff strategy 'default', before projector",
        "projector_output": "multi_modal_projector(image_features) = linear_2(gelu(linear_1(x))); inserted at the <image> positions",
        "prefill_logits": "logits of the last prompt position",
        "generated_ids": "int64 greedy tokens (no EOS stopping); step 0 chosen from prefill_logits",
        "step_logits": "row s = the logits that chose generated_ids[s] (row 0 == prefill_logits)",
        "prefill_last_layer_raw": "output of the last decoder layer at the last position BEFORE the final RMSNorm",
    }
    out = {}
    for k, t in tensors.items():
        base, _, idx = k.partition(".")
        if base == "vision_hidden":
            d = (f"CLIP hidden state {idx}: " +
                 ("embeddings after pre_layrnorm (input of encoder layer 0)" if idx == "0"
                  else f"output of encoder layer {int(idx) - 1} (0-based)") + "; row 0 = CLS")
        elif base == "vision_attention":
            d = f"CLIP encoder layer {idx} post-softmax attention [heads, query, key], row/col 0 = CLS"
        elif base == "prefill_attention":
            d = f"decoder layer {idx}: last prompt row of the post-softmax attention [heads, key]"
        elif base == "prefill_hidden_last":
            if idx == "0":
                d = "hidden_states[0] at the last position = input embeddings (after image insertion)"
            elif int(idx) == L:
                d = (f"hidden_states[{L}] at the last position = " +
                     ("final RMSNorm output (transformers replaces the last entry with the normed state)"
                      if last_is_normed else "output of the last decoder layer (no final norm)"))
            else:
                d = f"hidden_states[{idx}] at the last position = output of decoder layer {int(idx) - 1} (0-based)"
        elif base == "step_attention":
            d = (f"generation step {idx}: the generating row's post-softmax attention in every layer "
                 f"[layers, heads, keys = T + {idx}]" + (" (== prefill_attention rows)" if idx == "0"
                                                         else "; computed with the KV cache"))
        else:
            d = desc[k]
        out[k] = {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "description": d}
    return out


def generate_model(name: str, spec: dict) -> dict:
    final_dir = HERE / name
    tmp_dir = Path(tempfile.mkdtemp(prefix=name + ".", suffix=".tmp", dir=HERE))
    try:
        write_checkpoint(name, spec, tmp_dir)
        tensors, info = compute_reference(name, spec, tmp_dir)
        atomic_save_safetensors(tensors, tmp_dir / "reference" / "reference.safetensors",
                                metadata={"format": "pt"})  # one key: the header stays byte-stable
        atomic_write_json(tmp_dir / "reference" / "reference.json", info)
        # reload check of the dump
        back = load_file(str(tmp_dir / "reference" / "reference.safetensors"))
        assert set(back) == set(tensors) and all(torch.equal(back[k], tensors[k]) for k in back)
        for root, dirs, files in os.walk(tmp_dir):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
        replace_dir(tmp_dir, final_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer-src", type=Path, default=DEFAULT_TOKENIZER_SRC)
    ap.add_argument("--coco-image", type=Path, default=DEFAULT_COCO_IMAGE)
    ap.add_argument("--only", choices=sorted(MODEL_SPECS), action="append")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    ensure_shared_inputs(args.tokenizer_src, args.coco_image)
    for name in args.only or MODEL_SPECS:
        info = generate_model(name, MODEL_SPECS[name])
        print(f"{name}: T={info['T']} N={info['n_image_tokens']} span=[{info['image_span_start']},"
              f"{info['image_span_end_exclusive']}) generated={info['generated_ids']} "
              f"checks={json.dumps(info['checks'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
