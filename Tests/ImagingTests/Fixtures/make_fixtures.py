#!/usr/bin/env python3
"""Makes the reference fixtures for Tests/ImagingTests (run from anywhere; tests never run Python).

    python3 make_fixtures.py [--coco DIR]

DIR holds the COCO val2017 JPEGs 000000184324.jpg and 000000516916.jpg (default:
/work/shared/data/coco/images/val2017). Writes, next to this script:

  images/          test images (two COCO JPEGs copied verbatim, small generated JPEGs and PNGs)
  images/errors/   files that must fail to decode
  configs/         preprocessor_config.json variants (valid and invalid)
  ref/             raw little-endian references: *.u8 (uint8 HWC RGB), *.f32 (float32 CHW)
  index.json       what each reference is and how it was made

References come from Pillow (`Image.open(f).convert("RGB")`, `Image.resize(..., BICUBIC)`) and
transformers' CLIPImageProcessorPil (the PIL backend). Versions used are recorded in index.json.
Big arrays are stored as an FNV-1a 64-bit hash of their bytes plus sampled values.
"""
import argparse
import hashlib
import io
import json
import os
import shutil
import struct
import sys
import zlib

import numpy as np
import PIL
from PIL import Image

import transformers
from transformers import CLIPImageProcessorPil

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "images")
ERRORS = os.path.join(IMAGES, "errors")
CONFIGS = os.path.join(HERE, "configs")
REF = os.path.join(HERE, "ref")

LLAVA_MEAN = [0.48145466, 0.4578275, 0.40821073]
LLAVA_STD = [0.26862954, 0.26130258, 0.27577711]
# openai/clip-vit-large-patch14-336 preprocessor_config.json (the vision tower of LLaVA-1.5).
LLAVA_CONFIG = {
    "crop_size": 336,
    "do_center_crop": True,
    "do_normalize": True,
    "do_resize": True,
    "feature_extractor_type": "CLIPFeatureExtractor",
    "image_mean": LLAVA_MEAN,
    "image_std": LLAVA_STD,
    "resample": 3,
    "size": 336,
}


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def rel(path):
    return os.path.relpath(path, HERE)


def write_bytes(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------
# A small PNG encoder (Pillow cannot write 16-bit RGB or interlaced PNGs). Rows use all five
# filter types in turn so the decoder's unfiltering is exercised.

def _chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def _pack_rows(arr, depth):
    rows = []
    for y in range(arr.shape[0]):
        vals = [int(v) for v in arr[y].reshape(-1)]
        if depth == 16:
            rows.append(b"".join(struct.pack(">H", v) for v in vals))
        elif depth == 8:
            rows.append(bytes(vals))
        else:
            bits = "".join(format(v, "0%db" % depth) for v in vals)
            bits += "0" * (-len(bits) % 8)
            rows.append(bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8)))
    return rows


def _filter_rows(rows, bpp):
    out = bytearray()
    prev = bytes(len(rows[0])) if rows else b""
    for i, row in enumerate(rows):
        ft = i % 5
        enc = bytearray(len(row))
        for x in range(len(row)):
            a = row[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ft == 0:
                p = 0
            elif ft == 1:
                p = a
            elif ft == 2:
                p = b
            elif ft == 3:
                p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                p = a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
            enc[x] = (row[x] - p) & 255
        out += bytes([ft]) + enc
        prev = row
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_bytes(arr, depth, color_type, palette=None, trns=None, interlace=False):
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    h, w, c = arr.shape
    bpp = max(1, (depth * c) // 8)
    if interlace:
        data = b""
        for (x0, y0, dx, dy) in ADAM7:
            sub = arr[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                data += _filter_rows(_pack_rows(sub, depth), bpp)
    else:
        data = _filter_rows(_pack_rows(arr, depth), bpp)
    png = b"\x89PNG\r\n\x1a\n"
    png += _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0))
    if palette is not None:
        png += _chunk(b"PLTE", bytes(int(v) for v in np.asarray(palette).reshape(-1)))
    if trns is not None:
        png += _chunk(b"tRNS", trns)
    png += _chunk(b"IDAT", zlib.compress(data, 9)) + _chunk(b"IEND", b"")
    return png


# --------------------------------------------------------------------------------------------

def pil_rgb(path):
    with Image.open(path) as im:
        return np.array(im.convert("RGB"))


def array_record(arr, name, store_full, n_samples=64, seed=0):
    """Reference for an array: a raw file if store_full, else hash + samples (+ moments)."""
    arr = np.ascontiguousarray(arr)
    rec = {"shape": list(arr.shape), "dtype": str(arr.dtype), "fnv1a64": fnv1a64(arr.tobytes())}
    if store_full:
        ext = "u8" if arr.dtype == np.uint8 else "f32"
        path = os.path.join(REF, name + "." + ext)
        write_bytes(path, arr.astype("<f4" if ext == "f32" else np.uint8).tobytes())
        rec["file"] = rel(path)
    rng = np.random.default_rng(seed)
    flat = arr.reshape(-1)
    idx = sorted(set(int(i) for i in rng.integers(0, flat.size, size=n_samples)) | {0, flat.size - 1})
    rec["samples"] = [[i, float(flat[i]) if arr.dtype != np.uint8 else int(flat[i])] for i in idx]
    if arr.dtype != np.uint8:
        a64 = flat.astype(np.float64)
        rec["sum"] = float(a64.sum())
        rec["sum_abs"] = float(np.abs(a64).sum())
        rec["sum_sq"] = float((a64 * a64).sum())
    return rec


def make_images(coco_dir):
    os.makedirs(IMAGES, exist_ok=True)
    os.makedirs(ERRORS, exist_ok=True)
    decode = []
    coco = ["000000184324.jpg", "000000516916.jpg"]
    for name in coco:
        shutil.copyfile(os.path.join(coco_dir, name), os.path.join(IMAGES, name))

    # Every generated image derives from 000000184324.jpg (CC BY 2.0). 000000516916.jpg is
    # CC BY-NC-ND 2.0: it is only stored verbatim, and only hashes and sampled values of its
    # decoded/preprocessed pixels are stored (no derived image).
    base = pil_rgb(os.path.join(IMAGES, "000000184324.jpg"))

    def save_jpeg(name, im, **kw):
        buf = io.BytesIO()
        im.save(buf, format="JPEG", **kw)
        write_bytes(os.path.join(IMAGES, name), buf.getvalue())

    # Small JPEGs covering the decoder's colour and upsampling paths.
    crop = Image.fromarray(base[100:161, 200:271])  # 71 x 61
    save_jpeg("gray.jpg", Image.fromarray(base[200:247, 300:359]).convert("L"), quality=90)
    save_jpeg("ycc420.jpg", crop, quality=85, subsampling=2)
    save_jpeg("ycc422.jpg", crop, quality=85, subsampling=1)
    save_jpeg("progressive.jpg", crop, quality=80, subsampling=2, progressive=True)
    save_jpeg("cmyk.jpg", crop.convert("CMYK"), quality=90)

    # PNGs, 23 x 17 unless noted.
    rng = np.random.default_rng(7)
    h, w = 17, 23
    rgb = base[40:40 + h, 60:60 + w]
    alpha = rng.integers(0, 256, size=(h, w, 1))
    gray = np.array(Image.fromarray(rgb).convert("L"))
    pngs = {
        "png_rgb.png": png_bytes(rgb, 8, 2),
        "png_rgba.png": png_bytes(np.concatenate([rgb, alpha], axis=2), 8, 6),
        "png_gray.png": png_bytes(gray, 8, 0),
        "png_gray_alpha.png": png_bytes(np.stack([gray, alpha[:, :, 0]], axis=2), 8, 4),
        "png_gray2.png": png_bytes(rng.integers(0, 4, size=(h, w)), 2, 0),
        "png_gray16.png": png_bytes(rng.integers(0, 1024, size=(h, w)), 16, 0),
        "png_rgb16.png": png_bytes(rng.integers(0, 65536, size=(h, w, 3)), 16, 2),
        "png_rgba16.png": png_bytes(rng.integers(0, 65536, size=(h, w, 4)), 16, 6),
        "png_rgb_interlaced.png": png_bytes(rgb, 8, 2, interlace=True),
        "png_rgb16_interlaced.png": png_bytes(rng.integers(0, 65536, size=(h, w, 3)), 16, 2, interlace=True),
        "png_gray_trns.png": png_bytes(gray, 8, 0, trns=struct.pack(">H", int(gray[0, 0]))),
    }
    pal = rng.integers(0, 256, size=(200, 3))
    idx = rng.integers(0, 200, size=(h, w))
    pngs["png_palette_trns.png"] = png_bytes(idx, 8, 3, palette=pal, trns=bytes(rng.integers(0, 256, size=150).tolist()))
    pngs["png_palette4_interlaced.png"] = png_bytes(idx % 16, 4, 3, palette=pal[:16], interlace=True)
    # A portrait PNG (30 x 45) for pad-to-square and orientation cases.
    pngs["png_portrait.png"] = png_bytes(base[100:145, 400:430], 8, 2)
    for name, data in pngs.items():
        write_bytes(os.path.join(IMAGES, name), data)

    names = coco + ["gray.jpg", "ycc420.jpg", "ycc422.jpg", "progressive.jpg", "cmyk.jpg"] + sorted(pngs)
    for name in names:
        path = os.path.join(IMAGES, name)
        arr = pil_rgb(path)
        with Image.open(path) as im:
            mode = im.mode
        stem = os.path.splitext(name)[0]
        rec = {"file": rel(path), "pil_mode": mode, "width": arr.shape[1], "height": arr.shape[0]}
        rec["pixels"] = array_record(arr, "decode_" + stem, store_full=arr.size <= 100_000)
        decode.append(rec)
    return decode, base


def make_errors():
    errors = []

    def add(name, data, kind):
        path = os.path.join(ERRORS, name)
        write_bytes(path, data)
        if kind == "unsupportedFormat":  # Pillow reads GIF; this package deliberately does not
            errors.append({"file": rel(path), "kind": kind, "pil_error": None})
            return
        # Pillow must reject it too.
        try:
            with Image.open(path) as im:
                im.convert("RGB")
            raise SystemExit(f"Pillow decoded the error fixture {name}")
        except SystemExit:
            raise
        except Exception as e:  # noqa: BLE001 - any Pillow error is fine
            pil_error = type(e).__name__
        errors.append({"file": rel(path), "kind": kind, "pil_error": pil_error})

    png = open(os.path.join(IMAGES, "png_rgb.png"), "rb").read()
    jpg = open(os.path.join(IMAGES, "ycc420.jpg"), "rb").read()
    prog = open(os.path.join(IMAGES, "progressive.jpg"), "rb").read()
    add("empty.png", b"", "empty")
    add("truncated.png", png[: len(png) // 2], "truncated")
    add("truncated.jpg", jpg[: len(jpg) * 2 // 3], "truncated")
    add("truncated_progressive.jpg", prog[: len(prog) // 2], "truncated")
    add("random.bin", bytes(np.random.default_rng(3).integers(0, 256, size=512).tolist()), "unknownFormat")
    add("text.png", b"This is a text file with a .png name, not an image.\n", "unknownFormat")
    bad_crc = bytearray(png)
    bad_crc[29] ^= 0xFF  # IHDR CRC
    add("bad_crc.png", bytes(bad_crc), "corrupt")
    # A JPEG whose SOF0 segment says the image has 0 lines.
    bad_sof = bytearray(jpg)
    sof = bad_sof.find(b"\xff\xc0")
    bad_sof[sof + 5:sof + 7] = b"\x00\x00"
    add("zero_height.jpg", bytes(bad_sof), "corrupt")
    gif = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(gif, format="GIF")
    add("image.gif", gif.getvalue(), "unsupportedFormat")
    return errors


def make_resize(base):
    cases = [
        # (name, source array, crop (x, y, w, h) of the source, out w, out h, filter)
        ("up_23x17_to_50x40", "000000184324.jpg", (60, 40, 23, 17), 50, 40, 3),
        ("down_23x17_to_7x5", "000000184324.jpg", (60, 40, 23, 17), 7, 5, 3),
        ("only_vertical_23x17_to_23x40", "000000184324.jpg", (60, 40, 23, 17), 23, 40, 3),
        ("only_horizontal_23x17_to_50x17", "000000184324.jpg", (60, 40, 23, 17), 50, 17, 3),
        ("mixed_101x77_to_37x120", "000000184324.jpg", (211, 133, 101, 77), 37, 120, 3),
        ("portrait_77x101_to_120x37", "000000184324.jpg", (307, 90, 77, 101), 120, 37, 3),
        ("full_640x425_to_505x336", "000000184324.jpg", None, 505, 336, 3),
        ("portrait_300x425_to_336x476", "000000184324.jpg", (100, 0, 300, 425), 336, 476, 3),
        ("big_down_640x425_to_13x9", "000000184324.jpg", None, 13, 9, 3),
        ("bilinear_101x77_to_37x53", "000000184324.jpg", (211, 133, 101, 77), 37, 53, 2),
        ("lanczos_101x77_to_37x53", "000000184324.jpg", (211, 133, 101, 77), 37, 53, 1),
        ("box_101x77_to_37x53", "000000184324.jpg", (211, 133, 101, 77), 37, 53, 4),
        ("hamming_101x77_to_37x53", "000000184324.jpg", (211, 133, 101, 77), 37, 53, 5),
    ]
    sources = {"000000184324.jpg": base}
    out = []
    for name, src, crop, ow, oh, flt in cases:
        arr = sources[src]
        if crop is not None:
            x, y, w, h = crop
            arr = arr[y:y + h, x:x + w]
        res = np.array(Image.fromarray(np.ascontiguousarray(arr)).resize((ow, oh), resample=flt))
        rec = {"name": name, "source": "images/" + src, "crop": list(crop) if crop else None,
               "width": ow, "height": oh, "filter": flt}
        rec["pixels"] = array_record(res, "resize_" + name, store_full=res.size <= 20_000)
        out.append(rec)
    return out


def make_resize_sweep(base):
    """Many small random resizes (hash only), covering both pass orders and every filter."""
    rng = np.random.default_rng(11)
    sources = [(60, 40, 31, 23), (100, 90, 23, 31), (300, 200, 64, 64), (400, 300, 97, 41)]
    cases = []
    for crop in sources:
        x, y, w, h = crop
        im = Image.fromarray(np.ascontiguousarray(base[y:y + h, x:x + w]))
        sizes = [(int(rng.integers(1, 2 * w + 10)), int(rng.integers(1, 2 * h + 10))) for _ in range(45)]
        # The vertical-first rule's boundary: inH - outH > 2 * (inW - outW) with outH < inH.
        for ow in (w - 3, w - 1, w + 5):
            for d in (-1, 0, 1):
                oh = h - 2 * (w - ow) + d
                if 1 <= oh < h:
                    sizes.append((ow, oh))
        for i, (ow, oh) in enumerate(sizes):
            flt = [1, 2, 4, 5][i % 4] if i % 5 == 4 else 3
            res = np.array(im.resize((ow, oh), resample=flt))
            cases.append({"crop": list(crop), "width": ow, "height": oh, "filter": flt, "fnv1a64": fnv1a64(res.tobytes())})
    return {"source": "images/000000184324.jpg", "cases": cases}


def expand2square(pil_img, background_color):
    """LLaVA's expand2square (llava/mm_utils.py), restated."""
    width, height = pil_img.size
    if width == height:
        return pil_img
    if width > height:
        result = Image.new(pil_img.mode, (width, width), background_color)
        result.paste(pil_img, (0, (width - height) // 2))
        return result
    result = Image.new(pil_img.mode, (height, height), background_color)
    result.paste(pil_img, ((height - width) // 2, 0))
    return result


def expected_geometry(proc, w, h, pad):
    """Geometry computed with transformers' own helpers."""
    from transformers.image_transforms import get_resize_output_image_size
    geo = {"originalWidth": w, "originalHeight": h, "pad": None}
    pw, ph = w, h
    if pad:
        side = max(w, h)
        ox, oy = ((side - w) // 2, 0) if h > w else (0, (side - h) // 2)
        geo["pad"] = {"size": side, "offsetX": ox, "offsetY": oy}
        pw = ph = side
    if proc.do_resize:
        size = proc.size
        if size.shortest_edge:
            dummy = np.zeros((3, ph, pw), dtype=np.uint8)
            rh, rw = get_resize_output_image_size(dummy, size=size.shortest_edge, default_to_square=False,
                                                  input_data_format="channels_first")
        else:
            rh, rw = size.height, size.width
    else:
        rh, rw = ph, pw
    geo.update({"resizedWidth": rw, "resizedHeight": rh})
    if proc.do_center_crop:
        ch, cw = proc.crop_size.height, proc.crop_size.width
        geo.update({"cropX": (rw - cw) // 2, "cropY": (rh - ch) // 2, "outputWidth": cw, "outputHeight": ch})
    else:
        geo.update({"cropX": 0, "cropY": 0, "outputWidth": rw, "outputHeight": rh})
    return geo


def make_clip():
    os.makedirs(CONFIGS, exist_ok=True)
    cases = [
        # (name, image, config, pad_to_square, store full array)
        ("llava336", "000000184324.jpg", LLAVA_CONFIG, False, True),
        ("llava336_pad", "000000184324.jpg", LLAVA_CONFIG, True, True),
        ("default224", "000000516916.jpg", {}, False, False),
        ("small56", "000000184324.jpg", {"size": {"shortest_edge": 56}, "crop_size": {"height": 56, "width": 56}}, False, True),
        ("crop48x64", "000000184324.jpg", {"size": {"shortest_edge": 64}, "crop_size": {"height": 48, "width": 64}}, False, True),
        ("smaller_than_crop", "png_rgb.png", {"size": {"shortest_edge": 20}, "crop_size": {"height": 32, "width": 32}}, False, True),
        ("exact_size_pad_y", "png_rgb.png", {"size": {"height": 30, "width": 50}, "crop_size": {"height": 40, "width": 40}}, False, True),
        ("portrait_pad56", "png_portrait.png", {"size": {"shortest_edge": 56}, "crop_size": 56}, True, True),
        ("landscape_pad_small", "000000184324.jpg", {"size": 40, "crop_size": [40, 40], "image_mean": [0.5, 0.25, 0.75]}, True, True),
        ("no_resize_no_norm", "png_rgb.png", {"do_resize": False, "crop_size": {"height": 16, "width": 16}, "do_normalize": False}, False, True),
        ("no_rescale_scalar_mean", "png_portrait.png", {"size": 24, "crop_size": 20, "do_rescale": False, "image_mean": 0.5, "image_std": 0.25}, False, True),
        ("no_crop_bilinear", "png_portrait.png", {"size": {"height": 33, "width": 21}, "do_center_crop": False, "resample": 2, "rescale_factor": 0.0125}, False, True),
    ]
    out = []
    for name, image, cfg, pad, full in cases:
        cfg_path = os.path.join(CONFIGS, name + ".json")
        write_bytes(cfg_path, (json.dumps(cfg, indent=2) + "\n").encode())
        proc = CLIPImageProcessorPil.from_dict(dict(cfg))
        with Image.open(os.path.join(IMAGES, image)) as im:
            pil = im.convert("RGB")
        if pad:
            pil = expand2square(pil, tuple(int(x * 255) for x in proc.image_mean))
        pv = proc(images=pil, return_tensors="np")["pixel_values"][0]
        assert pv.dtype == np.float32, pv.dtype
        w, h = Image.open(os.path.join(IMAGES, image)).size
        rec = {"name": name, "image": "images/" + image, "config": rel(cfg_path), "pad_to_square": pad,
               "geometry": expected_geometry(proc, w, h, pad)}
        assert list(pv.shape) == [3, rec["geometry"]["outputHeight"], rec["geometry"]["outputWidth"]], pv.shape
        rec["pixel_values"] = array_record(pv, "clip_" + name, store_full=full, n_samples=200)
        out.append(rec)

    # The llava-hf style config (dict sizes, explicit rescale_factor) for the loader test.
    hf = {
        "crop_size": {"height": 336, "width": 336}, "do_center_crop": True, "do_convert_rgb": True,
        "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": LLAVA_MEAN,
        "image_processor_type": "CLIPImageProcessor", "image_std": LLAVA_STD, "processor_class": "LlavaProcessor",
        "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 336},
    }
    write_bytes(os.path.join(CONFIGS, "llava_hf_style.json"), (json.dumps(hf, indent=2) + "\n").encode())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coco", default="/work/shared/data/coco/images/val2017")
    args = ap.parse_args()
    for d in (IMAGES, ERRORS, CONFIGS, REF):
        os.makedirs(d, exist_ok=True)
    decode, base = make_images(args.coco)
    errors = make_errors()
    resize = make_resize(base)
    sweep = make_resize_sweep(base)
    clip = make_clip()
    index = {
        "generator": "make_fixtures.py",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "pillow": PIL.__version__,
                     "transformers": transformers.__version__},
        "hash": "FNV-1a 64-bit over the array's bytes (uint8, or float32 little-endian), C order",
        "decode": decode,
        "errors": errors,
        "resize": resize,
        "resize_sweep": sweep,
        "clip": clip,
    }
    write_bytes(os.path.join(HERE, "index.json"), (json.dumps(index, indent=1) + "\n").encode())
    total = 0
    for root, _, files in os.walk(HERE):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print(f"fixtures written; total size {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
