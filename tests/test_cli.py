"""Sections 26-28: the command line (``jwt3 ...``).

Most cases call ``jwt3.main([...])`` and read stdout/stderr through
capsys, with the CLI clock fixed at NOW; a few representative ones run
``python3 jwt3.py ...`` and ``python3 -m jwt3 ...`` as subprocesses.
Tests over algorithms are parametrized over every JWS algorithm of
DESIGN §2 and skip, naming the family, when the build lacks it.
"""

import configparser
import io
import json
import os
import stat
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

import jwt3
from vectors import params

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "jwt3.py")
NOW = 1_800_000_000
UMASK = os.umask(0o022)
os.umask(UMASK)
POSIX = pytest.mark.skipif(os.name != "posix",
                           reason="file modes are POSIX-only")

# A 64-byte secret: long enough for HS256, HS384 and HS512.
SECRET = ("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3"
          "Yj0iPS4hcgUuTwjAzZr1Z9CAow")
OTHER_SECRET = ("hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYgAyM1SysPpbyDf"
                "gZld3umj1qzKObwVMkoqQ-EstJQ")
HS_JWK = {"kty": "oct", "k": SECRET}
JWKS = {"keys": [dict(HS_JWK, kid="a"),
                 {"kty": "oct", "k": OTHER_SECRET, "kid": "b"}]}

# Every JWS algorithm of DESIGN §2, with its family and the (alg, crv)
# that generates a key for it.
FAMILY = {
    "HS256": "HS", "HS384": "HS", "HS512": "HS",
    "RS256": "RSA", "RS384": "RSA", "RS512": "RSA",
    "PS256": "RSA-PSS", "PS384": "RSA-PSS", "PS512": "RSA-PSS",
    "ES256": "ECDSA", "ES384": "ECDSA", "ES512": "ECDSA",
    "ES256K": "ES256K", "EdDSA": "EdDSA", "Ed25519": "EdDSA",
    "Ed448": "EdDSA (Ed448)",
}
ALL_ALGS = list(FAMILY)
KEYGEN = {alg: ("HS512", None) for alg in ("HS256", "HS384", "HS512")}
KEYGEN.update({alg: ("RS256", None) for alg in ALL_ALGS
               if alg[:2] in ("RS", "PS")})
KEYGEN.update({alg: (alg, None) for alg in ("ES256", "ES384", "ES512",
                                            "ES256K")})
KEYGEN.update({"EdDSA": ("EdDSA", "Ed25519"),
               "Ed25519": ("EdDSA", "Ed25519"),
               "Ed448": ("EdDSA", "Ed448")})
# One algorithm per key type and curve (for key format tests).
ASYMMETRIC = ["RS256", "ES256", "ES384", "ES512", "ES256K", "EdDSA",
              "Ed448"]


def need(alg):
    """Skip unless this build registers ``alg`` (and what makes its
    keys), naming the family."""
    for name in (alg, KEYGEN[alg][0]):
        if name not in jwt3.supported_algorithms():
            pytest.skip("%s family not in this build (%s)"
                        % (FAMILY[name], name))


_KEY_CACHE = {}


def private_key(alg):
    """A private key (no "alg" member) that signs with ``alg``; one per
    key type and curve per test session (RSA generation is slow)."""
    need(alg)
    spec = KEYGEN[alg]
    if spec not in _KEY_CACHE:
        if spec[0] == "HS512":
            _KEY_CACHE[spec] = jwt3.Key.from_jwk(HS_JWK)
        else:
            key = jwt3.generate_key(spec[0], crv=spec[1])
            _KEY_CACHE[spec] = jwt3.Key(key._material, kid=key.kid)
    return _KEY_CACHE[spec]


def public_jwk(key):
    return key.to_jwk(private=key.kty == "oct")


def write(path, data, mode=None):
    if isinstance(data, dict):
        data = json.dumps(data)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    if mode is not None:
        os.chmod(str(path), mode)
    return str(path)


def file_mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run main(argv) with the clock at NOW; return (code, out, err).

    ``stdin`` (bytes) becomes standard input."""
    monkeypatch.setattr(jwt3, "_cli_clock", lambda: NOW)

    def run(argv, stdin=None):
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin",
                                io.TextIOWrapper(io.BytesIO(stdin)))
        code = jwt3.main([str(arg) for arg in argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err
    return run


@pytest.fixture
def hs_key(tmp_path):
    return write(tmp_path / "hs.json", HS_JWK)


def hs_token(claims=None, headers=None, secret=SECRET):
    key = jwt3.Key.from_jwk({"kty": "oct", "k": secret})
    return jwt3.encode(claims or {"sub": "alice"}, key, "HS256", headers)


def forged_hs_token(claims, secret=SECRET):
    """An HS256 token over exactly these claims, even ones jwt3.encode
    refuses to write (an exp that is a string, say)."""
    key = jwt3.Key.from_jwk({"kty": "oct", "k": secret})
    signing_input = (jwt3._b64u_encode(b'{"alg":"HS256"}') + "."
                     + jwt3._b64u_encode(json.dumps(claims).encode()))
    return signing_input + "." + jwt3._b64u_encode(
        key.sign("HS256", signing_input.encode()))


def subprocess_run(args, input=None, cwd=None, python=(sys.executable,)):
    done = subprocess.run(list(python) + list(args), input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          cwd=cwd, timeout=120)
    assert b"Traceback" not in done.stderr, done.stderr
    return done


# -- the command itself

def test_no_command_is_a_usage_error(cli):
    code, out, err = cli([])
    assert code == 2 and out == ""
    assert "a COMMAND is needed" in err


def test_unknown_command_and_option(cli):
    assert cli(["frobnicate"])[0] == 2
    code, _, err = cli(["verify", "--frobnicate", "-k", "x", "-a", "HS256"])
    assert code == 2 and "unrecognized arguments" in err


@pytest.mark.parametrize("command", ["generate", "verify", "decode",
                                     "keygen", "key2jwk", "jwk2key",
                                     "thumbprint", "selftest"])
def test_every_command_has_help_with_examples(cli, command):
    code, out, err = cli([command, "--help"])
    assert (code, err) == (0, "")
    assert "examples:" in out or "example:" in out
    assert "exit status:" in out and "2  usage error" in out


def test_top_help_and_version(cli):
    code, out, _ = cli(["--help"])
    assert code == 0 and "exit status:" in out and "selftest" in out
    code, out, _ = cli(["--version"])
    assert code == 0 and out.strip() == "jwt3 " + jwt3.__version__


def test_main_documents_exit_codes():
    doc = " ".join(jwt3.main.__doc__.split())
    for text in ("Exit status: 0 success; 1 failure", "2 usage error",
                 "Examples::", "python3 jwt3.py verify"):
        assert text in doc


def test_unknown_and_none_algorithms_are_usage_errors(cli, hs_key):
    code, out, err = cli(["generate", "-k", hs_key, "-a", "HS999"])
    assert code == 2 and out == ""
    assert "unknown algorithm 'HS999'" in err and "HS256" in err
    code, _, err = cli(["verify", "-k", hs_key, "-a", "none", "x.y.z"])
    assert code == 2 and 'alg "none" is never produced' in err


# -- generate

@pytest.mark.parametrize("alg", ALL_ALGS)
def test_generate_then_verify_every_algorithm(cli, tmp_path, alg):
    key = private_key(alg)
    private = write(tmp_path / "key.json", key.to_jwk(private=True))
    public = write(tmp_path / "public.json", public_jwk(key))

    code, out, err = cli(["generate", "-k", private, "-a", alg,
                          "-c", "sub='alice';n=7", "--exp", "60"])
    assert (code, err) == (0, "")
    token = out.strip()
    assert out == token + "\n"
    assert jwt3.decode_unverified(token).header == {"alg": alg,
                                                    "typ": "JWT"}

    code, out, err = cli(["verify", "-k", public, "-a", alg,
                          "-c", "sub='alice'", token])
    assert (code, err) == (0, "")
    assert json.loads(out) == {"sub": "alice", "n": 7, "iat": NOW,
                               "exp": NOW + 60}


def test_generate_claims_typing_and_repeats(cli, tmp_path):
    key = write(tmp_path / "hs.json", dict(HS_JWK, kid="007"))
    code, out, _ = cli([
        "generate", "-k", key, "-a", "HS256",
        "-c", "caller='alice';index=100;tn='+4912345';"
              "big=99999999999999999999",
        "-c", "flag;callee=bob;empty=",
        "-H", "ppt=shaken", "-H", "kid=007"])
    assert code == 0
    decoded = jwt3.decode_unverified(out.strip())
    assert decoded.claims == {"caller": "alice", "index": 100,
                              "tn": "+4912345",
                              "big": "99999999999999999999",
                              "callee": "bob", "iat": NOW}
    # A kid is always a string (DESIGN §5), other headers are typed.
    assert decoded.header == {"alg": "HS256", "typ": "JWT",
                              "ppt": "shaken", "kid": "007"}


def test_generate_passport_with_json(cli, hs_key):
    code, out, _ = cli([
        "generate", "-k", hs_key, "-a", "HS256",
        "-H", "typ=passport;ppt=shaken;x5u=https://cert.example/a.pem",
        "-c", "attest=A", "--json",
        '{"orig": {"tn": "12155550121"}, "dest": {"tn": ["12155550131"]},'
        ' "verified": true, "ratio": 0.5}'])
    assert code == 0
    decoded = jwt3.decode_unverified(out.strip())
    assert decoded.header == {"alg": "HS256", "typ": "passport",
                              "ppt": "shaken",
                              "x5u": "https://cert.example/a.pem"}
    assert decoded.claims == {"attest": "A", "iat": NOW, "ratio": 0.5,
                              "orig": {"tn": "12155550121"},
                              "dest": {"tn": ["12155550131"]},
                              "verified": True}


def test_generate_times(cli, hs_key):
    code, out, _ = cli(["generate", "-k", hs_key, "-a", "HS256",
                        "--exp", "300", "--nbf", "-5", "--no-iat"])
    assert code == 0
    assert jwt3.decode_unverified(out.strip()).claims == {
        "exp": NOW + 300, "nbf": NOW - 5}
    code, out, _ = cli(["generate", "-k", hs_key, "-a", "HS256", "-n",
                        "-c", "iat=12"])
    assert code == 0
    assert jwt3.decode_unverified(out.strip()).claims == {"iat": 12}


@pytest.mark.parametrize("argv, message", [
    (["-c", "a=1;a=2"], "'a' appears twice"),
    (["-c", "a=1", "-c", "a='x'"], "'a' given twice"),
    (["-c", "a=1", "--json", '{"a": true}'], "'a' given twice"),
    (["-c", "iat=5"], "pass --no-iat"),
    (["--json", '{"iat": 5}'], "pass --no-iat"),
    (["-c", "exp=5", "--exp", "10"], "'exp' given twice"),
    (["-H", "kid=a", "--kid", "a"], "'kid' given twice"),
    (["-H", "alg=HS512"], "'alg' cannot be set"),
    (["-H", "crit=x"], "'crit' cannot be set"),
    (["-H", "b64=x"], "'b64' cannot be set"),
    (["-c", "a='open"], "unterminated quoted value"),
    (["-c", " a=1"], "params:"),
    (["--json", "[1, 2]"], "--json: expected a JSON object, got array"),
    (["--json", "{nope"], "--json: invalid JSON"),
    (["--json", '{"a": 1, "a": 2}'], "duplicate member name"),
    (["--exp", "soon"], "'soon' is not an integer"),
    (["--exp", str(1 << 41)], "is not in"),
])
def test_generate_usage_errors(cli, hs_key, argv, message):
    code, out, err = cli(["generate", "-k", hs_key, "-a", "HS256"] + argv)
    assert code == 2 and out == ""
    assert message in err, err


def test_generate_missing_options_are_usage_errors(cli, hs_key):
    assert cli(["generate", "-a", "HS256"])[0] == 2
    assert cli(["generate", "-k", hs_key])[0] == 2


def test_generate_key_selection_by_kid(cli, tmp_path):
    keys = write(tmp_path / "set.json", JWKS)
    code, out, _ = cli(["generate", "-k", keys, "-a", "HS256",
                        "--kid", "b"])
    assert code == 0
    token = out.strip()
    assert jwt3.decode_unverified(token).header["kid"] == "b"
    jwt3.decode(token, jwt3.Key.from_jwk(JWKS["keys"][1]), "HS256")

    # Without a kid, the first key that can sign.
    code, out, _ = cli(["generate", "-k", keys, "-a", "HS256"])
    jwt3.decode(out.strip(), jwt3.Key.from_jwk(JWKS["keys"][0]), "HS256")

    # Deviation from the C module: an unknown kid is an error.
    code, out, err = cli(["generate", "-k", keys, "-a", "HS256",
                          "-H", "kid=zz"])
    assert (code, out) == (1, "")
    assert "no key with kid 'zz'" in err


def test_generate_key_that_cannot_sign(cli, tmp_path):
    short = write(tmp_path / "short.json",
                  {"kty": "oct", "k": jwt3._b64u_encode(b"k" * 32)})
    code, out, err = cli(["generate", "-k", short, "-a", "HS512"])
    assert (code, out) == (1, "")
    assert "HS512 needs a secret of at least 64 bytes" in err


@pytest.mark.parametrize("key_string, message", [
    ("missing.pem", "no such file"),
    ("missing.json", "no such file"),
    ("nodot", "without any '.' is taken as PEM text"),
    ("{broken", "invalid JSON"),
    ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "PEM"),
])
def test_bad_key_strings_fail_cleanly(cli, tmp_path, monkeypatch,
                                      key_string, message):
    monkeypatch.chdir(tmp_path)
    for argv in (["generate", "-k", key_string, "-a", "HS256"],
                 ["verify", "-k", key_string, "-a", "HS256", hs_token()],
                 ["thumbprint", key_string]):
        code, out, err = cli(argv)
        assert (code, out) == (1, ""), argv
        assert message in err and err.count("\n") == 1


def test_key_file_that_is_a_directory_or_garbage(cli, tmp_path):
    directory = tmp_path / "keys.json"
    directory.mkdir()
    code, _, err = cli(["generate", "-k", str(directory), "-a", "HS256"])
    assert code == 1 and "cannot read it" in err
    garbage = write(tmp_path / "garbage.pem", b"\xff\xfe not a key")
    code, _, err = cli(["verify", "-k", garbage, "-a", "HS256",
                        hs_token()])
    assert code == 1 and "not a PEM or DER key" in err


def test_inline_jwk_key_string(cli):
    code, out, _ = cli(["generate", "-k", json.dumps(HS_JWK), "-a",
                        "HS384", "-c", "a=1"])
    assert code == 0
    code, out, _ = cli(["verify", "-k", json.dumps(HS_JWK), "-a", "HS384",
                        out.strip()])
    assert code == 0 and json.loads(out) == {"a": 1, "iat": NOW}


@pytest.mark.parametrize("alg", ASYMMETRIC)
def test_pem_and_der_key_strings(cli, tmp_path, alg):
    key = private_key(alg)
    pem = key.to_pem(private=True)
    der = jwt3._pem_blocks(key.to_pem())[0][1]
    forms = [write(tmp_path / "key.pem", pem), pem]
    for private in forms:
        code, out, err = cli(["generate", "-k", private, "-a", alg])
        assert (code, err) == (0, "")
        for public in (write(tmp_path / "pub.pem", key.to_pem()),
                       key.to_pem(), write(tmp_path / "pub.der", der)):
            assert cli(["verify", "-k", public, "-a", alg,
                        out.strip()])[0] == 0


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_generate_kid_with_a_pem_key(cli, tmp_path, alg):
    key = private_key(alg)
    pem = write(tmp_path / "key.pem", key.to_pem(private=True))
    code, out, err = cli(["generate", "-k", pem, "-a", alg, "--kid", "x"])
    assert (code, out) == (1, "")
    assert "no key with kid 'x' (a PEM key's kid is 'legacy-file'" in err
    # As the hint says: a JWK from key2jwk, named by its thumbprint.
    code, jwks, _ = cli(["key2jwk", pem])
    code, out, err = cli(["generate", "-k", jwks, "-a", alg, "--kid",
                          key.thumbprint()])
    assert (code, err) == (0, "")
    assert jwt3.decode_unverified(out.strip()).header["kid"] == \
        key.thumbprint()


def test_url_key_strings_go_through_the_jwks_client(cli, monkeypatch):
    seen = []

    class Client:
        def keys(self):
            return jwt3.KeySet.from_jwks(JWKS)

        def select(self, alg, kid=None, *, operation="verify",
                   strict_kid=False):
            seen.append((alg, kid, operation))
            return self.keys().select(alg, kid, operation=operation,
                                      strict_kid=strict_kid)

    monkeypatch.setattr(jwt3.Module, "_jwks_client",
                        lambda self, url: Client())
    url = "https://issuer.example/jwks.json"
    token = hs_token(headers={"kid": "b"}, secret=OTHER_SECRET)
    code, out, _ = cli(["verify", "-k", url, "-a", "HS256", token])
    assert code == 0 and seen == [("HS256", "b", "verify")]
    code, out, _ = cli(["thumbprint", url])
    assert out.split() == [jwt3.Key.from_jwk(jwk).thumbprint()
                           for jwk in JWKS["keys"]]


def test_url_key_string_failure_is_clean(cli, monkeypatch):
    def unavailable(self, url):
        raise jwt3.JWKSError("cannot fetch %s" % url)
    monkeypatch.setattr(jwt3.Module, "_jwks_client", unavailable)
    code, out, err = cli(["verify", "-k", "https://x.example/k", "-a",
                          "HS256", hs_token()])
    assert (code, out) == (1, "")
    assert "cannot fetch https://x.example/k" in err


def test_non_utf8_argument_fails_cleanly(cli, hs_key):
    # On POSIX, a non-UTF-8 argv byte arrives as a lone surrogate.
    code, out, err = cli(["generate", "-k", hs_key, "-a", "HS256",
                          "-c", "name=caf\udce9"])
    assert (code, out) == (1, "")
    assert "surrogate" in err


# -- verify

def test_verify_prints_claims_or_reason(cli, hs_key):
    good = hs_token({"sub": "alice", "n": 1})
    forged = hs_token({"sub": "alice"}, secret=OTHER_SECRET)
    code, out, err = cli(["verify", "-k", hs_key, "-a", "HS256", good,
                          forged, "not-a-token", good])
    assert code == 1 and err == ""
    assert out.splitlines() == [
        '{"n":1,"sub":"alice"}',
        "INVALID: signature verification failed",
        "INVALID: token: 1 segments, expected 3 (header.payload.signature)",
        '{"n":1,"sub":"alice"}']
    assert forged not in out


def test_verify_all_valid_is_zero_not_a_count(cli, hs_key):
    # libjwt's jwt-verify exits with the failure count modulo 256.
    bad = hs_token(secret=OTHER_SECRET)
    code, out, _ = cli(["verify", "-k", hs_key, "-a", "HS256"]
                       + [bad] * 256)
    assert code == 1 and out.count("INVALID") == 256


def test_verify_stdin_crlf_blank_lines_and_long_lines(cli, hs_key):
    # A token far longer than libjwt's 8191-byte fgets() buffer.
    long_token = hs_token({"blob": "x" * 20000})
    short_token = hs_token()
    stdin = ("\r\n  %s\r\n\n\t\n%s\n%s" % (long_token, short_token,
                                          short_token)).encode("ascii")
    for argv in (["-"], []):
        code, out, err = cli(["verify", "-k", hs_key, "-a", "HS256"]
                             + argv, stdin=stdin)
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert len(lines) == 3 and len(lines[0]) > 20000
        assert lines[1] == lines[2] == '{"sub":"alice"}'


def test_verify_stdin_with_non_ascii_bytes(cli, hs_key):
    stdin = b"\xff\xfe\n" + hs_token().encode("ascii") + b"\n"
    code, out, _ = cli(["verify", "-k", hs_key, "-a", "HS256", "-"],
                       stdin=stdin)
    assert code == 1
    assert out.splitlines()[0].startswith("INVALID: token: 1 segments")
    assert out.splitlines()[1] == '{"sub":"alice"}'


def test_verify_unreadable_stdin(cli, hs_key, monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    code, out, err = cli(["verify", "-k", hs_key, "-a", "HS256"])
    assert (code, out) == (1, "")
    assert "standard input is closed" in err

    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise OSError(21, "Is a directory")

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(
        io.BufferedReader(Broken())))
    code, out, err = cli(["verify", "-k", hs_key, "-a", "HS256", "-"])
    assert (code, out) == (1, "")
    assert "cannot read standard input: Is a directory" in err


@pytest.mark.parametrize("expected, ok", [
    ("sub='alice'", True),
    ("sub='bob'", False),
    ("index=100", True),
    ("index='100'", False),        # a quoted value needs a string
    ("tn='+4912345'", True),
    ("tn=+4912345", False),        # an unquoted integer needs a number
    ("aud='sip.example'", True),   # aud matches inside an array
    ("aud='other'", False),
    ("exp=%d" % (NOW + 60), True),  # exp named: exact equality
    ("exp=%d" % (NOW + 61), False),
    ("missing=1", False),
    ("flag;empty=", True),         # skipped, as the module does
])
def test_verify_expected_claims_as_kamailio(cli, hs_key, expected, ok):
    token = hs_token({"sub": "alice", "index": 100, "tn": "+4912345",
                      "aud": ["sip.example", "x"], "exp": NOW + 60})
    code, out, _ = cli(["verify", "-k", hs_key, "-a", "HS256",
                        "-c", expected, token])
    assert code == (0 if ok else 1), out
    assert out.startswith("INVALID: ") != ok


def test_verify_several_expected_strings(cli, hs_key):
    token = hs_token({"sub": "alice", "n": 1})
    argv = ["verify", "-k", hs_key, "-a", "HS256", "-c", "sub='alice'"]
    assert cli(argv + ["-c", "n=1", token])[0] == 0
    assert cli(argv + ["-c", "n=2", token])[0] == 1


def test_verify_bad_expected_string_is_a_usage_error(cli, hs_key):
    code, out, err = cli(["verify", "-k", hs_key, "-a", "HS256",
                          "-c", "sub='open", hs_token()])
    assert (code, out) == (2, "")
    assert "claims: params: unterminated" in err


def test_verify_time_checks(cli, hs_key):
    expired = hs_token({"exp": NOW - 10})
    early = hs_token({"nbf": NOW + 10})
    argv = ["verify", "-k", hs_key, "-a", "HS256"]
    code, out, _ = cli(argv + [expired, early])
    assert code == 1 and out.splitlines() == [
        "INVALID: token has expired", "INVALID: token is not yet valid"]
    assert cli(argv + ["-l", "10", expired, early])[0] == 1
    assert cli(argv + ["-l", "11", expired, early])[0] == 0
    code, out, err = cli(argv + ["--no-time", expired, early])
    assert code == 0 and "warning: --no-time" in err
    # exp of the wrong type fails even with time checks off.
    code, out, _ = cli(argv + ["--no-time",
                               forged_hs_token({"exp": "soon"})])
    assert code == 1 and '"exp" claim: expected a number' in out


def test_verify_leeway_usage_errors(cli, hs_key):
    argv = ["verify", "-k", hs_key, "-a", "HS256"]
    assert cli(argv + ["-l", "-1", hs_token()])[0] == 2
    code, _, err = cli(argv + ["-l", "5", "--no-time", hs_token()])
    assert code == 2 and "not allowed with" in err


def test_verify_algorithm_is_pinned(cli, hs_key):
    token = hs_token()
    code, out, _ = cli(["verify", "-k", hs_key, "-a", "HS384", token])
    assert code == 1
    assert out == "INVALID: token alg 'HS256' is not HS384\n"
    none = token.split(".")
    none[0] = jwt3._b64u_encode(b'{"alg":"none"}')
    code, out, _ = cli(["verify", "-k", hs_key, "-a", "HS256",
                        ".".join(none[:2]) + "."])
    assert code == 1 and out.startswith("INVALID: token alg 'none'")


def test_verify_key_selection_by_kid(cli, tmp_path):
    keys = write(tmp_path / "set.json", JWKS)
    by_b = hs_token(headers={"kid": "b"}, secret=OTHER_SECRET)
    assert cli(["verify", "-k", keys, "-a", "HS256", by_b])[0] == 0
    # A kid that is not in a static set falls back to the first key.
    unknown = hs_token(headers={"kid": "zz"})
    assert cli(["verify", "-k", keys, "-a", "HS256", unknown])[0] == 0
    wrong = hs_token(headers={"kid": "zz"}, secret=OTHER_SECRET)
    assert cli(["verify", "-k", keys, "-a", "HS256", wrong])[0] == 1


def test_verify_usable_key_missing_is_per_token(cli, tmp_path):
    short = write(tmp_path / "short.json",
                  {"kty": "oct", "k": jwt3._b64u_encode(b"k" * 32)})
    token = jwt3.encode({}, jwt3.Key.from_jwk(HS_JWK), "HS512")
    code, out, _ = cli(["verify", "-k", short, "-a", "HS512", token,
                        token])
    assert code == 1
    reason = ("INVALID: key string (JWK Set file %r): no key can verify"
              " with HS512: HS512 needs a secret of at least 64 bytes,"
              " got 32" % short)
    assert out.splitlines() == [reason, reason]


# -- decode

def test_decode_is_marked_unverified(cli):
    token = hs_token({"sub": "alice"}, headers={"kid": "a"},
                     secret=OTHER_SECRET)
    code, out, err = cli(["decode", token])
    assert code == 0
    assert err.startswith("jwt3 decode: NOT VERIFIED")
    assert json.loads(out) == {"verified": False,
                               "header": {"alg": "HS256", "kid": "a",
                                          "typ": "JWT"},
                               "claims": {"sub": "alice"}}
    assert out.startswith('{\n  "verified": false,')


def test_decode_stdin_and_bad_tokens(cli):
    stdin = ("%s\r\n\r\nnope\n%s\n" % (hs_token(), hs_token({"a": 1}))
             ).encode("ascii")
    code, out, err = cli(["decode"], stdin=stdin)
    assert code == 1
    documents = [json.loads("{" + part) for part in
                 out.strip()[1:].split("\n{")]
    assert [d["claims"] for d in documents] == [{"sub": "alice"},
                                                {"a": 1}]
    assert "jwt3 decode: token: 1 segments" in err


def test_decode_non_ascii_output(cli, monkeypatch):
    token = hs_token({"name": "Zoë ☃"})
    code, out, _ = cli(["decode", token])
    assert code == 0 and json.loads(out)["claims"]["name"] == "Zoë ☃"

    # A stdout that cannot carry it gets \u escapes (the same JSON).
    ascii_out = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", ascii_out)
    assert jwt3.main(["decode", token]) == 0
    ascii_out.seek(0)
    text = ascii_out.read()
    assert "\\u00eb" in text and json.loads(text)["claims"]["name"] == \
        "Zoë ☃"


# -- keygen

def test_keygen_hs_to_stdout(cli):
    code, out, err = cli(["keygen", "HS384", "--kid", "mine"])
    assert (code, err) == (0, "")
    key = jwt3.Key.from_jwk(out)
    assert (key.kty, key.size, key.kid, key.alg) == ("oct", 384, "mine",
                                                     "HS384")
    code, out, _ = cli(["keygen", "HS256", "--bits", "512"])
    key = jwt3.Key.from_jwk(out)
    assert key.size == 512 and key.kid == key.thumbprint()


@POSIX
def test_keygen_private_file_mode_and_no_overwrite(cli, tmp_path):
    path = tmp_path / "hs.json"
    code, out, err = cli(["keygen", "HS256", "--out", path])
    assert (code, out) == (0, "")
    assert "wrote the private HS256 key" in err
    assert file_mode(path) == 0o600
    first = path.read_text()

    code, out, err = cli(["keygen", "HS256", "--out", path])
    assert code == 1 and "exists (use --force" in err
    assert path.read_text() == first

    # --force replaces the file, which is 0600 even if the old was not.
    os.chmod(str(path), 0o644)
    assert cli(["keygen", "HS256", "--out", path, "--force"])[0] == 0
    assert path.read_text() != first and file_mode(path) == 0o600


@POSIX
def test_keygen_does_not_write_through_a_symlink(cli, tmp_path):
    target = tmp_path / "target"
    target.write_text("keep")
    link = tmp_path / "link.json"
    os.symlink(str(target), str(link))
    assert cli(["keygen", "HS256", "--out", link])[0] == 1
    assert target.read_text() == "keep"


@pytest.mark.parametrize("argv, message", [
    (["HS256", "--format", "pem"], "HS256 keys have no PEM form"),
    (["HS256", "--public-out", "-"], "has no public half"),
    (["HS256", "--bits", "128"], "at least 256 bits"),
    (["HS256", "--crv", "P-256"], "has no curve"),
    (["HS256", "--out", "a", "--public-out", "a"], "the same file"),
    (["HS256", "--format", "der"], "invalid choice"),
    (["HS256", "--bits", "x"], "'x' is not an integer"),
    (["NOPE"], "unknown algorithm"),
])
def test_keygen_usage_errors(cli, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(["keygen"] + argv)
    assert (code, out) == (2, "")
    assert message in err
    assert os.listdir(str(tmp_path)) == []


def test_keygen_cannot_create(cli, tmp_path):
    code, _, err = cli(["keygen", "HS256", "--out",
                        tmp_path / "no" / "such" / "dir.json"])
    assert code == 1 and "cannot create" in err
    directory = tmp_path / "dir"
    directory.mkdir()
    code, _, err = cli(["keygen", "HS256", "--out", directory])
    assert code == 1 and "exists" in err
    code, _, err = cli(["keygen", "HS256", "--out", directory, "--force"])
    assert code == 1 and "cannot replace" in err


@pytest.mark.parametrize("alg", ASYMMETRIC)
def test_keygen_key2jwk_jwk2key_round_trip(cli, tmp_path, alg):
    need(alg)
    gen_alg, crv = KEYGEN[alg]
    private, public = tmp_path / "key.pem", tmp_path / "key.pub.pem"
    argv = ["keygen", gen_alg, "--format", "pem", "--out", private,
            "--public-out", public]
    code, out, err = cli(argv + (["--crv", crv] if crv else []))
    assert (code, out) == (0, "")
    key = jwt3.Key.from_pem(private.read_text())
    assert key.is_private and key.usable(alg, "sign")
    assert jwt3.Key.from_pem(public.read_text()).thumbprint() == \
        key.thumbprint()
    if os.name == "posix":
        assert file_mode(private) == 0o600
        assert file_mode(public) == 0o644 & ~UMASK

    # PEM -> JWK Set: kid is the thumbprint, private members kept.
    code, out, _ = cli(["key2jwk", private, public])
    assert code == 0
    jwks = json.loads(out)
    assert [jwk["kid"] for jwk in jwks["keys"]] == [key.thumbprint()] * 2
    assert "d" in jwks["keys"][0] and "d" not in jwks["keys"][1]

    # JWK Set -> PEM files named by kid, private ones 0600.
    keys_json = write(tmp_path / "keys.json", {"keys": jwks["keys"][:1]})
    outdir = tmp_path / "pem"
    outdir.mkdir()
    code, out, err = cli(["jwk2key", keys_json, "--out", outdir])
    assert (code, err) == (0, "")
    name = "%s.%s.pem" % (key.thumbprint(), key.kty.lower())
    assert out == str(outdir / name) + "\n"
    assert (outdir / name).read_text() == private.read_text()
    if os.name == "posix":
        assert file_mode(outdir / name) == 0o600

    code, out, _ = cli(["jwk2key", keys_json, "--out", outdir, "--public"])
    assert code == 0
    assert out.strip().endswith("_pub.pem")
    assert open(out.strip()).read() == public.read_text()


# RSA generation is slow: covered once, by the round trip above.
@pytest.mark.parametrize("alg", [alg for alg in ASYMMETRIC
                                 if alg != "RS256"])
def test_keygen_public_half_on_stdout(cli, alg):
    need(alg)
    gen_alg, crv = KEYGEN[alg]
    argv = ["keygen", gen_alg, "--public-out", "-"] + (
        ["--out", "-"] if alg == "ES256" else [])
    code, out, _ = cli(argv + (["--crv", crv] if crv else []))
    assert code == 0
    private, public = out.split("}\n{")
    private = jwt3.Key.from_jwk(private + "}")
    public = jwt3.Key.from_jwk("{" + public)
    assert private.is_private and not public.is_private
    assert private.thumbprint() == public.thumbprint() == private.kid


# -- key2jwk

def test_key2jwk_refuses_what_is_not_a_key(cli, tmp_path):
    corrupt = write(tmp_path / "corrupt.pem",
                    "-----BEGIN PUBLIC KEY-----\nnot base64!\n"
                    "-----END PUBLIC KEY-----\n")
    code, out, err = cli(["key2jwk", corrupt])
    assert (code, out) == (1, "")
    assert err.startswith("jwt3 key2jwk: %s: " % corrupt)

    # libjwt would make an HMAC key of any 32+ bytes; jwt3 never does.
    secretish = write(tmp_path / "secret.bin", b"s" * 48)
    code, out, err = cli(["key2jwk", secretish])
    assert (code, out) == (1, "")
    assert "not a PEM, DER or JWK key" in err and secretish in err

    code, _, err = cli(["key2jwk", tmp_path / "missing.pem"])
    assert code == 1 and "No such file" in err
    code, _, err = cli(["key2jwk", tmp_path])
    assert code == 1 and "cannot read key file" in err
    big = write(tmp_path / "big.pem", b" " * (jwt3._KEY_FILE_MAX + 1))
    code, _, err = cli(["key2jwk", big])
    assert code == 1 and "larger than" in err


def test_key2jwk_jwk_input_and_kid_choices(cli, tmp_path):
    path = write(tmp_path / "hs.json", HS_JWK)
    thumbprint = jwt3.Key.from_jwk(HS_JWK).thumbprint()
    code, out, _ = cli(["key2jwk", path])
    assert code == 0 and json.loads(out) == {"keys": [
        dict(HS_JWK, kid=thumbprint)]}
    assert out.startswith('{\n  "keys": [')
    code, out, _ = cli(["key2jwk", "--kid-thumbprint", path])
    assert json.loads(out)["keys"][0]["kid"] == thumbprint
    code, out, _ = cli(["key2jwk", "--no-kid", path])
    assert json.loads(out) == {"keys": [HS_JWK]}
    assert cli(["key2jwk", "--no-kid", "--kid-thumbprint", path])[0] == 2

    # A kid already given is kept; --public leaves oct keys out.
    path = write(tmp_path / "set.json", JWKS)
    code, out, _ = cli(["key2jwk", path])
    assert json.loads(out) == JWKS
    code, out, err = cli(["key2jwk", "--public", path])
    assert json.loads(out) == {"keys": []} and "oct keys left out" in err


def test_key2jwk_stdin_and_out_file(cli, tmp_path):
    out_file = tmp_path / "out.json"
    code, out, _ = cli(["key2jwk", "-", "--out", out_file],
                       stdin=json.dumps(HS_JWK).encode())
    assert (code, out) == (0, "")
    assert json.loads(out_file.read_text())["keys"][0]["k"] == SECRET
    if os.name == "posix":
        assert file_mode(out_file) == 0o600
    code, _, err = cli(["key2jwk", "-", "--out", out_file],
                       stdin=json.dumps(HS_JWK).encode())
    assert code == 1 and "exists" in err


@pytest.mark.parametrize("alg", ASYMMETRIC)
def test_key2jwk_reads_der_and_many_files(cli, tmp_path, alg):
    key = private_key(alg)
    der = jwt3._pem_blocks(key.to_pem(private=True))[0][1]
    files = [write(tmp_path / "key.der", der),
             write(tmp_path / "pub.pem", key.to_pem())]
    code, out, _ = cli(["key2jwk", "--public"] + files)
    assert code == 0
    assert json.loads(out) == {"keys": [
        dict(key.public().to_jwk(), kid=key.thumbprint())] * 2}
    if os.name == "posix":
        out_file = tmp_path / "public.json"
        assert cli(["key2jwk", "--public", "-o", out_file] + files)[0] == 0
        assert file_mode(out_file) == 0o644 & ~UMASK


# -- jwk2key

def test_jwk2key_skips_oct_keys(cli, tmp_path):
    path = write(tmp_path / "set.json", JWKS)
    code, out, err = cli(["jwk2key", path, "--out", tmp_path])
    assert (code, out) == (1, "")
    assert "oct key 'a' skipped: an HMAC secret has no PEM form" in err
    assert "no key written" in err


def test_jwk2key_bad_inputs(cli, tmp_path):
    bad = write(tmp_path / "bad.json", "{nope")
    code, _, err = cli(["jwk2key", bad])
    assert code == 1 and "bad.json: JWK Set: invalid JSON" in err
    unknown = write(tmp_path / "unknown.json",
                    {"keys": [{"kty": "XYZ"}]})
    code, _, err = cli(["jwk2key", unknown])
    assert code == 1 and "'XYZ' is not supported" in err
    code, _, err = cli(["jwk2key", write(tmp_path / "hs.json", HS_JWK),
                        "--out", tmp_path / "missing"])
    assert code == 1 and "is not a directory" in err


def test_file_stems_are_safe(tmp_path):
    key = jwt3.Key.from_jwk(dict(HS_JWK, kid="good-kid_1.2"))
    assert jwt3._cli_file_stem(key, "jwk2key") == "good-kid_1.2"


@settings(max_examples=200)
@given(st.text(max_size=140))
def test_unsafe_kids_become_thumbprints(kid):
    key = jwt3.Key.from_jwk(dict(HS_JWK, kid=kid))
    stem = jwt3._cli_file_stem(key, "jwk2key")
    assert stem in (kid, key.thumbprint())
    assert "/" not in stem and "\\" not in stem and ".." not in stem
    assert not stem.startswith(".") and 0 < len(stem) <= 128
    assert os.path.basename(stem) == stem


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_jwk2key_names_and_refusals(cli, tmp_path, alg):
    key = private_key(alg)
    jwk = key.to_jwk(private=True)
    keys = [dict(jwk, kid="../../escape"), dict(jwk, kid="a/b"),
            dict(key.to_jwk(), kid="pub"),
            {"kty": "oct", "k": SECRET}, {"kty": "XYZ"}]
    path = write(tmp_path / "set.json", {"keys": keys})
    outdir = tmp_path / "out"
    outdir.mkdir()
    code, out, err = cli(["jwk2key", path, "-d", outdir])
    # The two unsafe kids name the same key: the second would clash.
    assert code == 1
    kind = key.kty.lower()
    assert out.splitlines() == [
        str(outdir / ("%s.%s.pem" % (key.thumbprint(), kind))),
        str(outdir / ("pub.%s_pub.pem" % kind))]
    assert "entry 4 skipped: JWK \"kty\": 'XYZ' is not supported" in err
    assert "kid '../../escape' is not a safe file name" in err
    assert "two keys would share this name" in err
    assert "oct key skipped" in err
    assert sorted(os.listdir(str(outdir))) == sorted(
        os.path.basename(line) for line in out.splitlines())
    assert sorted(os.listdir(str(tmp_path))) == ["out", "set.json"]

    # Never overwritten without --force.
    one = write(tmp_path / "one.json", dict(jwk, kid="one"))
    assert cli(["jwk2key", one, "-o", outdir])[0] == 0
    code, _, err = cli(["jwk2key", one, "-o", outdir])
    assert code == 1 and "exists (use --force" in err
    assert cli(["jwk2key", one, "-o", outdir, "--force"])[0] == 0


# -- thumbprint

def test_thumbprint_of_every_key_in_a_set(cli, tmp_path):
    path = write(tmp_path / "set.json", JWKS)
    keys = jwt3.KeySet.from_jwks(JWKS)
    for hash_name in ("sha256", "sha384", "sha512"):
        code, out, _ = cli(["thumbprint", path, "--hash", hash_name])
        assert code == 0
        assert out.splitlines() == [key.thumbprint(hash_name)
                                    for key in keys]
    assert cli(["thumbprint", path, "--hash", "md5"])[0] == 2


@pytest.mark.parametrize("case", params("rfc7638"))
def test_thumbprint_rfc7638_vectors(cli, case):
    jwk = case["jwk"]
    need({"oct": "HS256", "RSA": "RS256", "OKP": "EdDSA", "P-256": "ES256",
          "P-521": "ES512", "Ed25519": "EdDSA"}[jwk.get("crv", jwk["kty"])])
    code, out, _ = cli(["thumbprint", json.dumps(jwk)])
    assert (code, out) == (0, case["thumbprint_b64u"] + "\n")


@pytest.mark.parametrize("alg", ASYMMETRIC)
def test_thumbprint_of_pem_files(cli, tmp_path, alg):
    key = private_key(alg)
    code, out, _ = cli(["thumbprint", write(tmp_path / "k.pem",
                                            key.to_pem(private=True))])
    assert (code, out) == (0, key.thumbprint() + "\n")


# -- robustness: no input makes main raise or print a traceback

@settings(max_examples=40)
@given(st.text(max_size=80), st.sampled_from(["verify", "decode"]))
def test_any_token_text_is_handled(token, command):
    argv = [command] + (["-k", json.dumps(HS_JWK), "-a", "HS256"]
                        if command == "verify" else []) + ["--", token]
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    try:
        stdin = sys.stdin
        sys.stdin = io.TextIOWrapper(io.BytesIO(token.encode(
            "utf-8", "surrogatepass")))
        code = jwt3.main(argv)
    finally:
        sys.stdin = stdin
        sys.stdout, sys.stderr = stdout, stderr
    assert code in (0, 1)


@settings(max_examples=40)
@given(st.text(max_size=60), st.text(max_size=60))
def test_any_claims_and_headers_are_handled(claims, headers):
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    try:
        code = jwt3.main(["generate", "-k", json.dumps(HS_JWK), "-a",
                          "HS256", "-c", claims, "-H", headers])
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    assert code in (0, 1, 2)


@settings(max_examples=40)
@given(st.binary(max_size=200) | st.sampled_from([
    b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    b"0\x03\x02\x01\x00", b'{"kty": "EC"}', b'{"keys": 5}']))
def test_any_key_file_is_handled(tmp_path_factory, data):
    path = str(tmp_path_factory.mktemp("k") / "key.pem")
    with open(path, "wb") as f:
        f.write(data)
    stdout, stderr = sys.stdout, sys.stderr
    try:
        for argv in (["key2jwk", path], ["jwk2key", path, "-o",
                                         os.path.dirname(path)],
                     ["thumbprint", path]):
            sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
            assert jwt3.main(argv) in (0, 1)
    finally:
        sys.stdout, sys.stderr = stdout, stderr


# -- as a program: python3 jwt3.py, python3 -m jwt3, the console script

def test_subprocess_generate_then_verify_from_stdin(tmp_path):
    key = write(tmp_path / "hs.json", HS_JWK)
    done = subprocess_run([SCRIPT, "generate", "-k", key, "-a", "HS256",
                           "-c", "sub='alice'", "--exp", "600"])
    assert done.returncode == 0 and done.stderr == b""
    token = done.stdout.strip()
    done = subprocess_run([SCRIPT, "verify", "-k", key, "-a", "HS256",
                           "-c", "sub='alice'", "-"],
                          input=b"\r\n" + token + b"\r\n" + token + b"x\n")
    assert done.returncode == 1
    lines = done.stdout.decode().splitlines()
    assert json.loads(lines[0])["sub"] == "alice"
    assert lines[1] == "INVALID: signature verification failed"


def test_subprocess_module_and_usage_exit_codes(tmp_path):
    done = subprocess_run(["-m", "jwt3", "thumbprint",
                           json.dumps(HS_JWK)], cwd=ROOT)
    assert done.returncode == 0
    assert done.stdout.decode().strip() == \
        jwt3.Key.from_jwk(HS_JWK).thumbprint()
    done = subprocess_run(["-m", "jwt3", "generate", "-a", "HS256"],
                          cwd=ROOT)
    assert done.returncode == 2 and b"required: -k/--key" in done.stderr
    done = subprocess_run([SCRIPT, "verify", "-k",
                           str(tmp_path / "missing.pem"), "-a", "HS256",
                           "x"])
    assert done.returncode == 1 and done.stdout == b""
    assert done.stderr.startswith(b"jwt3 verify: key string (PEM file")


@POSIX
def test_subprocess_keygen_mode_and_bad_stdin(tmp_path):
    path = tmp_path / "key.json"
    done = subprocess_run([SCRIPT, "keygen", "HS512", "-o", str(path)])
    assert done.returncode == 0 and file_mode(path) == 0o600
    # Standard input that cannot be read (opened write-only).
    fd = os.open(str(path), os.O_WRONLY)
    try:
        done = subprocess.run([sys.executable, SCRIPT, "decode"], stdin=fd,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(fd)
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    assert b"cannot read standard input" in done.stderr


@POSIX
def test_subprocess_closed_stdout_is_quiet(tmp_path):
    key = write(tmp_path / "hs.json", HS_JWK)
    tokens = (hs_token() + "\n").encode() * 20000
    process = subprocess.Popen(
        [sys.executable, SCRIPT, "verify", "-k", key, "-a", "HS256"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    process.stdout.close()
    _, err = process.communicate(tokens, timeout=120)
    assert process.returncode == 1 and b"Traceback" not in err


def test_console_script_entry_point(monkeypatch, capsys):
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, "setup.cfg"))
    scripts = config["options.entry_points"]["console_scripts"]
    assert scripts.split() == ["jwt3", "=", "jwt3:main"]
    # What the generated script does: sys.exit(main()), argv from sys.
    monkeypatch.setattr(sys, "argv", ["jwt3", "thumbprint",
                                      json.dumps(HS_JWK)])
    with pytest.raises(SystemExit) as stop:
        sys.exit(jwt3.main())
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == \
        jwt3.Key.from_jwk(HS_JWK).thumbprint()


# -- what main does when the unexpected happens

def test_paths_with_nul_fail_cleanly(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(["key2jwk", "a\x00b"])
    assert code == 1 and "embedded null byte" in err
    code, _, err = cli(["keygen", "HS256", "--out", "a\x00b"])
    assert code == 1 and "cannot create" in err


def test_a_failed_write_leaves_no_file(cli, tmp_path, monkeypatch):
    class Full(io.BytesIO):
        def write(self, data):
            raise OSError(28, "No space left on device")

    def fdopen(fd, mode):
        os.close(fd)
        return Full()
    monkeypatch.setattr(os, "fdopen", fdopen)
    code, out, err = cli(["keygen", "HS256", "-o", tmp_path / "k.json"])
    assert (code, out) == (1, "")
    assert "cannot write" in err and "No space left on device" in err
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("exception, code", [
    (KeyboardInterrupt(), 130),
    (BrokenPipeError(32, "Broken pipe"), 1),
    (OSError(5, "Input/output error", "x.pem"), 1),
])
def test_interruptions_and_os_errors(monkeypatch, capsys, exception, code):
    def run(args):
        raise exception
    monkeypatch.setattr(jwt3, "_cli_selftest", run)
    # stdout without a file descriptor: the broken-pipe path must not
    # touch the real one.
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert jwt3.main(["selftest"]) == code
    err = capsys.readouterr().err
    if isinstance(exception, OSError) and code == 1 and \
            not isinstance(exception, BrokenPipeError):
        assert err == "jwt3 selftest: Input/output error: x.pem\n"
    else:
        assert err == ""


def test_text_only_stdin_and_tty_hint(cli, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(HS_JWK)))
    code, out, _ = cli(["key2jwk", "--no-kid", "-"])
    assert code == 0 and json.loads(out) == {"keys": [HS_JWK]}

    class Terminal(io.BytesIO):
        def isatty(self):
            return True
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(Terminal(
        hs_token().encode() + b"\n")))
    code, out, err = cli(["decode"])
    assert code == 0 and json.loads(out)["claims"] == {"sub": "alice"}
    assert "reading tokens from standard input" in err
    assert cli(["decode", "-"], stdin=b"")[0] == 1


def test_force_on_a_new_file(cli, tmp_path):
    path = tmp_path / "new.json"
    assert cli(["keygen", "HS256", "-o", path, "--force"])[0] == 0
    assert jwt3.Key.from_jwk(path.read_text()).kty == "oct"


@pytest.mark.parametrize("command", ["verify", "decode"])
def test_no_token_at_all_is_a_failure(cli, hs_key, command):
    argv = [command] + (["-k", hs_key, "-a", "HS256"]
                        if command == "verify" else [])
    for stdin in (b"", b"\r\n\n  \n"):
        code, out, err = cli(argv, stdin=stdin)
        assert (code, out) == (1, "")
        assert err.endswith("jwt3 %s: no token to %s\n" % (command,
                                                           command))
