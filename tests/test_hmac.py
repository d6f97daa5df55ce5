"""Section 7: HS256/384/512 (RFC 7518 §3.2)."""

import hashlib
import hmac

import pytest
from hypothesis import given, strategies as st

import jwt3
from vectors import b64u, by_id, params


def hs_vectors():
    return [p for name in ("rfc7515", "rfc7519", "rfc7520")
            for p in params(name) if p.values[0].get("alg", "")
            .startswith("HS")]


@pytest.mark.parametrize("case", hs_vectors())
def test_rfc_vectors_resign_and_verify(case):
    key = jwt3.Key.from_jwk(case["jwk"])
    signing_input = case["signing_input"].encode("ascii")
    signature = b64u(case["signature_b64u"])
    assert key.sign(case["alg"], signing_input) == signature
    assert key.verify(case["alg"], signing_input, signature)
    assert case["jws"] == case["signing_input"] + "." + \
        case["signature_b64u"]


@pytest.mark.parametrize("case", params("libjwt", kind="jws"))
def test_libjwt_known_answers(case):
    key = jwt3.Key.from_jwk(by_id("libjwt", "LIBJWT-oct_key_256")["jwk"])
    if "claims" in case:
        # Byte-identical serialization: jwt3.encode reproduces libjwt.
        assert jwt3.encode(case["claims"], key, case["alg"],
                           case["headers"]) == case["jws"]
    if case["expected"]["verify"]:
        jwt3.decode(case["jws"], key, [case["alg"]])


@pytest.mark.parametrize("alg, size", [("HS256", 32), ("HS384", 48),
                                       ("HS512", 64)])
def test_key_length_rule(alg, size):
    # RFC 7518 §3.2: a key at least as long as the hash output, on both
    # sides (sign and verify).
    short = jwt3.Key.from_secret(b"k" * (size - 1))
    with pytest.raises(jwt3.InvalidKeyError,
                       match="at least %d bytes, got %d" % (size,
                                                            size - 1)):
        short.sign(alg, b"data")
    with pytest.raises(jwt3.InvalidKeyError):
        short.verify(alg, b"data", b"\x00" * size)
    assert not short.usable(alg)
    exact = jwt3.Key.from_secret(b"k" * size)
    assert exact.verify(alg, b"data", exact.sign(alg, b"data"))


@given(secret=st.binary(min_size=64, max_size=100),
       data=st.binary(max_size=300),
       alg=st.sampled_from(["HS256", "HS384", "HS512"]),
       flip=st.integers(min_value=0))
def test_round_trip_and_tamper(secret, data, alg, flip):
    key = jwt3.Key.from_secret(secret)
    signature = key.sign(alg, data)
    name = "sha" + alg[2:]
    assert signature == hmac.new(secret, data, getattr(hashlib, name)) \
        .digest()
    assert key.verify(alg, data, signature)
    bit = flip % (8 * len(signature))
    tampered = bytearray(signature)
    tampered[bit // 8] ^= 1 << (bit % 8)
    assert not key.verify(alg, data, bytes(tampered))
    assert not key.verify(alg, data, signature[:-1])
    assert not key.verify(alg, data, signature + b"\x00")
    assert not key.verify(alg, data + b"x", signature)


def test_hs384_key_cannot_verify_hs256_by_alg_member():
    # libjwt jwt_builder.c: a 256-bit key tagged HS256 is refused for
    # HS384 (too short, and bound by its "alg").
    key = jwt3.Key.from_jwk(by_id("libjwt", "LIBJWT-oct_key_256")["jwk"])
    with pytest.raises(jwt3.InvalidKeyError, match='"alg" is HS256'):
        key.sign("HS384", b"x")
