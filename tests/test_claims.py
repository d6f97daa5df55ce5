"""Section 21: registered claims (RFC 7519 §4.1) and their checks."""

import json

import pytest
from hypothesis import given, strategies as st

import jwt3
from vectors import by_id

KEY = jwt3.Key.from_secret(bytes(range(32)))
NOW = 1_800_000_000


def token_for(claims):
    """Sign exactly these claims (even ones encode would serialize
    differently): the payload is written by the test."""
    payload = json.dumps(claims).encode() if not isinstance(
        claims, bytes) else claims
    signing_input = jwt3._b64u_encode(b'{"alg":"HS256"}') + "." + \
        jwt3._b64u_encode(payload)
    return signing_input + "." + jwt3._b64u_encode(
        KEY.sign("HS256", signing_input.encode()))


def decode(claims, **options):
    options.setdefault("now", NOW)
    return jwt3.decode(token_for(claims), KEY, ["HS256"], **options)


# -- exp and nbf (RFC 7519 §4.1.4, §4.1.5; libjwt's exact boundaries)

@pytest.mark.parametrize("exp, leeway, ok", [
    (NOW + 1, 0, True),
    (NOW, 0, False),          # exp must be strictly after now
    (NOW - 1, 0, False),
    (NOW - 10, 10, False),
    (NOW - 9, 10, True),
    (NOW + 0.5, 0, True),
    (NOW - 0.5, 0, False),
])
def test_exp(exp, leeway, ok):
    if ok:
        assert decode({"exp": exp}, leeway=leeway) == {"exp": exp}
    else:
        with pytest.raises(jwt3.ExpiredError, match="expired") as info:
            decode({"exp": exp}, leeway=leeway)
        assert info.value.claim == "exp"


@pytest.mark.parametrize("nbf, leeway, ok", [
    (NOW, 0, True),           # nbf may equal now
    (NOW - 100, 0, True),
    (NOW + 1, 0, False),
    (NOW + 10, 10, True),
    (NOW + 11, 10, False),
])
def test_nbf(nbf, leeway, ok):
    if ok:
        decode({"nbf": nbf}, leeway=leeway)
    else:
        with pytest.raises(jwt3.NotYetValidError) as info:
            decode({"nbf": nbf}, leeway=leeway)
        assert info.value.claim == "nbf"


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value, reason", [
    ("1800000100", "expected a number, got string"),
    (True, "expected a number, got boolean"),
    (None, "expected a number, got null"),
    ([NOW + 100], "expected a number, got array"),
    (2 ** 63, "out of range"),
    (-2 ** 63 - 1, "out of range"),
    (1e300, "out of range"),
])
def test_time_claim_types(name, value, reason):
    with pytest.raises(jwt3.InvalidClaimError, match=reason) as info:
        decode({name: value})
    assert info.value.claim == name


def test_nan_and_infinity_are_not_even_json():
    # Authlib accepted exp NaN and 1e400 (never expiring tokens); here
    # they do not parse.
    for text in (b'{"exp":NaN}', b'{"exp":1e400}', b'{"exp":Infinity}'):
        with pytest.raises(jwt3.MalformedError):
            decode(text)


def test_missing_times_pass_and_iat_is_not_a_time_check():
    assert decode({}) == {}
    assert decode({"iat": NOW + 10_000}) == {"iat": NOW + 10_000}


def test_default_clock_is_the_system_clock():
    with pytest.raises(jwt3.ExpiredError):
        jwt3.decode(token_for({"exp": 1}), KEY, ["HS256"])


def test_libjwt_out_of_range_exp():
    key = jwt3.Key.from_jwk(by_id("libjwt", "LIBJWT-oct_key_256")["jwk"])
    bad = by_id("libjwt", "LIBJWT-jwt_security.c-exp-out-of-range")
    with pytest.raises(jwt3.InvalidClaimError):
        jwt3.decode(bad["jws"], key, ["HS256"])
    good = by_id("libjwt", "LIBJWT-jwt_security.c-exp-control")
    assert jwt3.decode(good["jws"], key, ["HS256"], now=NOW) == {
        "exp": 7999999999}


# -- iss and sub: exact, whole-string

@pytest.mark.parametrize("name, option", [("iss", "issuer"),
                                          ("sub", "subject")])
def test_string_claims(name, option):
    assert decode({name: "joe"}, **{option: "joe"}) == {name: "joe"}
    for other in ("jo", "joe2", "Joe", " joe", "joe\x01"):
        with pytest.raises(jwt3.ClaimMismatchError) as info:
            decode({name: other}, **{option: "joe"})
        assert info.value.claim == name
    with pytest.raises(jwt3.MissingClaimError):
        decode({}, **{option: "joe"})
    with pytest.raises(jwt3.InvalidClaimError, match="expected a string"):
        decode({name: ["joe"]}, **{option: "joe"})
    with pytest.raises(TypeError):
        decode({name: "joe"}, **{option: 5})


def test_issuer_list():
    assert decode({"iss": "b"}, issuer=["a", "b"]) == {"iss": "b"}
    with pytest.raises(jwt3.ClaimMismatchError):
        decode({"iss": "ab"}, issuer=("a", "b"))


# -- aud (RFC 7519 §4.1.3)

@pytest.mark.parametrize("aud, audience, ok", [
    ("api", "api", True),
    (["x", "api"], "api", True),
    (["x", "api"], ["api", "y"], True),
    ("api", ["other", "api"], True),
    ("api2", "api", False),
    (["x"], "api", False),
    ([], "api", False),
])
def test_audience(aud, audience, ok):
    if ok:
        decode({"aud": aud}, audience=audience)
    else:
        with pytest.raises(jwt3.ClaimMismatchError):
            decode({"aud": aud}, audience=audience)


def test_audience_refusals():
    with pytest.raises(jwt3.MissingClaimError):
        decode({}, audience="api")
    for bad in (5, ["api", 5], {"api": 1}):
        with pytest.raises(jwt3.InvalidClaimError):
            decode({"aud": bad}, audience="api")
    # A token for some audience, read by a caller naming none: refused.
    with pytest.raises(jwt3.ClaimMismatchError, match="no audience"):
        decode({"aud": "api"})
    with pytest.raises(TypeError):
        decode({"aud": "api"}, audience=[1])


# -- require

def test_require():
    assert decode({"jti": "x", "exp": NOW + 5}, require=["jti", "exp"])
    with pytest.raises(jwt3.MissingClaimError, match='"exp"') as info:
        decode({"jti": "x"}, require=("jti", "exp"))
    assert info.value.claim == "exp"


@given(exp=st.integers(-2**63, 2**63 - 1), now=st.integers(0, 2**40),
       leeway=st.integers(0, 1000))
def test_exp_rule_matches_libjwt(exp, now, leeway):
    expired = not exp > now - leeway
    try:
        decode({"exp": exp}, now=now, leeway=leeway)
        assert not expired
    except jwt3.ExpiredError:
        assert expired
