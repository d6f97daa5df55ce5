"""PEM armour (jwt3 section 4, RFC 7468)."""

import base64
import os

import pytest
from hypothesis import given, strategies as st

import jwt3
from jwt3 import KeyFormatError

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def fixture(name):
    with open(os.path.join(DATA, name)) as f:
        return f.read()


labels = st.lists(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                  min_size=1, max_size=12).map("".join).filter(
                      lambda label: label != "EC PARAMETERS")


@given(labels, st.binary(min_size=1, max_size=700))
def test_round_trip(label, der):
    text = jwt3._pem_encode(label, der)
    assert jwt3._pem_blocks(text) == [(label, der)]


@given(st.binary(min_size=1, max_size=700))
def test_64_column_lines(der):
    lines = jwt3._pem_encode("PUBLIC KEY", der).splitlines()
    assert lines[0] == "-----BEGIN PUBLIC KEY-----"
    assert lines[-1] == "-----END PUBLIC KEY-----"
    body = lines[1:-1]
    assert all(len(line) == 64 for line in body[:-1])
    assert 0 < len(body[-1]) <= 64
    assert base64.b64decode("".join(body)) == der


def test_openssl_output_is_reproduced():
    text = fixture("rsa2048.spki.pem")
    [(label, der)] = jwt3._pem_blocks(text)
    assert jwt3._pem_encode(label, der) == text


def test_several_blocks_in_order():
    text = (jwt3._pem_encode("A", b"\x01") + "between\n"
            + jwt3._pem_encode("B 2", b"\x02"))
    assert jwt3._pem_blocks(text) == [("A", b"\x01"), ("B 2", b"\x02")]


def test_surrounding_text_is_ignored():
    # As "openssl x509 -text" prints it: a dump, then the PEM.
    text = ("Certificate:\n    Data:\n        Version: 3 (0x2)\n"
            "        Subject: CN = jwt3 test\n"
            + fixture("rsa2048.crt.pem") + "trailing words\n")
    [(label, der)] = jwt3._pem_blocks(text)
    assert label == "CERTIFICATE"
    assert jwt3.Key.from_pem(text).size == 2048


def test_crlf_and_blanks():
    der = bytes(range(100))
    text = jwt3._pem_encode("X", der).replace("\n", "\r\n")
    # RFC 7468 §3: blanks may follow the BEGIN line and wrap the body.
    text = text.replace("-----\r\n", "----- \t\r\n", 1).replace(
        "\r\n", "  \r\n")
    assert jwt3._pem_blocks(text) == [("X", der)]


def test_ec_parameters_are_skipped():
    text = (jwt3._pem_encode("EC PARAMETERS", b"\x06\x00")
            + jwt3._pem_encode("EC PRIVATE KEY", b"\x30\x00"))
    assert jwt3._pem_blocks(text) == [("EC PRIVATE KEY", b"\x30\x00")]


def test_no_block():
    assert jwt3._pem_blocks("no armour here") == []


@pytest.mark.parametrize("text", [
    "-----BEGIN X-----\nMAA=\n",                          # unterminated
    "-----BEGIN X-----\nMAA=\n-----END Y-----\n",         # mislabelled
    "-----BEGIN X-----MAA=\n-----END X-----\n",           # no line break
    "-----BEGIN x-----\nMAA=\n-----END x-----\n",         # lower case
    # A damaged block next to a good one is not skipped.
    "-----BEGIN X-----\nMAA=\n-----END Y-----\n"
    "-----BEGIN Z-----\nMAA=\n-----END Z-----\n",
    "-----BEGIN Z-----\nMAA=\n-----END Z-----\n-----BEGIN X-----\n",
])
def test_broken_armour(text):
    with pytest.raises(KeyFormatError, match="unterminated or mislabelled"):
        jwt3._pem_blocks(text)


@pytest.mark.parametrize("body", [
    "MAA",          # padding missing
    "MA=A",         # padding inside
    "MAA==",        # too much padding
    "MA-_",         # base64url alphabet
    "MAA=\x00",
    "M\u00e9A=",
])
def test_body_not_base64(body):
    # Which check refuses "MAA==" depends on the Python version.
    with pytest.raises(KeyFormatError,
                       match="body is not (canonical )?base64"):
        jwt3._pem_blocks("-----BEGIN X-----\n%s\n-----END X-----\n" % body)


@pytest.mark.parametrize("body", ["MAB=", "MB==", "MAF="])
def test_body_not_canonical(body):
    with pytest.raises(KeyFormatError, match="not canonical base64"):
        jwt3._pem_blocks("-----BEGIN X-----\n%s\n-----END X-----\n" % body)


@pytest.mark.parametrize("name", ["rsa2048.encrypted-pkcs8.pem",
                                  "rsa2048.encrypted-pkcs1.pem"])
def test_encrypted_pem_refused(name):
    text = fixture(name)
    with pytest.raises(KeyFormatError, match="encrypted keys are not"):
        jwt3._pem_blocks(text)
    with pytest.raises(KeyFormatError, match="decrypt it first"):
        jwt3.Key.from_pem(text)


@pytest.mark.parametrize("name", [
    "rsa2048.pkcs8.pem", "rsa2048.pkcs1.pem", "rsa2048.spki.pem",
    "rsa2048.pkcs1-pub.pem", "rsa2048.crt.pem"])
def test_key_from_every_label(name):
    key = jwt3.Key.from_pem(fixture(name))
    assert key.kty == "RSA" and key.size == 2048
    assert key.public().to_pem() == fixture("rsa2048.spki.pem")
