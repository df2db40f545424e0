#!/usr/bin/python3
"""safetensors fixtures for tests/test_io.c, and a PyTorch-side check of files descent writes.

Debian has no python3-safetensors, so this script carries a ~40-line writer that follows the
reference implementation's `serialize` (huggingface/safetensors, safetensors/src/tensor.rs):
  * tensors sorted by dtype, descending in the reference's Dtype enum order (so 8-byte types come
    first and every tensor's data is aligned), then by name;
  * header = compact JSON (serde_json: no spaces, non-ASCII raw, control characters escaped),
    "__metadata__" first, then the tensors in that order, each {"dtype","shape","data_offsets"};
  * header padded with spaces to a multiple of 8; 8-byte little-endian header length in front;
  * then the tensors' bytes, C order, little-endian.
The reference stores metadata in a hash map, so with several keys its order is unspecified; this
writer (and descent's) sorts the keys, which is what the reference gives for one key.

Usage:
  /usr/bin/python3 tools/gen_safetensors_fixture.py            # (re)writes tests/fixtures/safetensors/
  /usr/bin/python3 tools/gen_safetensors_fixture.py --check F  # loads descent's F into the torch model

Fixture values are exact in float32 and defined by a formula that tests/test_io.c recomputes:
  value(k, i) = ((i * 7 + k * 13) % 101 - 50) / 64     (k: tensor index in state_dict order,
                                                         i: flat C-order index)
"""
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch_models  # noqa: E402

OUT = os.path.join(HERE, "..", "tests", "fixtures", "safetensors")
ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64",
         "I64", "U64"]
NAMES = {torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16", torch.float16: "F16",
         torch.bfloat16: "BF16", torch.int32: "I32", torch.float32: "F32", torch.float64: "F64",
         torch.int64: "I64"}
TORCH = {v: k for k, v in NAMES.items()}
MODEL_SPEC = "mlp:64-32-10,batchnorm=1"


def serialize(tensors, metadata=None):
    """bytes of a safetensors file, as the reference `serialize` writes them."""
    items = sorted(tensors.items(), key=lambda kv: (-ORDER.index(NAMES[kv[1].dtype]), kv[0].encode()))
    header, blobs, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata, key=str.encode)}
    for name, t in items:
        data = t.detach().contiguous().cpu().numpy().tobytes()  # little-endian on this host
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def deserialize(buf):
    """(tensors, metadata) of a safetensors file, checking what the reference reader checks."""
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None)
    data = buf[8 + n:]
    out, pos = {}, 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        b, e = info["data_offsets"]
        assert b == pos and e >= b, "offsets of %s" % name
        dt = TORCH[info["dtype"]]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=dt) if e > b else torch.empty(0, dtype=dt)
        out[name] = t.reshape(info["shape"])
        pos = e
    assert pos == len(data), "buffer not covered"
    return out, meta


def fill(k, shape, dtype=torch.float32):
    n = 1
    for d in shape:
        n *= d
    i = torch.arange(n, dtype=torch.int64)
    return (((i * 7 + k * 13) % 101 - 50).to(torch.float64) / 64).to(dtype).reshape(shape)


def model():
    return torch_models.build(MODEL_SPEC, (1, 8, 8), 10)


def model_state():
    m = model()
    sd = m.state_dict()
    with torch.no_grad():
        for k, (name, t) in enumerate(sd.items()):
            if t.dtype == torch.float32:
                t.copy_(fill(k, tuple(t.shape)))
            else:
                t.fill_(1234567890123)  # num_batches_tracked: an int64 beyond 32 bits
    return m, sd


def mixed():
    """Every dtype descent uses, a scalar, an empty tensor, names that need JSON escapes."""
    t = {
        "w": fill(0, (3, 4)),
        "a.f64": fill(1, (5,), torch.float64),
        "step": torch.tensor(-(2 ** 40) - 3, dtype=torch.int64),
        "rng": torch.tensor([2 ** 31 - 1, -5, 0, 7], dtype=torch.int32),
        "bytes": torch.tensor([0, 1, 127, 128, 255], dtype=torch.uint8),
        "empty": torch.zeros((0, 3), dtype=torch.float32),
        "caf\u00e9 \"q\"\t\\": fill(2, (2,)),
    }
    meta = {"epoch": "3", "note": "line1\nline2 \u00e9 \"quoted\""}
    return t, meta


def write(name, data):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    print("wrote %s (%d bytes)" % (os.path.relpath(path), len(data)))


def check(path):
    """Load descent's file into the torch twin (strict except the counters descent lacks)."""
    with open(path, "rb") as f:
        tensors, meta = deserialize(f.read())
    m = model()
    torch_models.load_c_state_dict(m, tensors)
    _, want = model_state()
    for name, t in m.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        if not torch.equal(t, want[name]):
            raise SystemExit("check: %s differs" % name)
    y = m.eval()(torch.ones(2, 1, 8, 8))
    print("check: %s loaded into %s (%d tensors, metadata %s), output %s" % (path, MODEL_SPEC, len(tensors), meta,
                                                                          tuple(y.shape)))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
        return
    os.makedirs(OUT, exist_ok=True)
    _, sd = model_state()
    write("mlp_bn.safetensors", serialize(sd, {"format": "pt"}))
    t, meta = mixed()
    write("mixed.safetensors", serialize(t, meta))
    write("empty.safetensors", serialize({}))
    # Self-check of the writer against the reference implementation's own test vector
    # (tensor.rs test_serialization: "attn.0", F32 [1, 2, 3], values 0..5, no metadata).
    ref = serialize({"attn.0": torch.arange(6, dtype=torch.float32).reshape(1, 2, 3)})
    assert ref[:8] == bytes([64, 0, 0, 0, 0, 0, 0, 0]) and ref[8:9] == b"{" and len(ref) == 8 + 64 + 24
    back, _ = deserialize(serialize(sd, {"format": "pt"}))
    assert all(torch.equal(back[k], v) for k, v in sd.items())


if __name__ == "__main__":
    main()
