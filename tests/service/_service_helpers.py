"""Shared helpers of the service tests: encoded test files and a driver for the API.

Encoded files are written directly with ``linkage.format.EncodedFileWriter`` from random
filters (the service never sees plaintext, so its tests need none): a population of random
1024-bit filters, of which each agency holds a subset with a few bits flipped, so records
of the same "person" score high and others low.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from linkage.format import EncodedData, EncodedFileWriter, FileMetadata

FINGERPRINT = hashlib.sha256(b"test schema").hexdigest()
KEY_ID = "test-key-1"
BITS = 1024


def metadata(**changes) -> FileMetadata:
    md = FileMetadata(schema_fingerprint=FINGERPRINT, key_id=KEY_ID, filter_bits=BITS,
                      max_variants=2, encoder_version="tests", blocking_keys=())
    return replace(md, **changes)


def population(n: int, seed: int = 0, bits: int = BITS) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random((n, bits)) < 0.3


def party_data(pop: np.ndarray, indices, *, prefix: str, flip: float = 0.01,
               seed: int = 1) -> EncodedData:
    rng = np.random.default_rng(seed)
    idx = np.asarray(list(indices))
    bits = pop[idx].copy()
    bits ^= rng.random(bits.shape) < flip
    packed = np.packbits(bits, axis=1, bitorder="little").view("<u8").astype(np.uint64)
    refs = [f"{prefix}-{int(i):06d}" for i in idx]
    return EncodedData(refs=refs, variant_counts=np.ones(len(idx), np.uint8), clk=packed)


def write_file(path: Path, data: EncodedData, md: FileMetadata | None = None) -> bytes:
    md = md or metadata()
    with EncodedFileWriter(path, md) as w:
        w.write(data)
    return path.read_bytes()


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


CT = {"parquet": "application/vnd.apache.parquet", "ndjson": "application/x-ndjson"}


@dataclass
class Api:
    """A thin driver over an httpx-compatible client (TestClient or httpx.Client)."""

    client: object
    prefix: str = "/api/v1"

    def h(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    def req(self, method: str, path: str, token: str | None = None, **kw):
        headers = {**self.h(token), **kw.pop("headers", {})}
        return self.client.request(method, self.prefix + path, headers=headers, **kw)

    def get(self, path, token=None, **kw):
        return self.req("GET", path, token, **kw)

    def post(self, path, token=None, **kw):
        return self.req("POST", path, token, **kw)

    def credential(self, operator: str, role: str, subject: str, **kw) -> str:
        r = self.post("/credentials", operator, json={"role": role, "subject": subject, **kw})
        assert r.status_code == 201, r.text
        return r.json()["token"]

    def project(self, operator: str, agencies=("agency-a", "agency-b"), dpos=("dpo-1",),
                **kw) -> str:
        body = {"name": "test project", "schema_fingerprint": kw.pop("schema_fingerprint",
                                                                      FINGERPRINT),
                "key_id": kw.pop("key_id", KEY_ID), "filter_bits": BITS,
                "agencies": [a if isinstance(a, dict) else {"name": a} for a in agencies],
                "dpos": list(dpos), **kw}
        r = self.post("/projects", operator, json=body)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def upload(self, token: str, project_id: str, raw: bytes, fmt: str = "parquet",
               count: int | None = None, sha: str | None = None, **kw):
        if count is None:
            count = _count(raw, fmt)
        headers = {"Content-Type": CT[fmt], "X-Content-SHA256": sha or sha256(raw),
                   "X-Record-Count": str(count), **kw.pop("headers", {})}
        return self.post(f"/projects/{project_id}/uploads", token, content=raw,
                         headers=headers, **kw)

    def start_run(self, token: str, project_id: str):
        return self.post(f"/projects/{project_id}/runs", token)

    def wait_run(self, token: str, project_id: str, run_id: str, timeout: float = 60.0,
                 until=("succeeded", "failed", "cancelled")) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            r = self.get(f"/projects/{project_id}/runs/{run_id}", token)
            assert r.status_code == 200, r.text
            body = r.json()
            if body["status"] in until:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"run still {body['status']} after {timeout}s: {body}")
            time.sleep(0.05)

    def all_results(self, token: str, project_id: str, run_id: str = "latest",
                    limit: int = 100) -> list[dict]:
        items, cursor = [], None
        while True:
            params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            r = self.get(f"/projects/{project_id}/runs/{run_id}/results", token, params=params)
            assert r.status_code == 200, r.text
            body = r.json()
            items += body["items"]
            cursor = body["next_cursor"]
            if cursor is None:
                return items


def _count(raw: bytes, fmt: str) -> int:
    import io
    import json

    import pyarrow.parquet as pq

    if fmt == "ndjson":
        return int(json.loads(raw.split(b"\n", 1)[0])["pprl"]["record_count"])
    return pq.read_metadata(io.BytesIO(raw)).num_rows


def three_agency_files(tmp: Path, n: int = 300, seed: int = 7) -> dict[str, bytes]:
    """Agencies a, b, c over one population: a holds 0..n, b n/3..n+n/3, c 2n/3..n+2n/3."""
    pop = population(n + 2 * n // 3, seed=seed)
    out = {}
    for k, (name, start) in enumerate((("agency-a", 0), ("agency-b", n // 3),
                                       ("agency-c", 2 * n // 3))):
        data = party_data(pop, range(start, start + n), prefix=name[-1], seed=seed + k + 1)
        out[name] = write_file(tmp / f"{name}.parquet", data)
    return out


def operator_token(state, name: str = "root") -> str:
    """Issue an operator credential straight in the database (like the CLI bootstrap)."""
    from service import audit
    from service.auth import issue_credential

    with state.db.transaction() as s:
        cred, token = issue_credential(s, role="operator", subject=name, label="tests",
                                       days=30, created_by="tests")
        audit.record(s, audit.Actor("system", "tests"), "credential.issued",
                     f"credential {cred.id}")
    return token
