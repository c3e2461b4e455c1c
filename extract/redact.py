"""Keep API keys out of logs, errors, stored URLs and files.

Redaction is by value (every configured secret is replaced wherever it appears) and by name (query
parameters and headers that carry credentials), so a key is masked even where we did not expect it,
e.g. in an exception message built by `requests` or a debug line logged by dlt.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

MASK = "***"
# query parameters and headers that carry credentials in the three APIs (and commonly elsewhere)
SECRET_PARAMS = frozenset({"apikey", "api_key", "key", "token", "access_token"})
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "cookie", "set-cookie"})
# a key shorter than this is too likely to match ordinary text to be replaced by value
_MIN_SECRET_LEN = 4


def secret_forms(secret: str) -> set[str]:
    """Every form a key can take on its way back to us: raw; URL-encoded (as we send it, with
    `+` for spaces or not, `/` kept or not, hex digits in either case); JSON-escaped (an API
    echoing it in an error body: `\u00e9`, `\\/`); HTML-escaped (a gateway's error page)."""
    encoded = {quote(secret, safe=""), quote_plus(secret), quote(secret)}
    encoded |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), e) for e in encoded}
    escaped = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    escaped |= {e.replace("/", "\\/") for e in escaped}
    return {secret, html.escape(secret), *encoded, *escaped}


class Redactor:
    """Masks a fixed set of secret values plus credential-bearing URL parameters and headers."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        raw = {s for s in secrets if s and len(s) >= _MIN_SECRET_LEN}
        values = {form for s in raw for form in secret_forms(s)}
        # longest first, so a secret that contains another is masked whole
        self._secrets = sorted(values, key=len, reverse=True)

    @property
    def secrets(self) -> list[str]:
        return list(self._secrets)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def url(self, url: str) -> str:
        """The URL with credential parameters masked (and any secret value masked anywhere)."""
        parts = urlsplit(url)
        query = [
            (k, MASK if k.lower() in SECRET_PARAMS else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ]
        masked = urlunsplit(parts._replace(query=urlencode(query, safe="*[]:,")))
        return self.text(masked)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            k: (MASK if k.lower() in SECRET_HEADERS else self.text(str(v)))
            for k, v in headers.items()
        }

    def value(self, obj: Any) -> Any:
        """Deep-redact strings inside JSON-like data (records, quarantined records, run logs)."""
        if not self._secrets:
            return obj
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, dict):
            return {k: self.value(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.value(v) for v in obj]
        return obj


@contextmanager
def redacted_logging(redactor: Redactor) -> Iterator[None]:
    """Redact every log record created while the block runs, whichever logger or handler sees it.

    A filter on one logger does not see records propagated from its children and a filter on a
    handler misses handlers added later (pytest's, rich's); the record factory sees them all.
    """
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed %-format: keep the raw text, still masked
            message = str(record.msg)
        record.msg = redactor.text(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redactor.text(
                logging.Formatter().formatException(record.exc_info)  # type: ignore[arg-type]
            )
            record.exc_info = None
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        logging.setLogRecordFactory(previous)
