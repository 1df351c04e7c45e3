"""Every message is signed over its exact JSON text; verification is strict and constant time."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from agent.signing import sign, verify

KEY = "k" * 32
BODY = b'{"v":1,"type":"heartbeat","node":"h1","run":"r","seq":1,"time":0}'


def test_it_signs_with_hmac_sha256_hex():
    assert sign(BODY, KEY) == hmac.new(KEY.encode(), BODY, hashlib.sha256).hexdigest()
    assert len(sign(BODY, KEY)) == 64


def test_it_verifies_its_own_signature_and_accepts_str_bodies():
    assert verify(BODY, KEY, sign(BODY, KEY))
    assert verify(BODY.decode(), KEY, sign(BODY, KEY))  # type: ignore[arg-type]
    assert verify(BODY, KEY, sign(BODY, KEY).upper())


@pytest.mark.parametrize(
    ("body", "key", "signature"),
    [
        (BODY + b" ", KEY, sign(BODY, KEY)),  # one byte more
        (BODY, KEY + "x", sign(BODY, KEY)),  # another node's key
        (BODY, KEY, None),  # unsigned
        (BODY, KEY, ""),
        (BODY, KEY, "zz" * 32),  # not hex
        (BODY, KEY, sign(BODY, KEY)[:-1]),  # truncated
        (BODY, KEY, "é" * 64),  # not ASCII
        (BODY, "", sign(BODY, KEY)),  # no key configured: nothing verifies
        (BODY, KEY, 12345),  # wrong type
    ],
)
def test_it_rejects_anything_but_the_exact_signature(body, key, signature):
    assert verify(body, key, signature) is False


def test_it_refuses_to_sign_with_an_empty_key():
    with pytest.raises(ValueError):
        sign(BODY, "")
