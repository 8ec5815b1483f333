"""CDXJ index lines in pywb's flavour: `<SURT> <timestamp> <JSON>`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _json_str

from vellum.urls.surt import surt

FIELDS = ("urlkey", "timestamp", "url", "mime", "status", "digest", "length", "offset", "filename")
"""The fields of a capture, as the CDX server names them (`fl`, `filter`)."""

REVISIT_MIME = "warc/revisit"


@dataclass(frozen=True, order=True)
class Capture:
    """One indexed record: enough to find it in its WARC file and to describe it.

    `original` is only set on a revisit returned by a query that resolves revisits: the
    capture holding the payload (same digest, closest in time, never another revisit).
    It takes no part in comparisons.
    """

    urlkey: str
    timestamp: str
    url: str
    mime: str
    status: str
    digest: str  # payload digest; a "sha1:" prefix is dropped, other algorithms keep theirs
    length: int
    offset: int
    filename: str
    original: Capture | None = field(default=None, compare=False, repr=False)

    def to_line(self) -> str:
        """The CDXJ line, without the newline. Keys in pywb's order, values as strings.

        Byte for byte what `json.dumps` gives for the same dict, built without it (this
        runs once per record indexed).
        """
        extra = ""
        if self.status:
            extra = ', "status": ' + _json_str(self.status)
        if self.digest:
            extra += ', "digest": ' + _json_str(self.digest)
        return (
            f'{self.urlkey} {self.timestamp} {{"url": {_json_str(self.url)}, '
            f'"mime": {_json_str(self.mime)}{extra}, "length": "{self.length}", '
            f'"offset": "{self.offset}", "filename": {_json_str(self.filename)}}}'
        )

    @classmethod
    def from_line(cls, line: str) -> Capture:
        """Parse one CDXJ line (raises ValueError on a malformed one)."""
        try:
            urlkey, timestamp, blob = line.rstrip("\r\n").split(" ", 2)
            data = json.loads(blob)
            return cls(
                urlkey=urlkey,
                timestamp=timestamp,
                url=data["url"],
                mime=data.get("mime", ""),
                status=data.get("status", ""),
                digest=data.get("digest", ""),
                length=int(data["length"]),
                offset=int(data["offset"]),
                filename=data["filename"],
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a CDXJ line: {line[:200]!r}") from exc

    @property
    def is_revisit(self) -> bool:
        return self.mime == REVISIT_MIME

    def value(self, name: str) -> str:
        """One field by its CDX server name (see `FIELDS`), as a string."""
        if name not in FIELDS:
            raise ValueError(f"unknown field {name!r}; known: {', '.join(FIELDS)}")
        return str(getattr(self, name))

    def select(self, names: tuple[str, ...] | None = None) -> dict[str, str]:
        """The fields named (all of `FIELDS` by default), in that order: what `fl` selects."""
        return {name: self.value(name) for name in (names or FIELDS)}


def index_digest(payload_digest: str) -> str:
    """The digest as pywb's CDXJ stores it: `sha1:` removed, other prefixes kept."""
    return payload_digest[5:] if payload_digest.startswith("sha1:") else payload_digest


def make_capture(
    url: str,
    timestamp: str,
    mime: str,
    status: int | None,
    payload_digest: str,
    length: int,
    offset: int,
    filename: str,
    urlkey: str | None = None,
) -> Capture:
    """A Capture keyed by the SURT of its URL (`urlkey`, if the caller has it already)."""
    return Capture(
        urlkey=urlkey or surt(url),
        timestamp=timestamp,
        url=url,
        mime=mime,
        status=str(status) if status is not None else "",
        digest=index_digest(payload_digest),
        length=length,
        offset=offset,
        filename=filename,
    )
