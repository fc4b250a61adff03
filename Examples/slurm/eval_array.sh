#!/usr/bin/env bash
# Runs one benchmark as a Slurm job array: every array task answers one deterministic shard
# (`clvs-trace eval --shard K/N`), then a dependent job merges the shard files and scores them
# (`clvs-trace score`, which rejects duplicate answers and lists missing ones).
#
#   export MODEL=~/models/llava-1.5-7b-hf IMAGES=~/data/coco/val2014 \
#          BENCHMARK=pope QUESTIONS=~/data/pope/llava_pope_test.jsonl ANNOTATIONS=~/data/pope/llava_pinned_e3e39262
#   jid=$(sbatch --parsable --array=0-7 Examples/slurm/eval_array.sh)
#   sbatch --dependency=afterok:"$jid" Examples/slurm/eval_array.sh score
#
# A task that is preempted, requeued or resubmitted resumes its shard file where it stopped
# (answered questions are skipped; a line cut by the kill is removed). Re-running the array with
# the same OUTDIR after a failure only answers what is missing.
#
# Settings (environment variables):
#   CLVS_TRACE   the binary (default: .build/release/clvs-trace; build it with `swift build -c release`)
#   MODEL        checkpoint folder (Hugging Face layout)
#   BENCHMARK    pope | amber | rbench | mme
#   QUESTIONS    question file or folder (see `clvs-trace eval --help`)
#   ANNOTATIONS  ground truth when it is separate (AMBER annotations.json; LLaVA question files)
#   IMAGES       image folder
#   METHOD       vanilla (default) | clvs;  CLVS_ARGS e.g. "--lambda 0.8 --gamma 0.8 --delta 0.5"
#   OUTDIR       where the shard files go (default: runs/$BENCHMARK-$METHOD)
#   EXTRA        more eval/score options, e.g. "--categories existence,count,position,color,OCR"
#                or "--subset-ids data_filterd/nocaps_image-level_rel_ids_1.json"
#   EVAL_ONLY    more eval-only options, e.g. "--max-new-tokens 1" or "--trace-dir traces"
#
#SBATCH --job-name=clvs-eval
#SBATCH --cpus-per-task=8
#SBATCH --mem=24G
#SBATCH --time=24:00:00
#SBATCH --requeue
#SBATCH --output=clvs-eval-%A_%a.log
set -euo pipefail

CLVS_TRACE=${CLVS_TRACE:-.build/release/clvs-trace}
METHOD=${METHOD:-vanilla}
: "${BENCHMARK:?set BENCHMARK}" "${QUESTIONS:?set QUESTIONS}"
OUTDIR=${OUTDIR:-runs/$BENCHMARK-$METHOD}
mkdir -p "$OUTDIR"

read -r -a extra <<< "${EXTRA:-}"
read -r -a eval_only <<< "${EVAL_ONLY:-}"
read -r -a clvs_args <<< "${CLVS_ARGS:-}"
data=(--benchmark "$BENCHMARK" --questions "$QUESTIONS")
if [ -n "${ANNOTATIONS:-}" ]; then data+=(--annotations "$ANNOTATIONS"); fi

if [ "${1:-}" = "score" ]; then
  # Merge every shard file, write the merged answers, print (and save) the scores.
  shopt -s nullglob
  shards=("$OUTDIR"/shard-*.jsonl)
  if [ ${#shards[@]} -eq 0 ]; then echo "no shard files in $OUTDIR" >&2; exit 1; fi
  answers=()
  for f in "${shards[@]}"; do answers+=(--answers "$f"); done
  "$CLVS_TRACE" score "${data[@]}" "${extra[@]}" "${answers[@]}" \
      --merged-out "$OUTDIR/merged.jsonl" --scorer both | tee "$OUTDIR/scores.txt"
  exit 0
fi

: "${MODEL:?set MODEL}" "${IMAGES:?set IMAGES}" "${SLURM_ARRAY_TASK_ID:?submit with sbatch --array=0-(N-1)}"
# 0-based shard index and count, whatever the array's first index is.
N=${SLURM_ARRAY_TASK_COUNT:-1}
K=$(( SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0} ))
# The runtime uses as many worker threads as the task's CPUs (its affinity mask).

"$CLVS_TRACE" eval "${data[@]}" "${extra[@]}" "${eval_only[@]}" \
    --images "$IMAGES" --model "$MODEL" --method "$METHOD" "${clvs_args[@]}" \
    --shard "$K/$N" --out "$OUTDIR/shard-$K-of-$N.jsonl"
