"""Sections 5-6: the key model (Key, KeySet, loaders) with oct keys and a
stand-in family for what only asymmetric families can reach."""

import base64
import json
import os

import pytest

import jwt3
from vectors import by_id, cases

K256 = {"kty": "oct", "k": "0gmNspkRljssLSrldySnYUS-zhtCo5sqeqo_yl7n2XA"}
SECRET = bytes(range(64))
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


class PublicStandIn(jwt3._Material):
    """Material of a family jwt3 does not know: public, kty "XX"."""

    __slots__ = ()
    kty = "XX"
    size = 8

    def public(self):
        return self

    def jwk_members(self, private):
        return {"kty": "XX"}

    def thumbprint_members(self):
        return {"kty": "XX"}

    def to_der(self, private):
        return "PUBLIC KEY", b"\x30\x00"


def oct_key(**meta):
    return jwt3.Key.from_jwk(dict(K256, **meta))


# -- Key.from_jwk

def test_from_jwk_mapping_and_text():
    key = oct_key(kid="k1", alg="HS256", use="sig", key_ops=["sign",
                                                             "verify"])
    assert (key.kty, key.crv, key.size, key.is_private) == (
        "oct", None, 256, True)
    assert (key.kid, key.alg, key.use, key.key_ops) == (
        "k1", "HS256", "sig", ("sign", "verify"))
    again = jwt3.Key.from_jwk(json.dumps(key.to_jwk(private=True)))
    assert again.to_jwk(private=True) == key.to_jwk(private=True)
    assert jwt3.Key.from_jwk(json.dumps(K256).encode()).size == 256


@pytest.mark.parametrize("jwk, error, reason", [
    ({}, jwt3.KeyFormatError, 'no "kty"'),
    ({"kty": 1}, jwt3.KeyFormatError, '"kty": expected a string, got'
                                      ' number'),
    ({"kty": "octSSS"}, jwt3.InvalidKeyError, "'octSSS' is not supported"),
    (dict(K256, kid=5), jwt3.KeyFormatError, '"kid": expected a string'),
    (dict(K256, alg=None, use=["sig"]), jwt3.KeyFormatError, '"use"'),
    (dict(K256, alg=8384), jwt3.KeyFormatError, '"alg"'),
    (dict(K256, key_ops="sign"), jwt3.KeyFormatError, "array of strings"),
    (dict(K256, key_ops=["sign", 0]), jwt3.KeyFormatError,
     "array of strings"),
    (dict(K256, key_ops=["sign", "sign"]), jwt3.KeyFormatError,
     "duplicate"),
    ({"kty": "oct"}, jwt3.KeyFormatError, '"k": expected'),
    ({"kty": "oct", "k": 5}, jwt3.KeyFormatError, '"k": expected'),
    ({"kty": "oct", "k": ""}, jwt3.KeyFormatError, "empty secret"),
    ({"kty": "oct", "k": "abc="}, jwt3.KeyFormatError, 'JWK "k"'),
])
def test_from_jwk_refused(jwk, error, reason):
    with pytest.raises(error, match=reason):
        jwt3.Key.from_jwk(jwk)


def test_from_jwk_types():
    with pytest.raises(TypeError):
        jwt3.Key.from_jwk([K256])
    with pytest.raises(jwt3.KeyFormatError, match="expected a JSON object"):
        jwt3.Key.from_jwk("[1]")
    with pytest.raises(jwt3.KeyFormatError, match="invalid JSON"):
        jwt3.Key.from_jwk("{")


def test_rfc7517_a3_symmetric_keys():
    # RFC 7517 A.3: an A128KW key and the RFC 7515 A.1 HMAC key.
    jwks = by_id("rfc7517", "RFC7517-A.3")["jwks"]
    keyset = jwt3.KeySet.from_jwks(jwks)
    assert [key.alg for key in keyset] == ["A128KW", None]
    assert keyset.select("HS256") is keyset[1]
    assert not keyset[0].usable("HS256")


# -- Key construction and metadata

def test_key_constructor_guards():
    material = jwt3._OctMaterial(SECRET)
    with pytest.raises(TypeError, match="use Key.from_jwk"):
        jwt3.Key(SECRET)
    with pytest.raises(TypeError, match="kid must be str"):
        jwt3.Key(material, kid=1)
    with pytest.raises(TypeError, match="key_ops"):
        jwt3.Key(material, key_ops="sign")
    with pytest.raises(TypeError, match="key_ops"):
        jwt3.Key(material, key_ops=["sign", 1])


def test_from_secret():
    key = jwt3.Key.from_secret(SECRET, kid="s", alg="HS512")
    assert key.size == 512 and key.kid == "s" and key.alg == "HS512"
    assert jwt3.Key.from_secret(bytearray(SECRET)).size == 512
    with pytest.raises(TypeError, match="must be bytes"):
        jwt3.Key.from_secret(SECRET.decode("latin-1"))
    with pytest.raises(jwt3.InvalidKeyError, match="empty"):
        jwt3.Key.from_secret(b"")


def rsa_fixture(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


@pytest.mark.parametrize("secret", [
    pytest.param(rsa_fixture("rsa2048.spki.pem"), id="SPKI PEM"),
    pytest.param(rsa_fixture("rsa2048.pkcs1-pub.pem"), id="PKCS#1 PEM"),
    pytest.param(rsa_fixture("rsa2048.crt.pem"), id="certificate"),
    pytest.param(b"note\n" + rsa_fixture("rsa2048.spki.pem"),
                 id="PEM after text"),
    pytest.param(base64.b64decode(b"".join(
        rsa_fixture("rsa2048.spki.pem").splitlines()[1:-1])), id="DER"),
    pytest.param(b"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@host",
                 id="OpenSSH"),
    pytest.param(b"  ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA", id="ssh-ed"),
    pytest.param(b"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHA",
                 id="ssh-ecdsa"),
    pytest.param(b"sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5",
                 id="ssh-sk"),
    pytest.param(b"---- BEGIN SSH2 PUBLIC KEY ----\nAAAA", id="RFC 4716"),
    pytest.param(b'{"kty":"RSA","n":"AQAB","e":"AQAB"}', id="JWK"),
    pytest.param(b' {"keys":[]}', id="JWK Set"),
])
def test_from_secret_refuses_key_text(secret):
    # Choice (section 5): a key's text or DER is no HMAC secret, even
    # when handed to from_secret explicitly (CVE-2017-11424 class).
    with pytest.raises(jwt3.InvalidKeyError, match="forge MACs"):
        jwt3.Key.from_secret(secret)
    jwk = {"kty": "oct", "k": jwt3._b64u_encode(secret)}
    with pytest.raises(jwt3.InvalidKeyError, match='"k": .*forge MACs'):
        jwt3.Key.from_jwk(jwk)


@pytest.mark.parametrize("secret", [
    b"ssh-rsa is my password, do not tell",
    b"{not json at all, just a brace}",
    b'{"kid":"a JSON object without kty"}',
    b"\x30\x82" + bytes(range(40)),      # DER-looking noise
    b"\x30" + bytes(31),
    b"-----BEGINNING-----" + bytes(20),
])
def test_from_secret_keeps_lookalikes(secret):
    assert jwt3.Key.from_secret(secret).size == 8 * len(secret)


def test_repr_never_shows_the_secret():
    key = jwt3.Key.from_secret(b"super-secret-value" * 4, kid="k")
    text = repr(key)
    assert "super" not in text and "c3VwZX" not in text
    assert text == "<jwt3.Key oct 576-bit private kid='k'>"
    assert repr(oct_key(alg="HS256")) == \
        "<jwt3.Key oct 256-bit private alg='HS256'>"


def test_attributes_are_read_only():
    key = oct_key()
    with pytest.raises(AttributeError):
        key.kid = "other"


# -- export

def test_oct_export():
    key = oct_key(kid="k", key_ops=["sign"])
    assert key.public() is key
    assert key.to_jwk(private=True) == dict(K256, kid="k",
                                            key_ops=["sign"])
    with pytest.raises(jwt3.InvalidKeyError, match="all secret"):
        key.to_jwk()
    with pytest.raises(jwt3.InvalidKeyError, match="no PEM form"):
        key.to_pem(private=True)


def test_public_material_export_guards():
    key = jwt3.Key(PublicStandIn())
    assert key.public() is key
    assert key.to_jwk() == {"kty": "XX"}
    with pytest.raises(jwt3.InvalidKeyError, match="no private members"):
        key.to_jwk(private=True)
    with pytest.raises(jwt3.InvalidKeyError, match="no private part"):
        key.to_pem(private=True)
    assert key.to_pem() == "-----BEGIN PUBLIC KEY-----\nMAA=\n" \
                           "-----END PUBLIC KEY-----\n"


@pytest.mark.parametrize("case", [
    c for c in cases("rfc7638") if c["jwk"]["kty"] == "oct"],
    ids=lambda c: c["id"])
def test_thumbprint_oct(case):
    key = jwt3.Key.from_jwk(case["jwk"])
    assert key.thumbprint() == case["thumbprint_b64u"]
    assert jwt3._json_dumps(key._material.thumbprint_members()).decode() \
        == case["thumbprint_input"]


def test_thumbprint_hashes():
    key = oct_key(kid="ignored", alg="HS256")
    # libjwt's fixture thumbprint for oct_key_256.json (§3.2).
    assert key.thumbprint() == by_id("libjwt", "LIBJWT-oct_key_256")[
        "expected"]["thumbprint_b64u"]
    assert len(key.thumbprint("sha384")) == 64
    assert len(key.thumbprint("sha512")) == 86
    with pytest.raises(ValueError):
        key.thumbprint("md5")


# -- eligibility (DESIGN §5)

@pytest.mark.parametrize("meta, operation, reason", [
    ({"alg": "HS384"}, "sign", '"alg" is HS384, not HS256'),
    ({"use": "enc"}, "verify", '"use": "enc"'),
    ({"key_ops": ["verify"]}, "sign", '"key_ops" does not allow sign'),
    ({"key_ops": ["sign"]}, "verify", '"key_ops" does not allow verify'),
])
def test_unusable(meta, operation, reason):
    key = oct_key(**meta)
    assert not key.usable("HS256", operation)
    with pytest.raises(jwt3.InvalidKeyError, match=reason):
        if operation == "sign":
            key.sign("HS256", b"data")
        else:
            key.verify("HS256", b"data", b"sig")


def test_usable():
    key = oct_key(use="sig", key_ops=["sign", "verify"], alg="HS256")
    assert key.usable("HS256", "sign") and key.usable("HS256")
    assert oct_key(use="other").usable("HS256")
    with pytest.raises(ValueError):
        key.usable("HS256", "encrypt")
    with pytest.raises(jwt3.AlgorithmNotAllowedError, match="unknown"):
        key.usable("HS257")
    with pytest.raises(jwt3.AlgorithmNotAllowedError, match="never"):
        key.usable("None")
    with pytest.raises(TypeError):
        key.usable(256)


def test_wrong_family():
    key = jwt3.Key(PublicStandIn())
    with pytest.raises(jwt3.InvalidKeyError,
                       match="a XX key cannot be used with HS256"):
        key.verify("HS256", b"data", b"sig")


def test_public_cannot_sign(monkeypatch):
    alg = jwt3._Alg("XX1", "XX", None, None, None, jwt3._no_key_problem)
    monkeypatch.setitem(jwt3._ALGORITHMS, "XX1", alg)
    key = jwt3.Key(PublicStandIn())
    assert key.usable("XX1", "verify")
    with pytest.raises(jwt3.InvalidKeyError, match="public key cannot"):
        key.sign("XX1", b"data")


def test_curve_binding(monkeypatch):
    alg = jwt3._Alg("XX2", "XX", ("C1", "C2"), None, None,
                    jwt3._no_key_problem)
    monkeypatch.setitem(jwt3._ALGORITHMS, "XX2", alg)
    with pytest.raises(jwt3.InvalidKeyError,
                       match="a None key cannot be used with XX2 "
                             r"\(needs C1 or C2\)"):
        jwt3.Key(PublicStandIn()).verify("XX2", b"", b"")


def test_data_types():
    key = oct_key()
    with pytest.raises(TypeError, match="data must be bytes"):
        key.sign("HS256", "text")
    with pytest.raises(TypeError, match="signature must be bytes"):
        key.verify("HS256", b"data", "sig")
    assert key.verify("HS256", bytearray(b"d"),
                      memoryview(key.sign("HS256", b"d")))


def test_public_translates_key_ops():
    key = jwt3.Key(PublicStandIn(), key_ops=["verify"])
    assert key.public().key_ops == ("verify",)


# -- KeySet

def keyset(*keys):
    return jwt3.KeySet.from_jwks({"keys": list(keys)})


def test_keyset_from_jwks():
    ks = keyset(dict(K256, kid="a"), {"kty": "XYZ", "kid": "b"}, 5,
                dict(K256, kid="c", key_ops=["sign", "sign"]))
    assert [k.kid for k in ks] == ["a"]
    assert len(ks) == 1 and ks[0].kid == "a"
    assert [index for index, _ in ks.skipped] == [1, 2, 3]
    assert "not supported" in ks.skipped[0][1]
    assert ks.skipped[1][1] == "not a JSON object"
    assert repr(ks) == "<jwt3.KeySet of 1 keys>"
    assert len(jwt3.KeySet.from_jwks(json.dumps(K256))) == 1
    assert len(jwt3.KeySet.from_jwks(json.dumps({"keys": [K256]}))) == 1


@pytest.mark.parametrize("jwks, reason", [
    ({"keys": {}}, '"keys": expected an array, got object'),
    ({"keys": []}, "no usable key"),
    ({"keys": [{"kty": "RSA-X"}, {"kty": "oct"}]},
     r"no usable key; \[0\] .*not supported; \[1\] "),
    ({"keys": [K256] * 300}, "300 entries, more than 256"),
])
def test_keyset_refused(jwks, reason):
    with pytest.raises(jwt3.KeyFormatError, match=reason):
        jwt3.KeySet.from_jwks(jwks)


def test_keyset_types():
    with pytest.raises(TypeError):
        jwt3.KeySet.from_jwks([K256])
    with pytest.raises(TypeError):
        jwt3.KeySet([K256])


def test_keyset_export():
    ks = keyset(dict(K256, kid="a"))
    assert ks.to_jwks() == {"keys": []}
    assert ks.to_jwks(private=True) == {"keys": [dict(K256, kid="a")]}
    mixed = jwt3.KeySet([jwt3.Key(PublicStandIn(), kid="p")])
    assert mixed.to_jwks(private=True) == {"keys": [{"kty": "XX",
                                                     "kid": "p"}]}


def test_find_and_select():
    ks = keyset(dict(K256, kid="enc", use="enc"),
                dict(K256, kid="a", alg="HS384"),
                dict(K256, kid="b"),
                dict(K256, kid="b", alg="HS512"))
    assert ks.find("b") is ks[2]
    assert ks.find("zz") is None
    # No kid: the first usable key.
    assert ks.select("HS256") is ks[2]
    # A known kid: the first usable key with that kid.
    assert ks.select("HS256", "b") is ks[2]
    # A known kid whose keys do not fit: never another key.
    with pytest.raises(jwt3.InvalidKeyError,
                       match='no key can verify with HS256: .*"use"'):
        ks.select("HS256", "enc")
    # An unknown kid: the first usable key, unless strict_kid.
    assert ks.select("HS256", "zz") is ks[2]
    with pytest.raises(jwt3.InvalidKeyError, match="no key with kid 'zz'"):
        ks.select("HS256", "zz", strict_kid=True)
    with pytest.raises(jwt3.InvalidKeyError, match="no key can sign with"
                                                   " HS384"):
        keyset(dict(K256, key_ops=["verify"])).select(
            "HS384", operation="sign")
    with pytest.raises(ValueError):
        ks.select("HS256", operation="wrap")


# -- loaders

def test_load_key_sources():
    key = oct_key(kid="a")
    assert jwt3.load_key(key) is key
    assert jwt3.load_key(jwt3.KeySet([key])) is key
    assert jwt3.load_key(K256).size == 256
    assert jwt3.load_key("  \n" + json.dumps(K256)).size == 256
    assert jwt3.load_key(json.dumps(K256).encode()).size == 256
    assert len(jwt3.load_keys(key)) == 1
    assert len(jwt3.load_keys({"keys": [K256, K256]})) == 2
    with pytest.raises(jwt3.KeyFormatError, match="exactly one key, found"
                                                  " 2"):
        jwt3.load_key({"keys": [K256, K256]})


@pytest.mark.parametrize("source, error, reason", [
    ("secret", jwt3.KeyFormatError, "Key.from_secret"),
    (b"secret", jwt3.KeyFormatError, "Key.from_secret"),
    (b"\xff\xfe", jwt3.KeyFormatError, "not a JWK"),
    (b"\x30\x03\x02\x01\x01", jwt3.KeyFormatError, "not a known key"),
    ("-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n",
     jwt3.InvalidKeyError, "FOO keys are not supported"),
    (12, TypeError, "must be a Key"),
])
def test_load_key_refused(source, error, reason):
    with pytest.raises(error, match=reason):
        jwt3.load_key(source)


def test_from_pem_counts_keys():
    with pytest.raises(jwt3.KeyFormatError, match="no -----BEGIN"):
        jwt3.Key.from_pem("nothing here")
    two = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n" \
          "-----END EC PARAMETERS-----\n"
    with pytest.raises(jwt3.KeyFormatError, match="0 keys"):
        jwt3.Key.from_pem(two)
    with pytest.raises(TypeError):
        jwt3.Key.from_pem(5)


def test_key_input_size_bound():
    # Limits (section 5): key text or DER of more than _MAX_KEY_INPUT is
    # refused before it is parsed (a 10 MB oct "k" used to load).
    limit = jwt3._MAX_KEY_INPUT
    padding = " " * (limit - len(json.dumps(K256)))
    assert jwt3.Key.from_jwk(json.dumps(K256) + padding).size == 256
    big = '{"kty":"oct","k":"%s"}' % ("A" * limit)
    for call, source in ((jwt3.Key.from_jwk, big),
                         (jwt3.Key.from_jwk, big.encode()),
                         (jwt3.KeySet.from_jwks, big),
                         (jwt3.KeySet.from_jwks, big.encode()),
                         (jwt3.load_keys, big),
                         (jwt3.Key.from_pem, "-----BEGIN " * limit),
                         (jwt3.Key.from_pem, b"-----BEGIN " * limit),
                         (jwt3.Key.from_der, b"\x30" * (limit + 1)),
                         (jwt3.load_keys, b"\x30" * (limit + 1))):
        with pytest.raises(jwt3.KeyFormatError, match="more than %d"
                                                      % limit):
            call(source)


def test_pem_block_count_bound():
    # At most _MAX_JWKS_KEYS keys in a PEM text, as in a JWK Set; the
    # blocks are counted before any is parsed as a key.
    block = "-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n"
    with pytest.raises(jwt3.InvalidKeyError, match="FOO keys"):
        jwt3.load_keys(block * jwt3._MAX_JWKS_KEYS)
    with pytest.raises(jwt3.KeyFormatError, match="257 blocks, more than"
                                                  " 256"):
        jwt3.load_keys(block * (jwt3._MAX_JWKS_KEYS + 1))


# -- generation

def test_generate_hmac_key():
    key = jwt3.generate_key("HS256")
    assert key.size == 256 and key.alg == "HS256"
    assert key.kid == key.thumbprint()
    assert jwt3.generate_key("HS512", bits=1024, kid="x").size == 1024
    assert jwt3.generate_key("HS384").size == 384


@pytest.mark.parametrize("kwargs, error", [
    ({"bits": 128}, ValueError),
    ({"bits": 260}, ValueError),
    ({"crv": "P-256"}, ValueError),
    ({"bits": True}, TypeError),
    ({"bits": "256"}, TypeError),
])
def test_generate_refused(kwargs, error):
    with pytest.raises(error):
        jwt3.generate_key("HS256", **kwargs)


def test_generate_needs_a_generator(monkeypatch):
    alg = jwt3._Alg("XX3", "XX", None, None, None, jwt3._no_key_problem)
    monkeypatch.setitem(jwt3._ALGORITHMS, "XX3", alg)
    with pytest.raises(jwt3.InvalidKeyError, match="cannot generate XX"):
        jwt3.generate_key("XX3")
    with pytest.raises(jwt3.AlgorithmNotAllowedError):
        jwt3.generate_key("none")


def test_supported_algorithms():
    names = jwt3.supported_algorithms()
    assert {"HS256", "HS384", "HS512"} <= set(names)
    assert "none" not in names and list(names) == sorted(names)


def test_clear_caches_runs_every_clearer(monkeypatch):
    calls = []
    monkeypatch.setattr(jwt3, "_CACHE_CLEARERS",
                        [lambda: calls.append(1), lambda: calls.append(2)])
    jwt3._clear_caches()
    assert calls == [1, 2]


def test_material_base_class_is_abstract():
    material = jwt3._Material()
    for call in (material.public, lambda: material.jwk_members(False),
                 material.thumbprint_members,
                 lambda: material.to_der(False)):
        with pytest.raises(NotImplementedError):
            call()
