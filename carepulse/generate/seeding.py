"""Independent random streams per (table, block), derived from the one user seed.

Why: the data must not depend on how the work is chunked or on the order tables are
built. Each stream is a numpy SeedSequence keyed by the seed, a stable code for the
stream name and the block index, so block 7 of the events is the same whichever chunk
size or process generates it.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_code(name: str) -> int:
    """A stable 32-bit code for a stream name (crc32: unlike hash(), same in every process)."""
    return zlib.crc32(name.encode("utf-8"))


def rng_for(seed: int, stream: str, block: int = 0) -> np.random.Generator:
    """The generator for one stream and block of one seed."""
    sequence = np.random.SeedSequence(entropy=int(seed), spawn_key=(stream_code(stream), int(block)))
    return np.random.Generator(np.random.PCG64(sequence))
