"""The records of one fetched exchange, made from a plan the crawl loop decided.

The loop decides what needs its state (record ids, whether the payload is a duplicate);
`make_group` does the rest (links, records, serialization, compression) and is pure, so
that it can run in a worker process or thread while the loop goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from vellum.capture.outlinks import outlinks
from vellum.warc.exchange import HttpExchange
from vellum.warc.writer import (
    PreparedGroup,
    Record,
    exchange_records,
    metadata_record,
    prepare_group,
)

Links = list[tuple[str, str]]  # (URL, hop letter)


@dataclass(frozen=True)
class Plan:
    """What the crawl loop decided about an exchange before its records are made."""

    path: str  # hop path of the URL fetched
    via: str  # the URL it was found on
    response_id: str
    request_id: str
    metadata_id: str
    revisit_of: tuple[str, str, datetime] | None  # (record id, URL, date) of the original
    digest: str  # payload digest, "" when not computed here (no dedup lookup)
    gzip_level: int


def make_records(plan: Plan, exchange: HttpExchange, links: Links) -> list[Record]:
    """The response (or revisit), request and metadata records of the exchange."""
    response, request = exchange_records(
        exchange, plan.response_id, plan.request_id, plan.revisit_of, plan.digest or None
    )
    values = [("hopsFromSeed", plan.path or "-")]
    if plan.via:
        values.append(("via", plan.via))
    values += [("outlink", f"{url} {letter}") for url, letter in links]
    metadata = metadata_record(
        plan.metadata_id, exchange.url, exchange.date, plan.response_id, values
    )
    return [response, request, metadata]


def make_group(plan: Plan, exchange: HttpExchange) -> tuple[Links, PreparedGroup]:
    """The exchange's links and its records compressed, ready to append. The records
    come back without their blocks (the members hold them), which saves copying the
    body back from a worker process."""
    links = outlinks(plan.path, exchange)
    group = prepare_group(make_records(plan, exchange, links), plan.gzip_level)
    bare = [replace(r, block=b"") for r in group.records]
    return links, PreparedGroup(bare, group.members)
