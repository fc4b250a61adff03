#!/usr/bin/env python3
"""Makes the reference fixtures for Tests/SafeTensorsTests (run from anywhere; writes next to itself).

Python is only used to MAKE these files; the Swift tests never run Python.
Made with: Python 3.11, numpy 2.4.6, torch 2.13.0+cpu, safetensors 0.8.0.

Outputs (all small):
  dtypes.safetensors        torch save_file: F32/F16/BF16/F64/I64/I32/I16/I8/U8/U16/U32/U64/BOOL, incl. 0-d and empty
  dtypes.expected.json      per tensor: dtype, shape, and the expected values (float32 bit patterns / decimal ints)
  sharded/                  model.safetensors.index.json + two shards (index lists all but one shard-2 tensor)
  writer_source.safetensors the float32 / int inputs for the writer byte-identity tests
  writer_torch.safetensors  safetensors.torch.save_file of tensors made from writer_source (f16/bf16 via torch)
  writer_numpy.safetensors  safetensors.numpy.save_file of tensors made from writer_source (f16 via numpy)
  conversions.safetensors   4096 float32 values with numpy's float16 and torch's bfloat16 of each
"""
import json
import os
import struct

import numpy as np
import torch
from safetensors.numpy import save_file as np_save_file
from safetensors.torch import save_file as pt_save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def out(name):
    return os.path.join(HERE, name)


def f32_from_bits(bits):
    return np.array(bits, dtype=np.uint32).view(np.float32)


def f32_bits(arr):
    return [int(x) for x in np.ascontiguousarray(arr, dtype=np.float32).view(np.uint32).reshape(-1)]


# ---------------------------------------------------------------------------------------------
# dtypes.safetensors
f32_special = f32_from_bits([
    0x00000000, 0x80000000, 0x3F800000, 0xBFC00000,  # 0, -0, 1, -1.5
    0x7F800000, 0xFF800000, 0x7FC00000, 0x00000001,  # inf, -inf, qNaN, smallest subnormal
    0x7F7FFFFF, 0x00800000, 0x40490FDB, 0x477FE000,  # max, min normal, pi, 65504
]).reshape(3, 4)
f16_special = np.array([0x0000, 0x8000, 0x3C00, 0xC000, 0x7C00, 0xFC00, 0x7E00, 0x0001,
                        0x03FF, 0x0400, 0x7BFF, 0x3555, 0xBBFF, 0x8001], dtype=np.uint16).view(np.float16)
bf16_bits = [0x0000, 0x8000, 0x3F80, 0xC040, 0x7F80, 0xFF80, 0x7FC0, 0x0001, 0x7F7F, 0x0080, 0x4049, 0xBE00]
f64_vals = np.array([0.0, -0.0, 1.0 / 3.0, -2.5, 1e300, -1e-300, 1.0 + 2.0 ** -24, 1.0 + 3 * 2.0 ** -24,
                     3.4028235677973366e38, float("inf"), 123456789.123, 1e-45], dtype=np.float64)

np_tensors = {
    "f32.matrix": f32_special,
    "f16.vector": f16_special,
    "f64.vector": f64_vals,
    "i64.matrix": np.array([[0, 1, -1], [2 ** 63 - 1, -(2 ** 63), 1234567890123]], dtype=np.int64),
    "i32.vector": np.array([0, -1, 2 ** 31 - 1, -(2 ** 31), 42], dtype=np.int32),
    "i16.vector": np.array([0, -1, 32767, -32768], dtype=np.int16),
    "i8.vector": np.array([0, -1, 127, -128], dtype=np.int8),
    "u8.matrix": np.arange(6, dtype=np.uint8).reshape(2, 3) * 50,
    "u16.vector": np.array([0, 1, 65535], dtype=np.uint16),
    "u32.vector": np.array([0, 1, 4294967295], dtype=np.uint32),
    "u64.vector": np.array([0, 1, 2 ** 63 - 1], dtype=np.uint64),
    "u64.big": np.array([5, 2 ** 64 - 1], dtype=np.uint64),
    "bool.matrix": np.array([[True, False], [False, True]]),
    "scalar.f32": np.array(3.25, dtype=np.float32),
    "scalar.i64": np.array(-7, dtype=np.int64),
    "empty.f32": np.zeros((0,), dtype=np.float32),
    "empty.f16": np.zeros((2, 0, 3), dtype=np.float16),
    "empty.i64": np.zeros((0, 4), dtype=np.int64),
}
pt_tensors = {k: torch.from_numpy(v.copy()) for k, v in np_tensors.items()}  # copy() keeps 0-d arrays 0-d
pt_tensors["bf16.vector"] = torch.from_numpy(np.array(bf16_bits, dtype=np.uint16).view(np.int16)).view(torch.bfloat16)
pt_tensors["scalar.bf16"] = torch.tensor(-0.5, dtype=torch.bfloat16)
pt_save_file(pt_tensors, out("dtypes.safetensors"), metadata={"format": "pt", "note": "fixture \u00e9"})

expected = {}
for name, t in pt_tensors.items():
    entry = {"shape": list(t.shape)}
    if t.dtype in (torch.float32, torch.float16, torch.bfloat16):
        entry["float_bits"] = f32_bits(t.float().numpy())
    elif t.dtype == torch.float64:
        entry["float_bits"] = f32_bits(t.numpy().astype(np.float32))  # numpy rounds to nearest even
    elif t.dtype == torch.bool:
        entry["ints"] = [str(int(x)) for x in t.numpy().reshape(-1)]
    else:
        entry["ints"] = [str(int(x)) for x in np_tensors[name].reshape(-1)]
    expected[name] = entry
with open(out("dtypes.expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")

# ---------------------------------------------------------------------------------------------
# sharded/
os.makedirs(out("sharded"), exist_ok=True)
shard1 = {
    "layers.0.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3).half() / 4,
    "layers.0.bias": torch.tensor([0.5, -1.0, 2.0]),
}
shard2 = {
    "layers.1.weight": (torch.arange(6, dtype=torch.float32).reshape(3, 2) - 2.5).bfloat16(),
    "embed.ids": torch.tensor([3, 1, 4, 1], dtype=torch.int64),
    "unlisted.extra": torch.tensor([9.0]),
}
pt_save_file(shard1, out("sharded/model-00001-of-00002.safetensors"), metadata={"format": "pt"})
pt_save_file(shard2, out("sharded/model-00002-of-00002.safetensors"), metadata={"format": "pt"})
weight_map = {k: "model-00001-of-00002.safetensors" for k in shard1}
weight_map.update({k: "model-00002-of-00002.safetensors" for k in shard2 if k != "unlisted.extra"})
total = sum(t.numel() * t.element_size() for t in list(shard1.values()) + list(shard2.values()))
with open(out("sharded/model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
    f.write("\n")

# ---------------------------------------------------------------------------------------------
# writer fixtures: inputs in writer_source, Python's own output in writer_torch / writer_numpy.
rng = np.random.default_rng(20240521)
tricky_bits = [
    0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000,  # zeros, infinities, canonical qNaN
    0x3F801000, 0x3F803000, 0x3F801001, 0x3F802FFF,  # f16 ties/near-ties around 1
    0x477FE000, 0x477FEFFF, 0x477FF000, 0x477FF001, 0x47800000, 0xC77FF000,  # f16 overflow edge
    0x33000000, 0x33000001, 0x33400000, 0x33C00000, 0x34200000,  # f16 subnormal ties
    0x387FC000, 0x387FE000, 0x387FF000, 0x38800000, 0xB87FE000,  # max subnormal -> min normal
    0x3F808000, 0x3F818000, 0x3F808001, 0x3F817FFF, 0x7F7FFFFF, 0xFF7F8000,  # bf16 ties/overflow
    0x00000001, 0x807FFFFF, 0x00800000, 0x3E9E0419, 0xC2F6E979,
]
random_vals = np.concatenate([
    rng.standard_normal(40).astype(np.float32),
    (rng.standard_normal(16) * 1e-5).astype(np.float32),
    (rng.standard_normal(16) * 3e4).astype(np.float32),
])
source_f32 = np.concatenate([f32_from_bits(tricky_bits), random_vals]).astype(np.float32)
assert source_f32.size == 108
source = {
    "src.f32": source_f32,
    "src.i64": np.array([-(2 ** 63), -1, 0, 1, 2 ** 63 - 1, 77], dtype=np.int64),
    "src.i32": np.array([-(2 ** 31), -1, 0, 1, 2 ** 31 - 1, 77], dtype=np.int32),
    "src.u8": np.array([0, 1, 2, 127, 128, 255], dtype=np.uint8),
    "src.f64": np.array([0.1, -2.0, 1e300, -0.0], dtype=np.float64),
    "src.bool": np.array([True, False, True], dtype=np.bool_),
}
np_save_file(source, out("writer_source.safetensors"))

src_t = torch.from_numpy(source_f32.copy())
# Names exercise the byte-wise name order and serde_json escaping.
torch_out = {
    "w.f32": src_t.reshape(9, 12).clone(),
    "w.f16": src_t.half().reshape(4, 27).clone(),
    # torch's vectorised float->bfloat16 turns every NaN into 0xFFFF (a negative NaN); our writer
    # keeps the sign (0x7FC0 for the canonical NaN), so the NaN is left out of this tensor.
    "w.bf16": src_t[~torch.isnan(src_t)].bfloat16().clone(),
    "idx.i64": torch.from_numpy(source["src.i64"].reshape(2, 3).copy()),
    "idx.i32": torch.from_numpy(source["src.i32"].copy()),
    "a.10": src_t[:3].clone(),
    "a.2": src_t[3:6].clone(),
    "B.upper": src_t[6:8].clone(),
    "\u00e9t\u00e9": src_t[:1].half().clone(),
    "z\u00fc": src_t[:1].half().clone(),
    "q\"uote\\back\tslash\n\u0001": src_t[:2].clone(),
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros((0, 3), dtype=torch.float16),
    "empty.i32": torch.zeros((3, 0), dtype=torch.int32),
}
pt_save_file(torch_out, out("writer_torch.safetensors"), metadata={"format": "pt"})

numpy_out = {
    "f32": source_f32.reshape(2, 54),
    "f16": source_f32.astype(np.float16),
    "i64": source["src.i64"],
    "i32": source["src.i32"].reshape(3, 2),
    "u8": source["src.u8"].reshape(1, 6),
    "f64": source["src.f64"],
    "flags": source["src.bool"],
    "zero_d": np.array(7, dtype=np.int64),
}
np_save_file(numpy_out, out("writer_numpy.safetensors"))

# ---------------------------------------------------------------------------------------------
# conversions.safetensors: random float32 bit patterns over all exponents (NaN only canonical,
# since numpy keeps signalling NaNs signalling where F16C quiets them).
bits = rng.integers(0, 2 ** 32, size=4096, dtype=np.uint64).astype(np.uint32)
# bias half of them into the float16 range (exponents 100..150) so rounding paths are hit
exps = rng.integers(100, 151, size=2048, dtype=np.uint32)
bits[:2048] = (bits[:2048] & np.uint32(0x807FFFFF)) | (exps << np.uint32(23))
vals = bits.view(np.float32).copy()
vals[np.isnan(vals)] = np.float32("nan")  # canonical qNaN 0x7FC00000
with np.errstate(over="ignore"):
    conv = {
        "f32": vals,
        "f16_numpy": vals.astype(np.float16),
    }
conv_t = {k: torch.from_numpy(v.copy()) for k, v in conv.items()}
conv_t["bf16_torch"] = torch.from_numpy(vals.copy()).bfloat16()  # NaN -> 0xFFFF (torch), compare as NaN only
pt_save_file(conv_t, out("conversions.safetensors"))

print("fixtures written to", HERE)
