#!/usr/bin/env python3
"""JSON Web Tokens in one pure-Python file, with a Kamailio ``jwt3`` twin.

jwt3 signs and verifies JWTs (RFC 7519) in the JWS compact serialization
(RFC 7515) with every JWS signature algorithm of RFC 7518, RFC 8037,
RFC 8812 and RFC 9864: HS256/384/512, RS256/384/512, PS256/384/512,
ES256/384/512, ES256K and EdDSA (Ed25519, Ed448).  The big-integer and
elliptic-curve arithmetic, base64url, DER, PEM and JWK (RFC 7517) code
is written here; only hashing and HMAC come from ``hashlib``/``hmac``.
It depends on nothing outside the standard library.

It also mirrors the Kamailio SIP server's ``jwt3`` module: the functions
``jwt3_generate``, ``jwt3_verify`` and ``jwt3_verify_key``, the
``leeway_sec`` parameter, ``$jwt3(val)`` and ``$jwt3(status)``, the same
key strings and the same ``name=value;name2='str'`` claims strings, so a
Kamailio KEMI Python script can use it in place of the C module.  And it
is a command-line tool: ``python3 jwt3.py --help``.

Quick use::

    key = jwt3.Key.from_secret(secret_bytes)           # HMAC
    token = jwt3.encode({"sub": "alice"}, key, "HS256")
    claims = jwt3.decode(token, key, algorithms=["HS256"])

What it deliberately does not do:

* No ``alg: none``, ever; no JWS JSON serialization; no JWE; no
  ``b64: false`` (RFC 7797) and no other ``crit`` extension.
* It never picks a key from the token itself (``jwk``, ``jku``, ``x5u``,
  ``x5c`` headers) and never treats a raw string as an HMAC secret.
* No side-channel protection.  Verification handles public data only.
  Signing in pure Python cannot be made constant-time: jwt3 narrows what
  leaks (fixed-length scalar loops, deterministic ECDSA nonces, RSA
  blinding) but makes no constant-time claim.  Secret-dependent byte
  comparisons go through ``hmac.compare_digest`` only.
* The library core never logs; it raises a ``JWTError`` subclass.  Only
  the Kamailio layer logs (to the ``jwt3`` logger), as Kamailio would.

Sections of this file, in order (each leans only on those before it):

    1. Errors and warnings
    2. Bytes, integers and base64url (RFC 4648 §5, RFC 7515 §2)
    3. JSON: strict parsing, libjwt-identical output (RFC 8259)
    4. ASN.1 DER and PEM armour (X.690, RFC 7468)
    5. Keys: Key, KeySet and the JWK format (RFC 7517, RFC 7638)
    6. HMAC: HS256, HS384, HS512 (RFC 7518 §3.2)
    7. RSA keys (RFC 8017)
    8. RSASSA: RS256/384/512 and PS256/384/512 (RFC 7518 §3.3, §3.5)
    9. Short Weierstrass curves: P-256, P-384, P-521, secp256k1
   10. ECDSA with RFC 6979 nonces: ES256/384/512, ES256K
   11a. edwards25519 arithmetic (RFC 8032 §5.1)
   11b. edwards448 arithmetic (RFC 8032 §5.2)
   11c. EdDSA and OKP keys: Ed25519, Ed448 (RFC 8032, RFC 8037)
   12. Key generation
   13. Remote JWK Sets
   14. JWS compact serialization and JWT claims (RFC 7515, RFC 7519)
   15. Kamailio claims strings (parse_params)
   16. Kamailio key strings and the jwt3 module layer
   17. Self-test
   18. Command line
"""

import base64
import binascii
import hashlib
import hmac
import json
import logging
import math
import os
import re
import sys
import threading
import time
import warnings
from collections import OrderedDict
from typing import (
    Any, Callable, Dict, Iterable, Iterator, List, Mapping, NamedTuple,
    Optional, Sequence, Tuple, Union,
)

__version__ = "0.1.0"

__all__ = [
    # Tokens
    "encode", "decode", "decode_complete", "decode_unverified", "Decoded",
    # Keys
    "Key", "KeySet", "load_key", "load_keys", "generate_key",
    "algorithms",
    # Errors
    "JWTError", "MalformedError", "KeyFormatError", "InvalidKeyError",
    "AlgorithmNotAllowedError", "InvalidSignatureError", "ClaimError",
    "ExpiredError", "NotYetValidError", "MissingClaimError",
    "InvalidClaimError", "ClaimMismatchError", "JWKSError",
    # Warnings
    "JWTWarning", "InsecureSettingWarning",
    # Kamailio module layer
    "Module", "parse_params", "Param", "STATUS_CODES",
    "modparam", "jwt3_generate", "jwt3_generate_hdrs", "jwt3_verify",
    "jwt3_verify_key", "pv",
    # Command line
    "main",
]


# ---- 1. Errors and warnings ----
#
# One root and a shallow tree (DESIGN §6).  Callers catch by class;
# messages name the field and what was wrong and never echo keys, MACs
# or whole tokens.  A wrong argument *type* is a TypeError.


class JWTError(Exception):
    """Root of every error jwt3 raises for bad tokens, keys or claims."""


class MalformedError(JWTError):
    """Input is not well formed: token, base64url, JSON or header."""


class KeyFormatError(MalformedError):
    """A key encoding is not well formed: DER, PEM, JWK or JWK Set."""


class InvalidKeyError(JWTError):
    """A key cannot be used: wrong family, curve or size, unsupported,
    public where a private key is needed, or barred by ``use``,
    ``key_ops`` or its ``alg`` member."""


class AlgorithmNotAllowedError(JWTError):
    """The algorithm is unknown, ``none``, or not on the allow-list."""


class InvalidSignatureError(JWTError):
    """The signature does not verify.  One class, one message, whatever
    failed inside (a uniform failure leaks nothing about why)."""

    def __init__(self, message: str = "signature verification failed"):
        super().__init__(message)


class ClaimError(JWTError):
    """A claim check failed; ``claim`` names the claim."""

    def __init__(self, claim: str, message: str):
        super().__init__(message)
        self.claim = claim


class ExpiredError(ClaimError):
    """The ``exp`` claim is in the past (RFC 7519 §4.1.4)."""


class NotYetValidError(ClaimError):
    """The ``nbf`` claim is in the future (RFC 7519 §4.1.5)."""


class MissingClaimError(ClaimError):
    """A required or expected claim is absent."""


class InvalidClaimError(ClaimError):
    """A claim has the wrong JSON type (``exp`` as a string, say)."""


class ClaimMismatchError(ClaimError):
    """A claim has a value other than the one expected."""


class JWKSError(JWTError):
    """A remote JWK Set could not be fetched or had no usable key."""


class JWTWarning(UserWarning):
    """Base class of jwt3's warnings."""


class InsecureSettingWarning(JWTWarning):
    """A legal setting that weakens checks (time checks off, say)."""


# ---- 2. Bytes, integers and base64url (RFC 4648 §5, RFC 7515 §2) ----

_B64U_RE = re.compile(r"[A-Za-z0-9_-]*\Z")
_B64U_ALPHABET = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789-_")
# For a final group of 2 or 3 characters, the bits of the last character
# that carry no data (RFC 4648 §3.5: must be zero in canonical form).
_B64U_SPARE_BITS = {2: 0x0F, 3: 0x03}


def _b64u_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64u_decode(text: Union[str, bytes], what: str,
                 error: type = MalformedError) -> bytes:
    """Decode strict, canonical base64url; raise ``error`` naming ``what``.

    Choice: RFC 7515 §2 forbids padding; RFC 4648 §3.5 lets decoders
    reject non-zero spare bits.  We reject both, and any character
    outside the url-safe alphabet, so one signed token has exactly one
    encoding (revocation lists and replay caches key on the string).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise error("%s: not base64url (non-ASCII byte)" % what) \
                from None
    if not _B64U_RE.match(text):
        raise error("%s: not base64url (character outside A-Z a-z 0-9"
                    " - _, or padding)" % what)

    tail = len(text) % 4
    if tail == 1:
        raise error("%s: not base64url (impossible length %d)"
                    % (what, len(text)))
    if tail and _B64U_ALPHABET.index(text[-1]) & _B64U_SPARE_BITS[tail]:
        raise error("%s: not canonical base64url (spare bits set)" % what)

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_to_bytes(n: int, length: Optional[int] = None) -> bytes:
    """Big-endian bytes of ``n``, minimal or left-padded to ``length``."""
    if length is None:
        length = max(1, (n.bit_length() + 7) // 8)
    return n.to_bytes(length, "big")


def _int_from_bytes(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _b64u_uint(value: Any, what: str, length: Optional[int] = None,
               error: type = KeyFormatError) -> int:
    """Read a JWK base64urlUInt (RFC 7518 §2) or fixed-length octets.

    ``length`` is the longest encoding allowed (field size for EC
    coordinates); shorter values are left-padded by reading them as an
    integer (DESIGN §3: libjwt emits 65-byte P-521 members).
    """
    if not isinstance(value, str):
        raise error("JWK %s: expected a base64url string, got %s"
                    % (what, type(value).__name__))
    raw = _b64u_decode(value, "JWK " + what, error)
    if not raw:
        raise error("JWK %s: empty" % what)
    if length is not None and len(raw) > length:
        raise error("JWK %s: %d octets, longer than %d"
                    % (what, len(raw), length))
    return _int_from_bytes(raw)


# ---- 3. JSON: strict parsing, libjwt-identical output (RFC 8259) ----
#
# Parsing refuses what RFC 8259 leaves open and attackers like: duplicate
# member names (§4 "SHOULD be unique"), NaN and Infinity (not JSON at
# all), lone surrogates (§8.2), U+0000 (jansson, and so libjwt, refuse
# it), and nesting deeper than _MAX_JSON_DEPTH.  Output matches jansson's
# json_dumps(JSON_COMPACT | JSON_SORT_KEYS) byte for byte.

_MAX_JSON_DEPTH = 32
_SUSPECT_ESCAPE_RE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")


def _refuse_constant(name: str) -> Any:
    raise ValueError("%s is not JSON" % name)


def _parse_float(text: str) -> float:
    value = float(text)
    if value != value or value in (math.inf, -math.inf):
        raise ValueError("number %s out of range" % text[:20])
    return value


def _unique_object(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for name, _ in pairs:
            if name in seen:
                raise ValueError("duplicate member name %r" % name[:40])
            seen.add(name)
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_object,
                            parse_constant=_refuse_constant,
                            parse_float=_parse_float)


def _json_depth_ok(value: Any, limit: int) -> bool:
    """True if ``value`` nests no deeper than ``limit`` (iteratively)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        elif not isinstance(node, list):
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in node)
    return True


def _json_strings_ok(value: Any) -> bool:
    """True if no string (key or value) holds U+0000 or a surrogate."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return False
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(node, dict):
            stack.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


def _json_loads(data: Union[str, bytes], what: str,
                error: type = MalformedError,
                want_object: bool = True) -> Any:
    """Parse strict JSON text (RFC 8259 §8.1: UTF-8, no BOM).

    Raises ``error`` naming ``what`` for anything refused.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise error("%s: not valid UTF-8" % what) from None
    try:
        value = _DECODER.decode(data)
    except RecursionError:
        raise error("%s: JSON nested too deeply" % what) from None
    except ValueError as exc:
        # JSONDecodeError, our hooks, and int digit limits all land here.
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) \
            else str(exc)
        raise error("%s: invalid JSON (%s)" % (what, reason)) from None

    if want_object and not isinstance(value, dict):
        raise error("%s: expected a JSON object, got %s"
                    % (what, _json_type_name(value)))
    # Cheap gates first: a walk is needed only when the text could hold
    # a deep nest, an escaped NUL or an escaped surrogate.
    if data.count("{") + data.count("[") > _MAX_JSON_DEPTH \
            and not _json_depth_ok(value, _MAX_JSON_DEPTH):
        raise error("%s: JSON nested deeper than %d"
                    % (what, _MAX_JSON_DEPTH))
    if "\\u" in data and _SUSPECT_ESCAPE_RE.search(data) \
            and not _json_strings_ok(value):
        raise error("%s: JSON string holds U+0000 or a lone surrogate"
                    % what)
    return value


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                            sort_keys=True, allow_nan=False)
_LOWER_HEX_ESCAPE_RE = re.compile(r"\\(\\|u00[0-9a-f]{2})")


def _jansson_hex(match: "re.Match[str]") -> str:
    return "\\" + match.group(1).upper().replace("U", "u")


def _jansson_real(value: float) -> str:
    """A double as jansson writes it: %.17g, always with '.' or 'e',
    no '+' and no leading zeros in the exponent."""
    text = "%.17g" % value
    if "." not in text and "e" not in text:
        text += ".0"
    mantissa, e, exponent = text.partition("e")
    if e:
        sign = "-" if exponent.startswith("-") else ""
        text = mantissa + "e" + sign + exponent.lstrip("+-").lstrip("0")
    return text


def _json_check(value: Any, depth: int = 0) -> bool:
    """Validate a value for output; return True if it holds a float.

    Raises TypeError for what JSON cannot carry (non-str keys, sets,
    bytes...) and MalformedError for non-finite numbers and strings
    that are not Unicode scalar values.
    """
    if depth > _MAX_JSON_DEPTH:
        raise MalformedError("JSON value nested deeper than %d"
                             % _MAX_JSON_DEPTH)
    if value is None or isinstance(value, (bool, int)):
        return False
    if isinstance(value, str):
        return False
    if isinstance(value, float):
        if value != value or value in (math.inf, -math.inf):
            raise MalformedError("JSON cannot carry the number %r"
                                 % value)
        return True
    if isinstance(value, dict):
        has_float = False
        for name, item in value.items():
            if not isinstance(name, str):
                raise TypeError("JSON member names must be str, got %s"
                                % type(name).__name__)
            has_float |= _json_check(item, depth + 1)
        return has_float
    if isinstance(value, (list, tuple)):
        has_float = False
        for item in value:
            has_float |= _json_check(item, depth + 1)
        return has_float
    raise TypeError("cannot put %s into JSON" % type(value).__name__)


def _json_dumps_slow(value: Any) -> str:
    """The serializer for values holding floats (jansson's %.17g)."""
    if isinstance(value, float):
        return _jansson_real(value)
    if isinstance(value, dict):
        return "{%s}" % ",".join(
            _ENCODER.encode(name) + ":" + _json_dumps_slow(value[name])
            for name in sorted(value))
    if isinstance(value, (list, tuple)):
        return "[%s]" % ",".join(_json_dumps_slow(v) for v in value)
    return _ENCODER.encode(value)


def _json_dumps(value: Any) -> bytes:
    """Serialize as libjwt does (jansson, JSON_COMPACT|JSON_SORT_KEYS).

    Members sorted by code point (UTF-8 byte order is the same order),
    no spaces, '/' not escaped, non-ASCII as raw UTF-8, control
    characters as \\b \\f \\n \\r \\t or \\u00XX with upper-case hex.
    """
    if _json_check(value):
        text = _json_dumps_slow(value)
    else:
        text = _ENCODER.encode(value)
    if "\\u00" in text:
        text = _LOWER_HEX_ESCAPE_RE.sub(_jansson_hex, text)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedError("JSON string holds a lone surrogate") \
            from None


# ---- 4. ASN.1 DER and PEM armour (X.690, RFC 7468) ----
#
# Just enough DER for key formats: INTEGER, BIT STRING, OCTET STRING,
# NULL, OBJECT IDENTIFIER, SEQUENCE and context tags.  Reading is strict
# (X.690 §10): definite lengths only, minimal length and INTEGER
# encodings, no trailing bytes.  A decoded element is a (tag, content)
# pair; constructed contents are split again with _der_items.
#
# Key families plug in here by OID and PEM label, so this section knows
# no algorithm: _SPKI_PARSERS and _PKCS8_PARSERS map an algorithm OID to
# a parser, _PEM_PARSERS maps a PEM label to a parser of its DER.

_DER_INTEGER = 0x02
_DER_BIT_STRING = 0x03
_DER_OCTET_STRING = 0x04
_DER_NULL = 0x05
_DER_OID = 0x06
_DER_SEQUENCE = 0x30
_DER_CONTEXT_0 = 0xA0      # [0] constructed; [n] is 0xA0 + n
_DER_MAX_DEPTH = 16        # nesting allowed while walking certificates

_DERItem = Tuple[int, bytes]


def _der_next(data: bytes, pos: int, what: str) -> Tuple[int, bytes, int]:
    """Read the element at ``pos``: return (tag, content, next_pos)."""
    end = len(data)
    if end - pos < 2:
        raise KeyFormatError("%s: DER truncated" % what)
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise KeyFormatError("%s: DER high tag numbers are not used in"
                             " keys" % what)
    length = data[pos + 1]
    pos += 2

    # X.690 §8.1.3: short form below 128; long form must be minimal
    # (§10.1) and 0x80 (indefinite) is BER only.
    if length & 0x80:
        count = length & 0x7F
        if count == 0:
            raise KeyFormatError("%s: DER indefinite length" % what)
        if count > 4 or end - pos < count:
            raise KeyFormatError("%s: DER length out of range" % what)
        length = _int_from_bytes(data[pos:pos + count])
        if length < 0x80 or data[pos] == 0:
            raise KeyFormatError("%s: DER length not minimal" % what)
        pos += count

    if end - pos < length:
        raise KeyFormatError("%s: DER truncated" % what)
    return tag, data[pos:pos + length], pos + length


def _der_decode(data: bytes, what: str) -> _DERItem:
    """Decode exactly one element spanning all of ``data``."""
    tag, content, pos = _der_next(data, 0, what)
    if pos != len(data):
        raise KeyFormatError("%s: %d bytes after the DER element"
                             % (what, len(data) - pos))
    return tag, content


def _der_items(content: bytes, what: str) -> List[_DERItem]:
    """Split the content of a constructed element into its elements."""
    items = []
    pos = 0
    while pos < len(content):
        tag, value, pos = _der_next(content, pos, what)
        items.append((tag, value))
    return items


def _der_sequence(item: _DERItem, what: str, min_len: int = 0,
                  max_len: int = 1 << 16) -> List[_DERItem]:
    """The elements of a SEQUENCE, checking how many there are."""
    items = _der_items(_der_expect(item, _DER_SEQUENCE, what), what)
    if not min_len <= len(items) <= max_len:
        raise KeyFormatError("%s: SEQUENCE of %d elements, expected %s"
                             % (what, len(items), min_len
                                if min_len == max_len
                                else "%d to %d" % (min_len, max_len)))
    return items


def _der_expect(item: _DERItem, tag: int, what: str) -> bytes:
    if item[0] != tag:
        raise KeyFormatError("%s: DER tag 0x%02x, expected 0x%02x"
                             % (what, item[0], tag))
    return item[1]


def _der_read_int(item: _DERItem, what: str, signed: bool = False) -> int:
    """An INTEGER (X.690 §8.3), minimal; negative only if ``signed``."""
    content = _der_expect(item, _DER_INTEGER, what)
    if not content:
        raise KeyFormatError("%s: empty INTEGER" % what)
    if len(content) > 1 and (
            (content[0] == 0x00 and content[1] < 0x80)
            or (content[0] == 0xFF and content[1] >= 0x80)):
        raise KeyFormatError("%s: INTEGER not minimally encoded" % what)
    if content[0] & 0x80 and not signed:
        raise KeyFormatError("%s: negative INTEGER" % what)
    return int.from_bytes(content, "big", signed=True)


def _der_read_bits(item: _DERItem, what: str) -> bytes:
    """A BIT STRING holding whole octets (X.690 §8.6)."""
    content = _der_expect(item, _DER_BIT_STRING, what)
    if not content or content[0] != 0:
        raise KeyFormatError("%s: BIT STRING with unused bits" % what)
    return content[1:]


def _der_read_oid(item: _DERItem, what: str) -> str:
    """An OBJECT IDENTIFIER (X.690 §8.19) in dotted form."""
    content = _der_expect(item, _DER_OID, what)
    if not content or content[-1] & 0x80:
        raise KeyFormatError("%s: OBJECT IDENTIFIER truncated" % what)
    arcs = []
    value = 0
    fresh = True
    for byte in content:
        if fresh and byte == 0x80:
            raise KeyFormatError("%s: OBJECT IDENTIFIER not minimal"
                                 % what)
        value = (value << 7) | (byte & 0x7F)
        fresh = not byte & 0x80
        if fresh:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(map(str, [first, arcs[0] - 40 * first] + arcs[1:]))


def _der(tag: int, content: bytes) -> bytes:
    """Encode one element with a minimal definite length."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = _int_to_bytes(n)
    return bytes((tag, 0x80 | len(size))) + size + content


def _der_int(n: int) -> bytes:
    return _der(_DER_INTEGER, n.to_bytes(n.bit_length() // 8 + 1, "big",
                                         signed=True))


def _der_seq(*parts: bytes) -> bytes:
    return _der(_DER_SEQUENCE, b"".join(parts))


def _der_bits(data: bytes) -> bytes:
    return _der(_DER_BIT_STRING, b"\x00" + data)


def _der_octets(data: bytes) -> bytes:
    return _der(_DER_OCTET_STRING, data)


def _der_oid(dotted: str) -> bytes:
    arcs = [int(arc) for arc in dotted.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1]] + arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _der(_DER_OID, bytes(body))


_DER_NULL_TLV = b"\x05\x00"

# OID -> parser(params, subject_public_key) -> _Material.  ``params`` is
# the AlgorithmIdentifier's parameters element, or None when absent.
_SPKI_PARSERS = {}    # type: Dict[str, Callable[..., Any]]
# OID -> parser(params, private_key_octets, public_key_or_None).
_PKCS8_PARSERS = {}   # type: Dict[str, Callable[..., Any]]
# PEM label of a traditional format -> parser(der) -> _Material.
_PEM_PARSERS = {}     # type: Dict[str, Callable[[bytes], Any]]


def _der_algorithm(item: _DERItem, what: str
                   ) -> Tuple[str, Optional[_DERItem]]:
    """An AlgorithmIdentifier (RFC 5280 §4.1.1.2): (OID, params)."""
    items = _der_sequence(item, what + " AlgorithmIdentifier", 1, 2)
    oid = _der_read_oid(items[0], what + " algorithm")
    return oid, items[1] if len(items) == 2 else None


def _spki_to_material(der: bytes) -> Any:
    """SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), PEM "PUBLIC KEY"."""
    what = "SubjectPublicKeyInfo"
    items = _der_sequence(_der_decode(der, what), what, 2, 2)
    oid, params = _der_algorithm(items[0], what)
    public = _der_read_bits(items[1], what + " subjectPublicKey")
    parser = _SPKI_PARSERS.get(oid)
    if parser is None:
        raise InvalidKeyError("public key algorithm %s is not supported"
                              % oid)
    return parser(params, public)


def _pkcs8_to_material(der: bytes) -> Any:
    """PKCS #8 / OneAsymmetricKey (RFC 5958 §2), PEM "PRIVATE KEY"."""
    what = "PKCS#8 private key"
    items = _der_sequence(_der_decode(der, what), what, 3, 5)
    version = _der_read_int(items[0], what + " version")
    if version not in (0, 1):
        raise KeyFormatError("%s: version %d, expected 0 or 1"
                             % (what, version))
    oid, params = _der_algorithm(items[1], what)
    private = _der_expect(items[2], _DER_OCTET_STRING,
                          what + " privateKey")

    # [0] attributes are ignored; [1] publicKey exists only in v2.
    public = None
    for tag, content in items[3:]:
        if tag == 0x81 and version == 1:
            if not content or content[0] != 0:
                raise KeyFormatError("%s: publicKey with unused bits"
                                     % what)
            public = content[1:]
        elif tag != _DER_CONTEXT_0:
            raise KeyFormatError("%s: unexpected DER tag 0x%02x"
                                 % (what, tag))
    parser = _PKCS8_PARSERS.get(oid)
    if parser is None:
        raise InvalidKeyError("private key algorithm %s is not supported"
                              % oid)
    return parser(params, private, public)


def _certificate_to_material(der: bytes) -> Any:
    """The subject public key of an X.509 certificate (RFC 5280 §4.1).

    The certificate is not validated in any way: this only extracts the
    key, as a configured trust decision by the caller.
    """
    what = "X.509 certificate"
    cert = _der_sequence(_der_decode(der, what), what, 3, 3)
    tbs = _der_sequence(cert[0], what + " tbsCertificate", 6, 10)
    index = 6 if tbs[0][0] == _DER_CONTEXT_0 else 5
    if index >= len(tbs) or tbs[index][0] != _DER_SEQUENCE:
        raise KeyFormatError("%s: no subjectPublicKeyInfo" % what)
    return _spki_to_material(_der(*tbs[index]))


_PEM_PARSERS.update({
    "PUBLIC KEY": _spki_to_material,
    "PRIVATE KEY": _pkcs8_to_material,
    "CERTIFICATE": _certificate_to_material,
})


def _der_label(der: bytes) -> str:
    """Name the key format of bare DER by its shape (the PEM label)."""
    what = "DER key"
    try:
        items = _der_sequence(_der_decode(der, what), what)
    except KeyFormatError:
        raise KeyFormatError("not a DER key (no outer SEQUENCE)") from None
    tags = tuple(tag for tag, _ in items)
    if tags[:3] == (_DER_INTEGER, _DER_SEQUENCE, _DER_OCTET_STRING):
        return "PRIVATE KEY"
    if tags == (_DER_SEQUENCE, _DER_BIT_STRING):
        return "PUBLIC KEY"
    if tags == (_DER_SEQUENCE, _DER_SEQUENCE, _DER_BIT_STRING):
        return "CERTIFICATE"
    if tags[:2] == (_DER_INTEGER, _DER_OCTET_STRING):
        return "EC PRIVATE KEY"
    if tags == (_DER_INTEGER, _DER_INTEGER):
        return "RSA PUBLIC KEY"
    if len(tags) >= 9 and set(tags) == {_DER_INTEGER}:
        return "RSA PRIVATE KEY"
    raise KeyFormatError("DER key: not a known key format")


def _der_to_material(der: bytes, label: Optional[str] = None) -> Any:
    """Parse DER as the format ``label`` names (by its shape if None)."""
    if label is None:
        label = _der_label(der)
    parser = _PEM_PARSERS.get(label)
    if parser is None:
        raise InvalidKeyError("%s keys are not supported" % label)
    return parser(der)


_PEM_RE = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,40})-----\r?\n"
                     r"(.*?)-----END \1-----", re.DOTALL)
_PEM_IGNORED = frozenset(("EC PARAMETERS",))
_WHITESPACE_RE = re.compile(r"[ \t\r\n]+")


def _pem_blocks(text: str) -> List[Tuple[str, bytes]]:
    """Every ``-----BEGIN X-----`` block in ``text`` as (label, DER).

    Text around the blocks (comments, ``openssl x509 -text`` output) is
    ignored, as RFC 7468 §2 allows.  Encapsulated headers (RFC 1421
    ``Proc-Type: 4,ENCRYPTED``) mean an encrypted key.
    """
    blocks = []
    for match in _PEM_RE.finditer(text):
        label, body = match.group(1), match.group(2)
        if label == "ENCRYPTED PRIVATE KEY" or ":" in body:
            raise KeyFormatError("PEM %s: encrypted keys are not"
                                 " supported; decrypt it first (openssl"
                                 " pkey -in KEY -out PLAIN)" % label)
        try:
            der = base64.b64decode(_WHITESPACE_RE.sub("", body),
                                   validate=True)
        except (binascii.Error, ValueError):
            raise KeyFormatError("PEM %s: body is not base64" % label) \
                from None
        if label not in _PEM_IGNORED:
            blocks.append((label, der))
    if not blocks and "-----BEGIN" in text:
        raise KeyFormatError("PEM: unterminated or mislabelled block")
    return blocks


def _pem_encode(label: str, der: bytes) -> str:
    """PEM armour with 64-column lines (RFC 7468 §2)."""
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
        label, "\n".join(lines), label)


# ---- 5. Keys: Key, KeySet and the JWK format (RFC 7517, RFC 7638) ----
#
# A Key is key material of one family plus the JWK metadata that limits
# its use (kid, alg, use, key_ops).  The material classes live in the
# algorithm sections and register themselves in three tables:
#
#   _JWK_PARSERS[kty](jwk) -> material      (RFC 7517 §4, RFC 7518 §6)
#   _ALGORITHMS[name]      -> _Alg           (sign, verify, key checks)
#   _KEY_GENERATORS[kty]   -> generator      (section 12)
#
# Every algorithm refuses material of the wrong family, curve or size,
# so key confusion (an RSA public key used as an HMAC secret, say) is
# impossible by construction: a raw str or bytes is never a key here.


class _Material:
    """Key material of one family (a base class for the families).

    Subclasses set ``kty``, ``crv``, ``size`` (bits) and ``is_private``
    and implement the four methods below.
    """

    __slots__ = ()
    kty = ""
    crv = None        # type: Optional[str]
    size = 0
    is_private = False

    def public(self) -> "_Material":
        """The material without its private part."""
        raise NotImplementedError

    def jwk_members(self, private: bool) -> Dict[str, str]:
        """The JWK members of this family, ``kty`` first."""
        raise NotImplementedError

    def thumbprint_members(self) -> Dict[str, str]:
        """The required public members (RFC 7638 §3.2)."""
        raise NotImplementedError

    def to_der(self, private: bool) -> Tuple[str, bytes]:
        """(PEM label, DER): PKCS #8 if ``private``, else SPKI."""
        raise NotImplementedError


class _Alg(NamedTuple):
    """A JWS algorithm: its key family and its operations."""

    name: str
    kty: str
    curves: Optional[Tuple[str, ...]]
    # sign(material, data, **options) -> signature bytes
    sign: Callable[..., bytes]
    # verify(material, data, signature, strict) -> bool
    verify: Callable[[Any, bytes, bytes, bool], bool]
    # key_problem(material) -> reason the key is unusable, or None
    key_problem: Callable[[Any], Optional[str]]


_ALGORITHMS = {}       # type: Dict[str, _Alg]
_JWK_PARSERS = {}      # type: Dict[str, Callable[[Mapping[str, Any]], Any]]
_KEY_GENERATORS = {}   # type: Dict[str, Callable[..., Any]]
_KEY_OPS = ("sign", "verify", "encrypt", "decrypt", "wrapKey",
            "unwrapKey", "deriveKey", "deriveBits")


def _no_key_problem(material: Any) -> Optional[str]:
    return None


def _algorithm(name: Any) -> _Alg:
    """The registered algorithm called ``name``, or raise."""
    if not isinstance(name, str):
        raise TypeError("alg must be str, got %s" % type(name).__name__)
    alg = _ALGORITHMS.get(name)
    if alg is None:
        if name.lower() == "none":
            raise AlgorithmNotAllowedError(
                'alg "none" is never produced or accepted')
        raise AlgorithmNotAllowedError("unknown algorithm %r" % name[:32])
    return alg


def supported_algorithms() -> Tuple[str, ...]:
    """The names of every JWS algorithm this build supports."""
    return tuple(sorted(_ALGORITHMS))


def _as_bytes(data: Any, what: str) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError("%s must be bytes, got %s"
                    % (what, type(data).__name__))


class Key:
    """One key: material of a family plus the JWK metadata.

    Make keys with ``Key.from_jwk``, ``Key.from_secret``,
    ``Key.from_pem``, ``Key.from_der``, ``load_key`` or
    ``generate_key``.  Attributes are read-only.

    ``kty``, ``crv``, ``size`` (bits) and ``is_private`` describe the
    material; ``kid``, ``alg``, ``use`` and ``key_ops`` are the JWK
    members (RFC 7517 §4.2-§4.5), None when absent.
    """

    __slots__ = ("_material", "_kid", "_alg", "_use", "_key_ops")

    def __init__(self, material: _Material, *, kid: Optional[str] = None,
                 alg: Optional[str] = None, use: Optional[str] = None,
                 key_ops: Optional[Sequence[str]] = None):
        if not isinstance(material, _Material):
            raise TypeError("use Key.from_jwk, Key.from_secret, load_key"
                            " or generate_key to make a Key")
        for name, value in (("kid", kid), ("alg", alg), ("use", use)):
            if value is not None and not isinstance(value, str):
                raise TypeError("%s must be str, got %s"
                                % (name, type(value).__name__))
        if key_ops is not None:
            if isinstance(key_ops, str) or not all(
                    isinstance(op, str) for op in key_ops):
                raise TypeError("key_ops must be a sequence of str")
            key_ops = tuple(key_ops)
        self._material = material
        self._kid = kid
        self._alg = alg
        self._use = use
        self._key_ops = key_ops

    # -- description

    kty = property(lambda self: self._material.kty,
                   doc="Key family: oct, RSA, EC or OKP.")
    crv = property(lambda self: self._material.crv,
                   doc="Curve name for EC and OKP keys, else None.")
    size = property(lambda self: self._material.size,
                    doc="Size in bits (modulus, curve or secret).")
    is_private = property(lambda self: self._material.is_private,
                          doc="True if the key can sign.")
    kid = property(lambda self: self._kid, doc='JWK "kid" or None.')
    alg = property(lambda self: self._alg, doc='JWK "alg" or None.')
    use = property(lambda self: self._use, doc='JWK "use" or None.')
    key_ops = property(lambda self: self._key_ops,
                       doc='JWK "key_ops" as a tuple, or None.')

    def __repr__(self) -> str:
        parts = [self.kty]
        if self.crv:
            parts.append(self.crv)
        parts.append("%d-bit" % self.size)
        parts.append("private" if self.is_private else "public")
        if self._kid is not None:
            parts.append("kid=%r" % self._kid)
        if self._alg is not None:
            parts.append("alg=%r" % self._alg)
        return "<jwt3.Key %s>" % " ".join(parts)

    # -- construction

    @classmethod
    def from_jwk(cls, jwk: Union[Mapping[str, Any], str, bytes]) -> "Key":
        """A key from one JWK (RFC 7517 §4), as a mapping or JSON text.

        Raises KeyFormatError for a malformed JWK and InvalidKeyError
        for an unsupported ``kty`` or curve, or an invalid key (a point
        off its curve, inconsistent RSA members...).
        """
        if isinstance(jwk, (str, bytes)):
            jwk = _json_loads(jwk, "JWK", KeyFormatError)
        if not isinstance(jwk, Mapping):
            raise TypeError("a JWK must be a mapping or JSON text, got %s"
                            % type(jwk).__name__)
        kty = jwk.get("kty")
        if not isinstance(kty, str):
            raise KeyFormatError('JWK "kty": expected a string, got %s'
                                 % _json_type_name(kty)
                                 if "kty" in jwk else 'JWK: no "kty"')
        parser = _JWK_PARSERS.get(kty)
        if parser is None:
            raise InvalidKeyError('JWK "kty": %r is not supported'
                                  % kty[:32])

        meta = {}   # type: Dict[str, Any]
        for name in ("kid", "alg", "use"):
            value = jwk.get(name)
            if value is not None and not isinstance(value, str):
                raise KeyFormatError('JWK "%s": expected a string, got %s'
                                     % (name, _json_type_name(value)))
            meta[name] = value
        key_ops = jwk.get("key_ops")
        if key_ops is not None:
            # RFC 7517 §4.3: an array of strings, without duplicates.
            if not isinstance(key_ops, list) or not all(
                    isinstance(op, str) for op in key_ops):
                raise KeyFormatError('JWK "key_ops": expected an array'
                                     ' of strings')
            if len(set(key_ops)) != len(key_ops):
                raise KeyFormatError('JWK "key_ops": duplicate values')
        return cls(parser(jwk), key_ops=key_ops, **meta)

    @classmethod
    def from_secret(cls, secret: bytes, *, kid: Optional[str] = None,
                    alg: Optional[str] = None) -> "Key":
        """An HMAC key (``kty: oct``) from the secret's bytes.

        This is the only way besides an ``oct`` JWK to make an HMAC key:
        jwt3 never takes a str, a PEM text or a JWK text as a secret.
        """
        if not isinstance(secret, (bytes, bytearray)):
            raise TypeError("an HMAC secret must be bytes, got %s"
                            % type(secret).__name__)
        if not secret:
            raise InvalidKeyError("an HMAC secret cannot be empty")
        return cls(_OctMaterial(bytes(secret)), kid=kid, alg=alg)

    @classmethod
    def from_pem(cls, text: Union[str, bytes], *,
                 kid: Optional[str] = None) -> "Key":
        """The one key in PEM text (RFC 7468): PKCS #8, SPKI, PKCS #1,
        SEC 1 or the public key of an X.509 certificate."""
        keys = _pem_keys(text, kid)
        if len(keys) != 1:
            raise KeyFormatError("PEM: %d keys, expected exactly one"
                                 % len(keys))
        return keys[0]

    @classmethod
    def from_der(cls, data: bytes, *, kid: Optional[str] = None) -> "Key":
        """A key from DER bytes in any format ``from_pem`` reads."""
        return cls(_der_to_material(_as_bytes(data, "DER")), kid=kid)

    # -- export

    def public(self) -> "Key":
        """This key without its private part (itself if public).

        A ``key_ops`` of "sign" becomes "verify" on the public key.
        """
        if not self.is_private or self.kty == "oct":
            return self
        key_ops = self._key_ops
        if key_ops is not None:
            ops = ["verify" if op == "sign" else op for op in key_ops]
            key_ops = tuple(sorted(set(ops), key=ops.index))
        return Key(self._material.public(), kid=self._kid, alg=self._alg,
                   use=self._use, key_ops=key_ops)

    def to_jwk(self, private: bool = False) -> Dict[str, Any]:
        """The key as a JWK dict; private members only if ``private``.

        An ``oct`` key has no public form: export it with
        ``private=True`` (its secret *is* the key).
        """
        if private and not self.is_private:
            raise InvalidKeyError("a public key has no private members")
        if not private and self.kty == "oct":
            raise InvalidKeyError("an oct key is all secret: pass"
                                  " private=True to export it")
        jwk = self._material.jwk_members(private)  # type: Dict[str, Any]
        for name, value in (("kid", self._kid), ("alg", self._alg),
                            ("use", self._use)):
            if value is not None:
                jwk[name] = value
        if self._key_ops is not None:
            jwk["key_ops"] = list(self._key_ops)
        return jwk

    def to_pem(self, private: bool = False) -> str:
        """PEM text: PKCS #8 "PRIVATE KEY" or SPKI "PUBLIC KEY"."""
        if private and not self.is_private:
            raise InvalidKeyError("a public key has no private part")
        if self.kty == "oct":
            raise InvalidKeyError("an oct key has no PEM form")
        return _pem_encode(*self._material.to_der(private))

    def thumbprint(self, hash: str = "sha256") -> str:
        """The JWK thumbprint (RFC 7638 §3), base64url.

        ``hash`` is "sha256", "sha384" or "sha512".
        """
        if hash not in ("sha256", "sha384", "sha512"):
            raise ValueError("hash must be sha256, sha384 or sha512")
        canonical = _json_dumps(self._material.thumbprint_members())
        return _b64u_encode(hashlib.new(hash, canonical).digest())

    # -- use

    def _problem(self, alg: _Alg, operation: str) -> Optional[str]:
        """Why this key cannot ``operation`` with ``alg``, or None."""
        material = self._material
        if material.kty != alg.kty:
            return "a %s key cannot be used with %s" % (material.kty,
                                                        alg.name)
        if alg.curves is not None and material.crv not in alg.curves:
            return "a %s key cannot be used with %s (needs %s)" % (
                material.crv, alg.name, " or ".join(alg.curves))
        if self._alg is not None and self._alg != alg.name:
            return 'the key\'s "alg" is %s, not %s' % (self._alg[:32],
                                                      alg.name)
        if self._use == "enc":
            return 'the key is for encryption ("use": "enc")'
        if self._key_ops is not None and operation not in self._key_ops:
            return 'the key\'s "key_ops" does not allow %s' % operation
        if operation == "sign" and not material.is_private:
            return "a public key cannot sign"
        return alg.key_problem(material)

    def usable(self, alg: str, operation: str = "verify") -> bool:
        """True if this key may ``operation`` ("sign" or "verify") with
        ``alg``: family, curve, size, ``alg``, ``use`` and ``key_ops``
        all allow it (DESIGN §5)."""
        if operation not in ("sign", "verify"):
            raise ValueError('operation must be "sign" or "verify"')
        return self._problem(_algorithm(alg), operation) is None

    def sign(self, alg: str, data: bytes, **options: Any) -> bytes:
        """Sign ``data`` with ``alg``; return the JWS signature bytes.

        Raises AlgorithmNotAllowedError for an unknown alg and
        InvalidKeyError if this key cannot sign with it.
        """
        algorithm = _algorithm(alg)
        data = _as_bytes(data, "data")
        problem = self._problem(algorithm, "sign")
        if problem is not None:
            raise InvalidKeyError(problem)
        return algorithm.sign(self._material, data, **options)

    def verify(self, alg: str, data: bytes, signature: bytes, *,
               strict: bool = False) -> bool:
        """True if ``signature`` is a valid ``alg`` signature of ``data``.

        A malformed signature (wrong length, say) is simply False.
        ``strict`` also refuses the malleable forms an algorithm
        tolerates by default (ECDSA high S, PSS salts other than the
        hash length).  Raises like ``sign`` for an unusable key.
        """
        algorithm = _algorithm(alg)
        data = _as_bytes(data, "data")
        signature = _as_bytes(signature, "signature")
        problem = self._problem(algorithm, "verify")
        if problem is not None:
            raise InvalidKeyError(problem)
        return algorithm.verify(self._material, data, signature, strict)


_MAX_JWKS_KEYS = 256


class KeySet:
    """An ordered set of keys, as a JWK Set (RFC 7517 §5) holds them.

    ``skipped`` lists (index, reason) for JWK Set entries that were left
    out because they were unsupported or invalid.
    """

    __slots__ = ("_keys", "skipped")

    def __init__(self, keys: Iterable[Key] = ()):
        self._keys = list(keys)
        for key in self._keys:
            if not isinstance(key, Key):
                raise TypeError("a KeySet holds Key objects, got %s"
                                % type(key).__name__)
        self.skipped = []   # type: List[Tuple[int, str]]

    def __iter__(self) -> Iterator[Key]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, index: int) -> Key:
        return self._keys[index]

    def __repr__(self) -> str:
        return "<jwt3.KeySet of %d keys>" % len(self._keys)

    @classmethod
    def from_jwks(cls, jwks: Union[Mapping[str, Any], str, bytes]
                  ) -> "KeySet":
        """Keys from a JWK Set, or from one bare JWK.

        Entries with an unknown ``kty`` or that are otherwise unusable
        are skipped (listed in ``skipped``); if no usable key remains,
        KeyFormatError names the reasons.
        """
        if isinstance(jwks, (str, bytes)):
            jwks = _json_loads(jwks, "JWK Set", KeyFormatError)
        if not isinstance(jwks, Mapping):
            raise TypeError("a JWK Set must be a mapping or JSON text,"
                            " got %s" % type(jwks).__name__)
        if "keys" not in jwks:
            return cls([Key.from_jwk(jwks)])

        entries = jwks["keys"]
        if not isinstance(entries, list):
            raise KeyFormatError('JWK Set "keys": expected an array, got'
                                 ' %s' % _json_type_name(entries))
        if len(entries) > _MAX_JWKS_KEYS:
            raise KeyFormatError('JWK Set "keys": %d entries, more than'
                                 ' %d' % (len(entries), _MAX_JWKS_KEYS))
        keyset = cls()
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                keyset.skipped.append((index, "not a JSON object"))
                continue
            try:
                keyset._keys.append(Key.from_jwk(entry))
            except JWTError as exc:
                keyset.skipped.append((index, str(exc)))
        if not keyset._keys:
            raise KeyFormatError("JWK Set: no usable key%s" % "".join(
                "; [%d] %s" % skip for skip in keyset.skipped[:8]))
        return keyset

    def to_jwks(self, private: bool = False) -> Dict[str, Any]:
        """The set as a JWK Set dict (public members unless
        ``private``; an ``oct`` key is always exported whole, and only
        when ``private``)."""
        keys = []
        for key in self._keys:
            if key.kty == "oct":
                if private:
                    keys.append(key.to_jwk(private=True))
            else:
                keys.append(key.to_jwk(private and key.is_private))
        return {"keys": keys}

    def find(self, kid: str) -> Optional[Key]:
        """The first key whose ``kid`` is exactly ``kid``, or None."""
        for key in self._keys:
            if key.kid == kid:
                return key
        return None

    def select(self, alg: str, kid: Optional[str] = None, *,
               operation: str = "verify", strict_kid: bool = False) -> Key:
        """The key to ``operation`` with ``alg`` (DESIGN §5).

        With a ``kid``: the first key with that kid that is usable; if
        keys have that kid but none is usable, InvalidKeyError (never
        another key).  If no key has that kid: InvalidKeyError when
        ``strict_kid``, else the first usable key.  Without a kid: the
        first usable key.  Usable means family, curve, size, ``alg``
        member, ``use`` and ``key_ops`` all fit.
        """
        algorithm = _algorithm(alg)
        if operation not in ("sign", "verify"):
            raise ValueError('operation must be "sign" or "verify"')
        candidates = self._keys
        if kid is not None:
            named = [key for key in self._keys if key.kid == kid]
            if named or strict_kid:
                candidates = named
        problems = []
        for key in candidates:
            problem = key._problem(algorithm, operation)
            if problem is None:
                return key
            problems.append(problem)
        if kid is not None and not candidates:
            raise InvalidKeyError("no key with kid %r" % kid[:64])
        raise InvalidKeyError("no key can %s with %s%s" % (
            operation, alg, (": " + problems[0]) if problems else ""))


def _pem_keys(text: Union[str, bytes], kid: Optional[str]) -> List[Key]:
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        raise TypeError("PEM must be str or bytes, got %s"
                        % type(text).__name__)
    blocks = _pem_blocks(text)
    if not blocks:
        raise KeyFormatError("PEM: no -----BEGIN block")
    return [Key(_der_to_material(der, label), kid=kid)
            for label, der in blocks]


def _sniff_keys(source: Any, what: str) -> KeySet:
    """Keys from a Key, KeySet, JWK/JWKS mapping, or JWK, JWK Set, PEM
    or DER data.  Never an HMAC secret."""
    if isinstance(source, KeySet):
        return source
    if isinstance(source, Key):
        return KeySet([source])
    if isinstance(source, Mapping):
        return KeySet.from_jwks(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if data[:1] == b"\x30":
            return KeySet([Key.from_der(data)])
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            raise KeyFormatError("%s: not a JWK, JWK Set, PEM or DER key"
                                 % what) from None
    if not isinstance(source, str):
        raise TypeError("%s must be a Key, KeySet, JWK mapping, or"
                        " JWK/PEM text, got %s"
                        % (what, type(source).__name__))
    text = source.lstrip()
    if text.startswith("{"):
        return KeySet.from_jwks(text)
    if "-----BEGIN" in text:
        return KeySet(_pem_keys(text, None))
    raise KeyFormatError("%s: not a JWK, JWK Set or PEM key (an HMAC"
                         " secret must be given as Key.from_secret(bytes)"
                         " or an oct JWK)" % what)


def load_key(source: Any) -> Key:
    """Exactly one key from a Key, a JWK or one-key JWK Set (mapping or
    JSON text), PEM text or DER bytes.

    Raises KeyFormatError if the source holds no key or several.
    """
    keyset = _sniff_keys(source, "key")
    if len(keyset) != 1:
        raise KeyFormatError("expected exactly one key, found %d"
                             % len(keyset))
    return keyset[0]


def load_keys(source: Any) -> KeySet:
    """A KeySet from a KeySet, Key, JWK or JWK Set (mapping or JSON
    text), PEM text (every block) or DER bytes."""
    return _sniff_keys(source, "keys")


# ---- 6. HMAC: HS256, HS384, HS512 (RFC 7518 §3.2) ----


class _OctMaterial(_Material):
    """A symmetric secret (RFC 7518 §6.4)."""

    __slots__ = ("secret", "size")
    kty = "oct"
    is_private = True

    def __init__(self, secret: bytes):
        self.secret = secret
        self.size = 8 * len(secret)

    def public(self) -> "_Material":
        return self

    def jwk_members(self, private: bool) -> Dict[str, str]:
        return {"kty": "oct", "k": _b64u_encode(self.secret)}

    def thumbprint_members(self) -> Dict[str, str]:
        return self.jwk_members(True)


def _oct_from_jwk(jwk: Mapping[str, Any]) -> _OctMaterial:
    k = jwk.get("k")
    if not isinstance(k, str):
        raise KeyFormatError('JWK "k": expected a base64url string')
    secret = _b64u_decode(k, 'JWK "k"', KeyFormatError)
    if not secret:
        raise KeyFormatError('JWK "k": empty secret')
    return _OctMaterial(secret)


def _hmac_algorithm(name: str, hash_name: str) -> _Alg:
    digest_size = hashlib.new(hash_name).digest_size

    def sign(material: _OctMaterial, data: bytes) -> bytes:
        return hmac.digest(material.secret, data, hash_name)

    def verify(material: _OctMaterial, data: bytes, signature: bytes,
               strict: bool) -> bool:
        expected = hmac.digest(material.secret, data, hash_name)
        return hmac.compare_digest(expected, signature)

    # RFC 7518 §3.2: "A key of the same size as the hash output ... or
    # larger MUST be used with this algorithm."  Checked on both sides.
    def key_problem(material: _OctMaterial) -> Optional[str]:
        if len(material.secret) < digest_size:
            return "%s needs a secret of at least %d bytes, got %d" % (
                name, digest_size, len(material.secret))
        return None

    return _Alg(name, "oct", None, sign, verify, key_problem)


_JWK_PARSERS["oct"] = _oct_from_jwk
for _name, _hash in (("HS256", "sha256"), ("HS384", "sha384"),
                     ("HS512", "sha512")):
    _ALGORITHMS[_name] = _hmac_algorithm(_name, _hash)
del _name, _hash


# ---- 7. RSA keys (RFC 8017) ----


# ---- 8. RSASSA: RS256/384/512 and PS256/384/512 (RFC 7518 §3.3, §3.5) ----


# ---- 9. Short Weierstrass curves: P-256, P-384, P-521, secp256k1 ----


# ---- 10. ECDSA with RFC 6979 nonces: ES256/384/512, ES256K ----


# ---- 11a. edwards25519 arithmetic (RFC 8032 §5.1) ----
#
# Letters follow RFC 8032 §5.1: the field prime p, the curve
# -x^2 + y^2 = 1 + d*x^2*y^2 (a = -1), the base point B of prime order
# L, the cofactor 2^c (c = 3) and n = 254, the bit a clamped secret
# scalar always has set.  Points are (X, Y, Z, T) in extended
# coordinates (RFC 8032 §5.1.4: x = X/Z, y = Y/Z, x*y = T/Z); table
# entries are affine in the Niels form (y+x, y-x, 2*d*x*y), which
# turns an addition into seven multiplications (a "mixed" addition).
#
# Secret scalars go through _ed25519_base_mul only: one table addition
# per 8-bit window, zero digits included, so the sequence of field
# operations does not depend on the scalar.  What still leaks in
# CPython: the time of big-integer operations depends on their values
# (a product with small operands is faster), the table row entry read
# depends on the digit, and pow(Z, -1, p) is variable time.  Functions
# named *_vartime take public scalars only (verification).

_P25519 = 2 ** 255 - 19
_D25519 = int("52036cee2b6ffe738cc740797779e898"   # -121665/121666 mod p
              "00700a4d4141d8ab75eb4dca135978a3", 16)
_D2_25519 = 2 * _D25519 % _P25519
_L25519 = 2 ** 252 + 27742317777372353535851937790883648493
_SQRT_M1_25519 = int("2b8324804fc1df0b2b4d00993dfbd7a7"   # 2^((p-1)/4)
                     "2f431806ad2fe478c4ee1b274a0ea0b0", 16)
_B25519 = (                                          # y = 4/5, x even
    0x216936d3cd6e53fec0a4e231fdd6dc5c692cc7609525a7b2c9562d608f25d51a,
    0x6666666666666666666666666666666666666666666666666666666666666658)
_C25519 = 3
_N25519 = 254

# Extended (X, Y, Z, T) and affine Niels (y+x, y-x, 2dxy) points.
_Ext = Tuple[int, int, int, int]
_Niels = Tuple[int, int, int]
_ExtNiels = Tuple[int, int, int, int]      # (Y+X, Y-X, 2d*T, 2Z)
_NIELS_ZERO_25519 = (1, 1, 0)          # the neutral element (0, 1)

# Signed-digit window widths: the base-point table (built once, used
# to sign and verify) and per-key tables (built for keys that verify
# many tokens); wNAF width for a public key seen for the first time.
_W_BASE_25519 = 8
_W_KEY_25519 = 6
_W_NAF = 5
_SCALAR_BITS_25519 = 253               # every scalar here is < L < 2^253


def _ed25519_add(P: _Ext, Q: _Ext) -> _Ext:
    """P + Q (RFC 8032 §5.1.4 "add"; complete for edwards25519)."""
    p = _P25519
    X1, Y1, Z1, T1 = P
    X2, Y2, Z2, T2 = Q
    A = (Y1 - X1) * (Y2 - X2) % p
    B = (Y1 + X1) * (Y2 + X2) % p
    C = T1 * _D2_25519 % p * T2 % p
    D = Z1 * 2 * Z2 % p
    E = B - A
    F = D - C
    G = D + C
    H = B + A
    return E * F % p, G * H % p, F * G % p, E * H % p


def _ed25519_double(P: _Ext) -> _Ext:
    """[2]P (RFC 8032 §5.1.4 "double", dbl-2008-hwcd)."""
    p = _P25519
    X1, Y1, Z1, _ = P
    A = X1 * X1 % p
    B = Y1 * Y1 % p
    C = 2 * Z1 * Z1 % p
    H = A + B
    E = H - (X1 + Y1) * (X1 + Y1) % p
    G = A - B
    F = C + G
    return E * F % p, G * H % p, F * G % p, E * H % p


def _ed25519_affine(P: _Ext) -> Tuple[int, int]:
    """(x, y) of P; one inversion (variable time)."""
    p = _P25519
    X, Y, Z, _ = P
    zinv = pow(Z, -1, p)
    return X * zinv % p, Y * zinv % p


def _ed25519_encode(P: _Ext) -> bytes:
    """RFC 8032 §5.1.2: y little-endian, the low bit of x on top."""
    x, y = _ed25519_affine(P)
    return (y | (x & 1) << 255).to_bytes(32, "little")


def _ed25519_decode(data: bytes) -> Optional[Tuple[int, int]]:
    """RFC 8032 §5.1.3: (x, y), or None if ``data`` is not a canonical
    encoding of a point."""
    p = _P25519
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    x_0 = y >> 255
    y &= (1 << 255) - 1

    # Step 1.  Choice: a non-canonical y (y >= p, possible for 19
    # values) is refused, as the RFC says, so one point has one
    # encoding.
    if y >= p:
        return None

    # Step 2: x = u*v^3*(u*v^7)^((p-5)/8), the square root of u/v with
    # a single exponentiation.
    u = (y * y - 1) % p
    v = (_D25519 * y * y + 1) % p
    v3 = v * v % p * v % p
    x = u * v3 % p * pow(u * v3 % p * v3 % p * v % p,
                         (p - 5) // 8, p) % p

    # Step 3: x^2 is u/v or -u/v (then multiply by sqrt(-1)) or u/v
    # is not a square and there is no point.
    vx2 = v * x % p * x % p
    if vx2 != u:
        if vx2 != p - u:
            return None
        x = x * _SQRT_M1_25519 % p

    # Step 4: x = 0 has one encoding only (sign bit clear).
    if x == 0 and x_0:
        return None
    if x & 1 != x_0:
        x = p - x
    return x, y


def _ed25519_small_order(x: int, y: int) -> bool:
    """True if (x, y) is in the 8-torsion (order 1, 2, 4 or 8).

    Order 1 and 2: x = 0.  Order 4: y = 0.  Order 8: [2]P has order 4,
    and y([2]P) = (y^2 + x^2)/(2 + x^2 - y^2) on this curve, so
    x^2 + y^2 = 0.  No point of larger order meets any of the three.
    """
    return x == 0 or y == 0 or (x * x + y * y) % _P25519 == 0


def _ed25519_niels(points: List[_Ext]) -> List[_Niels]:
    """Affine Niels forms of ``points``: one inversion for all of them
    (Montgomery's trick: invert the product, peel off each Z)."""
    p = _P25519
    prefix = []
    acc = 1
    for point in points:
        prefix.append(acc)
        acc = acc * point[2] % p
    inv = pow(acc, -1, p)
    out = [_NIELS_ZERO_25519] * len(points)
    for i in range(len(points) - 1, -1, -1):
        X, Y, Z, _ = points[i]
        zinv = inv * prefix[i] % p
        inv = inv * Z % p
        x = X * zinv % p
        y = Y * zinv % p
        out[i] = ((y + x) % p, (y - x) % p, x * y % p * _D2_25519 % p)
    return out


def _ed25519_table(P: _Ext, w: int) -> List[List[_Niels]]:
    """Signed-digit table of P: row i holds [j*2^(w*i)]P for digits j
    in [-2^(w-1), 2^(w-1)), laid out so that ``row[j]`` works for
    negative j too (Python's negative indexing); row[0] is the
    neutral element.  bits//w + 1 rows cover every scalar < 2^253."""
    p = _P25519
    half = 1 << (w - 1)
    rows = []
    base = P
    for _ in range(_SCALAR_BITS_25519 // w + 1):
        multiples = [base]
        for _ in range(half - 1):
            multiples.append(_ed25519_add(multiples[-1], base))
        niels = _ed25519_niels(multiples)

        row = [_NIELS_ZERO_25519] * (2 * half)
        for j in range(1, half + 1):
            ypx, ymx, xy2d = niels[j - 1]
            if j < half:
                row[j] = niels[j - 1]
            row[-j] = (ymx, ypx, (p - xy2d) % p)     # -(x, y) = (-x, y)
        rows.append(row)
        base = _ed25519_double(multiples[-1])        # [2^w] base
    return rows


_ed25519_base_rows = None   # type: Optional[List[List[_Niels]]]
_ED_TABLE_LOCK = threading.Lock()


def _ed25519_base_table() -> List[List[_Niels]]:
    """The table of B, built at first use (about 30 ms)."""
    global _ed25519_base_rows
    if _ed25519_base_rows is None:
        with _ED_TABLE_LOCK:
            if _ed25519_base_rows is None:
                x, y = _B25519
                _ed25519_base_rows = _ed25519_table(
                    (x, y, 1, x * y % _P25519), _W_BASE_25519)
    return _ed25519_base_rows


def _ed25519_base_mul(k: int) -> _Ext:
    """[k]B for a secret 0 <= k < 2^253, as a fixed sequence.

    Every 8-bit window adds one table entry, the neutral element for a
    zero digit, so there are always 32 mixed additions; digit recoding
    is branch-free arithmetic.  See the section comment for what still
    leaks.  Guarded by the RFC 8032 vectors (test_eddsa) and by
    test_base_mul_matches_textbook (test_edwards).
    """
    p = _P25519
    X, Y, Z, T = 0, 1, 1, 0
    carry = 0
    for row in _ed25519_base_table():
        # Signed digit in [-128, 127]; the carry moves up one window.
        digit = (k & 255) + carry
        k >>= 8
        carry = (digit + 128) >> 8
        digit -= carry << 8
        ypx, ymx, xy2d = row[digit]

        # RFC 8032 §5.1.4 "add" with Z2 = 1 and a Niels entry.
        A = (Y - X) * ymx % p
        B = (Y + X) * ypx % p
        C = T * xy2d % p
        D = Z + Z
        E = B - A
        F = D - C
        G = D + C
        H = B + A
        X = E * F % p
        Y = G * H % p
        T = E * H % p
        Z = F * G % p
    return X, Y, Z, T


def _ed25519_add_rows_vartime(P: _Ext, k: int, rows: List[List[_Niels]],
                              w: int) -> _Ext:
    """P + [k]Q, Q the point of the signed-digit table ``rows``.
    Zero digits are skipped: for public k only."""
    p = _P25519
    X, Y, Z, T = P
    mask = (1 << w) - 1
    half = 1 << (w - 1)
    carry = 0
    for row in rows:
        digit = (k & mask) + carry
        k >>= w
        carry = (digit + half) >> w
        digit -= carry << w
        if not digit:
            continue
        ypx, ymx, xy2d = row[digit]

        # RFC 8032 §5.1.4 "add" with Z2 = 1 and a Niels entry.
        A = (Y - X) * ymx % p
        B = (Y + X) * ypx % p
        C = T * xy2d % p
        D = Z + Z
        E = B - A
        F = D - C
        G = D + C
        H = B + A
        X = E * F % p
        Y = G * H % p
        T = E * H % p
        Z = F * G % p
    return X, Y, Z, T


def _wnaf_vartime(k: int, w: int) -> List[int]:
    """Width-w NAF of k >= 0, least significant digit first: digits
    are 0 or odd in (-2^(w-1), 2^(w-1)), and any w consecutive digits
    hold at most one non-zero."""
    digits = []
    full = 1 << w
    half = full >> 1
    while k:
        digit = 0
        if k & 1:
            digit = k & (full - 1)
            if digit >= half:
                digit -= full
            k -= digit
        digits.append(digit)
        k >>= 1
    return digits


def _ed25519_odd_multiples(P: _Ext) -> List[_ExtNiels]:
    """Q, 3Q, ..., 15Q and their negatives for wNAF digits, indexed by
    the digit itself (negative digits index from the end), in the form
    (Y+X, Y-X, 2d*T, 2Z): no inversion, one more multiplication per
    addition, which pays for a key used a few times only."""
    p = _P25519
    half = 1 << (_W_NAF - 1)
    P2 = _ed25519_double(P)
    multiples = [P]
    for _ in range(half // 2 - 1):
        multiples.append(_ed25519_add(multiples[-1], P2))
    row = [(1, 1, 0, 2)] * (2 * half)
    for i, (X, Y, Z, T) in enumerate(multiples):
        ypx = (Y + X) % p
        ymx = (Y - X) % p
        t2d = T * _D2_25519 % p
        z2 = 2 * Z % p
        row[2 * i + 1] = (ypx, ymx, t2d, z2)
        row[-2 * i - 1] = (ymx, ypx, (p - t2d) % p, z2)
    return row


def _ed25519_mul_add_vartime(S: int, k: int, odd: List[_ExtNiels]
                             ) -> _Ext:
    """[S]B + [k]Q for public S, k < 2^253, Q given by its odd
    multiples: wNAF for [k]Q (253 doublings), then the B table."""
    p = _P25519
    X, Y, Z = 0, 1, 1
    for digit in reversed(_wnaf_vartime(k, _W_NAF)):
        # RFC 8032 §5.1.4 "double"; T only when an addition follows
        # (the doubling formula does not read T).
        A = X * X % p
        B = Y * Y % p
        C = 2 * Z * Z % p
        H = A + B
        E = H - (X + Y) * (X + Y) % p
        G = A - B
        F = C + G
        X = E * F % p
        Y = G * H % p
        Z = F * G % p
        if not digit:
            continue
        T = E * H % p

        # RFC 8032 §5.1.4 "add"; no T for the doubling that comes
        # next.
        ypx, ymx, t2d, z2 = odd[digit]
        A = (Y - X) * ymx % p
        B = (Y + X) * ypx % p
        C = T * t2d % p
        D = Z * z2 % p
        E = B - A
        F = D - C
        G = D + C
        H = B + A
        X = E * F % p
        Y = G * H % p
        Z = F * G % p

    # The T the B-table additions need: scale (X, Y, Z) by Z, giving
    # T = X*Y without an inversion.
    P = (X * Z % p, Y * Z % p, Z * Z % p, X * Y % p)
    return _ed25519_add_rows_vartime(P, S, _ed25519_base_table(),
                                     _W_BASE_25519)


def _ed25519_mul_add_table_vartime(S: int, k: int,
                                   rows: List[List[_Niels]]) -> _Ext:
    """[S]B + [k]Q with a signed-digit table of Q: no doublings."""
    P = _ed25519_add_rows_vartime((0, 1, 1, 0), S, _ed25519_base_table(),
                                  _W_BASE_25519)
    return _ed25519_add_rows_vartime(P, k, rows, _W_KEY_25519)


# ---- 11b. edwards448 arithmetic (RFC 8032 §5.2) ----
#
# Letters follow RFC 8032 §5.2: the field prime p, the untwisted curve
# x^2 + y^2 = 1 + d*x^2*y^2 (a = 1, d = -39081), the base point B of
# prime order L, the cofactor 2^c (c = 2) and n = 447, the bit a
# clamped secret scalar always has set.  Points are (X, Y, Z) in
# projective coordinates (RFC 8032 §5.2.4: x = X/Z, y = Y/Z); table
# entries are affine (x, y), added with Z2 = 1.  The timing remarks
# of section 11a hold here too.

_P448 = 2 ** 448 - 2 ** 224 - 1
_D448 = -39081
_L448 = 2 ** 446 - int("8335dc163bb124b65129c96fde933d8d"
                       "723a70aadc873d6d54a7bb0d", 16)
_B448 = (int("4f1970c66bed0ded221d15a622bf36da9e146570470f1767ea6de324"
             "a3d3a46412ae1af72ab66511433b80e18b00938e2626a82bc70cc05e",
             16),
         int("693f46716eb6bc248876203756c9c7624bea73736ca3984087789c1e"
             "05a0c2d73ad3ff1ce67c39c4fdbd132c4ed7c8ad9808795bf230fa14",
             16))
_C448 = 2
_N448 = 447

_Proj = Tuple[int, int, int]
_Affine = Tuple[int, int]
_AFFINE_ZERO_448 = (0, 1)

_W_BASE_448 = 8
_W_KEY_448 = 6
_SCALAR_BITS_448 = 446                 # every scalar here is < L < 2^446


def _ed448_add(P: _Proj, Q: _Proj) -> _Proj:
    """P + Q (RFC 8032 §5.2.4 "add"; complete for edwards448)."""
    p = _P448
    X1, Y1, Z1 = P
    X2, Y2, Z2 = Q
    A = Z1 * Z2 % p
    B = A * A % p
    C = X1 * X2 % p
    D = Y1 * Y2 % p
    E = _D448 * C * D % p
    F = B - E
    G = B + E
    H = (X1 + Y1) * (X2 + Y2) % p
    X3 = A * F % p * (H - C - D) % p
    Y3 = A * G % p * (D - C) % p
    Z3 = F * G % p
    return X3, Y3, Z3


def _ed448_double(P: _Proj) -> _Proj:
    """[2]P (RFC 8032 §5.2.4 "double")."""
    p = _P448
    X1, Y1, Z1 = P
    B = (X1 + Y1) * (X1 + Y1) % p
    C = X1 * X1 % p
    D = Y1 * Y1 % p
    E = C + D
    H = Z1 * Z1 % p
    J = E - 2 * H
    X3 = (B - E) * J % p
    Y3 = E * (C - D) % p
    Z3 = E * J % p
    return X3, Y3, Z3


def _ed448_affine(P: _Proj) -> _Affine:
    """(x, y) of P; one inversion (variable time)."""
    p = _P448
    X, Y, Z = P
    zinv = pow(Z, -1, p)
    return X * zinv % p, Y * zinv % p


def _ed448_encode(P: _Proj) -> bytes:
    """RFC 8032 §5.2.2: y little-endian in 57 octets, the low bit of x
    in the top bit of the last octet."""
    x, y = _ed448_affine(P)
    return (y | (x & 1) << 455).to_bytes(57, "little")


def _ed448_decode(data: bytes) -> Optional[_Affine]:
    """RFC 8032 §5.2.3: (x, y), or None if ``data`` is not a canonical
    encoding of a point."""
    p = _P448
    if len(data) != 57:
        return None
    y = int.from_bytes(data, "little")
    x_0 = y >> 455
    y &= (1 << 455) - 1

    # Step 1.  Choice: y >= p is refused (the RFC's rule), which also
    # refuses any of the seven spare bits 448-454 being set.
    if y >= p:
        return None

    # Step 2: x = u^3*v*(u^5*v^3)^((p-3)/4), the square root of u/v
    # with a single exponentiation (p = 3 mod 4).
    u = (y * y - 1) % p
    v = (_D448 * y * y - 1) % p
    u2 = u * u % p
    u3v = u2 * u % p * v % p
    x = u3v * pow(u3v * u2 % p * v % p * v % p, (p - 3) // 4, p) % p

    # Step 3: no square root means no point.
    if v * x % p * x % p != u:
        return None

    # Step 4: x = 0 has one encoding only (sign bit clear).
    if x == 0 and x_0:
        return None
    if x & 1 != x_0:
        x = p - x
    return x, y


def _ed448_small_order(x: int, y: int) -> bool:
    """True if (x, y) is in the 4-torsion: (0, 1), (0, -1), (1, 0),
    (-1, 0) -- those with x = 0 or y = 0."""
    return x == 0 or y == 0


def _ed448_normalize(points: List[_Proj]) -> List[_Affine]:
    """Affine forms of ``points`` with one inversion (Montgomery's
    trick)."""
    p = _P448
    prefix = []
    acc = 1
    for point in points:
        prefix.append(acc)
        acc = acc * point[2] % p
    inv = pow(acc, -1, p)
    out = [_AFFINE_ZERO_448] * len(points)
    for i in range(len(points) - 1, -1, -1):
        X, Y, Z = points[i]
        zinv = inv * prefix[i] % p
        inv = inv * Z % p
        out[i] = (X * zinv % p, Y * zinv % p)
    return out


def _ed448_table(P: _Proj, w: int) -> List[List[_Affine]]:
    """Signed-digit table of P, laid out as in _ed25519_table:
    ``row[j]`` is [j*2^(w*i)]P for j in [-2^(w-1), 2^(w-1))."""
    p = _P448
    half = 1 << (w - 1)
    rows = []
    base = P
    for _ in range(_SCALAR_BITS_448 // w + 1):
        multiples = [base]
        for _ in range(half - 1):
            multiples.append(_ed448_add(multiples[-1], base))
        affine = _ed448_normalize(multiples)

        row = [_AFFINE_ZERO_448] * (2 * half)
        for j in range(1, half + 1):
            x, y = affine[j - 1]
            if j < half:
                row[j] = affine[j - 1]
            row[-j] = ((p - x) % p, y)               # -(x, y) = (-x, y)
        rows.append(row)
        base = _ed448_double(multiples[-1])          # [2^w] base
    return rows


_ed448_base_rows = None   # type: Optional[List[List[_Affine]]]


def _ed448_base_table() -> List[List[_Affine]]:
    """The table of B, built at first use (about 90 ms)."""
    global _ed448_base_rows
    if _ed448_base_rows is None:
        with _ED_TABLE_LOCK:
            if _ed448_base_rows is None:
                _ed448_base_rows = _ed448_table(_B448 + (1,), _W_BASE_448)
    return _ed448_base_rows


def _ed448_base_mul(k: int) -> _Proj:
    """[k]B for a secret 0 <= k < 2^446, as a fixed sequence: 56 mixed
    additions, one per 8-bit window (see _ed25519_base_mul)."""
    p = _P448
    d = _D448
    X, Y, Z = 0, 1, 1
    carry = 0
    for row in _ed448_base_table():
        digit = (k & 255) + carry
        k >>= 8
        carry = (digit + 128) >> 8
        digit -= carry << 8
        x2, y2 = row[digit]

        # RFC 8032 §5.2.4 "add" with Z2 = 1, so A = Z1.
        B = Z * Z % p
        C = X * x2 % p
        D = Y * y2 % p
        E = d * C * D % p
        F = B - E
        G = B + E
        H = (X + Y) * (x2 + y2) % p
        X = Z * F % p * (H - C - D) % p
        Y = Z * G % p * (D - C) % p
        Z = F * G % p
    return X, Y, Z


def _ed448_add_rows_vartime(P: _Proj, k: int, rows: List[List[_Affine]],
                            w: int) -> _Proj:
    """P + [k]Q, Q the point of the signed-digit table ``rows``.
    Zero digits are skipped: for public k only."""
    p = _P448
    d = _D448
    X, Y, Z = P
    mask = (1 << w) - 1
    half = 1 << (w - 1)
    carry = 0
    for row in rows:
        digit = (k & mask) + carry
        k >>= w
        carry = (digit + half) >> w
        digit -= carry << w
        if not digit:
            continue
        x2, y2 = row[digit]

        # RFC 8032 §5.2.4 "add" with Z2 = 1, so A = Z1.
        B = Z * Z % p
        C = X * x2 % p
        D = Y * y2 % p
        E = d * C * D % p
        F = B - E
        G = B + E
        H = (X + Y) * (x2 + y2) % p
        X = Z * F % p * (H - C - D) % p
        Y = Z * G % p * (D - C) % p
        Z = F * G % p
    return X, Y, Z


def _ed448_odd_multiples(P: _Proj) -> List[_Affine]:
    """Q, 3Q, ..., 15Q and their negatives, indexed by wNAF digit."""
    p = _P448
    half = 1 << (_W_NAF - 1)
    P2 = _ed448_double(P)
    multiples = [P]
    for _ in range(half // 2 - 1):
        multiples.append(_ed448_add(multiples[-1], P2))
    row = [_AFFINE_ZERO_448] * (2 * half)
    for i, (x, y) in enumerate(_ed448_normalize(multiples)):
        row[2 * i + 1] = (x, y)
        row[-2 * i - 1] = ((p - x) % p, y)
    return row


def _ed448_mul_add_vartime(S: int, k: int, odd: List[_Affine]) -> _Proj:
    """[S]B + [k]Q for public S, k < 2^446, Q given by its odd
    multiples: wNAF for [k]Q (446 doublings), then the B table."""
    p = _P448
    d = _D448
    X, Y, Z = 0, 1, 1
    for digit in reversed(_wnaf_vartime(k, _W_NAF)):
        # RFC 8032 §5.2.4 "double".
        B = (X + Y) * (X + Y) % p
        C = X * X % p
        D = Y * Y % p
        E = C + D
        H = Z * Z % p
        J = E - 2 * H
        X = (B - E) * J % p
        Y = E * (C - D) % p
        Z = E * J % p
        if not digit:
            continue

        # RFC 8032 §5.2.4 "add" with Z2 = 1, so A = Z1.
        x2, y2 = odd[digit]
        B = Z * Z % p
        C = X * x2 % p
        D = Y * y2 % p
        E = d * C * D % p
        F = B - E
        G = B + E
        H = (X + Y) * (x2 + y2) % p
        X = Z * F % p * (H - C - D) % p
        Y = Z * G % p * (D - C) % p
        Z = F * G % p
    return _ed448_add_rows_vartime((X, Y, Z), S, _ed448_base_table(),
                                   _W_BASE_448)


def _ed448_mul_add_table_vartime(S: int, k: int,
                                 rows: List[List[_Affine]]) -> _Proj:
    """[S]B + [k]Q with a signed-digit table of Q: no doublings."""
    P = _ed448_add_rows_vartime((0, 1, 1), S, _ed448_base_table(),
                                _W_BASE_448)
    return _ed448_add_rows_vartime(P, k, rows, _W_KEY_448)


# ---- 11c. EdDSA and OKP keys: Ed25519, Ed448 (RFC 8032, RFC 8037) ----
#
# Pure EdDSA only (RFC 8037 §3.1: empty context, no prehash), under the
# JWS names EdDSA (RFC 8037 §3.1, either curve) and Ed25519 / Ed448
# (RFC 9864, one curve each).  Letters as in RFC 8032 §5.1.6:
# secret scalar s and prefix from the seed, public key A = [s]B, nonce
# r, signature (R, S), challenge k = H(R || A || M) mod L.
#
# Public keys are validated when loaded (RFC 8032 §5.1.3 / §5.2.3
# decoding, and see the small-order Choice below).  Verification looks
# the decoded key up in a small LRU keyed by its encoding, and gives a
# key that verifies more than _ED_TABLE_AFTER tokens a signed-digit
# table of its own (no doublings at all), for at most _ED_TABLE_SLOTS
# keys at once.


class _EdCurve(NamedTuple):
    """One EdDSA instance: its sizes, hash and curve operations."""

    name: str
    size: int                 # bits of an encoded point (JWK "size")
    length: int               # octets of a key, a point and of S
    oid: str                  # RFC 8410 §3
    L: int
    # H(parts...) as a little-endian integer (RFC 8032 §5.1 / §5.2).
    hash: Callable[..., int]
    # seed -> (s, prefix) (RFC 8032 §5.1.5 / §5.2.5).
    expand: Callable[[bytes], Tuple[int, bytes]]
    base_mul: Callable[[int], Any]
    affine: Callable[[Any], Tuple[int, int]]
    decode: Callable[[bytes], Optional[Tuple[int, int]]]
    small_order: Callable[[int, int], bool]
    # (x, y) of A -> -A in the curve's point representation.
    negate: Callable[[int, int], Any]
    odd_multiples: Callable[[Any], Any]
    key_table: Callable[[Any], Any]
    mul_add_vartime: Callable[[int, int, Any], Any]
    mul_add_table_vartime: Callable[[int, int, Any], Any]


def _ed25519_hash(*parts: bytes) -> int:
    h = hashlib.sha512()
    for part in parts:
        h.update(part)
    return int.from_bytes(h.digest(), "little")


def _ed25519_expand(seed: bytes) -> Tuple[int, bytes]:
    """RFC 8032 §5.1.5 steps 1-2: hash the seed, clamp the low half.
    Guarded by the RFC 8032 §7.1 vectors (test_eddsa)."""
    h = hashlib.sha512(seed).digest()
    s = int.from_bytes(h[:32], "little")
    s = s & ((1 << 254) - 8) | 1 << 254
    return s, h[32:]


# dom4(0, "") (RFC 8032 §5.2): pure Ed448, empty context.
_DOM4_PURE = b"SigEd448\x00\x00"


def _ed448_hash(*parts: bytes) -> int:
    h = hashlib.shake_256(_DOM4_PURE)
    for part in parts:
        h.update(part)
    return int.from_bytes(h.digest(114), "little")


def _ed448_expand(seed: bytes) -> Tuple[int, bytes]:
    """RFC 8032 §5.2.5 steps 1-2 (no dom4 here).  Guarded by the RFC
    8032 §7.4 vectors (test_eddsa)."""
    h = hashlib.shake_256(seed).digest(114)
    s = int.from_bytes(h[:57], "little")
    s = s & ((1 << 447) - 4) | 1 << 447
    return s, h[57:]


def _ed25519_negate(x: int, y: int) -> _Ext:
    p = _P25519
    return p - x, y, 1, (p - x) * y % p


def _ed448_negate(x: int, y: int) -> _Proj:
    return _P448 - x, y, 1


_ED25519 = _EdCurve(
    "Ed25519", 256, 32, "1.3.101.112", _L25519, _ed25519_hash,
    _ed25519_expand, _ed25519_base_mul, _ed25519_affine, _ed25519_decode,
    _ed25519_small_order, _ed25519_negate, _ed25519_odd_multiples,
    lambda P: _ed25519_table(P, _W_KEY_25519), _ed25519_mul_add_vartime,
    _ed25519_mul_add_table_vartime)
_ED448 = _EdCurve(
    "Ed448", 456, 57, "1.3.101.113", _L448, _ed448_hash, _ed448_expand,
    _ed448_base_mul, _ed448_affine, _ed448_decode, _ed448_small_order,
    _ed448_negate, _ed448_odd_multiples,
    lambda P: _ed448_table(P, _W_KEY_448), _ed448_mul_add_vartime,
    _ed448_mul_add_table_vartime)
_ED_CURVES = {"Ed25519": _ED25519, "Ed448": _ED448}
_ED_KEY_AGREEMENT = {"X25519": "1.3.101.110", "X448": "1.3.101.111"}


def _ed_encode_xy(curve: _EdCurve, x: int, y: int) -> bytes:
    """RFC 8032 §5.1.2 / §5.2.2: y, with the low bit of x on top."""
    bits = 8 * curve.length - 1
    return (y | (x & 1) << bits).to_bytes(curve.length, "little")


def _ed_public_bytes(curve: _EdCurve, s: int) -> bytes:
    """A = [s]B, encoded (RFC 8032 §5.1.5 step 3 / §5.2.5 step 3)."""
    x, y = curve.affine(curve.base_mul(s % curve.L))
    return _ed_encode_xy(curve, x, y)


def _ed_sign(curve: _EdCurve, s: int, prefix: bytes, A_bytes: bytes,
             M: bytes) -> bytes:
    """Pure EdDSA signature R || S (RFC 8032 §5.1.6 / §5.2.6)."""
    L = curve.L

    # Step 2: the deterministic nonce r = H(prefix || M) mod L.
    r = curve.hash(prefix, M) % L

    # Step 3: R = [r]B through the fixed-sequence loop (r is secret).
    x, y = curve.affine(curve.base_mul(r))
    R_bytes = _ed_encode_xy(curve, x, y)

    # Steps 4-5: k = H(R || A || M) mod L and S = (r + k*s) mod L.
    k = curve.hash(R_bytes, A_bytes, M) % L
    S = (r + k * s) % L
    return R_bytes + S.to_bytes(curve.length, "little")


_ED_KEY_CACHE_SIZE = 64     # decoded public keys kept
_ED_TABLE_AFTER = 3         # verifications before a key gets a table
_ED_TABLE_SLOTS = 4         # keys holding a table at once (< 1 MB each)

# (crv, A_bytes) -> [(x, y), odd multiples of -A or None, uses,
#                    table of -A or None]
_ed_keys = OrderedDict()  # type: OrderedDict[Tuple[str, bytes], List[Any]]
# The keys of _ed_keys whose entry holds a table, oldest first.
_ed_tabled = OrderedDict()   # type: OrderedDict[Tuple[str, bytes], None]
_ED_CACHE_LOCK = threading.Lock()


def _ed_key_entry(curve: _EdCurve, A_bytes: bytes) -> Optional[List[Any]]:
    """The cache entry of public key ``A_bytes`` (decoding it on a
    miss), or None if it does not decode."""
    cache_key = (curve.name, A_bytes)
    with _ED_CACHE_LOCK:
        entry = _ed_keys.get(cache_key)
        if entry is not None:
            _ed_keys.move_to_end(cache_key)
            return entry

    point = curve.decode(A_bytes)
    if point is None:
        return None
    entry = [point, None, 0, None]
    with _ED_CACHE_LOCK:
        _ed_keys[cache_key] = entry
        if len(_ed_keys) > _ED_KEY_CACHE_SIZE:
            evicted, _ = _ed_keys.popitem(last=False)
            _ed_tabled.pop(evicted, None)
    return entry


def _ed_verify_data(curve: _EdCurve, entry: List[Any], A_bytes: bytes
                    ) -> Tuple[Any, Any]:
    """(odd multiples, None) or (None, table) of -A for one more
    verification, building the per-key table once A is a regular.

    Threads may race on the count or build a table twice: harmless,
    the count only decides when to build and both tables are equal.
    """
    entry[2] += 1
    if entry[3] is not None:
        return None, entry[3]
    minus_A = curve.negate(*entry[0])
    if entry[2] > _ED_TABLE_AFTER:
        table = curve.key_table(minus_A)
        entry[3] = table
        cache_key = (curve.name, A_bytes)
        with _ED_CACHE_LOCK:
            _ed_tabled[cache_key] = None
            if len(_ed_tabled) > _ED_TABLE_SLOTS:
                evicted, _ = _ed_tabled.popitem(last=False)
                old = _ed_keys.get(evicted)
                if old is not None:
                    old[3] = None
        return None, table
    if entry[1] is None:
        entry[1] = curve.odd_multiples(minus_A)
    return entry[1], None


def _eddsa_clear_caches() -> None:
    """Forget every cached public key and per-key table (the tables of
    the base points stay).  For tests and for timing fresh keys."""
    with _ED_CACHE_LOCK:
        _ed_keys.clear()
        _ed_tabled.clear()


def _ed_verify(curve: _EdCurve, A_bytes: bytes, M: bytes,
               signature: bytes) -> bool:
    """Pure EdDSA verification (RFC 8032 §5.1.7 / §5.2.7)."""
    n = curve.length
    L = curve.L

    # Step 1.  Deviation: RFC 8032 §6's reference code builds the
    # length error without raising it and accepts a signature with
    # bytes appended; the text (a 2b-bit string) is exact, and so are
    # we.  Test: test_rfc8032_section6_unraised_length_error.
    if len(signature) != 2 * n:
        return False
    R_bytes = signature[:n]
    S = int.from_bytes(signature[n:], "little")

    # Step 1: S must be < L, or (R, S + L) would be a second valid
    # signature of the same message (malleability).
    if S >= L:
        return False

    entry = _ed_key_entry(curve, A_bytes)
    if entry is None:
        return False

    # Step 2: k = H(R || A || M) mod L.
    k = curve.hash(R_bytes, A_bytes, M) % L

    # Step 3.  Choice: the cofactorless equation [S]B = R + [k]A, as
    # OpenSSL and Go check it (RFC 8032 allows it: "sufficient, but
    # not required").  Computed as R' = [S]B + [k](-A) and compared with
    # the R octets by encoding R', so R is never decoded: a
    # non-canonical R never matches.
    odd, table = _ed_verify_data(curve, entry, A_bytes)
    if table is not None:
        P = curve.mul_add_table_vartime(S, k, table)
    else:
        P = curve.mul_add_vartime(S, k, odd)
    x, y = curve.affine(P)
    if _ed_encode_xy(curve, x, y) != R_bytes:
        return False

    # Choice: a small-order R is refused (as libsodium does).  With a
    # prime-order A it could only match if [S]B = [k]A, which needs the
    # secret key anyway; refusing it keeps the rule simple.
    return not curve.small_order(x, y)


class _OKPMaterial(_Material):
    """An EdDSA key (RFC 8037 §2): the encoded public key ``x`` and,
    for a private key, the seed ``d`` with its expansion."""

    __slots__ = ("curve", "x", "d", "_s", "_prefix")
    kty = "OKP"

    def __init__(self, curve: _EdCurve, x: bytes,
                 d: Optional[bytes] = None, s: int = 0,
                 prefix: bytes = b""):
        self.curve = curve
        self.x = x
        self.d = d
        self._s = s
        self._prefix = prefix

    crv = property(lambda self: self.curve.name)
    size = property(lambda self: self.curve.size)
    is_private = property(lambda self: self.d is not None)

    def public(self) -> "_Material":
        return _OKPMaterial(self.curve, self.x)

    def jwk_members(self, private: bool) -> Dict[str, str]:
        jwk = {"kty": "OKP", "crv": self.curve.name,
               "x": _b64u_encode(self.x)}
        if private and self.d is not None:
            jwk["d"] = _b64u_encode(self.d)
        return jwk

    def thumbprint_members(self) -> Dict[str, str]:
        # RFC 8037 §2: the required members are crv, kty and x.
        return {"crv": self.curve.name, "kty": "OKP",
                "x": _b64u_encode(self.x)}

    def to_der(self, private: bool) -> Tuple[str, bytes]:
        # RFC 8410 §3: the AlgorithmIdentifier has no parameters.
        algorithm = _der_seq(_der_oid(self.curve.oid))
        if private and self.d is not None:
            # RFC 8410 §7: privateKey wraps CurvePrivateKey, itself an
            # OCTET STRING holding the seed.
            return "PRIVATE KEY", _der_seq(
                _der_int(0), algorithm, _der_octets(_der_octets(self.d)))
        return "PUBLIC KEY", _der_seq(algorithm, _der_bits(self.x))


def _okp_from_seed(curve: _EdCurve, seed: bytes) -> _OKPMaterial:
    """A private key from its seed (RFC 8032 §5.1.5 / §5.2.5)."""
    s, prefix = curve.expand(seed)
    return _OKPMaterial(curve, _ed_public_bytes(curve, s), seed, s, prefix)


def _okp_from_public(curve: _EdCurve, x: bytes, what: str
                     ) -> _OKPMaterial:
    """A public key, validated (DESIGN §2): a canonical encoding of a
    curve point, not of small order."""
    entry = _ed_key_entry(curve, x)
    if entry is None:
        raise InvalidKeyError("%s: not a canonical encoding of an %s"
                              " point" % (what, curve.name))

    # Choice: a small-order public key (the 8 points of the
    # edwards25519 torsion, the 4 of edwards448) is refused, as
    # libsodium does: with it one signature fits every message, under
    # our cofactorless check or any other.  Mixed-order keys (a torsion
    # part added to a real key) are not searched for: that costs a
    # full multiplication by L, and their owner alone can sign.
    if curve.small_order(*entry[0]):
        raise InvalidKeyError("%s: a small-order %s point cannot be a"
                              " public key" % (what, curve.name))
    return _OKPMaterial(curve, x)


def _okp_curve(crv: Any) -> _EdCurve:
    if not isinstance(crv, str):
        raise KeyFormatError('JWK "crv": expected a string, got %s'
                             % _json_type_name(crv))
    curve = _ED_CURVES.get(crv)
    if curve is None:
        if crv in _ED_KEY_AGREEMENT:
            raise InvalidKeyError('JWK "crv": %s is a key-agreement curve'
                                  ' (RFC 8037 §3.2), not a signature'
                                  ' curve' % crv)
        raise InvalidKeyError('JWK "crv": %r is not supported for OKP'
                              ' keys' % crv[:32])
    return curve


def _okp_octets(jwk: Mapping[str, Any], name: str, curve: _EdCurve
                ) -> bytes:
    value = jwk[name]
    if not isinstance(value, str):
        raise KeyFormatError('JWK "%s": expected a base64url string, got'
                             ' %s' % (name, _json_type_name(value)))
    raw = _b64u_decode(value, 'JWK "%s"' % name, KeyFormatError)
    if len(raw) != curve.length:
        raise KeyFormatError('JWK "%s": %d octets, expected %d for %s'
                             % (name, len(raw), curve.length, curve.name))
    return raw


def _okp_from_jwk(jwk: Mapping[str, Any]) -> _OKPMaterial:
    """An OKP JWK (RFC 8037 §2): crv, x and, if private, d."""
    if "crv" not in jwk:
        raise KeyFormatError('JWK: no "crv"')
    curve = _okp_curve(jwk["crv"])
    if "d" in jwk:
        # A private JWK with d only derives x; a given x must match.
        material = _okp_from_seed(curve, _okp_octets(jwk, "d", curve))
        if "x" in jwk and _okp_octets(jwk, "x", curve) != material.x:
            raise InvalidKeyError('JWK "x" is not the public key of "d"')
        return material
    if "x" not in jwk:
        raise KeyFormatError('JWK: no "x"')
    return _okp_from_public(curve, _okp_octets(jwk, "x", curve), 'JWK "x"')


def _okp_spki_parser(curve: _EdCurve) -> Callable[..., _OKPMaterial]:
    def parse(params: Optional[_DERItem], public: bytes) -> _OKPMaterial:
        what = "%s SubjectPublicKeyInfo" % curve.name
        if params is not None:
            raise KeyFormatError("%s: parameters must be absent (RFC 8410"
                                 " §3)" % what)
        if len(public) != curve.length:
            raise KeyFormatError("%s: public key of %d octets, expected %d"
                                 % (what, len(public), curve.length))
        return _okp_from_public(curve, public, what)
    return parse


def _okp_pkcs8_parser(curve: _EdCurve) -> Callable[..., _OKPMaterial]:
    def parse(params: Optional[_DERItem], private: bytes,
              public: Optional[bytes]) -> _OKPMaterial:
        what = "%s PKCS#8 private key" % curve.name
        if params is not None:
            raise KeyFormatError("%s: parameters must be absent (RFC 8410"
                                 " §3)" % what)

        # RFC 8410 §7: CurvePrivateKey ::= OCTET STRING, the seed.
        seed = _der_expect(_der_decode(private, what), _DER_OCTET_STRING,
                           what + " CurvePrivateKey")
        if len(seed) != curve.length:
            raise KeyFormatError("%s: seed of %d octets, expected %d"
                                 % (what, len(seed), curve.length))
        material = _okp_from_seed(curve, seed)

        # RFC 5958 §2 v2: a publicKey, when present, must be ours.
        if public is not None and public != material.x:
            raise InvalidKeyError("%s: publicKey is not the public key of"
                                  " the seed" % what)
        return material
    return parse


def _okp_key_agreement_parser(crv: str) -> Callable[..., Any]:
    def parse(*_: Any) -> Any:
        raise InvalidKeyError("%s is a key-agreement curve (RFC 8410),"
                              " not a signature curve" % crv)
    return parse


def _eddsa_sign(material: _OKPMaterial, data: bytes) -> bytes:
    return _ed_sign(material.curve, material._s, material._prefix,
                    material.x, data)


def _eddsa_verify(material: _OKPMaterial, data: bytes, signature: bytes,
                  strict: bool) -> bool:
    # EdDSA signatures are not malleable once S < L: nothing for
    # ``strict`` to add.
    return _ed_verify(material.curve, material.x, data, signature)


def _generate_okp(alg: _Alg, bits: Optional[int], crv: Optional[str]
                  ) -> _OKPMaterial:
    """A new EdDSA key: a random seed (RFC 8032 §5.1.5 / §5.2.5).

    For alg EdDSA, ``crv`` picks Ed25519 (the default) or Ed448; for
    Ed25519 and Ed448 (RFC 9864) the curve is the algorithm's.
    """
    assert alg.curves is not None
    if crv is None:
        crv = alg.curves[0]
    if crv not in alg.curves:
        raise ValueError("%s keys are on %s, not %r"
                         % (alg.name, " or ".join(alg.curves), crv))
    curve = _ED_CURVES[crv]
    if bits is not None and bits != curve.size:
        raise ValueError("%s keys have %d bits" % (crv, curve.size))
    return _okp_from_seed(curve, os.urandom(curve.length))


_JWK_PARSERS["OKP"] = _okp_from_jwk
_KEY_GENERATORS["OKP"] = _generate_okp
for _curve in (_ED25519, _ED448):
    _SPKI_PARSERS[_curve.oid] = _okp_spki_parser(_curve)
    _PKCS8_PARSERS[_curve.oid] = _okp_pkcs8_parser(_curve)
    _ALGORITHMS[_curve.name] = _Alg(_curve.name, "OKP", (_curve.name,),
                                    _eddsa_sign, _eddsa_verify,
                                    _no_key_problem)
for _name, _oid in _ED_KEY_AGREEMENT.items():
    _SPKI_PARSERS[_oid] = _okp_key_agreement_parser(_name)
    _PKCS8_PARSERS[_oid] = _okp_key_agreement_parser(_name)
_ALGORITHMS["EdDSA"] = _Alg("EdDSA", "OKP", ("Ed25519", "Ed448"),
                            _eddsa_sign, _eddsa_verify, _no_key_problem)
del _curve, _name, _oid


# ---- 12. Key generation ----
#
# Each family registers _KEY_GENERATORS[kty](alg, bits, crv) returning
# fresh material drawn from the ``secrets`` module (os.urandom).


def _generate_oct(alg: _Alg, bits: Optional[int], crv: Optional[str]
                  ) -> _OctMaterial:
    if crv is not None:
        raise ValueError("an HMAC key has no curve")
    minimum = 8 * hashlib.new("sha" + alg.name[2:]).digest_size
    if bits is None:
        bits = minimum
    if bits < minimum or bits % 8:
        raise ValueError("%s needs a secret of at least %d bits, in whole"
                         " bytes" % (alg.name, minimum))
    return _OctMaterial(os.urandom(bits // 8))


_KEY_GENERATORS["oct"] = _generate_oct


def generate_key(alg: str, *, bits: Optional[int] = None,
                 crv: Optional[str] = None,
                 kid: Optional[str] = None) -> Key:
    """A new private key for ``alg``, with its ``alg`` member set.

    ``bits`` sizes HMAC secrets and RSA moduli; ``crv`` picks the curve
    where ``alg`` allows several (EdDSA: "Ed25519" or "Ed448").  ``kid``
    defaults to the key's RFC 7638 SHA-256 thumbprint.
    """
    algorithm = _algorithm(alg)
    if bits is not None and (not isinstance(bits, int)
                             or isinstance(bits, bool)):
        raise TypeError("bits must be int, got %s" % type(bits).__name__)
    generator = _KEY_GENERATORS.get(algorithm.kty)
    if generator is None:
        raise InvalidKeyError("cannot generate %s keys" % algorithm.kty)
    key = Key(generator(algorithm, bits, crv), alg=alg)
    if kid is None:
        kid = key.thumbprint()
    return Key(key._material, kid=kid, alg=alg)


# ---- 13. Remote JWK Sets ----


# ---- 14. JWS compact serialization and JWT claims (RFC 7515, RFC 7519) ----
#
# Limits apply before any crypto (DESIGN §4): a token of more than
# _MAX_TOKEN_LENGTH characters or a header of more than
# _MAX_HEADER_LENGTH is refused unread.

_MAX_TOKEN_LENGTH = 256 * 1024
_MAX_HEADER_LENGTH = 8 * 1024
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_STRING_HEADERS = ("kid", "typ", "cty", "jku", "x5u", "x5t", "x5t#S256")


class Decoded(NamedTuple):
    """A decoded token: its header and claims, the signature bytes and
    the key that verified it (None from ``decode_unverified``)."""

    header: Dict[str, Any]
    claims: Dict[str, Any]
    signature: bytes
    key: Optional[Key]


def _split_token(token: Any) -> List[str]:
    """The three segments of a compact JWS (RFC 7515 §7.1)."""
    if isinstance(token, (bytes, bytearray)):
        try:
            token = bytes(token).decode("ascii")
        except UnicodeDecodeError:
            raise MalformedError("token: non-ASCII byte") from None
    if not isinstance(token, str):
        raise TypeError("token must be str or bytes, got %s"
                        % type(token).__name__)
    if len(token) > _MAX_TOKEN_LENGTH:
        raise MalformedError("token: %d characters, more than %d"
                             % (len(token), _MAX_TOKEN_LENGTH))
    segments = token.split(".")
    if len(segments) != 3:
        raise MalformedError("token: %d segments, expected 3 (header."
                             "payload.signature)" % len(segments))
    return segments


def _parse_header(header_b64: str) -> Dict[str, Any]:
    """The JOSE header (RFC 7515 §4), checked for what we refuse."""
    if len(header_b64) > _MAX_HEADER_LENGTH:
        raise MalformedError("token header: %d characters, more than %d"
                             % (len(header_b64), _MAX_HEADER_LENGTH))
    header = _json_loads(_b64u_decode(header_b64, "token header"),
                         "token header")

    # RFC 7515 §4.1.1: "alg" is required and a case-sensitive string.
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise MalformedError('token header "alg": %s' % (
            "missing" if "alg" not in header
            else "expected a string, got " + _json_type_name(alg)))
    for name in _STRING_HEADERS:
        if name in header and not isinstance(header[name], str):
            raise MalformedError('token header "%s": expected a string,'
                                 ' got %s' % (name, _json_type_name(
                                     header[name])))

    # RFC 7515 §4.1.11: extensions listed in "crit" MUST be understood;
    # we understand none, so any "crit" is refused.  RFC 7797 "b64":
    # false changes what is signed; we support only the default.
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or not all(
                isinstance(name, str) for name in crit):
            raise MalformedError('token header "crit": expected a'
                                 ' non-empty array of strings')
        raise MalformedError('token header "crit": %r is not understood'
                             % crit[0][:32])
    if "b64" in header and header["b64"] is not True:
        raise MalformedError('token header "b64": only true (the'
                             ' default) is supported')
    return header


def _allowed(algorithms: Any) -> Tuple[str, ...]:
    """The caller's allow-list, checked: known names, never "none"."""
    if isinstance(algorithms, str):
        algorithms = (algorithms,)
    elif isinstance(algorithms, (list, tuple, set, frozenset)):
        algorithms = tuple(algorithms)
    else:
        raise TypeError("algorithms must be a list of names, got %s"
                        % type(algorithms).__name__)
    if not algorithms:
        raise ValueError("algorithms must name at least one algorithm")
    for name in algorithms:
        _algorithm(name)
    return algorithms


def _verifying_key(key: Any, alg: str, kid: Optional[str]) -> Key:
    if isinstance(key, Key):
        return key
    return load_keys(key).select(alg, kid)


def _numeric_date(claims: Dict[str, Any], name: str) -> Optional[float]:
    """A NumericDate claim (RFC 7519 §2) if present: a finite number,
    not a boolean, within the signed 64-bit range."""
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidClaimError(name, '"%s" claim: expected a number,'
                                ' got %s' % (name, _json_type_name(value)))
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise InvalidClaimError(name, '"%s" claim: out of range' % name)
    return value


def _names(value: Any, what: str) -> Tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple, set, frozenset)) and all(
            isinstance(item, str) for item in value):
        return tuple(value)
    raise TypeError("%s must be a str or a list of str" % what)


def _check_string_claim(claims: Dict[str, Any], name: str,
                        wanted: Tuple[str, ...]) -> None:
    if name not in claims:
        raise MissingClaimError(name, 'missing "%s" claim' % name)
    value = claims[name]
    if not isinstance(value, str):
        raise InvalidClaimError(name, '"%s" claim: expected a string, got'
                                ' %s' % (name, _json_type_name(value)))
    # Exact, whole-string comparison: no prefix or substring matching.
    if value not in wanted:
        raise ClaimMismatchError(name, '"%s" claim does not match'
                                 % name)


def _check_audience(claims: Dict[str, Any],
                    audience: Optional[Tuple[str, ...]],
                    aud_required: bool) -> None:
    """RFC 7519 §4.1.3: a JWT with an "aud" claim MUST be rejected unless
    the recipient identifies itself with one of its values."""
    if audience is None:
        if aud_required and "aud" in claims:
            raise ClaimMismatchError("aud", 'token has an "aud" claim but'
                                     ' no audience was given')
        return
    if "aud" not in claims:
        raise MissingClaimError("aud", 'missing "aud" claim')
    aud = claims["aud"]
    if isinstance(aud, str):
        aud = [aud]
    if not isinstance(aud, list) or not all(isinstance(item, str)
                                            for item in aud):
        raise InvalidClaimError("aud", '"aud" claim: expected a string or'
                                ' an array of strings')
    if not any(item in audience for item in aud):
        raise ClaimMismatchError("aud", '"aud" claim does not match')


def _check_time(claims: Dict[str, Any], now: float,
                leeway: Optional[float]) -> None:
    """exp, nbf and iat (RFC 7519 §4.1.4-§4.1.6): types always; times
    unless ``leeway`` is None (checks off)."""
    exp = _numeric_date(claims, "exp")
    nbf = _numeric_date(claims, "nbf")
    _numeric_date(claims, "iat")
    if leeway is None:
        return
    # §4.1.4: the current time MUST be before exp (with some leeway).
    if exp is not None and not exp > now - leeway:
        raise ExpiredError("exp", "token has expired")
    # §4.1.5: the current time MUST be after or equal to nbf.
    if nbf is not None and not nbf <= now + leeway:
        raise NotYetValidError("nbf", "token is not yet valid")


def _check_typ(header: Dict[str, Any], typ: str) -> None:
    """RFC 7515 §4.1.9 / RFC 8725 §3.11: compare media types case-
    insensitively, with or without the "application/" prefix."""
    def bare(media_type: str) -> str:
        media_type = media_type.lower()
        if media_type.startswith("application/"):
            media_type = media_type[len("application/"):]
        return media_type

    if "typ" not in header:
        raise MissingClaimError("typ", 'token header has no "typ"')
    if bare(header["typ"]) != bare(typ):
        raise ClaimMismatchError("typ", 'token header "typ" does not'
                                 ' match')


def _decode(token: Any, key: Any, algorithms: Any, leeway: Optional[float],
            now: Optional[float], issuer: Any, audience: Any,
            subject: Any, require: Iterable[str], typ: Optional[str],
            strict: bool, aud_required: bool) -> Decoded:
    """decode_complete, with time checks off when ``leeway`` is None and
    the RFC 7519 §4.1.3 "aud" rule optional (for the Kamailio layer)."""
    allowed = _allowed(algorithms)
    header_b64, payload_b64, signature_b64 = _split_token(token)
    header = _parse_header(header_b64)

    # RFC 8725 §3.1: the algorithm comes from the caller's allow-list;
    # the token only says which of the allowed ones it used.
    alg = header["alg"]
    if alg not in allowed:
        raise AlgorithmNotAllowedError("token alg %r is not allowed"
                                       % alg[:32])
    if typ is not None:
        _check_typ(header, typ)

    # Decode every segment before any crypto: canonical base64url.
    signature = _b64u_decode(signature_b64, "token signature")
    payload = _b64u_decode(payload_b64, "token payload")
    chosen = _verifying_key(key, alg, header.get("kid"))
    signing_input = (header_b64 + "." + payload_b64).encode("ascii")
    if not chosen.verify(alg, signing_input, signature, strict=strict):
        raise InvalidSignatureError()

    claims = _json_loads(payload, "token payload")
    for name in require:
        if name not in claims:
            raise MissingClaimError(name, 'missing required "%s" claim'
                                    % name)
    _check_time(claims, time.time() if now is None else now, leeway)
    if issuer is not None:
        _check_string_claim(claims, "iss", _names(issuer, "issuer"))
    if subject is not None:
        _check_string_claim(claims, "sub", _names(subject, "subject"))
    _check_audience(claims, None if audience is None
                    else _names(audience, "audience"), aud_required)
    return Decoded(header, claims, signature, chosen)


def decode_complete(token: Union[str, bytes], key: Any,
                    algorithms: Union[str, Sequence[str]], *,
                    leeway: float = 0, now: Optional[float] = None,
                    issuer: Union[str, Sequence[str], None] = None,
                    audience: Union[str, Sequence[str], None] = None,
                    subject: Optional[str] = None,
                    require: Iterable[str] = (),
                    typ: Optional[str] = None,
                    strict: bool = False) -> Decoded:
    """Verify a JWT and return its header, claims, signature and key.

    ``key`` is a Key, a KeySet (chosen by the token's ``kid``, then the
    first eligible key), a JWK or JWK Set mapping, or JWK/JWK Set/PEM
    text.  ``algorithms`` is the allow-list: the token's ``alg`` must be
    one of them ("none" is never accepted).

    Claims: ``exp`` and ``nbf`` are checked when present, against
    ``now`` (default: the system clock) with ``leeway`` seconds;
    ``issuer``/``subject`` must equal the claim exactly (one of a list
    for ``issuer``); with ``audience`` the ``aud`` claim must contain
    one of its values, and without it a token carrying ``aud`` is
    refused (RFC 7519 §4.1.3).  ``require`` names claims that must be
    present.  ``typ`` checks the header's media type (RFC 8725 §3.11).
    ``strict`` refuses malleable signature forms (high-S ECDSA...).

    Raises a JWTError subclass: MalformedError, AlgorithmNotAllowedError,
    InvalidKeyError, InvalidSignatureError or a ClaimError.
    """
    if isinstance(leeway, bool) or not isinstance(leeway, (int, float)):
        raise TypeError("leeway must be a number of seconds")
    if not leeway >= 0:
        raise ValueError("leeway must be >= 0")
    return _decode(token, key, algorithms, leeway, now, issuer, audience,
                   subject, require, typ, strict, True)


def decode(token: Union[str, bytes], key: Any,
           algorithms: Union[str, Sequence[str]], **options: Any
           ) -> Dict[str, Any]:
    """Verify a JWT and return its claims; see ``decode_complete``."""
    return decode_complete(token, key, algorithms, **options).claims


def decode_unverified(token: Union[str, bytes]) -> Decoded:
    """Parse a JWT WITHOUT verifying it: for display and debugging.

    The header and payload are parsed as strictly as ``decode`` would;
    nothing in the result may be trusted.
    """
    header_b64, payload_b64, signature_b64 = _split_token(token)
    header = _parse_header(header_b64)
    claims = _json_loads(_b64u_decode(payload_b64, "token payload"),
                         "token payload")
    signature = _b64u_decode(signature_b64, "token signature")
    return Decoded(header, claims, signature, None)


def _signing_key(key: Any, alg: str, kid: Optional[str]) -> Key:
    if isinstance(key, Key):
        return key
    return load_keys(key).select(alg, kid, operation="sign",
                                 strict_kid=kid is not None)


def encode(claims: Mapping[str, Any], key: Any, alg: str,
           headers: Optional[Mapping[str, Any]] = None) -> str:
    """Sign ``claims`` as a compact JWT with ``alg``.

    The header is ``headers`` plus ``alg`` (always the signing
    algorithm) and ``typ: "JWT"`` unless ``headers`` sets a ``typ``.
    Header and payload are serialized exactly as libjwt does (sorted
    members, compact).  ``key`` is a private Key, a KeySet (the key
    named by a ``kid`` header, else the first that can sign with
    ``alg``), a JWK/JWK Set mapping or JWK/PEM text.
    """
    algorithm = _algorithm(alg)
    if not isinstance(claims, Mapping):
        raise TypeError("claims must be a mapping, got %s"
                        % type(claims).__name__)
    header = {}    # type: Dict[str, Any]
    if headers is not None:
        if not isinstance(headers, Mapping):
            raise TypeError("headers must be a mapping, got %s"
                            % type(headers).__name__)
        header.update(headers)
    for name in _STRING_HEADERS:
        if name in header and not isinstance(header[name], str):
            raise TypeError('header "%s" must be str' % name)
    if "crit" in header or "b64" in header:
        raise ValueError('headers "crit" and "b64" are not supported')
    header["alg"] = algorithm.name
    header.setdefault("typ", "JWT")

    signer = _signing_key(key, alg, header.get("kid"))
    signing_input = (_b64u_encode(_json_dumps(header)) + "."
                     + _b64u_encode(_json_dumps(dict(claims))))
    signature = signer.sign(alg, signing_input.encode("ascii"))
    return signing_input + "." + _b64u_encode(signature)
