"""Sections 13-14: EC keys and ECDSA (ES256, ES384, ES512, ES256K)."""

import base64
import hashlib
import hmac

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import jwt3
from vectors import b64u, by_id, params

ALGS = {"ES256": (jwt3._P256, "sha256"), "ES384": (jwt3._P384, "sha384"),
        "ES512": (jwt3._P521, "sha512"),
        "ES256K": (jwt3._SECP256K1, "sha256")}
HASHES = {"SHA-1": "sha1", "SHA-224": "sha224", "SHA-256": "sha256",
          "SHA-384": "sha384", "SHA-512": "sha512"}

# The RFC 6979 A.2.5 P-256 key in the forms OpenSSL 3 writes (made with
# `openssl ec` from the key of vectors/rfc6979.json); the last one has
# explicit curve parameters (-param_enc explicit).
SEC1_P256 = """-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIMmvqdhFunUWa1whV2ex1pNOUMPbNuibEnuKYisSD2choAoGCCqGSM49
AwEHoUQDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Z5A/4QCLi8
maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==
-----END EC PRIVATE KEY-----
"""
PKCS8_P256 = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgya+p2EW6dRZrXCFX
Z7HWk05Qw9s26JsSe4piKxIPZyGhRANCAARg/tS6JVqdMclh63TGNW1owEm4kjth
+mzmaWIuYPKftnkD/hAIuLyZpBrp6VYovGTy8bIMLX6fUXejwpTURiKZ
-----END PRIVATE KEY-----
"""
SPKI_P256 = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7
Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==
-----END PUBLIC KEY-----
"""
SPKI_P256_COMPRESSED = """-----BEGIN PUBLIC KEY-----
MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADYP7UuiVanTHJYet0xjVtaMBJuJI7
Yfps5mliLmDyn7Y=
-----END PUBLIC KEY-----
"""
SEC1_P256_EXPLICIT = """-----BEGIN EC PRIVATE KEY-----
MIIBaAIBAQQgya+p2EW6dRZrXCFXZ7HWk05Qw9s26JsSe4piKxIPZyGggfowgfcC
AQEwLAYHKoZIzj0BAQIhAP////8AAAABAAAAAAAAAAAAAAAA////////////////
MFsEIP////8AAAABAAAAAAAAAAAAAAAA///////////////8BCBaxjXYqjqT57Pr
vVV2mIa8ZR0GsMxTsPY7zjw+J9JgSwMVAMSdNgiG5wSTamZ44ROdJreBn36QBEEE
axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpZP40Li/hp/m47n60p8D54W
K84zV2sxXs7LtkBoN79R9QIhAP////8AAAAA//////////+85vqtpxeehPO5ysL8
YyVRAgEBoUQDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Z5A/4Q
CLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==
-----END EC PRIVATE KEY-----
"""
# The python-ecdsa test-suite secp256k1 key of vectors/es256k.json.
SEC1_SECP256K1 = """-----BEGIN EC PRIVATE KEY-----
MHQCAQEEIPi4r4zjx8yl4wDTOTlUDBDUXOABuPJSv7xXugNCkEGBoAcGBSuBBAAK
oUQDQgAEkt97JFuBqmN6tOhnyNURAI95FhqX1k8qxwlgA1L3rLzpv98bE/oMsd5F
IeU4bN46HNJsWrWEmJ0Hu+1YpUGfYg==
-----END EC PRIVATE KEY-----
"""
P256_D = 0xc9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721


def der_of(pem):
    body = "".join(pem.strip().splitlines()[1:-1])
    return base64.b64decode(body)


def jose_sig(r, s, size):
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def key_for(alg, d):
    curve = ALGS[alg][0]
    return jwt3.Key(jwt3._ec_private(curve, d, None, "test"))


# -- RFC 6979 (a textbook HMAC-DRBG kept here for the §3.6 option)

def textbook_rfc6979(curve, d, h1, hash_name, extra=b"", count=False):
    """RFC 6979 §3.2 step by step: the first k in range (and, with
    ``count``, how many candidates were drawn)."""
    qlen, rlen = curve.bits, (curve.bits + 7) // 8

    def bits2int(b):
        v = int.from_bytes(b, "big")
        return v >> max(0, 8 * len(b) - qlen)

    x = d.to_bytes(rlen, "big")
    h = (bits2int(h1) % curve.n).to_bytes(rlen, "big")
    hlen = hashlib.new(hash_name).digest_size
    V, K = b"\x01" * hlen, b"\x00" * hlen
    K = hmac.new(K, V + b"\x00" + x + h + extra, hash_name).digest()
    V = hmac.new(K, V, hash_name).digest()
    K = hmac.new(K, V + b"\x01" + x + h + extra, hash_name).digest()
    V = hmac.new(K, V, hash_name).digest()
    draws = 0
    while True:
        T = b""
        while len(T) * 8 < qlen:
            V = hmac.new(K, V, hash_name).digest()
            T += V
        k = bits2int(T)
        draws += 1
        if 1 <= k < curve.n:
            return (k, draws) if count else k
        K = hmac.new(K, V + b"\x00", hash_name).digest()
        V = hmac.new(K, V, hash_name).digest()


@pytest.mark.parametrize("case", params("rfc6979"))
def test_rfc6979_nonce(case):
    """RFC 6979 A.2.5-A.2.7: k, r and s exact for every hash pairing."""
    curve = jwt3._CURVES[case["curve"]]
    hash_name = HASHES[case["hash"]]
    d = int(case["private_key_hex"], 16)
    h1 = hashlib.new(hash_name, bytes.fromhex(case["message_hex"])).digest()

    k = next(jwt3._rfc6979_nonces(curve, d, h1, hash_name))
    assert k == int(case["k_hex"], 16)
    r, s = jwt3._ecdsa_sign(curve, d, h1, hash_name)
    assert (r, s) == (int(case["r_hex"], 16), int(case["s_hex"], 16))

    x, y = int(case["public_key_x_hex"], 16), int(case["public_key_y_hex"],
                                                    16)
    assert jwt3._mul_base(curve, d) == (x, y)
    assert jwt3._ecdsa_verify_vartime(curve, x, y, h1, r, s)


@pytest.mark.parametrize("case", params("rfc6979", jose_combination=True))
def test_rfc6979_through_key_sign(case):
    key = jwt3.Key.from_jwk(case["jwk_derived"])
    alg = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[
        case["curve"]]
    message = bytes.fromhex(case["message_hex"])
    signature = key.sign(alg, message)
    assert jwt3._b64u_encode(signature) == \
        case["signature_jose_b64u_derived"]
    assert key.public().verify(alg, message, signature)


@pytest.mark.parametrize("case", params("es256k"))
def test_es256k_vectors(case):
    if "jws" in case:
        key = jwt3.Key.from_jwk(case["jwk"])
        data = case["signing_input"].encode()
        signature = b64u(case["signature_b64u"])
        public = jwt3.Key.from_jwk(case["jwk_public"])
        assert public.verify("ES256K", data, signature)
        assert public.verify("ES256K", data, signature, strict=True) \
            == case["s_is_low"]
        reproducible = case["expected"]["signature_reproducible_with_rfc6979"]
        assert (key.sign("ES256K", data) == signature) == reproducible
        if reproducible:
            curve = jwt3._SECP256K1
            k = next(jwt3._rfc6979_nonces(
                curve, key._material.d, hashlib.sha256(data).digest(),
                "sha256"))
            assert k == int(case["k_hex"], 16)
    else:
        curve = jwt3._SECP256K1
        d = int(case["private_key_hex"], 16)
        h1 = hashlib.sha256(bytes.fromhex(case["message_hex"])).digest()
        assert next(jwt3._rfc6979_nonces(curve, d, h1, "sha256")) == \
            int(case["k_hex"], 16)
        r, s = jwt3._ecdsa_sign(curve, d, h1, "sha256")
        assert (r, s) == (int(case["r_hex_computed"], 16),
                          int(case["s_hex_computed"], 16))
        assert jwt3._mul_base(curve, d) == (
            int(case["public_key_x_hex"], 16),
            int(case["public_key_y_hex"], 16))


def test_es256k_high_s_policy():
    """High S is accepted by default and refused with strict, in
    Key.verify and in decode."""
    case = by_id("es256k", "GENERATED-ES256K-1-high-s")
    public = jwt3.Key.from_jwk(case["jwk_public"])
    assert not case["s_is_low"]
    assert jwt3.decode(case["jws"], public, ["ES256K"], now=0)["iss"] \
        == "joe"
    with pytest.raises(jwt3.InvalidSignatureError):
        jwt3.decode(case["jws"], public, ["ES256K"], now=0, strict=True)


@settings(max_examples=10)
@given(extra=st.binary(min_size=1, max_size=64),
       message=st.binary(max_size=100))
def test_extra_entropy_rfc6979_3_6(extra, message):
    """RFC 6979 §3.6: k' appended to the DRBG seed, against the
    textbook DRBG above."""
    curve = jwt3._P256
    h1 = hashlib.sha256(message).digest()
    k = next(jwt3._rfc6979_nonces(curve, P256_D, h1, "sha256", extra))
    assert k == textbook_rfc6979(curve, P256_D, h1, "sha256", extra)
    assert k != textbook_rfc6979(curve, P256_D, h1, "sha256")

    key = key_for("ES256", P256_D)
    plain = key.sign("ES256", message)
    hedged = key.sign("ES256", message, extra_entropy=extra)
    assert hedged != plain
    assert hedged == key.sign("ES256", message,
                              extra_entropy=bytearray(extra))
    assert key.verify("ES256", message, hedged)


def test_sign_function_refuses_public_material():
    # Key.sign checks first; the algorithm checks again on its own.
    material = jwt3.Key.from_pem(SPKI_P256)._material
    with pytest.raises(jwt3.InvalidKeyError):
        jwt3._ALGORITHMS["ES256"].sign(material, b"m")


def test_extra_entropy_type():
    key = key_for("ES256", P256_D)
    assert key.sign("ES256", b"m", extra_entropy=None) == \
        key.sign("ES256", b"m")
    with pytest.raises(TypeError):
        key.sign("ES256", b"m", extra_entropy="text")
    with pytest.raises(TypeError):
        key.sign("ES256", b"m", entropy=b"x")


def test_nonce_retry_when_out_of_range():
    """RFC 6979 §3.2 step h.3: a candidate k >= n is skipped and the
    DRBG updated.  With a toy n just above 2^255 about half the first
    candidates are out of range; both loops must agree."""
    toy = jwt3._Curve("toy", p=jwt3._P256.p, a=-3, b=jwt3._P256.b,
                      gx=0, gy=0, n=(1 << 255) + 12345, oid="0.0", window=4)
    skipped = 0
    for i in range(16):
        h1 = hashlib.sha256(b"message %d" % i).digest()
        k = next(jwt3._rfc6979_nonces(toy, P256_D % toy.n, h1, "sha256"))
        expected, draws = textbook_rfc6979(toy, P256_D % toy.n, h1,
                                           "sha256", count=True)
        assert k == expected
        skipped += draws > 1
    assert skipped, "no candidate was out of range"


def test_sign_retries_on_zero_r(monkeypatch):
    # r = 0 (x(kG) = 0 mod n) never happens for real keys; a stub
    # point with x = n shows that signing then takes the next nonce.
    curve = jwt3._P256
    real = jwt3._mul_base
    calls = []

    def fake(curve_, k):
        calls.append(k)
        return (curve.n, 1) if len(calls) == 1 else real(curve_, k)

    monkeypatch.setattr(jwt3, "_mul_base", fake)
    h1 = hashlib.sha256(b"sample").digest()
    r, s = jwt3._ecdsa_sign(curve, P256_D, h1, "sha256")
    monkeypatch.setattr(jwt3, "_mul_base", real)
    nonces = jwt3._rfc6979_nonces(curve, P256_D, h1, "sha256")
    assert calls[:2] == [next(nonces), next(nonces)]
    x, y = real(curve, P256_D)
    assert jwt3._ecdsa_verify_vartime(curve, x, y, h1, r, s)


# -- published JWS vectors

@pytest.mark.parametrize("case", params("rfc7515", alg="ES256")
                         + params("rfc7515", alg="ES512")
                         + params("rfc7520", kind="jws", alg="ES512"))
def test_published_jws_verify(case):
    public = jwt3.Key.from_jwk(case["jwk_public"])
    data = case["signing_input"].encode()
    signature = b64u(case["signature_b64u"])
    assert public.verify(case["alg"], data, signature)
    assert not public.verify(case["alg"], data + b"x", signature)
    # A fresh signature by the private key verifies too.
    private = jwt3.Key.from_jwk(case["jwk"])
    assert public.verify(case["alg"], data, private.sign(case["alg"],
                                                         data))


def test_rfc7515_a3_decode():
    case = by_id("rfc7515", "RFC7515-A.3")
    claims = jwt3.decode(case["jws"], case["jwk_public"], ["ES256"],
                         now=1300819000)
    assert claims["iss"] == "joe"


@pytest.mark.parametrize("case", params("rfc7517", kind="jwk_set"))
def test_rfc7517_ec_keys(case):
    for jwk in case["jwks"]["keys"]:
        if jwk.get("kty") != "EC":
            continue
        key = jwt3.Key.from_jwk(jwk)
        assert (key.kty, key.crv, key.size) == ("EC", "P-256", 256)
        assert key.is_private == ("d" in jwk)
        assert key.to_jwk(private=key.is_private) == jwk
        assert key.public().to_jwk() == {
            name: value for name, value in jwk.items() if name != "d"}


@pytest.mark.parametrize("case", [c for c in params("rfc7638")
                                  if c.values[0]["jwk"]["kty"] == "EC"])
def test_ec_thumbprint(case):
    key = jwt3.Key.from_jwk(case["jwk"])
    assert key.thumbprint() == case["thumbprint_b64u"]
    assert jwt3._json_dumps(key._material.thumbprint_members()) == \
        case["thumbprint_input"].encode()


# -- round trips

@pytest.mark.parametrize("alg", sorted(ALGS))
@settings(max_examples=6)
@given(data=st.data(), message=st.binary(max_size=200))
def test_sign_verify_round_trip(alg, data, message):
    curve = ALGS[alg][0]
    d = data.draw(st.one_of(st.sampled_from([1, 2, curve.n - 1]),
                            st.integers(1, curve.n - 1)))
    key = key_for(alg, d)
    signature = key.sign(alg, message)
    assert len(signature) == 2 * curve.scalar_len
    public = key.public()
    assert public.verify(alg, message, signature)
    assert not public.verify(alg, message + b"\x00", signature)
    flipped = bytearray(signature)
    flipped[data.draw(st.integers(0, len(signature) - 1))] ^= 1
    assert not public.verify(alg, message, bytes(flipped))


@pytest.mark.parametrize("alg", sorted(ALGS))
def test_encode_decode_with_pem_keys(alg):
    key = jwt3.generate_key(alg)
    token = jwt3.encode({"sub": "alice"}, key.to_pem(private=True), alg)
    assert jwt3.decode(token, key.public().to_pem(), [alg]) == {
        "sub": "alice"}
    assert jwt3.decode(token, key.to_pem(private=True), [alg]) == {
        "sub": "alice"}
    assert jwt3.decode(token, key.public().to_jwk(), [alg]) == {
        "sub": "alice"}
    other = jwt3.generate_key(alg)
    with pytest.raises(jwt3.InvalidSignatureError):
        jwt3.decode(token, other.public(), [alg])


def test_verify_with_cached_key_table(monkeypatch):
    """The per-key table path gives the same answers as the cold one."""
    jwt3._ec_clear_caches()
    monkeypatch.setattr(jwt3, "_KEY_TABLE_WINDOW", 4)
    key = key_for("ES256", P256_D)
    public = key.public()
    good = key.sign("ES256", b"m")
    bad = good[:32] + key.sign("ES256", b"n")[32:]
    for _ in range(jwt3._KEY_TABLE_AFTER + 3):
        assert public.verify("ES256", b"m", good)
        assert not public.verify("ES256", b"m", bad)
    assert jwt3._key_tables
    jwt3._ec_clear_caches()


# -- key formats

def test_openssl_pem_forms():
    sec1 = jwt3.Key.from_pem(SEC1_P256)
    pkcs8 = jwt3.Key.from_pem(PKCS8_P256)
    spki = jwt3.Key.from_pem(SPKI_P256)
    compressed = jwt3.Key.from_pem(SPKI_P256_COMPRESSED)
    assert sec1._material.d == pkcs8._material.d == P256_D
    assert sec1.public().to_jwk() == spki.to_jwk() == compressed.to_jwk()
    # Our PKCS #8 and SPKI output is byte for byte OpenSSL's.
    assert pkcs8.to_pem(private=True) == PKCS8_P256
    assert sec1.to_pem(private=True) == PKCS8_P256
    assert spki.to_pem() == SPKI_P256
    # Bare DER is routed by its shape.
    assert jwt3.Key.from_der(der_of(SEC1_P256)).to_jwk(True) == \
        sec1.to_jwk(True)
    assert jwt3.load_key(der_of(SPKI_P256)).to_jwk() == spki.to_jwk()


def test_sec1_secp256k1():
    case = by_id("es256k", "ECDSA-TESTSUITE-test_SECP256k1_6")
    key = jwt3.Key.from_pem(SEC1_SECP256K1)
    assert key.crv == "secp256k1"
    assert key._material.d == int(case["private_key_hex"], 16)


def test_explicit_parameters_refused():
    with pytest.raises(jwt3.InvalidKeyError, match="explicit"):
        jwt3.Key.from_pem(SEC1_P256_EXPLICIT)


@pytest.mark.parametrize("alg", sorted(ALGS))
def test_pem_der_jwk_round_trips(alg):
    key = jwt3.generate_key(alg)
    curve = ALGS[alg][0]
    for private in (True, False):
        pem = key.to_pem(private=private)
        again = jwt3.Key.from_pem(pem)
        assert again.to_jwk(private) == {
            k: v for k, v in key.to_jwk(private).items()
            if k not in ("kid", "alg")}
    jwk = key.to_jwk(private=True)
    assert len(b64u(jwk["x"])) == len(b64u(jwk["y"])) == curve.field_len
    assert len(b64u(jwk["d"])) == curve.scalar_len
    assert jwt3.Key.from_jwk(jwk).to_jwk(True) == jwk
    assert key.crv == curve.name and key.size == curve.bits


def _spki(curve_params, point):
    return jwt3._der_seq(jwt3._der_seq(jwt3._der_oid("1.2.840.10045.2.1"),
                                       *curve_params),
                         jwt3._der_bits(point))


P256_OID = jwt3._der_oid("1.2.840.10045.3.1.7")


def _p256_point(compressed=False):
    x, y = jwt3._mul_base(jwt3._P256, P256_D)
    if compressed:
        return bytes([2 + (y & 1)]) + x.to_bytes(32, "big")
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


def test_compressed_points_both_parities():
    for d in range(1, 9):
        x, y = jwt3._mul_base(jwt3._P256, d)
        point = bytes([2 + (y & 1)]) + x.to_bytes(32, "big")
        key = jwt3.Key.from_der(_spki([P256_OID], point))
        assert (key._material.x, key._material.y) == (x, y)


@pytest.mark.parametrize("params_, point, error, match", [
    ([], _p256_point(), jwt3.KeyFormatError, "no EC curve parameters"),
    ([jwt3._DER_NULL_TLV], _p256_point(), jwt3.InvalidKeyError,
     "implicitCA"),
    ([jwt3._der_seq(jwt3._der_int(1))], _p256_point(),
     jwt3.InvalidKeyError, "explicit"),
    ([jwt3._der_oid("1.3.132.0.33")], _p256_point(), jwt3.InvalidKeyError,
     "not supported"),
    ([P256_OID], b"", jwt3.KeyFormatError, "empty EC point"),
    ([P256_OID], b"\x00", jwt3.InvalidKeyError, "infinity"),
    ([P256_OID], b"\x06" + _p256_point()[1:], jwt3.KeyFormatError,
     "form 0x06"),
    ([P256_OID], _p256_point()[:-1], jwt3.KeyFormatError, "octets"),
    ([P256_OID], _p256_point()[:-1] + b"\x00", jwt3.InvalidKeyError,
     "not on P-256"),
    ([P256_OID], b"\x04" + b"\xff" * 64, jwt3.InvalidKeyError,
     "not below the field prime"),
    ([P256_OID], b"\x02" + b"\xff" * 32, jwt3.InvalidKeyError,
     "not below the field prime"),
    # x = 1 gives x^3 - 3x + b, not a square mod p for P-256.
    ([P256_OID], b"\x02" + (1).to_bytes(32, "big"), jwt3.InvalidKeyError,
     "not on P-256"),
], ids=["no-params", "implicit", "explicit", "secp224r1", "empty",
        "infinity", "hybrid", "short", "off-curve", "x>=p",
        "compressed-x>=p", "compressed-off-curve"])
def test_bad_spki(params_, point, error, match):
    with pytest.raises(error, match=match):
        jwt3.Key.from_der(_spki(params_, point))


def _ec_private_key(d_octets, *tail, version=1):
    return jwt3._der_seq(jwt3._der_int(version),
                         jwt3._der_octets(d_octets), *tail)


def _pkcs8(inner, params_=(P256_OID,)):
    algorithm = jwt3._der_seq(jwt3._der_oid("1.2.840.10045.2.1"),
                              *params_)
    return jwt3._der_seq(jwt3._der_int(0), algorithm,
                         jwt3._der_octets(inner))


D_OCTETS = P256_D.to_bytes(32, "big")
CTX0_P256 = jwt3._der(0xA0, P256_OID)
CTX0_P384 = jwt3._der(0xA0, jwt3._der_oid("1.3.132.0.34"))
CTX1_POINT = jwt3._der(0xA1, jwt3._der_bits(_p256_point()))
CTX1_OTHER = jwt3._der(0xA1, jwt3._der_bits(
    b"\x04" + b"".join(v.to_bytes(32, "big")
                       for v in jwt3._mul_base(jwt3._P256, 2))))


@pytest.mark.parametrize("der, error, match", [
    (_ec_private_key(D_OCTETS, CTX0_P256, version=2),
     jwt3.KeyFormatError, "version"),
    (_ec_private_key(D_OCTETS), jwt3.KeyFormatError, "no curve"),
    (_ec_private_key(D_OCTETS, CTX0_P256, CTX0_P256),
     jwt3.KeyFormatError, "unexpected DER tag"),
    (_ec_private_key(D_OCTETS, CTX1_POINT, CTX0_P256),
     jwt3.KeyFormatError, "unexpected DER tag"),
    (_ec_private_key(b"\x01" + D_OCTETS, CTX0_P256), jwt3.KeyFormatError,
     "33 octets"),
    (_ec_private_key(b"", CTX0_P256), jwt3.KeyFormatError, "0 octets"),
    (_ec_private_key(D_OCTETS, CTX0_P256, CTX1_OTHER), jwt3.InvalidKeyError,
     "does not match"),
    (_ec_private_key(b"\x00" * 32, CTX0_P256), jwt3.InvalidKeyError,
     "out of range"),
    (_ec_private_key(jwt3._P256.n.to_bytes(32, "big"), CTX0_P256),
     jwt3.InvalidKeyError, "out of range"),
    (_pkcs8(_ec_private_key(D_OCTETS, CTX0_P384)), jwt3.InvalidKeyError,
     "differs"),
    (_pkcs8(_ec_private_key(D_OCTETS), params_=()), jwt3.KeyFormatError,
     "no EC curve parameters"),
], ids=["version", "sec1-no-curve", "duplicate-ctx0", "order", "long-d",
        "empty-d", "public-mismatch", "d=0", "d=n", "inner-curve",
        "pkcs8-no-params"])
def test_bad_ec_private_keys(der, error, match):
    with pytest.raises(error, match=match):
        jwt3.Key.from_der(der)


def test_ec_private_key_variants():
    # Choice: a short privateKey (leading zeros dropped) is accepted.
    short = _ec_private_key(b"\x05", CTX0_P256)
    assert jwt3.Key.from_der(short)._material.d == 5
    # PKCS #8 with the inner [0] naming the same curve, and a v2
    # PKCS #8 whose [1] publicKey is checked against d.
    key = jwt3.Key.from_der(_pkcs8(_ec_private_key(D_OCTETS, CTX0_P256,
                                                   CTX1_POINT)))
    assert key._material.d == P256_D
    v2 = jwt3._der_seq(
        jwt3._der_int(1),
        jwt3._der_seq(jwt3._der_oid("1.2.840.10045.2.1"), P256_OID),
        jwt3._der_octets(_ec_private_key(D_OCTETS)),
        jwt3._der(0x81, b"\x00" + _p256_point()))
    assert jwt3.Key.from_der(v2)._material.d == P256_D
    v2_bad = v2[:-1] + bytes([v2[-1] ^ 1])
    with pytest.raises(jwt3.InvalidKeyError):
        jwt3.Key.from_der(v2_bad)


def test_material_to_der_public_has_no_private_part():
    material = jwt3.Key.from_pem(SPKI_P256)._material
    with pytest.raises(jwt3.InvalidKeyError):
        material.to_der(True)
    with pytest.raises(jwt3.InvalidKeyError):
        jwt3.Key.from_pem(SPKI_P256).to_pem(private=True)


# -- JWK

P256_JWK = by_id("rfc6979", "RFC6979-A.2.5-P-256-SHA-256-sample")[
    "jwk_derived"]


def _jwk(**changes):
    jwk = dict(P256_JWK)
    for name, value in changes.items():
        if value is None:
            jwk.pop(name, None)
        else:
            jwk[name] = value
    return jwk


def _b64(value, size):
    return jwt3._b64u_encode(value.to_bytes(size, "big"))


@pytest.mark.parametrize("jwk, error, match", [
    (_jwk(crv=None), jwt3.KeyFormatError, 'without "crv"'),
    (_jwk(crv=256), jwt3.KeyFormatError, "expected a string"),
    (_jwk(crv="P-224"), jwt3.InvalidKeyError, "not supported"),
    (_jwk(x=None), jwt3.KeyFormatError, 'without "x"'),
    (_jwk(y=None), jwt3.KeyFormatError, 'without "y"'),
    (_jwk(x=12), jwt3.KeyFormatError, "base64url string"),
    (_jwk(x="AAAA" + P256_JWK["x"]), jwt3.KeyFormatError, "longer than 32"),
    (_jwk(y=_b64(jwt3._P256.p, 32), d=None), jwt3.InvalidKeyError,
     "not below"),
    (_jwk(y=_b64(1, 32), d=None), jwt3.InvalidKeyError, "not on P-256"),
    (_jwk(d=_b64(0, 32)), jwt3.InvalidKeyError, "out of range"),
    (_jwk(d=_b64(jwt3._P256.n, 32)), jwt3.InvalidKeyError, "out of range"),
    (_jwk(d=_b64(P256_D + 1, 32)), jwt3.InvalidKeyError, "does not match"),
    (_jwk(crv="P-384"), jwt3.KeyFormatError, None),
], ids=["no-crv", "crv-type", "P-224", "no-x", "no-y", "x-type",
        "x-long", "y>=p", "off-curve", "d=0", "d=n", "d-mismatch",
        "wrong-curve"])
def test_bad_jwk(jwk, error, match):
    with pytest.raises(jwt3.JWTError) as info:
        jwt3.Key.from_jwk(jwk)
    if match is None:
        # x and y are 32 octets, short for P-384: accepted as padded,
        # but then off the curve.
        assert isinstance(info.value, jwt3.InvalidKeyError)
    else:
        assert isinstance(info.value, error)
        assert match in str(info.value)


def test_jwk_short_members_are_padded():
    """DESIGN §3: libjwt writes P-521 members of 65 octets when the top
    octet is zero; they are read as left-padded, written full length."""
    case = by_id("rfc6979", "RFC6979-A.2.7-P-521-SHA-512-sample")
    jwk = dict(case["jwk_derived"])
    raw_d = b64u(jwk["d"])
    assert raw_d[0] == 0 and len(raw_d) == 66
    short = dict(jwk, d=jwt3._b64u_encode(raw_d[1:]),
                 y=jwt3._b64u_encode(b64u(jwk["y"])[1:]))
    key = jwt3.Key.from_jwk(short)
    assert key.to_jwk(private=True) == jwk


# -- verification refuses malformed signatures

def _p256_signature():
    key = key_for("ES256", P256_D)
    return key.public(), key.sign("ES256", b"msg")


def test_cve_2022_21449_psychic_signature():
    """r = s = 0 satisfies the verification equation of an implementation
    that skips the range check; it must be refused."""
    public, _ = _p256_signature()
    for alg, size in (("ES256", 32),):
        assert not public.verify(alg, b"msg", b"\x00" * 2 * size)
    n = jwt3._P256.n
    assert not public.verify("ES256", b"msg", jose_sig(n, n, 32))
    assert not jwt3._ecdsa_verify_vartime(jwt3._P256, public._material.x,
                                          public._material.y, b"\x00" * 32,
                                          0, 0)


@pytest.mark.parametrize("mangle", [
    lambda r, s, n: (0, s), lambda r, s, n: (r, 0),
    lambda r, s, n: (r + n, s), lambda r, s, n: (r, s + n),
    lambda r, s, n: (n, s), lambda r, s, n: (r, n),
    lambda r, s, n: (2 ** 256 - 1, s), lambda r, s, n: (s, r),
], ids=["r=0", "s=0", "r+n", "s+n", "r=n", "s=n", "r=max", "swapped"])
def test_out_of_range_r_s(mangle):
    public, signature = _p256_signature()
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    r2, s2 = mangle(r, s, jwt3._P256.n)
    if r2 < 2 ** 256 and s2 < 2 ** 256:
        assert not public.verify("ES256", b"msg", jose_sig(r2, s2, 32))


def test_wrong_lengths_and_der_refused():
    public, signature = _p256_signature()
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    der = jwt3._der_seq(jwt3._der_int(r), jwt3._der_int(s))
    for bad in (b"", signature[:-1], signature + b"\x00",
                b"\x00" + signature, der, signature * 2):
        assert not public.verify("ES256", b"msg", bad)
    assert public.verify("ES256", b"msg", signature)


def test_verify_x_of_r_above_n(monkeypatch):
    # x(R) in [n, p) happens with probability ~2^-128; a stub R checks
    # that r + n is compared too (SEC 1 §4.1.4 step 7).
    curve = jwt3._P256
    r = 5
    ZZ = 7

    def fake(curve_, u1, u2, x, y, key_table=None):
        return (r + curve.n) * ZZ % curve.p, 1, ZZ, 1

    monkeypatch.setattr(jwt3, "_mul_add_vartime", fake)
    assert jwt3._ecdsa_verify_vartime(curve, 1, 1, b"\x01" * 32, r, 3)
    assert not jwt3._ecdsa_verify_vartime(curve, 1, 1, b"\x01" * 32, r + 1,
                                          3)


def test_verify_point_at_infinity_refused():
    # e = -r*d mod n makes u1*G + u2*Q = O for any s.
    curve = jwt3._P256
    x, y = jwt3._mul_base(curve, P256_D)
    e = 0x1234
    r = (-e * pow(P256_D, -1, curve.n)) % curve.n
    assert not jwt3._ecdsa_verify_vartime(curve, x, y,
                                          e.to_bytes(32, "big"), r, 77)


@pytest.mark.parametrize("alg, other", [("ES256", "ES384"),
                                        ("ES256", "ES256K"),
                                        ("ES512", "ES384"),
                                        ("ES256K", "ES256")])
def test_curve_bound_to_alg(alg, other):
    key = jwt3.generate_key(other)
    with pytest.raises(jwt3.InvalidKeyError, match="cannot be used"):
        key.sign(alg, b"m")
    with pytest.raises(jwt3.InvalidKeyError, match="cannot be used"):
        key.public().verify(alg, b"m", b"\x00" * 64)
    token = jwt3.encode({}, key, other)
    forged = jwt3._b64u_encode(('{"alg":"%s"}' % alg).encode()) + \
        token[token.index("."):]
    with pytest.raises(jwt3.InvalidKeyError):
        jwt3.decode(forged, key.public(), [alg])


# -- key generation

@pytest.mark.parametrize("alg", sorted(ALGS))
def test_generate(alg):
    curve = ALGS[alg][0]
    key = jwt3.generate_key(alg, crv=curve.name, bits=curve.bits)
    assert (key.kty, key.crv, key.alg) == ("EC", curve.name, alg)
    assert key.kid == key.thumbprint()
    material = key._material
    assert 1 <= material.d < curve.n
    assert jwt3._on_curve(curve, material.x, material.y)
    with pytest.raises(ValueError):
        jwt3.generate_key(alg, crv="P-384" if alg != "ES384" else "P-256")
    with pytest.raises(ValueError):
        jwt3.generate_key(alg, bits=curve.bits + 1)


def test_generate_defaults_without_curves():
    # An EC algorithm that names no curve gets P-256 (only reachable
    # through the registry: every ES* algorithm names its curve).
    alg = jwt3._ALGORITHMS["ES256"]._replace(curves=None)
    assert jwt3._generate_ec(alg, None, None).crv == "P-256"


# -- mangled input never escapes as a non-JWTError

@settings(max_examples=60)
@given(data=st.binary(max_size=140))
@example(data=b"\x04" + b"\x00" * 64)
@example(data=b"\x03" + b"\xff" * 32)
def test_fuzz_points(data):
    try:
        jwt3._ec_point_decode(jwt3._P256, data, "fuzz")
    except jwt3.JWTError:
        pass


@settings(max_examples=60)
@given(data=st.data())
def test_fuzz_sec1_der(data):
    der = bytearray(der_of(SEC1_P256))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(der) - 1))
        der[i] = data.draw(st.integers(0, 255))
    try:
        jwt3.Key.from_der(bytes(der))
    except jwt3.JWTError:
        pass


@settings(max_examples=60)
@given(x=st.text(max_size=50), y=st.text(max_size=50),
       d=st.one_of(st.none(), st.text(max_size=50)))
def test_fuzz_jwk(x, y, d):
    jwk = {"kty": "EC", "crv": "P-256", "x": x, "y": y}
    if d is not None:
        jwk["d"] = d
    try:
        jwt3.Key.from_jwk(jwk)
    except jwt3.JWTError:
        pass
