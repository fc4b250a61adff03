#!/usr/bin/env bash
# Times prefill and one cached decode step of clvs-trace (Swift: --precision fp32 and bf16) and of
# Hugging Face transformers (eager attention, attention outputs on) on the same checkpoint, image
# and prompt, one after the other in this run, and prints a table with the ratios and peak RSS.
#
#   python3 Tests/Benchmarks/make_llava7b_random.py /data/llava-1.5-7b-random   # once, 14.1 GB
#   Tests/Benchmarks/bench_7b.sh /data/llava-1.5-7b-random [IMAGE] [REPEATS]
#   # quick shape (finishes in about a minute):
#   python3 Tests/Benchmarks/make_llava7b_random.py /data/llava-7b-2layers --layers 2
#   Tests/Benchmarks/bench_7b.sh /data/llava-7b-2layers
#
# HF_DTYPE=bfloat16|float32|float16|auto selects the transformers dtype (default bfloat16; a 7B
# model in fp32 needs ~28 GB and does not fit in 24 GB). PRECISIONS="fp32 bf16" picks the Swift runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ckpt=${1:?usage: bench_7b.sh CHECKPOINT_DIR [IMAGE] [REPEATS]}
image=${2:-Examples/Data/coco_184324.jpg}
repeats=${3:-3}
question="Is there a dog in the image?"
swift build -c release --product clvs-trace >&2
results=()
for p in ${PRECISIONS:-fp32 bf16}; do
  echo "== clvs-trace bench --precision $p ==" >&2
  results+=("$(.build/release/clvs-trace bench --model "$ckpt" --image "$image" --question "$question" \
               --repeats "$repeats" --warmup 1 --precision "$p")")
  echo "${results[-1]}" >&2
done
echo "== transformers (bench_hf.py) ==" >&2
hf_json=$(python3 Tests/Benchmarks/bench_hf.py --model "$ckpt" --image "$image" --question "$question" --threads 2 \
          --repeats "$repeats" --warmup 1 --dtype "${HF_DTYPE:-bfloat16}" --output-attentions)
echo "$hf_json" >&2
SWIFT_JSON="$(printf '%s\n' "${results[@]}")" HF_JSON="$hf_json" python3 - <<'PY'
import json, os
runs = [json.loads(l) for l in os.environ["SWIFT_JSON"].splitlines() if l.strip()]
h = json.loads(os.environ["HF_JSON"])
cols = [f"clvs-trace {r['precision']}" for r in runs] + [f"torch {h.get('dtype')}"]
print(f"{'':26}" + "".join(f"{c:>18}" for c in cols) + "".join(f"{'Swift ' + r['precision'] + '/torch':>18}" for r in runs))
for k, label in [("vision_s", "vision + projector (s)"), ("prefill_s", "prefill (s, median)"), ("decode_s", "decode step (s, median)")]:
    vals = [r[k] for r in runs] + [h[k]]
    print(f"{label:26}" + "".join(f"{v:>18.3f}" for v in vals) + "".join(f"{r[k] / h[k]:>18.2f}" for r in runs))
print(f"{'peak RSS (GiB)':26}" + "".join(f"{r['peak_rss_gib']:>18.2f}" for r in runs) + f"{h['peak_rss_gib']:>18.2f}")
print(f"{'prompt tokens':26}" + "".join(f"{r['prompt_tokens']:>18}" for r in runs) + f"{h.get('prompt_tokens', '?'):>18}")
PY
