#!/usr/bin/env python3
"""Writes the seed corpus of svdit-fuzz-safetensors (data/fuzz/corpus/safetensors): a few small, valid files
covering every dtype, a scalar, an empty tensor and metadata, plus one with an unsupported dtype. Seeds that are
already well-formed let libFuzzer spend its time mutating real headers instead of discovering the format.
Usage: make_seed_corpus.py OUT_DIR   (written by hand, with struct and json only: no safetensors package)."""
import json, os, struct, sys

out = sys.argv[1]
def st(tensors, meta=None, pad=True):
    # tensors: list of (name, dtype, shape, bytes)
    hdr = {}
    off = 0
    data = b''
    for name, dt, shape, b in tensors:
        hdr[name] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(b)]}
        off += len(b); data += b
    if meta is not None: hdr["__metadata__"] = meta
    h = json.dumps(hdr, separators=(',', ':')).encode()
    if pad: h += b' ' * ((8 - len(h) % 8) % 8)
    return struct.pack('<Q', len(h)) + h + data
seeds = {
 'empty_header.safetensors': st([]),
 'metadata_only.safetensors': st([], {"format": "pt"}),
 'three_dtypes.safetensors': st([
    ("w.f32", "F32", [2, 2], struct.pack('<4f', 1.0, -2.5, 0.0, 3.0e38)),
    ("w.bf16", "BF16", [3], struct.pack('<3H', 0x3f80, 0x7f80, 0x0001)),
    ("w.f16", "F16", [1, 2], struct.pack('<2H', 0x0001, 0xfc00)),
 ], {"source": "svdit seed"}),
 'scalar_and_empty.safetensors': st([
    ("scalar", "F32", [], struct.pack('<f', 42.0)),
    ("empty", "F16", [0, 7], b''),
 ]),
 'unknown_dtype.safetensors': st([("i", "I64", [1], struct.pack('<q', 7))]),
}

def raw(header, data=b'\0' * 16):
    h = header.encode()
    return struct.pack('<Q', len(h)) + h + data

# Invalid on purpose: errors that need two coordinated edits (an overlap: both offsets and sizes consistent)
# are rarely reached by blind mutation, so they are given as seeds to mutate from.
seeds.update({
 'overlap.safetensors': raw('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                            '"b":{"dtype":"F16","shape":[2],"data_offsets":[4,8]}}'),
 'gap_and_trailing_bytes.safetensors': raw('{"a":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]},'
                                           '"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}'),
 'metadata_not_object.safetensors': raw('{"__metadata__":["x"],"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}'),
 'long_utf8_name.safetensors': raw(json.dumps({"\u00e9" * 100: {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]}})),
})
os.makedirs(out, exist_ok=True)
for k, v in seeds.items():
    open(os.path.join(out, k), 'wb').write(v)
