"""Keys (sections 5, 6 and 18): export and import round trips, RFC 7638
thumbprints, key generation, and JWK Set handling.

Round trips are parametrized over ``jwt3.supported_algorithms()``, so
every family merged into the build is covered.  The RFC 7638 vectors
for a ``kty`` the build cannot parse are skipped (none once all the
families are in).
"""

import base64
import hashlib
import json
from typing import Any, Dict, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jwt3
from vectors import params

ALGORITHMS = jwt3.supported_algorithms()

# RFC 7638 §3.2: the members that enter the thumbprint, per kty (kept
# here independently of the library's thumbprint_members()).
REQUIRED = {"oct": ("k", "kty"), "RSA": ("e", "kty", "n"),
            "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}

_KEYS = {}    # type: Dict[str, jwt3.Key]


def generated(alg: str) -> jwt3.Key:
    """One generated key per algorithm for the whole run (RSA keys
    take a while to make)."""
    if alg not in _KEYS:
        _KEYS[alg] = jwt3.generate_key(alg)
    return _KEYS[alg]


def textbook_thumbprint(jwk: Dict[str, Any], hash_name: str) -> str:
    """RFC 7638 §3.1, written out: required members, sorted, no
    whitespace, UTF-8, hashed, base64url."""
    members = {name: jwk[name] for name in REQUIRED[jwk["kty"]]}
    text = json.dumps(members, sort_keys=True, separators=(",", ":"))
    digest = hashlib.new(hash_name, text.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_verify(signer: jwt3.Key, verifier: jwt3.Key, alg: str) -> None:
    jwt = jwt3.encode({"n": 1}, signer, alg)
    assert jwt3.decode(jwt, verifier, [alg]) == {"n": 1}


# -- generation


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_generate_key(alg: str) -> None:
    key = generated(alg)
    assert key.is_private and key.alg == alg
    assert key.usable(alg, "sign") and key.usable(alg, "verify")
    assert key.kid == key.thumbprint() == textbook_thumbprint(
        key.to_jwk(private=True), "sha256")
    sign_verify(key, key, alg)


def test_generate_key_options() -> None:
    key = jwt3.generate_key("HS384", bits=512, kid="mine")
    assert (key.kid, key.size, key.alg) == ("mine", 512, "HS384")
    assert jwt3.generate_key("HS512").size == 512
    with pytest.raises(ValueError):
        jwt3.generate_key("HS256", bits=128)
    with pytest.raises(ValueError):
        jwt3.generate_key("HS256", bits=260)
    with pytest.raises(ValueError):
        jwt3.generate_key("HS256", crv="P-256")
    with pytest.raises(TypeError):
        jwt3.generate_key("HS256", bits="256")       # type: ignore
    with pytest.raises(TypeError):
        jwt3.generate_key("HS256", kid=5)            # type: ignore
    with pytest.raises(jwt3.AlgorithmNotAllowedError):
        jwt3.generate_key("none")


def test_generate_key_without_generator(monkeypatch: Any) -> None:
    monkeypatch.delitem(jwt3._KEY_GENERATORS, "oct")
    with pytest.raises(jwt3.InvalidKeyError, match="cannot generate oct"):
        jwt3.generate_key("HS256")


# -- export and import round trips


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_private_jwk_round_trip(alg: str) -> None:
    key = generated(alg)
    jwk = key.to_jwk(private=True)
    assert list(jwk)[0] == "kty"
    again = jwt3.Key.from_jwk(json.dumps(jwk))
    assert again.to_jwk(private=True) == jwk
    assert (again.kid, again.alg, again.is_private) == (key.kid, alg, True)
    assert again.thumbprint() == key.thumbprint()
    sign_verify(again, key, alg)
    sign_verify(key, again, alg)


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_public_jwk_round_trip(alg: str) -> None:
    key = generated(alg)
    if key.kty == "oct":
        with pytest.raises(jwt3.InvalidKeyError, match="private=True"):
            key.to_jwk()
        assert key.public() is key
        return
    jwk = key.to_jwk()
    public = jwt3.Key.from_jwk(jwk)
    assert not public.is_private
    assert public.to_jwk() == jwk == key.public().to_jwk()
    assert public.thumbprint() == key.thumbprint()
    with pytest.raises(jwt3.InvalidKeyError):
        public.to_jwk(private=True)
    with pytest.raises(jwt3.InvalidKeyError):
        public.sign(alg, b"data")
    sign_verify(key, public, alg)


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_pem_round_trip(alg: str) -> None:
    key = generated(alg)
    if key.kty == "oct":
        with pytest.raises(jwt3.InvalidKeyError, match="no PEM form"):
            key.to_pem(private=True)
        return
    private_pem = key.to_pem(private=True)
    public_pem = key.to_pem()
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert all(len(line) <= 64 for line in private_pem.splitlines())

    private = jwt3.Key.from_pem(private_pem)
    public = jwt3.Key.from_pem(public_pem)
    assert private.to_jwk(private=True) == jwt3.Key(
        key._material).to_jwk(private=True)
    assert public.to_jwk() == jwt3.Key(key._material).to_jwk()
    assert private.to_pem(private=True) == private_pem
    assert public.to_pem() == public_pem == key.public().to_pem()
    with pytest.raises(jwt3.InvalidKeyError):
        public.to_pem(private=True)
    sign_verify(private, public, alg)


def test_public_of_private_key_ops() -> None:
    asymmetric = [alg for alg in ALGORITHMS if not alg.startswith("HS")]
    if not asymmetric:
        pytest.skip("no asymmetric family in this build")
    key = generated(asymmetric[0])
    jwk = key.to_jwk(private=True)
    jwk["key_ops"] = ["sign", "verify"]
    public = jwt3.Key.from_jwk(jwk).public()
    assert public.key_ops == ("verify",)
    jwk["key_ops"] = ["sign"]
    assert jwt3.Key.from_jwk(jwk).public().key_ops == ("verify",)


def test_key_set_round_trip() -> None:
    keys = [generated(alg) for alg in ALGORITHMS]
    keyset = jwt3.KeySet(keys)
    private = keyset.to_jwks(private=True)
    assert [jwk["kid"] for jwk in private["keys"]] == [k.kid for k in keys]
    again = jwt3.KeySet.from_jwks(json.dumps(private))
    assert again.to_jwks(private=True) == private
    assert not again.skipped

    # Public export: every asymmetric key, public; oct keys left out.
    public = keyset.to_jwks()
    assert [jwk["kid"] for jwk in public["keys"]] \
        == [k.kid for k in keys if k.kty != "oct"]
    assert all(not jwt3.Key.from_jwk(jwk).is_private
               for jwk in public["keys"])


def test_jwk_metadata_round_trip() -> None:
    jwk = {"kty": "oct", "k": base64.urlsafe_b64encode(b"x" * 32)
           .rstrip(b"=").decode(), "kid": "a", "alg": "HS256",
           "use": "sig", "key_ops": ["sign", "verify"], "ext": True}
    key = jwt3.Key.from_jwk(jwk)
    out = key.to_jwk(private=True)
    assert out == {name: jwk[name] for name in
                   ("kty", "k", "kid", "alg", "use", "key_ops")}
    assert list(out)[:2] == ["kty", "k"]


@settings(max_examples=40)
@given(secret=st.binary(min_size=1, max_size=80),
       kid=st.one_of(st.none(), st.text(max_size=20)))
def test_oct_round_trip_property(secret: bytes, kid: Any) -> None:
    if jwt3._secret_is_key_text(secret):
        # Key text is never a secret (tests/test_advisories.py).
        with pytest.raises(jwt3.InvalidKeyError, match="cannot be the"):
            jwt3.Key.from_secret(secret, kid=kid)
        return
    key = jwt3.Key.from_secret(secret, kid=kid)
    jwk = key.to_jwk(private=True)
    again = jwt3.Key.from_jwk(json.loads(json.dumps(jwk)))
    assert again.to_jwk(private=True) == jwk
    assert again.thumbprint() == textbook_thumbprint(jwk, "sha256")


# -- RFC 7638 thumbprints


def parsable(case: Dict[str, Any]) -> None:
    kty = case["jwk"]["kty"]
    if kty not in jwt3._JWK_PARSERS:
        pytest.skip("this build cannot parse kty %s" % kty)


@pytest.mark.parametrize("case", params("rfc7638"))
def test_rfc7638_vector(case: Dict[str, Any]) -> None:
    parsable(case)
    key = jwt3.Key.from_jwk(case["jwk"])
    canonical = jwt3._json_dumps(key._material.thumbprint_members())
    assert canonical.decode() == case["thumbprint_input"]
    assert key.thumbprint() == case["expected"]["thumbprint_b64u"]
    assert key.thumbprint("sha256") == case["thumbprint_b64u"]


@pytest.mark.parametrize("case", params("rfc7638"))
@pytest.mark.parametrize("hash_name", ["sha384", "sha512"])
def test_rfc7638_other_hashes(case: Dict[str, Any], hash_name: str
                              ) -> None:
    parsable(case)
    key = jwt3.Key.from_jwk(case["jwk"])
    digest = hashlib.new(hash_name,
                         case["thumbprint_input"].encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert key.thumbprint(hash_name) == expected
    assert len(expected) == {"sha384": 64, "sha512": 86}[hash_name]


@pytest.mark.parametrize("case", params("rfc7638"))
def test_rfc7638_ignores_other_members(case: Dict[str, Any]) -> None:
    parsable(case)
    jwk = dict(case["jwk"], kid="other", alg="X", use="sig")
    jwk.pop("d", None)
    assert jwt3.Key.from_jwk(jwk).thumbprint() \
        == case["expected"]["thumbprint_b64u"]


def test_thumbprint_hash_names() -> None:
    key = jwt3.Key.from_secret(b"k" * 32)
    for bad in ("md5", "SHA-256", "sha1"):
        with pytest.raises(ValueError):
            key.thumbprint(bad)


# -- JWK Set handling (RFC 7517 §5)


def oct_jwk(byte: bytes, size: int = 32, **extra: Any) -> Dict[str, Any]:
    jwk = jwt3.Key.from_secret(byte * size).to_jwk(private=True)
    jwk.update(extra)
    return jwk


def kids(keyset: Any) -> List[Any]:
    return [key.kid for key in keyset]


def test_set_skips_unusable_entries() -> None:
    keyset = jwt3.KeySet.from_jwks({"keys": [
        {"kty": "XYZ", "kid": "future"}, "text", oct_jwk(b"a", kid="a"),
        {"kty": "oct"}, oct_jwk(b"b", kid="b")]})
    assert kids(keyset) == ["a", "b"]
    assert [index for index, _ in keyset.skipped] == [0, 1, 3]
    assert "not supported" in keyset.skipped[0][1]
    assert keyset.skipped[1][1] == "not a JSON object"


@pytest.mark.parametrize("doc, reason", [
    ({"keys": []}, "no usable key"),
    ({"keys": [{"kty": "XYZ"}, {"kty": "oct", "k": ""}]},
     "no usable key; [0] JWK \"kty\": 'XYZ' is not supported; [1]"),
    ({"keys": "x"}, "expected an array"),
    ({"keys": [oct_jwk(b"a")] * 257}, "more than 256"),
])
def test_set_without_usable_key(doc: Dict[str, Any], reason: str) -> None:
    with pytest.raises(jwt3.KeyFormatError) as info:
        jwt3.KeySet.from_jwks(doc)
    assert reason in str(info.value), str(info.value)


def test_bare_jwk_is_a_one_key_set() -> None:
    assert kids(jwt3.KeySet.from_jwks(oct_jwk(b"a", kid="a"))) == ["a"]
    with pytest.raises(jwt3.InvalidKeyError):
        jwt3.KeySet.from_jwks({"kty": "XYZ"})
    with pytest.raises(TypeError):
        jwt3.KeySet.from_jwks(5)         # type: ignore[arg-type]


def test_duplicate_kids() -> None:
    keyset = jwt3.KeySet.from_jwks({"keys": [
        oct_jwk(b"1", 64, kid="k", alg="HS512"), oct_jwk(b"2", kid="k"),
        oct_jwk(b"3", kid="k"), oct_jwk(b"4", kid="other")]})
    # find: the first with that kid; select: the first usable with it.
    assert keyset.find("k") is keyset[0]
    assert keyset.select("HS256", "k") is keyset[1]
    assert keyset.select("HS512", "k") is keyset[0]
    # Keys named by the kid, none usable: never another key.
    with pytest.raises(jwt3.InvalidKeyError, match="HS512, not HS256"):
        jwt3.KeySet([keyset[0], keyset[3]]).select("HS256", "k")


@pytest.mark.parametrize("extra, alg, usable", [
    ({}, "HS256", True),
    ({"alg": "HS256"}, "HS256", True),
    ({"alg": "HS384"}, "HS256", False),
    ({"use": "sig"}, "HS256", True),
    ({"use": "enc"}, "HS256", False),
    ({"use": "other"}, "HS256", True),
    ({"key_ops": ["verify"]}, "HS256", True),
    ({"key_ops": ["sign"]}, "HS256", False),
    ({"key_ops": []}, "HS256", False),
])
def test_eligibility(extra: Dict[str, Any], alg: str, usable: bool) -> None:
    keyset = jwt3.KeySet.from_jwks({"keys": [oct_jwk(b"a", kid="a",
                                                     **extra)]})
    assert keyset[0].usable(alg) is usable
    if usable:
        assert keyset.select(alg, "a") is keyset[0]
    else:
        with pytest.raises(jwt3.InvalidKeyError):
            keyset.select(alg, "a")
        with pytest.raises(jwt3.InvalidKeyError):
            keyset.select(alg)


def test_select_kid_not_found() -> None:
    keyset = jwt3.KeySet.from_jwks({"keys": [
        {"kty": "XYZ", "kid": "new"}, oct_jwk(b"a", kid="a")]})
    assert keyset.select("HS256", "zz") is keyset[0]
    with pytest.raises(jwt3.InvalidKeyError) as info:
        keyset.select("HS256", "new", strict_kid=True)
    # the key asked for may be among the entries skipped: say so
    assert str(info.value).startswith("no key with kid 'new' (JWK Set"
                                      " entries skipped: [0]")
    with pytest.raises(jwt3.InvalidKeyError) as info:
        keyset.select("HS512")
    assert "skipped: [0]" in str(info.value)
    with pytest.raises(jwt3.InvalidKeyError) as info:
        jwt3.KeySet().select("HS256")
    assert str(info.value) == "no key can verify with HS256"
