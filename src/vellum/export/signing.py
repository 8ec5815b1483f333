"""Anonymous WACZ signatures (wacz-auth 0.1.0): ECDSA over the datapackage's hash.

`signedData` holds `hash`, `created`, `software`, `version`, `signature` and
`publicKey`. As ArchiveWeb.page writes them (WebCrypto), the signature is ECDSA with
SHA-256 over the UTF-8 bytes of `hash`, in the raw `r || s` form, base64; the public
key is the DER SubjectPublicKeyInfo, base64. The private key is an EC key in PEM
(P-256 or P-384), kept by the signer; the public key is handed out separately.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from vellum import __version__
from vellum.errors import InvalidInput

__all__ = ["ANONYMOUS_FIELDS", "generate_key", "load_signer", "verify_signed_data"]

ANONYMOUS_FIELDS = frozenset(("hash", "created", "software", "version", "signature", "publicKey"))


def generate_key(path: Path) -> None:
    """Write a new P-256 private key to `path` (PEM, unencrypted)."""
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def load_signer(path: Path) -> Signer:
    """A signer for `write_wacz` from an EC private key in PEM."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise InvalidInput(f"--sign: no such key file {path}") from None
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"--sign: {path} is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InvalidInput(f"--sign: {path} is not an ECDSA (elliptic curve) key")
    return Signer(key)


class Signer:
    """Signs a datapackage hash with one ECDSA key."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key

    def __call__(self, digest: str, created: str) -> dict[str, object]:
        der = self._key.sign(digest.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        size = (self._key.curve.key_size + 7) // 8
        raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
        public = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {
            "hash": digest,
            "created": created,
            "software": "Vellum",
            "version": __version__,
            "signature": base64.b64encode(raw).decode(),
            "publicKey": base64.b64encode(public).decode(),
        }


def verify_signed_data(signed: dict[str, Any], digest: str) -> str | None:
    """Why an anonymous `signedData` does not hold for `digest`, or None if it does."""
    if not set(signed) >= ANONYMOUS_FIELDS:
        return "signedData lacks " + ", ".join(sorted(ANONYMOUS_FIELDS - set(signed)))
    if signed["hash"] != digest:
        return "signedData signs another hash than datapackage-digest.json's"
    try:
        public = serialization.load_der_public_key(base64.b64decode(signed["publicKey"]))
        raw = base64.b64decode(signed["signature"])
    except (ValueError, TypeError):
        return "signedData has a malformed publicKey or signature"
    if not isinstance(public, ec.EllipticCurvePublicKey):
        return "signedData's publicKey is not an ECDSA key"
    half = len(raw) // 2
    if half == 0 or len(raw) % 2:
        return "signedData's signature is malformed"
    der = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
    try:
        public.verify(der, digest.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "the signature does not match the datapackage's hash"
    return None
