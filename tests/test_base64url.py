"""Section 2: base64url (RFC 4648 §5, RFC 7515 §2) and integers."""

import base64

import pytest
from hypothesis import example, given, strategies as st

import jwt3
from jwt3 import _b64u_decode, _b64u_encode, _b64u_uint, _int_to_bytes


@given(st.binary(max_size=200))
@example(b"")
@example(b"\xff")          # one spare-bit group (4 spare bits)
@example(b"\xff\xff")      # two spare bits
def test_round_trip(data):
    text = _b64u_encode(data)
    assert "=" not in text
    assert _b64u_decode(text, "x") == data
    assert _b64u_decode(text.encode("ascii"), "x") == data


@given(st.binary(min_size=1, max_size=64).filter(lambda d: len(d) % 3))
def test_spare_bits_make_it_non_canonical(data):
    # RFC 4648 §3.5: flipping any spare (unused) bit of the last character
    # gives a string the lenient decoders map to the same bytes; we must
    # refuse every such variant (token malleability).
    text = _b64u_encode(data)
    alphabet = jwt3._B64U_ALPHABET
    spare = {2: 0x0F, 3: 0x03}[len(text) % 4]
    last = alphabet.index(text[-1])
    for bit in range(6):
        if spare & (1 << bit):
            mangled = text[:-1] + alphabet[last ^ (1 << bit)]
            # The standard library accepts it: that is the hazard.
            lenient = base64.urlsafe_b64decode(
                mangled + "=" * (-len(mangled) % 4))
            assert lenient == data
            with pytest.raises(jwt3.MalformedError, match="canonical"):
                _b64u_decode(mangled, "x")


@pytest.mark.parametrize("text, reason", [
    ("YWJj=", "padding"),
    ("YW==", "padding"),
    ("ab+c", "outside"),
    ("ab/c", "outside"),
    ("ab c", "outside"),
    ("ab\nc", "outside"),
    ("abc\x00", "outside"),
    ("abcde", "impossible length"),
    ("a", "impossible length"),
    ("AB", "canonical"),
    ("AAB", "canonical"),
    ("\u00e9AAA", "outside"),
])
def test_refused(text, reason):
    with pytest.raises(jwt3.MalformedError, match=reason):
        _b64u_decode(text, "field")


def test_non_ascii_bytes_refused():
    with pytest.raises(jwt3.MalformedError, match="non-ASCII"):
        _b64u_decode(b"AA\xc3\xa9", "field")


def test_error_class_is_the_callers():
    with pytest.raises(jwt3.KeyFormatError, match='JWK "k"'):
        _b64u_decode("a=", 'JWK "k"', jwt3.KeyFormatError)


def test_uint_reads_and_pads():
    assert _b64u_uint("AQAB", "e") == 65537
    # A value shorter than the field length is read as an integer
    # (DESIGN §3: libjwt emits 65-byte P-521 coordinates).
    assert _b64u_uint(_b64u_encode(b"\x01" * 65), "x", 66) == int.from_bytes(
        b"\x01" * 65, "big")


@pytest.mark.parametrize("value, reason", [
    (123, "expected a base64url string, got int"),
    ("", "empty"),
    (_b64u_encode(b"\x01" * 67), "67 octets, longer than 66"),
])
def test_uint_refused(value, reason):
    with pytest.raises(jwt3.KeyFormatError, match=reason):
        _b64u_uint(value, "x", 66)


def test_int_to_bytes():
    assert _int_to_bytes(0) == b"\x00"
    assert _int_to_bytes(65537) == b"\x01\x00\x01"
    assert _int_to_bytes(1, 4) == b"\x00\x00\x00\x01"
