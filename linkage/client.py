"""httpx client of the central linkage service (agency side).

Configuration (first found wins, per value): explicit arguments, the environment
(``LINKAGE_URL``, ``LINKAGE_TOKEN``), then a TOML config file (``--config``, ``LINKAGE_CONFIG``
or ``$XDG_CONFIG_HOME/linkage/client.toml``) with ``url = "..."`` and ``token = "..."``. A
config file that holds a token must not be readable by other users (``chmod 600``).

Every failure raises ``ClientError`` with a message fit for a terminal: unauthorised,
forbidden, not found, rejected upload (schema, key, length, count or checksum mismatch), too
large, conflicts, server errors, and an unreachable or vanished server. The token never
appears in messages.
"""

from __future__ import annotations

import functools
import hashlib
import os
import ssl
import stat
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from linkage.errors import EncodedFileError, LinkageError
from linkage.format import detect_format, read_metadata

__all__ = [
    "ClientConfig",
    "ClientError",
    "ServiceClient",
    "default_config_path",
    "load_config",
]

API_PREFIX = "/api/v1"
CONTENT_TYPES = {"parquet": "application/vnd.apache.parquet", "ndjson": "application/x-ndjson"}
_CHUNK = 1024 * 1024
# Seconds the service may hold one status request of ``wait_run`` (a long poll).
LONG_POLL = 20.0


class ClientError(LinkageError, RuntimeError):
    """A request to the service failed; ``status`` and ``code`` when the service answered."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class ClientConfig:
    url: str
    token: str

    def __repr__(self) -> str:  # never print the token
        return f"ClientConfig(url={self.url!r}, token=<hidden>)"


def default_config_path() -> Path:
    env = os.environ.get("LINKAGE_CONFIG")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "linkage" / "client.toml"


def _read_config_file(path: Path, explicit: bool) -> dict[str, Any]:
    if not path.exists():
        if explicit:
            raise ClientError(f"config file {path} does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ClientError(f"config file {path} cannot be read ({type(exc).__name__})") from None
    if "token" in data and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ClientError(f"config file {path} holds a token and is readable by other users; "
                          f"run: chmod 600 {path}")
    return data


def load_config(url: str | None = None, token: str | None = None,
                config_path: str | Path | None = None) -> ClientConfig:
    """Resolve the service URL and token from arguments, environment and config file."""
    url = url or os.environ.get("LINKAGE_URL")
    token = token or os.environ.get("LINKAGE_TOKEN")
    if not url or not token:
        path = Path(config_path).expanduser() if config_path else default_config_path()
        data = _read_config_file(path, explicit=config_path is not None)
        url = url or data.get("url")
        token = token or data.get("token")
    if not url:
        raise ClientError("no service URL: pass --url, set LINKAGE_URL or put url in the "
                          "config file")
    if not token:
        raise ClientError("no token: pass --token, set LINKAGE_TOKEN or put token in the "
                          "config file")
    return ClientConfig(str(url), str(token))


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while piece := fh.read(_CHUNK):
            h.update(piece)
    return h.hexdigest()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The default verifying TLS context (CA bundle, ``SSL_CERT_FILE``/``SSL_CERT_DIR``),
    built once per process: loading the CA bundle costs about 0.1 s, which every new
    ``httpx.Client`` would otherwise pay again."""
    return httpx.create_ssl_context()


def _verify_for(url: str) -> ssl.SSLContext | bool:
    """TLS settings for a service URL. A plain ``http://`` URL has no TLS to verify (and
    redirects are not followed), so it gets no context at all; ``https://`` URLs are always
    verified."""
    if url.lower().startswith("http://"):
        return False
    return _tls_context()


class ServiceClient:
    """One agency's connection to the service."""

    def __init__(self, url: str, token: str, *, timeout: float = 60.0,
                 transport: httpx.BaseTransport | None = None):
        base = url.rstrip("/")
        if not base.endswith(API_PREFIX):
            base += API_PREFIX
        self.base_url = base
        self._http = httpx.Client(base_url=base, timeout=timeout, transport=transport,
                                  verify=_verify_for(base),
                                  headers={"Authorization": f"Bearer {token}"})

    @classmethod
    def from_config(cls, config: ClientConfig, **kw: Any) -> ServiceClient:
        return cls(config.url, config.token, **kw)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------------

    def _send(self, method: str, path: str, *, closed_hint: str = "it may have stopped",
              **kw: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kw)
        except httpx.ConnectError:
            raise ClientError(f"cannot reach the service at {self.base_url} (is it running, "
                              "and is the URL right?)") from None
        except httpx.TimeoutException:
            raise ClientError(f"the service at {self.base_url} did not answer in time") from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            raise ClientError(f"the service closed the connection before answering "
                              f"({closed_hint})") from None
        except httpx.HTTPError as exc:
            raise ClientError(f"request failed ({type(exc).__name__})") from None
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        response = self._send(method, path, **kw)
        try:
            return response.json()
        except ValueError:
            raise ClientError(f"unexpected response from the service "
                              f"(HTTP {response.status_code}, not JSON)") from None

    # -- API ------------------------------------------------------------------------------

    def me(self) -> dict:
        return self._json("GET", "/me")

    def projects(self) -> list[dict]:
        return self._json("GET", "/projects")

    def project(self, project_id: str) -> dict:
        return self._json("GET", f"/projects/{project_id}")

    def uploads(self, project_id: str) -> list[dict]:
        return self._json("GET", f"/projects/{project_id}/uploads")

    def delete_upload(self, project_id: str, upload_id: str) -> None:
        self._send("DELETE", f"/projects/{project_id}/uploads/{upload_id}")

    def share_privacy_evaluation(self, project_id: str, summary: dict) -> dict:
        """Share the aggregate summary of ``linkage privacy-check --json`` with the project's
        DPO reports (the latest one per agency is kept)."""
        return self._json("POST", f"/projects/{project_id}/privacy-evaluation", json=summary)

    def upload(self, project_id: str, path: str | Path, *,
               progress: Callable[[int, int], None] | None = None) -> dict:
        """Stream an encoded file; returns the service's upload record (``created`` is False
        when the same file was already current)."""
        path = Path(path)
        fmt = detect_format(path)
        try:
            md = read_metadata(path)
        except EncodedFileError as exc:
            raise ClientError(f"{path} is not a valid encoded file: {exc}") from None
        except OSError as exc:
            raise ClientError(f"cannot read {path} ({exc.strerror})") from None
        size = path.stat().st_size
        limit = self.me().get("max_upload_bytes")
        if isinstance(limit, int) and size > limit:
            raise ClientError(f"too large: {path.name} has {size} bytes, the service accepts at "
                              f"most {limit}", status=413, code="too_large")
        digest = _file_digest(path)

        def body() -> Iterator[bytes]:
            sent = 0
            with open(path, "rb") as fh:
                while piece := fh.read(_CHUNK):
                    sent += len(piece)
                    if progress is not None:
                        progress(sent, size)
                    yield piece

        headers = {"Content-Type": CONTENT_TYPES[fmt], "Content-Length": str(size),
                   "X-Content-SHA256": digest, "X-Record-Count": str(md.record_count)}
        return self._json("POST", f"/projects/{project_id}/uploads", content=body(),
                          headers=headers,
                          closed_hint="the file may exceed the service's size limit, or the "
                          "service stopped; nothing half-uploaded is kept")

    def start_run(self, project_id: str) -> dict:
        return self._json("POST", f"/projects/{project_id}/runs")

    def runs(self, project_id: str) -> list[dict]:
        return self._json("GET", f"/projects/{project_id}/runs")

    def cancel_run(self, project_id: str, run_id: str) -> dict:
        return self._json("POST", f"/projects/{project_id}/runs/{run_id}/cancel")

    def run(self, project_id: str, run_id: str, *, wait: float = 0.0) -> dict:
        """The run's status; with ``wait`` (seconds) the service answers as soon as the run
        has finished, or after ``wait`` seconds (a long poll)."""
        params = {"wait": round(wait, 3)} if wait > 0 else None
        return self._json("GET", f"/projects/{project_id}/runs/{run_id}", params=params)

    def wait_run(self, project_id: str, run_id: str, *, poll: float = 1.0,
                 timeout: float | None = None,
                 progress: Callable[[dict], None] | None = None) -> dict:
        """Wait until the run has finished and return it. The service holds each status
        request until the run finishes (or ``LONG_POLL`` seconds pass; ``poll`` seconds when
        ``progress`` wants updates), so the end is seen at once, without a client-side
        polling delay."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = poll if progress is not None else LONG_POLL
            read_timeout = self._http.timeout.read
            if read_timeout is not None:  # answer well before the client gives up
                wait = min(wait, read_timeout / 2)
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - time.monotonic()))
            asked = time.monotonic()
            run = self.run(project_id, run_id, wait=wait)
            if progress is not None:
                progress(run)
            if run["status"] in ("succeeded", "failed", "cancelled"):
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise ClientError(f"run {run_id} is still {run['status']} after {timeout}s")
            # A service without long polls answers at once: keep to ``poll`` between asks.
            rest = poll - (time.monotonic() - asked)
            if rest > 0:
                time.sleep(rest if deadline is None else
                           max(0.0, min(rest, deadline - time.monotonic())))

    def results_page(self, project_id: str, run_id: str = "latest", *,
                     cursor: str | None = None, limit: int | None = None) -> dict:
        params: dict[str, Any] = {}
        if cursor is not None:
            params["cursor"] = cursor
        if limit is not None:
            params["limit"] = limit
        return self._json("GET", f"/projects/{project_id}/runs/{run_id}/results", params=params)

    def iter_results(self, project_id: str, run_id: str = "latest", *, limit: int | None = None
                     ) -> Iterator[dict]:
        cursor = None
        while True:
            page = self.results_page(project_id, run_id, cursor=cursor, limit=limit)
            yield from page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def download_results(self, project_id: str, dest: str | Path, run_id: str = "latest",
                         fmt: str | None = None) -> Path:
        """Save the agency's results (CSV or Parquet, from ``fmt`` or dest's suffix)."""
        dest = Path(dest)
        fmt = fmt or ("parquet" if dest.suffix.lower() == ".parquet" else "csv")
        url = f"/projects/{project_id}/runs/{run_id}/results/download"
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                try:
                    with self._http.stream("GET", url, params={"format": fmt}) as response:
                        if response.status_code >= 400:
                            response.read()
                            raise _error_from(response)
                        for piece in response.iter_bytes():
                            fh.write(piece)
                except httpx.ConnectError:
                    raise ClientError(f"cannot reach the service at {self.base_url}") from None
                except httpx.HTTPError as exc:
                    raise ClientError(f"download failed ({type(exc).__name__})") from None
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return dest


_REJECTED = {"schema_mismatch", "key_mismatch", "filter_length_mismatch",
             "unsupported_format_version", "record_count_mismatch", "checksum_mismatch",
             "malformed_file"}


def _error_from(response: httpx.Response) -> ClientError:
    status = response.status_code
    code, message = None, None
    try:
        err = response.json().get("error", {})
        code, message = err.get("code"), err.get("message")
    except (ValueError, AttributeError):
        pass
    message = message or response.reason_phrase or "no details"
    if status == 401:
        text = ("unauthorised: the service rejected the token (unknown, wrong, expired or "
                "revoked); ask the operator for a new one")
    elif status == 403:
        text = f"forbidden: {message}"
    elif status == 404:
        text = f"not found: {message} (or not visible to this credential)"
    elif status == 413:
        text = f"too large: {message}"
    elif status == 422 and code in _REJECTED:
        text = f"upload rejected ({code}): {message}"
    elif status == 409:
        text = f"conflict ({code}): {message}"
    elif status >= 500:
        text = f"the service failed (HTTP {status}, {code or 'error'}): {message}"
    else:
        text = f"request rejected (HTTP {status}, {code or 'error'}): {message}"
    return ClientError(text, status=status, code=code)
