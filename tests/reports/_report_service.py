"""Helpers of the DPO page tests: the app with the DPO router, encoded files, a linkage run.

Encoded files are written with ``linkage.format.EncodedFileWriter`` from random filters (the
service never sees plaintext): a population of random 1024-bit filters, of which each agency
holds a subset with a few bits flipped, so copies of one "person" score high. The record
references embed synthetic full names on purpose (the worst an agency could do), so the leak
tests can look for both the names and the references.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from faker import Faker

from linkage.format import EncodedData, EncodedFileWriter, FileMetadata

FINGERPRINT = hashlib.sha256(b"dpo report test schema").hexdigest()
KEY_ID = "dpo-test-key"
BITS = 1024
AGENCIES = ("police", "labour", "ngo")
PARQUET = "application/vnd.apache.parquet"


def dpo_app(settings):
    """The service app with the DPO pages mounted (unless app.py already mounts them)."""
    from service.app import create_app
    from service.routers import dpo_pages

    app = create_app(settings)
    if not any(getattr(r, "path", "").startswith(dpo_pages.PREFIX) for r in app.routes):
        app.include_router(dpo_pages.router)
    return app


@dataclass
class Party:
    agency: str
    raw: bytes
    refs: list[str]
    names: list[str]


def _packed(bits: np.ndarray) -> np.ndarray:
    return np.packbits(bits, axis=1, bitorder="little").view("<u8").astype(np.uint64)


def make_parties(tmp: Path, seed: int = 11) -> dict[str, Party]:
    """police holds persons 0-39, labour 0-24 (20-24 noisier), ngo 10-14 and 40-54."""
    rng = np.random.default_rng(seed)
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    names = []
    while len(names) < 60:
        name = fake.name()
        if name not in names:
            names.append(name)
    pop = rng.random((60, BITS)) < 0.3
    members = {
        "police": [(i, 0.01) for i in range(40)],
        "labour": [(i, 0.01) for i in range(20)] + [(i, 0.12) for i in range(20, 25)]
        + [(i, 0.01) for i in range(55, 60)],
        "ngo": [(i, 0.01) for i in range(10, 15)] + [(i, 0.01) for i in range(40, 55)],
    }
    parties = {}
    for agency, rows in members.items():
        idx = np.array([i for i, _ in rows])
        flips = np.array([f for _, f in rows])[:, None]
        bits = pop[idx] ^ (rng.random((len(idx), BITS)) < flips)
        refs = [f"{names[i]} / {agency}-{n:04d}" for n, i in enumerate(idx)]
        data = EncodedData(refs=refs, variant_counts=np.ones(len(idx), np.uint8), clk=_packed(bits))
        md = FileMetadata(schema_fingerprint=FINGERPRINT, key_id=KEY_ID, filter_bits=BITS,
                          max_variants=1, encoder_version="tests")
        path = tmp / f"{agency}.clk.parquet"
        with EncodedFileWriter(path, md) as w:
            w.write(data)
        parties[agency] = Party(agency, path.read_bytes(), refs, [names[i] for i in idx])
    return parties


@dataclass
class Scenario:
    project_id: str
    run_id: str
    run: dict
    operator: str
    dpo_token: str
    agency_tokens: dict[str, str]
    parties: dict[str, Party]
    other_project_id: str = ""
    secrets_: list[str] = field(default_factory=list)

    @property
    def refs(self) -> list[str]:
        return [r for p in self.parties.values() for r in p.refs]

    @property
    def names(self) -> list[str]:
        return sorted({n for p in self.parties.values() for n in p.names})


def _ok(r, status=(200, 201, 202)):
    assert r.status_code in status, (r.status_code, r.text)
    return r.json()


def run_scenario(client, operator: str, tmp: Path, *, api: str = "/api/v1",
                 timeout: float = 60.0) -> Scenario:
    """Project with three agencies and DPO "dora", uploads, one finished run; and a second
    project DPO "dora" is not assigned to."""
    auth = {"Authorization": f"Bearer {operator}"}

    def token(role: str, subject: str) -> str:
        return _ok(client.post(f"{api}/credentials", headers=auth,
                               json={"role": role, "subject": subject}))["token"]

    body = {"name": "Trafficking case review 2025", "schema_fingerprint": FINGERPRINT,
            "key_id": KEY_ID, "filter_bits": BITS,
            "agencies": [{"name": a} for a in AGENCIES], "dpos": ["dora"],
            "matching": {"threshold": 0.8, "possible_threshold": 0.7,
                         "blocking": {"method": "none"}}}
    project_id = _ok(client.post(f"{api}/projects", headers=auth, json=body))["id"]
    other = _ok(client.post(f"{api}/projects", headers=auth,
                            json={**body, "name": "Someone else's project", "dpos": ["ernst"]}))["id"]
    parties = make_parties(tmp)
    tokens = {a: token("agency", a) for a in AGENCIES}
    for agency, party in parties.items():
        r = client.post(f"{api}/projects/{project_id}/uploads", content=party.raw,
                        headers={"Authorization": f"Bearer {tokens[agency]}", "Content-Type": PARQUET,
                                 "X-Content-SHA256": hashlib.sha256(party.raw).hexdigest(),
                                 "X-Record-Count": str(len(party.refs))})
        _ok(r)
    run_id = _ok(client.post(f"{api}/projects/{project_id}/runs", headers=auth))["id"]
    deadline = time.monotonic() + timeout
    while True:
        run = _ok(client.get(f"{api}/projects/{project_id}/runs/{run_id}", headers=auth))
        if run["status"] in ("succeeded", "failed", "cancelled"):
            break
        assert time.monotonic() < deadline, run
        time.sleep(0.05)
    assert run["status"] == "succeeded", run
    return Scenario(project_id, run_id, run, operator, token("dpo", "dora"), tokens, parties,
                    other_project_id=other)
