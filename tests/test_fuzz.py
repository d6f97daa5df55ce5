"""Mangled input for every parser, every algorithm family and the
Kamailio layer.

The property is always the same: a JWTError subclass or a correct
result, within a time bound -- never another exception, never a hang,
never a wrong acceptance.  A wrong acceptance is a token other than a
genuine one that verifies, or a mangled key that verifies a genuine
token while being a different key.

The time bound (support.HANG_SECONDS per call) only catches hangs and
quadratic blow-ups; it is no speed claim.  The default hypothesis
profile keeps this file quick; ``pytest --thorough`` runs many more
examples of every test.
"""

import json
import logging
import os
import string
import warnings

import pytest
from hypothesis import example, given, settings, strategies as st

import jwt3
from support import hang_guard
from jwt3 import JWTError, Module
from jwt3 import _b64u_decode, _b64u_encode as b64

NOW = 1_800_000_000
# The active profile's example count; each test takes a multiple of
# it, by how cheap an example is (the file stays near 5 s by default).
EXAMPLES = settings.default.max_examples


def pem_fixture(name):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "data", name)
    with open(path) as f:
        return f.read()


# -- keys and genuine tokens of every family

RSA = jwt3.Key.from_pem(pem_fixture("rsa2048.pkcs8.pem"))
KEYS = {
    "HS256": jwt3.Key.from_secret(bytes(range(64)), kid="h"),
    "HS384": jwt3.Key.from_secret(bytes(range(64)), kid="h"),
    "HS512": jwt3.Key.from_secret(bytes(range(64)), kid="h"),
    "RS256": RSA, "RS512": RSA, "PS256": RSA, "PS384": RSA,
    "ES256": jwt3.generate_key("ES256"),
    "ES384": jwt3.generate_key("ES384"),
    "ES512": jwt3.generate_key("ES512"),
    "ES256K": jwt3.generate_key("ES256K"),
    "EdDSA": jwt3.generate_key("EdDSA"),
    "Ed448": jwt3.generate_key("Ed448"),
}
ALGS = sorted(KEYS)
# Another key of the same family for each alg: the attacker's.
ATTACKER = {alg: (jwt3.Key.from_secret(bytes(range(1, 65)))
                  if alg.startswith("HS") else
                  jwt3.Key.from_jwk(pem_fixture("rsa2057.jwk.json"))
                  if alg[:2] in ("RS", "PS") else
                  jwt3.generate_key(alg))
            for alg in ALGS}
CLAIMS = {"sub": "alice", "aud": ["sip"], "exp": NOW + 60, "nbf": NOW,
          "iat": NOW, "n": [1, 2.5, None, True], "s": "caf\u00e9"}
TOKENS = {alg: jwt3.encode(CLAIMS, KEYS[alg], alg, {"kid": "k-" + alg})
          for alg in ALGS}


def verifying_key(alg):
    key = KEYS[alg]
    return key if key.kty == "oct" else key.public()


# -- token mangling

NOISE = (string.ascii_letters + string.digits + "-_" + ".=+/ \t\r\n"
         + "\x00\x7f\u00e9\u2028\U0001F600{}\"'\\")
JSON_NAMES = ["alg", "kid", "typ", "cty", "crit", "b64", "jwk", "jku",
              "x5u", "x5c", "x5t", "x5t#S256", "zip", "exp", "nbf", "iat",
              "iss", "sub", "aud", "jti", ""]
json_values = st.recursive(
    st.none() | st.booleans()
    | st.integers(-2**70, 2**70) | st.sampled_from(
        [2**63, -2**63 - 1, 10**700, float("nan"), float("inf"), -0.0,
         1e300])
    | st.floats(allow_nan=False) | st.text(NOISE, max_size=12)
    | st.sampled_from(ALGS + ["none", "None", "", "HS256\x00"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(JSON_NAMES) | st.text(max_size=4),
                      children, max_size=3),
    max_leaves=6)


def segment_json(segment):
    return json.loads(_b64u_decode(segment, "segment"))


@st.composite
def json_edits(draw, segment):
    """A structure-level change of one JSON segment, re-encoded as
    canonical base64url (so only the JSON or the signature can be
    wrong)."""
    value = segment_json(segment)
    how = draw(st.sampled_from(["set", "delete", "replace", "text",
                                "duplicate"]))
    if how == "duplicate" and value:
        # A member written twice: readers that keep the first or the
        # last disagree about what was signed.
        name = draw(st.sampled_from(sorted(value)))
        text = json.dumps(value)
        twice = json.dumps({name: draw(json_values)})[1:-1]
        at = draw(st.sampled_from(["start", "end"]))
        text = ("{" + twice + "," + text[1:] if at == "start"
                else text[:-1] + "," + twice + "}")
        return b64(text.encode("utf-8", "surrogatepass"))
    if how == "set":
        value[draw(st.sampled_from(JSON_NAMES))] = draw(json_values)
    elif how == "delete" and value:
        del value[draw(st.sampled_from(sorted(value)))]
    elif how == "replace":
        value = draw(json_values)
    if how == "text":
        text = json.dumps(value, sort_keys=True)
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.text(NOISE, max_size=4)) \
            + text[i + draw(st.integers(0, 3)):]
    else:
        text = json.dumps(value, allow_nan=True)
    return b64(text.encode("utf-8", "surrogatepass"))


def spare_bit_spellings(segment):
    """The same octets with spare bits set (RFC 4648 §3.5), if the
    segment has any."""
    alphabet = jwt3._B64U_ALPHABET
    tail = len(segment) % 4
    if tail not in (2, 3):
        return []
    value = alphabet.index(segment[-1])
    return [segment[:-1] + alphabet[value ^ bit] for bit in (1, 2, 4, 8)
            if bit & jwt3._B64U_SPARE_BITS[tail]]


def respellings(segment):
    """Other spellings of the same octets: padding, blanks, the
    standard alphabet, and spare bits."""
    return [segment + "=" * (-len(segment) % 4 or 4), segment + "=",
            " " + segment, segment + "\n", segment[:2] + " " + segment[2:],
            segment.replace("-", "+").replace("_", "/") + "/",
            ] + spare_bit_spellings(segment)


@st.composite
def mangled_tokens(draw):
    """(alg, genuine token, mangled token, whether the genuine key
    signed the mangled token)."""
    alg = draw(st.sampled_from(ALGS))
    token = TOKENS[alg]
    header, payload, signature = token.split(".")
    how = draw(st.sampled_from([
        "char", "insert", "delete", "truncate", "duplicate", "splice",
        "segments", "header", "payload", "signature", "resign",
        "resign-genuine", "relabel", "respell"]))
    i = draw(st.integers(0, len(token)))
    j = draw(st.integers(i, len(token)))

    if how == "char":
        mangled = token[:i] + draw(st.sampled_from(NOISE)) + token[i + 1:]
    elif how == "insert":
        mangled = token[:i] + draw(st.text(NOISE, min_size=1,
                                           max_size=8)) + token[i:]
    elif how == "delete":
        mangled = token[:i] + token[j:]
    elif how == "truncate":
        mangled = token[:i]
    elif how == "duplicate":
        mangled = token[:j] + token[i:j] + token[j:]
    elif how == "splice":
        # A segment of another genuine token (another alg, or the same).
        other = TOKENS[draw(st.sampled_from(ALGS))].split(".")
        parts = [header, payload, signature]
        index = draw(st.integers(0, 2))
        parts[index] = other[index]
        mangled = ".".join(parts)
    elif how == "segments":
        pool = [header, payload, signature, "", "e30", "."]
        mangled = ".".join(draw(st.lists(st.sampled_from(pool),
                                         max_size=5)))
    elif how == "header":
        mangled = ".".join([draw(json_edits(header)), payload, signature])
    elif how == "payload":
        mangled = ".".join([header, draw(json_edits(payload)), signature])
    elif how == "signature":
        raw = bytearray(_b64u_decode(signature, "signature"))
        edit = draw(st.sampled_from(["flip", "cut", "extend", "zero"]))
        if edit == "flip" and raw:
            bit = draw(st.integers(0, 8 * len(raw) - 1))
            raw[bit // 8] ^= 1 << (bit % 8)
        elif edit == "cut":
            del raw[draw(st.integers(0, len(raw))):]
        elif edit == "extend":
            raw += draw(st.binary(min_size=1, max_size=4))
        else:
            raw = bytearray(len(raw))
        mangled = ".".join([header, payload, b64(bytes(raw))])
    elif how in ("resign", "resign-genuine"):
        # A changed header or payload with a correct signature: by the
        # attacker's key of the same family (only refusal is right), or
        # by the genuine key, standing in for a careless signer (then
        # jwt3 may accept only what its token rules allow).
        which = draw(st.sampled_from(["header", "payload", "both"]))
        if which != "payload":
            header = draw(json_edits(header))
        if which != "header":
            payload = draw(json_edits(payload))
        signing_input = header + "." + payload
        signer = ATTACKER[alg] if how == "resign" else KEYS[alg]
        try:
            signature = signer.sign(alg, signing_input.encode())
        except JWTError:
            signature = b""
        mangled = signing_input + "." + b64(signature)
    elif how == "respell":
        # The same octets spelt another way: spare bits set, padding,
        # the standard alphabet, blanks (RFC 4648 §3.5, RFC 7515 §2).
        parts = [header, payload, signature]
        index = draw(st.integers(0, 2))
        spare = spare_bit_spellings(parts[index])
        parts[index] = draw(st.sampled_from(
            spare if spare and draw(st.booleans())
            else respellings(parts[index])))
        mangled = ".".join(parts)
    else:
        # The genuine signature under another alg name.
        new = dict(segment_json(header), alg=draw(st.sampled_from(
            ALGS + ["none", "NONE", "hs256"])))
        mangled = ".".join([b64(json.dumps(new).encode()), payload,
                            signature])
    return alg, token, mangled, how == "resign-genuine"


def strict_json(segment):
    """The JSON of a segment, read by the standard library, with
    duplicate member names reported as an error."""
    def unique(pairs):
        names = [name for name, _ in pairs]
        assert len(set(names)) == len(names), "duplicate member accepted"
        return dict(pairs)
    return json.loads(_b64u_decode(segment, "segment"),
                      object_pairs_hook=unique)


def assert_policy(token, claims, alg):
    """What any token jwt3 accepts must satisfy (README, Token rules),
    checked independently of jwt3's own parser."""
    header_b64, payload_b64, _ = token.split(".")
    header = strict_json(header_b64)
    assert header["alg"] == alg
    assert "crit" not in header and header.get("b64", True) is True
    for name in jwt3._STRING_HEADERS:
        assert isinstance(header.get(name, ""), str), name
    assert isinstance(header.get("jwk", {}), dict)
    x5c = header.get("x5c", ["x"])
    assert isinstance(x5c, list) and x5c and all(
        isinstance(item, str) for item in x5c)
    payload = strict_json(payload_b64)
    assert payload == claims
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name, 0)
        assert type(value) in (int, float) and -2**63 <= value < 2**63
    assert claims.get("exp", NOW + 1) > NOW >= claims.get("nbf", NOW)


def genuine_respelling(alg):
    """A genuine token whose signature has a spare bit set."""
    header, payload, signature = TOKENS[alg].split(".")
    return header + "." + payload + "." + spare_bit_spellings(signature)[0]


def genuinely_signed(alg, header, claims):
    """A token the genuine key signed, over exactly these bytes."""
    signing_input = b64(header) + "." + b64(claims)
    return signing_input + "." + b64(KEYS[alg].sign(
        alg, signing_input.encode()))


@settings(max_examples=EXAMPLES * 8)
@given(mangled_tokens())
@example(("HS256", TOKENS["HS256"], TOKENS["HS256"] + "=", False))
@example(("ES256", TOKENS["ES256"], TOKENS["ES256"].replace(".", ".."),
          False))
@example(("ES256", TOKENS["ES256"], genuine_respelling("ES256"), False))
@example(("ES256", TOKENS["ES256"], TOKENS["ES256"].rpartition(".")[0]
          + "." + b64(bytes(64)), False))
@example(("HS256", TOKENS["HS256"], genuinely_signed(
    "HS256", b'{"alg":"HS256","crit":["exp"]}', b'{"aud":"sip"}'), True))
@example(("HS256", TOKENS["HS256"], genuinely_signed(
    "HS256", b'{"alg":"HS256","x5c":"MIIB"}', b'{"aud":"sip"}'), True))
@example(("HS256", TOKENS["HS256"], genuinely_signed(
    "HS256", b'{"alg":"HS256"}', b'{"aud":"sip","aud":"x"}'), True))
@example(("HS256", TOKENS["HS256"], genuinely_signed(
    "HS256", b'{"alg":"HS256"}', b'{"aud":"sip","exp":"9999999999"}'),
    True))
@example(("HS256", TOKENS["HS256"], genuinely_signed(
    "HS256", b'{"alg":"HS256"}', b'{"aud":"sip","exp":1e19}'), True))
def test_mangled_tokens(case):
    alg, token, mangled, signed_by_genuine_key = case
    key = verifying_key(alg)
    for algorithms in ([alg], ALGS):
        try:
            with hang_guard():
                claims = jwt3.decode(mangled, key, algorithms, now=NOW,
                                     audience="sip")
        except JWTError:
            continue
        if not signed_by_genuine_key:
            assert mangled == token, "wrong acceptance"
        assert_policy(mangled, claims, alg)
    try:
        with hang_guard():
            jwt3.decode_unverified(mangled)
    except JWTError:
        pass


@settings(max_examples=EXAMPLES)
@given(st.binary(max_size=300) | st.text(NOISE, max_size=300))
def test_random_tokens(data):
    for algorithms in (["HS256"], ALGS):
        try:
            with hang_guard():
                jwt3.decode(data, jwt3.KeySet([KEYS["HS256"]]), algorithms)
        except JWTError:
            pass
        else:
            raise AssertionError("random input verified")


# -- key mangling

def key_sources():
    """(name, source, alg, original public JWK members) for every key
    family in every format a loader reads."""
    sources = []
    for alg in ("RS256", "ES256", "ES384", "ES512", "ES256K", "EdDSA",
                "Ed448"):
        key = KEYS[alg]
        public = key.public()
        members = public._material.jwk_members(False)
        for private in (False, True):
            if private:
                jwk = key.to_jwk(private=True)
                label, der = key._material.to_der(True)
            else:
                jwk = public.to_jwk()
                label, der = public._material.to_der(False)
            kind = "private" if private else "public"
            sources += [
                ("%s %s PEM" % (alg, kind), jwt3._pem_encode(label, der),
                 alg, members),
                ("%s %s DER" % (alg, kind), der, alg, members),
                ("%s %s JWK" % (alg, kind), jwk, alg, members),
                ("%s %s JWK text" % (alg, kind), json.dumps(jwk), alg,
                 members),
            ]
            if alg == "RS256":
                sources.append(("RS256 %s PKCS#1" % kind, jwt3._pem_encode(
                    *key._material.to_pkcs1(private)), alg, members))
            if alg == "ES256" and private:
                # SEC 1 / RFC 5915 "EC PRIVATE KEY", curve inside.
                material = key._material
                sec1 = jwt3._der_seq(
                    jwt3._der_int(1),
                    jwt3._der_octets(material.d.to_bytes(32, "big")),
                    jwt3._der(0xA0, jwt3._der_oid(material.curve.oid)),
                    jwt3._der(0xA1, jwt3._der_bits(material.point_bytes())))
                sources.append(("ES256 SEC1", jwt3._pem_encode(
                    "EC PRIVATE KEY", sec1), alg, members))
    sources.append(("RS256 certificate", pem_fixture("rsa2048.crt.pem"),
                    "RS256", RSA.public()._material.jwk_members(False)))
    sources.append(("HS256 JWK", KEYS["HS256"].to_jwk(private=True),
                    "HS256", KEYS["HS256"]._material.jwk_members(True)))
    return sources


KEY_SOURCES = key_sources()


def test_key_sources_are_genuine():
    # Every unmangled source loads and verifies its family's token, so
    # the mangling starts from keys that work.
    for name, source, alg, members in KEY_SOURCES:
        (key,) = jwt3.load_keys(source)
        assert jwt3.decode(TOKENS[alg], key, [alg], now=NOW,
                           audience="sip") == CLAIMS, name
        assert key._material.jwk_members(key.kty == "oct") == members


def mutate_bytes(draw, data):
    """A byte- or character-level change of ``data`` (str or bytes)."""
    is_text = isinstance(data, str)
    noise = (st.text(NOISE, min_size=1, max_size=4) if is_text
             else st.binary(min_size=1, max_size=4))
    i = draw(st.integers(0, len(data)))
    j = draw(st.integers(i, min(len(data), i + 40)))
    how = draw(st.sampled_from(["replace", "insert", "delete", "truncate",
                                "duplicate"]))
    if how == "replace":
        return data[:i] + draw(noise) + data[i + 1:]
    if how == "insert":
        return data[:i] + draw(noise) + data[i:]
    if how == "delete":
        return data[:i] + data[j:]
    if how == "truncate":
        return data[:i]
    return data[:j] + data[i:j] + data[j:]


def mutate_pem_der(draw, text):
    """Change the DER inside a PEM text and re-armour it, so the change
    reaches the DER reader rather than the PEM one."""
    blocks = jwt3._pem_blocks(text)
    label, der = blocks[0]
    choice = draw(st.integers(0, 3))
    if choice < 2:
        der = mutate_der_tree(draw, der)
    elif choice == 2:
        # A length octet or a tag: the places DER readers get wrong.
        i = draw(st.integers(0, min(len(der) - 1, 12)))
        der = der[:i] + bytes([draw(st.sampled_from(
            [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x30, 0x7f, 0x80,
             0x81, 0x82, 0x84, 0x85, 0xa0, 0xa1, 0xff]))]) + der[i + 1:]
    else:
        der = mutate_bytes(draw, der)
    return jwt3._pem_encode(draw(st.sampled_from(
        [label, "PUBLIC KEY", "PRIVATE KEY", "RSA PRIVATE KEY",
         "RSA PUBLIC KEY", "EC PRIVATE KEY", "CERTIFICATE"])), der)


def der_tree(data):
    """A DER element as a mutable tree: [tag, kind, value], kind "leaf"
    (value: content bytes) or "cons", "bits", "octets" (value: a list
    of elements; BIT and OCTET STRINGs that wrap DER are opened)."""
    tag, content, _ = jwt3._der_next(data, 0, "tree")
    if tag == 0x30 or tag & 0xE0 == 0xA0:
        return [tag, "cons", der_children(content)]
    if tag == 0x03 and content[:1] == b"\x00":
        inner = der_children(content[1:], strict=False)
        if inner is not None:
            return [tag, "bits", inner]
    if tag == 0x04:
        inner = der_children(content, strict=False)
        if inner is not None:
            return [tag, "octets", inner]
    return [tag, "leaf", content]


def der_children(content, strict=True):
    children = []
    pos = 0
    try:
        while pos < len(content):
            tag, value, end = jwt3._der_next(content, pos, "tree")
            children.append(der_tree(content[pos:end]))
            pos = end
    except jwt3.KeyFormatError:
        if strict:
            raise
        return None
    return children if children or strict else None


def der_encode(node):
    tag, kind, value = node
    if kind == "leaf":
        return jwt3._der(tag, value)
    content = b"".join(der_encode(child) for child in value)
    if kind == "bits":
        content = b"\x00" + content
    return jwt3._der(tag, content)


def der_nodes(node, parent=None):
    yield node, parent
    if node[1] != "leaf":
        for child in node[2]:
            yield from der_nodes(child, node)


INTEGER_EDITS = [0, 1, -1, 2, 3, 65537, 2**255 - 19, 2**521 - 1,
                 2**2048, -2**100]


def edge_index(draw, last):
    """An integer in [0, last], biased to both ends."""
    return draw(st.sampled_from(sorted({0, min(1, last), min(2, last),
                                        max(last - 1, 0), last}))
                | st.integers(0, last))


def mutate_der_tree(draw, der):
    """A structure-level change: one element of the tree altered, and
    every length above it rewritten to fit, so the change reaches the
    parser of that element."""
    tree = der_tree(der)
    nodes = list(der_nodes(tree))
    leaves = [item for item in nodes if item[0][1] == "leaf"]
    node, parent = draw(st.sampled_from(leaves if draw(st.booleans())
                                        else nodes))
    how = draw(st.sampled_from(["empty", "random", "truncate", "extend",
                                "flip", "tag", "delete", "duplicate",
                                "swap", "integer"]))
    content = jwt3._der_next(der_encode(node), 0, "x")[1]
    if how == "empty":
        node[1:] = ["leaf", draw(st.sampled_from([b"", b"\x00", b"\x04",
                                                  b"\x00\x00"]))]
    elif how == "random":
        node[1:] = ["leaf", draw(st.binary(max_size=70))]
    elif how == "truncate":
        node[1:] = ["leaf", content[:edge_index(draw, len(content))]]
    elif how == "extend":
        node[1:] = ["leaf", content + draw(st.binary(min_size=1,
                                                     max_size=3))]
    elif how == "flip" and content:
        i = edge_index(draw, len(content) - 1)
        node[1:] = ["leaf", content[:i] + bytes([content[i] ^ draw(
            st.sampled_from([1, 0x80, 0xff]))]) + content[i + 1:]]
    elif how == "tag":
        node[0] = draw(st.sampled_from([0x01, 0x02, 0x03, 0x04, 0x05,
                                        0x06, 0x0c, 0x30, 0x31, 0xa0,
                                        0xa1, 0x80, 0x81]))
    elif how in ("delete", "duplicate", "swap") and parent is not None:
        siblings = parent[2]
        index = siblings.index(node)
        if how == "delete":
            del siblings[index]
        elif how == "duplicate":
            siblings.insert(index, [node[0], node[1], node[2]])
        else:
            other = draw(st.integers(0, len(siblings) - 1))
            siblings[index], siblings[other] = (siblings[other],
                                                siblings[index])
    elif how == "integer":
        value = draw(st.sampled_from(INTEGER_EDITS))
        node[:] = [0x02, "leaf", jwt3._der_next(jwt3._der_int(value), 0,
                                                "x")[1]]
    return der_encode(tree)


# Integers at the edges of what the key checks test: the field primes
# and group orders of every curve, and small values.
EDGE_INTS = sorted({0, 1, 2, 3, 65537} | {
    value + delta
    for curve in (jwt3._P256, jwt3._P384, jwt3._P521, jwt3._SECP256K1)
    for value in (curve.p, curve.n) for delta in (-1, 0, 1)} | {
    jwt3._L25519, jwt3._L448, jwt3._P25519, jwt3._P448})


def b64_member_edits(draw, value):
    raw = bytearray(_b64u_decode(value, "member"))
    how = draw(st.sampled_from(["flip", "cut", "extend", "zero", "pad",
                                "empty", "edge"]))
    if how == "flip" and raw:
        i = edge_index(draw, len(raw) - 1)
        raw[i] ^= draw(st.sampled_from([1, 0x80, 0xff]))
    elif how == "cut":
        del raw[edge_index(draw, len(raw)):]
    elif how == "extend":
        raw += draw(st.binary(min_size=1, max_size=3))
    elif how == "zero":
        raw = bytearray(len(raw))
    elif how == "pad":
        raw = b"\x00" * draw(st.integers(1, 3)) + raw
    elif how == "empty":
        raw = b""
    else:
        edge = draw(st.sampled_from(EDGE_INTS))
        raw = edge.to_bytes(max(len(raw), (edge.bit_length() + 7) // 8),
                            "big")
    return b64(bytes(raw))


MEMBER_VALUES = {
    "key_ops": [["sign", "sign"], ["verify"], ["sign"], [], "sign", [1],
                ["encrypt"]],
    "use": ["sig", "enc", "", 1, None],
    "alg": ["HS256", "RS256", "ES256", "EdDSA", "RSA-OAEP", "none", 5],
    "kid": ["", "k", 7, None, "../x"],
    "oth": [[], [{}]],
}


def mutate_jwk(draw, jwk):
    jwk = dict(jwk)
    extra = ["kty", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq",
             "qi", "k", "alg", "use", "key_ops", "oth", "kid"]
    name = draw(st.sampled_from(sorted(jwk)) | st.sampled_from(extra)
                if draw(st.integers(0, 3)) else st.sampled_from(extra))
    how = draw(st.sampled_from(["delete", "value", "b64", "b64", "b64",
                                "special", "kty", "crv"]))
    if how == "delete":
        jwk.pop(name, None)
    elif how == "value":
        jwk[name] = draw(json_values)
    elif how == "b64" and isinstance(jwk.get(name), str):
        try:
            jwk[name] = b64_member_edits(draw, jwk[name])
        except JWTError:
            jwk[name] = draw(st.text(NOISE, max_size=8))
    elif how == "special":
        name = draw(st.sampled_from(sorted(MEMBER_VALUES)))
        jwk[name] = draw(st.sampled_from(MEMBER_VALUES[name]))
    elif how == "kty":
        jwk["kty"] = draw(st.sampled_from(["RSA", "EC", "OKP", "oct",
                                           "rsa", "AKP", ""]))
    else:
        jwk["crv"] = draw(st.sampled_from(["P-256", "P-384", "P-521",
                                           "secp256k1", "Ed25519", "Ed448",
                                           "X25519", "p-256"]))
    return jwk


def mutate_pem_text(draw, text):
    """Respell the PEM armour itself: the body's spare bits, padding,
    labels, line breaks, and text around the block."""
    lines = text.strip().split("\n")
    how = draw(st.sampled_from(["spare", "label", "lines", "around",
                                "twice"]))
    body = "".join(lines[1:-1])
    if how == "spare" and body.endswith("="):
        stripped = body.rstrip("=")
        alphabet = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789+/")
        last = alphabet.index(stripped[-1]) ^ draw(st.sampled_from([1, 2]))
        body = stripped[:-1] + alphabet[last] + body[len(stripped):]
    elif how == "label":
        lines[-1] = lines[-1].replace("END ", "END X")
    elif how == "lines":
        body = body[:draw(st.integers(0, len(body)))] + draw(
            st.sampled_from(["\r\n", " ", "\t", "\n\n", "=", ":"])) \
            + body[draw(st.integers(0, len(body))):]
    elif how == "around":
        return draw(st.sampled_from(["", "junk\n", "-----BEGIN X-----\n"
                                     ])) + text + draw(st.sampled_from(
                                         ["", "trailer", text]))
    else:
        return text + text
    return "\n".join([lines[0]] + [body[i:i + 64] for i in range(
        0, len(body), 64)] + [lines[-1]]) + "\n"


@st.composite
def mangled_keys(draw):
    name, source, alg, members = draw(st.sampled_from(KEY_SOURCES))
    if isinstance(source, dict):
        mangled = mutate_jwk(draw, source)
        wrap = draw(st.integers(0, 3))
        if wrap == 1:
            mangled = {"keys": [mangled, draw(json_values)]}
        elif wrap == 2:
            mangled = {"keys": draw(json_values)}
    elif isinstance(source, str) and source.startswith("-----BEGIN"):
        choice = draw(st.integers(0, 4))
        mangled = (mutate_pem_der(draw, source) if choice < 3
                   else mutate_pem_text(draw, source) if choice == 3
                   else mutate_bytes(draw, source))
    elif isinstance(source, bytes) and draw(st.integers(0, 3)):
        mangled = mutate_der_tree(draw, source)
    else:
        mangled = mutate_bytes(draw, source)
    return name, alg, members, mangled


def edge_keys():
    """Hand-made structural edge cases, pinned as examples."""
    ec = KEYS["ES256"]._material
    ed = KEYS["EdDSA"]._material
    spki_algorithm = jwt3._der_seq(jwt3._der_oid("1.2.840.10045.2.1"),
                                   jwt3._der_oid(ec.curve.oid))
    pkcs8_v2 = jwt3._der_seq(
        jwt3._der_int(1), jwt3._der_seq(jwt3._der_oid(ed.curve.oid)),
        jwt3._der_octets(jwt3._der_octets(ed.d)),
        jwt3._der(0x81, b"\x01" + ed.x))
    members = {alg: KEYS[alg].public()._material.jwk_members(False)
               for alg in ("ES256", "EdDSA")}
    return [
        # An empty EC point in an SPKI.
        ("ES256 empty point", "ES256", members["ES256"], jwt3._der_seq(
            spki_algorithm, jwt3._der_bits(b""))),
        # The point at infinity.
        ("ES256 infinity", "ES256", members["ES256"], jwt3._der_seq(
            spki_algorithm, jwt3._der_bits(b"\x00"))),
        # A PKCS #8 v2 publicKey with unused bits.
        ("EdDSA v2 unused bits", "EdDSA", members["EdDSA"], pkcs8_v2),
        # A short Ed25519 seed.
        ("EdDSA short seed", "EdDSA", members["EdDSA"], jwt3._der_seq(
            jwt3._der_int(0), jwt3._der_seq(jwt3._der_oid(ed.curve.oid)),
            jwt3._der_octets(jwt3._der_octets(ed.d[:31])))),
        # JWK members at the edges: x = p, d = n, repeated key_ops.
        ("ES256 x = p", "ES256", members["ES256"], dict(
            KEYS["ES256"].public().to_jwk(),
            x=b64(ec.curve.p.to_bytes(32, "big")))),
        ("ES256 d = n", "ES256", members["ES256"], dict(
            KEYS["ES256"].to_jwk(private=True),
            d=b64(ec.curve.n.to_bytes(32, "big")))),
        ("ES256 key_ops twice", "ES256", members["ES256"], dict(
            KEYS["ES256"].public().to_jwk(), key_ops=["verify", "verify"])),
    ]


def with_examples(*cases):
    def decorate(test):
        for case in cases:
            test = example(case)(test)
        return test
    return decorate


@settings(max_examples=EXAMPLES * 8)
@given(mangled_keys())
@with_examples(*edge_keys())
def test_mangled_keys(case):
    name, alg, members, mangled = case
    try:
        with hang_guard():
            keyset = jwt3.load_keys(mangled)
    except JWTError:
        return
    for key in keyset:
        # A loaded key must be usable as far as its kind allows.
        with hang_guard():
            if key.kty != "oct":
                public = key.public()
                public.to_jwk()
                public.to_pem()
            key.thumbprint()
            try:
                verified = jwt3.decode(TOKENS[alg], key, [alg], now=NOW,
                                       audience="sip") == CLAIMS
            except JWTError:
                verified = False
        if verified:
            # Only the genuine key (however it was spelt) verifies.
            assert key._material.jwk_members(key.kty == "oct") == members


@settings(max_examples=EXAMPLES * 2)
@given(st.binary(min_size=1, max_size=80)
       | mangled_keys().map(lambda case: case[3]).filter(
           lambda source: isinstance(source, (str, bytes)) and source)
       .map(lambda source: source if isinstance(source, bytes)
            else source.encode("utf-8", "surrogatepass")))
def test_any_secret_bytes(secret):
    # An HMAC key, or InvalidKeyError for a secret that is key text;
    # never another exception (the check parses DER and JSON).
    try:
        with hang_guard():
            key = jwt3.Key.from_secret(secret)
    except jwt3.InvalidKeyError:
        return
    assert key.size == 8 * len(secret)


# -- claims strings and the Kamailio layer

@st.composite
def param_strings(draw):
    """Claims strings from the grammar (reference §1.6), with the
    mistakes people make: unterminated quotes, stray separators, spaces
    in the wrong place, values that look like numbers."""
    names = st.sampled_from(["a", "caller", "sub", "iss", "aud", "exp",
                             "nbf", "iat", "kid", "typ", "x5c", "jwk",
                             "crit", "b64", "", "n\u00e9"])
    values = st.sampled_from([
        "1", "-5", "+49", "0049", "9223372036854775808", "9" * 30,
        "'x'", '"y z"', "'it\"s'", "'", '"', "'a;b'", "x=y", "1.5",
        "true", "", "'\x00'", "'\udc80'"])
    spaces = st.sampled_from(["", "", " ", "\t", "\r\n"])
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        part = draw(spaces) + draw(names)
        if draw(st.integers(0, 5)):
            part += draw(spaces) + "=" + draw(spaces) + draw(values)
        parts.append(part + draw(spaces))
    text = draw(st.sampled_from([";", ";", ";;", ",", ">"])).join(parts)
    return text + draw(st.sampled_from(["", "", ";", ";;", ",x", " x"]))


PARAM_TEXT = st.lists(st.sampled_from(
    list("ab=;,'\" \t\r\n>0123456789+-_.")
    + ["kid", "exp", "iat", "sub", "aud", "typ", "crit", "x5c", "jwk",
       "\u00e9", "\x00", "\udc80", "\U0001F600"]),
    max_size=30).map("".join)


@settings(max_examples=EXAMPLES * 2)
@given(param_strings() | PARAM_TEXT | st.text(max_size=60))
@example("a=" + "9" * 5000)
@example("a='" + "x" * 70000)
def test_claims_strings(text):
    try:
        with hang_guard():
            params = jwt3.parse_params(text)
    except JWTError:
        return
    for param in params:
        assert param.name in text
        assert param.body is None or param.body in text
        value = param.value()
        assert isinstance(value, (int, str))
        if isinstance(value, int):
            assert -2**63 <= value < 2**63


HS_JWKS = json.dumps({"keys": [
    dict(KEYS["HS256"].to_jwk(private=True), kid="a"),
    dict(jwt3.Key.from_secret(bytes(range(7, 71))).to_jwk(private=True),
         kid="b")]})
MODULE_KEYS = {
    "HS256": HS_JWKS,
    "RS256": RSA.to_pem(private=True),
    "ES256": KEYS["ES256"].to_pem(private=True),
    "EdDSA": KEYS["EdDSA"].to_pem(private=True),
}


def quiet_module():
    return Module(leeway_sec=0, clock=lambda: NOW)


@pytest.fixture(autouse=True)
def silence_jwt3_log():
    # The Kamailio layer logs every failure at ERROR; thousands of them
    # are noise here.
    logger = logging.getLogger("jwt3")
    disabled = logger.disabled
    logger.disabled = True
    yield
    logger.disabled = disabled


@settings(max_examples=EXAMPLES * 2)
@given(st.sampled_from(sorted(MODULE_KEYS)), param_strings() | PARAM_TEXT,
       st.none() | param_strings() | PARAM_TEXT)
@example("HS256", "a=1", "kid=zz")
@example("HS256", "a=1;exp='x'", "x5c=1")
@example("ES256", "sub=1;index=1", None)     # sub stays a string
def test_kamailio_generate(alg, claims, headers):
    module = quiet_module()
    key_string = MODULE_KEYS[alg]
    with hang_guard():
        result = module.jwt3_generate(key_string, alg, claims, headers)
    assert result in (1, -1)
    token = module.pv("val")
    if result == -1:
        assert token is None
        assert not module.pv("error").startswith("internal error")
        return

    # A token was made: it is signed with the key, and says what the
    # claims and headers strings say.
    decoded = jwt3.decode_unverified(token)
    assert decoded.header["alg"] == alg
    signing_input, _, _ = token.rpartition(".")
    key = jwt3.load_keys(key_string).select(alg, decoded.header.get("kid"))
    assert key.public().verify(alg, signing_input.encode(),
                               decoded.signature)
    expected = jwt3._param_values(claims, "claims", jwt3._STRING_CLAIMS)
    expected["iat"] = NOW
    assert decoded.claims == expected


VALID_MODULE_TOKENS = {}
for _alg, _key_string in MODULE_KEYS.items():
    _module = quiet_module()
    assert _module.jwt3_generate(_key_string, _alg,
                                 "caller='alice';index=100") == 1
    VALID_MODULE_TOKENS[_alg] = _module.pv("val")
del _alg, _key_string, _module


def kamailio_key_strings():
    valid = st.sampled_from(sorted(MODULE_KEYS.values()))
    mangled = valid.flatmap(lambda text: st.builds(
        lambda i, noise: text[:i] + noise + text[i + 1:],
        st.integers(0, len(text)), st.text(NOISE, max_size=3)))
    # Random text, but never a URL: the remote JWK Set client would go
    # to the network.
    random = st.text(NOISE, max_size=30).filter(
        lambda text: not text.startswith(("http://", "https://")))
    # Path-like text, to reach the file rules (no /dev: nothing that
    # blocks or never ends).
    paths = st.lists(st.sampled_from(["/", ".", "..", "tmp", "json", "pem",
                                      "a", "\x00", "{", "-----BEGIN ",
                                      "\\", " "]),
                     max_size=8).map("".join)
    return valid | mangled | random | paths


@settings(max_examples=EXAMPLES * 3)
@given(kamailio_key_strings(),
       st.sampled_from(sorted(MODULE_KEYS) + ["none", "hs256", "", "PS256",
                                              "ES384"]) | st.text(max_size=6),
       param_strings() | PARAM_TEXT,
       st.sampled_from(sorted(VALID_MODULE_TOKENS.values())).flatmap(
           lambda token: st.sampled_from([token, " " + token + "\r\n"])
           | st.builds(lambda i, noise: token[:i] + noise + token[i + 1:],
                       st.integers(0, len(token)),
                       st.text(NOISE, max_size=3)))
       | st.text(NOISE, max_size=40))
@example(MODULE_KEYS["HS256"], "HS256", "caller='alice'",
         VALID_MODULE_TOKENS["HS256"])
@example("/tmp/key\x00.pem", "HS256", "", VALID_MODULE_TOKENS["HS256"])
@example("a.json\x00", "HS256", "", VALID_MODULE_TOKENS["HS256"])
@example(MODULE_KEYS["HS256"], "HS256", "n=" + "9" * 5000,
         VALID_MODULE_TOKENS["HS256"])
def test_kamailio_verify(key_string, alg, claims, token):
    module = quiet_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for verify in (module.jwt3_verify_key, module.jwt3_verify):
            with hang_guard():
                result = verify(key_string, alg, claims, token)
            assert result in (1, -1)
            status = module.pv("status")
            assert status != jwt3.STATUS_INTERNAL, module.pv("error")
            if result == 1:
                assert status == jwt3.STATUS_OK
                assert token.strip(" \t\r\n") == VALID_MODULE_TOKENS[alg]
                # A mangled key string may still hold the right key
                # (among others, or with extra members); it must.
                original = module._keys(MODULE_KEYS[alg])[0].thumbprint()
                assert original in [key.thumbprint() for key in
                                    module._keys(key_string)]
            else:
                assert status != jwt3.STATUS_OK


@settings(max_examples=EXAMPLES)
@given(st.one_of(st.none(), st.integers(), st.binary(max_size=8),
                 st.text(NOISE, max_size=8), st.lists(st.text(max_size=3))),
       st.integers(0, 3))
def test_kamailio_arguments_of_any_type(value, position):
    # Never raises, whatever the arguments; a wrong type is status 9.
    module = quiet_module()
    args = [MODULE_KEYS["HS256"], "HS256", "caller='alice'",
            VALID_MODULE_TOKENS["HS256"]]
    args[position] = value
    assert module.jwt3_verify_key(*args) in (1, -1)
    assert module.pv("status") != jwt3.STATUS_INTERNAL
    assert module.jwt3_generate(*args[:3], args[3] if position == 3
                                else None) in (1, -1)
    assert not module.pv("error").startswith("internal error")
