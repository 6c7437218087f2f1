"""Append-only, hash-chained audit trail.

Every security-relevant action is one entry: time, actor (role and name, never a token),
action, object, outcome, the project it concerns and optional non-identifying detail.

Chaining: ``entry_hash = SHA-256(prev_hash || canonical_content)`` where the canonical content
is the entry's JSON (sorted keys, no whitespace) and ``prev_hash`` is the previous entry's
hash (64 zeros for the first). The ``audit_head`` row holds the last sequence number and
hash; appends lock it (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite transactions are
serialised by ``BEGIN IMMEDIATE``), so concurrent appends form one chain. Editing,
deleting, inserting or reordering entries breaks the chain, which :func:`verify` detects and
names the first broken entry. (Someone able to rewrite the whole table and the head row
can forge a new chain; record the head hash elsewhere, e.g. in the DPO report, to anchor.)

API: ``record(session, actor, action, object, outcome)`` adds an entry to the caller's
transaction, so the entry commits or rolls back with the action it records;
``verify(session)`` checks the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from service.db.models import AuditEntry, AuditHead, utcnow

__all__ = [
    "GENESIS_HASH",
    "SYSTEM",
    "Actor",
    "VerifyResult",
    "canonical_content",
    "entry_hash",
    "record",
    "verify",
]

GENESIS_HASH = "0" * 64
HEAD_ID = 1


@dataclass(frozen=True)
class Actor:
    role: str  # operator | agency | dpo | system | anonymous
    name: str | None = None


SYSTEM = Actor("system", "service")


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_broken: int | None = None
    reason: str | None = None


def canonical_content(
    *, seq: int, at: str, actor_role: str, actor_name: str | None, action: str, object: str,
    outcome: str, project_id: str | None, detail: str | None,
) -> str:
    return json.dumps(
        {"seq": seq, "at": at, "actor_role": actor_role, "actor_name": actor_name,
         "action": action, "object": object, "outcome": outcome, "project_id": project_id,
         "detail": detail},
        sort_keys=True, separators=(",", ":"), ensure_ascii=True,
    )


def entry_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("ascii")).hexdigest()


def _entry_content(e: Any) -> str:
    return canonical_content(seq=e.seq, at=e.at, actor_role=e.actor_role,
                             actor_name=e.actor_name, action=e.action, object=e.object,
                             outcome=e.outcome, project_id=e.project_id, detail=e.detail)


def _lock_head(session: Session) -> tuple[int, str]:
    head = session.execute(
        select(AuditHead.seq, AuditHead.entry_hash).where(AuditHead.id == HEAD_ID)
        .with_for_update()
    ).first()
    if head is None:  # the migration creates it; this covers a hand-made schema
        session.execute(insert(AuditHead).values(id=HEAD_ID, seq=0, entry_hash=GENESIS_HASH))
        return 0, GENESIS_HASH
    return int(head.seq), head.entry_hash


def record(
    session: Session,
    actor: Actor,
    action: str,
    object: str,
    outcome: str = "success",
    *,
    project_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> str:
    """Append one entry in the caller's transaction (committed with it); returns its hash.

    Core statements, not the ORM unit of work: appends happen on most requests.
    """
    session.flush()  # the caller's pending changes first, so they precede the lock
    last_seq, last_hash = _lock_head(session)
    values = {
        "seq": last_seq + 1,
        "at": utcnow().isoformat(timespec="microseconds"),
        "actor_role": actor.role,
        "actor_name": actor.name,
        "action": action,
        "object": object[:300],
        "outcome": outcome,
        "project_id": project_id,
        "detail": (json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
                   if detail is not None else None),
    }
    digest = entry_hash(last_hash, canonical_content(**values))
    session.execute(insert(AuditEntry).values(**values, prev_hash=last_hash, entry_hash=digest))
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID)
                    .values(seq=values["seq"], entry_hash=digest))
    return digest


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Check the whole chain; name the first entry where it breaks."""
    head = session.execute(
        select(AuditHead.seq, AuditHead.entry_hash).where(AuditHead.id == HEAD_ID)
    ).first()
    head_seq, head_hash = (head.seq, head.entry_hash) if head else (0, GENESIS_HASH)
    prev, expected_seq, count = GENESIS_HASH, 1, 0
    last_seq = 0
    while True:
        # Plain rows, not ORM objects: the caller's session identity map stays untouched.
        rows = session.execute(
            select(AuditEntry.__table__).where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            break
        for e in rows:
            if e.seq > head_seq:
                return _broken(count, head_seq, head_hash, e.seq,
                               f"entry {e.seq} lies beyond the chain head ({head_seq}); it was "
                               "added outside the service")
            if e.seq != expected_seq:
                return _broken(count, head_seq, head_hash, expected_seq,
                               f"entry {expected_seq} is missing (next entry is {e.seq})")
            if e.prev_hash != prev:
                return _broken(count, head_seq, head_hash, e.seq,
                               "does not follow the previous entry (deleted, inserted or "
                               "reordered entries)")
            if entry_hash(prev, _entry_content(e)) != e.entry_hash:
                return _broken(count, head_seq, head_hash, e.seq, "content was altered")
            prev, expected_seq, count = e.entry_hash, e.seq + 1, count + 1
        last_seq = rows[-1].seq
    if count < head_seq:
        return _broken(count, head_seq, head_hash, count + 1,
                       f"the chain head says {head_seq} entries but only {count} remain "
                       "(entries at the end were deleted)")
    if prev != head_hash:
        return _broken(count, head_seq, head_hash, head_seq,
                       "the last entry does not match the chain head (head altered)")
    return VerifyResult(True, count, head_seq, head_hash)


def _broken(count: int, head_seq: int, head_hash: str, seq: int, reason: str) -> VerifyResult:
    return VerifyResult(False, count, head_seq, head_hash, first_broken=seq, reason=reason)
