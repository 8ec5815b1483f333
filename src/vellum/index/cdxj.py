"""CDXJ index lines in pywb's flavour: `<SURT> <timestamp> <JSON>`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from vellum.urls.surt import surt


@dataclass(frozen=True, order=True)
class Capture:
    """One indexed record: enough to find it in its WARC file and to describe it."""

    urlkey: str
    timestamp: str
    url: str
    mime: str
    status: str
    digest: str  # payload digest; a "sha1:" prefix is dropped, other algorithms keep theirs
    length: int
    offset: int
    filename: str

    def to_line(self) -> str:
        """The CDXJ line, without the newline. Keys in pywb's order, values as strings."""
        fields = {"url": self.url, "mime": self.mime}
        if self.status:
            fields["status"] = self.status
        if self.digest:
            fields["digest"] = self.digest
        fields.update(length=str(self.length), offset=str(self.offset), filename=self.filename)
        return f"{self.urlkey} {self.timestamp} {json.dumps(fields)}"

    @classmethod
    def from_line(cls, line: str) -> Capture:
        """Parse one CDXJ line (raises ValueError on a malformed one)."""
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

    @property
    def is_revisit(self) -> bool:
        return self.mime == "warc/revisit"


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
) -> Capture:
    """A Capture keyed by the SURT of its URL."""
    return Capture(
        urlkey=surt(url),
        timestamp=timestamp,
        url=url,
        mime=mime,
        status=str(status) if status is not None else "",
        digest=index_digest(payload_digest),
        length=length,
        offset=offset,
        filename=filename,
    )
