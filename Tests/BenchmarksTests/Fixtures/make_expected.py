#!/usr/bin/env python3
"""Runs the official scorers on the hand-made fixtures and records what they compute.

Usage: python3 make_expected.py OFFICIAL_DIR AMBER_ANNOTATIONS_JSON

OFFICIAL_DIR holds checkouts (or copies) of the official scripts, which are NOT part of this
repository:
  POPE/evaluate.py                    RUCAIBox/POPE (== AoiDragon/POPE) evaluate.py
  LLaVA/llava/eval/eval_pope.py       haotian-liu/LLaVA
  AMBER/inference.py, AMBER/data/metrics.txt   junyangwang0410/AMBER
  R-Bench/eval.py                     mrwu-mac/R-Bench
  CLVS/eval/eval.py                   ZhQingan/CLVS
AMBER_ANNOTATIONS_JSON is AMBER's full data/annotations.json (inference.py indexes it by
position, so the fixture subset cannot stand in for it).

AMBER's inference.py imports nltk and spaCy and loads en_core_web_lg at import time although
the discriminative scoring never uses them; they are replaced by empty stand-in modules here.
Every number is written as Python's repr string, so the Swift tests compare bit for bit.
Writes expected_official.json next to this script.
"""
import io
import json
import os
import re
import runpy
import subprocess
import sys
import tempfile
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))


def fx(*p):
    return os.path.join(HERE, *p)


def r(x):
    return repr(float(x))


def pope_evaluate(official):
    path = os.path.join(official, "POPE", "evaluate.py")
    src = open(path, encoding="utf-8").read()
    src = src.replace("ans_file = ''", "ans_file = %r" % fx("pope", "quirks_answers.jsonl"), 1)
    src = src.replace("label_file = ''", "label_file = %r" % fx("pope", "quirks_labels.json"), 1)
    ns = {"__name__": "__main__"}
    with redirect_stdout(io.StringIO()):
        exec(compile(src, path, "exec"), ns)
    return {"TP": ns["TP"], "FP": ns["FP"], "TN": ns["TN"], "FN": ns["FN"], "accuracy": r(ns["acc"]),
            "precision": r(ns["precision"]), "recall": r(ns["recall"]), "f1": r(ns["f1"]), "yes_ratio": r(ns["yes_ratio"])}


def llava_eval_pope(official):
    script = os.path.join(official, "LLaVA", "llava", "eval", "eval_pope.py")
    out = subprocess.run([sys.executable, script, "--annotation-dir", fx("pope", "pinned"),
                          "--question-file", fx("pope", "llava_pope_test_subset.jsonl"),
                          "--result-file", fx("pope", "llava_answers.jsonl")], capture_output=True, text=True, check=True).stdout
    res = {}
    for block in out.split("====================================")[:-1]:
        cat = re.search(r"Category: (\w+), # samples: (\d+)", block)
        tp, fp, tn, fn = map(int, re.search(r"\n(\d+)\t(\d+)\t(\d+)\t(\d+)\n", block).groups())
        val = lambda k: r(float(re.search(k + r": (\S+)", block).group(1)))
        res[cat.group(1)] = {"samples": int(cat.group(2)), "TP": tp, "FP": fp, "TN": tn, "FN": fn, "accuracy": val("Accuracy"),
                             "precision": val("Precision"), "recall": val("Recall"), "f1": val("F1 score"), "yes_ratio": val("Yes ratio")}
    return res


def amber(official, annotations):
    stubs = tempfile.mkdtemp()
    os.makedirs(os.path.join(stubs, "nltk", "stem"))
    open(os.path.join(stubs, "nltk", "__init__.py"), "w").write("")
    open(os.path.join(stubs, "nltk", "stem", "__init__.py"), "w").write("class WordNetLemmatizer:\n    pass\n")
    open(os.path.join(stubs, "spacy.py"), "w").write("def load(name):\n    return None\n")
    assoc = os.path.join(stubs, "relation.json")
    open(assoc, "w").write("{}")
    safe = os.path.join(stubs, "safe_words.txt")
    open(safe, "w").write("")
    env = dict(os.environ, PYTHONPATH=stubs)
    adir = os.path.join(official, "AMBER")
    out = subprocess.run([sys.executable, "inference.py", "--inference_data", fx("amber", "responses.json"), "--annotation", annotations,
                          "--word_association", assoc, "--safe_words", safe, "--evaluation_type", "d"],
                         cwd=adir, env=env, capture_output=True, text=True, check=True).stdout
    res = {}
    for name, body in re.findall(r"(\w[\w ]*):\n((?:\w+:\t+ \S+\s*\n?)+)", out):
        res[name] = {k: r(float(v)) for k, v in re.findall(r"(\w+):\t+ (\S+)", body)}
    return res


def rbench(official):
    script = os.path.join(official, "R-Bench", "eval.py")
    argv = sys.argv
    sys.argv = [script, "--question-file", fx("rbench", "image-level_filterd.json"),
                "--question-id-file", fx("rbench", "nocaps_image-level_rel_ids_holder.json"),
                "--result-file", fx("rbench", "answers.jsonl"), "--eval_image"]
    try:
        with redirect_stdout(io.StringIO()):
            ns = runpy.run_path(script, run_name="__main__")
    finally:
        sys.argv = argv
    return {"subsets": [[r(v) for v in row] for row in ns["resluts"]], "average": [r(v) for v in ns["results"].tolist()]}


def clvs_paper(official):
    script = os.path.join(official, "CLVS", "eval", "eval.py")
    argv = sys.argv
    sys.argv = [script, "--gen_files", fx("clvs_paper", "answers.jsonl")]
    try:
        with redirect_stdout(io.StringIO()):
            ns = runpy.run_path(script, run_name="__main__")
    finally:
        sys.argv = argv
    return {k: r(ns[k]) for k in ("precision", "recall", "f1", "accuracy", "yes_proportion", "unknown_prop")} | {
        "total_questions": ns["total_questions"], "unknown": ns["unknown"]}


def main(official, annotations):
    res = {"pope_evaluate_py": pope_evaluate(official), "llava_eval_pope_py": llava_eval_pope(official),
           "amber_inference_py": amber(official, annotations), "rbench_eval_py": rbench(official),
           "clvs_paper_eval_py": clvs_paper(official)}
    with open(fx("expected_official.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
