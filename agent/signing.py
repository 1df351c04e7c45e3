"""HMAC-SHA256 over the exact JSON text the agent sends (see docs/CONTRACTS.md).

The signature covers the bytes on the wire, not a re-serialisation, so the server must verify the
body string it received before parsing it.
"""

from __future__ import annotations

import hashlib
import hmac


def sign(body: bytes, key: str) -> str:
    """Hex HMAC-SHA256 of ``body`` with the node key (the key is UTF-8 encoded)."""
    if isinstance(body, str):  # a convenience: both sides handle the JSON text as str
        body = body.encode()
    if not key:
        raise ValueError("an empty signing key signs nothing")
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, key: str, signature: str | None) -> bool:
    """True when ``signature`` is ``sign(body, key)``; compared in constant time."""
    if not key or not isinstance(signature, str):
        return False
    try:
        expected = sign(body, key)
    except (TypeError, ValueError):
        return False
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode("ascii", "replace"))
