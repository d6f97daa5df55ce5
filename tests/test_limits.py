"""The documented limits (README, Security: Limits), each pinned at the
bound and just past it, with the worst input that fits.

Every test feeds hostile input through the public API and asserts a
generous time bound (support.HANG_SECONDS): a guard against hangs and
quadratic blow-ups, not a speed claim.  Behaviour of each limit is
also tested with its section; this file is the table's checklist.
"""

import json
import logging

import pytest

import jwt3
from support import hang_guard
from jwt3 import KeyFormatError, MalformedError, Module
from jwt3 import _b64u_encode as b64

KEY = jwt3.Key.from_secret(bytes(range(32)))
JWK_TEXT = json.dumps(KEY.to_jwk(private=True))


def signed(payload, header=b'{"alg":"HS256"}'):
    """A genuinely signed HS256 token over exactly these bytes."""
    signing_input = b64(header) + "." + b64(payload)
    return signing_input + "." + b64(KEY.sign("HS256",
                                              signing_input.encode()))


def room(token_length=jwt3._MAX_TOKEN_LENGTH):
    """Payload octets that fit in a token of ``token_length``."""
    fixed = len(signed(b""))
    return (token_length - fixed) * 3 // 4


@pytest.fixture
def module():
    logger = logging.getLogger("jwt3")
    logger.disabled = True
    yield Module(leeway_sec=0, clock=lambda: 0)
    logger.disabled = False


# -- tokens

def test_token_length(module):
    limit = jwt3._MAX_TOKEN_LENGTH
    payload = b'{"a":"' + b"x" * (room() - 8) + b'"}'
    token = signed(payload)
    assert len(token) <= limit
    with hang_guard():
        assert len(jwt3.decode(token, KEY, ["HS256"])["a"]) == room() - 8
    with pytest.raises(MalformedError, match="more than %d" % limit):
        jwt3.decode(token + "A" * (limit + 1 - len(token)), KEY,
                    ["HS256"])
    for huge in ("A" * 10_000_000, "." * 10_000_000,
                 b"\xff" * 10_000_000, bytearray(10_000_000)):
        with hang_guard(), pytest.raises(MalformedError, match="more"):
            jwt3.decode(huge, KEY, ["HS256"])
        with hang_guard(), pytest.raises(MalformedError, match="more"):
            jwt3.decode_unverified(huge)
    with hang_guard():
        assert module.jwt3_verify_key(JWK_TEXT, "HS256", "",
                                      "A" * 10_000_000) == -1
    assert module.pv("status") == jwt3.STATUS_MALFORMED


def test_header_length():
    limit = jwt3._MAX_HEADER_LENGTH
    filler = limit * 3 // 4 - len(b'{"alg":"HS256","x":""}')
    header = b'{"alg":"HS256","x":"' + b"y" * filler + b'"}'
    assert len(b64(header)) <= limit
    with hang_guard():
        assert jwt3.decode(signed(b"{}", header), KEY, ["HS256"]) == {}
    header = header[:-2] + b'yyy"}'
    with pytest.raises(MalformedError, match="token header: .* more than"):
        jwt3.decode(signed(b"{}", header), KEY, ["HS256"])


@pytest.mark.parametrize("opener, closer", [(b"[", b"]"), (b'{"a":', b"}")])
def test_json_nesting_in_a_signed_token(opener, closer):
    # The payload is parsed only after the signature verified; these
    # are genuinely signed.  32 levels pass, 33 and a nest filling the
    # whole token (about 190000 deep) are refused before parsing.
    limit = jwt3._MAX_JSON_DEPTH
    ok = b'{"a":' + opener * (limit - 1) + b"1" + closer * (limit - 1) + b"}"
    assert jwt3.decode(signed(ok), KEY, ["HS256"])
    for depth in (limit, room() // len(opener)):
        deep = b'{"a":' + opener * depth + b"1" + closer * depth + b"}"
        deep = deep if len(deep) <= room() else (opener * room())[:room()]
        with hang_guard(), pytest.raises(MalformedError,
                                         match="nested deeper than"):
            jwt3.decode(signed(deep), KEY, ["HS256"])


def test_many_members_and_duplicates():
    # As many members as a token holds: linear.  The same name that
    # many times: refused at the second, after a linear parse.
    names = b",".join(b'"%d":0' % i for i in range(room() // 8))
    payload = b"{" + names[:names.rindex(b",", 0, room() - 2)] + b"}"
    with hang_guard():
        assert len(jwt3.decode(signed(payload), KEY, ["HS256"])) > 20000
    twice = b"{" + b",".join([b'"a":0'] * (room() // 6)) + b"}"
    with hang_guard(), pytest.raises(MalformedError, match="duplicate"):
        jwt3.decode(signed(twice), KEY, ["HS256"])


def test_json_integer_digits():
    limit = jwt3._MAX_JSON_INT_DIGITS
    count = room() // (limit + 8)
    numbers = b"{" + b",".join(b'"%d":%s' % (i, b"9" * limit)
                               for i in range(count)) + b"}"
    with hang_guard():
        assert len(jwt3.decode(signed(numbers), KEY, ["HS256"])) == count
    for digits in (limit + 1, 4301, room() - 10):
        with hang_guard(), pytest.raises(MalformedError,
                                         match="more than %d digits"
                                         % limit):
            jwt3.decode(signed(b'{"n":' + b"1" * digits + b"}"), KEY,
                        ["HS256"])


# -- keys

def test_key_input_length(module):
    limit = jwt3._MAX_KEY_INPUT
    padded = JWK_TEXT + " " * (limit - len(JWK_TEXT))
    assert jwt3.load_key(padded).size == 256
    for source in (padded + " ", "-----BEGIN " * (limit // 10),
                   b"\x30\x84" + b"\x00" * limit):
        with hang_guard(), pytest.raises(KeyFormatError,
                                         match="more than %d" % limit):
            jwt3.load_keys(source)
    with hang_guard():
        assert module.jwt3_verify_key(padded + " ", "HS256", "",
                                      signed(b"{}")) == -1
    assert module.pv("status") == jwt3.STATUS_KEY


def test_keys_per_set_with_the_costliest_keys():
    # 256 private P-521 keys (each checked: d*G = Q), as a JWK Set and
    # as PEM; one more is refused before any is parsed.
    limit = jwt3._MAX_JWKS_KEYS
    key = jwt3.generate_key("ES512")
    with hang_guard():
        assert len(jwt3.KeySet.from_jwks(
            {"keys": [key.to_jwk(private=True)] * limit})) == limit
    with hang_guard():
        assert len(jwt3.load_keys(key.to_pem(private=True) * limit)) \
            == limit
    with pytest.raises(KeyFormatError, match="more than %d" % limit):
        jwt3.KeySet.from_jwks({"keys": [key.to_jwk()] * (limit + 1)})
    with pytest.raises(KeyFormatError, match="more than %d" % limit):
        jwt3.load_keys(key.to_pem() * (limit + 1))


def test_rsa_sizes():
    # A modulus past _RSA_MAX_BITS, or an exponent of any length, is
    # refused from its bit length, before any arithmetic on it.
    limit = jwt3._RSA_MAX_BITS
    for n_bits, e in ((limit + 1, 65537), (8 << 20, 65537),
                      (2048, (1 << (8 << 20)) + 1),
                      (2048, (1 << jwt3._RSA_MAX_E_BITS) + 1)):
        n = (1 << (n_bits - 1)) | 1
        jwk = {"kty": "RSA", "n": b64(jwt3._int_to_bytes(n)),
               "e": b64(jwt3._int_to_bytes(e))}
        with hang_guard(), pytest.raises(jwt3.InvalidKeyError):
            jwt3.Key.from_jwk(jwk)


def test_der_lengths():
    # A SEQUENCE of 340000 INTEGERs (1 MiB), and an OBJECT IDENTIFIER
    # of 1 MiB: linear reads, then refused.
    der = jwt3._der_seq(b"\x02\x01\x01" * 340000)
    with hang_guard(), pytest.raises(KeyFormatError):
        jwt3.Key.from_der(der)
    oid = jwt3._der(jwt3._DER_OID, b"\x81" * 1000000 + b"\x01")
    der = jwt3._der_seq(jwt3._der_seq(oid), jwt3._der_bits(b"\x00"))
    with hang_guard(), pytest.raises(KeyFormatError, match="more than"):
        jwt3.Key.from_der(der)


# -- claims strings

def test_claims_string_length(module):
    limit = jwt3._MAX_PARAMS_LENGTH
    params = ";".join("a%d=%d" % (i, i) for i in range(limit // 8))
    params = params[:params.rindex(";", 0, limit)]
    with hang_guard():
        assert module.jwt3_generate(JWK_TEXT, "HS256", params) == 1
    with hang_guard():
        assert len(jwt3.parse_params("a=1;" * (limit // 4))) == limit // 4
    for text in ("a=" + "x" * (limit - 1), "a=1;" * 250000):
        with hang_guard(), pytest.raises(MalformedError, match="more than"):
            jwt3.parse_params(text)
        assert module.jwt3_verify_key(JWK_TEXT, "HS256", text,
                                      signed(b"{}")) == -1
        assert module.pv("status") == jwt3.STATUS_ARGUMENTS
