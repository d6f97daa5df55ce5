"""Kamailio key strings (section 23): every rule and how each fails.

The C module's jwt_load_keys() routes a key string by its shape (URL,
'{', "-----BEGIN" or no '.', ".json", anything else); jwt3 keeps that
order.  Each rule is driven here through ``Module.jwt3_verify_key`` with
files in tmp_path; errors must name the rule taken and why it failed,
and never echo key material.  Remote URLs are tested in
test_jwks_remote.py.

PEM and DER need a key family that reads them.  So that these tests run
in any build, a stand-in family is registered for the made-up OID
1.2.3.4 whose "public key" is an HMAC secret (``fake_spki``); the real
families are exercised by the round trips at the end, when present.
"""

import json
import os
from typing import Any, Dict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jwt3

SECRET = b"s" * 32
FAKE_OID = "1.2.3.4"
CLOCK = 1_700_000_000


def oct_jwk(secret: bytes = SECRET, **extra: Any) -> Dict[str, Any]:
    jwk = jwt3.Key.from_secret(secret).to_jwk(private=True)
    jwk.update(extra)
    return jwk


def token(kid: Any = None, secret: bytes = SECRET, alg: str = "HS256"
          ) -> str:
    headers = {"kid": kid} if kid is not None else None
    return jwt3.encode({"sub": "alice"}, jwt3.Key.from_secret(secret), alg,
                       headers)


def fake_der(secret: bytes = SECRET, oid: str = FAKE_OID) -> bytes:
    return jwt3._der_seq(jwt3._der_seq(jwt3._der_oid(oid)),
                         jwt3._der_bits(secret))


def fake_pem(secret: bytes = SECRET, oid: str = FAKE_OID) -> str:
    return jwt3._pem_encode("PUBLIC KEY", fake_der(secret, oid))


@pytest.fixture
def fake_spki(monkeypatch: Any) -> None:
    """A stand-in SPKI family: the subjectPublicKey is an HMAC secret."""
    monkeypatch.setitem(jwt3._SPKI_PARSERS, FAKE_OID,
                        lambda params, public: jwt3._OctMaterial(public))


@pytest.fixture
def module() -> jwt3.Module:
    return jwt3.Module(leeway_sec=0, clock=lambda: CLOCK)


def verify(module: jwt3.Module, key: str, jwt: str = "") -> int:
    return module.jwt3_verify_key(key, "HS256", "sub='alice'",
                                  jwt or token())


def failure(module: jwt3.Module, key: str, jwt: str = "") -> str:
    assert verify(module, key, jwt) == -1
    assert module.pv("status") == jwt3.STATUS_KEY, module.pv("error")
    return str(module.pv("error"))


# -- which rule takes which string


@pytest.mark.parametrize("text, rule", [
    ("https://example.com/jwks.json", "URL"),
    ("http://example.com", "URL"),
    ('{"kty":"oct"}', "inline JWK"),
    ('{"keys":[{"kid":"a.b"}]}', "inline JWK"),
    ("-----BEGIN PUBLIC KEY-----\nAA.BB\n", "PEM text"),     # addition
    ("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", "PEM text"),
    ("/etc/kamailio/keys.json", "JWK Set file"),
    ("/etc/kamailio/key.pem", "PEM file"),
    ("/etc/k.d/key", "PEM file"),           # the directory's '.' counts
    ("keys.jwks", "PEM file"),
    ("keys.json.bak", "PEM file"),
    ("ftp://example.com/key.pem", "PEM file"),
    ("file:///etc/kamailio/key.pem", "PEM file"),
    # The C module's traps, kept (Choice in _key_string_rule):
    ("HTTPS://example.com/jwks.json", "JWK Set file"),
    ("HTTP://example.com/keys", "PEM file"),
    (" https://example.com/jwks.json", "JWK Set file"),
    ('\n  {"kty":"oct"}', "PEM text"),
    (' {"kid":"a.b"}', "PEM file"),
    ("\n-----BEGIN PUBLIC KEY-----\nAA.BB\n", "PEM file"),
    ("/etc/kamailio/pubkey", "PEM text"),
    ("keys.JSON", "PEM file"),
])
def test_rule(text: str, rule: str) -> None:
    assert jwt3._key_string_rule(text) == rule


# -- inline JWK and JWK Set


def test_inline_jwk(module: jwt3.Module) -> None:
    assert verify(module, json.dumps(oct_jwk())) == 1
    assert verify(module, json.dumps({"keys": [oct_jwk(kid="a")]})) == 1
    assert module.pv("status") == jwt3.STATUS_OK


def test_inline_jwk_after_whitespace(module: jwt3.Module) -> None:
    # The C module's trap, kept: " {...}" is PEM text (no '.') or a
    # file path (with one); the error says why.
    error = failure(module, "\r\n\t " + json.dumps(oct_jwk()))
    assert error == ("key string (PEM text): not PEM (no -----BEGIN"
                     " line) (inline JSON must start with '{', with"
                     " nothing before it, as in Kamailio)"), error
    error = failure(module, " " + json.dumps(oct_jwk(kid="a.b")))
    assert error.startswith("key string (PEM file ' {"), error
    assert error.endswith("no such file (inline JSON must start with"
                          " '{', with nothing before it, as in"
                          " Kamailio)"), error


@pytest.mark.parametrize("text, reason", [
    ("{not json", "invalid JSON"),
    ('{"kty": "oct"}', '"k"'),
    ('{"kty": "XYZ"}', "not supported"),
    ('{"keys": {}}', "expected an array"),
    ('{"keys": [{"kty": "XYZ"}, 7]}', "no usable key; [0]"),
    ('{"keys": [], "keys": []}', "duplicate member"),
])
def test_inline_jwk_fails(module: jwt3.Module, text: str, reason: str
                          ) -> None:
    error = failure(module, text)
    assert error.startswith("key string (inline JWK): "), error
    assert reason in error, error


def test_no_usable_key_names_rule_and_reason(module: jwt3.Module) -> None:
    text = json.dumps({"keys": [oct_jwk(alg="HS512"), {"kty": "XYZ"}]})
    error = failure(module, text)
    assert error.startswith("key string (inline JWK): no key can verify"
                            " with HS256"), error
    assert '"alg" is HS512' in error
    assert "skipped: [1]" in error and "XYZ" in error

    short = json.dumps(oct_jwk(b"short"))
    assert "at least 32 bytes" in failure(module, short)


def test_errors_never_echo_key_material(module: jwt3.Module) -> None:
    secret_b64 = oct_jwk()["k"]
    for text in ('{"kty": "oct", "k": "%s", "alg": 5}' % secret_b64,
                 json.dumps(oct_jwk(alg="HS512"))):
        assert secret_b64 not in failure(module, text)
    pem = fake_pem(oid="1.2.3.5")
    error = failure(module, pem)
    assert pem.splitlines()[1] not in error


# -- PEM text


def test_pem_text(module: jwt3.Module, fake_spki: None) -> None:
    pem = fake_pem()
    assert verify(module, pem) == 1
    # The kid of a PEM key string is "legacy-raw", as in C.
    assert verify(module, pem, token("legacy-raw")) == 1
    # The addition to the C rules (pinned): PEM text with a '.' in it
    # (here in comment text after the block) is still PEM text.
    assert verify(module, pem + "made by openssl 3.0.\n") == 1


def test_pem_text_fails(module: jwt3.Module) -> None:
    error = failure(module, "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA")
    assert error.startswith("key string (PEM text): not PEM"), error

    error = failure(module, fake_pem(oid="1.2.3.5"))
    assert error == ("key string (PEM text): public key algorithm 1.2.3.5"
                     " is not supported"), error

    encrypted = ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n"
                 "-----END ENCRYPTED PRIVATE KEY-----\n")
    assert "encrypted keys are not supported" in failure(module, encrypted)


def test_path_without_dot_is_pem_text(module: jwt3.Module, tmp_path: Any,
                                      fake_spki: None) -> None:
    # The C module's trap, kept (Choice): a path without any '.' is
    # PEM text, so it fails even though the file is a good key.
    path = tmp_path / "pubkey"
    if "." in str(path):
        pytest.skip("the temporary directory has a '.' in its path")
    path.write_text(fake_pem())
    error = failure(module, str(path))
    assert error == ("key string (PEM text): not PEM (no -----BEGIN"
                     " line) (a key string without any '.' is taken as"
                     " PEM text, as in Kamailio: a file path needs a '.'"
                     " in it)"), error


# -- JWK Set files


def write(path: Any, data: Any) -> str:
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return str(path)


def test_jwk_set_file(module: jwt3.Module, tmp_path: Any) -> None:
    doc = json.dumps({"keys": [oct_jwk(kid="a")]})
    assert verify(module, write(tmp_path / "keys.json", doc)) == 1
    assert verify(module, write(tmp_path / "bare.json",
                                json.dumps(oct_jwk()))) == 1
    # The C module's trap, kept: "keys.JSON" is a PEM file.
    path = write(tmp_path / "keys.JSON", doc)
    assert failure(module, path) == (
        "key string (PEM file %r): not a PEM or DER key (it holds JSON:"
        " only a name ending in \".json\", lower case, is read as a JWK"
        " Set, as in Kamailio)" % path)


def test_jwk_set_file_fails(module: jwt3.Module, tmp_path: Any) -> None:
    def error_of(name: str, data: Any = None) -> str:
        path = tmp_path / name
        if data is not None:
            write(path, data)
        error = failure(module, str(path))
        assert error.startswith("key string (JWK Set file %r): "
                                % str(path)), error
        return error[len("key string (JWK Set file %r): " % str(path)):]

    assert error_of("missing.json") == "no such file"
    (tmp_path / "dir.json").mkdir()
    assert error_of("dir.json").startswith("cannot read it (")
    assert error_of("empty.json", b"") == "the file is empty"
    assert "invalid JSON" in error_of("pem.json", fake_pem())
    assert "not valid UTF-8" in error_of("latin1.json", b'{"k": "\xe9"}')
    assert "no usable key" in error_of(
        "unknown.json", '{"keys": [{"kty": "XYZ"}]}')
    big = b'{"keys": [' + b" " * (1 << 20) + b"]}"
    assert error_of("big.json", big) == "larger than 1048576 bytes"
    assert "no key can verify with HS256" in error_of(
        "enc.json", json.dumps({"keys": [oct_jwk(use="enc")]}))


def test_path_with_nul(module: jwt3.Module) -> None:
    # The Kamailio functions refuse a NUL in any argument (a C string
    # cannot hold one); the loader itself, as the command line reaches
    # it, says why such a path cannot be a file.
    assert verify(module, "/etc/keys\x00.json") == -1
    assert module.pv("status") == jwt3.STATUS_ARGUMENTS
    for path in ("/etc/keys\x00.json", "/etc/key\x00.pem"):
        with pytest.raises(jwt3.KeyFormatError,
                           match="not a file path \\(NUL character\\)"):
            module._keys(path)


def test_file_is_reread_when_it_changes(module: jwt3.Module, tmp_path: Any
                                        ) -> None:
    path = write(tmp_path / "keys.json", json.dumps(oct_jwk()))
    assert verify(module, path) == 1
    other = b"o" * 32
    write(tmp_path / "keys.json", json.dumps(oct_jwk(other)))
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert verify(module, path) == -1
    assert verify(module, path, token(secret=other)) == 1


# -- PEM and DER files


def test_pem_file(module: jwt3.Module, tmp_path: Any,
                  fake_spki: None) -> None:
    path = write(tmp_path / "key.pem", "comment\n" + fake_pem())
    assert verify(module, path) == 1
    assert verify(module, path, token("legacy-file")) == 1
    # the directory part counts: no dot in the name, one in the path
    (tmp_path / "k.d").mkdir()
    assert verify(module, write(tmp_path / "k.d" / "key", fake_pem())) == 1
    # any other name is a PEM file: ".jwk" and ".jwks" too (C does so)
    assert verify(module, write(tmp_path / "key.jwk", fake_pem())) == 1


def test_der_file(module: jwt3.Module, tmp_path: Any,
                  fake_spki: None) -> None:
    path = write(tmp_path / "key.der", fake_der())
    assert verify(module, path) == 1
    assert verify(module, path, token("legacy-file")) == 1


def test_pem_file_fails(module: jwt3.Module, tmp_path: Any) -> None:
    def error_of(name: str, data: Any = None) -> str:
        path = tmp_path / name
        if data is not None:
            write(path, data)
        error = failure(module, str(path))
        assert error.startswith("key string (PEM file %r): "
                                % str(path)), error
        return error[len("key string (PEM file %r): " % str(path)):]

    assert error_of("missing.pem") == "no such file"
    (tmp_path / "dir.pem").mkdir()
    assert error_of("dir.pem").startswith("cannot read it (")
    assert error_of("empty.pem", b"") == "the file is empty"
    assert error_of("text.pem", "hello") == "not a PEM or DER key"
    # JSON in a file whose name does not end in ".json" (C: PEM, fails)
    assert error_of("keys.jwks", json.dumps(oct_jwk())).startswith(
        "not a PEM or DER key (it holds JSON: only a name ending in")
    assert "DER" in error_of("junk.der", b"\x30\x03\x02\x01")
    assert error_of("other.pem", fake_pem(oid="1.2.3.5")) \
        == "public key algorithm 1.2.3.5 is not supported"
    assert error_of("big.pem", b"-----BEGIN" + b"A" * (1 << 20)) \
        == "larger than 1048576 bytes"
    assert "unterminated" in error_of("cut.pem", fake_pem()[:-30])


# -- key choice inside a static set, and generate


def test_static_set_kid_rules(module: jwt3.Module) -> None:
    other = b"o" * 32
    text = json.dumps({"keys": [oct_jwk(kid="a"),
                                oct_jwk(other, kid="b")]})
    assert verify(module, text, token("b", other)) == 1
    # a kid not found: the first usable key (as the C module)
    assert verify(module, text, token("zz")) == 1
    # a kid found must fit: never another key
    text = json.dumps({"keys": [oct_jwk(kid="b"),
                                oct_jwk(other, kid="a", alg="HS512")]})
    error = failure(module, text, token("a", other))
    assert error.startswith("key string (inline JWK): no key can verify"
                            " with HS256: the key's \"alg\" is HS512"), error


def test_generate_with_key_strings(module: jwt3.Module, tmp_path: Any
                                   ) -> None:
    path = write(tmp_path / "keys.json", json.dumps(
        {"keys": [oct_jwk(kid="a"), oct_jwk(b"o" * 32, kid="b")]}))
    assert module.jwt3_generate(path, "HS256", "sub='alice'", "kid=b") == 1
    jwt = module.pv("val")
    assert jwt3.decode(jwt, jwt3.Key.from_secret(b"o" * 32), ["HS256"],
                       now=CLOCK)["sub"] == "alice"
    assert module.jwt3_generate(path, "HS256", "sub='alice'", "kid=c") == -1
    assert module.pv("error") == ("key string (JWK Set file %r): no key"
                                  " with kid 'c'" % path)
    assert module.jwt3_generate(str(tmp_path / "none.json"), "HS256",
                                "sub='alice'") == -1
    assert module.pv("error").endswith("no such file")


# -- the real families, when this build has them


ASYMMETRIC = [alg for alg in jwt3.supported_algorithms()
              if not alg.startswith("HS")]
_GENERATED = {}    # type: Dict[str, jwt3.Key]


def generate(alg: str) -> jwt3.Key:
    if alg not in _GENERATED:
        _GENERATED[alg] = jwt3.generate_key(alg)
    return _GENERATED[alg]


def der_of(key: jwt3.Key) -> bytes:
    import base64

    body = "".join(key.public().to_pem().splitlines()[1:-1])
    return base64.b64decode(body)


@pytest.mark.parametrize("alg", ASYMMETRIC or [
    pytest.param("RS256", marks=pytest.mark.skip(
        reason="no asymmetric family in this build"))])
def test_every_form_of_a_real_key(module: jwt3.Module, tmp_path: Any,
                                  alg: str) -> None:
    key = generate(alg)
    jwt = jwt3.encode({"sub": "alice"}, key, alg)
    forms = {
        "pem-text": key.public().to_pem(),
        "inline": json.dumps(key.to_jwk()),
        "pem-file": write(tmp_path / "pub.pem", key.public().to_pem()),
        "priv-file": write(tmp_path / "priv.pem", key.to_pem(True)),
        "der-file": write(tmp_path / "pub.der", der_of(key)),
        "json-file": write(tmp_path / "pub.json",
                           json.dumps({"keys": [key.to_jwk()]})),
    }
    for name, text in forms.items():
        assert module.jwt3_verify_key(text, alg, "sub='alice'", jwt) == 1, \
            (name, module.pv("error"))
    assert module.jwt3_generate(forms["priv-file"], alg, "sub='a'") == 1


# -- any key string: a clean failure, never an internal error


@settings(max_examples=150)
@given(st.text(max_size=60) | st.builds(
    lambda head, body: head + body,
    st.sampled_from(["{", " {", "-----BEGIN PUBLIC KEY-----\n", "/tmp/x.",
                     "k.json", "k.JSON", "-----BEGIN "]),
    st.text(max_size=60)))
def test_any_key_string(text: str) -> None:
    if jwt3._key_string_rule(text) == "URL":
        return                     # no network from a fuzzer
    module = jwt3.Module(leeway_sec=0, clock=lambda: CLOCK)
    result = module.jwt3_verify_key(text, "HS256", "", token())
    assert result == 1 or module.pv("status") in (
        jwt3.STATUS_KEY, jwt3.STATUS_ARGUMENTS), module.pv("error")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_not_read(module: jwt3.Module, tmp_path: Any) -> None:
    # Opening a FIFO for reading blocks until a writer comes: a key path
    # naming one must fail at once instead of hanging the caller.
    path = str(tmp_path / "key.pem")
    os.mkfifo(path)
    error = failure(module, path)
    assert error.endswith("not a regular file"), error
