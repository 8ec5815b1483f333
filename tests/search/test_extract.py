"""Extraction: languages, charsets (declared, missing, lying), PDF, and hostile payloads."""

from __future__ import annotations

import time
import zlib

import pytest

from vellum.search.extract import Limits, extract

FR = "Les maires francophones se réunissent à Paris pour l'été ; coopération décentralisée."
DE = "Die Bürgermeister treffen sich in München, um über Straßenbahnen zu sprechen und Grüße."
RU = "Мэры франкоязычных городов встречаются в Париже, чтобы обсудить сотрудничество."
JA = "市長たちはパリで会い、都市間の協力について話し合いました。これは日本語の文章です。"


def page(title: str, text: str, lang_attr: str = "", head: str = "") -> str:
    lang = f' lang="{lang_attr}"' if lang_attr else ""
    return (
        f"<!doctype html><html{lang}><head>{head}<title>{title}</title>"
        '<meta name="description" content="Une description">'
        "</head><body><nav><a href='/a'>A</a> <a href='/b'>B</a></nav>"
        f"<article><h1>{title}</h1><p>{text}</p><p>{text}</p></article>"
        "<script>var hidden = 'never indexed';</script></body></html>"
    )


def test_html_fields() -> None:
    got = extract(page("Maires", FR, "fr-FR").encode(), "text/html; charset=utf-8")
    assert got.title == "Maires"
    assert "francophones" in got.text and "réunissent" in got.text
    assert "never indexed" not in got.text
    assert "francophones" in got.main
    assert got.description == "Une description"
    assert got.lang == "fr"
    assert got.outlinks == 2
    assert got.error is None


@pytest.mark.parametrize(
    ("text", "charset", "content_type", "head", "lang"),
    [
        (FR, "iso-8859-1", "text/html; charset=iso-8859-1", "", "fr"),
        (DE, "windows-1252", "text/html", '<meta charset="windows-1252">', "de"),
        (
            RU,
            "windows-1251",
            "text/html",
            '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">',
            "ru",
        ),
        (JA, "shift_jis", "text/html; charset=Shift_JIS", "", "ja"),
        (RU, "koi8-r", "text/html; charset=koi8-r", "", "ru"),
    ],
)
def test_declared_charsets(
    text: str, charset: str, content_type: str, head: str, lang: str
) -> None:
    got = extract(page("T", text, head=head).encode(charset), content_type)
    assert text in got.text
    assert got.lang == lang


def test_page_lying_about_its_charset() -> None:
    # Declares UTF-8, sends windows-1252: the bytes are not UTF-8, detection decides.
    lying = page("Été", FR + " " + FR).encode("windows-1252")
    got = extract(lying, "text/html; charset=utf-8")
    assert "réunissent" in got.text and got.title == "Été"
    # Declares Latin-1, sends UTF-8 (the common lie): valid UTF-8 wins.
    got = extract(page("Été", FR).encode("utf-8"), "text/html; charset=iso-8859-1")
    assert "réunissent" in got.text and "Ã" not in got.text


def test_undeclared_charset_is_detected() -> None:
    got = extract(page("T", RU * 3).encode("windows-1251"), "text/html")
    assert "Мэры" in got.text


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    body = page("Broken", "valid words here").encode() + b"\xff\xfe\xc3\x28 tail words \xed\xa0\x80"
    got = extract(body, "text/html; charset=utf-8")
    assert "valid words here" in got.text
    assert got.title == "Broken"


def test_plain_text() -> None:
    got = extract(DE.encode("utf-8"), "text/plain")
    assert got.text == DE and got.lang == "de" and got.title == ""


def test_binary_labelled_html_is_not_text() -> None:
    binary = zlib.compress(bytes(range(256)) * 200)
    got = extract(binary, "text/html")
    assert got.text == "" and got.error is not None and "binary" in got.error


def test_other_types_are_not_extracted() -> None:
    got = extract(b"\x89PNG\r\n\x1a\n....", "image/png")
    assert got.text == "" and got.error is None


def test_huge_page_is_cut_at_the_limit() -> None:
    chunk = b"<p>" + b"lorem ipsum dolor sit amet " * 40 + b"</p>\n"
    body = b"<html><head><title>Huge</title></head><body>" + chunk * (
        200 * 1024 * 1024 // len(chunk)
    )
    assert len(body) > 200_000_000
    started = time.monotonic()
    got = extract(body, "text/html", Limits(max_bytes=4 * 1024 * 1024, max_chars=100_000))
    assert time.monotonic() - started < 10
    assert got.title == "Huge" and len(got.text) <= 100_000 and "lorem" in got.text


def test_deeply_nested_markup_is_bounded() -> None:
    depth = 100_000
    body = ("<html><body>" + "<div>" * depth + "deep words" + "</div>" * depth).encode()
    started = time.monotonic()
    got = extract(body, "text/html")
    assert time.monotonic() - started < 10  # the main-content pass alone would take minutes
    assert "deep words" in got.text
    assert got.error is not None and "nested" in got.error


def make_pdf(title: str, lines: list[str]) -> bytes:
    """A small valid PDF with Helvetica text and an Info title, offsets computed."""
    stream = "BT /F1 14 Tf 72 720 Td 18 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title ({title}) >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return out


def test_pdf_text_and_title() -> None:
    pdf = make_pdf("Annual report", ["Cooperation between mayors", "of French speaking cities"])
    got = extract(pdf, "application/pdf")
    assert got.title == "Annual report"
    assert "Cooperation between mayors" in got.text
    assert got.error is None


def test_broken_pdf_is_not_fatal() -> None:
    got = extract(b"%PDF-1.4\n1 0 obj garbage", "application/pdf")
    assert got.text == ""
