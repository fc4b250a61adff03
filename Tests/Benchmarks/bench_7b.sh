#!/usr/bin/env bash
# Times prefill and one cached decode step of clvs-trace (Swift, fp32 compute on fp16 weights,
# OpenBLAS) and of Hugging Face transformers (eager attention) on the same checkpoint, image and
# prompt, one after the other in this run, and prints both with their ratio.
#
#   python3 Tests/Benchmarks/make_llava7b_random.py /data/llava-1.5-7b-random   # once, 14.1 GB
#   Tests/Benchmarks/bench_7b.sh /data/llava-1.5-7b-random [IMAGE] [REPEATS]
#
# HF_DTYPE=float32|bfloat16|float16|auto selects the transformers dtype (auto: fp32 if it fits in
# memory, else bf16; a 7B model in fp32 needs ~28 GB and does not fit in 24 GB).
set -euo pipefail
cd "$(dirname "$0")/../.."
ckpt=${1:?usage: bench_7b.sh CHECKPOINT_DIR [IMAGE] [REPEATS]}
image=${2:-Sources/clvs-trace/Resources/default-image.jpg}
repeats=${3:-3}
question="Is there a dog in the image?"
swift build -c release --product clvs-trace >&2
echo "== clvs-trace bench ==" >&2
swift_json=$(.build/release/clvs-trace bench --model "$ckpt" --image "$image" --question "$question" --repeats "$repeats" --warmup 1)
echo "$swift_json" >&2
echo "== transformers (bench_hf.py) ==" >&2
hf_json=$(python3 Tests/Benchmarks/bench_hf.py --model "$ckpt" --image "$image" --question "$question" --threads 2 \
          --repeats "$repeats" --warmup 1 --dtype "${HF_DTYPE:-auto}")
echo "$hf_json" >&2
SWIFT_JSON="$swift_json" HF_JSON="$hf_json" python3 - <<'PY'
import json, os
s = json.loads(os.environ["SWIFT_JSON"]); h = json.loads(os.environ["HF_JSON"])
print(f"{'':24}{'clvs-trace':>14}{'transformers':>14}{'HF/Swift':>10}")
print(f"{'compute dtype':24}{'fp32':>14}{str(h.get('dtype')):>14}")
for k, label in [("prefill_s", "prefill (s, median)"), ("decode_s", "decode step (s, median)")]:
    print(f"{label:24}{s[k]:>14.3f}{h[k]:>14.3f}{h[k] / s[k]:>10.2f}")
print(f"{'peak RSS (GiB)':24}{s['peak_rss_gib']:>14.2f}{h['peak_rss_gib']:>14.2f}")
print(f"{'prompt tokens':24}{s['prompt_tokens']:>14}{str(h.get('prompt_tokens', h.get('T', '?'))):>14}")
PY
