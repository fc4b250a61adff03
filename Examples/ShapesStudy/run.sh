#!/usr/bin/env bash
# The CLVS paper's analyses end to end on the shipped shapes model and the synthetic benchmark
# (no download): benchmark generation, POPE / AMBER-style evaluation vanilla and CLVS, the
# key-object study (Figures 2 and 6), the convergence study (Figure 4) and the gamma / lambda
# sweeps (Figures 7 and 8).
#
#   Examples/ShapesStudy/run.sh [OUT]          (default OUT: examples-out/shapes-study)
#
# About 20 minutes on 2 cores. Everything is resumable (answers files are appended to) and the
# study folders are replaced. With COPY_FIGURES=1 the figures and tables the README shows are
# copied into Examples/ShapesStudy/results/.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-examples-out/shapes-study}
TRACES=${TRACES:-200}     # POPE adversarial questions traced for the key-object / convergence studies
SWEEP=${SWEEP:-600}       # POPE adversarial questions per sweep point

swift build -c release --product clvs-trace
BIN="$(swift build -c release --show-bin-path)/clvs-trace"
B="$OUT/benchmark"
mkdir -p "$OUT/eval" "$OUT/traces"

"$BIN" synth benchmark --seed 1 --images 300 --out "$B"

for m in vanilla clvs; do
  "$BIN" eval --benchmark pope --questions "$B/pope" --images "$B/images" --method "$m" \
      --max-new-tokens 8 --out "$OUT/eval/pope_$m.jsonl" > "$OUT/eval/pope_$m.txt"
  "$BIN" eval --benchmark amber --questions "$B/amber/query_discriminative-attribute.json" \
      --questions "$B/amber/query_discriminative-relation.json" --annotations "$B/amber/annotations.json" \
      --images "$B/images" --method "$m" --max-new-tokens 8 --out "$OUT/eval/amber_$m.jsonl" > "$OUT/eval/amber_$m.txt"
  "$BIN" eval --benchmark pope --questions "$B/pope/coco_pope_adversarial.json" --images "$B/images" --method "$m" \
      --limit "$TRACES" --max-new-tokens 4 --trace-dir "$OUT/traces/$m" --out "$OUT/traces/$m.jsonl" > /dev/null
done

"$BIN" study key-objects --vanilla "$OUT/traces/vanilla" --clvs "$OUT/traces/clvs" \
    --annotations "$B/annotations/instances_shapes.json" --force --out "$OUT/key-objects" > /dev/null
"$BIN" study convergence --traces "$OUT/traces/vanilla" --force --out "$OUT/convergence" > /dev/null
for p in gamma lambda; do
  "$BIN" study sweep --benchmark pope --questions "$B/pope/coco_pope_adversarial.json" --images "$B/images" \
      --param "$p" --values 0 0.2 0.4 0.6 0.8 1.0 --limit "$SWEEP" --max-new-tokens 4 --out "$OUT/sweep-$p" > /dev/null
done

if [ "${COPY_FIGURES:-0}" = 1 ]; then
  R=Examples/ShapesStudy/results
  mkdir -p "$R"
  cp "$OUT"/eval/*.txt "$R/"
  cp "$OUT"/key-objects/{figure6_peaks.png,figure6_relative_increase.png,figure2_mean.png,key_objects.csv} "$R/"
  cp "$OUT"/convergence/{figure4.png,convergence.csv} "$R/"
  for p in gamma lambda; do cp "$OUT/sweep-$p/sweep.csv" "$R/sweep_$p.csv"; cp "$OUT"/sweep-$p/sweep_${p}_*.png "$R/"; done
fi
echo "wrote $OUT"
