"""Uploads: streamed, checked against the project, stored encrypted, idempotent, replaceable
and deletable; a rejected or oversized upload leaves nothing behind."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _service_helpers import CT, metadata, party_data, population, sha256, write_file
from sqlalchemy import select

from service.db.models import AuditEntry


@pytest.fixture
def ctx(service, tmp_path):
    api, op = service.api, service.operator
    pid = api.project(op)
    tok = service.token("agency", "agency-a")
    pop = population(60, seed=11)
    data = party_data(pop, range(50), prefix="a")
    return dict(service=service, api=api, pid=pid, tok=tok, tmp=tmp_path, data=data)


def _uploads(ctx) -> list[dict]:
    return ctx["api"].get(f"/projects/{ctx['pid']}/uploads", ctx["tok"]).json()


def _blobs(service) -> list:
    root = service.state.settings.blob_dir
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("fmt", ["parquet", "ndjson"])
def test_upload_is_checked_and_stored_encrypted(ctx, fmt):
    raw = write_file(ctx["tmp"] / f"a.{fmt}", ctx["data"])
    r = ctx["api"].upload(ctx["tok"], ctx["pid"], raw, fmt)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["record_count"], body["source_format"], body["created"]) == (
        "current", 50, fmt, True)
    assert body["sha256"] == sha256(raw) and body["size_bytes"] == len(raw)
    blobs = _blobs(ctx["service"])
    assert len(blobs) == 1
    stored = blobs[0].read_bytes()
    assert b"a-0000" not in stored and raw[:64] not in stored
    assert blobs[0].stat().st_mode & 0o077 == 0
    assert not any(ctx["service"].state.settings.tmp_dir.iterdir())  # no plaintext left


def _bad_file(ctx, name: str) -> tuple[bytes, str, dict]:
    """(body, format, header overrides) of a file the project must refuse."""
    tmp, data = ctx["tmp"], ctx["data"]
    if name == "schema":
        return write_file(tmp / "x.parquet", data, metadata(schema_fingerprint="f" * 64)), \
            "parquet", {}
    if name == "key":
        return write_file(tmp / "x.parquet", data, metadata(key_id="other-key")), "parquet", {}
    if name == "length":
        small = party_data(population(60, seed=11, bits=512), range(50), prefix="a")
        return write_file(tmp / "x.parquet", small, metadata(filter_bits=512)), "parquet", {}
    if name == "version":
        return write_file(tmp / "x.ndjson", data, metadata(format_version=2)), "ndjson", {}
    raw = write_file(tmp / "x.parquet", data)
    if name == "count":
        return raw, "parquet", {"X-Record-Count": "49"}
    if name == "checksum":
        return raw, "parquet", {"X-Content-SHA256": "0" * 64}
    if name == "garbage":
        return b"PAR1" + bytes(range(256)) * 40, "parquet", {}
    if name == "truncated":
        return raw[: len(raw) // 2] + raw[-2000:], "parquet", {"X-Record-Count": "50"}
    if name == "ndjson-record":
        text = write_file(tmp / "x.ndjson", data).decode().splitlines()
        rec = json.loads(text[3])
        rec["clk"] = ["!!not base64!!"]
        text[3] = json.dumps(rec)
        return ("\n".join(text) + "\n").encode(), "ndjson", {}
    if name == "ndjson-missing":
        text = write_file(tmp / "x.ndjson", data).decode().splitlines()
        return ("\n".join(text[:-1]) + "\n").encode(), "ndjson", {}
    raise AssertionError(name)


@pytest.mark.parametrize("name, code", [
    ("schema", "schema_mismatch"),
    ("key", "key_mismatch"),
    ("length", "filter_length_mismatch"),
    ("version", "unsupported_format_version"),
    ("count", "record_count_mismatch"),
    ("checksum", "checksum_mismatch"),
    ("garbage", "malformed_file"),
    ("truncated", "malformed_file"),
    ("ndjson-record", "malformed_file"),
    ("ndjson-missing", "malformed_file"),
])
def test_mismatches_are_rejected_and_leave_nothing(ctx, name, code):
    good = write_file(ctx["tmp"] / "good.parquet", ctx["data"])
    assert ctx["api"].upload(ctx["tok"], ctx["pid"], good).status_code == 201
    raw, fmt, headers = _bad_file(ctx, name)
    count = int(headers.pop("X-Record-Count", 50))
    r = ctx["api"].upload(ctx["tok"], ctx["pid"], raw, fmt, count=count, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code, r.json()
    assert "a-0000" not in r.text and str(ctx["tmp"]) not in r.text
    # The earlier upload is still the current one; nothing of the rejected one remains.
    ups = _uploads(ctx)
    assert [(u["status"], u["sha256"]) for u in ups] == [("current", sha256(good))]
    assert len(_blobs(ctx["service"])) == 1
    assert not any(ctx["service"].state.settings.tmp_dir.iterdir())
    with ctx["service"].state.db.session() as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
    assert (last.action, last.outcome, json.loads(last.detail)) == (
        "upload.received", "rejected", {"reason": code})


def test_size_limit_is_enforced_while_streaming(start_service, tmp_path):
    service = start_service(max_upload_bytes=40_000)
    api, pid, tok = service.api, service.api.project(service.operator), None
    tok = service.token("agency", "agency-a")
    big = write_file(tmp_path / "big.parquet",
                     party_data(population(400, seed=1), range(400), prefix="a"))
    assert len(big) > 40_000
    # Declared length over the limit: refused before reading.
    r = api.upload(tok, pid, big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"

    # No declared length (chunked): refused once the limit is passed.
    def chunks():
        for i in range(0, len(big), 8192):
            yield big[i : i + 8192]

    r = api.upload(tok, pid, chunks(), count=400, sha=sha256(big))
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    assert api.get(f"/projects/{pid}/uploads", tok).json() == []
    assert not [p for p in service.state.settings.blob_dir.rglob("*") if p.is_file()]


def test_unsupported_media_type_and_missing_headers(ctx):
    raw = write_file(ctx["tmp"] / "a.parquet", ctx["data"])
    r = ctx["api"].post(f"/projects/{ctx['pid']}/uploads", ctx["tok"], content=raw,
                        headers={"Content-Type": "text/plain", "X-Content-SHA256": sha256(raw),
                                 "X-Record-Count": "50"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    r = ctx["api"].post(f"/projects/{ctx['pid']}/uploads", ctx["tok"], content=raw,
                        headers={"Content-Type": CT["parquet"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"
    assert {d["loc"][-1] for d in r.json()["error"]["details"]} == {
        "x-content-sha256", "x-record-count"}


def test_retry_is_idempotent_and_replacement_supersedes(ctx):
    api, pid, tok = ctx["api"], ctx["pid"], ctx["tok"]
    first = write_file(ctx["tmp"] / "a.parquet", ctx["data"])
    r1 = api.upload(tok, pid, first)
    r2 = api.upload(tok, pid, first)
    assert (r1.status_code, r2.status_code) == (201, 200)
    assert r2.json()["id"] == r1.json()["id"] and r2.json()["created"] is False
    assert len(_uploads(ctx)) == 1 and len(_blobs(ctx["service"])) == 1
    data2 = party_data(population(60, seed=12), range(40), prefix="a")
    second = write_file(ctx["tmp"] / "a2.ndjson", data2)
    r3 = api.upload(tok, pid, second, "ndjson")
    assert r3.status_code == 201 and r3.json()["id"] != r1.json()["id"]
    states = {u["id"]: u["status"] for u in _uploads(ctx)}
    assert states == {r1.json()["id"]: "superseded", r3.json()["id"]: "current"}
    assert len(_blobs(ctx["service"])) == 1  # the replaced encodings are erased
    # Re-sending the first file later makes it current again (a new upload).
    r4 = api.upload(tok, pid, first)
    assert r4.status_code == 201 and r4.json()["id"] not in states


def test_delete_erases_the_encodings(ctx):
    api, pid, tok = ctx["api"], ctx["pid"], ctx["tok"]
    up = api.upload(tok, pid, write_file(ctx["tmp"] / "a.parquet", ctx["data"])).json()
    assert len(_blobs(ctx["service"])) == 1
    assert api.req("DELETE", f"/projects/{pid}/uploads/{up['id']}", tok).status_code == 204
    assert _blobs(ctx["service"]) == []
    assert api.get(f"/projects/{pid}/uploads/{up['id']}", tok).json()["status"] == "deleted"
    assert api.req("DELETE", f"/projects/{pid}/uploads/{up['id']}", tok).status_code == 204


def test_project_deletion_erases_everything(ctx):
    api, pid, tok, service = ctx["api"], ctx["pid"], ctx["tok"], ctx["service"]
    api.upload(tok, pid, write_file(ctx["tmp"] / "a.parquet", ctx["data"]))
    assert _blobs(service)
    assert api.req("DELETE", f"/projects/{pid}", service.operator).status_code == 204
    assert _blobs(service) == []
    assert api.get(f"/projects/{pid}", service.operator).status_code == 404
    assert api.get(f"/projects/{pid}/uploads", tok).status_code == 404


def test_tampered_blob_fails_decryption_cleanly(ctx):
    api, pid, service = ctx["api"], ctx["pid"], ctx["service"]
    tok_b = service.token("agency", "agency-b")
    api.upload(ctx["tok"], pid, write_file(ctx["tmp"] / "a.parquet", ctx["data"]))
    other = party_data(population(60, seed=11), range(10, 60), prefix="b")
    api.upload(tok_b, pid, write_file(ctx["tmp"] / "b.parquet", other))
    blob = _blobs(service)[0]
    raw = bytearray(blob.read_bytes())
    raw[100] ^= 0x01
    blob.write_bytes(bytes(raw))
    run = api.start_run(ctx["tok"], pid).json()
    done = api.wait_run(ctx["tok"], pid, run["id"])
    assert done["status"] == "failed" and "decryption" in done["error"]
    assert done["restartable"] is False


@pytest.mark.parametrize("in_memory", [True, False], ids=["in-memory", "chunked"])
def test_filters_survive_the_round_trip(ctx, in_memory, monkeypatch):
    """What the run reads back from the encrypted store is bit-identical to the upload,
    whichever parse path (in memory or chunk by chunk) the blob's size selects."""
    import service.uploads
    from service.uploads import load_encoded

    if not in_memory:
        monkeypatch.setattr(service.uploads, "IN_MEMORY_PARSE_BYTES", 0)
    api, pid, service = ctx["api"], ctx["pid"], ctx["service"]
    up = api.upload(ctx["tok"], pid, write_file(ctx["tmp"] / "a.ndjson", ctx["data"]),
                    "ndjson").json()
    with service.state.db.session() as s:
        from service.db.models import Upload

        blob_name = s.get(Upload, up["id"]).blob_name
    back = load_encoded(service.state.store, blob_name, up["id"])
    assert list(back.refs) == list(ctx["data"].refs)
    assert np.array_equal(back.clk, ctx["data"].clk)


def _raw_parquet(path, md, refs, counts, clk, *, drop_clk=False) -> bytes:
    """A Parquet file written column by column, so it can break the format's rules."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from linkage.format import arrow_schema

    schema = arrow_schema(md)
    cols = {"ref": pa.array(refs, pa.string()), "n_variants": pa.array(counts, pa.uint8()),
            "clk": pa.array(clk, pa.binary())}
    if drop_clk:
        del cols["clk"]
        schema = schema.remove(schema.get_field_index("clk"))
    table = pa.Table.from_pydict(cols, schema=schema)
    table = table.replace_schema_metadata({b"pprl": md.to_json().encode()})
    pq.write_table(table, path)
    return path.read_bytes()


W = 1024 // 8
PARQUET_CASES = {
    "valid": (["r1", "r2", "r3"], [1, 1, 2], [b"a" * W, b"b" * W, b"c" * 2 * W], {}),
    "duplicate refs": (["r1", "r2", "r1"], [1, 1, 1], [b"a" * W] * 3, {}),
    "empty ref": (["r1", "", "r3"], [1, 1, 1], [b"a" * W] * 3, {}),
    "long ref": (["r1", "x" * 257, "r3"], [1, 1, 1], [b"a" * W] * 3, {}),
    "short filter": (["r1", "r2", "r3"], [1, 1, 1], [b"a" * W, b"b" * (W - 8), b"c" * W], {}),
    "variants 0": (["r1", "r2", "r3"], [1, 0, 1], [b"a" * W, b"", b"c" * W], {}),
    "too many variants": (["r1", "r2", "r3"], [1, 3, 1], [b"a" * W, b"b" * 3 * W, b"c" * W], {}),
    "count": (["r1", "r2", "r3"], [1, 1, 1], [b"a" * W] * 3, {"record_count": 4}),
    "missing column": (["r1", "r2", "r3"], [1, 1, 1], [b"a" * W] * 3, {"drop_clk": True}),
}


@pytest.mark.parametrize("in_memory", [True, False], ids=["in-memory", "chunked"])
@pytest.mark.parametrize("case", sorted(PARQUET_CASES))
def test_parquet_check_agrees_with_the_format_reader(ctx, case, in_memory, monkeypatch):
    """Both parse paths (small blobs decrypted into memory, large ones read chunk by chunk)
    accept and reject exactly what ``read_encoded`` does."""
    import service.uploads
    from linkage.errors import EncodedFileError
    from linkage.format import read_encoded

    if not in_memory:
        monkeypatch.setattr(service.uploads, "IN_MEMORY_PARSE_BYTES", 0)

    refs, counts, clk, opts = PARQUET_CASES[case]
    md = metadata(record_count=opts.get("record_count", len(refs)))
    path = ctx["tmp"] / f"{case.replace(' ', '_')}.parquet"
    raw = _raw_parquet(path, md, refs, counts, clk, drop_clk=opts.get("drop_clk", False))
    try:
        read_encoded(path)
        reader_ok = True
    except EncodedFileError:
        reader_ok = False
    r = ctx["api"].upload(ctx["tok"], ctx["pid"], raw, count=md.record_count)
    assert reader_ok == (case == "valid")
    if reader_ok:
        assert r.status_code == 201, r.text
    else:
        assert r.status_code == 422 and r.json()["error"]["code"] == "malformed_file", r.text
