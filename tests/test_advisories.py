"""Regression tests named after the field's advisories.

One test (or one parametrized family) per vulnerability class that has
hit a JWT library, named after the CVE or GHSA that reported it, or
descriptively where a class has no single name.  Each reaches jwt3 the
way an attacker would: a token (and at most the key text an operator
might configure) through ``decode`` or the Kamailio functions.  Unit
tests of the same defences live with their sections and are named in
the docstrings here.
"""

import base64
import builtins
import hashlib
import io
import json
import os
import socket
import struct
import time
import urllib.request
import zlib

import pytest

import jwt3
from support import integer_cube_root
from jwt3 import (AlgorithmNotAllowedError, InvalidClaimError,
                  InvalidKeyError, InvalidSignatureError, KeyFormatError,
                  MalformedError, Module)
from jwt3 import _b64u_encode as b64
from vectors import by_id

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
NOW = 1_800_000_000


def fixture(name, mode="r"):
    with open(os.path.join(DATA, name), mode) as f:
        return f.read()


def pem_body(text):
    return base64.b64decode("".join(text.strip().splitlines()[1:-1]))


RSA = jwt3.Key.from_pem(fixture("rsa2048.pkcs8.pem"))
RSA_E3 = jwt3.Key.from_pem(fixture("rsa2048-e3.pkcs8.pem"))
ATTACKER_RSA = jwt3.Key.from_jwk(fixture("rsa2057.jwk.json"))
P256 = jwt3.generate_key("ES256")
P384 = jwt3.generate_key("ES384")
K256 = jwt3.generate_key("ES256K")
ED25519 = jwt3.generate_key("EdDSA")
ED448 = jwt3.generate_key("EdDSA", crv="Ed448")
HMAC = jwt3.Key.from_secret(bytes(range(32)))


def forge(header, claims, sign=None):
    """A token with exactly this header and payload (bytes as they are,
    anything else as JSON); ``sign`` makes the signature from the
    signing input (default: none at all)."""
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    p = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
    signing_input = (b64(h) + "." + b64(p)).encode()
    signature = b"" if sign is None else sign(signing_input)
    return signing_input.decode() + "." + b64(signature)


def hs256_with(secret):
    """A signer that MACs with ``secret``, as the attacker does."""
    import hmac
    return lambda data: hmac.digest(secret, data, "sha256")


def openssh_line(key):
    """The OpenSSH public key line of an RSA or P-256 key (RFC 4253
    §6.6, RFC 5656 §3.1)."""
    def string(data):
        return struct.pack(">I", len(data)) + data

    def mpint(n):
        return string(n.to_bytes(n.bit_length() // 8 + 1, "big"))

    material = key.public()._material
    if key.kty == "RSA":
        blob = string(b"ssh-rsa") + mpint(material.e) + mpint(material.n)
        kind = "ssh-rsa"
    else:
        kind = "ecdsa-sha2-nistp256"
        blob = string(kind.encode()) + string(b"nistp256") \
            + string(material.point_bytes())
    return "%s %s attacker@example" % (kind, base64.b64encode(blob)
                                       .decode())


def key_texts(key):
    """Every form an operator might configure a public key in, as the
    text (or bytes) that would be passed as ``key``."""
    public = key.public()
    label, der = public._material.to_der(False)
    forms = {
        "SPKI PEM": public.to_pem(),
        "SPKI PEM, leading blank lines": "\n\n  " + public.to_pem(),
        "DER": der,
        "OpenSSH": openssh_line(key),
        "JWK JSON": json.dumps(public.to_jwk()),
        "JWK Set JSON": json.dumps({"keys": [public.to_jwk()]}),
    }
    if key.kty == "RSA":
        forms["PKCS#1 PEM"] = jwt3._pem_encode(
            *public._material.to_pkcs1(False))
        forms["certificate PEM"] = fixture("rsa2048.crt.pem")
    return forms


def forms_of(*keys):
    return [pytest.param(text, VERIFY_ALG[key.kty],
                         id="%s %s" % (key.kty, name))
            for key in keys for name, text in key_texts(key).items()]


VERIFY_ALG = {"RSA": "RS256", "EC": "ES256"}


# -- HMAC with a public key as the secret (key confusion)

def assert_confusion_fails(text, alg):
    secret = text if isinstance(text, bytes) else text.encode()
    token = forge({"alg": "HS256", "typ": "JWT"}, {"sub": "admin"},
                  hs256_with(secret))
    for algorithms in (["HS256"], ["HS256", alg]):
        with pytest.raises((InvalidKeyError, KeyFormatError)):
            jwt3.decode(token, text, algorithms)
    # Even a caller who hands the text to from_secret gets no MAC key.
    with pytest.raises(InvalidKeyError, match="forge MACs"):
        jwt3.Key.from_secret(secret)


@pytest.mark.parametrize("text, alg", forms_of(RSA, P256))
def test_cve_2015_9235_cve_2016_10555_public_key_as_hmac_secret(text,
                                                                 alg):
    """jsonwebtoken (CVE-2015-9235) and jwt-simple (CVE-2016-10555)
    verified an HS256 token with the configured RSA public key as the
    HMAC secret.  jwt3 never takes key text as a secret: it loads as an
    RSA or EC key, which cannot do HS256 (or, for OpenSSH, not at
    all).  Unit tests: test_jwk.py test_from_secret_refuses_key_text,
    test_rsa.py test_rsa_key_is_never_an_hmac_secret."""
    assert_confusion_fails(text, alg)


def test_cve_2017_11424_pkcs1_pem_as_hmac_secret():
    """PyJWT refused "-----BEGIN PUBLIC KEY-----" as a secret but not
    "-----BEGIN RSA PUBLIC KEY-----" (PKCS#1)."""
    assert_confusion_fails(key_texts(RSA)["PKCS#1 PEM"], "RS256")


@pytest.mark.parametrize("key", [RSA, P256], ids=["ssh-rsa", "ecdsa"])
def test_cve_2022_29217_openssh_key_as_hmac_secret(key):
    """PyJWT's blocklist missed OpenSSH key types (ecdsa-sha2-*)."""
    assert_confusion_fails(openssh_line(key), VERIFY_ALG[key.kty])


def test_cve_2023_48223_pem_with_leading_whitespace_as_hmac_secret():
    """fast-jwt's PEM matcher missed keys with text before the armour."""
    assert_confusion_fails("\r\n\t" + RSA.public().to_pem(), "RS256")
    assert_confusion_fails("comment\n" + RSA.public().to_pem(), "RS256")


def test_python_jose_414_der_public_key_as_hmac_secret():
    """python-jose (issue #414, open) and authlib accept a DER RSA
    public key as an HMAC secret."""
    assert_confusion_fails(key_texts(RSA)["DER"], "RS256")


def test_jwk_json_text_as_hmac_secret():
    """A public JWK's JSON text used as the HMAC secret (reported
    against PyJWT; reference/field-lessons.md §0.2)."""
    assert_confusion_fails(key_texts(RSA)["JWK JSON"], "RS256")
    assert_confusion_fails(key_texts(P256)["JWK JSON"], "ES256")


def test_ghsa_q843_6q5f_w55g_rsa_jwk_as_empty_hmac_secret():
    """libjwt took an RSA JWK (no "k") as an HMAC key with an empty
    secret; its forged token must fail against any RSA key, and an
    empty secret is never a key."""
    case = by_id("libjwt", "LIBJWT-GHSA-q843-6q5f-w55g")
    jwk = RSA.public().to_jwk()       # an RSA JWK without "alg"
    for key in (jwk, json.dumps(jwk), jwt3.KeySet.from_jwks({"keys":
                                                             [jwk]})):
        with pytest.raises(InvalidKeyError, match="cannot"):
            jwt3.decode(case["jws"], key, ["HS256"])
    ours = forge({"alg": "HS256"}, {"sub": "admin"}, hs256_with(b""))
    with pytest.raises(InvalidKeyError):
        jwt3.decode(ours, jwk, ["HS256", "RS256"])
    with pytest.raises(InvalidKeyError, match="empty"):
        jwt3.Key.from_secret(b"")
    with pytest.raises(KeyFormatError):
        jwt3.Key.from_jwk({"kty": "oct", "k": ""})
    module = Module(leeway_sec=0, clock=lambda: NOW)
    assert module.jwt3_verify_key(json.dumps(jwk), "HS256", "",
                                  case["jws"]) == -1
    assert module.pv("status") == jwt3.STATUS_KEY


def test_lying_jwk_kty_rsa_alg_hs256():
    """libjwt test_alg_confusion_malformed_jwk_kty_alg: an RSA JWK that
    claims alg HS256 can do neither HS256 nor RS256."""
    jwk = dict(RSA.public().to_jwk(), alg="HS256")
    token = forge({"alg": "HS256"}, {}, hs256_with(b"x" * 32))
    with pytest.raises(InvalidKeyError):
        jwt3.decode(token, jwk, ["HS256"])
    signed = jwt3.encode({}, RSA, "RS256")
    with pytest.raises(InvalidKeyError, match='"alg" is HS256'):
        jwt3.decode(signed, jwk, ["RS256"])


def test_same_family_downgrade_rs512_token_rs256_key():
    """libjwt jwt_alg_downgrade.c: a key pinned to RS256 must not verify
    an RS512 token, even if the caller allows both."""
    pinned = jwt3.Key(RSA.public()._material, alg="RS256")
    token = jwt3.encode({}, RSA, "RS512")
    with pytest.raises(InvalidKeyError, match='"alg" is RS256'):
        jwt3.decode(token, pinned, ["RS256", "RS512"])


# -- alg "none"

@pytest.mark.parametrize("spelling", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", [b"", b"x" * 32])
def test_cve_2015_9235_cve_2022_23540_alg_none_every_spelling(spelling,
                                                             signature):
    """The 2015 disclosure behind CVE-2015-9235 showed libraries
    accepting unsigned tokens; jsonwebtoken did it again with a falsy
    key (CVE-2022-23540).  jwt3 never accepts "none", in any case,
    signed or not, even when the caller lists it; nor does it produce
    one.  Unit test: test_jws.py test_alg_none_in_every_spelling."""
    token = forge({"alg": spelling}, {"sub": "admin"},
                  lambda data: signature)
    for key in (HMAC, RSA.public(), jwt3.KeySet([HMAC, P256.public()])):
        with pytest.raises(AlgorithmNotAllowedError):
            jwt3.decode(token, key, ["HS256", "RS256", "ES256"])
        with pytest.raises(AlgorithmNotAllowedError):
            jwt3.decode(token, key, [spelling])
    with pytest.raises(AlgorithmNotAllowedError):
        jwt3.encode({}, HMAC, spelling)
    module = Module(leeway_sec=0, clock=lambda: NOW)
    for alg in (spelling, "HS256"):
        assert module.jwt3_verify_key(json.dumps(HMAC.to_jwk(True)), alg,
                                      "", token) == -1
        assert module.pv("status") == jwt3.STATUS_ALGORITHM


# -- ECDSA

def es_signature(r, s, size):
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


@pytest.mark.parametrize("key, alg", [
    (P256, "ES256"), (P384, "ES384"), (jwt3.generate_key("ES512"), "ES512"),
    (K256, "ES256K")], ids=["ES256", "ES384", "ES512", "ES256K"])
def test_cve_2022_21449_psychic_signatures(key, alg):
    """Java 15-18 accepted r = s = 0 for every message.  The range
    check 0 < r, s < n refuses it and its variants (r or s = n, which
    are 0 mod n) on every curve.  Unit test: test_ecdsa.py
    test_cve_2022_21449_psychic_signature."""
    curve = key._material.curve
    size, n = curve.scalar_len, curve.n
    public = key.public()
    genuine = jwt3.encode({"sub": "admin"}, key, alg)
    for r, s in ((0, 0), (n, n), (0, 1), (1, 0), (n, 1), (1, n)):
        token = forge({"alg": alg}, {"sub": "admin"},
                      lambda data: es_signature(r, s, size))
        with pytest.raises(InvalidSignatureError):
            jwt3.decode(token, public, [alg])
    assert jwt3.decode(genuine, public, [alg]) == {"sub": "admin"}


def test_cve_2015_7940_invalid_curve_points():
    """Bouncy Castle did not check that a received point lies on the
    curve (invalid-curve attacks).  Every EC public key is validated
    when loaded, in every format; a JWK Set skips such entries and a
    verifier never uses them.  Unit tests: test_ecdsa.py test_bad_jwk,
    test_bad_spki, test_fuzz_points."""
    jwk = P256.public().to_jwk()
    curve = P256._material.curve
    x, y = P256._material.x, P256._material.y
    field = curve.field_len

    def coord(value, length=field):
        return b64(value.to_bytes(length, "big"))

    # Off the curve: y + 1; a point of the curve y^2 = x^3 - 3x + b'
    # with b' = 0 (x = 0, y = 0 is on it and has order 2); x >= p.
    bad = [dict(jwk, y=coord((y + 1) % curve.p)),
           dict(jwk, x=coord(0), y=coord(0)),
           dict(jwk, x=coord(x + curve.p, field + 1)),
           dict(jwk, x=coord(curve.p), y=coord(0)),
           # a P-384 point labelled P-256 (longer members)
           dict(P384.public().to_jwk(), crv="P-256")]
    token = jwt3.encode({"sub": "admin"}, P256, "ES256")
    for entry in bad:
        with pytest.raises((InvalidKeyError, KeyFormatError)):
            jwt3.decode(token, entry, ["ES256"])
        with pytest.raises(KeyFormatError, match="no usable key"):
            jwt3.decode(token, {"keys": [entry]}, ["ES256"])

    # The same in SPKI: uncompressed off-curve, and a compressed x with
    # no square root (x^3 - 3x + b a non-residue).
    label, der = P256.public()._material.to_der(False)
    off = der[:-1] + bytes([der[-1] ^ 1])
    with pytest.raises(InvalidKeyError, match="not on P-256"):
        jwt3.decode(token, off, ["ES256"])
    p = curve.p
    x = next(x for x in range(1, 100)
             if pow((x ** 3 - 3 * x + curve.b) % p, (p - 1) // 2, p)
             == p - 1)
    spki = jwt3._der_seq(
        jwt3._der_seq(jwt3._der_oid("1.2.840.10045.2.1"),
                      jwt3._der_oid(curve.oid)),
        jwt3._der_bits(b"\x02" + x.to_bytes(field, "big")))
    with pytest.raises(InvalidKeyError, match="not on P-256"):
        jwt3.decode(token, spki, ["ES256"])


@pytest.mark.parametrize("signer, alg, verifier", [
    (P384, "ES384", P384), (K256, "ES256K", K256), (P256, "ES256", P256)],
    ids=["P-384", "secp256k1", "P-256"])
def test_ecdsa_curve_bound_to_alg_es256_p384_es256k_swaps(signer, alg,
                                                         verifier):
    """libjwt gap (reference §2.13 item 2): ES256 and ES256K are not
    bound to their curves when the key has no "alg".  In jwt3 each of
    ES256/ES384/ES256K accepts only its own curve, whatever the token
    says.  Unit test: test_ecdsa.py test_curve_bound_to_alg."""
    token = jwt3.encode({"sub": "admin"}, signer, alg)
    header, payload, signature = token.split(".")
    public = verifier.public()
    bare = jwt3.Key(public._material)          # no "alg" member
    for other in ("ES256", "ES384", "ES256K"):
        if other == alg:
            assert jwt3.decode(token, bare, [alg]) == {"sub": "admin"}
            continue
        # The same signature bytes under another alg name.
        relabelled = forge({"alg": other}, {"sub": "admin"},
                           lambda data: base64.urlsafe_b64decode(
                               signature + "=" * (-len(signature) % 4)))
        with pytest.raises(InvalidKeyError, match="cannot be used with"):
            jwt3.decode(relabelled, bare, [other])


def test_ecdsa_der_and_wrong_length_signatures():
    """libjwt test_es256_wrong_size_sig; several libraries accepted DER
    ECDSA signatures in JWS, a second encoding of one signature (RFC
    7518 §3.4 requires R || S).  Unit test: test_ecdsa.py
    test_wrong_lengths_and_der_refused."""
    token = jwt3.encode({"sub": "admin"}, P256, "ES256")
    signing_input, _, sig_b64 = token.rpartition(".")
    raw = jwt3._b64u_decode(sig_b64, "sig")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    der = jwt3._der_seq(jwt3._der_int(r), jwt3._der_int(s))
    for signature in (der, raw + raw[:32], raw[:63], b"\x00" + raw):
        with pytest.raises(InvalidSignatureError):
            jwt3.decode(signing_input + "." + b64(signature),
                        P256.public(), ["ES256"])


def test_ecdsa_high_s_is_refused_when_strict():
    """(r, n - s) is a second valid signature of the same message: RFC
    7518 allows it (libjwt accepts it), ``strict`` refuses it."""
    token = jwt3.encode({"sub": "admin"}, P256, "ES256")
    signing_input, _, sig_b64 = token.rpartition(".")
    raw = jwt3._b64u_decode(sig_b64, "sig")
    n = P256._material.curve.n
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    low, high = sorted((s, n - s))
    for s2, strict_ok in ((low, True), (high, False)):
        variant = signing_input + "." + b64(es_signature(r, s2, 32))
        assert jwt3.decode(variant, P256.public(), ["ES256"]) == {
            "sub": "admin"}
        if strict_ok:
            jwt3.decode(variant, P256.public(), ["ES256"], strict=True)
        else:
            with pytest.raises(InvalidSignatureError):
                jwt3.decode(variant, P256.public(), ["ES256"],
                            strict=True)


# -- RSA

@pytest.mark.parametrize("ff_count", [8, 1, 0])
def test_cve_2006_4339_bleichenbacher_e3_forgery(ff_count):
    """A verifier that parses the recovered PKCS#1 v1.5 block and stops
    after the DigestInfo accepts a cube root as an e = 3 signature (and
    BERserk-style variants with short padding).  jwt3 rebuilds the
    whole encoded message and compares.  Unit test: test_rsa.py
    test_cve_2006_4339_e3_forgery_refused."""
    material = RSA_E3.public()._material
    header = {"alg": "RS256", "typ": "JWT"}
    claims = {"sub": "admin"}
    signing_input = (b64(json.dumps(header).encode()) + "."
                     + b64(json.dumps(claims).encode())).encode()
    digest_info = jwt3._DIGEST_INFO_PREFIXES["256"] \
        + hashlib.sha256(signing_input).digest()
    fixed = b"\x00\x01" + b"\xff" * ff_count + b"\x00" + digest_info
    garbage_bits = 8 * (material.k - len(fixed))
    low = int.from_bytes(fixed, "big") << garbage_bits
    s = integer_cube_root(low + (1 << garbage_bits) - 1)
    assert low <= s ** 3 < low + (1 << garbage_bits)
    token = forge(header, claims, lambda data: s.to_bytes(material.k,
                                                          "big"))
    with pytest.raises(InvalidSignatureError):
        jwt3.decode(token, RSA_E3.public(), ["RS256"])
    genuine = jwt3.encode(claims, RSA_E3, "RS256")
    assert jwt3.decode(genuine, RSA_E3.public(), ["RS256"]) == claims


def test_rsa_short_and_out_of_range_signatures():
    """libjwt's 3-byte RS256 signature, and s >= n."""
    token = jwt3.encode({}, RSA, "RS256")
    signing_input = token.rpartition(".")[0]
    n = RSA._material.n
    for signature in (b"\x01\x02\x03", n.to_bytes(256, "big"),
                      b"\xff" * 256, b""):
        with pytest.raises(InvalidSignatureError):
            jwt3.decode(signing_input + "." + b64(signature),
                        RSA.public(), ["RS256", "PS256"])


# -- EdDSA

@pytest.mark.parametrize("key", [ED25519, ED448], ids=["Ed25519", "Ed448"])
def test_eddsa_s_at_least_l_and_appended_bytes(key):
    """RFC 8032 §5.1.7 requires S < L, else (R, S + L) is a second
    signature; its §6 reference code also accepts a signature with
    bytes appended (it builds the length error without raising it).
    Unit tests: test_eddsa.py test_s_plus_l_refused,
    test_rfc8032_section6_unraised_length_error."""
    token = jwt3.encode({"sub": "admin"}, key, "EdDSA")
    signing_input, _, sig_b64 = token.rpartition(".")
    raw = jwt3._b64u_decode(sig_b64, "sig")
    curve = key._material.curve
    size = curve.length
    S = int.from_bytes(raw[size:], "little")
    variants = [raw + b"\x00", raw + raw, raw[:-1],
                raw[:size] + (S + curve.L).to_bytes(size, "little")]
    public = key.public()
    for signature in variants:
        with pytest.raises(InvalidSignatureError):
            jwt3.decode(signing_input + "." + b64(signature), public,
                        ["EdDSA", curve.name])
    assert jwt3.decode(token, public, ["EdDSA"]) == {"sub": "admin"}


# -- encodings

def spare_bit_variants(segment):
    """The same octets spelt with non-zero spare bits (RFC 4648 §3.5)."""
    tail = len(segment) % 4
    if tail not in (2, 3):
        return []
    alphabet = jwt3._B64U_ALPHABET
    value = alphabet.index(segment[-1])
    spare = jwt3._B64U_SPARE_BITS[tail]
    return [segment[:-1] + alphabet[value | bit]
            for bit in (1, 2, 4, 8) if bit & spare]


@pytest.mark.parametrize("key, alg", [
    (HMAC, "HS256"), (RSA, "RS256"), (RSA, "PS256"), (P256, "ES256"),
    (ED25519, "EdDSA")], ids=["HS256", "RS256", "PS256", "ES256",
                              "EdDSA"])
def test_ghsa_5jhw_7jv7_qcqq_malleable_base64url(key, alg):
    """joserfc < 1.7.2 (and python-jose, Authlib, jwskate, libjwt for
    non-HMAC signatures) accepted a signed token under other spellings:
    spare bits set, padding, the standard alphabet, whitespace.  jwt3
    accepts exactly one spelling, so replay caches and revocation lists
    keyed on the token string hold.  Unit test: test_base64url.py."""
    claims = {"sub": "admin", "pad": "x" * (len(alg) % 3)}
    token = jwt3.encode(claims, key, alg)
    public = key if key.kty == "oct" else key.public()
    segments = token.split(".")
    variants = []
    for index, segment in enumerate(segments):
        spellings = spare_bit_variants(segment) + [
            segment + "=" * (-len(segment) % 4 or 4),
            segment + "==", " " + segment, segment + "\n",
            segment[:4] + "\r\n" + segment[4:],
            segment.replace("-", "+").replace("_", "/")
            if "-" in segment or "_" in segment else segment + "/"]
        for spelling in spellings:
            mangled = list(segments)
            mangled[index] = spelling
            variants.append(".".join(mangled))
    assert variants
    for variant in variants:
        assert variant != token
        with pytest.raises(MalformedError):
            jwt3.decode(variant, public, [alg])
    assert jwt3.decode(token, public, [alg]) == claims


def test_cve_2022_39227_json_serialization_and_polyglot_tokens():
    """python-jwt < 3.3.4 let a token mix the JSON and compact
    serializations, so claims could be swapped under a valid
    signature.  jwt3 reads the compact form only: exactly three
    base64url segments, nothing around them."""
    token = jwt3.encode({"sub": "user"}, HMAC, "HS256")
    header, payload, signature = token.split(".")
    evil = b64(json.dumps({"sub": "admin"}).encode())
    polyglot = json.dumps({"  " + header + "." + evil + ".": "",
                           "protected": header, "payload": payload,
                           "signature": signature})
    flattened = json.dumps({"protected": header, "payload": payload,
                            "signature": signature})
    for candidate in (polyglot, flattened, token + "." + evil,
                      header + "." + evil + "." + signature + "." + payload):
        with pytest.raises(MalformedError):
            jwt3.decode(candidate, HMAC, ["HS256"])


# -- header parameters

@pytest.mark.parametrize("header", [
    {"alg": "HS256", "crit": ["exp"], "exp": 1},
    {"alg": "HS256", "crit": ["x-unknown"], "x-unknown": True},
    {"alg": "HS256", "crit": ["alg"]},
    {"alg": "HS256", "crit": ["b64"], "b64": True},
    {"alg": "HS256", "crit": []},
    {"alg": "HS256", "crit": "exp"},
], ids=["exp", "unknown", "alg", "b64 true", "empty", "not an array"])
def test_rfc7515_4_1_11_unknown_crit(header):
    """RFC 7515 §4.1.11: a recipient that does not understand every
    extension listed in "crit" MUST reject the token.  jwt3 understands
    none, so a correctly signed token with any "crit" is refused."""
    token = forge(header, {"sub": "admin"}, lambda data: HMAC.sign(
        "HS256", data))
    with pytest.raises(MalformedError, match='"crit"'):
        jwt3.decode(token, HMAC, ["HS256"])


def test_rfc7797_b64_false_refused():
    """RFC 7797 "b64": false signs the raw payload; a verifier that
    ignores it checks a different message.  jwt3 supports only the
    default and refuses the header, with or without "crit"."""
    for header in ({"alg": "HS256", "b64": False, "crit": ["b64"]},
                   {"alg": "HS256", "b64": False}):
        raw_payload = b'{"sub":"admin"}'
        signing_input = b64(json.dumps(header).encode()).encode() + b"." \
            + raw_payload
        token = "%s.%s.%s" % (b64(json.dumps(header).encode()),
                              b64(raw_payload),
                              b64(HMAC.sign("HS256", signing_input)))
        with pytest.raises(MalformedError, match='"crit"|"b64"'):
            jwt3.decode(token, HMAC, ["HS256"])


class NoNetwork:
    """Fails the test if anything tries to open a connection."""

    def __init__(self, monkeypatch):
        def refuse(*args, **kwargs):
            raise AssertionError("network access attempted: %r"
                                 % (args[:1],))
        monkeypatch.setattr(urllib.request, "urlopen", refuse)
        monkeypatch.setattr(socket, "create_connection", refuse)
        monkeypatch.setattr(socket.socket, "connect", refuse)


def test_cve_2018_0114_embedded_jwk_never_trusted(monkeypatch):
    """node-jose (CVE-2018-0114) verified a token with the public key
    it carried in its own "jwk" header.  jwt3 never chooses a key from
    the token: "jwk", "jku", "x5u" and "x5c" are ignored, and nothing is
    fetched."""
    NoNetwork(monkeypatch)
    attacker = jwt3.generate_key("ES256")
    headers = {"jwk": attacker.public().to_jwk(),
               "jku": "https://attacker.example/jwks.json",
               "x5u": "https://attacker.example/cert.pem",
               "x5c": [base64.b64encode(pem_body(
                   fixture("rsa2048.crt.pem"))).decode()],
               "kid": attacker.kid}
    token = jwt3.encode({"sub": "admin"}, attacker, "ES256", headers)
    legit = jwt3.KeySet([P256.public()])
    with pytest.raises(InvalidSignatureError):
        jwt3.decode(token, legit, ["ES256"])
    with pytest.raises(TypeError):
        jwt3.decode(token, None, ["ES256"])

    # The same with an RSA key and a certificate in x5c.
    rsa_token = jwt3.encode({"sub": "admin"}, ATTACKER_RSA, "RS256",
                            {"x5c": headers["x5c"],
                             "jwk": ATTACKER_RSA.public().to_jwk()})
    with pytest.raises(InvalidSignatureError):
        jwt3.decode(rsa_token, RSA.public(), ["RS256"])

    module = Module(leeway_sec=0, clock=lambda: NOW)
    assert module.jwt3_verify_key(json.dumps(legit.to_jwks()), "ES256",
                                  "", token) == -1
    assert module.pv("status") == jwt3.STATUS_SIGNATURE


class FileWatch:
    """Records every path jwt3 opens or stats (an open of a descriptor
    already recorded is not a path)."""

    def __init__(self, monkeypatch):
        self.paths = []
        for module, name in ((builtins, "open"), (io, "open"),
                             (os, "open"), (os, "stat"), (os, "lstat")):
            monkeypatch.setattr(module, name, self.wrap(getattr(module,
                                                                name)))

    def wrap(self, real):
        def watched(path, *args, **kwargs):
            if not isinstance(path, int):
                self.paths.append(path)
            return real(path, *args, **kwargs)
        return watched


KID_PATHS = ["../../etc/passwd", "/dev/null", "/dev/zero",
             "/etc/passwd", "file:///etc/passwd", "| cat /etc/passwd",
             "' OR 1=1 --", "..\\..\\windows\\win.ini"]


@pytest.mark.parametrize("kid", KID_PATHS)
def test_kid_is_never_a_path(monkeypatch, tmp_path, kid):
    """Several libraries (and many applications) read a key file named
    by the token's "kid", or put it in a query.  jwt3 compares "kid"
    with the kids of the keys it was given, nothing more: no file is
    opened or even looked at because of a header."""
    token = jwt3.encode({"sub": "admin"}, HMAC, "HS256", {"kid": kid})
    keyset = jwt3.KeySet([jwt3.Key.from_secret(bytes(32 * [7]),
                                               kid="k1")])
    jwks = json.dumps(keyset.to_jwks(private=True))
    key_file = tmp_path / "keys.json"
    key_file.write_text(jwks)

    watch = FileWatch(monkeypatch)
    with pytest.raises(InvalidSignatureError):
        jwt3.decode(token, keyset, ["HS256"])
    with pytest.raises(InvalidSignatureError):
        jwt3.decode(token, jwks, ["HS256"])
    module = Module(leeway_sec=0, clock=lambda: NOW)
    assert module.jwt3_verify_key(jwks, "HS256", "", token) == -1
    assert watch.paths == []
    assert module.jwt3_verify(str(key_file), "HS256", "sub='admin'",
                              token) == -1
    assert module.pv("status") == jwt3.STATUS_SIGNATURE
    assert watch.paths and all(str(path) == str(key_file)
                               for path in watch.paths), watch.paths


# -- claims

@pytest.mark.parametrize("iss", [
    "idp.example.com", "https://idp.example", "https://idp.example.com.",
    "https://idp.example.com.evil.example", "", "HTTPS://IDP.EXAMPLE.COM",
    ["https://idp.example.com"], None, 1])
def test_cve_2024_53861_issuer_partial_match(iss):
    """PyJWT 2.10.0 compared "iss" with ``in`` on a string, so any
    substring of the expected issuer passed.  jwt3 compares whole
    strings, and an "iss" that is not a string is refused."""
    token = jwt3.encode({"iss": iss}, HMAC, "HS256")
    for issuer in ("https://idp.example.com",
                   ["https://idp.example.com", "https://other.example"]):
        with pytest.raises(jwt3.ClaimError):
            jwt3.decode(token, HMAC, ["HS256"], issuer=issuer)
    if isinstance(iss, str):
        assert jwt3.decode(token, HMAC, ["HS256"], issuer=iss)["iss"] \
            == iss
        module = Module(leeway_sec=0, clock=lambda: NOW)
        jwk = json.dumps(HMAC.to_jwk(private=True))
        assert module.jwt3_verify_key(
            jwk, "HS256", "iss='https://idp.example.com'", token) == -1
        assert module.pv("status") == jwt3.STATUS_CLAIM


def test_audience_and_subject_are_whole_strings():
    """The same class for "aud" and "sub": no substring, prefix or
    case-folded match, and an "aud" array matches one element exactly."""
    token = jwt3.encode({"aud": ["api.example", "x"], "sub": "adm"},
                        HMAC, "HS256")
    for audience in ("api", "api.example.com", "API.EXAMPLE", "x y"):
        with pytest.raises(jwt3.ClaimMismatchError):
            jwt3.decode(token, HMAC, ["HS256"], audience=audience)
    with pytest.raises(jwt3.ClaimMismatchError):
        jwt3.decode(token, HMAC, ["HS256"], audience="x", subject="admin")
    assert jwt3.decode(token, HMAC, ["HS256"], audience="x",
                       subject="adm")["sub"] == "adm"


@pytest.mark.parametrize("payload, error", [
    (b'{"exp":NaN}', MalformedError),
    (b'{"exp":Infinity}', MalformedError),
    (b'{"exp":1e400}', MalformedError),
    (b'{"exp":"9999999999"}', InvalidClaimError),
    (b'{"exp":"NaN"}', InvalidClaimError),
    (b'{"exp":true}', InvalidClaimError),
    (b'{"exp":null}', InvalidClaimError),
    (b'{"exp":[9999999999]}', InvalidClaimError),
    (b'{"exp":1e19}', InvalidClaimError),
    (b'{"exp":9223372036854775808}', InvalidClaimError),
    (b'{"exp":' + b"9" * 700 + b"}", MalformedError),
    (b'{"nbf":"0"}', InvalidClaimError),
    (b'{"nbf":-1e300}', InvalidClaimError),
    (b'{"iat":false}', InvalidClaimError),
])
def test_exp_nan_string_or_huge_never_extends_validity(payload, error):
    """Authlib accepts "exp": NaN and 1e400 (the token never expires);
    others compare strings or overflow.  jwt3: a NumericDate is a
    finite number in the signed 64-bit range, checked whenever present,
    even with time checks off (Kamailio leeway_sec -1).  Unit tests:
    test_claims.py test_time_claim_types, test_json.py."""
    token = forge({"alg": "HS256"}, payload, lambda data: HMAC.sign(
        "HS256", data))
    with pytest.raises(error):
        jwt3.decode(token, HMAC, ["HS256"], now=NOW)
    jwk = json.dumps(HMAC.to_jwk(private=True))
    for leeway in (-1, 0):
        module = Module(leeway_sec=leeway, clock=lambda: NOW)
        with _quiet():
            assert module.jwt3_verify_key(jwk, "HS256", "", token) == -1
        assert module.pv("status") in (jwt3.STATUS_MALFORMED,
                                       jwt3.STATUS_CLAIM)
    case = by_id("libjwt", "LIBJWT-jwt_security.c-exp-out-of-range")
    key = jwt3.Key.from_jwk(by_id("libjwt", "LIBJWT-oct_key_256")["jwk"])
    with pytest.raises(InvalidClaimError):
        jwt3.decode(case["jws"], key, ["HS256"])


class _quiet:
    """Silence the one-time leeway warning inside a block."""

    def __enter__(self):
        import warnings
        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)


# -- JSON

@pytest.mark.parametrize("header, payload", [
    (b'{"alg":"HS256","alg":"none"}', b'{"sub":"user"}'),
    (b'{"alg":"HS256"}', b'{"sub":"user","sub":"admin"}'),
    (b'{"alg":"HS256"}', b'{"a":{"role":"user","role":"admin"}}'),
    (b'{"alg":"HS256","kid":"a","kid":"b"}', b'{}'),
], ids=["header alg", "payload sub", "nested", "kid"])
def test_duplicate_json_members(header, payload):
    """Parsers that keep the first or the last duplicate disagree, so
    one signed token can mean different things to two components (the
    json-c backend of libjwt keeps the last; jansson refuses).  jwt3
    refuses duplicates everywhere.  Unit test: test_json.py."""
    token = forge(header, payload, lambda data: HMAC.sign("HS256", data))
    with pytest.raises(MalformedError, match="duplicate"):
        jwt3.decode(token, HMAC, ["HS256"])
    with pytest.raises(KeyFormatError, match="duplicate"):
        jwt3.Key.from_jwk('{"kty":"oct","k":"%s","kty":"RSA"}'
                          % ("A" * 43))


@pytest.mark.parametrize("payload", [b"[1,2]", b'["sub","admin"]', b"[]",
                                     b'"admin"', b"1", b"null"])
def test_json_array_payload_refused(payload):
    """libjwt accepts a JSON array payload (reference §2.10), on which
    every claim check silently finds nothing.  jwt3 requires an
    object."""
    token = forge({"alg": "HS256"}, payload,
                  lambda data: HMAC.sign("HS256", data))
    with pytest.raises(MalformedError, match="expected a JSON object"):
        jwt3.decode(token, HMAC, ["HS256"])
    module = Module(leeway_sec=0, clock=lambda: NOW)
    assert module.jwt3_verify_key(json.dumps(HMAC.to_jwk(True)), "HS256",
                                  "", token) == -1
    assert module.pv("status") == jwt3.STATUS_MALFORMED


@pytest.mark.parametrize("header", [
    b'{"alg":"HS256"}\x00{"alg":"none"}', b'{"alg":"HS256"}\x00',
    b'{"alg":"HS256\x00none"}', b'{"alg":"HS256\\u0000"}',
    b'{"alg":"HS256","kid":"a\\u0000b"}'])
def test_embedded_nul_in_the_header(header):
    """libjwt parses the decoded header as a C string, so anything
    after a NUL byte is ignored (reference §2.10).  jwt3 refuses a NUL
    anywhere in the header, raw or escaped."""
    token = forge(header, b'{"sub":"admin"}',
                  lambda data: HMAC.sign("HS256", data))
    with pytest.raises((MalformedError, AlgorithmNotAllowedError)):
        jwt3.decode(token, HMAC, ["HS256"])


def test_cve_2024_33664_no_decompression():
    """python-jose inflated "zip": "DEF" content without bound (a
    decompression bomb, CVE-2024-33664, JWE).  jwt3 never inflates:
    a signed token with "zip" is read as it is, so the deflated bytes
    are simply not JSON."""
    bomb = zlib.compress(b'{"a":"' + b"A" * (50 << 20) + b'"}', 9)
    token = forge({"alg": "HS256", "zip": "DEF"}, bomb,
                  lambda data: HMAC.sign("HS256", data))
    started = time.perf_counter()
    with pytest.raises(MalformedError):
        jwt3.decode(token, HMAC, ["HS256"])
    assert time.perf_counter() - started < 2


# -- the Kamailio module (reference §1.9.3, §1.8)

def rsa_jwk(kid, **extra):
    return dict(RSA.public().to_jwk(), kid=kid, **extra)


def ec_jwk(kid):
    return dict(P256.public().to_jwk(), kid=kid)


KAMAILIO_BYPASS_ROWS = [
    # (name, key string, configured alg, token header)
    ("EC PEM, alg typo es256", "pem", "es256", {"alg": "none"}),
    ("EC PEM, wrong family RS256", "pem", "RS256", {"alg": "none"}),
    ("JWK Set file [RSA r1, EC e1], kid e1", "file", "RS256",
     {"alg": "none", "kid": "e1"}),
    ("inline [RSA r1, EC e1], kid e1", "inline", "RS256",
     {"alg": "none", "kid": "e1"}),
    ("[RSA-OAEP enc key, RSA sig key], no kid", "enc-first", "RS256",
     {"alg": "none"}),
    ('body {"foo":1}, no kid', '{"foo":1}', "RS256", {"alg": "none"}),
    ("correct config, EC PEM", "pem", "ES256", {"alg": "none"}),
    ("JWK Set, kid r1 (fits)", "inline", "RS256",
     {"alg": "none", "kid": "r1"}),
    # The same rows with the configured alg in the header and no
    # signature: an empty signature never verifies either.
    ("EC PEM, typo, header es256", "pem", "es256", {"alg": "es256"}),
    ("enc first, header RS256", "enc-first", "RS256", {"alg": "RS256"}),
]


def kamailio_key_string(kind, tmp_path):
    mixed = json.dumps({"keys": [rsa_jwk("r1"), ec_jwk("e1")]})
    if kind == "pem":
        return P256.public().to_pem()
    if kind == "inline":
        return mixed
    if kind == "file":
        path = tmp_path / "keys.json"
        path.write_text(mixed)
        return str(path)
    if kind == "enc-first":
        return json.dumps({"keys": [
            rsa_jwk("enc1", use="enc", alg="RSA-OAEP"), rsa_jwk("sig")]})
    return kind


@pytest.mark.parametrize("name, kind, alg, header", KAMAILIO_BYPASS_ROWS,
                         ids=[row[0] for row in KAMAILIO_BYPASS_ROWS])
def test_kamailio_b1_unusable_key_or_alg_typo_never_verifies_none(
        tmp_path, name, kind, alg, header):
    """The C module ignores a failed jwt_checker_setkey(): with a first
    key that does not fit, a kid naming such a key, or a typo in the
    alg, libjwt is left keyless and verifies {"alg":"none"} tokens
    (bug B1, every row of reference §1.9.3).  Every row fails here.
    Unit tests: test_kamailio.py test_unsigned_tokens_never_verify,
    test_kid_naming_an_unusable_key_never_falls_back."""
    token = forge(header, {"caller": "alice"})
    assert token.endswith(".")
    key_string = kamailio_key_string(kind, tmp_path)
    for leeway in (0, -1):
        module = Module(leeway_sec=leeway, clock=lambda: NOW)
        with _quiet():
            for verify in (module.jwt3_verify_key, module.jwt3_verify):
                assert verify(key_string, alg, "caller='alice'",
                              token) == -1
                assert module.pv("status") not in (jwt3.STATUS_OK,
                                                   jwt3.STATUS_INTERNAL)


GENERATE_ROWS = [
    # (name, key string, alg, signs)
    ("RSA private PEM, RS256 (the README example)", "rsa-pem", "RS256",
     True),
    ("RSA private PEM, PS256", "rsa-pem", "PS256", True),
    ("EC private PEM, ES256", "ec-pem", "ES256", True),
    ("RSA public PEM", "rsa-public", "RS256", False),
    ("EC private PEM, RS256", "ec-pem", "RS256", False),
    ("alg none", "rsa-pem", "none", False),
    ("alg typo", "rsa-pem", "rs256", False),
    ("JWK Set of public keys", "public-set", "RS256", False),
    ("JWK Set, the only key for enc", "enc-set", "HS256", False),
    ("oct key too short", '{"kty":"oct","k":"c2hvcnQ"}', "HS256", False),
    ("empty JWK Set", '{"keys":[]}', "HS256", False),
]


@pytest.mark.parametrize("name, kind, alg, signs", GENERATE_ROWS,
                         ids=[row[0] for row in GENERATE_ROWS])
def test_kamailio_b2_generate_never_emits_an_unsigned_token(
        name, kind, alg, signs):
    """The C module ignores a failed jwt_builder_setkey() and emits an
    unsigned {"alg":"none"} token with return code 1 (bug B2; the
    README's own RSA PEM example hits it, bug B3).  jwt3 signs
    properly or returns -1 with $jwt3(val) unset.  Unit test:
    test_kamailio.py test_generate_failures."""
    secret = jwt3.Key.from_secret(bytes(range(32)))
    key_string = {
        "rsa-pem": RSA.to_pem(private=True),
        "rsa-public": RSA.public().to_pem(),
        "ec-pem": P256.to_pem(private=True),
        "public-set": json.dumps({"keys": [rsa_jwk("a")]}),
        "enc-set": json.dumps({"keys": [
            dict(secret.to_jwk(True), use="enc")]}),
    }.get(kind, kind)
    module = Module(leeway_sec=0, clock=lambda: NOW)
    module._val = "stale"
    result = module.jwt3_generate(key_string, alg, "caller='alice'")
    token = module.pv("val")
    if not signs:
        assert (result, token) == (-1, None)
        return
    assert result == 1, module.pv("error")
    assert jwt3.decode_unverified(token).header["alg"] == alg
    assert not token.endswith(".")
    public_pem = jwt3.load_key(key_string).public().to_pem()
    assert module.jwt3_verify_key(public_pem, alg, "caller='alice'",
                                  token) == 1
