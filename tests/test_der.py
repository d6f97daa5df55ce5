"""ASN.1 DER reader and writer (jwt3 section 4, X.690).

Round trips of every writer/reader pair, and mangled input: every
strictness rule of X.690 §10 that the reader enforces has a test that
breaks it.
"""

import base64
import os

import pytest
from hypothesis import example, given, strategies as st

import jwt3
from jwt3 import InvalidKeyError, JWTError, KeyFormatError

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def pem_der(name):
    """The DER inside a PEM fixture, decoded without jwt3."""
    with open(os.path.join(DATA, name)) as f:
        lines = f.read().strip().splitlines()
    return base64.b64decode("".join(lines[1:-1]))


def decode_one(der):
    return jwt3._der_decode(der, "test")


# Integers biased to the boundaries where the encoded length changes.
boundary_ints = st.one_of(
    st.integers(),
    st.sampled_from([0, 1, -1, 127, 128, -128, -129, 255, 256, -256,
                     -257, 32767, 32768, -32768, -32769]),
    st.integers(1, 4100).map(lambda bits: 1 << bits),
    st.integers(1, 4100).map(lambda bits: (1 << bits) - 1),
    st.integers(1, 4100).map(lambda bits: -(1 << bits)),
)
# Lengths around the short/long form switch and the octet counts.
boundary_lengths = st.one_of(
    st.integers(0, 300),
    st.sampled_from([127, 128, 255, 256, 65535, 65536]),
)


# -- round trips

@given(boundary_ints)
@example(-128)     # was written as ff80 (not minimal) before the fix
@example(-32768)
def test_integer_round_trip(n):
    der = jwt3._der_int(n)
    assert jwt3._der_read_int(decode_one(der), "n", signed=True) == n
    # Minimal: one octet fewer could not hold n in two's complement.
    content = decode_one(der)[1]
    assert len(content) == 1 or not (
        -(1 << (8 * len(content) - 9)) <= n < 1 << (8 * len(content) - 9))


@given(st.one_of(st.integers(min_value=0),
                 st.integers(0, 8000).map(lambda bits: 1 << bits)))
def test_unsigned_integer_round_trip(n):
    der = jwt3._der_int(n)
    assert jwt3._der_read_int(decode_one(der), "n") == n


@given(boundary_lengths.flatmap(lambda n: st.binary(min_size=n,
                                                    max_size=n)))
def test_octet_string_round_trip(data):
    der = jwt3._der_octets(data)
    assert jwt3._der_expect(decode_one(der), jwt3._DER_OCTET_STRING,
                            "x") == data


@given(st.binary(max_size=600))
def test_bit_string_round_trip(data):
    assert jwt3._der_read_bits(decode_one(jwt3._der_bits(data)),
                               "x") == data


oids = st.one_of(
    st.tuples(st.integers(0, 1), st.integers(0, 39)),
    st.tuples(st.just(2), st.integers(0, 1 << 70)),
).flatmap(lambda first: st.lists(st.integers(0, 1 << 70), max_size=8)
          .map(lambda rest: ".".join(map(str, first + tuple(rest)))))


@given(oids)
@example("1.2.840.113549.1.1.1")
@example("2.999.3")     # second arc above 39 under joint-iso-itu-t
@example("0.0")
def test_oid_round_trip(dotted):
    der = jwt3._der_oid(dotted)
    assert jwt3._der_read_oid(decode_one(der), "oid") == dotted


def test_oid_known_encoding():
    # RFC 8017 A.1: rsaEncryption.
    assert jwt3._der_oid("1.2.840.113549.1.1.1").hex() == \
        "06092a864886f70d010101"


@given(st.integers(0, 0x1E).flatmap(
    lambda number: st.sampled_from([number, 0x20 | number, 0x80 | number,
                                    0xA0 | number])),
       boundary_lengths.flatmap(lambda n: st.binary(min_size=n,
                                                    max_size=n)))
def test_element_round_trip(tag, content):
    der = jwt3._der(tag, content)
    assert jwt3._der_next(der + b"rest", 0, "x") == (tag, content,
                                                     len(der))
    assert decode_one(der) == (tag, content)


@given(st.lists(st.binary(max_size=40).map(jwt3._der_octets),
                max_size=10))
def test_sequence_round_trip(parts):
    der = jwt3._der_seq(*parts)
    items = jwt3._der_sequence(decode_one(der), "seq")
    assert [jwt3._der(*item) for item in items] == parts


def test_null():
    assert decode_one(jwt3._DER_NULL_TLV) == (jwt3._DER_NULL, b"")


@pytest.mark.parametrize("params", [None, jwt3._DER_NULL_TLV,
                                    jwt3._der_int(5)])
def test_algorithm_identifier(params):
    oid = "1.2.840.10045.2.1"
    der = jwt3._der_seq(jwt3._der_oid(oid), *([params] if params else []))
    got_oid, got_params = jwt3._der_algorithm(decode_one(der), "x")
    assert got_oid == oid
    assert got_params == (None if params is None else decode_one(params))


# -- mangled input: every rule of the strict reader

@pytest.mark.parametrize("der, reason", [
    (b"", "DER truncated"),
    (b"\x30", "DER truncated"),
    (b"\x04\x05abc", "DER truncated"),
    (b"\x1f\x01\x00", "high tag numbers"),
    (b"\xbf\x81\x00\x00", "high tag numbers"),
    (b"\x30\x80\x00\x00", "indefinite length"),
    (b"\x04\x81\x05hello", "not minimal"),        # fits the short form
    (b"\x04\x82\x00\x80" + b"a" * 128, "not minimal"),   # leading zero
    (b"\x04\x85\x00\x00\x00\x00\x01a", "out of range"),  # > 4 octets
    (b"\x04\x84\x00\x01", "out of range"),        # length octets missing
    (b"\x04\x01ab", "1 bytes after"),
    (b"\x30\x00\x00", "1 bytes after"),
])
def test_malformed_element(der, reason):
    with pytest.raises(KeyFormatError, match=reason):
        decode_one(der)


@given(st.binary(max_size=300))
def test_truncated_element(data):
    der = jwt3._der_seq(jwt3._der_octets(data), jwt3._der_int(65537))
    for cut in range(len(der)):
        with pytest.raises(KeyFormatError):
            decode_one(der[:cut])


@pytest.mark.parametrize("content, reason", [
    (b"", "empty INTEGER"),
    (b"\x00\x7f", "not minimally encoded"),
    (b"\x00\x00\x80", "not minimally encoded"),
    (b"\xff\x80", "not minimally encoded"),
    (b"\x80", "negative INTEGER"),
    (b"\xff", "negative INTEGER"),
])
def test_malformed_unsigned_integer(content, reason):
    with pytest.raises(KeyFormatError, match=reason):
        jwt3._der_read_int((jwt3._DER_INTEGER, content), "n")


def test_negative_integer_when_signed():
    assert jwt3._der_read_int((jwt3._DER_INTEGER, b"\x80"), "n",
                              signed=True) == -128


@pytest.mark.parametrize("content", [b"", b"\x01\x80", b"\x07\x00"])
def test_bit_string_with_unused_bits(content):
    with pytest.raises(KeyFormatError, match="unused bits"):
        jwt3._der_read_bits((jwt3._DER_BIT_STRING, content), "bits")


@pytest.mark.parametrize("content, reason", [
    (b"", "truncated"),
    (b"\x2a\x86", "truncated"),            # last arc continues
    (b"\x2a\x80\x01", "not minimal"),      # arc with a 0x80 lead octet
    (b"\x80\x01", "not minimal"),
])
def test_bad_oid(content, reason):
    with pytest.raises(KeyFormatError, match=reason):
        jwt3._der_read_oid((jwt3._DER_OID, content), "oid")


def test_oid_length_bound():
    # Choice (section 4): at most _DER_MAX_OID octets.  Unbounded, an
    # arc of 300000 octets took seconds to assemble and then str()
    # raised ValueError (past 4300 digits) on CPython 3.11+.
    limit = jwt3._DER_MAX_OID
    longest = b"\x2a" + b"\xff" * (limit - 2) + b"\x7f"
    assert jwt3._der_read_oid((jwt3._DER_OID, longest), "oid")
    for size in (limit + 1, 3000, 300000):
        content = b"\x2a" + b"\x81" * (size - 2) + b"\x01"
        with pytest.raises(KeyFormatError, match="more than %d" % limit):
            jwt3._der_read_oid((jwt3._DER_OID, content), "oid")
        # As an attacker sends it: an SPKI naming that algorithm.
        der = jwt3._der_seq(jwt3._der_seq(jwt3._der(jwt3._DER_OID, content)),
                            jwt3._der_bits(b"\x00"))
        with pytest.raises(KeyFormatError, match="OBJECT IDENTIFIER"):
            jwt3.Key.from_der(der)


def test_deep_der_nesting_is_not_walked():
    # 20000 nested SEQUENCEs: the readers descend a fixed number of
    # levels for each key format, so depth costs nothing.
    der = b"\x05\x00"
    for _ in range(20000):
        der = jwt3._der_seq(der)
    with pytest.raises(KeyFormatError):
        jwt3.Key.from_der(der)
    with pytest.raises(KeyFormatError):
        jwt3.Key.from_der(jwt3._der_seq(jwt3._der_seq(der), der))


def test_wrong_tag():
    with pytest.raises(KeyFormatError, match="tag 0x04, expected 0x02"):
        jwt3._der_read_int((jwt3._DER_OCTET_STRING, b"\x01"), "n")


@pytest.mark.parametrize("count, low, high, reason", [
    (1, 2, 2, "1 elements, expected 2"),
    (3, 1, 2, "3 elements, expected 1 to 2"),
])
def test_sequence_length(count, low, high, reason):
    der = jwt3._der_seq(*[jwt3._der_int(i) for i in range(count)])
    with pytest.raises(KeyFormatError, match=reason):
        jwt3._der_sequence(decode_one(der), "seq", low, high)


@given(st.binary(max_size=200))
@example(b"\x30\x03\x02\x01\x01\x00")
@example(b"\x30\x84\xff\xff\xff\xff")
def test_random_bytes_raise_only_key_errors(data):
    for parse in (decode_one, jwt3._der_label, jwt3._der_to_material):
        try:
            parse(data)
        except JWTError:
            pass


# -- the container formats of section 4

def spki(oid, public=b"\x00", params=None):
    algorithm = jwt3._der_seq(jwt3._der_oid(oid),
                              *([params] if params else []))
    return jwt3._der_seq(algorithm, jwt3._der_bits(public))


def pkcs8(oid, private=b"", version=0, extra=()):
    algorithm = jwt3._der_seq(jwt3._der_oid(oid))
    return jwt3._der_seq(jwt3._der_int(version), algorithm,
                         jwt3._der_octets(private), *extra)


def test_spki_unsupported_algorithm():
    with pytest.raises(InvalidKeyError, match="1.2.3.4 is not supported"):
        jwt3._spki_to_material(spki("1.2.3.4"))


def test_pkcs8_unsupported_algorithm():
    with pytest.raises(InvalidKeyError, match="1.2.3.4 is not supported"):
        jwt3._pkcs8_to_material(pkcs8("1.2.3.4"))


def test_pkcs8_version():
    with pytest.raises(KeyFormatError, match="version 2, expected 0 or 1"):
        jwt3._pkcs8_to_material(pkcs8("1.2.3.4", version=2))


def test_pkcs8_public_key_with_unused_bits():
    public = jwt3._der(0x81, b"\x01\x80")
    with pytest.raises(KeyFormatError, match="publicKey with unused bits"):
        jwt3._pkcs8_to_material(pkcs8("1.2.3.4", version=1,
                                      extra=[public]))


@pytest.mark.parametrize("version, extra", [
    (0, jwt3._der(0x81, b"\x00\x01")),     # publicKey needs version 1
    (1, jwt3._der_int(1)),
])
def test_pkcs8_unexpected_element(version, extra):
    with pytest.raises(KeyFormatError, match="unexpected DER tag"):
        jwt3._pkcs8_to_material(pkcs8("1.2.3.4", version=version,
                                      extra=[extra]))


def test_pkcs8_attributes_are_ignored():
    # [0] attributes pass; the unknown OID then stops the parse.
    attributes = jwt3._der(jwt3._DER_CONTEXT_0, b"")
    with pytest.raises(InvalidKeyError, match="not supported"):
        jwt3._pkcs8_to_material(pkcs8("1.2.3.4", extra=[attributes]))


def test_certificate_without_public_key_info():
    cert = pem_der("rsa2048.crt.pem")
    tbs = jwt3._der_sequence(decode_one(cert), "cert")[0]
    fields = jwt3._der_items(tbs[1], "tbs")
    fields[6] = (jwt3._DER_INTEGER, b"\x01")     # replace the SPKI
    broken_tbs = jwt3._der_seq(*[jwt3._der(*f) for f in fields])
    rest = jwt3._der_sequence(decode_one(cert), "cert")[1:]
    broken = jwt3._der_seq(broken_tbs, *[jwt3._der(*f) for f in rest])
    with pytest.raises(KeyFormatError, match="no subjectPublicKeyInfo"):
        jwt3._certificate_to_material(broken)


@pytest.mark.parametrize("fixture, label", [
    ("rsa2048.pkcs8.pem", "PRIVATE KEY"),
    ("rsa2048.spki.pem", "PUBLIC KEY"),
    ("rsa2048.crt.pem", "CERTIFICATE"),
    ("rsa2048.pkcs1.pem", "RSA PRIVATE KEY"),
    ("rsa2048.pkcs1-pub.pem", "RSA PUBLIC KEY"),
])
def test_der_label(fixture, label):
    assert jwt3._der_label(pem_der(fixture)) == label


def test_der_label_ec_private_key_shape():
    # SEC 1 ECPrivateKey: version, then the private key OCTET STRING.
    der = jwt3._der_seq(jwt3._der_int(1), jwt3._der_octets(b"\x01" * 32))
    assert jwt3._der_label(der) == "EC PRIVATE KEY"


@pytest.mark.parametrize("der", [
    jwt3._der_seq(),
    jwt3._der_seq(jwt3._der_octets(b"")),
    jwt3._der_seq(*[jwt3._der_int(1)] * 5),
])
def test_der_label_unknown_shape(der):
    with pytest.raises(KeyFormatError, match="not a known key format"):
        jwt3._der_label(der)


def test_der_label_reports_the_der_error():
    der = pem_der("rsa2048.spki.pem")
    with pytest.raises(KeyFormatError, match="bytes after"):
        jwt3._der_label(der + b"\x00")
    with pytest.raises(KeyFormatError, match="expected 0x30"):
        jwt3._der_label(b"\x04\x00")


def test_der_to_material_unsupported_label():
    with pytest.raises(InvalidKeyError, match="X509 CRL keys are not"):
        jwt3._der_to_material(b"\x30\x00", "X509 CRL")
