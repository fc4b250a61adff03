"""A small LLaMA-layout tokenizer (SentencePiece-style BPE with byte fallback) trained on the shapes corpus.

Layout of the written tokenizer.json is the one of the LLaMA / LLaVA-1.5 hub files: normalizer
Prepend("\u2581") + Replace(" " -> "\u2581"), no pre-tokenizer, BPE model with byte_fallback and
fuse_unk, TemplateProcessing post-processor adding <s>, decoder Replace/ByteFallback/Fuse/Strip.
Ids: <unk>=0, <s>=1, </s>=2, <0x00>..<0xFF>=3..258, then the corpus characters and the learned
merges, then the added tokens <image> and <pad>.

Training is plain BPE over the corpus words (each word carries its leading "\u2581"), pairs counted with
word frequencies, ties broken by the pair's text so the result is deterministic. Characters outside
the corpus alphabet (e.g. "\n") are not in the vocabulary: they encode through byte fallback, as in LLaMA.
"""

from __future__ import annotations

import collections
import json

SPACE = "\u2581"
SPECIALS = ["<unk>", "<s>", "</s>"]
ADDED = ["<image>", "<pad>"]


def words_of(text: str) -> list[str]:
    """The corpus words as the normalizer sees them: '\u2581' prepended, spaces replaced, split before each '\u2581'."""
    s = SPACE + text.replace(" ", SPACE)
    out, cur = [], ""
    for ch in s:
        if ch == SPACE and cur:
            out.append(cur)
            cur = ""
        cur += ch
    if cur:
        out.append(cur)
    return out


def train_bpe(texts: list[tuple[str, int]], num_merges: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Returns (alphabet, merges) for (text, weight) pairs. Stops early when no pair occurs twice."""
    freq: collections.Counter[str] = collections.Counter()
    for t, weight in texts:
        for line in t.split("\n"):
            for w in words_of(line) if line else []:
                freq[w] += weight
    alphabet = sorted({ch for w in freq for ch in w})
    words = {w: list(w) for w in freq}
    merges: list[tuple[str, str]] = []
    for _ in range(num_merges):
        pairs: collections.Counter[tuple[str, str]] = collections.Counter()
        for w, syms in words.items():
            for a, b in zip(syms, syms[1:]):
                pairs[(a, b)] += freq[w]
        if not pairs:
            break
        (a, b), count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < 2:
            break
        merges.append((a, b))
        for w, syms in words.items():
            i, out = 0, []
            while i < len(syms):
                if i + 1 < len(syms) and syms[i] == a and syms[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(syms[i])
                    i += 1
            words[w] = out
    return alphabet, merges


def tokenizer_json(alphabet: list[str], merges: list[tuple[str, str]]) -> dict:
    vocab: dict[str, int] = {}
    for t in SPECIALS:
        vocab[t] = len(vocab)
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for ch in alphabet:
        if ch not in vocab:
            vocab[ch] = len(vocab)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    n = len(vocab)
    added = [dict(id=i, content=t, single_word=False, lstrip=False, rstrip=False, normalized=False, special=True)
             for i, t in list(enumerate(SPECIALS)) + [(n + k, t) for k, t in enumerate(ADDED)]]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": SPACE},
            {"type": "Replace", "pattern": {"String": " "}, "content": SPACE}]},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": SPACE}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
            "vocab": vocab, "merges": [[a, b] for a, b in merges],
        },
    }


def tokenizer_config(image_id: int, pad_id: int) -> dict:
    def entry(t):
        return {"content": t, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True}
    decoder = {str(i): entry(t) for i, t in enumerate(SPECIALS)}
    decoder[str(image_id)] = entry("<image>")
    decoder[str(pad_id)] = entry("<pad>")
    return {
        "add_bos_token": True, "add_eos_token": False, "added_tokens_decoder": decoder,
        "bos_token": "<s>", "clean_up_tokenization_spaces": False, "eos_token": "</s>", "legacy": True,
        "model_max_length": 4096, "pad_token": "<pad>", "padding_side": "left",
        "processor_class": "LlavaProcessor", "tokenizer_class": "LlamaTokenizer", "unk_token": "<unk>",
    }


SPECIAL_TOKENS_MAP = {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}


def build(texts: list[tuple[str, int]], num_merges: int = 400) -> tuple[dict, dict]:
    """(tokenizer.json, tokenizer_config.json) as dicts, from (text, weight) pairs."""
    alphabet, merges = train_bpe(texts, num_merges)
    tj = tokenizer_json(alphabet, merges)
    image_id = next(t["id"] for t in tj["added_tokens"] if t["content"] == "<image>")
    pad_id = next(t["id"] for t in tj["added_tokens"] if t["content"] == "<pad>")
    return tj, tokenizer_config(image_id, pad_id)


if __name__ == "__main__":
    import sys
    tj, _ = build([(open(p).read(), 1) for p in sys.argv[1:]])
    print(json.dumps({k: len(v) for k, v in tj["model"].items() if k in ("vocab", "merges")}))
