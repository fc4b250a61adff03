#!/usr/bin/env python3
"""Time Hugging Face transformers on a LLaVA-1.5 checkpoint: prefill and one cached decode step.

    python3 Tests/Benchmarks/bench_hf.py --model DIR --image FILE --question TEXT --threads 2 \\
        [--dtype auto|float32|bfloat16|float16] [--repeats 3] [--output-attentions]

Inputs are built like the Swift runtime builds them: the LLaVA-1.5 template
"<system> USER: <image>\\n{question} ASSISTANT:", the `tokenizers` library on DIR/tokenizer.json
(with BOS), `<image>` expanded to N = (S/p)^2 + 1 - (1 if strategy == "default") tokens, and
`CLIPImageProcessorPil` from DIR/preprocessor_config.json. Attention is "eager".

prefill = one forward over the whole prompt including the vision tower and projector (use_cache=True);
decode = one forward of the greedy next token with the prefill's KV cache. Each is repeated --repeats
times (a fresh prefill each time) after --warmup untimed runs (default 1); the JSON reports the median
and every timed run. Prefill computes logits for the last position only (logits_to_keep=1, as generate does).

--dtype auto picks float32 if 4 bytes x parameters fits in 80% of MemAvailable, else bfloat16
(LLaVA-1.5-7B in fp32 is ~28 GB and does not fit in 24 GB). Prints one JSON object on stdout:
{prefill_s, decode_s, peak_rss_gib, dtype, torch_threads, ...}.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import struct
import sys
import time
from pathlib import Path

SYSTEM_PROMPT = (
    "A chat between a curious human and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the human's questions."
)


def count_params(model_dir: Path) -> int:
    """Parameter count from the safetensors headers (no tensor data read)."""
    n = 0
    for f in sorted(model_dir.glob("*.safetensors")):
        with open(f, "rb") as fh:
            hlen = struct.unpack("<Q", fh.read(8))[0]
            header = json.loads(fh.read(hlen))
        for k, v in header.items():
            if k == "__metadata__":
                continue
            c = 1
            for d in v["shape"]:
                c *= d
            n += c
    return n


def mem_available_bytes() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--image", type=Path, required=True)
    ap.add_argument("--question", default="What is in the image?")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", choices=["auto", "float32", "bfloat16", "float16"], default="auto")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1, help="untimed prefill+decode runs first")
    ap.add_argument("--output-attentions", action="store_true",
                    help="also return every layer's attention (what an attention tracer needs)")
    args = ap.parse_args(argv)

    import torch
    import transformers
    from PIL import Image
    from tokenizers import Tokenizer
    from transformers import CLIPImageProcessorPil, LlavaForConditionalGeneration

    transformers.logging.set_verbosity_error()
    torch.set_num_threads(args.threads)

    n_params = count_params(args.model)
    if args.dtype == "auto":
        fits = 4 * n_params < 0.8 * mem_available_bytes()
        dtype_name = "float32" if fits else "bfloat16"
    else:
        dtype_name = args.dtype
    dtype = getattr(torch, dtype_name)

    t0 = time.perf_counter()
    model = LlavaForConditionalGeneration.from_pretrained(
        str(args.model), dtype=dtype, attn_implementation="eager").eval()
    load_s = time.perf_counter() - t0

    cfg = model.config
    vc = cfg.vision_config
    n_img = (vc.image_size // vc.patch_size) ** 2 + 1
    if cfg.vision_feature_select_strategy == "default":
        n_img -= 1
    prompt = f"{SYSTEM_PROMPT} USER: <image>\n{args.question} ASSISTANT:"
    tok = Tokenizer.from_file(str(args.model / "tokenizer.json"))
    ids = tok.encode(prompt.replace("<image>", "<image>" * n_img), add_special_tokens=True).ids
    if ids.count(cfg.image_token_id) != n_img:
        raise SystemExit(f"{args.model / 'tokenizer.json'}: prompt has {ids.count(cfg.image_token_id)} image "
                         f"tokens, expected {n_img}")
    input_ids = torch.tensor([ids], dtype=torch.long)
    image_processor = CLIPImageProcessorPil.from_pretrained(str(args.model))
    pixel_values = image_processor(images=Image.open(args.image), return_tensors="pt")["pixel_values"].to(dtype)

    prefill, decode, vision = [], [], []
    next_ids = []
    with torch.inference_mode():
        for r in range(args.warmup + args.repeats):
            t0 = time.perf_counter()
            out = model(input_ids=input_ids, pixel_values=pixel_values, use_cache=True,
                        output_attentions=args.output_attentions, logits_to_keep=1)
            t1 = time.perf_counter()
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            t2 = time.perf_counter()
            model(input_ids=nxt, cache=out.cache, use_cache=True, output_attentions=args.output_attentions)
            t3 = time.perf_counter()
            del out
            # The vision tower + projector alone (the same work the prefill started with).
            t4 = time.perf_counter()
            model.model.get_image_features(pixel_values=pixel_values)
            t5 = time.perf_counter()
            if r < args.warmup:
                continue
            prefill.append(t1 - t0)
            decode.append(t3 - t2)
            vision.append(t5 - t4)
            next_ids.append(int(nxt))

    result = {
        "prefill_s": round(statistics.median(prefill), 4),
        "decode_s": round(statistics.median(decode), 4),
        "vision_s": round(statistics.median(vision), 4),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3),
        "dtype": dtype_name,
        "torch_threads": torch.get_num_threads(),
        "prefill_runs_s": [round(x, 4) for x in prefill],
        "decode_runs_s": [round(x, 4) for x in decode],
        "load_s": round(load_s, 2),
        "params": n_params,
        "prompt_tokens": len(ids),
        "image_tokens": n_img,
        "first_token": next_ids[0],
        "output_attentions": args.output_attentions,
        "warmup_runs": args.warmup,
        "attn_implementation": "eager",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "model": str(args.model),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
