"""Section 25: the embedded known-answer tests (``jwt3 selftest``).

Each family's test must pass when its algorithms are registered and be
reported "not available" (a failure) when they are not; a family whose
algorithms this build lacks is skipped by the pass test, naming it.
"""

import os
import subprocess
import sys

import pytest

import jwt3
from vectors import b64u, by_id

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAMILIES = list(jwt3._SELFTEST_FAMILIES)
SIGNING = [family for family in FAMILIES if family != "parse_params"]


def registered(family):
    return all(name in jwt3._ALGORITHMS
               for name in jwt3._SELFTEST_FAMILIES[family])


def need(family):
    if not registered(family):
        pytest.skip("%s family not in this build" % family)


def run_only(monkeypatch, family):
    """The (failure or None) of one family's test, via _selftest."""
    monkeypatch.setattr(jwt3, "_SELFTESTS", [
        entry for entry in jwt3._SELFTESTS if entry[0] == family])
    [(name, failure, seconds)] = jwt3._selftest()
    assert name == family and seconds >= 0
    return failure


def test_every_family_has_a_test():
    assert [family for family, _ in jwt3._SELFTESTS] == FAMILIES
    assert FAMILIES == ["HS", "RS", "PS", "ES", "ES256K", "Ed25519",
                        "Ed448", "parse_params"]


@pytest.mark.parametrize("family", FAMILIES)
def test_family_passes_when_registered(monkeypatch, family):
    need(family)
    assert run_only(monkeypatch, family) is None


@pytest.mark.parametrize("family", SIGNING)
def test_family_unavailable_is_a_failure(monkeypatch, family):
    names = jwt3._SELFTEST_FAMILIES[family]
    for name in names:
        monkeypatch.delitem(jwt3._ALGORITHMS, name, raising=False)
    assert run_only(monkeypatch, family) == \
        "not available: %s not registered" % ", ".join(names)


@pytest.mark.parametrize("family", SIGNING)
def test_a_wrong_signer_is_detected(monkeypatch, family):
    need(family)
    for name in jwt3._SELFTEST_FAMILIES[family]:
        alg = jwt3._ALGORITHMS[name]

        def sign(material, data, _sign=alg.sign, **options):
            signature = _sign(material, data, **options)
            return signature[:-1] + bytes([signature[-1] ^ 0x80])
        monkeypatch.setitem(jwt3._ALGORITHMS, name, alg._replace(
            sign=sign))
    failure = run_only(monkeypatch, family)
    assert failure.startswith("AssertionError: ")


@pytest.mark.parametrize("family", SIGNING)
def test_a_verifier_that_accepts_anything_is_detected(monkeypatch,
                                                      family):
    need(family)
    for name in jwt3._SELFTEST_FAMILIES[family]:
        monkeypatch.setitem(jwt3._ALGORITHMS, name,
                            jwt3._ALGORITHMS[name]._replace(
                                verify=lambda *arguments: True))
    failure = run_only(monkeypatch, family)
    assert failure.startswith("AssertionError: ")
    assert "verified" in failure


@pytest.mark.parametrize("family", SIGNING)
def test_a_verifier_that_refuses_everything_is_detected(monkeypatch,
                                                        family):
    need(family)
    for name in jwt3._SELFTEST_FAMILIES[family]:
        monkeypatch.setitem(jwt3._ALGORITHMS, name,
                            jwt3._ALGORITHMS[name]._replace(
                                verify=lambda *arguments: False))
    failure = run_only(monkeypatch, family)
    assert failure.startswith(("AssertionError: ",
                               "InvalidSignatureError: ")), failure


def test_a_failing_family_is_reported(monkeypatch, capsys):
    def wrong():
        raise AssertionError("known answer differs")

    def bad_key():
        jwt3.Key.from_secret(b"")

    def crash():
        return [][1]

    monkeypatch.setattr(jwt3, "_SELFTESTS", [("HS", jwt3._selftest_hs),
                                             ("broken", wrong),
                                             ("key", bad_key),
                                             ("crash", crash)])
    results = jwt3._selftest()
    assert [(family, failure) for family, failure, _ in results] == [
        ("HS", None),
        ("broken", "AssertionError: known answer differs"),
        ("key", "InvalidKeyError: an HMAC secret cannot be empty"),
        ("crash", "IndexError: list index out of range")]
    assert jwt3.main(["selftest"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("jwt3 %s on " % jwt3.__version__)
    assert lines[1].split()[:2] == ["HS", "ok"]
    assert lines[2].split()[:2] == ["broken", "FAIL"]
    assert lines[2].endswith("ms  AssertionError: known answer differs")
    assert lines[-1] == "selftest FAILED: 3 of 4 families"


def test_main_passes_only_if_every_family_passes(capsys):
    everything = all(registered(family) for family in FAMILIES)
    assert jwt3.main(["selftest"]) == (0 if everything else 1)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:-1]] == FAMILIES
    for family, line in zip(FAMILIES, lines[1:-1]):
        if registered(family):
            assert line.split()[1] == "ok", line
        else:
            assert "FAIL" in line and "not available" in line
    assert lines[-1].startswith("selftest passed: 8 families in "
                                if everything else "selftest FAILED")


def test_selftest_detects_a_lenient_parser(monkeypatch):
    monkeypatch.setattr(jwt3, "parse_params", lambda text: [
        jwt3.Param("a", "x;y", "'"), jwt3.Param("b", "it's", '"'),
        jwt3.Param("c", "100", ""), jwt3.Param("d", None, "")])
    assert run_only(monkeypatch, "parse_params") == \
        "AssertionError: parse_params: ',' does not end the list"


def test_selftest_detects_a_parser_that_accepts_errors(monkeypatch):
    parse = jwt3.parse_params

    def lenient(text):
        try:
            return parse(text)
        except jwt3.MalformedError:
            return []
    monkeypatch.setattr(jwt3, "parse_params", lenient)
    assert run_only(monkeypatch, "parse_params") == \
        "AssertionError: parse_params accepted ' a=1'"


def test_expect_is_not_an_assert_statement():
    jwt3._expect(True, "unused")
    with pytest.raises(AssertionError, match="^why$"):
        jwt3._expect(False, "why")


def test_checks_survive_python_dash_o():
    # Under -O, assert statements vanish; the self-test must not.
    code = ("import jwt3\n"
            "alg = jwt3._ALGORITHMS['HS256']\n"
            "jwt3._ALGORITHMS['HS256'] = alg._replace(\n"
            "    verify=lambda *arguments: True)\n"
            "print(dict((f, e) for f, e, _ in jwt3._selftest())['HS'])\n")
    done = subprocess.run([sys.executable, "-O", "-c", code], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)
    assert done.stdout.decode().startswith(
        "AssertionError: a tampered HS256 token verified"), \
        done.stderr


# -- the embedded data are the vector files' values

def test_embedded_rsa_data():
    case = by_id("rfc7515", "RFC7515-A.2")
    assert (jwt3._SELFTEST_RSA_P, jwt3._SELFTEST_RSA_Q) == (
        case["jwk"]["p"], case["jwk"]["q"])
    assert jwt3._SELFTEST_PAYLOAD == case["payload_b64u"]
    assert case["protected_b64u"] == "eyJhbGciOiJSUzI1NiJ9"
    assert jwt3._SELFTEST_RS256 == case["signature_b64u"]
    # The key rebuilt from p and q is the published one.
    if "RSA" in jwt3._JWK_PARSERS:
        jwk = jwt3._selftest_rsa_key().to_jwk(private=True)
        assert {name: jwk[name] for name in case["jwk"]
                if name != "kty"} == {name: value for name, value in
                                      case["jwk"].items() if name != "kty"}

    case = by_id("rfc7520", "RFC7520-4.2")
    assert jwt3._SELFTEST_PS_N == case["jwk_public"]["n"]
    assert case["jwk_public"]["e"] == "AQAB"
    assert jwt3._SELFTEST_PS_INPUT == case["signing_input"]
    assert jwt3._SELFTEST_PS384 == case["signature_b64u"]


def test_embedded_ecdsa_data():
    case = by_id("rfc6979", "RFC6979-A.2.5-P-256-SHA-256-sample")
    assert jwt3._SELFTEST_ES256_JWK == case["jwk_derived"]
    assert case["message"] == "sample"
    assert b64u(jwt3._SELFTEST_ES256).hex() == case["r_hex"] + case["s_hex"]

    case = by_id("es256k", "GENERATED-ES256K-1")
    assert jwt3._SELFTEST_ES256K_JWK == case["jwk"]
    assert case["signing_input"] == "eyJhbGciOiJFUzI1NksifQ." + \
        jwt3._SELFTEST_PAYLOAD
    assert jwt3._SELFTEST_ES256K == case["signature_b64u"]


@pytest.mark.parametrize("case_id, jwk, signature", [
    ("RFC8032-7.1-TEST-1", "_SELFTEST_ED25519_JWK", "_SELFTEST_ED25519"),
    ("RFC8032-7.4-Blank", "_SELFTEST_ED448_JWK", "_SELFTEST_ED448"),
])
def test_embedded_eddsa_data(case_id, jwk, signature):
    case = by_id("rfc8032", case_id)
    jwk = getattr(jwt3, jwk)
    assert (jwk["kty"], jwk["crv"]) == ("OKP", case["variant"])
    assert b64u(jwk["d"]).hex() == case["secret_key_hex"]
    assert b64u(jwk["x"]).hex() == case["public_key_hex"]
    assert case["message_hex"] == ""
    assert b64u(getattr(jwt3, signature)).hex() == case["signature_hex"]


# -- as a program

@pytest.mark.parametrize("how", [["jwt3.py"], ["-m", "jwt3"]])
def test_command_line(how):
    done = subprocess.run([sys.executable] + how + ["selftest"], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)
    everything = all(registered(family) for family in FAMILIES)
    assert done.returncode == (0 if everything else 1), done.stdout
    assert done.stderr == b""
    lines = done.stdout.decode().splitlines()
    assert lines[1].split()[:2] == ["HS", "ok"]
    assert len(lines) == len(FAMILIES) + 2
