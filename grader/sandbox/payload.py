"""What a harvest reply carries, read as untrusted data: arrays from an npz without pickle, each exactly the
size its header declares, and a skeleton of bounded depth and size. Nothing here trusts a count or a size the
kernel wrote before checking it against what the grader allows."""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
from numpy.lib import format as npformat

MAX_DEPTH = 32              # nesting of a harvested skeleton
MAX_NODES = 100_000         # lists, dicts and values in one harvest's skeleton
MAX_ARRAYS = 10_000         # members of one harvest's npz
ARRAY_KINDS = "biufc"       # booleans, integers, floats, complex: what is harvested as arrays (words are text)
ZIP_ENTRY = b"PK\x01\x02"   # the signature of each entry of a zip's central directory


def load_arrays(data: bytes, max_bytes: int) -> dict[str, np.ndarray]:
    """Arrays from an untrusted npz: at most MAX_ARRAYS .npy members, stored (not compressed), `max_bytes` in
    all, each checked by read_npy; never pickle."""
    if data.count(ZIP_ENTRY) > MAX_ARRAYS:   # zipfile makes an object per entry before they could be counted
        raise ValueError("too many arrays")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        if (any(i.compress_type != zipfile.ZIP_STORED or i.compress_size != i.file_size
                or not i.filename.endswith(".npy") for i in infos)
                or sum(i.file_size for i in infos) > max_bytes):
            raise ValueError("compressed, oversized or foreign members")
        return {i.filename.removesuffix(".npy"): read_npy(zf.read(i)) for i in infos}


def read_npy(raw: bytes) -> np.ndarray:
    """One .npy member: numbers only, and exactly as much data as its header declares. A header may promise
    anything (two billion empty strings in no bytes at all); numpy would allocate what it promises."""
    f = io.BytesIO(raw)
    version = npformat.read_magic(f)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"unsupported .npy version {version}")
    read_header = npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
    shape, fortran, dtype = read_header(f)
    if dtype.kind not in ARRAY_KINDS or any(n < 0 for n in shape) \
            or math.prod(shape) * dtype.itemsize != len(raw) - f.tell():
        raise ValueError("not an array of numbers, or not the size its header declares")
    flat = np.frombuffer(raw, dtype, offset=f.tell())
    return flat.reshape(shape, order="F" if fortran else "C").copy()


def bounded(skeleton) -> bool:
    """Whether a harvested skeleton nests at most MAX_DEPTH deep and holds at most MAX_NODES values, so that
    what the grader rebuilds and judges stays small whatever the kernel sent."""
    stack, nodes = [(skeleton, 0)], 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES or depth > MAX_DEPTH:
            return False
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return True
