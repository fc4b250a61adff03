#!/usr/bin/env python3
"""Generates reference.json: encode/decode outputs of the Hugging Face `tokenizers` library
(Rust, via its Python binding) for the fixture tokenizer.json and a few variants of it.

Run from anywhere:  python3 make_reference.py
Needs only the `tokenizers` package (tested with 0.23.3). Tests never run this script.
"""
import json
import os
import random

import tokenizers
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
SEP = "\n__ggml_vocab_test__\n"


def vector_inputs():
    with open(os.path.join(HERE, "ggml-vocab-llama-spm.gguf.inp"), "rb") as f:
        raw = f.read().decode("utf-8")
    parts = raw.split(SEP)
    assert parts[-1] == "", "input file must end with the separator"
    return parts[:-1]


PROMPT = "USER: <image>\nIs there a red square in the image? ASSISTANT:"

CURATED = [
    PROMPT,
    "USER: <image>\nDescribe the picture.</s>",
    "<image>",
    "<image><image>",
    "<image> <image>",
    "<image>\n",
    " <image>",
    "a<image>b",
    "<s>",
    "<s>Hello",
    "Hello </s> world",
    "</s></s>",
    "<unk>",
    "<pad>",
    "<0x41>",
    "<image",
    "image>",
    "<<image>>",
    "Hello 😀 world 🚀🚀",
    "👨‍👩‍👧‍👦 family",
    "🇫🇷🇩🇪",
    "你好，世界！",
    "日本語のテキストです。",
    "한국어 텍스트",
    "Здравствуй, мир",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "สวัสดีชาวโลก",
    "line1\nline2\n\nline4",
    "tabs\tand\ttabs",
    "windows\r\nnewlines\r\n",
    "multiple   spaces    here",
    "   leading spaces",
    "trailing spaces   ",
    " ",
    "",
    "\n",
    "▁already▁has▁metaspace",
    "▁",
    "Café naïve résumé",
    "e\u0301 vs \u00e9",
    "\u212b \u00c5 \u2126 \u03a9",
    "\u03af \u1f77 \u03ac \u1f71",
    "\uf900 \u8c48",
    "\u0000 nul",
    "\U0010ffff \ue000",
    "\u2028\u2029\u00a0\u3000",
    "a" * 60,
    "ab" * 40,
    "The quick brown fox jumps over the lazy dog. " * 3,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "1234567890 3.14159 -42 1e10",
    "!!!???...,,,;;;:::",
    "def f(x):\n    return x * 2\n",
    "<image>USER: hi",
    "hi<image>",
    "ASSISTANT: The image shows <image> and </s> tokens.",
]

ALPHABET = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    + list("0123456789")
    + [" "] * 12
    + ["\n", "\t", "  ", "\r\n"]
    + list(".,;:!?'\"()[]{}<>-_=+*/\\|@#$%^&~`")
    + ["<image>", "</s>", "<s>", "<unk>", "<pad>", "<0x41>", "▁"]
    + list("éèêëàâäôöûüçñßøåæœ")
    + list("ΑΒΓαβγάέίόύή") + ["\u1f71", "\u1f73", "\u1f77", "\u1f79"]
    + ["e\u0301", "a\u0308", "\u0301", "\u200d", "\u200b"]
    + list("你好世界中文字漢") + list("日本語かなカナ") + list("한국어")
    + list("абвгдежз") + list("مرحبا") + list("नमस्ते")
    + ["😀", "🚀", "👍🏽", "❤️", "🇫🇷", "👨‍👩‍👧"]
    + ["\u212b", "\u2126", "\uf900", "\u00a0", "\u3000", "\u2028", "\ue000", "\U0010fffd", "\u0000", "\u00ad"]
)


def random_strings(rng, n, max_len):
    out = []
    for _ in range(n):
        k = rng.randint(0, max_len)
        out.append("".join(rng.choice(ALPHABET) for _ in range(k)))
    return out


def set_added(d, content, **flags):
    for t in d["added_tokens"]:
        if t["content"] == content:
            t.update(flags)
            return
    raise KeyError(content)


def make_variants(base):
    """Each variant: the top-level members that replace those of the fixture tokenizer.json."""
    variants = {}

    d = json.loads(json.dumps(base))
    set_added(d, "<image>", lstrip=True, rstrip=True)
    variants["image_lstrip_rstrip"] = {"added_tokens": d["added_tokens"]}

    d = json.loads(json.dumps(base))
    set_added(d, "<image>", single_word=True)
    d["added_tokens"].append({"id": 32002, "content": "hello", "single_word": False, "lstrip": False,
                              "rstrip": False, "normalized": True, "special": False})
    d["added_tokens"].append({"id": 32003, "content": "ASSIST", "single_word": True, "lstrip": False,
                              "rstrip": False, "normalized": False, "special": False})
    d["added_tokens"].append({"id": 32004, "content": " world", "single_word": False, "lstrip": False,
                              "rstrip": True, "normalized": False, "special": False})
    variants["single_word_and_classic_tokens"] = {"added_tokens": d["added_tokens"]}

    d = json.loads(json.dumps(base))
    set_added(d, "<image>", normalized=True, lstrip=True)
    variants["image_normalized_lstrip"] = {"added_tokens": d["added_tokens"]}

    # The newer Hugging Face LLaMA layout (legacy=false): no normaliser, Metaspace pre-tokenizer
    # that prepends "▁" only at the very start of the input.
    variants["metaspace_first"] = {
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
            {"type": "ByteFallback"}, {"type": "Fuse"}]},
    }
    variants["metaspace_always_split"] = {
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
        "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
    }
    return variants


def case(tok, text):
    ids_special = tok.encode(text, add_special_tokens=True).ids
    ids_plain = tok.encode(text, add_special_tokens=False).ids
    return {
        "text": text,
        "ids_special": ids_special,
        "ids_plain": ids_plain,
        "decode_skip": tok.decode(ids_special, skip_special_tokens=True),
        "decode_keep": tok.decode(ids_special, skip_special_tokens=False),
        "decode_plain_keep": tok.decode(ids_plain, skip_special_tokens=False),
    }


def main():
    path = os.path.join(HERE, "tokenizer.json")
    with open(path, encoding="utf-8") as f:
        base = json.load(f)
    tok = Tokenizer.from_file(path)
    rng = random.Random(20241125)

    texts = vector_inputs() + CURATED + random_strings(rng, 300, 24)
    cases = [case(tok, t) for t in texts]

    id_pool = list(range(0, 32002)) + [32002, 40000, 100000]
    byte_ids = list(range(3, 259))
    decode_cases = []
    for _ in range(150):
        k = rng.randint(0, 12)
        ids = [rng.choice(byte_ids) if rng.random() < 0.5 else rng.choice(id_pool) for _ in range(k)]
        decode_cases.append({"ids": ids,
                             "skip": tok.decode(ids, skip_special_tokens=True),
                             "keep": tok.decode(ids, skip_special_tokens=False)})

    variant_texts = CURATED + [
        "Say hello to the world", "hello", "ASSIST ASSISTANT xASSIST ASSIST.", " world world  world",
        "hi <image> there", "hi  <image>  there", "x<image>y", "\t<image>\t",
        "<image>\u3000text", "word<image>", "<image>word",
    ] + random_strings(random.Random(7), 80, 24)
    variants = make_variants(base)
    variant_cases = {}
    for name, override in variants.items():
        d = json.loads(json.dumps(base))
        d.update(override)
        vt = Tokenizer.from_str(json.dumps(d))
        variant_cases[name] = [case(vt, t) for t in variant_texts]

    out = {
        "generator": "make_reference.py",
        "tokenizers_version": tokenizers.__version__,
        "tokenizer": "tokenizer.json",
        "cases": cases,
        "decode_cases": decode_cases,
        "variants": variants,
        "variant_cases": variant_cases,
    }
    target = os.path.join(HERE, "reference.json")
    tmp = target + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    os.replace(tmp, target)
    print(f"wrote {target}: {len(cases)} cases, {len(decode_cases)} decode cases, "
          f"{sum(len(v) for v in variant_cases.values())} variant cases")


if __name__ == "__main__":
    main()
