"""EdDSA for JWS: Ed25519 and Ed448 (jwt3 section 17).

RFC 8032 §7.1/§7.4 and RFC 8037 Appendix A vectors, the RFC 9864
names, OKP JWK/PKCS#8/SPKI keys, and every refusal: S >= L, wrong
lengths, appended bytes, non-canonical and small-order points.  The
signatures are also checked against the textbook implementation of
test_edwards.
"""

import base64
from typing import Any, Dict

import pytest
from hypothesis import example, given, settings, strategies as st

import jwt3
from test_edwards import DOM4_PURE, ED448, ED25519, P25519, TORSION_448, \
    TORSION_25519
from vectors import b64u, by_id, params

CURVES = {"Ed25519": jwt3._ED25519, "Ed448": jwt3._ED448}
BOOKS = {"Ed25519": ED25519, "Ed448": ED448}
DOMS = {"Ed25519": b"", "Ed448": DOM4_PURE}

# RFC 8410 §10.1 and §10.3 (the §10.3 key with attributes and a v2
# publicKey is the same key pair).
RFC8410_PUBLIC = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
"""
RFC8410_PRIVATE = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
-----END PRIVATE KEY-----
"""
RFC8410_PRIVATE_V2 = """-----BEGIN PRIVATE KEY-----
MHICAQEwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
oB8wHQYKKoZIhvcNAQkJFDEPDA1DdXJkbGUgQ2hhaXJzgSEAGb9ECWmEzf6FQbrB
Z9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PRIVATE KEY-----
"""


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def private_jwk(crv: str, seed: bytes) -> Dict[str, Any]:
    return {"kty": "OKP", "crv": crv, "d": b64(seed)}


def key_from_seed(crv: str, seed: bytes) -> jwt3.Key:
    return jwt3.Key.from_jwk(private_jwk(crv, seed))


def vector_crv(case: Dict[str, Any]) -> str:
    return "Ed448" if case["variant"].startswith("Ed448") else "Ed25519"


_KEYS = {}   # type: Dict[str, jwt3.Key]


def fixed_key(crv: str) -> jwt3.Key:
    if crv not in _KEYS:
        _KEYS[crv] = key_from_seed(crv, bytes(range(1, 58))[:CURVES[
            crv].length])
    return _KEYS[crv]


@pytest.fixture(autouse=True)
def fresh_caches() -> Any:
    jwt3._eddsa_clear_caches()
    yield
    jwt3._eddsa_clear_caches()


# ---- RFC 8032 §7.1 and §7.4 ----


@pytest.mark.parametrize("case", params("rfc8032", pure=True))
def test_rfc8032_pure_vectors(case: Dict[str, Any]) -> None:
    crv = vector_crv(case)
    seed = bytes.fromhex(case["secret_key_hex"])
    message = bytes.fromhex(case["message_hex"])
    signature = bytes.fromhex(case["signature_hex"])
    key = key_from_seed(crv, seed)

    assert b64u(key.to_jwk()["x"]).hex() == case["public_key_hex"]
    for alg in ("EdDSA", crv):
        assert key.sign(alg, message) == signature
        assert key.verify(alg, message, signature)
        assert key.public().verify(alg, message, signature)
    assert not key.verify("EdDSA", message + b"\x00", signature)


@pytest.mark.parametrize("case", params("rfc8032", pure=False))
def test_rfc8032_non_pure_cases_refused(case: Dict[str, Any]) -> None:
    """Ed448 with a context and Ed448ph are not JOSE EdDSA."""
    assert case["expected"]["verify_as_pure_ed448"] is False
    public = jwt3.Key.from_jwk({"kty": "OKP", "crv": "Ed448", "x": b64(
        bytes.fromhex(case["public_key_hex"]))})
    message = bytes.fromhex(case["message_hex"])
    signature = bytes.fromhex(case["signature_hex"])
    assert not public.verify("EdDSA", message, signature)
    assert not public.verify("Ed448", message, signature)


# ---- RFC 8037 Appendix A ----


def test_rfc8037_a1_private_jwk() -> None:
    case = by_id("rfc8037", "RFC8037-A.1")
    key = jwt3.Key.from_jwk(case["jwk"])
    assert key.kty == "OKP" and key.crv == "Ed25519" and key.size == 256
    assert key.is_private
    assert key.to_jwk(private=True) == case["jwk"]
    assert key.to_jwk() == by_id("rfc8037", "RFC8037-A.2")["jwk"]
    d_only = {k: v for k, v in case["jwk"].items() if k != "x"}
    assert jwt3.Key.from_jwk(d_only).to_jwk(private=True) == case["jwk"]


def test_rfc8037_a2_public_jwk() -> None:
    jwk = by_id("rfc8037", "RFC8037-A.2")["jwk"]
    key = jwt3.Key.from_jwk(jwk)
    assert not key.is_private and key.to_jwk() == jwk
    assert repr(key) == "<jwt3.Key OKP Ed25519 256-bit public>"


def test_rfc8037_a3_thumbprint() -> None:
    case = by_id("rfc8037", "RFC8037-A.3")
    key = jwt3.Key.from_jwk(case["jwk"])
    assert jwt3._json_dumps(key._material.thumbprint_members()) == \
        case["thumbprint_input"].encode()
    assert key.thumbprint() == case["expected"]["thumbprint_b64u"]
    private = jwt3.Key.from_jwk(dict(by_id("rfc8037", "RFC8037-A.1")[
        "jwk"], kid="x", alg="EdDSA"))
    assert private.thumbprint() == case["expected"]["thumbprint_b64u"]


def test_rfc8037_a4_signature_reproduced() -> None:
    case = by_id("rfc8037", "RFC8037-A.4")
    key = jwt3.Key.from_jwk(case["jwk"])
    signature = key.sign("EdDSA", case["signing_input"].encode())
    assert b64(signature) == case["signature_b64u"]
    assert case["signing_input"] + "." + b64(signature) == case["jws"]


def test_rfc8037_a5_validation() -> None:
    case = by_id("rfc8037", "RFC8037-A.5")
    key = jwt3.Key.from_jwk(case["jwk"])
    signature = b64u(case["signature_b64u"])
    assert key.verify("EdDSA", case["signing_input"].encode(), signature)

    # The whole JWS: the signature verifies, then the payload ("Example
    # of Ed25519 signing") is refused as a JWT claims set.
    with pytest.raises(jwt3.MalformedError, match="payload"):
        jwt3.decode_complete(case["jws"], key, ["EdDSA"])
    tampered = case["jws"][:-2] + ("B" if case["jws"][-2] != "B"
                                   else "C") + case["jws"][-1]
    with pytest.raises(jwt3.InvalidSignatureError):
        jwt3.decode_complete(tampered, key, ["EdDSA"])


# ---- sign/verify: round trips and the textbook ----


@settings(max_examples=15)
@given(st.sampled_from(["Ed25519", "Ed448"]),
       st.binary(min_size=57, max_size=57), st.binary(max_size=300))
def test_sign_matches_textbook(crv: str, seed: bytes, message: bytes
                               ) -> None:
    seed = seed[:CURVES[crv].length]
    key = key_from_seed(crv, seed)
    book = BOOKS[crv]
    signature = key.sign(crv, message)
    assert signature == book.sign(seed, message, DOMS[crv])
    assert b64u(key.to_jwk()["x"]) == book.public(seed)
    assert key.public().verify("EdDSA", message, signature)


@settings(max_examples=30)
@given(st.sampled_from(["Ed25519", "Ed448"]), st.binary(max_size=200),
       st.binary(max_size=200))
def test_round_trip_and_other_message(crv: str, message: bytes,
                                      other: bytes) -> None:
    key = fixed_key(crv)
    signature = key.sign("EdDSA", message)
    assert len(signature) == 2 * CURVES[crv].length
    assert key.verify("EdDSA", message, signature)
    assert key.verify(crv, message, signature, strict=True)
    assert key.verify("EdDSA", other, signature) == (other == message)


@settings(max_examples=40)
@given(st.sampled_from(["Ed25519", "Ed448"]), st.data())
def test_mangled_signature_refused(crv: str, data: st.DataObject) -> None:
    key = fixed_key(crv)
    message = b"mangle me"
    signature = bytearray(key.sign("EdDSA", message))
    bit = data.draw(st.integers(0, 8 * len(signature) - 1))
    signature[bit // 8] ^= 1 << (bit % 8)
    assert not key.verify("EdDSA", message, bytes(signature))


@settings(max_examples=10)
@given(st.sampled_from(["Ed25519", "Ed448"]), st.binary(max_size=64))
def test_s_plus_l_refused(crv: str, message: bytes) -> None:
    """(R, S + L) is the same equation; RFC 8032 §5.1.7 requires S < L
    (the check pure25519 lacks).  The textbook without the check
    accepts it, so the check is what refuses it."""
    curve, book = CURVES[crv], BOOKS[crv]
    key = fixed_key(crv)
    n = curve.length
    signature = key.sign("EdDSA", message)
    S = int.from_bytes(signature[n:], "little")
    forged = signature[:n] + (S + curve.L).to_bytes(n, "little")
    public = b64u(key.to_jwk()["x"])
    assert book.verify(public, message, forged, DOMS[crv], check_S=False)
    assert not book.verify(public, message, forged, DOMS[crv])
    assert not key.verify("EdDSA", message, forged)


@pytest.mark.parametrize("crv", ["Ed25519", "Ed448"])
def test_s_at_l_boundary(crv: str) -> None:
    curve = CURVES[crv]
    key = fixed_key(crv)
    n = curve.length
    signature = key.sign("EdDSA", b"m")
    for S in (curve.L, curve.L + 1, 2 ** (8 * n) - 1):
        assert not key.verify("EdDSA", b"m", signature[:n]
                              + S.to_bytes(n, "little"))


@pytest.mark.parametrize("crv", ["Ed25519", "Ed448"])
def test_rfc8032_section6_unraised_length_error(crv: str) -> None:
    """RFC 8032 §6's verify builds its length error without raising it,
    so it accepts a signature with bytes appended.  Ours refuses a
    signature of any length other than 64 / 114 octets."""
    key = fixed_key(crv)
    signature = key.sign("EdDSA", b"m")
    assert key.verify("EdDSA", b"m", signature)
    for bad in (signature + b"\x00", signature + signature[:1],
                signature[:-1], signature[:len(signature) // 2], b"",
                signature + b"\x00" * 64):
        assert not key.verify("EdDSA", b"m", bad), len(bad)


@settings(max_examples=30)
@given(st.sampled_from(["Ed25519", "Ed448"]), st.binary(max_size=130))
@example("Ed25519", b"\x00" * 64)
@example("Ed448", b"\xff" * 114)
def test_arbitrary_signature_bytes(crv: str, signature: bytes) -> None:
    assert fixed_key(crv).verify("EdDSA", b"m", signature) is False


def test_non_canonical_r_refused() -> None:
    """R encoded with y = 1 + p (the neutral element, non-canonical):
    with S = k*s the equation holds, but encode(R') never equals a
    non-canonical encoding."""
    seed = bytes(32)
    key = key_from_seed("Ed25519", seed)
    s = jwt3._ED25519.expand(seed)[0]
    A = b64u(key.to_jwk()["x"])
    for R_bytes in ((1 + P25519).to_bytes(32, "little"),
                    (1 | 1 << 255).to_bytes(32, "little")):
        k = jwt3._ed25519_hash(R_bytes, A, b"m") % ED25519.L
        S = k * s % ED25519.L
        forged = R_bytes + S.to_bytes(32, "little")
        assert not key.verify("EdDSA", b"m", forged)


@pytest.mark.parametrize("crv", ["Ed25519", "Ed448"])
def test_small_order_r_refused(crv: str) -> None:
    """Choice: R of small order is refused.  With S = k*s (only the
    key's owner can do this) R' is the neutral element; the textbook
    accepts it, we do not."""
    curve, book = CURVES[crv], BOOKS[crv]
    torsion = TORSION_25519 if crv == "Ed25519" else TORSION_448
    seed = bytes(curve.length)
    key = key_from_seed(crv, seed)
    s = curve.expand(seed)[0]
    A = b64u(key.to_jwk()["x"])
    R_bytes = book.encode(book.zero)
    k = curve.hash(R_bytes, A, b"m") % curve.L
    forged = R_bytes + (k * s % curve.L).to_bytes(curve.length, "little")
    assert book.verify(A, b"m", forged, DOMS[crv])
    assert not key.verify("EdDSA", b"m", forged)
    # The other torsion points cannot even be reached this way.
    for T in torsion[1:]:
        R_bytes = book.encode(T)
        k = curve.hash(R_bytes, A, b"m") % curve.L
        S = k * s % curve.L
        assert not key.verify("EdDSA", b"m", R_bytes
                              + S.to_bytes(curve.length, "little"))


# ---- public keys: canonical, on the curve, not of small order ----


def public_jwk(crv: str, x: bytes) -> Dict[str, Any]:
    return {"kty": "OKP", "crv": crv, "x": b64(x)}


@pytest.mark.parametrize("crv", ["Ed25519", "Ed448"])
def test_small_order_public_keys_refused(crv: str) -> None:
    """Choice: the 8 (Ed25519) / 4 (Ed448) small-order points are not
    public keys: with one of them a single signature fits every
    message."""
    book = BOOKS[crv]
    torsion = TORSION_25519 if crv == "Ed25519" else TORSION_448
    for T in torsion:
        x = book.encode(T)
        with pytest.raises(jwt3.InvalidKeyError, match="small-order"):
            jwt3.Key.from_jwk(public_jwk(crv, x))
        der = jwt3._der_seq(jwt3._der_seq(jwt3._der_oid(CURVES[crv].oid)),
                            jwt3._der_bits(x))
        with pytest.raises(jwt3.InvalidKeyError, match="small-order"):
            jwt3.Key.from_der(der)


def test_small_order_key_forges_everything_in_textbook() -> None:
    """Why: with A = neutral element, (R, S) = ([S]B, S) verifies for
    every message under the plain textbook equation."""
    A = ED25519.encode(ED25519.zero)
    R = ED25519.encode(ED25519.mul(7, ED25519.B))
    forged = R + (7).to_bytes(32, "little")
    assert ED25519.verify(A, b"any", forged)
    assert ED25519.verify(A, b"thing", forged)


@pytest.mark.parametrize("crv", ["Ed25519", "Ed448"])
def test_non_canonical_public_key_refused(crv: str) -> None:
    curve = CURVES[crv]
    bits = 8 * curve.length - 1
    p = jwt3._P25519 if crv == "Ed25519" else jwt3._P448
    for x in ((1 + p).to_bytes(curve.length, "little"),
              (1 | 1 << bits).to_bytes(curve.length, "little"),
              (2 ** bits - 1).to_bytes(curve.length, "little")):
        with pytest.raises(jwt3.InvalidKeyError, match="canonical"):
            jwt3.Key.from_jwk(public_jwk(crv, x))


@pytest.mark.parametrize("crv", ["Ed25519", "Ed448"])
def test_public_key_off_curve_refused(crv: str) -> None:
    curve, book = CURVES[crv], BOOKS[crv]
    y = 2
    while book.decode(y.to_bytes(curve.length, "little")) is not None:
        y += 1
    with pytest.raises(jwt3.InvalidKeyError, match="canonical"):
        jwt3.Key.from_jwk(public_jwk(crv, y.to_bytes(curve.length,
                                                     "little")))


def test_mixed_order_public_key_accepted() -> None:
    """Choice: a real key plus a torsion point T is not refused (only
    its owner can sign for it, and the check costs a multiplication by
    L).  The cofactorless equation then holds only when [k]T = 0."""
    T = next(T for T in TORSION_25519 if ED25519.mul(4, T) != ED25519.zero)
    a = 5
    P = ED25519.add(ED25519.mul(a, ED25519.B), T)
    A = ED25519.encode(P)
    key = jwt3.Key.from_jwk(public_jwk("Ed25519", A))
    assert key.crv == "Ed25519"

    # Signatures made with the scalar a: accepted iff 8 divides k.
    seen = set()
    for i in range(40):
        M = b"%d" % i
        r = 1000 + i
        R = ED25519.encode(ED25519.mul(r, ED25519.B))
        k = jwt3._ed25519_hash(R, A, M) % ED25519.L
        signature = R + ((r + k * a) % ED25519.L).to_bytes(32, "little")
        assert key.verify("EdDSA", M, signature) == (k % 8 == 0)
        seen.add(k % 8 == 0)
    assert seen == {True, False}


# ---- OKP JWK (RFC 8037 §2) ----


@pytest.mark.parametrize("crv", ["Ed25519", "Ed448"])
def test_jwk_round_trip(crv: str) -> None:
    key = fixed_key(crv)
    jwk = key.to_jwk(private=True)
    assert list(jwk) == ["kty", "crv", "x", "d"]
    assert len(b64u(jwk["x"])) == len(b64u(jwk["d"])) == \
        CURVES[crv].length
    again = jwt3.Key.from_jwk(jwk)
    assert again.to_jwk(private=True) == jwk
    assert again.size == CURVES[crv].size
    public = key.public()
    assert public.to_jwk() == {k: jwk[k] for k in ("kty", "crv", "x")}
    assert public.public() is public
    with pytest.raises(jwt3.InvalidKeyError):
        public.to_jwk(private=True)


def test_jwk_x_must_match_d() -> None:
    jwk = fixed_key("Ed25519").to_jwk(private=True)
    jwk["x"] = key_from_seed("Ed25519", bytes(32)).to_jwk()["x"]
    with pytest.raises(jwt3.InvalidKeyError, match='"x" is not the public'):
        jwt3.Key.from_jwk(jwk)


@pytest.mark.parametrize("jwk, error, match", [
    ({"kty": "OKP", "x": "AA"}, jwt3.KeyFormatError, 'no "crv"'),
    ({"kty": "OKP", "crv": 25519, "x": "AA"}, jwt3.KeyFormatError,
     "expected a string"),
    ({"kty": "OKP", "crv": "X25519", "x": "A" * 43}, jwt3.InvalidKeyError,
     "not a signature curve"),
    ({"kty": "OKP", "crv": "X448", "x": "A" * 75}, jwt3.InvalidKeyError,
     "not a signature curve"),
    ({"kty": "OKP", "crv": "P-256", "x": "AA"}, jwt3.InvalidKeyError,
     "not supported"),
    ({"kty": "OKP", "crv": "Ed25519"}, jwt3.KeyFormatError, 'no "x"'),
    ({"kty": "OKP", "crv": "Ed25519", "x": None}, jwt3.KeyFormatError,
     "expected a base64url string"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "A" * 42}, jwt3.KeyFormatError,
     "31 octets, expected 32"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "A" * 44}, jwt3.KeyFormatError,
     "33 octets"),
    ({"kty": "OKP", "crv": "Ed448", "x": "A" * 43}, jwt3.KeyFormatError,
     "expected 57"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "A" * 42 + "=="},
     jwt3.KeyFormatError, "base64url"),
    ({"kty": "OKP", "crv": "Ed25519", "d": "A" * 42}, jwt3.KeyFormatError,
     '"d": 31 octets'),
    ({"kty": "OKP", "crv": "Ed25519", "d": 7}, jwt3.KeyFormatError,
     '"d": expected a base64url string'),
])
def test_jwk_refused(jwk: Dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        jwt3.Key.from_jwk(jwk)


@settings(max_examples=60)
@given(st.dictionaries(st.sampled_from(["crv", "x", "d"]), st.one_of(
    st.sampled_from(["Ed25519", "Ed448", "X25519", ""]),
    st.text(max_size=80),
    st.binary(min_size=30, max_size=58).map(b64), st.integers(),
    st.none())))
def test_jwk_fuzz_raises_only_jwt_errors(members: Dict[str, Any]) -> None:
    jwk = dict(members, kty="OKP")
    try:
        key = jwt3.Key.from_jwk(jwk)
    except jwt3.JWTError:
        return
    assert key.kty == "OKP"


# ---- PKCS#8 and SPKI (RFC 8410) ----


def test_rfc8410_examples() -> None:
    public = jwt3.Key.from_pem(RFC8410_PUBLIC)
    private = jwt3.Key.from_pem(RFC8410_PRIVATE)
    v2 = jwt3.Key.from_pem(RFC8410_PRIVATE_V2)
    assert public.to_jwk() == private.to_jwk() == v2.to_jwk()
    assert private.to_pem(private=True) == RFC8410_PRIVATE
    assert v2.to_pem(private=True) == RFC8410_PRIVATE
    assert private.to_pem() == RFC8410_PUBLIC
    assert public.to_pem() == RFC8410_PUBLIC
    signature = private.sign("Ed25519", b"m")
    assert public.verify("Ed25519", b"m", signature)


@pytest.mark.parametrize("crv", ["Ed25519", "Ed448"])
def test_pem_der_round_trip(crv: str) -> None:
    key = fixed_key(crv)
    for private in (True, False):
        pem = key.to_pem(private=private)
        again = jwt3.Key.from_pem(pem)
        assert again.to_jwk(private=private) == key.to_jwk(private=private)
        label, der = key._material.to_der(private)
        assert jwt3.Key.from_der(der).to_jwk(private) == \
            key.to_jwk(private)
        assert jwt3.load_key(der).crv == crv


def pkcs8(oid: str, private_octets: bytes, extra: bytes = b"",
          version: int = 0, params: bytes = b"") -> bytes:
    return jwt3._der_seq(jwt3._der_int(version),
                         jwt3._der_seq(jwt3._der_oid(oid) + params),
                         jwt3._der_octets(private_octets), extra)


def spki(oid: str, public: bytes, params: bytes = b"") -> bytes:
    return jwt3._der_seq(jwt3._der_seq(jwt3._der_oid(oid) + params),
                         jwt3._der_bits(public))


ED25519_OID = "1.3.101.112"
SEED = bytes(range(32))


def test_der_refusals() -> None:
    inner = jwt3._der_octets(SEED)
    good = jwt3.Key.from_der(pkcs8(ED25519_OID, inner))
    public = b64u(good.to_jwk()["x"])
    for der, error, match in [
        (pkcs8(ED25519_OID, inner, params=jwt3._DER_NULL_TLV),
         jwt3.KeyFormatError, "parameters must be absent"),
        (pkcs8(ED25519_OID, jwt3._der_octets(SEED[:31])),
         jwt3.KeyFormatError, "seed of 31 octets"),
        (pkcs8(ED25519_OID, SEED), jwt3.KeyFormatError, "DER"),
        (pkcs8(ED25519_OID, jwt3._der_int(5)), jwt3.KeyFormatError,
         "CurvePrivateKey"),
        (pkcs8(ED25519_OID, inner, b"\x81\x21\x00" + bytes(32), 1),
         jwt3.InvalidKeyError, "publicKey is not the public key"),
        (spki(ED25519_OID, public, jwt3._DER_NULL_TLV),
         jwt3.KeyFormatError, "parameters must be absent"),
        (spki(ED25519_OID, public[:31]), jwt3.KeyFormatError,
         "public key of 31 octets"),
        (spki(ED25519_OID, b"\xff" * 32), jwt3.InvalidKeyError,
         "canonical"),
        (spki("1.3.101.113", public), jwt3.KeyFormatError,
         "expected 57"),
        (spki("1.3.101.110", public), jwt3.InvalidKeyError,
         "X25519 is a key-agreement curve"),
        (pkcs8("1.3.101.111", jwt3._der_octets(bytes(56))),
         jwt3.InvalidKeyError, "X448 is a key-agreement curve"),
    ]:
        with pytest.raises(error, match=match):
            jwt3.Key.from_der(der)
    v2 = pkcs8(ED25519_OID, inner, b"\x81\x21\x00" + public, 1)
    assert jwt3.Key.from_der(v2).to_jwk(True) == good.to_jwk(True)


# ---- algorithms: EdDSA (RFC 8037) and Ed25519 / Ed448 (RFC 9864) ----


def test_algorithm_names_and_curve_binding() -> None:
    names = jwt3.supported_algorithms()
    assert {"EdDSA", "Ed25519", "Ed448"} <= set(names)
    k25519, k448 = fixed_key("Ed25519"), fixed_key("Ed448")
    assert k25519.usable("EdDSA") and k448.usable("EdDSA", "sign")
    assert k25519.usable("Ed25519") and not k25519.usable("Ed448")
    assert k448.usable("Ed448") and not k448.usable("Ed25519")
    with pytest.raises(jwt3.InvalidKeyError, match="needs Ed448"):
        k25519.sign("Ed448", b"m")
    with pytest.raises(jwt3.InvalidKeyError, match="public key cannot"):
        k25519.public().sign("EdDSA", b"m")
    # An OKP key is never an HMAC or ECDSA key, nor the reverse.
    assert not k25519.usable("HS256")
    hmac_key = jwt3.Key.from_secret(b"k" * 32)
    assert not hmac_key.usable("EdDSA")


def test_signature_independent_of_alg_name() -> None:
    """EdDSA and Ed25519 / Ed448 are the same signature algorithm."""
    for crv in ("Ed25519", "Ed448"):
        key = fixed_key(crv)
        assert key.sign("EdDSA", b"m") == key.sign(crv, b"m")


def test_jwk_alg_member_binds() -> None:
    jwk = dict(fixed_key("Ed25519").to_jwk(), alg="Ed25519")
    key = jwt3.Key.from_jwk(jwk)
    assert key.usable("Ed25519") and not key.usable("EdDSA")


# ---- key generation ----


def test_generate_key() -> None:
    for alg, crv, want in [("EdDSA", None, "Ed25519"),
                           ("EdDSA", "Ed25519", "Ed25519"),
                           ("EdDSA", "Ed448", "Ed448"),
                           ("Ed25519", None, "Ed25519"),
                           ("Ed448", None, "Ed448"),
                           ("Ed448", "Ed448", "Ed448")]:
        key = jwt3.generate_key(alg, crv=crv)
        assert key.crv == want and key.is_private and key.alg == alg
        assert key.kid == key.thumbprint()
        signature = key.sign(alg, b"m")
        assert key.public().verify(alg, b"m", signature)
    assert jwt3.generate_key("Ed448", bits=456).size == 456
    a, b = jwt3.generate_key("EdDSA"), jwt3.generate_key("EdDSA")
    assert a.to_jwk(True)["d"] != b.to_jwk(True)["d"]


@pytest.mark.parametrize("alg, options, match", [
    ("Ed25519", {"crv": "Ed448"}, "Ed25519 keys are on Ed25519"),
    ("EdDSA", {"crv": "X25519"}, "on Ed25519 or Ed448"),
    ("EdDSA", {"crv": "P-256"}, "not 'P-256'"),
    ("Ed25519", {"bits": 255}, "256 bits"),
])
def test_generate_key_refused(alg: str, options: Dict[str, Any],
                              match: str) -> None:
    with pytest.raises(ValueError, match=match):
        jwt3.generate_key(alg, **options)


# ---- whole tokens ----


@pytest.mark.parametrize("alg, crv", [("EdDSA", "Ed25519"),
                                      ("EdDSA", "Ed448"),
                                      ("Ed25519", "Ed25519"),
                                      ("Ed448", "Ed448")])
def test_encode_decode(alg: str, crv: str) -> None:
    key = fixed_key(crv)
    claims = {"sub": "alice", "n": 1}
    token = jwt3.encode(claims, key, alg, headers={"kid": "k1"})
    header = jwt3.decode_unverified(token).header
    assert header == {"alg": alg, "kid": "k1", "typ": "JWT"}
    public_pem = key.to_pem()
    for verifier in (key, key.public(), public_pem, key.to_jwk(),
                     {"keys": [key.to_jwk()]}):
        assert jwt3.decode(token, verifier, [alg]) == claims
    assert jwt3.encode(claims, key.to_pem(private=True), alg) == \
        jwt3.encode(claims, key, alg)

    other = "Ed448" if alg == "Ed25519" else "Ed25519"
    with pytest.raises(jwt3.AlgorithmNotAllowedError):
        jwt3.decode(token, key, [other])
    head, _, signature = token.split(".")
    forged = jwt3.encode({"sub": "mallory"}, key, alg, {"kid": "k1"})
    with pytest.raises(jwt3.InvalidSignatureError):
        jwt3.decode(head + "." + forged.split(".")[1] + "." + signature,
                    key, [alg])


def test_decode_picks_key_by_curve() -> None:
    """A JWK Set with both curves: alg Ed448 skips the Ed25519 key."""
    k25519, k448 = fixed_key("Ed25519"), fixed_key("Ed448")
    jwks = {"keys": [k25519.to_jwk(), k448.to_jwk()]}
    token = jwt3.encode({"a": 1}, k448, "Ed448")
    assert jwt3.decode(token, jwks, ["Ed448"]) == {"a": 1}
    token = jwt3.encode({"a": 2}, k448, "EdDSA")
    with pytest.raises(jwt3.InvalidSignatureError):
        jwt3.decode(token, jwks, ["EdDSA"])   # first usable: Ed25519


# ---- the per-key cache ----


def test_only_valid_signatures_earn_a_table() -> None:
    # Forged tokens must not make jwt3 build per-key tables, or an
    # attacker rotating kids could keep it rebuilding them.
    key = fixed_key("Ed448").public()
    signature = fixed_key("Ed448").sign("EdDSA", b"m")
    jwt3._eddsa_clear_caches()
    for _ in range(3 * jwt3._ED_TABLE_AFTER):
        assert not key.verify("EdDSA", b"forged", signature)
    entry = jwt3._ed_keys[("Ed448", key._material.x)]
    assert entry[2] == 0 and entry[3] is None and not jwt3._ed_tabled
    for _ in range(jwt3._ED_TABLE_AFTER + 1):
        assert key.verify("EdDSA", b"m", signature)
    assert entry[3] is not None
    jwt3._eddsa_clear_caches()


def test_cache_builds_table_after_a_few_verifications() -> None:
    key = fixed_key("Ed25519").public()
    signature = fixed_key("Ed25519").sign("EdDSA", b"m")
    jwt3._eddsa_clear_caches()
    results = []
    for _ in range(jwt3._ED_TABLE_AFTER + 3):
        results.append(key.verify("EdDSA", b"m", signature))
        results.append(key.verify("EdDSA", b"n", signature))
    assert results == [True, False] * (jwt3._ED_TABLE_AFTER + 3)
    entry = jwt3._ed_keys[("Ed25519", key._material.x)]
    assert entry[3] is not None and list(jwt3._ed_tabled) == [
        ("Ed25519", key._material.x)]
    jwt3._eddsa_clear_caches()
    assert not jwt3._ed_keys and not jwt3._ed_tabled
    assert key.verify("EdDSA", b"m", signature)


def test_cache_is_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(jwt3, "_ED_KEY_CACHE_SIZE", 4)
    monkeypatch.setattr(jwt3, "_ED_TABLE_SLOTS", 2)
    monkeypatch.setattr(jwt3, "_ED_TABLE_AFTER", 0)
    keys = [key_from_seed("Ed25519", bytes([i]) * 32) for i in range(6)]
    for round_ in range(2):
        for key in keys:
            signature = key.sign("EdDSA", b"m")
            assert key.public().verify("EdDSA", b"m", signature)
            assert len(jwt3._ed_keys) <= 4
            assert len(jwt3._ed_tabled) <= 2
            tables = [e for e in jwt3._ed_keys.values() if e[3]]
            assert len(tables) <= 2


@pytest.mark.parametrize("crv", ["Ed25519", "Ed448"])
def test_cache_modes_agree(crv: str, monkeypatch: Any) -> None:
    """Fresh, cached point, and per-key table give the same answers."""
    monkeypatch.setattr(jwt3, "_ED_TABLE_AFTER", 1)
    key = fixed_key(crv)
    messages = [b"a", b"b", b"c", b"d"]
    signatures = [key.sign("EdDSA", m) for m in messages]
    for _ in range(3):
        for i, m in enumerate(messages):
            for j, signature in enumerate(signatures):
                assert key.verify("EdDSA", m, signature) == (i == j)


@pytest.mark.parametrize("crv", ["Ed25519", "Ed448"])
def test_verify_with_undecodable_public_key_is_false(crv: str) -> None:
    """Keys are validated when loaded; the verifier still refuses a
    public key that does not decode instead of failing."""
    curve = CURVES[crv]
    signature = fixed_key(crv).sign("EdDSA", b"m")
    assert not jwt3._ed_verify(curve, b"\xff" * curve.length, b"m",
                               signature)
