#!/usr/bin/env python3
"""Builds the benchmark test fixtures.

Usage: python3 make_fixtures.py SHARED_DATA_DIR   (the project's shared/data folder)

Copies (verbatim or as leading subsets) the benchmark files the tests need, and writes the
hand-made cases (one per parsing quirk of each official scorer). Expected numbers from the
official scripts are made separately by make_expected.py. Deterministic: running it twice
gives the same files.
"""
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def out(*parts):
    p = os.path.join(HERE, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def head_lines(src, dst, n):
    with open(src, encoding="utf-8") as f:
        lines = f.readlines()[:n]
    with open(dst, "w", encoding="utf-8", newline="") as f:
        f.writelines(lines)


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def main(shared):
    # --- MME: question lists and LaVIN's example results, complete (the 963.61 acceptance).
    for sub in ("questions", "reference_results_LaVIN"):
        d = out("mme", sub, "x")
        os.makedirs(os.path.dirname(d), exist_ok=True)
        for name in sorted(os.listdir(os.path.join(shared, "mme", sub))):
            shutil.copyfile(os.path.join(shared, "mme", sub, name), out("mme", sub, name))
    # LLaVA's llava_mme.jsonl: the five CLVS subtasks plus every line whose MME question has
    # two spaces before "Please answer yes or no." (LLaVA's converter retries with two spaces).
    gt = {}
    for name in os.listdir(os.path.join(shared, "mme", "questions")):
        with open(os.path.join(shared, "mme", "questions", name), encoding="utf-8") as f:
            for line in f:
                img, q, a = line.rstrip("\n").split("\t")
                gt.setdefault((name[:-4], img), []).append(q)
    keep = []
    with open(os.path.join(shared, "mme", "llava", "llava_mme.jsonl"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            img = r["question_id"].split("/")[-1]
            qs = gt[(r["category"], img)]
            double = any("  Please answer yes or no." in q for q in qs)
            if r["category"] in ("existence", "count", "position", "color", "OCR") or double:
                keep.append(line)
    with open(out("mme", "llava_mme_subset.jsonl"), "w", encoding="utf-8", newline="") as f:
        f.writelines(keep)

    # --- POPE: the first 12 lines of every split, both versions; LLaVA's question file for them.
    for cat in ("adversarial", "popular", "random"):
        head_lines(os.path.join(shared, "pope", f"coco_pope_{cat}.json"), out("pope", "head", f"coco_pope_{cat}.json"), 12)
        head_lines(os.path.join(shared, "pope", "llava_pinned_e3e39262", f"coco_pope_{cat}.json"),
                   out("pope", "pinned", f"coco_pope_{cat}.json"), 12)
    llava = [json.loads(l) for l in open(os.path.join(shared, "pope", "llava", "llava_pope_test.jsonl"), encoding="utf-8")]
    subset = []
    for cat in ("adversarial", "popular", "random"):
        subset += [r for r in llava if r["category"] == cat][:12]
    write_jsonl(out("pope", "llava_pope_test_subset.jsonl"), subset)

    # Hand-made POPE cases: label file (POPE format) and answers (POPE's "answer" key), matched
    # by line order; two answers more than labels.
    cases = [
        ("yes", "Yes, there is a dog."),       # first sentence, comma removed -> yes
        ("no", "No."),                          # text before '.' is "No" -> no
        ("no", "No\nThere is a cat"),           # split on ' ' only: "No\nThere" is one word -> yes
        ("no", "NO"),                           # case-sensitive -> yes
        ("yes", "Not sure"),                    # "Not" is not in the list -> yes
        ("no", "I do not think so"),            # "not" anywhere in the first sentence -> no
        ("yes", ""),                            # empty -> yes
        ("no", "There is a cat. No dog."),      # only the first sentence counts -> yes
        ("yes", "no,"),                         # comma removed -> "no" -> no
        ("No", "No"),                           # label "No" is not 'no': positive
        ("no", "Nope"),                         # -> yes
        ("yes", "yes,no"),                      # commas removed: "yesno" -> yes
        ("no", "no\tthanks"),                   # tab is not a separator -> yes
        ("no", "There is no cat in the image"), # "no" -> no
    ]
    write_jsonl(out("pope", "quirks_labels.json"),
                [{"question_id": i + 1, "image": "COCO_val2014_000000000001.jpg", "text": f"Is there a thing {i + 1} in the image?",
                  "label": lab} for i, (lab, _) in enumerate(cases)])
    write_jsonl(out("pope", "quirks_answers.jsonl"),
                [{"question": f"Is there a thing {i + 1} in the image?", "answer": ans} for i, (_, ans) in enumerate(cases)]
                + [{"question": "extra", "answer": "No"}, {"question": "extra", "answer": "Yes"}])
    # LLaVA answers for the 36 LLaVA questions: categories interleaved, each in question order.
    texts = ["Yes", "No", "No.", "Yes, there is.", "There is no such thing", "NO", "not really", "Not really", "", "No\nIt", "yes", "no"]
    by_cat = {cat: [r for r in subset if r["category"] == cat] for cat in ("adversarial", "popular", "random")}
    answers = []
    for i in range(12):
        for j, cat in enumerate(("random", "adversarial", "popular")):
            r = by_cat[cat][i]
            answers.append({"question_id": r["question_id"], "prompt": r["text"], "text": texts[(i + 5 * j) % len(texts)],
                            "answer_id": f"a{r['question_id']}", "model_id": "hand-made", "metadata": {}})
    write_jsonl(out("pope", "llava_answers.jsonl"), answers)

    # --- AMBER: a few queries of every annotation type, the annotations of those ids, and
    # hand-made responses (exact-string quirks).
    ann = json.load(open(os.path.join(shared, "amber", "annotations.json"), encoding="utf-8"))
    q_all = json.load(open(os.path.join(shared, "amber", "query_discriminative.json"), encoding="utf-8"))
    per_type = {}
    for q in q_all:
        t = ann[q["id"] - 1]["type"]
        per_type.setdefault(t, [])
        if len(per_type[t]) < 6:
            per_type[t].append(q)
    queries = sorted([q for qs in per_type.values() for q in qs], key=lambda q: q["id"])
    ids = {q["id"] for q in queries}
    with open(out("amber", "query_subset.json"), "w", encoding="utf-8") as f:
        json.dump(queries, f)
    with open(out("amber", "annotations_subset.json"), "w", encoding="utf-8") as f:
        json.dump([a for a in ann if a["id"] in ids] + [ann[0]], f)  # + one generative entry
    variants = ["Yes", "No", "yes", "No.", " No", "NO", "", "Yes, there is", "No", "Yes", "No", "no"]
    responses = [{"id": q["id"], "response": variants[k % len(variants)]} for k, q in enumerate(queries)]
    with open(out("amber", "responses.json"), "w", encoding="utf-8") as f:
        json.dump(responses, f)

    # --- R-Bench (made up: the data are not public here), in eval.py's format.
    labels = ["yes", "no", "Yes", "No", "", None, "unknown", "None", "yes", "no", "yes", "no", "yes", "no"]
    rq = [{"question_id": 100 + i, "image": f"img{i % 5}.jpg", "text": f"Is the thing {i} on the table?", "label": labels[i]}
          for i in range(len(labels))]
    with open(out("rbench", "image-level_filterd.json"), "w", encoding="utf-8") as f:
        json.dump(rq, f)
    subsets = {1: [100, 101, 102, 103, 104, 105, 106, 107],
               2: [100, 102, 104, 106, 108, 110, 112, 113],
               3: [101, 103, 105, 107, 109, 111, 113, 113],  # 113 listed twice: visited twice
               4: [108, 109, 110, 111, 112, 113, 100, 101],
               5: [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113]}
    for i, ids_ in subsets.items():
        with open(out("rbench", f"nocaps_image-level_rel_ids_{i}.json"), "w", encoding="utf-8") as f:
            json.dump(ids_, f)
    ranswers = ["Yes", "No, it is not.", "yes", "Not sure", "no", "There is none", "No", "Yes.", "I do not know",
                "No", "Yes", "no", "Yes"]  # 113 is missing: skipped by every subset
    rows = [{"question_id": 100 + i, "prompt": rq[i]["text"], "text": t, "answer_id": f"r{i}", "model_id": "hand-made", "metadata": {}}
            for i, t in enumerate(ranswers)]
    rows.append({"question_id": 100, "prompt": rq[0]["text"], "text": "No", "answer_id": "dup", "model_id": "hand-made", "metadata": {}})  # later line wins
    write_jsonl(out("rbench", "answers.jsonl"), rows)

    # --- The CLVS paper's answers format (last line = the inference script's arguments).
    paper = [("Yes", "Yes"), ("No", "No"), ("Yes", "No"), ("No", "Yes"), ("No", "I don't know"), ("Yes", "Not sure, yes"),
             ("no", " NOT "), ("yes", "yes and no"), ("no", "yes and no"), ("maybe", "Yes"), ("No", "There is none."),
             ("Yes", "Nothing")]
    rows = [{"question_id": f"R-Bench_{i}", "question": f"q{i}", "output": o, "label": l, "prompt": "p", "model_id": "llava-v1.5-7b",
             "image": f"{i}.jpg"} for i, (l, o) in enumerate(paper)]
    rows.append({"model_path": "/path", "gamma": 0.8, "beta": 0.8, "delta": 0.5, "max_gen_len": 1, "seed": 17})
    write_jsonl(out("clvs_paper", "answers.jsonl"), rows)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
