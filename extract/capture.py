"""Every response kept on disk, and served back: the landing folder, `--capture` and `--replay`.

`ResponseRecorder` writes each response the session receives (errors and retried attempts too) as a
JSON envelope: gzipped to `landing/<source>/<fetch date>/<run id>/`, and as plain JSON to the
capture folder. `ReplayStore` reads a capture folder back and hands the session, per request, the
envelopes in the order they were captured, so a replay goes through the same retries and checks.
Keys never reach disk: URLs, headers and bodies are redacted before writing. Both are
thread-safe (the Odds API's calls run several at once): each response gets its own sequence
number and file, and a replayed request takes its envelope under a lock.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections import defaultdict, deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from extract.errors import ReplayMissError
from extract.redact import SECRET_PARAMS, Redactor


def request_key(method: str, url: str, base_url: str = "") -> str:
    """How a request is matched in replay: method, path below the API's base URL and sorted
    query without credentials (so a capture from the sandbox replays under any base URL)."""
    base = base_url.rstrip("/")
    if base and url.startswith(base):
        url = url[len(base) :]
    parts = urlsplit(url)
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in SECRET_PARAMS
    )
    return f"{method.upper()} {parts.path}?{urlencode(query)}"


def _body_fields(body: bytes) -> dict[str, str]:
    try:
        return {"body": body.decode("utf-8")}
    except UnicodeDecodeError:  # a body cut inside a multi-byte character: keep it byte-exact
        return {"body_base64": base64.b64encode(body).decode("ascii")}


def envelope_body(envelope: dict[str, Any]) -> bytes:
    if "body_base64" in envelope:
        return base64.b64decode(envelope["body_base64"])
    return str(envelope.get("body", "")).encode("utf-8")


class ResponseRecorder:
    """Writes every response to landing (gzip, pruned by retention) and to the capture dir."""

    def __init__(
        self,
        run_id: str,
        redactor: Redactor,
        landing_dir: Path | None,
        capture_dir: Path | None,
    ) -> None:
        self.run_id = run_id
        self.redactor = redactor
        self.landing_dir = landing_dir
        self.capture_dir = capture_dir
        self._seq = 0
        self._lock = threading.Lock()
        self.written: list[Path] = []

    def next_seq(self) -> int:
        with self._lock:
            self._seq += 1
            return self._seq

    def record(
        self,
        *,
        base_url: str = "",
        source: str,
        endpoint: str,
        method: str,
        url: str,
        status: int,
        headers: dict[str, str],
        body: bytes,
        elapsed_ms: int,
        attempt: int,
        cut: str | None = None,
    ) -> dict[str, Any]:
        seq = self.next_seq()
        fetched_at = datetime.now(UTC)
        envelope: dict[str, Any] = {
            "seq": seq,
            "run_id": self.run_id,
            "source": source,
            "endpoint": endpoint,
            "method": method,
            "url": self.redactor.url(url),
            "request_key": request_key(method, url, base_url),
            "attempt": attempt,
            "status": status,
            "headers": self.redactor.headers(headers),
            "fetched_at": fetched_at.isoformat(),
            "elapsed_ms": elapsed_ms,
        }
        if cut:  # the body stopped at a bound (http.Bounds): what was read, and why it stopped
            envelope["cut"] = cut
        # a key echoed back by an API would otherwise land on disk
        redacted_body = self.redactor.text(body.decode("utf-8", errors="surrogateescape"))
        envelope.update(_body_fields(redacted_body.encode("utf-8", errors="surrogateescape")))
        name = f"{seq:05d}-{endpoint}-{status}.json"
        data = json.dumps(envelope, ensure_ascii=False, indent=1).encode("utf-8")
        if self.landing_dir is not None:
            folder = self.landing_dir / source / fetched_at.date().isoformat() / self.run_id
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / (name + ".gz")
            # mtime=0: the gzip header carries no clock, so a payload compresses to the same bytes;
            # level 6, not 9: a season's responses compress in a fifth of the CPU (1.7 -> 0.3 s a
            # month of backfill) for files about 8% larger
            path.write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
            with self._lock:
                self.written.append(path)
        if self.capture_dir is not None:
            self.capture_dir.mkdir(parents=True, exist_ok=True)
            path = self.capture_dir / f"{seq:05d}-{source}-{endpoint}-{status}.json"
            path.write_bytes(data)
            with self._lock:
                self.written.append(path)
        return envelope


class ReplayStore:
    """Serves captured responses back in the order they were captured, per request."""

    def __init__(self, capture_dir: Path) -> None:
        if not capture_dir.is_dir():
            raise ReplayMissError(f"replay folder {capture_dir} does not exist")
        self.capture_dir = capture_dir
        self._queues: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        self._lock = threading.Lock()
        files = sorted(p for p in capture_dir.glob("*.json") if p.name != "manifest.json")
        if not files:
            raise ReplayMissError(f"replay folder {capture_dir} holds no captured responses")
        for path in files:
            envelope = json.loads(path.read_text(encoding="utf-8"))
            self._queues[envelope["request_key"]].append(envelope)
        self.manifest: dict[str, Any] = {}
        manifest = capture_dir / "manifest.json"
        if manifest.exists():
            self.manifest = json.loads(manifest.read_text(encoding="utf-8"))

    def take(self, method: str, url: str, redactor: Redactor, base_url: str = "") -> dict[str, Any]:
        key = request_key(method, url, base_url)
        with self._lock:
            queue = self._queues.get(key)
            if queue:
                return queue.popleft()
        raise ReplayMissError(
            f"replay: no captured response left for {redactor.text(key)} in "
            f"{self.capture_dir}; was the capture made with the same date, now and settings?"
        )

    def remaining(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())


def response_from_envelope(envelope: dict[str, Any], request: requests.PreparedRequest) -> Any:
    response = requests.Response()
    response.status_code = int(envelope["status"])
    response.headers = CaseInsensitiveDict(envelope.get("headers", {}))
    response._content = envelope_body(envelope)
    response.url = request.url or ""
    response.request = request
    response.encoding = "utf-8"
    response.reason = "replayed"
    return response
