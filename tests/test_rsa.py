"""RSA keys and RSASSA (jwt3 sections 8-10; RFC 8017, RFC 7518).

Keys come from committed fixtures (tests/data/README.md says how they
were made), so only the key generation tests pay for generating keys.
"""

import base64
import copy
import hashlib
import json
import math
import os
import time

import pytest
from hypothesis import example, given, settings, strategies as st

import jwt3
from support import integer_cube_root
from jwt3 import InvalidKeyError, JWTError, KeyFormatError
from vectors import b64u, by_id

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
HASHES = {"256": hashlib.sha256, "384": hashlib.sha384,
          "512": hashlib.sha512}
RS = ("RS256", "RS384", "RS512")
PS = ("PS256", "PS384", "PS512")


def fixture(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


def pem_der(name):
    lines = fixture(name).strip().splitlines()
    return base64.b64decode("".join(lines[1:-1]))


def b64u_int(n):
    raw = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


KEY = jwt3.Key.from_pem(fixture("rsa2048.pkcs8.pem"))
KEY_2057 = jwt3.Key.from_jwk(fixture("rsa2057.jwk.json"))
KEY_E3 = jwt3.Key.from_pem(fixture("rsa2048-e3.pkcs8.pem"))
KEY_1024 = jwt3.Key.from_pem(fixture("rsa1024.pkcs8.pem"))
RFC7515_A2 = by_id("rfc7515", "RFC7515-A.2")


# -- a textbook RSASSA kept here as the differential reference

def textbook_sign(key, em):
    """RSASP1 the slow way: m^d mod n, no CRT, no blinding."""
    m = key._material
    s = pow(int.from_bytes(em, "big"), m.d, m.n)
    return s.to_bytes(m.k, "big")


def pkcs1_em(key, bits, message):
    prefix = jwt3._DIGEST_INFO_PREFIXES[bits]
    t = prefix + HASHES[bits](message).digest()
    k = key._material.k
    return b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def mgf1(seed, length, hash_new):
    out = b""
    counter = 0
    while len(out) < length:
        out += hash_new(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def pss_em(key, bits, message, salt):
    """EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with any salt."""
    hash_new = HASHES[bits]
    em_bits = key.size - 1
    em_len = (em_bits + 7) // 8
    m_hash = hash_new(message).digest()
    h = hash_new(b"\x00" * 8 + m_hash + salt).digest()
    db = b"\x00" * (em_len - len(salt) - len(h) - 2) + b"\x01" + salt
    masked = bytes(a ^ b for a, b in zip(db, mgf1(h, len(db), hash_new)))
    masked = bytes([masked[0] & (0xFF >> (8 * em_len - em_bits))]) \
        + masked[1:]
    return masked + h + b"\xbc"


# -- RFC vectors

def test_rfc7515_a2_resign_byte_for_byte():
    key = jwt3.Key.from_jwk(RFC7515_A2["jwk"])
    data = RFC7515_A2["signing_input"].encode()
    signature = key.sign("RS256", data)
    assert signature == b64u(RFC7515_A2["signature_b64u"])
    assert jwt3.Key.from_jwk(RFC7515_A2["jwk_public"]).verify(
        "RS256", data, signature)


def test_rfc7515_a2_token_decodes():
    claims = jwt3.decode(RFC7515_A2["jws"],
                         jwt3.Key.from_jwk(RFC7515_A2["jwk_public"]),
                         ["RS256"], now=1300819370)
    assert claims["iss"] == "joe"


def test_rfc7520_4_1_byte_for_byte():
    case = by_id("rfc7520", "RFC7520-4.1")
    key = jwt3.Key.from_jwk(case["jwk"])
    data = case["signing_input"].encode()
    assert key.sign("RS256", data) == b64u(case["signature_b64u"])
    assert key.public().verify("RS256", data, b64u(case["signature_b64u"]))


def test_rfc7520_4_2_verify():
    case = by_id("rfc7520", "RFC7520-4.2")
    public = jwt3.Key.from_jwk(case["jwk_public"])
    data = case["signing_input"].encode()
    signature = b64u(case["signature_b64u"])
    assert public.verify("PS384", data, signature)
    assert public.verify("PS384", data, signature, strict=True)
    assert not public.verify("PS256", data, signature)
    assert not public.verify("PS384", data + b".", signature)
    # A fresh signature (random salt) differs and verifies.
    fresh = jwt3.Key.from_jwk(case["jwk"]).sign("PS384", data)
    assert fresh != signature
    assert public.verify("PS384", data, fresh, strict=True)


def rsa_jwk(case_id):
    keys = by_id("rfc7517", case_id)["jwks"]["keys"]
    return [jwk for jwk in keys if jwk["kty"] == "RSA"][0]


def test_rfc7517_a1_a2_keys():
    public = jwt3.Key.from_jwk(rsa_jwk("RFC7517-A.1"))
    private = jwt3.Key.from_jwk(rsa_jwk("RFC7517-A.2"))
    assert (public.size, public.is_private) == (2048, False)
    assert (private.size, private.is_private) == (2048, True)
    assert private.public().to_jwk() == rsa_jwk("RFC7517-A.1")
    assert private.to_jwk(private=True) == rsa_jwk("RFC7517-A.2")


def test_rfc7517_b_certificate():
    jwk = by_id("rfc7517", "RFC7517-B")["jwk"]
    key = jwt3.Key.from_jwk(jwk)
    cert = base64.b64decode(jwk["x5c"][0])
    material = jwt3._certificate_to_material(cert)
    assert (material.n, material.e) == (key._material.n, key._material.e)
    from_der = jwt3.Key.from_der(cert)
    from_pem = jwt3.Key.from_pem(jwt3._pem_encode("CERTIFICATE", cert))
    assert from_der.to_jwk() == from_pem.to_jwk() == {
        "kty": "RSA", "n": jwk["n"], "e": jwk["e"]}


def test_rfc7638_thumbprint():
    case = by_id("rfc7638", "RFC7638-3.1")
    key = jwt3.Key.from_jwk(case["jwk"])
    members = key._material.thumbprint_members()
    assert jwt3._json_dumps(members).decode() == case["thumbprint_input"]
    assert key.thumbprint() == case["thumbprint_b64u"]


# -- key formats

def test_openssl_fixture_formats_agree():
    private = KEY.to_jwk(private=True)
    assert jwt3.Key.from_pem(fixture("rsa2048.pkcs1.pem")).to_jwk(
        private=True) == private
    public = KEY.to_jwk()
    for name in ("rsa2048.spki.pem", "rsa2048.pkcs1-pub.pem",
                 "rsa2048.crt.pem"):
        assert jwt3.Key.from_pem(fixture(name)).to_jwk() == public


@pytest.mark.parametrize("name", ["rsa2048.pkcs8.pem", "rsa2048.spki.pem",
                                  "rsapss2048.pkcs8.pem",
                                  "rsapss2048.spki.pem"])
def test_pem_written_as_openssl_does(name):
    key = jwt3.Key.from_pem(fixture(name))
    assert key.to_pem(private=key.is_private) == fixture(name)


@pytest.mark.parametrize("name, label", [
    ("rsa2048.pkcs1.pem", "RSA PRIVATE KEY"),
    ("rsa2048.pkcs1-pub.pem", "RSA PUBLIC KEY"),
])
def test_pkcs1_written_as_openssl_does(name, label):
    key = jwt3.Key.from_pem(fixture(name))
    assert key._material.to_pkcs1(key.is_private) == (label, pem_der(name))


@pytest.mark.parametrize("key", [KEY, KEY_2057, KEY_E3, KEY_1024],
                         ids=["2048", "2057", "e3", "1024"])
def test_round_trip_every_format(key):
    material = key._material
    for private in (True, False):
        want = key.to_jwk(private)
        encodings = [material.to_der(private), material.to_pkcs1(private)]
        for label, der in encodings:
            assert jwt3.Key.from_der(der).to_jwk(private) == want
            pem = jwt3._pem_encode(label, der)
            assert jwt3.Key.from_pem(pem).to_jwk(private) == want
        assert jwt3.Key.from_jwk(want).to_jwk(private) == want
        assert jwt3.load_key(json.dumps(want)).to_jwk(private) == want


def test_rsaencryption_parameters_absent_or_null():
    n_e = KEY._material.to_pkcs1(False)[1]
    oid = jwt3._der_oid(jwt3._RSA_OID)
    absent = jwt3._der_seq(jwt3._der_seq(oid), jwt3._der_bits(n_e))
    assert jwt3.Key.from_der(absent).to_jwk() == KEY.to_jwk()
    other = jwt3._der_seq(jwt3._der_seq(oid, jwt3._der_int(0)),
                          jwt3._der_bits(n_e))
    with pytest.raises(KeyFormatError, match="parameters must be NULL"):
        jwt3.Key.from_der(other)


def pkcs8_v2(public_der):
    material = KEY._material
    algorithm = jwt3._der_seq(jwt3._der_oid(jwt3._RSA_OID),
                              jwt3._DER_NULL_TLV)
    return jwt3._der_seq(
        jwt3._der_int(1), algorithm,
        jwt3._der_octets(material.to_pkcs1(True)[1]),
        jwt3._der(0x81, b"\x00" + public_der))


def test_pkcs8_v2_public_key_must_match():
    public = KEY._material.to_pkcs1(False)[1]
    assert jwt3.Key.from_der(pkcs8_v2(public)).to_jwk() == KEY.to_jwk()
    other = KEY_2057._material.to_pkcs1(False)[1]
    with pytest.raises(InvalidKeyError, match="publicKey does not match"):
        jwt3.Key.from_der(pkcs8_v2(other))


def test_rsassa_pss_key_is_for_ps_only():
    key = jwt3.Key.from_pem(fixture("rsapss2048.pkcs8.pem"))
    public = jwt3.Key.from_pem(fixture("rsapss2048.spki.pem"))
    assert public.to_jwk() == key.public().to_jwk()
    data = b"pss only"
    for alg in PS:
        assert public.verify(alg, data, key.sign(alg, data))
    for alg in RS:
        assert not key.usable(alg, "sign")
        with pytest.raises(InvalidKeyError, match="RSASSA-PSS key cannot"):
            public.verify(alg, data, b"\x00" * 256)


def test_rsassa_pss_key_with_parameters_refused():
    with pytest.raises(InvalidKeyError, match="RSASSA-PSS key parameters"):
        jwt3.Key.from_pem(fixture("rsapss2048-sha256.pkcs8.pem"))


@pytest.mark.parametrize("name", ["rsa2048-3primes.pkcs1.pem",
                                  "rsa2048-3primes.pkcs8.pem"])
def test_multi_prime_der_refused(name):
    with pytest.raises(InvalidKeyError, match="multi-prime"):
        jwt3.Key.from_pem(fixture(name))


def rsa_private_der(version, count=9):
    ints = [version] + [KEY._material.n] * (count - 1)
    return jwt3._der_seq(*[jwt3._der_int(i) for i in ints])


@pytest.mark.parametrize("version, count", [(2, 9), (0, 10)])
def test_pkcs1_private_version(version, count):
    with pytest.raises(KeyFormatError, match="expected version 0 with 9"):
        jwt3._rsa_from_pkcs1_private(rsa_private_der(version, count))


def test_der_with_trailing_bytes_or_long_lengths():
    label, der = KEY._material.to_der(False)
    with pytest.raises(KeyFormatError, match="bytes after"):
        jwt3.Key.from_der(der + b"\x00")
    # The outer length 0x82 0x01 0x22 re-encoded with a zero octet.
    assert der[:2] == b"\x30\x82"
    padded = b"\x30\x83\x00" + der[2:]
    with pytest.raises(KeyFormatError, match="not minimal"):
        jwt3.Key.from_der(padded)
    # A modulus INTEGER with a superfluous leading zero octet.
    n_e = jwt3._der_seq(b"\x02\x82\x01\x02\x00" + jwt3._der_int(
        KEY._material.n)[4:], jwt3._der_int(65537))
    with pytest.raises(KeyFormatError, match="not minimally encoded"):
        jwt3.Key.from_der(n_e)


@settings(max_examples=40)
@given(st.sampled_from(["rsa2048.pkcs8.pem", "rsa2048.spki.pem",
                        "rsa2048.pkcs1.pem", "rsa2048.crt.pem"]),
       st.data())
def test_mangled_der_raises_only_jwt_errors(name, data):
    der = bytearray(pem_der(name))
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(der) - 1))
        der[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(der)))
    try:
        jwt3.Key.from_der(bytes(der[:cut]))
    except JWTError:
        pass


# -- JWK

@settings(max_examples=40)
@given(st.sampled_from(["n", "e", "d", "p", "q", "dp", "dq", "qi", "kty",
                        "oth"]),
       st.one_of(st.none(), st.integers(), st.text(max_size=20),
                 st.binary(max_size=40).map(
                     lambda raw: base64.urlsafe_b64encode(raw).rstrip(
                         b"=").decode())),
       st.booleans())
@example("e", "AAAD", False)    # e = 3 with a leading zero octet: valid
@example("n", "", False)
def test_mangled_jwk_raises_only_jwt_errors(name, value, private):
    jwk = KEY.to_jwk(private=private)
    if value is None:
        jwk.pop(name, None)
    else:
        jwk[name] = value
    try:
        jwt3.Key.from_jwk(jwk)
    except JWTError:
        pass

def test_jwk_members_minimal_and_leading_zeros_accepted():
    jwk = KEY.to_jwk(private=True)
    assert list(jwk) == ["kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"]
    padded = dict(jwk)
    for name in ("n", "e", "d", "p"):
        raw = b"\x00" + b64u(jwk[name])
        padded[name] = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    key = jwt3.Key.from_jwk(padded)
    assert key.to_jwk(private=True) == jwk
    assert key.thumbprint() == KEY.thumbprint()


def test_private_jwk_from_n_e_d_only():
    full = rsa_jwk("RFC7517-A.2")
    bare = {name: full[name] for name in ("kty", "n", "e", "d")}
    assert jwt3.Key.from_jwk(bare).to_jwk(private=True) == {
        name: full[name] for name in ("kty", "n", "e", "d", "p", "q",
                                      "dp", "dq", "qi")}


def test_prime_recovery_differential():
    # The 2057-bit key has p > q; recovery must find the same pair.
    jwk = KEY_2057.to_jwk(private=True)
    bare = {name: jwk[name] for name in ("kty", "n", "e", "d")}
    assert jwt3.Key.from_jwk(bare).to_jwk(private=True) == jwk


def test_prime_recovery_refuses_bad_d():
    jwk = KEY.to_jwk(private=True)
    d = KEY._material.d
    for bad_d in (d + 2, 2):    # odd but wrong; even (de - 1 odd)
        bare = {"kty": "RSA", "n": jwk["n"], "e": jwk["e"],
                "d": b64u_int(bad_d)}
        with pytest.raises(InvalidKeyError, match="not a private exp"):
            jwt3.Key.from_jwk(bare)


@pytest.mark.parametrize("d", [0, "n", "huge"])
def test_prime_recovery_d_out_of_range(d):
    n = KEY._material.n
    d = {"n": n, "huge": 1 << 100000}.get(d, d)
    bare = {"kty": "RSA", "n": b64u_int(n), "e": "AQAB", "d": b64u_int(d)}
    with pytest.raises(InvalidKeyError, match="d is not between 0 and n"):
        jwt3.Key.from_jwk(bare)


def bare_jwk(n, e, d):
    return {"kty": "RSA", "n": b64u_int(n), "e": b64u_int(e),
            "d": b64u_int(d)}


def test_prime_recovery_refuses_a_prime_modulus_at_once():
    # n prime: every g is a Miller-Rabin liar, so no try could split
    # n; one probable-prime test (one exponentiation) stands in for a
    # hundred tries.  2^3217 - 1 is a Mersenne prime; the time bound
    # only guards against a hang.
    n = (1 << 3217) - 1
    started = time.perf_counter()
    with pytest.raises(InvalidKeyError, match="the modulus is prime"):
        jwt3.Key.from_jwk(bare_jwk(n, 11, pow(11, -1, n - 1)))
    assert time.perf_counter() - started < 2


def test_prime_recovery_gives_up_after_every_try(monkeypatch):
    # Step 4 of the recovery, reached only when every try fails: with
    # the primality test disabled, a prime modulus gets there.
    monkeypatch.setattr(jwt3, "_is_probable_prime_vartime",
                        lambda w, rounds: False)
    n = (1 << 127) - 1
    with pytest.raises(InvalidKeyError, match="cannot recover p and q"):
        jwt3.Key.from_jwk(bare_jwk(n, 5, pow(5, -1, n - 1)))


@pytest.mark.parametrize("power", [2, 3])
def test_prime_recovery_refuses_a_prime_power(power):
    # n = p^k with d valid modulo lambda(n) = p^(k-1) (p - 1): the
    # group is cyclic, so no try could split n either; p divides
    # de - 1 and the common factor shows it.  (Before, the split
    # factors shared p and pow(q, -1, p) raised ValueError.)
    p = (1 << 521) - 1
    n = p ** power
    e = 3 if math.gcd(3, p - 1) == 1 else 7
    d = pow(e, -1, p ** (power - 1) * (p - 1))
    with pytest.raises(InvalidKeyError, match="two distinct primes"):
        jwt3.Key.from_jwk(bare_jwk(n, e, d))


def test_jwk_set_bounds_prime_recoveries():
    # Choice (section 6): at most _MAX_JWKS_RECOVERIES keys of a set
    # need their primes recovered; the rest are skipped, so a set of
    # 256 such keys (about 2 minutes at 4096 bits) loads at once.
    full = rsa_jwk("RFC7517-A.2")
    bare = {name: full[name] for name in ("kty", "n", "e", "d")}
    limit = jwt3._MAX_JWKS_RECOVERIES
    keyset = jwt3.KeySet.from_jwks({"keys": [bare] * (limit + 1) + [full]})
    assert len(keyset) == limit + 1
    assert keyset.skipped == [(limit, "more than %d RSA private keys"
                                      " without p, q, dp, dq and qi"
                                      % limit)]
    started = time.perf_counter()
    keyset = jwt3.KeySet.from_jwks({"keys": [bare] * 256})
    assert len(keyset) == limit and len(keyset.skipped) == 256 - limit
    assert time.perf_counter() - started < 2


def test_prime_recovery_bounds_n_and_e_first():
    # Choice (section 8): recovery only up to _RSA_MAX_RECOVER_BITS;
    # and n and e pass the public-key checks before any
    # exponentiation, whose cost grows with the bits of d * e (an e of
    # 100000 bits took a second, a 1 MiB one a minute).
    limit = jwt3._RSA_MAX_RECOVER_BITS
    n = (1 << (limit + 7)) + 1
    with pytest.raises(InvalidKeyError, match="limited to %d-bit" % limit):
        jwt3.Key.from_jwk(bare_jwk(n, 65537, 12345))
    n = KEY._material.n
    for e, reason in (((1 << 100000) + 1, "not smaller than the modulus"),
                      ((1 << 40) + 1, "more than 33"),
                      (65536, "odd")):
        started = time.perf_counter()
        with pytest.raises(InvalidKeyError, match=reason):
            jwt3.Key.from_jwk(bare_jwk(n, e, KEY._material.d))
        assert time.perf_counter() - started < 2


@pytest.mark.parametrize("change, error, reason", [
    ({"oth": []}, InvalidKeyError, "multi-prime"),
    ({"n": None}, KeyFormatError, 'without "n"'),
    ({"e": None}, KeyFormatError, 'without "e"'),
    ({"e": 65537}, KeyFormatError, "expected a base64url string"),
    ({"dq": None}, KeyFormatError, 'not "dq"'),
    ({"p": None, "q": None}, KeyFormatError, 'not "p", "q"'),
    ({"d": None}, KeyFormatError, 'with "p" but no "d"'),
])
def test_bad_private_jwk(change, error, reason):
    jwk = KEY.to_jwk(private=True)
    for name, value in change.items():
        if value is None:
            del jwk[name]
        else:
            jwk[name] = value
    with pytest.raises(error, match=reason):
        jwt3.Key.from_jwk(jwk)


# -- validation on load

def public_jwk(n, e):
    return {"kty": "RSA", "n": b64u_int(n), "e": b64u_int(e)}


@pytest.mark.parametrize("n, e, reason", [
    ((1 << 16384) + 1, 65537, "16385 bits: more than the 16384-bit"),
    (KEY._material.n + 1, 65537, "modulus is even"),
    (KEY._material.n, 65536, "odd and at least 3"),
    (KEY._material.n, 1, "odd and at least 3"),
    (35, 37, "not smaller than the modulus"),
    (35, 35, "not smaller than the modulus"),
    (KEY._material.n, (1 << 33) + 1, "34 bits: more than 33"),
], ids=["too-large", "n-even", "e-even", "e-1", "e-above-n", "e-equals-n",
        "e-too-long"])
def test_public_key_refused(n, e, reason):
    with pytest.raises(InvalidKeyError, match=reason):
        jwt3.Key.from_jwk(public_jwk(n, e))


def test_size_limit_is_inclusive():
    n = (1 << 16384) - 1
    assert jwt3.Key.from_jwk(public_jwk(n, 65537)).size == 16384


def private_members():
    m = KEY._material
    return dict(n=m.n, e=m.e, d=m.d, p=m.p, q=m.q, dp=m.dp, dq=m.dq,
                qi=m.qi)


@pytest.mark.parametrize("change, reason", [
    ({"p": 1}, "n is not p \\* q"),
    ({"q": 3}, "n is not p \\* q"),
    ({"p": "huge", "q": "huge"}, "n is not p \\* q"),
    ({"d": "d+2"}, "d is not the inverse"),
    ({"d": 0}, "d is not the inverse"),
    ({"dp": "dp+1"}, "dp, dq or qi does not match"),
    ({"dq": "dq+q-1"}, "dp, dq or qi does not match"),
    ({"qi": "qi+p"}, "dp, dq or qi does not match"),
    ({"qi": 0}, "dp, dq or qi does not match"),
])
def test_inconsistent_private_key_refused(change, reason):
    members = private_members()
    m = KEY._material
    computed = {"d+2": m.d + 2, "dp+1": m.dp + 1,
                "dq+q-1": m.dq + m.q - 1, "qi+p": m.qi + m.p,
                "huge": 1 << 10 ** 6}
    for name, value in change.items():
        members[name] = computed.get(value, value)
    with pytest.raises(InvalidKeyError, match=reason):
        jwt3._RSAMaterial(**members)


def test_d_modulo_phi_accepted():
    # Older encoders compute d modulo phi(n) instead of lambda(n).
    m = KEY._material
    phi = (m.p - 1) * (m.q - 1)
    d = pow(m.e, -1, phi)
    material = jwt3._RSAMaterial(m.n, m.e, d, m.p, m.q, d % (m.p - 1),
                                 d % (m.q - 1), m.qi)
    key = jwt3.Key(material)
    assert KEY.verify("RS256", b"x", key.sign("RS256", b"x"))


# -- RSASSA-PKCS1-v1_5 and RSASSA-PSS

@pytest.mark.parametrize("alg", RS + PS)
def test_1024_bit_key_refused(alg):
    reason = "%s needs a modulus of at least 2048 bits, got 1024" % alg
    with pytest.raises(InvalidKeyError, match=reason):
        KEY_1024.sign(alg, b"data")
    with pytest.raises(InvalidKeyError, match=reason):
        KEY_1024.public().verify(alg, b"data", b"\x00" * 128)
    assert not KEY_1024.usable(alg, "verify")


@settings(max_examples=15)
@given(st.binary(max_size=300), st.sampled_from(RS))
def test_pkcs1_matches_textbook(message, alg):
    signature = KEY.sign(alg, message)
    assert signature == textbook_sign(KEY, pkcs1_em(KEY, alg[2:], message))
    assert KEY.public().verify(alg, message, signature)


@settings(max_examples=20)
@given(st.binary(max_size=300), st.sampled_from(RS + PS),
       st.sampled_from([KEY, KEY_2057, KEY_E3]))
def test_sign_verify_round_trip(message, alg, key):
    signature = key.sign(alg, message)
    public = key.public()
    assert len(signature) == key._material.k
    assert public.verify(alg, message, signature, strict=True)
    assert not public.verify(alg, message + b"\x00", signature)
    other = {"256": "384", "384": "512", "512": "256"}[alg[2:]]
    assert not public.verify(alg[:2] + other, message, signature)


@settings(max_examples=25)
@given(st.binary(max_size=100), st.sampled_from(PS),
       st.sampled_from([KEY, KEY_2057]), st.data())
@example(b"", "PS256", KEY, None)
def test_pss_any_salt_length(message, alg, key, data):
    h_len = HASHES[alg[2:]]().digest_size
    em_len = (key.size - 1 + 7) // 8
    if data is None:
        s_len = 0
    else:
        s_len = data.draw(st.sampled_from(
            [0, 1, h_len - 1, h_len, h_len + 1, em_len - h_len - 2])
            | st.integers(0, em_len - h_len - 2))
    salt = os.urandom(s_len)
    signature = textbook_sign(key, pss_em(key, alg[2:], message, salt))
    assert key.verify(alg, message, signature)
    assert key.verify(alg, message, signature, strict=True) == (
        s_len == h_len)


def test_pss_encoded_message_mangled():
    message = b"pss"
    salt = b"\x5a" * 32
    em = bytearray(pss_em(KEY, "256", message, salt))
    assert KEY.verify("PS256", message, textbook_sign(KEY, bytes(em)))
    em_len = len(em)
    db_len = em_len - 32 - 1
    h = bytes(em[db_len:-1])
    mask = mgf1(h, db_len, hashlib.sha256)

    def refused(encoded):
        assert not KEY.verify("PS256", message,
                              textbook_sign(KEY, bytes(encoded)))

    trailer = bytearray(em)
    trailer[-1] = 0xBD                       # §9.1.2 step 4
    refused(trailer)
    top = bytearray(em)
    top[0] |= 0x80                           # step 6: leftmost bit set
    refused(top)
    no_one = bytearray(em)                   # step 10: 0x01 -> 0x02
    index = db_len - len(salt) - 1
    no_one[index] ^= 0x03
    refused(no_one)
    all_zero = bytearray(a ^ b for a, b in zip(bytes(db_len), mask))
    all_zero[0] &= 0x7F
    refused(all_zero + em[db_len:])          # DB entirely zeros
    refused(bytes(em[:-2]) + bytes([em[-2] ^ 1, 0xBC]))   # H changed


def test_pss_representative_too_long_for_em():
    # 2057-bit key: emLen = k - 1, so m >= 256^emLen is refused at
    # I2OSP (§8.1.2 step 2.c).  s = n - 1 gives m = n - 1 (e odd).
    material = KEY_2057._material
    assert (material.size - 1 + 7) // 8 == material.k - 1
    signature = (material.n - 1).to_bytes(material.k, "big")
    assert not KEY_2057.verify("PS256", b"x", signature)


def pkcs1_variants(message):
    """Encoded messages that are close to right but wrong (RFC 8017
    §9.2), each with the same length k."""
    k = KEY._material.k
    digest = hashlib.sha256(message).digest()
    prefix = jwt3._DIGEST_INFO_PREFIXES["256"]
    without_null = bytes.fromhex("302f300b0609608648016503040201"
                                 "0420")
    wrong_oid = prefix.replace(bytes.fromhex("040201"),
                               bytes.fromhex("040202"))

    def em(t, ps_len=None, block=b"\x00\x01", fill=b"\xff"):
        if ps_len is None:
            ps_len = k - len(t) - 3
        body = block + fill * ps_len + b"\x00" + t
        return body.rjust(k, b"\x00") if len(body) < k else body

    return {
        "wrong hash OID": em(wrong_oid + digest),
        "SHA-384 DigestInfo": em(jwt3._DIGEST_INFO_PREFIXES["384"]
                                 + hashlib.sha384(message).digest()),
        "missing NULL": em(without_null + digest),
        "extra bytes after the hash": em(prefix + digest + b"\x00\x00"),
        "short padding": em(prefix + digest, ps_len=7)[:k],
        "block type 2": em(prefix + digest, block=b"\x00\x02"),
        "padding not 0xff": em(prefix + digest, fill=b"\xfe"),
        "hash truncated": em(prefix[:-1] + b"\x1f" + digest[:31]),
    }


@pytest.mark.parametrize("variant", sorted(pkcs1_variants(b"")))
def test_pkcs1_modified_encoded_message(variant):
    message = b"modified"
    em = pkcs1_variants(message)[variant]
    assert len(em) == KEY._material.k
    assert em != pkcs1_em(KEY, "256", message)
    assert not KEY.verify("RS256", message, textbook_sign(KEY, em))


def lenient_pkcs1_check(n, e, message, signature):
    """The broken verifier of CVE-2006-4339: it parses the block and
    never looks past the hash."""
    k = (n.bit_length() + 7) // 8
    em = pow(int.from_bytes(signature, "big"), e, n).to_bytes(k, "big")
    if em[:2] != b"\x00\x01":
        return False
    end = em.index(b"\x00", 2)
    t = jwt3._DIGEST_INFO_PREFIXES["256"] + hashlib.sha256(message).digest()
    return em[end + 1:end + 1 + len(t)] == t


def test_cve_2006_4339_e3_forgery_refused():
    # Bleichenbacher's e = 3 forgery: no private key, only a cube root.
    # EM = 00 01 ff*8 00 DigestInfo H garbage, and the garbage leaves
    # room for a perfect cube.
    material = KEY_E3.public()._material
    assert material.e == 3
    message = b"forged"
    t = jwt3._DIGEST_INFO_PREFIXES["256"] + hashlib.sha256(message).digest()
    fixed = b"\x00\x01" + b"\xff" * 8 + b"\x00" + t
    garbage_bits = 8 * (material.k - len(fixed))
    low = int.from_bytes(fixed, "big") << garbage_bits
    high = low + (1 << garbage_bits) - 1
    s = integer_cube_root(high)
    assert low <= s ** 3 <= high < material.n
    forged = s.to_bytes(material.k, "big")

    assert lenient_pkcs1_check(material.n, 3, message, forged)
    assert not KEY_E3.public().verify("RS256", message, forged)
    # A genuine signature with this e = 3 key verifies.
    genuine = KEY_E3.sign("RS256", message)
    assert KEY_E3.public().verify("RS256", message, genuine)


@pytest.mark.parametrize("alg", RS + PS)
def test_signature_length_and_range(alg):
    message = b"length"
    signature = KEY.sign(alg, message)
    public = KEY.public()
    assert not public.verify(alg, message, signature[1:])
    assert not public.verify(alg, message, b"\x00" + signature)
    assert not public.verify(alg, message, signature + b"\x00")
    assert not public.verify(alg, message, b"")
    # s >= n is out of range (RFC 8017 §5.2.2), even as k octets.
    n = KEY._material.n
    assert not public.verify(alg, message, n.to_bytes(256, "big"))
    assert not public.verify(alg, message, b"\xff" * 256)


@settings(max_examples=30)
@given(st.sampled_from(RS + PS), st.data())
def test_mangled_signature_is_false(alg, data):
    message = b"mangle me"
    signature = bytearray(SIGNATURES[alg])
    mangle = data.draw(st.sampled_from(["flip", "cut", "extend"]))
    if mangle == "flip":
        index = data.draw(st.integers(0, len(signature) - 1))
        signature[index] ^= data.draw(st.integers(1, 255))
    elif mangle == "cut":
        del signature[data.draw(st.integers(0, len(signature) - 1)):]
    else:
        signature += data.draw(st.binary(min_size=1, max_size=3))
    assert KEY.verify(alg, message, bytes(signature)) is False


SIGNATURES = {alg: KEY.sign(alg, b"mangle me") for alg in RS + PS}


def test_fault_guard():
    # A corrupted CRT value gives a wrong half; the signature must not
    # leave (it would reveal a prime).
    material = copy.copy(KEY._material)
    material.dp ^= 2
    with pytest.raises(InvalidKeyError, match="^internal error: RSA sign"):
        jwt3.Key(material).sign("RS256", b"fault")
    with pytest.raises(InvalidKeyError, match="^internal error"):
        jwt3.Key(material).sign("PS256", b"fault")


def test_blinding_is_fresh_per_signature(monkeypatch):
    drawn = []
    randbelow = jwt3.secrets.randbelow

    def recording_randbelow(bound):
        value = randbelow(bound)
        drawn.append((bound, value))
        return value

    monkeypatch.setattr(jwt3.secrets, "randbelow", recording_randbelow)
    first = KEY.sign("RS256", b"same")
    second = KEY.sign("RS256", b"same")
    # Deterministic output, yet a new blinding value each time.
    assert first == second
    n = KEY._material.n
    assert len(drawn) == 2 and drawn[0][0] == drawn[1][0] == n - 2
    assert drawn[0][1] != drawn[1][1]


def test_sign_options_are_type_errors():
    with pytest.raises(TypeError):
        KEY.sign("RS256", b"x", salt_length=0)


# -- JWT level

@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_encode_decode(alg):
    claims = {"sub": "alice", "n": 1}
    token = jwt3.encode(claims, KEY, alg)
    assert jwt3.decode(token, KEY.public(), [alg]) == claims
    # PEM text works as the key (public, certificate or private PEM).
    for name in ("rsa2048.spki.pem", "rsa2048.crt.pem",
                 "rsa2048.pkcs1.pem"):
        assert jwt3.decode(token, fixture(name), [alg]) == claims
    with pytest.raises(jwt3.InvalidSignatureError):
        jwt3.decode(token, KEY_2057.public().to_pem(), [alg])


def test_decode_picks_rsa_key_by_kid():
    jwks = {"keys": [dict(KEY_2057.to_jwk(), kid="a"),
                     dict(KEY.to_jwk(), kid="b")]}
    token = jwt3.encode({"x": 1}, KEY, "RS384", headers={"kid": "b"})
    assert jwt3.decode(token, jwks, ["RS384"]) == {"x": 1}
    assert jwt3.decode(token, json.dumps(jwks), ["RS384"]) == {"x": 1}


def test_rsa_key_is_never_an_hmac_secret():
    case = by_id("libjwt", "LIBJWT-GHSA-q843-6q5f-w55g")
    with pytest.raises(InvalidKeyError):
        jwt3.decode(case["jws"], KEY.public(), ["HS256"])


# -- key generation

@pytest.fixture(scope="module")
def generated():
    return jwt3.generate_key("RS256")


def test_generate_default(generated):
    material = generated._material
    assert (generated.size, material.e, generated.alg) == (2048, 65537,
                                                           "RS256")
    assert generated.kid == generated.thumbprint()
    # FIPS 186-5 A.1.3: |p - q| > 2^(nlen/2 - 100), d > 2^(nlen/2).
    assert abs(material.p - material.q) > 1 << (1024 - 100)
    assert material.d > 1 << 1024
    assert material.p.bit_length() == material.q.bit_length() == 1024
    assert generated.verify("RS256", b"m", generated.sign("RS256", b"m"))
    again = jwt3.Key.from_pem(generated.to_pem(private=True))
    assert again.to_jwk(private=True) == jwt3.Key(
        generated._material).to_jwk(private=True)


def test_generate_3072_for_pss():
    key = jwt3.generate_key("PS384", bits=3072)
    assert (key.size, key.alg) == (3072, "PS384")
    assert key.verify("PS384", b"m", key.sign("PS384", b"m"), strict=True)


@pytest.mark.parametrize("bits", [1024, 2047, 2052, 16392])
def test_generate_bad_size(bits):
    with pytest.raises(ValueError, match="2048 to 16384 bits"):
        jwt3.generate_key("RS256", bits=bits)


def test_generate_with_curve():
    with pytest.raises(ValueError, match="no curve"):
        jwt3.generate_key("PS256", crv="P-256")


def test_miller_rabin_rounds():
    # HAC Fact 4.48 plus one: 5 rounds at 1024 bits, 4 from 1536.
    assert jwt3._miller_rabin_rounds(1024) == 5
    assert jwt3._miller_rabin_rounds(1536) == 4
    assert jwt3._miller_rabin_rounds(8192) == 4


def test_miller_rabin():
    primes = [5, 7, 65537, (1 << 127) - 1, (1 << 521) - 1,
              KEY._material.p, KEY._material.q]
    # Carmichael numbers and strong pseudoprimes to base 2.
    composites = [9, 561, 1105, 2047, 3215031751, 3825123056546413051,
                  KEY._material.n, ((1 << 127) - 1) * ((1 << 89) - 1)]
    for w in primes:
        assert jwt3._is_probable_prime_vartime(w, 20)
    for w in composites:
        assert not jwt3._is_probable_prime_vartime(w, 20)


def test_small_primes_product():
    limit = jwt3._SMALL_PRIMES_LIMIT
    odd_primes = [w for w in range(3, limit, 2)
                  if all(w % f for f in range(3, math.isqrt(w) + 1, 2))]
    assert jwt3._odd_primes_product() == math.prod(odd_primes)


def test_public_material_has_no_pkcs1_private_form():
    with pytest.raises(jwt3.InvalidKeyError, match="no private part"):
        KEY.public()._material.to_pkcs1(True)
