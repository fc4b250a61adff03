#!/usr/bin/env python3
"""Generates reference_qwen2.json: encode/decode outputs of the Hugging Face `tokenizers` library
for the Qwen2 byte-level BPE tokenizer at /work/shared/data/tokenizers/qwen2/tokenizer.json
(8.8 MB, deliberately not copied into the fixtures; the Swift test that uses this file is skipped
when that tokenizer is absent). Needs only the `tokenizers` package. Tests never run this script.
"""
import json
import os
import random

import tokenizers
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
QWEN = "/work/shared/data/tokenizers/qwen2/tokenizer.json"
SEP = "\n__ggml_vocab_test__\n"

CURATED = [
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>", "a<|endoftext|>b", "<|im_start|><|im_end|>",
    "it's IT'S it'ſ x'LL we'Re they've I'M you'd 'ſx 's 'S",
    "hello   world\n\n  x", "  leading", "trailing  ", "\n\n\n", " \n \n ", "\t\tx", "a\r\nb\r\n\r\n",
    "1234567890 12 3.14 1,000,000", "x²³ ½ Ⅻ ٣٤", "KK Å Ω é e\u0301 ﬁ",
    "你好，世界！こんにちは 한국어", "Здравствуй мир", "مرحبا", "🙂🙃 👨‍👩‍👧 🇫🇷",
    "def f(x):\n    return x**2  # comment\n", "<tag attr=\"v\">text</tag>",
    "!!!???... ---- ____ ((()))", "\u00a0\u00a0nbsp\u3000ideo", "\u0000\u0001\u007f",
    "a" * 50, "The quick brown fox jumps over the lazy dog. " * 3, "",
]

ALPHABET = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + [" "] * 12 + ["\n", "\t", "  ", "\r\n", "\r", "\n\n"]
    + list(".,;:!?'\"()[]{}<>-_=+*/\\|@#$%^&~`")
    + ["'s", "'S", "'t", "'ll", "'LL", "'re", "'ve", "'m", "'d", "'ſ"]
    + ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    + list("éèêàäöüçñßøåæœ") + ["e\u0301", "\u0301", "\u212a", "\u212b", "\u2126", "\ufb01"]
    + list("你好世界中文字漢日本語かなカナ한국어абвгдمرحباनमस्ते")
    + ["😀", "🚀", "👍🏽", "❤️", "🇫🇷"] + ["²", "½", "Ⅻ", "٣", "\u00a0", "\u3000", "\u2028", "\u0085"]
)


def main():
    tok = Tokenizer.from_file(QWEN)
    with open(os.path.join(HERE, "ggml-vocab-llama-spm.gguf.inp"), "rb") as f:
        vectors = f.read().decode("utf-8").split(SEP)[:-1]
    rng = random.Random(20241126)
    randoms = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 24))) for _ in range(250)]
    cases = []
    for text in vectors + CURATED + randoms:
        ids = tok.encode(text, add_special_tokens=True).ids
        cases.append({"text": text, "ids": ids,
                      "plain": tok.encode(text, add_special_tokens=False).ids,
                      "decode_skip": tok.decode(ids, skip_special_tokens=True),
                      "decode_keep": tok.decode(ids, skip_special_tokens=False)})
    decode_cases = []
    for _ in range(100):
        ids = [rng.randrange(0, 151646) if rng.random() < 0.6 else rng.randrange(0, 256) for _ in range(rng.randint(0, 10))]
        decode_cases.append({"ids": ids, "skip": tok.decode(ids, skip_special_tokens=True),
                             "keep": tok.decode(ids, skip_special_tokens=False)})
    out = {"generator": "make_reference_qwen2.py", "tokenizers_version": tokenizers.__version__,
           "tokenizer": QWEN, "vocab_size_with_added": tok.get_vocab_size(True),
           "cases": cases, "decode_cases": decode_cases}
    target = os.path.join(HERE, "reference_qwen2.json")
    tmp = target + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    os.replace(tmp, target)
    print(f"wrote {target}: {len(cases)} cases, {len(decode_cases)} decode cases")


if __name__ == "__main__":
    main()
