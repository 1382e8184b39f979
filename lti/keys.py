"""The tool's RSA signing keys (LTI Security Framework §6: key sets, ``kid``).

Keys are generated here and stored by the application; nothing is read from or written to files.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK


@dataclass(frozen=True)
class ToolKey:
    kid: str
    private_pem: str
    public_jwk: dict[str, Any]


def public_jwk(private_pem: str) -> dict[str, Any]:
    """The public JWK for a private key, with ``kid`` = RFC 7638 thumbprint, ``alg`` RS256, ``use`` sig."""
    return json.loads(_public_jwk_json(private_pem))  # a dict of its own for every caller


@functools.lru_cache(maxsize=64)
def _public_jwk_json(private_pem: str) -> str:
    # reading a PEM checks the RSA key (tens of milliseconds); a process sees few keys, each many times
    key = JWK.from_pem(private_pem.encode())
    jwk = json.loads(key.export_public())
    jwk.update({"kid": key.thumbprint(), "alg": "RS256", "use": "sig"})
    return json.dumps(jwk)


def generate_key(bits: int = 2048) -> ToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    jwk = public_jwk(pem)
    return ToolKey(kid=jwk["kid"], private_pem=pem, public_jwk=jwk)


def jwks(keys: Iterable[ToolKey]) -> dict[str, list[dict[str, Any]]]:
    return {"keys": [k.public_jwk for k in keys]}
