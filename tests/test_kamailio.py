"""Section 24: the Kamailio module layer (DESIGN §5).

Each deliberate difference from the C module (reference/kamailio-jwt3.md
§1.13) is pinned here by a test whose name says so.
"""

import json
import logging
import os
import warnings

import pytest

import jwt3
from jwt3 import Module

NOW = 1_800_000_000
SECRET_A = "0gmNspkRljssLSrldySnYUS-zhtCo5sqeqo_yl7n2XA"
SECRET_B = "hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"
JWKS = json.dumps({"keys": [
    {"kty": "oct", "kid": "a", "k": SECRET_A},
    {"kty": "oct", "kid": "b", "k": SECRET_B},
]})
SEED_CLAIMS = "caller='alice';callee='bob';callid='a84b4c76e66710@pc33';" \
              "index=100"


@pytest.fixture
def module():
    return Module(leeway_sec=0, clock=lambda: NOW)


def generated(module, claims=SEED_CLAIMS, headers=None, key=JWKS,
              alg="HS256"):
    assert module.jwt3_generate(key, alg, claims, headers) == 1, \
        module.pv("error")
    return module.pv("val")


def forge(header, claims, secret=SECRET_A):
    key = jwt3.Key.from_jwk({"kty": "oct", "k": secret})
    signing_input = jwt3._b64u_encode(json.dumps(header).encode()) + "." \
        + jwt3._b64u_encode(json.dumps(claims).encode())
    signature = key.sign("HS256", signing_input.encode()) if header.get(
        "alg") == "HS256" else b""
    return signing_input + "." + jwt3._b64u_encode(signature)


# -- generate

def test_seed_example_round_trip(module):
    token = generated(module)
    decoded = jwt3.decode_unverified(token)
    assert decoded.header == {"alg": "HS256", "typ": "JWT"}
    assert decoded.claims == {"callee": "bob", "caller": "alice",
                              "callid": "a84b4c76e66710@pc33",
                              "iat": NOW, "index": 100}
    assert module.jwt3_verify(JWKS, "HS256", SEED_CLAIMS, token) == 1
    assert module.pv("status") == jwt3.STATUS_OK
    assert module.jwt3_verify_key(JWKS, "HS256", "", token) == 1


def test_generate_is_libjwt_byte_identical(module):
    # With the same inputs libjwt's builder gives these exact bytes:
    # sorted compact JSON, typ "JWT", iat now, signed with the first key.
    token = generated(module, "index=100;caller='alice'")
    header, payload, _ = token.split(".")
    assert jwt3._b64u_decode(header, "h") == \
        b'{"alg":"HS256","typ":"JWT"}'
    assert jwt3._b64u_decode(payload, "p") == \
        b'{"caller":"alice","iat":1800000000,"index":100}'


def test_generate_hdrs_and_kid(module):
    assert module.jwt3_generate_hdrs(JWKS, "HS256", "a=1",
                                     "kid=b;typ='passport';x=5") == 1
    decoded = jwt3.decode_complete(module.pv("val"),
                                   jwt3.KeySet.from_jwks(JWKS), "HS256",
                                   now=NOW)
    assert decoded.header == {"alg": "HS256", "kid": "b",
                              "typ": "passport", "x": 5}
    assert decoded.key.kid == "b"


def test_deviation_numeric_kid_is_a_string(module):
    jwks = json.dumps({"keys": [{"kty": "oct", "kid": "123",
                                 "k": SECRET_A}]})
    token = generated(module, "a=1", "kid=123", key=jwks)
    assert jwt3.decode_unverified(token).header["kid"] == "123"


def test_deviation_unknown_kid_is_an_error(module):
    # The C module signs with the first key and writes the kid anyway.
    assert module.jwt3_generate(JWKS, "HS256", "a=1", "kid=zz") == -1
    assert module.pv("val") is None
    assert "no key with kid 'zz'" in module.pv("error")


def test_registered_string_headers_stay_strings(module):
    # Like kid (DESIGN §5): typ, cty, jku, x5u, x5t are strings by RFC
    # 7515 §4.1, whatever they look like; other headers keep the typing
    # rule.  (An unquoted typ=5 used to end in a TypeError.)
    token = generated(module, "a=1", "typ=5;cty=007;x5t=1;n=5")
    assert jwt3.decode_unverified(token).header == {
        "alg": "HS256", "typ": "5", "cty": "007", "x5t": "1", "n": 5}


def test_huge_unquoted_numbers_are_strings(module):
    # Past int64 a value is a string (DESIGN §5); 5000 digits used to
    # raise ValueError inside int() on CPython 3.11+.
    token = generated(module, "a=" + "1" * 5000)
    assert jwt3.decode_unverified(token).claims["a"] == "1" * 5000
    assert module.jwt3_verify_key(JWKS, "HS256", "a=" + "1" * 5000,
                                  token) == 1
    assert module.jwt3_verify_key(JWKS, "HS256", "a=" + "1" * 4999,
                                  token) == -1
    assert module.pv("status") == jwt3.STATUS_CLAIM


def test_nul_in_verify_arguments(module):
    token = generated(module)
    for args in (("/etc/key\x00.json", "HS256", "a=1", token),
                 (JWKS, "HS256", "a='\x00'", token),
                 (JWKS, "HS256", "a=1", token + "\x00")):
        assert module.jwt3_verify_key(*args) == -1
        assert module.pv("status") == jwt3.STATUS_ARGUMENTS
        assert "holds a NUL" in module.pv("error")


def test_kid_prefix_is_not_a_selector(module):
    token = generated(module, "a=1", "kidney=b")
    decoded = jwt3.decode_complete(token, jwt3.KeySet.from_jwks(JWKS),
                                   "HS256", now=NOW)
    assert decoded.key.kid == "a" and decoded.header["kidney"] == "b"


def test_iat_typ_and_alg_as_libjwt_builds_them(module):
    token = generated(module, "iat=5;a=1", "alg='HS512'")
    decoded = jwt3.decode_unverified(token)
    assert decoded.claims["iat"] == NOW
    assert decoded.header == {"alg": "HS256", "typ": "JWT"}


def test_deviation_quoted_digits_stay_strings(module):
    token = generated(module, "index='100';sub='+4912345';n=0049")
    claims = jwt3.decode_unverified(token).claims
    assert (claims["index"], claims["sub"], claims["n"]) == (
        "100", "+4912345", 49)


@pytest.mark.parametrize("key, alg, claims, headers, reason", [
    (JWKS, "HS256", "a=1;a=2", None, "appears twice"),
    (JWKS, "HS256", "a=1", "x=1;x=2", "appears twice"),
    (JWKS, "HS256", " a=1", None, "invalid character"),
    (JWKS, "HS256", "a=1", "crit='exp'", '"crit" and "b64"'),
    (JWKS, "none", "a=1", None, "never"),
    (JWKS, "hs256", "a=1", None, "unknown algorithm"),
    (JWKS, "HS256", 5, None, "claims must be a string"),
    (JWKS, "HS256", "a=1", 5, "headers must be a string"),
    ("", "HS256", "a=1", None, "key must not be empty"),
    (JWKS, "", "a=1", None, "alg must not be empty"),
    ('{"kty":"oct","k":"%s","key_ops":["verify"]}' % SECRET_A, "HS256",
     "a=1", None, "does not allow sign"),
    ('{"kty":"oct","k":"%s","alg":"HS512"}' % SECRET_A, "HS256", "a=1",
     None, "no key can sign with HS256"),
    ('{"kty":"oct","k":"c2hvcnQ"}', "HS256", "a=1", None,
     "at least 32 bytes"),
    # A NUL would end a C string early; jwt3 refuses it (a NUL in a
    # key path made open() raise ValueError: an "internal error").
    ("/etc/key\x00.pem", "HS256", "a=1", None, "key holds a NUL"),
    (JWKS, "HS256\x00", "a=1", None, "alg holds a NUL"),
    (JWKS, "HS256", "a='\x00'", None, "claims holds a NUL"),
    (JWKS, "HS256", "a=1", "x=\x00", "headers holds a NUL"),
    # Registered header parameters a headers string cannot express.
    (JWKS, "HS256", "a=1", "x5c=MIIB", '"x5c": expected a non-empty'),
    (JWKS, "HS256", "a=1", "jwk='{}'", '"jwk": expected an object'),
    # Time claims decode would refuse are not written.
    (JWKS, "HS256", "exp='soon'", None, '"exp" claim: expected a'
                                        ' number'),
    (JWKS, "HS256", "a=" + "x" * 70000, None, "more than 65536"),
])
def test_generate_failures(module, caplog, key, alg, claims, headers,
                           reason):
    # Never an unsigned token: the C module emits {"alg":"none"} tokens
    # and returns 1 whenever the key cannot sign (its bug B2).
    module._val = "stale"
    module._status = 42
    with caplog.at_level(logging.ERROR, logger="jwt3"):
        assert module.jwt3_generate(key, alg, claims, headers) == -1
    assert module.pv("val") is None
    assert reason in module.pv("error")
    assert module.pv("status") == 42       # generate leaves status alone
    assert caplog.records[-1].getMessage().startswith("jwt3_generate: ")


# -- verify: statuses

@pytest.fixture
def token(module):
    return generated(module)


def test_statuses(module, token):
    cases = [
        (JWKS, "HS256", "caller='mallory'", token, jwt3.STATUS_CLAIM),
        (JWKS, "HS256", "nothere=1", token, jwt3.STATUS_CLAIM),
        (JWKS, "HS384", "", token, jwt3.STATUS_ALGORITHM),
        (JWKS, "none", "", token, jwt3.STATUS_ALGORITHM),
        (JWKS, "HS256", "", token[:-3] + "AAA", jwt3.STATUS_SIGNATURE),
        (JWKS, "HS256", "", token.replace(".", "..", 1),
         jwt3.STATUS_MALFORMED),
        (JWKS, "HS256", "", "x.y", jwt3.STATUS_MALFORMED),
        ("nodot", "HS256", "", token, jwt3.STATUS_KEY),
        ('{"foo":1}', "HS256", "", token, jwt3.STATUS_KEY),
        (JWKS, "HS256", "a=", token, jwt3.STATUS_OK),
        (JWKS, "HS256", "a=1 b", token, jwt3.STATUS_ARGUMENTS),
        (JWKS, "HS256", "", None, jwt3.STATUS_ARGUMENTS),
        (JWKS, 256, "", token, jwt3.STATUS_ARGUMENTS),
    ]
    for key, alg, claims, jwtval, status in cases:
        result = module.jwt3_verify_key(key, alg, claims, jwtval)
        assert (result, module.pv("status")) == (
            1 if status == jwt3.STATUS_OK else -1, status), (
            key, alg, claims, module.pv("error"))


def test_wrong_key_fails(module, token):
    other = json.dumps({"kty": "oct", "k": SECRET_B})
    assert module.jwt3_verify(other, "HS256", "caller='alice'", token) \
        == -1
    assert module.pv("status") == jwt3.STATUS_SIGNATURE


def test_deviation_status_set_for_every_failure(module, token):
    # C: $jwt3(status) stays 0 after key-load failures and keeps its old
    # value after jwt3_verify's empty-argument check.
    assert module.jwt3_verify("/no/such/key.pem", "HS256", "a=1", token) \
        == -1
    assert module.pv("status") == jwt3.STATUS_KEY
    assert module.jwt3_verify(JWKS, "HS256", "", token) == -1
    assert module.pv("status") == jwt3.STATUS_ARGUMENTS
    assert module.jwt3_verify(JWKS, "HS256", "a=1", "") == -1
    assert module.pv("status") == jwt3.STATUS_ARGUMENTS
    assert module.jwt3_verify(JWKS, "HS256", "caller='alice'", token) == 1
    assert module.pv("status") == jwt3.STATUS_OK and module.pv("error") \
        == ""


def test_deviation_trailing_whitespace_is_trimmed(module, token):
    # C trims only the length, not the string it hands on.
    for padded in (" " + token, token + "\n", "\t" + token + " \r\n"):
        assert module.jwt3_verify(JWKS, "HS256", "caller='alice'",
                                  padded) == 1


# -- verify: the C module's bypasses must fail (its bugs B1 and B6)

@pytest.mark.parametrize("keys, alg, header", [
    # first key unusable (use enc), token without kid
    ([{"kty": "oct", "use": "enc", "k": SECRET_A},
      {"kty": "oct", "k": SECRET_B}], "HS256", {"alg": "none"}),
    # kid naming a key bound to another alg
    ([{"kty": "oct", "kid": "x", "alg": "HS512", "k": SECRET_A}],
     "HS256", {"alg": "none", "kid": "x"}),
    # alg typo
    ([{"kty": "oct", "k": SECRET_A}], "hs256", {"alg": "none"}),
])
def test_unsigned_tokens_never_verify(module, keys, alg, header):
    token = forge(header, {"caller": "alice"})
    assert token.endswith(".")
    assert module.jwt3_verify_key(json.dumps({"keys": keys}), alg,
                                  "caller='alice'", token) == -1
    assert module.pv("status") != jwt3.STATUS_OK


def test_kid_naming_an_unusable_key_never_falls_back(module):
    keys = {"keys": [{"kty": "oct", "kid": "x", "use": "enc",
                      "k": SECRET_A},
                     {"kty": "oct", "kid": "y", "k": SECRET_A}]}
    token = forge({"alg": "HS256", "kid": "x"}, {"a": 1})
    assert module.jwt3_verify_key(json.dumps(keys), "HS256", "", token) \
        == -1
    assert module.pv("status") == jwt3.STATUS_KEY


def test_unknown_kid_in_a_static_set_falls_back(module):
    # As the C module (e90ff19): the first usable key is tried.
    token = forge({"alg": "HS256", "kid": "zz"}, {"a": 1})
    assert module.jwt3_verify_key(JWKS, "HS256", "a=1", token) == 1


# -- expected claims (reference §1.7.2, §1.9.2 and decision D-5)

@pytest.mark.parametrize("claims, expected, ok", [
    ({"iss": "4912345"}, "iss=4912345", True),
    ({"iss": "x"}, "iss='x'", True),
    ({"iss": "xy"}, "iss='x'", False),
    ({"sub": "+4912345"}, "sub='+4912345'", True),
    ({"sub": 4912345}, "sub=4912345", False),
    ({"aud": "a"}, "aud=a", True),
    ({"aud": ["b", "a"]}, "aud=a", True),      # C: arrays never match
    ({"aud": ["b"]}, "aud=a", False),
    ({"exp": 123}, "exp=123", True),           # exact integer equality
    ({"exp": 124}, "exp=123", False),
    ({"exp": 123}, "exp='123'", False),
    ({"exp": 123.0}, "exp=123", False),
    ({"nbf": 5}, "nbf=5", True),
    ({"index": 100}, "index=100", True),
    ({"index": "100"}, "index=100", False),
    ({"index": "100"}, "index='100'", True),
    ({"index": 100}, "index='100'", False),
    ({"index": True}, "index=1", False),
    ({"index": 100.0}, "index=100", False),
    ({"caller": "alice"}, "caller=alice", True),
    ({"caller": "alice"}, "caller=alice;flag", True),
    ({"caller": ["alice"]}, "caller=alice", False),
    ({}, "caller=alice", False),
])
def test_expected_claims(claims, expected, ok):
    module = Module(leeway_sec=-1, clock=lambda: NOW)
    token = forge({"alg": "HS256"}, claims)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt3.InsecureSettingWarning)
        result = module.jwt3_verify_key(JWKS, "HS256", expected, token)
    assert result == (1 if ok else -1), module.pv("error")
    if not ok:
        assert module.pv("status") == jwt3.STATUS_CLAIM


# -- time checks and leeway_sec

def test_leeway_minus_one_disables_time_checks_with_one_warning(caplog):
    module = Module(clock=lambda: NOW)
    token = forge({"alg": "HS256"}, {"exp": NOW - 100, "nbf": NOW + 100})
    with caplog.at_level(logging.WARNING, logger="jwt3"):
        with pytest.warns(jwt3.InsecureSettingWarning, match="not checked"):
            assert module.jwt3_verify_key(JWKS, "HS256", "", token) == 1
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert module.jwt3_verify_key(JWKS, "HS256", "", token) == 1
    assert [r.levelname for r in caplog.records] == ["WARNING"]


def test_leeway_checks_exp_and_nbf():
    module = Module(leeway_sec=0, clock=lambda: NOW)
    expired = forge({"alg": "HS256"}, {"exp": NOW})
    early = forge({"alg": "HS256"}, {"nbf": NOW + 5})
    assert module.jwt3_verify_key(JWKS, "HS256", "", expired) == -1
    assert module.pv("status") == jwt3.STATUS_EXPIRED
    assert module.jwt3_verify_key(JWKS, "HS256", "", early) == -1
    assert module.pv("status") == jwt3.STATUS_NOT_YET_VALID
    module.modparam("leeway_sec", "10")
    assert module.leeway_sec == 10
    assert module.jwt3_verify_key(JWKS, "HS256", "", expired) == 1
    assert module.jwt3_verify_key(JWKS, "HS256", "", early) == 1


def test_deviation_time_claim_types_are_checked_even_with_checks_off():
    module = Module(leeway_sec=-1, clock=lambda: NOW)
    token = forge({"alg": "HS256"}, {"exp": "tomorrow"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert module.jwt3_verify_key(JWKS, "HS256", "", token) == -1
    assert module.pv("status") == jwt3.STATUS_CLAIM


# -- parameters, variables, status codes

def test_modparam():
    module = Module()
    assert (module.leeway_sec, module.jwks_cache_ttl,
            module.jwks_miss_window, module.jwks_max_misses) == (
        -1, 3600, 60, 5)
    module.modparam("jwks_cache_ttl", 10)
    module.modparam("jwks_max_misses", " 0 ")
    assert (module.jwks_cache_ttl, module.jwks_max_misses) == (10, 0)
    with pytest.raises(ValueError, match="unknown jwt3 parameter"):
        module.modparam("leeway", 1)
    with pytest.raises(TypeError):
        module.modparam("leeway_sec", 1.5)
    with pytest.raises(TypeError):
        module.modparam("leeway_sec", True)
    with pytest.raises(TypeError):
        module.modparam("leeway_sec", "ten")
    with pytest.raises(ValueError):
        module.modparam("jwks_max_misses", -1)
    with pytest.raises(TypeError):
        Module(leeway_sec="x")


def test_pv():
    module = Module()
    assert (module.pv("val"), module.pv("status"), module.pv("error")) \
        == (None, 0, "")
    with pytest.raises(ValueError):
        module.pv("value")


def test_status_codes_are_stable():
    assert {code: name for code, name in (
        (0, "STATUS_OK"), (1, "STATUS_MALFORMED"), (2, "STATUS_KEY"),
        (3, "STATUS_ALGORITHM"), (4, "STATUS_SIGNATURE"),
        (5, "STATUS_EXPIRED"), (6, "STATUS_NOT_YET_VALID"),
        (7, "STATUS_CLAIM"), (8, "STATUS_JWKS"), (9, "STATUS_ARGUMENTS"),
        (10, "STATUS_INTERNAL"))} == {
        getattr(jwt3, name): name for name in dir(jwt3)
        if name.startswith("STATUS_") and name != "STATUS_CODES"}
    assert sorted(jwt3.STATUS_CODES) == list(range(11))
    assert jwt3._status_of(jwt3.JWKSError("x")) == jwt3.STATUS_JWKS


def test_internal_errors_are_caught_and_logged(module, token, monkeypatch,
                                               caplog):
    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(jwt3, "_decode", broken)
    with caplog.at_level(logging.ERROR, logger="jwt3"):
        assert module.jwt3_verify_key(JWKS, "HS256", "", token) == -1
    assert module.pv("status") == jwt3.STATUS_INTERNAL
    assert module.pv("error") == "internal error: RuntimeError: boom"
    assert caplog.records[-1].exc_info is not None


def test_log_lines_never_hold_the_token_or_secret(module, token, caplog):
    with caplog.at_level(logging.ERROR, logger="jwt3"):
        module.jwt3_verify_key(JWKS, "HS256", "caller='x'", token)
        module.jwt3_verify_key(JWKS, "HS256", "", token[:-4] + "AAAA")
        module.jwt3_generate('{"kty":"oct","k":"c2hvcnQ"}', "HS256", "a=1")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert len(caplog.records) == 3
    for secret in (token, token.split(".")[2], SECRET_A, "c2hvcnQ"):
        assert secret not in text


# -- key strings (rules of jwt_load_keys, plus the PEM sniff)

@pytest.mark.parametrize("text, rule", [
    ("https://idp.example/jwks.json", "URL"),
    ("http://idp.example/keys", "URL"),
    ("HTTPS://idp.example/jwks.json", "JWK Set file"),
    ("HTTPS://idp.example/keys", "PEM file"),
    ('{"keys":[]}', "inline JWK"),
    (' {"keys":[]}', "PEM text"),
    ("-----BEGIN PUBLIC KEY-----\nabc.def\n", "PEM text"),
    ("/etc/kamailio/pubkey", "PEM text"),
    ("/etc/kamailio/keys.json", "JWK Set file"),
    ("/etc/kamailio/keys.JSON", "PEM file"),
    ("/etc/k.d/key", "PEM file"),
])
def test_key_string_rules(text, rule):
    assert jwt3._key_string_rule(text) == rule


def test_json_file_and_cache_refresh(module, tmp_path, token):
    path = tmp_path / "keys.json"
    path.write_text(JWKS)
    assert module.jwt3_verify(str(path), "HS256", "caller='alice'",
                              token) == 1
    # The file is re-read when it changes (stat), not on every call.
    path.write_text(json.dumps({"keys": [{"kty": "oct", "k": SECRET_B,
                                          "extra": "x" * 10}]}))
    os.utime(str(path), ns=(1, 1))
    assert module.jwt3_verify(str(path), "HS256", "caller='alice'",
                              token) == -1
    assert module.pv("status") == jwt3.STATUS_SIGNATURE


def test_key_cache_is_bounded(module, token):
    for i in range(jwt3._KEY_CACHE_SIZE + 5):
        jwks = json.dumps({"keys": [{"kty": "oct", "k": SECRET_A,
                                     "kid": str(i)}]})
        module.jwt3_verify_key(jwks, "HS256", "", token)
    assert len(module._key_cache) == jwt3._KEY_CACHE_SIZE


@pytest.mark.parametrize("name, content, reason", [
    ("keys.JSON", JWKS, "not a PEM or DER key"),
    ("key.pem", "garbage", "not a PEM or DER key"),
    ("key.der", b"\x30\x03\x02\x01\x01", "not a known key format"),
    ("big.pem", b"x" * (jwt3._KEY_FILE_MAX + 1), "larger than"),
    ("keys.json", '{"keys":[{"kty":"EC"}]}', "no usable key"),
])
def test_key_file_failures(module, tmp_path, token, name, content, reason):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert module.jwt3_verify_key(str(path), "HS256", "", token) == -1
    assert module.pv("status") == jwt3.STATUS_KEY
    assert reason in module.pv("error")
    assert module.pv("error").startswith("key string (")


def test_unreadable_key_file(module, tmp_path, token):
    assert module.jwt3_verify_key(str(tmp_path) + "/.", "HS256", "",
                                  token) == -1
    assert "cannot read it" in module.pv("error")


# -- the module-level functions act on one default Module

def test_module_level_functions(monkeypatch):
    monkeypatch.setattr(jwt3, "_default_module",
                        Module(clock=lambda: NOW))
    jwt3.modparam("leeway_sec", 0)
    assert jwt3.jwt3_generate(JWKS, "HS256", "a=1") == 1
    token = jwt3.pv("val")
    assert jwt3.jwt3_generate_hdrs(JWKS, "HS256", "a=1", "kid=b") == 1
    assert jwt3.jwt3_verify(JWKS, "HS256", "a=1", token) == 1
    assert jwt3.jwt3_verify_key(JWKS, "HS256", "a=2", token) == -1
    assert jwt3.pv("status") == jwt3.STATUS_CLAIM
    assert jwt3._default_module.leeway_sec == 0


# -- PEM key strings (RSA: the C module's private RSA PEM cannot sign,
#    its bug B3, and so emits unsigned tokens, B2)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def data_path(name):
    return os.path.join(DATA, name)


def data_text(name):
    with open(data_path(name)) as f:
        return f.read()


@pytest.mark.parametrize("private, public", [
    ("rsa2048.pkcs8.pem", "rsa2048.spki.pem"),
    ("rsa2048.pkcs1.pem", "rsa2048.pkcs1-pub.pem"),
    ("rsa2048.pkcs8.pem", "rsa2048.crt.pem"),
])
@pytest.mark.parametrize("alg", ["RS256", "PS384"])
def test_rsa_pem_files_and_text(module, private, public, alg):
    for prvkey in (data_path(private), data_text(private)):
        token = generated(module, SEED_CLAIMS, key=prvkey, alg=alg)
        header = jwt3.decode_unverified(token).header
        assert header == {"alg": alg, "typ": "JWT"}
        for pubkey in (data_path(public), data_text(public)):
            assert module.jwt3_verify(pubkey, alg, SEED_CLAIMS, token) == 1
            assert module.jwt3_verify(pubkey, alg, "caller='eve'",
                                      token) == -1


def test_rsa_pem_keys_have_the_legacy_kids(module):
    assert module._keys(data_path("rsa2048.spki.pem"))[0].kid == \
        "legacy-file"
    assert module._keys(data_text("rsa2048.spki.pem"))[0].kid == \
        "legacy-raw"


def test_rsa_public_pem_cannot_sign(module):
    assert module.jwt3_generate(data_path("rsa2048.spki.pem"), "RS256",
                                "a=1") == -1
    assert "public key cannot sign" in module.pv("error")
    assert module.pv("val") is None


@pytest.mark.parametrize("name, alg, status, reason", [
    ("rsa1024.pkcs8.pem", "RS256", jwt3.STATUS_KEY, "at least 2048"),
    ("rsa2048.encrypted-pkcs8.pem", "RS256", jwt3.STATUS_KEY, "encrypted"),
    ("rsa2048.spki.pem", "ES256", jwt3.STATUS_KEY, "RSA key cannot be"),
    ("rsa2048.spki.pem", "HS256", jwt3.STATUS_KEY, "RSA key cannot be"),
])
def test_rsa_pem_refusals(module, name, alg, status, reason):
    token = forge({"alg": alg}, {"a": 1})
    assert module.jwt3_verify_key(data_path(name), alg, "", token) == -1
    assert module.pv("status") == status
    assert reason in module.pv("error")


# -- EC and OKP PEM key strings: every curve, read from the key (the C
#    module labels every EC PEM key P-256, its bug B8, and cannot load
#    Ed25519/Ed448 PEM at all)

@pytest.mark.parametrize("alg, crv", [
    ("ES256", None), ("ES384", None), ("ES512", None), ("ES256K", None),
    ("EdDSA", "Ed25519"), ("EdDSA", "Ed448"), ("Ed25519", None),
    ("Ed448", None),
])
def test_ec_and_okp_pem_keys(module, tmp_path, alg, crv):
    key = jwt3.generate_key(alg, crv=crv)
    private_pem = key.to_pem(private=True)
    public_pem = key.to_pem()
    private_file = tmp_path / "key.pem"
    public_file = tmp_path / "key.pub.pem"
    private_file.write_text(private_pem)
    public_file.write_text(public_pem)
    loaded = module._keys(str(public_file))[0]
    assert (loaded.kty, loaded.crv) == (key.kty, key.crv)

    for prvkey in (str(private_file), private_pem):
        token = generated(module, SEED_CLAIMS, key=prvkey, alg=alg)
        for pubkey in (str(public_file), public_pem):
            assert module.jwt3_verify(pubkey, alg, SEED_CLAIMS, token) == 1
    other = jwt3.generate_key(alg, crv=crv).to_pem()
    assert module.jwt3_verify(other, alg, SEED_CLAIMS, token) == -1
    assert module.pv("status") == jwt3.STATUS_SIGNATURE


@pytest.mark.parametrize("alg, other", [("ES256", "ES256K"),
                                        ("ES256K", "ES256"),
                                        ("ES384", "ES256"),
                                        ("EdDSA", "ES256")])
def test_curve_bound_to_alg(module, alg, other):
    # An ES256K token checked with a P-256 key (and the reverse) must
    # fail before any signature math: the curve is bound to the alg.
    key = jwt3.generate_key(alg)
    token = jwt3.encode({"a": 1}, key, alg)
    pem = jwt3.generate_key(other).to_pem()
    assert module.jwt3_verify_key(pem, alg, "", token) == -1
    assert module.pv("status") == jwt3.STATUS_KEY


def test_deviation_string_claims_stay_strings(module):
    # RFC 7519 §4.1: iss, sub, aud and jti are strings.  The C module
    # writes sub=4912345 as a number, and then its own check of sub (a
    # string compare) refuses the token it made.
    claims = "iss=100;sub=4912345;aud=7;jti=1;index=100"
    token = generated(module, claims)
    decoded = jwt3.decode_unverified(token).claims
    assert (decoded["iss"], decoded["sub"], decoded["aud"], decoded["jti"],
            decoded["index"]) == ("100", "4912345", "7", "1", 100)
    assert module.jwt3_verify(JWKS, "HS256", claims, token) == 1
