"""Source of hardening_vectors.json: the exact output bits of each hardening technique for a
fixed project key and fixed input filters (docs/hardening.md gives the construction).

Regenerate (only when the specification changes on purpose, with a note in the changelog):

    python tests/vectors/hardening_vectors.py > tests/vectors/hardening_vectors.json

Rows are hex strings of the packed filter bytes (bit i = bit i % 8 of byte i // 8, i.e.
``numpy.packbits(bits, bitorder="little")``, the layout of linkage.format).
"""

from __future__ import annotations

import json

import numpy as np

from linkage.bloom.hardening import harden, pack_bits, unpack_bits
from linkage.schema import HardeningSpec

PROJECT_KEY = bytes(range(32))
BITS = 256


def input_filters() -> np.ndarray:
    """Four 256-bit rows: empty, one bit, a fixed sparse pattern and its shifted copy."""
    dense = np.zeros((4, BITS), dtype=np.bool_)
    dense[1, 7] = True
    dense[2, [(i * 37 + 11) % BITS for i in range(60)]] = True
    dense[3, [(i * 37 + 12) % BITS for i in range(60)]] = True
    return pack_bits(dense)


CASES = {
    "balance": HardeningSpec(balance=True),
    "permute": HardeningSpec(permute=True),
    "xor_fold": HardeningSpec(xor_fold=True),
    "diffusion_t3": HardeningSpec(diffusion_inputs=3),
    "blip_eps1": HardeningSpec(blip_epsilon=1.0),
    "all": HardeningSpec(balance=True, xor_fold=True, diffusion_inputs=5, blip_epsilon=3.0),
}


def hexrows(filters: np.ndarray) -> list[str]:
    dense = unpack_bits(filters)
    return [np.packbits(r, bitorder="little").tobytes().hex() for r in dense]


def build() -> dict:
    filters = input_filters()
    return {
        "project_key": PROJECT_KEY.hex(),
        "bits": BITS,
        "input": hexrows(filters),
        "cases": {
            name: {
                "spec": spec.model_dump(mode="json"),
                "output": hexrows(harden(filters, spec, PROJECT_KEY)),
            }
            for name, spec in CASES.items()
        },
    }


if __name__ == "__main__":
    print(json.dumps(build(), indent=2, sort_keys=True))
