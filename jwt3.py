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
   11. Edwards curves and EdDSA: Ed25519, Ed448 (RFC 8032, RFC 8037)
   12. Key generation
   13. Remote JWK Sets
   14. JWS compact serialization and JWT claims (RFC 7515, RFC 7519)
   15. Kamailio claims strings (parse_params)
   16. Kamailio key strings and the jwt3 module layer
   17. Self-test
  18a. Command line: input, output and files
  18b. Command line: the commands
  18c. Command line: options and main
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
        if "\x00" in value:
            raise MalformedError("JSON string holds U+0000 (refused on"
                                 " input too, as by jansson)")
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
            _json_check(name, depth)
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
    matched = False
    for match in _PEM_RE.finditer(text):
        matched = True
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
    if not matched and "-----BEGIN" in text:
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
# Functions that empty the per-key and per-curve caches of a family
# (precomputed tables); _clear_caches() runs them all (for benchmarks
# that measure a cold start, and for tests).
_CACHE_CLEARERS = []   # type: List[Callable[[], None]]


def _clear_caches() -> None:
    for clear in _CACHE_CLEARERS:
        clear()


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
    if "-----BEGIN" not in text:
        raise KeyFormatError("PEM: no -----BEGIN block")
    blocks = _pem_blocks(text)
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


# ---- 11. Edwards curves and EdDSA: Ed25519, Ed448 (RFC 8032, RFC 8037) ----


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


# ---- 15. Kamailio claims strings (parse_params) ----
#
# Claims and headers strings use the SIP parameter grammar exactly as
# Kamailio's parse_params() reads it (parse_param.c, separator ';',
# class ANY), preceded by the jwt3 module's own step: if the string ends
# in ';', exactly one character is dropped.  The grammar, in words:
#
#   name   the longest run of characters other than SP HT CR LF , = ;
#          (possibly empty; no whitespace is skipped before it)
#   body   after '=' and optional whitespace: either a quoted string
#          (up to the next occurrence of the same quote; no escapes) or
#          a token (the longest non-empty run of characters other than
#          SP HT CR LF , ;)
#   then   optional whitespace, then end of input, ',' or '>' (the rest
#          is discarded, as for SIP header parameters) or ';' followed
#          by optional whitespace and another parameter

_PARAM_SPACE = " \t\r\n"
_PARAM_NAME_STOP = frozenset(" \t\r\n,=;")
_PARAM_TOKEN_STOP = frozenset(" \t\r\n,;")
_PARAM_INT_RE = re.compile(r"[+-]?[0-9]+\Z")


class Param(NamedTuple):
    """One parameter of a claims or headers string.

    ``body`` is None for a parameter without '='; ``quote`` is the quote
    character that enclosed the body, or "" if it was not quoted.
    """

    name: str
    body: Optional[str]
    quote: str

    def value(self) -> Union[int, str]:
        """The JSON value it stands for (DESIGN §5): a quoted body is a
        string; an unquoted ``[+-]?[0-9]+`` that fits in a signed 64-bit
        integer is an integer; anything else is a string.

        Deviation: the C module makes quoted digits numbers too
        (``index='100'`` -> 100, ``sub='+4912345'`` -> 4912345); jwt3
        follows the module's documentation, so SIP numbers keep their
        '+' and leading zeros.
        """
        body = self.body or ""
        if not self.quote and _PARAM_INT_RE.match(body):
            number = int(body)
            if _INT64_MIN <= number <= _INT64_MAX:
                return number
        return body


def _param_skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _PARAM_SPACE:
        pos += 1
    return pos


def parse_params(text: str) -> List[Param]:
    """Parse a Kamailio claims/headers string into Params, in order.

    ``"caller='alice';callee='bob';index=100"`` gives three Params.
    Kamailio keeps the list reversed; jwt3 returns it in the order
    written (nothing depends on the order, since duplicate names are
    refused where they would matter).  Parameters without a name or a
    body are returned too; the jwt3 functions skip them, as the C
    module does.  Raises MalformedError where parse_params() fails.
    """
    if not isinstance(text, str):
        raise TypeError("a params string must be str, got %s"
                        % type(text).__name__)
    if text.endswith(";"):
        text = text[:-1]
    params = []     # type: List[Param]
    n = len(text)
    pos = 0
    while pos < n:
        start = pos
        while pos < n and text[pos] not in _PARAM_NAME_STOP:
            pos += 1
        name = text[start:pos]
        pos = _param_skip_space(text, pos)
        body = None
        quote = ""

        if pos < n and text[pos] == "=":
            pos = _param_skip_space(text, pos + 1)
            if pos >= n:
                body = ""
            elif text[pos] in "'\"":
                quote = text[pos]
                end = text.find(quote, pos + 1)
                if end < 0:
                    raise MalformedError("params: unterminated quoted"
                                         " value of %r" % name[:32])
                body = text[pos + 1:end]
                pos = end + 1
            else:
                start = pos
                while pos < n and text[pos] not in _PARAM_TOKEN_STOP:
                    pos += 1
                if pos == start:
                    raise MalformedError("params: empty value of %r"
                                         % name[:32])
                body = text[start:pos]
            pos = _param_skip_space(text, pos)
        params.append(Param(name, body, quote))

        if pos >= n or text[pos] in ",>":
            break
        if text[pos] != ";":
            raise MalformedError("params: invalid character %r at"
                                 " offset %d" % (text[pos], pos))
        pos = _param_skip_space(text, pos + 1)
        if pos >= n:
            raise MalformedError("params: parameter name missing after"
                                 " ';'")
    return params


def _param_values(text: str, what: str,
                  raw: Tuple[str, ...] = ()) -> Dict[str, Any]:
    """The non-empty params of ``text`` as a name -> value dict.

    Params with an empty name or body are skipped (as the C module
    does); a repeated name is an error (as libjwt's builder makes it).
    Names in ``raw`` keep their body as a string whatever it looks like.
    """
    values = {}    # type: Dict[str, Any]
    for param in parse_params(text):
        if not param.name or not param.body:
            continue
        if param.name in values:
            raise MalformedError("%s: %r appears twice"
                                 % (what, param.name[:32]))
        values[param.name] = (param.body if param.name in raw
                              else param.value())
    return values


# ---- 16. Kamailio key strings and the jwt3 module layer ----
#
# The C module's four functions, its parameters and its two variables,
# as methods of Module (one per Kamailio process: each forked worker has
# its own copy, as the C module's statics are per process).  They return
# 1 or -1 and never raise; each failure sets $jwt3(status) (for verify)
# and the reason, and is logged once to the "jwt3" logger, as LM_ERR.
#
# Key strings are routed exactly as the C module's jwt_load_keys(), with
# one addition (DESIGN §5): text starting with "-----BEGIN" is PEM text
# even when it contains a '.'.

_log = logging.getLogger("jwt3")

_KEY_FILE_MAX = 1 << 20
_KEY_CACHE_SIZE = 64

STATUS_OK = 0
STATUS_MALFORMED = 1
STATUS_KEY = 2
STATUS_ALGORITHM = 3
STATUS_SIGNATURE = 4
STATUS_EXPIRED = 5
STATUS_NOT_YET_VALID = 6
STATUS_CLAIM = 7
STATUS_JWKS = 8
STATUS_ARGUMENTS = 9
STATUS_INTERNAL = 10

STATUS_CODES = {
    STATUS_OK: "verified",
    STATUS_MALFORMED: "malformed token",
    STATUS_KEY: "no usable key (key string failed to load, or no key"
                " fits the algorithm)",
    STATUS_ALGORITHM: "algorithm not allowed (unknown, none, or not the"
                      " configured one)",
    STATUS_SIGNATURE: "invalid signature",
    STATUS_EXPIRED: "token expired (exp)",
    STATUS_NOT_YET_VALID: "token not yet valid (nbf)",
    STATUS_CLAIM: "expected claim missing or different",
    STATUS_JWKS: "remote JWK Set unavailable",
    STATUS_ARGUMENTS: "bad arguments (empty, wrong type, or claims or"
                      " headers string syntax)",
    STATUS_INTERNAL: "internal error (a bug in jwt3: please report it)",
}   # type: Dict[int, str]


class _BadArguments(Exception):
    """A Kamailio-layer argument is empty, of the wrong type, or its
    claims/headers string does not parse."""


def _status_of(exc: BaseException) -> int:
    """The $jwt3(status) code for an exception (the order matters:
    subclasses before their bases)."""
    for cls, code in ((_BadArguments, STATUS_ARGUMENTS),
                      (KeyFormatError, STATUS_KEY),
                      (MalformedError, STATUS_MALFORMED),
                      (InvalidKeyError, STATUS_KEY),
                      (AlgorithmNotAllowedError, STATUS_ALGORITHM),
                      (InvalidSignatureError, STATUS_SIGNATURE),
                      (ExpiredError, STATUS_EXPIRED),
                      (NotYetValidError, STATUS_NOT_YET_VALID),
                      (ClaimError, STATUS_CLAIM),
                      (JWKSError, STATUS_JWKS)):
        if isinstance(exc, cls):
            return code
    return STATUS_INTERNAL


def _key_string_rule(text: str) -> str:
    """Which rule of the C module's jwt_load_keys() takes ``text``.

    In order: an http(s) URL is a remote JWK Set; text starting with
    '{' is an inline JWK or JWK Set; text starting with "-----BEGIN"
    (a jwt3 addition) or without any '.' is PEM text; a path ending in
    ".json" is a JWK Set file; anything else is a PEM or DER file.
    The tests are case-sensitive and look at the whole string, as in C.
    """
    if text.startswith(("https://", "http://")):
        return "URL"
    if text.startswith("{"):
        return "inline JWK"
    if text.startswith("-----BEGIN") or "." not in text:
        return "PEM text"
    if text.endswith(".json"):
        return "JWK Set file"
    return "PEM file"


def _read_key_file(path: str, rule: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(_KEY_FILE_MAX + 1)
    except FileNotFoundError:
        raise KeyFormatError("key string (%s %r): no such file"
                             % (rule, path[:200])) from None
    except OSError as exc:
        raise KeyFormatError("key string (%s %r): cannot read it (%s)"
                             % (rule, path[:200], exc.strerror)) from None
    if len(data) > _KEY_FILE_MAX:
        raise KeyFormatError("key string (%s %r): larger than %d bytes"
                             % (rule, path[:200], _KEY_FILE_MAX))
    return data


def _key_string_keyset(text: str, rule: str) -> KeySet:
    """Load the static key string ``text`` under ``rule``."""
    try:
        if rule == "inline JWK":
            return KeySet.from_jwks(text)
        if rule == "PEM text":
            if "-----BEGIN" not in text:
                raise KeyFormatError(
                    "PEM: no -----BEGIN block (a string without any '.'"
                    " is taken as PEM text, so a file path needs a '.'"
                    " somewhere, as in Kamailio)")
            return KeySet(_pem_keys(text, "legacy-raw"))
        data = _read_key_file(text, rule)
        if rule == "JWK Set file":
            return KeySet.from_jwks(data)
        if b"-----BEGIN" in data:
            return KeySet(_pem_keys(data, "legacy-file"))
        if not data.startswith(b"\x30"):
            raise KeyFormatError("not a PEM or DER key (a JWK Set file"
                                 " must end in \".json\", lower case)")
        return KeySet([Key.from_der(data, kid="legacy-file")])
    except JWTError as exc:
        message = str(exc)
        if not message.startswith("key string ("):
            message = "key string (%s): %s" % (rule, message)
        raise type(exc)(message) from None


def _check_expected(claims: Dict[str, Any], expected: List[Param]) -> None:
    """Check the claims a Kamailio claims string expects (DESIGN §5).

    ``iss`` and ``sub`` compare as strings; ``aud`` matches a string or
    an array holding the value; ``exp`` and ``nbf`` need an equal JSON
    integer; any other name: a quoted value needs an equal JSON string,
    an unquoted integer an equal JSON integer, anything else an equal
    string.  A missing claim fails.
    """
    for param in expected:
        name = param.name
        if name not in claims:
            raise MissingClaimError(name, 'missing expected claim "%s"'
                                    % name[:64])
        claim = claims[name]
        if name in ("iss", "sub"):
            ok = claim == param.body and isinstance(claim, str)
        elif name == "aud":
            ok = claim == param.body or (
                isinstance(claim, list) and param.body in claim)
        else:
            want = param.value()
            if name in ("exp", "nbf") and not isinstance(want, int):
                ok = False
            elif isinstance(want, int):
                ok = (type(claim) is int and claim == want)
            else:
                ok = claim == want and isinstance(claim, str)
        if not ok:
            raise ClaimMismatchError(name, 'claim "%s" is not as expected'
                                     % name[:64])


class Module:
    """The Kamailio jwt3 module: parameters, functions and variables.

    ``leeway_sec`` is the exp/nbf clock-skew allowance in seconds; -1
    (the Kamailio default) turns the time checks off, with a one-time
    InsecureSettingWarning.  The ``jwks_*`` parameters configure the
    remote JWK Set cache.  ``clock`` returns the time (for tests).

    Functions return 1 or -1 and never raise.  ``pv("val")`` is
    $jwt3(val), ``pv("status")`` is $jwt3(status) (see STATUS_CODES) and
    ``pv("error")`` the reason of the last failure.
    """

    _PARAMS = ("leeway_sec", "jwks_cache_ttl", "jwks_miss_window",
               "jwks_max_misses")

    def __init__(self, leeway_sec: int = -1, jwks_cache_ttl: int = 3600,
                 jwks_miss_window: int = 60, jwks_max_misses: int = 5, *,
                 clock: Callable[[], float] = time.time):
        self._clock = clock
        self._val = None     # type: Optional[str]
        self._status = STATUS_OK
        self._error = ""
        self._warned_leeway = False
        self._key_cache = OrderedDict()   # type: OrderedDict[Any, Any]
        self._jwks_clients = {}           # type: Dict[str, Any]
        self.leeway_sec = -1
        self.jwks_cache_ttl = 3600
        self.jwks_miss_window = 60
        self.jwks_max_misses = 5
        self.modparam("leeway_sec", leeway_sec)
        self.modparam("jwks_cache_ttl", jwks_cache_ttl)
        self.modparam("jwks_miss_window", jwks_miss_window)
        self.modparam("jwks_max_misses", jwks_max_misses)

    def modparam(self, name: str, value: Union[int, str]) -> None:
        """Set a parameter by its Kamailio name, as modparam() does."""
        if name not in self._PARAMS:
            raise ValueError("unknown jwt3 parameter %r (known: %s)"
                             % (name, ", ".join(self._PARAMS)))
        if isinstance(value, str) and _PARAM_INT_RE.match(value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("jwt3 parameter %s must be an int" % name)
        if name == "jwks_max_misses" and value < 0:
            raise ValueError("jwks_max_misses must be >= 0")
        setattr(self, name, value)
        if name.startswith("jwks_"):
            self._jwks_clients.clear()

    def pv(self, name: str) -> Union[str, int, None]:
        """$jwt3(name): "val", "status", or the extension "error"."""
        if name == "val":
            return self._val
        if name == "status":
            return self._status
        if name == "error":
            return self._error
        raise ValueError("unknown $jwt3 name %r (val, status, error)"
                         % (name,))

    # -- the functions

    def jwt3_generate(self, prvkey: str, alg: str, claims: str,
                      headers: Optional[str] = None) -> int:
        """Make a token into $jwt3(val); 1 on success, -1 on failure."""
        return self._generate("jwt3_generate", prvkey, alg, claims,
                              headers)

    def jwt3_generate_hdrs(self, prvkey: str, alg: str, claims: str,
                           headers: str) -> int:
        """jwt3_generate with a headers string (the KEMI name)."""
        return self._generate("jwt3_generate_hdrs", prvkey, alg, claims,
                              headers)

    def jwt3_verify(self, pubkeypath: str, alg: str, claims: str,
                    jwtval: str) -> int:
        """Verify a token; claims and token must not be empty."""
        if (isinstance(claims, str) and not claims) or (
                isinstance(jwtval, str) and not jwtval):
            return self._fail("jwt3_verify", _BadArguments(
                "claims and token must not be empty (jwt3_verify_key"
                " allows empty claims)"), True)
        return self._verify("jwt3_verify", pubkeypath, alg, claims,
                            jwtval)

    def jwt3_verify_key(self, pubkeyval: str, alg: str, claims: str,
                        jwtval: str) -> int:
        """Verify a token against a key string; 1 if valid, else -1."""
        return self._verify("jwt3_verify_key", pubkeyval, alg, claims,
                            jwtval)

    # -- machinery

    def _fail(self, func: str, exc: BaseException, verify: bool) -> int:
        code = _status_of(exc)
        reason = str(exc) or type(exc).__name__
        if code == STATUS_INTERNAL:
            reason = "internal error: %s: %s" % (type(exc).__name__,
                                                 reason)
            _log.exception("%s: %s", func, reason)
        else:
            _log.error("%s: %s", func, reason)
        if verify:
            self._status = code
        self._error = reason
        return -1

    @staticmethod
    def _need_strings(**arguments: Any) -> None:
        for name, value in arguments.items():
            if not isinstance(value, str):
                raise _BadArguments("%s must be a string, got %s"
                                    % (name, type(value).__name__))
            if not value and name in ("key", "alg"):
                raise _BadArguments("%s must not be empty" % name)

    def _keys(self, text: str) -> Any:
        """The KeySet (or remote JWK Set client) of a key string, from a
        small cache; files are re-read when their stat changes."""
        rule = _key_string_rule(text)
        if rule == "URL":
            return self._jwks_client(text)
        signature = None    # type: Any
        if rule.endswith("file"):
            try:
                st = os.stat(text)
                signature = (st.st_mtime_ns, st.st_size, st.st_ino)
            except OSError:
                signature = None
        cached = self._key_cache.get(text)
        if cached is not None and signature is not None \
                and cached[0] == signature:
            self._key_cache.move_to_end(text)
            return cached[1]
        if cached is not None and not rule.endswith("file"):
            self._key_cache.move_to_end(text)
            return cached[1]

        keyset = _key_string_keyset(text, rule)
        self._key_cache[text] = (signature, keyset)
        if len(self._key_cache) > _KEY_CACHE_SIZE:
            self._key_cache.popitem(last=False)
        return keyset

    def _jwks_client(self, url: str) -> Any:
        raise JWKSError("key string (URL): remote JWK Sets are not"
                        " available in this build")

    @staticmethod
    def _select(keys: Any, alg: str, kid: Optional[str],
                operation: str) -> Key:
        # Verify: the kid's key if found (and it must fit), else the
        # first usable key.  Sign: a named kid must exist (Deviation:
        # the C module signs with the first key and still writes the
        # kid it did not find).
        return keys.select(alg, kid, operation=operation,
                           strict_kid=operation == "sign")

    def _leeway(self) -> Optional[int]:
        if self.leeway_sec >= 0:
            return self.leeway_sec
        if not self._warned_leeway:
            self._warned_leeway = True
            message = ("leeway_sec is %d: exp and nbf are not checked"
                       " (set leeway_sec >= 0 to check them)"
                       % self.leeway_sec)
            _log.warning(message)
            warnings.warn(message, InsecureSettingWarning, stacklevel=4)
        return None

    def _generate(self, func: str, key_string: Any, alg: Any,
                  claims: Any, headers: Any) -> int:
        self._val = None
        try:
            self._need_strings(key=key_string, alg=alg, claims=claims)
            if headers is not None:
                self._need_strings(headers=headers)
            _algorithm(alg)
            try:
                payload = _param_values(claims, "claims")
                header = (_param_values(headers, "headers", ("kid",))
                          if headers else {})
            except MalformedError as exc:
                raise _BadArguments(str(exc)) from None
            if "crit" in header or "b64" in header:
                raise _BadArguments('headers "crit" and "b64" are not'
                                    ' supported')

            # libjwt's builder: iat is always now, alg is always the
            # signing algorithm, typ "JWT" unless the caller gave one.
            payload["iat"] = int(self._clock())
            key = self._select(self._keys(key_string), alg,
                               header.get("kid"), "sign")
            token = encode(payload, key, alg, header)
        except Exception as exc:
            return self._fail(func, exc, False)
        self._val = token
        return 1

    def _verify(self, func: str, key_string: Any, alg: Any, claims: Any,
                jwtval: Any) -> int:
        self._status = STATUS_OK
        try:
            self._need_strings(key=key_string, alg=alg, claims=claims,
                               token=jwtval)
            _algorithm(alg)
            try:
                expected = [param for param in parse_params(claims)
                            if param.name and param.body]
            except MalformedError as exc:
                raise _BadArguments("claims: %s" % exc) from None

            # Kamailio trims SP, HT, CR and LF around the token (and,
            # unlike C, we hand on the trimmed string).
            token = jwtval.strip(" \t\r\n")
            header = _parse_header(_split_token(token)[0])
            if header["alg"] != alg:
                raise AlgorithmNotAllowedError(
                    "token alg %r is not the configured %s"
                    % (header["alg"][:32], alg))
            key = self._select(self._keys(key_string), alg,
                               header.get("kid"), "verify")
            decoded = _decode(token, key, (alg,), self._leeway(),
                              self._clock(), None, None, None, (), None,
                              False, False)
            _check_expected(decoded.claims, expected)
        except Exception as exc:
            return self._fail(func, exc, True)
        self._error = ""
        return 1


_default_module = Module()


def modparam(name: str, value: Union[int, str]) -> None:
    """Set a parameter of the default Module (``modparam("jwt3", ...)``)."""
    _default_module.modparam(name, value)


def jwt3_generate(prvkey: str, alg: str, claims: str,
                  headers: Optional[str] = None) -> int:
    """``jwt3_generate`` on the default Module."""
    return _default_module.jwt3_generate(prvkey, alg, claims, headers)


def jwt3_generate_hdrs(prvkey: str, alg: str, claims: str,
                       headers: str) -> int:
    """``jwt3_generate_hdrs`` on the default Module."""
    return _default_module.jwt3_generate_hdrs(prvkey, alg, claims,
                                              headers)


def jwt3_verify(pubkeypath: str, alg: str, claims: str,
                jwtval: str) -> int:
    """``jwt3_verify`` on the default Module."""
    return _default_module.jwt3_verify(pubkeypath, alg, claims, jwtval)


def jwt3_verify_key(pubkeyval: str, alg: str, claims: str,
                    jwtval: str) -> int:
    """``jwt3_verify_key`` on the default Module."""
    return _default_module.jwt3_verify_key(pubkeyval, alg, claims,
                                           jwtval)


def pv(name: str) -> Union[str, int, None]:
    """$jwt3(name) of the default Module: "val", "status" or "error"."""
    return _default_module.pv(name)


# ---- 17. Self-test ----
#
# Known answers embedded in the file, for people who vendor it into an
# interpreter nobody has tested: ``python3 jwt3.py selftest``.  Each
# entry of _SELFTESTS is (family, function); a function raises
# AssertionError (or a JWTError) when a known answer is not reproduced,
# and _SelftestUnavailable when its family's algorithms are not in this
# build.  Checks use _expect, not assert, so ``python -O`` keeps them.
#
# The data are kept small: where a known answer needs an RSA key, the
# RFC 7515 A.2 key is rebuilt from its primes p and q.  Every value is
# copied from the vector file named in its comment (tests/
# test_selftest.py checks that they still agree).

# RFC 7515 A.1-A.3 payload (vectors/rfc7515.json): '{"iss":"joe",\r\n
# "exp":1300819380,\r\n "http://example.com/is_root":true}'.
_SELFTEST_PAYLOAD = (
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ")

_SELFTEST_HS_KEY = "0gmNspkRljssLSrldySnYUS-zhtCo5sqeqo_yl7n2XA"
_SELFTEST_HS_TOKEN = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30."
                      "CM4dD95Nj0vSfMGtDas432AUW1HAo7feCiAbt5Yjuds")

# RFC 7515 A.2 (vectors/rfc7515.json RFC7515-A.2): the primes of its
# 2048-bit RSA key (e = 65537) and its RS256 signature.
_SELFTEST_RSA_P = (
    "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBds"
    "s1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ"
    "5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc")
_SELFTEST_RSA_Q = (
    "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHA"
    "jLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLt"
    "XlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc")
_SELFTEST_RS256 = (
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
    "p0igcN_IoypGlUPQGe77Rw")

# RFC 7520 §4.2 (vectors/rfc7520.json RFC7520-4.2): a PS384 signature
# (MGF1-SHA-384, 48-octet salt) by the RFC 7520 §3.4 key, modulus n.
_SELFTEST_PS_N = (
    "n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRoj"
    "dNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2l"
    "bzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6c"
    "S6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3"
    "-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwU"
    "kRz5iaiQkqgc5gHdrNP5zw")
_SELFTEST_PS_INPUT = (
    "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhh"
    "bXBsZSJ9.SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmc"
    "gb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHl"
    "vdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2h"
    "lcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4")
_SELFTEST_PS384 = (
    "cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN"
    "6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvW"
    "Xzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ij"
    "Q7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6ui"
    "P1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmW"
    "jwZ6oD4ifKo8DYM-X72Eaw")

# RFC 6979 A.2.5, P-256 with SHA-256, message "sample" (vectors/
# rfc6979.json RFC6979-A.2.5-P-256-SHA-256-sample): private key x as
# "d", public key (Ux, Uy), and r || s, which fixes k.
_SELFTEST_ES256_JWK = {
    "kty": "EC", "crv": "P-256",
    "x": "YP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Y",
    "y": "eQP-EAi4vJmkGunpVii8ZPLxsgwtfp9Rd6PClNRGIpk",
    "d": "ya-p2EW6dRZrXCFXZ7HWk05Qw9s26JsSe4piKxIPZyE"}
_SELFTEST_ES256 = ("79SLKqy2qP0RQN2c1F6B1p0sh3tWqvmRw00OqE6vNxb3yxyULWV8"
                   "QdQ2x6G24p9l8-kA27mv9AZNxKsvhDrNqA")

# vectors/es256k.json GENERATED-ES256K-1 (generated for the vector
# pack, not published): RFC 6979 ES256K over the RFC 7515 payload.
_SELFTEST_ES256K_JWK = {
    "kty": "EC", "crv": "secp256k1",
    "x": "vAB-pds8ruPAWkGXw0jear8QXdnecgTNWKRzn7yxXr4",
    "y": "jExSVDli-FpY_gbhd1E6ehWEWCP-GXrND9i6xYLH-oI",
    "d": "1xiMLIycazL4gotDC-h6Yuhslur1DtOEZZQoo09utTA"}
_SELFTEST_ES256K = ("sMuH5eHHdh0gFZgxE6yTokGSTyXA8Mhx97G2MDsJsSEj2IAfg_Yo"
                    "HrwkBoeqEnJKTeVceQFeU-n_SjWiOWNJxA")

# RFC 8032 §7.1 TEST 1 and §7.4 "Blank" (vectors/rfc8032.json): secret
# key as "d", public key as "x", and the signature of the empty message.
_SELFTEST_ED25519_JWK = {
    "kty": "OKP", "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}
_SELFTEST_ED25519 = ("5VZDAMNgrHKQhuLMgG6CioSHfx645dl02HPgZSJJAVVfuIIVkKM7r"
                     "MYeOXAc-bRr0lv18FlbviRlUUFDjnoQCw")
_SELFTEST_ED448_JWK = {
    "kty": "OKP", "crv": "Ed448",
    "x": ("X9dEm1m0Yf0s54fsYWrUah2hNCSFpw4fig6nXYDpZ3jt8SR2m0bHBhvWeD3x5Q9s"
          "0foavq_oJWGA"),
    "d": ("bIKlYsuAjRDWMr6JyFE-v2ySnzTd-oyfY8mWDvbjSKNSjIo_zC8ETjmj_FuUSS-P"
          "Ay51SaIAmPlb")}
_SELFTEST_ED448 = (
    "Uzo39rvkVyUfAjwNiPl2ri37UEqEPjTSB0_YI9QaWR8rIz8DT2KCgfL9eiLd1H14"
    "KMWb0KIb_TmA_w0gKNSxip32PgBsXRwtNFuSXY3AC0EEhS25msXHzdqFMKEToPTb"
    "thFJ8FpzYyaMcdlYCP8uZSYA")

# The algorithms each family needs; a family whose algorithms are not
# all registered is reported "not available" (a failure: a build that
# lacks a family is not the file as published).
_SELFTEST_FAMILIES = OrderedDict([
    ("HS", ("HS256", "HS384", "HS512")),
    ("RS", ("RS256", "RS384", "RS512")),
    ("PS", ("PS256", "PS384", "PS512")),
    ("ES", ("ES256", "ES384", "ES512")),
    ("ES256K", ("ES256K",)),
    ("Ed25519", ("EdDSA", "Ed25519")),
    ("Ed448", ("EdDSA", "Ed448")),
    ("parse_params", ()),
])   # type: OrderedDict[str, Tuple[str, ...]]


class _SelftestUnavailable(Exception):
    """A family's algorithms are not registered in this build."""


def _expect(ok: bool, failure: str) -> None:
    """Raise AssertionError(failure) unless ``ok`` (kept under -O)."""
    if not ok:
        raise AssertionError(failure)


def _selftest_need(family: str) -> None:
    missing = [name for name in _SELFTEST_FAMILIES[family]
               if name not in _ALGORITHMS]
    if missing:
        raise _SelftestUnavailable("%s not registered"
                                   % ", ".join(missing))


def _selftest_verify(key: Key, alg: str, data: bytes,
                     signature: bytes) -> None:
    """The known signature verifies; a changed message or signature
    does not."""
    public = key.public()
    _expect(public.verify(alg, data, signature),
            "%s: the known signature does not verify" % alg)
    _expect(not public.verify(alg, data + b".", signature),
            "%s: a signature verified for another message" % alg)
    changed = signature[:-1] + bytes([signature[-1] ^ 1])
    _expect(not public.verify(alg, data, changed),
            "%s: a changed signature verified" % alg)


def _selftest_sign(key: Key, alg: str, data: bytes, known: str) -> None:
    """A deterministic algorithm reproduces ``known`` exactly."""
    signature = key.sign(alg, data)
    _expect(_b64u_encode(signature) == known,
            "%s: the signature differs from the known answer" % alg)
    _selftest_verify(key, alg, data, signature)


def _selftest_hs() -> None:
    # libjwt's HS256 known answer (tests/jwt_hs.c, oct_key_256.json).
    _selftest_need("HS")
    key = Key.from_jwk({"kty": "oct", "k": _SELFTEST_HS_KEY})
    _expect(encode({}, key, "HS256") == _SELFTEST_HS_TOKEN,
            "HS256: the token differs from the known answer")
    _expect(decode(_SELFTEST_HS_TOKEN, key, ["HS256"]) == {},
            "HS256: the known token does not decode to {}")
    tampered = _SELFTEST_HS_TOKEN[:-1] + "A"
    try:
        decode(tampered, key, ["HS256"])
    except InvalidSignatureError:
        pass
    else:
        raise AssertionError("a tampered HS256 token verified")


def _selftest_rsa_key() -> Key:
    """The RFC 7515 A.2 private key, rebuilt from p and q."""
    p = _b64u_uint(_SELFTEST_RSA_P, "p")
    q = _b64u_uint(_SELFTEST_RSA_Q, "q")
    e = 65537

    # RFC 8017 §3.2: d = e^-1 mod lambda(n), and the CRT values.
    n = p * q
    lambda_n = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    d = pow(e, -1, lambda_n)
    members = (("n", n), ("e", e), ("d", d), ("p", p), ("q", q),
               ("dp", d % (p - 1)), ("dq", d % (q - 1)),
               ("qi", pow(q, -1, p)))
    jwk = {"kty": "RSA"}
    for name, value in members:
        jwk[name] = _b64u_encode(_int_to_bytes(value))
    return Key.from_jwk(jwk)


def _selftest_rs() -> None:
    # RFC 7515 A.2: RSASSA-PKCS1-v1_5 is deterministic, so re-signing
    # must give the published signature byte for byte.
    _selftest_need("RS")
    data = ("eyJhbGciOiJSUzI1NiJ9." + _SELFTEST_PAYLOAD).encode("ascii")
    _selftest_sign(_selftest_rsa_key(), "RS256", data, _SELFTEST_RS256)


def _selftest_ps() -> None:
    # RFC 7520 §4.2: verify a published PS384 signature; then sign with
    # PS256 (random salt) and verify strictly (salt = hash length).
    _selftest_need("PS")
    public = Key.from_jwk({"kty": "RSA", "n": _SELFTEST_PS_N,
                           "e": "AQAB"})
    _selftest_verify(public, "PS384", _SELFTEST_PS_INPUT.encode("ascii"),
                     _b64u_decode(_SELFTEST_PS384, "PS384"))

    key = _selftest_rsa_key()
    data = _SELFTEST_PAYLOAD.encode("ascii")
    signature = key.sign("PS256", data)
    _expect(key.public().verify("PS256", data, signature, strict=True),
            "PS256: a fresh signature does not verify")
    _selftest_verify(key, "PS256", data, signature)


def _selftest_es() -> None:
    # RFC 6979 A.2.5: deterministic k, so r and s are exact.
    _selftest_need("ES")
    _selftest_sign(Key.from_jwk(_SELFTEST_ES256_JWK), "ES256", b"sample",
                   _SELFTEST_ES256)


def _selftest_es256k() -> None:
    _selftest_need("ES256K")
    data = ("eyJhbGciOiJFUzI1NksifQ." + _SELFTEST_PAYLOAD).encode("ascii")
    _selftest_sign(Key.from_jwk(_SELFTEST_ES256K_JWK), "ES256K", data,
                   _SELFTEST_ES256K)


def _selftest_ed25519() -> None:
    _selftest_need("Ed25519")
    _selftest_sign(Key.from_jwk(_SELFTEST_ED25519_JWK), "EdDSA", b"",
                   _SELFTEST_ED25519)


def _selftest_ed448() -> None:
    _selftest_need("Ed448")
    _selftest_sign(Key.from_jwk(_SELFTEST_ED448_JWK), "EdDSA", b"",
                   _SELFTEST_ED448)


def _selftest_params() -> None:
    # reference/kamailio-jwt3.md §1.6, rows of the example table.
    params = parse_params("a='x;y';b=\"it's\";c=100;d")
    _expect([(p.name, p.body) for p in params] == [
        ("a", "x;y"), ("b", "it's"), ("c", "100"), ("d", None)],
        "parse_params: wrong names or bodies")
    _expect(params[2].value() == 100 and params[0].value() == "x;y",
            "parse_params: wrong value types")
    _expect([p.name for p in parse_params("a=1,b=2")] == ["a"],
            "parse_params: ',' does not end the list")
    for bad in (" a=1", "a=1;;", "a='it's';b=2"):
        try:
            parse_params(bad)
        except MalformedError:
            continue
        raise AssertionError("parse_params accepted %r" % bad)


_SELFTESTS = [
    ("HS", _selftest_hs),
    ("RS", _selftest_rs),
    ("PS", _selftest_ps),
    ("ES", _selftest_es),
    ("ES256K", _selftest_es256k),
    ("Ed25519", _selftest_ed25519),
    ("Ed448", _selftest_ed448),
    ("parse_params", _selftest_params),
]   # type: List[Tuple[str, Callable[[], None]]]


def _selftest() -> List[Tuple[str, Optional[str], float]]:
    """Run every known-answer test: (family, failure or None, seconds).

    Any exception counts as a failure: on an untested interpreter a
    crash is as telling as a wrong answer.
    """
    results = []
    for family, test in _SELFTESTS:
        started = time.perf_counter()
        try:
            test()
            failure = None   # type: Optional[str]
        except _SelftestUnavailable as exc:
            failure = "not available: %s" % exc
        except Exception as exc:
            failure = "%s: %s" % (type(exc).__name__, exc)
        results.append((family, failure, time.perf_counter() - started))
    return results


# ---- 18a. Command line: input, output and files ----
#
# The ``jwt3`` command does nothing the library cannot: each subcommand
# is a few calls to the API above.  Results go to stdout, diagnostics to
# stderr.  Exit status: 0 success, 1 failure, 2 usage error (see main).

_cli_clock = time.time      # the CLI's clock (tests replace it)


class _CLIFailure(Exception):
    """The command failed; the message is for the user (exit 1)."""


class _CLIUsage(Exception):
    """The command line is wrong; the message is for the user (exit 2)."""


def _cli_say(command: str, message: str) -> None:
    """One diagnostic line on stderr."""
    text = " ".join(str(message).split("\n"))
    print("jwt3 %s: %s" % (command, text), file=sys.stderr)


def _cli_json(value: Any, indent: Optional[int] = None) -> str:
    """JSON text for stdout: UTF-8 as is, or \\u escapes if stdout's
    encoding cannot carry it (the value is the same JSON either way)."""
    separators = (",", ": ") if indent else (",", ":")
    text = json.dumps(value, ensure_ascii=False, indent=indent,
                      separators=separators)
    try:
        text.encode(getattr(sys.stdout, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        text = json.dumps(value, indent=indent, separators=separators)
    return text


def _cli_stdin() -> Any:
    """Standard input as a binary stream (or text, if that is all)."""
    stream = sys.stdin
    if stream is None:
        raise _CLIFailure("standard input is closed")
    return getattr(stream, "buffer", stream)


def _cli_read(path: str, what: str = "file") -> bytes:
    """The bytes of ``path`` ("-": standard input), at most 1 MiB."""
    try:
        if path == "-":
            data = _cli_stdin().read(_KEY_FILE_MAX + 1)
            if isinstance(data, str):
                data = data.encode("utf-8", "surrogateescape")
            path = "standard input"
        else:
            with open(path, "rb") as f:
                data = f.read(_KEY_FILE_MAX + 1)
    except OSError as exc:
        raise _CLIFailure("cannot read %s %s: %s" % (
            what, path, exc.strerror or exc)) from None
    except ValueError as exc:      # embedded NUL, closed stream...
        raise _CLIFailure("cannot read %s %r: %s" % (what, path, exc)) \
            from None
    if len(data) > _KEY_FILE_MAX:
        raise _CLIFailure("%s: larger than %d bytes" % (path,
                                                        _KEY_FILE_MAX))
    return bytes(data)


def _cli_tokens(arguments: Sequence[str], command: str) -> Iterator[str]:
    """The tokens named on the command line, where "-" (or no token at
    all) stands for one token per line of standard input.

    Lines end in LF or CRLF and have no length limit (the token size
    bound of decode applies); blank lines are skipped.
    """
    for argument in arguments or ["-"]:
        if argument != "-":
            yield argument.strip(" \t\r\n")
            continue
        stream = _cli_stdin()
        if not arguments and getattr(stream, "isatty", lambda: False)():
            _cli_say(command, "reading tokens from standard input, one"
                     " per line (end with Ctrl-D)")
        lines = iter(stream)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                break
            except (OSError, ValueError) as exc:
                raise _CLIFailure("cannot read standard input: %s" % (
                    getattr(exc, "strerror", None) or exc)) from None
            if isinstance(line, bytes):
                line = line.decode("ascii", "replace")
            token = line.strip()
            if token:
                yield token


def _cli_write(path: str, data: str, private: bool, force: bool) -> None:
    """Write ``data`` to a new file; mode 0600 if ``private``.

    The file is created with O_EXCL, so an existing file (or a symlink
    planted in its place) is never written through; ``force`` removes
    the old file first, so the new one still gets the new mode.
    """
    if force:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise _CLIFailure("cannot replace %s: %s"
                              % (path, exc.strerror or exc)) from None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY",
                                                           0)
    try:
        fd = os.open(path, flags, 0o600 if private else 0o644)
    except FileExistsError:
        raise _CLIFailure("%s exists (use --force to replace it)"
                          % path) from None
    except (OSError, ValueError) as exc:
        raise _CLIFailure("cannot create %s: %s" % (
            path, getattr(exc, "strerror", None) or exc)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8"))
    except OSError as exc:
        os.unlink(path)
        raise _CLIFailure("cannot write %s: %s"
                          % (path, exc.strerror or exc)) from None


def _cli_keys(key_string: str) -> Any:
    """The keys of a Kamailio key string: a KeySet, or the remote JWK
    Set client of a URL (DESIGN §5 lists the rules)."""
    return Module()._keys(key_string)


def _cli_keyset(keys: Any) -> KeySet:
    """The KeySet of ``_cli_keys``'s result (fetching a remote set)."""
    return keys if isinstance(keys, KeySet) else keys.keys()


def _cli_params(texts: Sequence[str], what: str, raw: Tuple[str, ...],
                into: Dict[str, Any]) -> None:
    """Add the params of each claims/headers string to ``into``; a name
    given twice, in one string or across several, is an error."""
    for text in texts:
        try:
            values = _param_values(text, what, raw)
        except MalformedError as exc:
            raise _CLIUsage(str(exc)) from None
        for name, value in values.items():
            _cli_add(into, name, value, what)


def _cli_add(into: Dict[str, Any], name: str, value: Any,
             what: str) -> None:
    if name in into:
        raise _CLIUsage("%s: %r given twice" % (what, name[:32]))
    into[name] = value


_CLI_SAFE_NAME_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}\Z")


def _cli_file_stem(key: Key, command: str) -> str:
    """The kid if it makes a safe file name, else the thumbprint."""
    kid = key.kid
    if kid is not None and _CLI_SAFE_NAME_RE.match(kid) \
            and ".." not in kid:
        return str(kid)
    thumbprint = key.thumbprint()
    if kid is not None:
        _cli_say(command, "kid %r is not a safe file name (letters,"
                 " digits, '.', '_', '-'; no '..'): naming the file by"
                 " its thumbprint %s" % (kid[:64], thumbprint))
    return thumbprint


# ---- 18b. Command line: the commands ----


def _cli_generate(args: Any) -> int:
    alg = args.alg
    claims = {}    # type: Dict[str, Any]
    _cli_params(args.claims, "claims", (), claims)
    if args.json is not None:
        try:
            extra = _json_loads(args.json, "--json")
        except MalformedError as exc:
            raise _CLIUsage(str(exc)) from None
        for name, value in extra.items():
            _cli_add(claims, name, value, "claims")

    # libjwt's builder sets iat to now; exp and nbf are offsets from it.
    now = int(_cli_clock())
    if not args.no_iat:
        if "iat" in claims:
            raise _CLIUsage("claims: 'iat' is set to now (pass --no-iat"
                            " to give your own)")
        claims["iat"] = now
    for name, offset in (("exp", args.exp), ("nbf", args.nbf)):
        if offset is not None:
            _cli_add(claims, name, now + offset, "claims")

    header = {}    # type: Dict[str, Any]
    _cli_params(args.headers, "headers", ("kid",), header)
    if args.kid is not None:
        _cli_add(header, "kid", args.kid, "headers")
    for name in ("alg", "crit", "b64"):
        if name in header:
            raise _CLIUsage("headers: %r cannot be set (alg comes from"
                            " -a; crit and b64 are not supported)" % name)

    # As the Kamailio generate: a kid header names the key exactly,
    # else the first key that can sign with alg.
    keys = _cli_keys(args.key)
    try:
        key = Module._select(keys, alg, header.get("kid"), "sign")
    except InvalidKeyError as exc:
        if "kid" in header and isinstance(keys, KeySet) and all(
                (key.kid or "").startswith("legacy-") for key in keys):
            raise _CLIFailure(
                "%s (a PEM key's kid is %r, as in Kamailio: sign with a"
                " JWK instead; jwt3 key2jwk makes one whose kid is its"
                " thumbprint)" % (exc, keys[0].kid)) from None
        raise
    print(encode(claims, key, alg, header))
    return 0


def _cli_verify(args: Any) -> int:
    alg = args.alg
    expected = []   # type: List[Param]
    for text in args.claims:
        try:
            expected.extend(param for param in parse_params(text)
                            if param.name and param.body)
        except MalformedError as exc:
            raise _CLIUsage("claims: %s" % exc) from None
    leeway = None if args.no_time else args.leeway   # type: Optional[int]
    if leeway is None:
        _cli_say("verify", "warning: --no-time: exp and nbf are not"
                 " checked")
    keys = _cli_keys(args.key)

    failed = False
    count = 0
    for count, token in enumerate(_cli_tokens(args.tokens, "verify"), 1):
        try:
            claims = _cli_verify_one(token, keys, alg, expected, leeway)
        except JWTError as exc:
            failed = True
            print("INVALID: %s" % " ".join(str(exc).split("\n")),
                  flush=True)
            continue
        print(_cli_json(claims), flush=True)
    # No token at all is a failure: an empty header value piped in must
    # not pass for a verified one.
    if not count:
        raise _CLIFailure("no token to verify")
    return 1 if failed else 0


def _cli_verify_one(token: str, keys: Any, alg: str,
                    expected: List[Param], leeway: Optional[int]
                    ) -> Dict[str, Any]:
    """The claims of a valid token, as the Kamailio verify checks it."""
    header = _parse_header(_split_token(token)[0])
    if header["alg"] != alg:
        raise AlgorithmNotAllowedError("token alg %r is not %s"
                                       % (header["alg"][:32], alg))
    key = Module._select(keys, alg, header.get("kid"), "verify")
    decoded = _decode(token, key, (alg,), leeway, _cli_clock(), None,
                      None, None, (), None, False, False)
    _check_expected(decoded.claims, expected)
    return decoded.claims


def _cli_decode(args: Any) -> int:
    _cli_say("decode", "NOT VERIFIED: the signature is not checked;"
             " nothing shown can be trusted")
    failed = False
    count = 0
    for count, token in enumerate(_cli_tokens(args.tokens, "decode"), 1):
        try:
            decoded = decode_unverified(token)
        except JWTError as exc:
            failed = True
            _cli_say("decode", str(exc))
            continue
        print(_cli_json(OrderedDict([("verified", False),
                                     ("header", decoded.header),
                                     ("claims", decoded.claims)]), 2),
              flush=True)
    if not count:
        raise _CLIFailure("no token to decode")
    return 1 if failed else 0


def _cli_key_text(key: Key, form: str, private: bool) -> str:
    if form == "pem":
        return key.to_pem(private)
    return _cli_json(key.to_jwk(private), 2) + "\n"


def _cli_keygen(args: Any) -> int:
    if args.out not in (None, "-") and args.out == args.public_out:
        raise _CLIUsage("--out and --public-out name the same file")
    symmetric = _algorithm(args.alg).kty == "oct"
    if symmetric and args.format == "pem":
        raise _CLIUsage("%s keys have no PEM form: use --format jwk"
                        % args.alg)
    if symmetric and args.public_out is not None:
        raise _CLIUsage("an HMAC key has no public half (its secret is"
                        " the key)")
    for path in (args.out, args.public_out):
        if path not in (None, "-") and not args.force \
                and os.path.lexists(path):
            raise _CLIFailure("%s exists (use --force to replace it)"
                              % path)

    try:
        key = generate_key(args.alg, bits=args.bits, crv=args.crv,
                           kid=args.kid)
    except ValueError as exc:
        raise _CLIUsage(str(exc)) from None
    for path, private in ((args.out, True), (args.public_out, False)):
        if path is None and not private:
            continue
        text = _cli_key_text(key, args.format, private)
        if path in (None, "-"):
            sys.stdout.write(text)
        else:
            _cli_write(path, text, private, args.force)
            _cli_say("keygen", "wrote the %s %s key (kid %s) to %s" % (
                "private" if private else "public", args.alg, key.kid,
                path))
    return 0


def _cli_key2jwk(args: Any) -> int:
    keys = []   # type: List[Key]
    for path in args.files:
        data = _cli_read(path, "key file")
        # No HMAC fallback (libjwt's key2jwk turns any unparseable file,
        # a corrupt PEM included, into an oct key made of its bytes).
        if not (data.startswith(b"\x30") or b"-----BEGIN" in data
                or data.lstrip().startswith(b"{")):
            raise _CLIFailure("%s: not a PEM, DER or JWK key (jwt3 never"
                              " makes an HMAC secret of a file)" % path)
        try:
            found = load_keys(data)
        except JWTError as exc:
            raise _CLIFailure("%s: %s" % (path, exc)) from None
        for key in found:
            kid = key.kid
            if args.no_kid:
                kid = None
            elif kid is None:
                kid = key.thumbprint()
            keys.append(Key(key._material, kid=kid, alg=key.alg,
                            use=key.use, key_ops=key.key_ops))

    private = not args.public
    if not private and any(key.kty == "oct" for key in keys):
        _cli_say("key2jwk", "oct keys left out: an HMAC secret has no"
                 " public form")
    jwks = KeySet(keys).to_jwks(private)
    text = _cli_json(jwks, 2) + "\n"
    if args.out in (None, "-"):
        sys.stdout.write(text)
    else:
        secret = private and any(key.is_private for key in keys)
        _cli_write(args.out, text, secret, args.force)
    return 0


def _cli_jwk2key(args: Any) -> int:
    data = _cli_read(args.file, "JWK file")
    try:
        keyset = KeySet.from_jwks(data)
    except JWTError as exc:
        raise _CLIFailure("%s: %s" % (args.file, exc)) from None
    for index, reason in keyset.skipped:
        _cli_say("jwk2key", "entry %d skipped: %s" % (index, reason))
    if not os.path.isdir(args.out):
        raise _CLIFailure("%s is not a directory" % args.out)

    written = []    # type: List[str]
    failed = False
    for key in keyset:
        if key.kty == "oct":
            _cli_say("jwk2key", "oct key%s skipped: an HMAC secret has no"
                     " PEM form" % ("" if key.kid is None
                                    else " %r" % key.kid[:64]))
            continue
        private = key.is_private and not args.public
        name = "%s.%s%s.pem" % (_cli_file_stem(key, "jwk2key"),
                                key.kty.lower(), "" if private else "_pub")
        path = os.path.join(args.out, name)
        try:
            if name in written:
                raise _CLIFailure("%s: two keys would share this name"
                                  % path)
            _cli_write(path, key.to_pem(private), private, args.force)
        except _CLIFailure as exc:
            _cli_say("jwk2key", str(exc))
            failed = True
            continue
        written.append(name)
        print(path)
    if not written and not failed:
        _cli_say("jwk2key", "no key written")
    return 1 if failed or not written else 0


def _cli_thumbprint(args: Any) -> int:
    for key in _cli_keyset(_cli_keys(args.key)):
        print(key.thumbprint(args.hash))
    return 0


def _cli_selftest(args: Any) -> int:
    print("jwt3 %s on %s %s (%s)" % (
        __version__, sys.implementation.name, ".".join(
            str(part) for part in sys.version_info[:3]), sys.platform))
    failures = 0
    total = 0.0
    for family, failure, seconds in _selftest():
        print("%-12s %-4s %8.1f ms%s" % (
            family, "FAIL" if failure else "ok", seconds * 1000,
            "  " + failure if failure else ""), flush=True)
        failures += failure is not None
        total += seconds
    if failures:
        print("selftest FAILED: %d of %d families" % (failures,
                                                      len(_SELFTESTS)))
        return 1
    print("selftest passed: %d families in %.1f ms" % (len(_SELFTESTS),
                                                        total * 1000))
    return 0


# ---- 18c. Command line: options and main ----

_CLI_EXIT_STATUS = """\
exit status:
  0  success
  1  failure: a key, token, file or claim was refused (verify: at
     least one token invalid; selftest: a family failed)
  2  usage error: unknown command or option, bad option value, unknown
     algorithm, claims or headers string that does not parse, a name
     given twice
"""

_CLI_HELP = {
    "generate": ("sign claims into a token", """\
claims and headers use the Kamailio jwt3 grammar: name=value;name2='str'
(a quoted value is a string; an unquoted integer is a number). -c and -H
may be repeated; --json adds typed values (booleans, objects, arrays).
A name given twice, in any of them, is an error. iat is set to now
unless --no-iat; --exp and --nbf are seconds from now. A kid header
(-H "kid=..." or --kid) picks the key of that kid from a JWK Set; else
the first key that can sign with ALG is used.

KEY is a Kamailio key string: a PEM file, a JWK/JWK Set file (name
ending in .json), inline JWK or PEM text, or an http(s) JWK Set URL.

examples:
  jwt3 keygen ES256 --out es256.json
  jwt3 generate -k es256.json -a ES256 -c "sub='alice';index=100" --exp 300
  jwt3 generate -k es256.json -a ES256 -H "typ=passport;ppt=shaken" \\
      --json '{"orig": {"tn": "12155550121"}, "dest": {"tn": ["12155550131"]}}'
"""),
    "verify": ("verify tokens and print their claims", """\
TOKEN arguments, or "-" (the default) for one token per line of standard
input (CRLF and blank lines are fine; no line-length limit). Prints one
line per token: its claims as JSON, or "INVALID: <reason>"; no token at
all is a failure. The key is the token's kid if the set has it, else the
first key usable with ALG.

EXPECTED claims use the Kamailio jwt3 rules: 'quoted' must equal a
string, an unquoted integer must equal an integer, aud may be an array
holding the value, exp and nbf must be equal integers; a missing claim
fails. Claims not named (aud included) are not checked. exp and nbf are
checked against the clock with LEEWAY seconds (default 0); --no-time
turns that off (with a warning).

examples:
  jwt3 verify -k es256.json -a ES256 "$TOKEN"
  jwt3 verify -k es256.json -a ES256 -c "sub='alice'" -l 30 "$TOKEN"
  jwt3 verify -k https://issuer.example/jwks.json -a RS256 - < tokens.txt
"""),
    "decode": ("show a token's header and claims, NOT verified", """\
Prints {"verified": false, "header": ..., "claims": ...} for each token
(TOKEN arguments, or one per line of standard input for "-", the
default). Nothing is checked but the token's form: use verify to trust
it.

examples:
  jwt3 decode "$TOKEN"
  echo "$TOKEN" | jwt3 decode
"""),
    "keygen": ("make a new private key", """\
Prints the private key, or writes it to --out FILE, created with mode
0600 (an existing file is never replaced without --force). The kid is
the RFC 7638 thumbprint unless --kid is given. --public-out FILE (or -
for stdout) also writes the public half. HS keys exist only as JWKs.

examples:
  jwt3 keygen HS256 --out hs256.json
  jwt3 keygen ES256 --format pem --out es256.pem --public-out es256.pub.pem
  jwt3 keygen RS256 --bits 3072 --kid rsa-2024 --out rs.json --public-out -
  jwt3 keygen EdDSA --crv Ed448 --out ed448.json
"""),
    "key2jwk": ("convert PEM/DER keys into one JWK Set", """\
Reads PEM (PKCS #8, SPKI, PKCS #1, SEC 1, certificates) or DER files,
and JWKs, and prints one JWK Set. A file that is no key is an error:
unlike libjwt's key2jwk, nothing becomes an HMAC secret. Private keys
keep their private members unless --public; the --out file is then
created with mode 0600.

examples:
  jwt3 key2jwk es256.pem rsa.pem > keys.json
  jwt3 key2jwk --public --out public.json es256.pem
"""),
    "jwk2key": ("write the keys of a JWK or JWK Set as PEM files", """\
Each key goes to DIR/<kid>.<kty>.pem (private, mode 0600) or
DIR/<kid>.<kty>_pub.pem (public); a kid that is not a safe file name is
replaced by the key's thumbprint. oct keys are skipped (no PEM form).
Existing files are never replaced without --force. Prints each path.

examples:
  jwt3 jwk2key keys.json --out pem/
  jwt3 jwk2key --public es256.json
"""),
    "thumbprint": ("print the RFC 7638 thumbprint of each key", """\
KEY is a Kamailio key string (file, inline JWK or PEM text, or URL).
One line per key, in order.

examples:
  jwt3 thumbprint es256.json
  jwt3 thumbprint --hash sha512 rsa.pem
"""),
    "selftest": ("run the embedded known-answer tests", """\
Runs known answers from RFC 7515, 7520, 6979, 8032 and libjwt for every
family (HS, RS, PS, ES, ES256K, Ed25519, Ed448) and the claims-string
parser: one line per family with its time. Exit status 0 only if all
pass; use it after copying jwt3.py to a new interpreter.

example:
  python3 jwt3.py selftest
"""),
}   # type: Dict[str, Tuple[str, str]]


def _cli_alg(text: str) -> str:
    import argparse
    try:
        return _algorithm(text).name
    except AlgorithmNotAllowedError as exc:
        raise argparse.ArgumentTypeError("%s (supported: %s)" % (
            exc, ", ".join(supported_algorithms()))) from None


def _cli_int(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        import argparse
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError("%r is not an integer"
                                             % text[:32]) from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(
                "%d is not in %d..%d" % (value, minimum, maximum))
        return value
    return parse


def _cli_parser() -> Any:
    import argparse

    parser = argparse.ArgumentParser(
        prog="jwt3", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="JSON Web Tokens in one pure-Python file: sign,"
        " verify and decode\ntokens; make, convert and fingerprint keys.",
        epilog="Run 'jwt3 COMMAND --help' for a command's options and"
        " examples.\n'jwt3' is also 'python3 jwt3.py' and 'python3 -m"
        " jwt3'.\n\n" + _CLI_EXIT_STATUS)
    parser.add_argument("--version", action="version",
                        version="jwt3 " + __version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, run: Callable[[Any], int]) -> Any:
        summary, epilog = _CLI_HELP[name]
        sub = commands.add_parser(
            name, help=summary, description=summary[:1].upper()
            + summary[1:] + ".", epilog=epilog + "\n" + _CLI_EXIT_STATUS,
            formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.set_defaults(run=run, parser=sub)
        return sub

    seconds = _cli_int(-(1 << 40), 1 << 40)
    sub = command("generate", _cli_generate)
    sub.add_argument("-k", "--key", required=True, help="signing key"
                     " (Kamailio key string)")
    sub.add_argument("-a", "--alg", "--algorithm", dest="alg",
                     required=True, type=_cli_alg, help="algorithm")
    sub.add_argument("-c", "--claims", action="append", default=[],
                     metavar="CLAIMS", help="claims string (repeatable)")
    sub.add_argument("-H", "--headers", action="append", default=[],
                     metavar="HEADERS", help="headers string (repeatable)")
    sub.add_argument("-j", "--json", metavar="OBJECT", help="a JSON object"
                     " of claims with typed values")
    sub.add_argument("--exp", type=seconds, metavar="SECONDS",
                     help="exp = now + SECONDS")
    sub.add_argument("--nbf", type=seconds, metavar="SECONDS",
                     help="nbf = now + SECONDS")
    sub.add_argument("-n", "--no-iat", action="store_true",
                     help="do not add iat")
    sub.add_argument("--kid", help="kid header (selects the key)")

    sub = command("verify", _cli_verify)
    sub.add_argument("-k", "--key", required=True, help="verification"
                     " key(s) (Kamailio key string)")
    sub.add_argument("-a", "--alg", "--algorithm", dest="alg",
                     required=True, type=_cli_alg, help="algorithm")
    sub.add_argument("-c", "--claims", action="append", default=[],
                     metavar="EXPECTED", help="expected claims"
                     " (repeatable)")
    times = sub.add_mutually_exclusive_group()
    times.add_argument("-l", "--leeway", type=_cli_int(0, 1 << 40),
                       default=0, help="clock skew allowed for exp/nbf,"
                       " seconds (default 0)")
    times.add_argument("--no-time", action="store_true",
                       help="do not check exp and nbf")
    sub.add_argument("tokens", nargs="*", metavar="TOKEN",
                     help='a token, or "-" for standard input (default)')

    sub = command("decode", _cli_decode)
    sub.add_argument("tokens", nargs="*", metavar="TOKEN",
                     help='a token, or "-" for standard input (default)')

    sub = command("keygen", _cli_keygen)
    sub.add_argument("alg", type=_cli_alg, metavar="ALG",
                     help="algorithm the key is for")
    sub.add_argument("--bits", type=_cli_int(1, 1 << 20),
                     help="secret or modulus size")
    sub.add_argument("--crv", help="curve (EdDSA: Ed25519 or Ed448)")
    sub.add_argument("--kid", help="kid (default: the thumbprint)")
    sub.add_argument("-f", "--format", choices=("jwk", "pem"),
                     default="jwk", help="output format (default jwk)")
    sub.add_argument("-o", "--out", metavar="FILE", help="write the"
                     " private key to FILE (mode 0600)")
    sub.add_argument("--public-out", metavar="FILE", help="also write"
                     " the public key to FILE (- for stdout)")
    sub.add_argument("--force", action="store_true",
                     help="replace existing files")

    sub = command("key2jwk", _cli_key2jwk)
    sub.add_argument("files", nargs="+", metavar="FILE",
                     help='key file ("-" for standard input)')
    sub.add_argument("--public", action="store_true",
                     help="public members only")
    kids = sub.add_mutually_exclusive_group()
    kids.add_argument("--kid-thumbprint", action="store_false",
                      dest="no_kid", help="a key without kid gets its"
                      " thumbprint (default)")
    kids.add_argument("--no-kid", action="store_true",
                      help="no kid members")
    sub.set_defaults(no_kid=False)
    sub.add_argument("-o", "--out", "--output", dest="out",
                     metavar="FILE", help="write to FILE, not stdout")
    sub.add_argument("--force", action="store_true",
                     help="replace an existing file")

    sub = command("jwk2key", _cli_jwk2key)
    sub.add_argument("file", metavar="FILE", help='JWK or JWK Set file'
                     ' ("-" for standard input)')
    sub.add_argument("-o", "--out", "-d", "--dir", dest="out",
                     metavar="DIR", default=".", help="output directory"
                     " (default .)")
    sub.add_argument("--public", action="store_true",
                     help="write public keys only")
    sub.add_argument("--force", action="store_true",
                     help="replace existing files")

    sub = command("thumbprint", _cli_thumbprint)
    sub.add_argument("key", metavar="KEY", help="Kamailio key string")
    sub.add_argument("--hash", choices=("sha256", "sha384", "sha512"),
                     default="sha256", help="hash (default sha256)")

    command("selftest", _cli_selftest)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The ``jwt3`` command: ``python3 jwt3.py``, ``python3 -m jwt3``
    or the installed ``jwt3`` script.  Returns the exit status.

    Commands (``jwt3 COMMAND --help`` shows options and examples)::

        generate    sign claims into a token
        verify      verify tokens and print their claims
        decode      show a token's header and claims, NOT verified
        keygen      make a new private key (files are mode 0600)
        key2jwk     convert PEM/DER keys into one JWK Set
        jwk2key     write the keys of a JWK Set as PEM files
        thumbprint  print RFC 7638 thumbprints
        selftest    run the embedded known-answer tests

    Examples::

        python3 jwt3.py keygen ES256 --out es256.json
        TOKEN=$(python3 jwt3.py generate -k es256.json -a ES256 \\
                -c "sub='alice'" --exp 300)
        python3 jwt3.py verify -k es256.json -a ES256 "$TOKEN"
        python3 jwt3.py decode "$TOKEN"

    Results go to stdout and diagnostics to stderr.  Exit status: 0
    success; 1 failure (a key, token, file or claim was refused; for
    verify, any token invalid; for selftest, any family failed); 2
    usage error (unknown command or option, bad option value, unknown
    algorithm, a claims or headers string that does not parse, a name
    given twice); 130 interrupted.  No input makes it print a
    traceback; ``argv`` defaults to ``sys.argv[1:]``.
    """
    parser = _cli_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:         # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        return _cli_usage_error(parser, "a COMMAND is needed (jwt3 --help"
                                " lists them)")

    try:
        return int(args.run(args))
    except _CLIUsage as exc:
        return _cli_usage_error(args.parser, str(exc))
    except BrokenPipeError:
        return _cli_broken_pipe()
    except (_CLIFailure, JWTError, ValueError, OSError) as exc:
        message = str(exc)
        if isinstance(exc, OSError) and exc.strerror:
            message = exc.strerror + (": %s" % exc.filename
                                      if exc.filename else "")
        _cli_say(args.command, message)
        return 1
    except KeyboardInterrupt:
        return 130


def _cli_usage_error(parser: Any, message: str) -> int:
    """Report a usage error as argparse does; return 2."""
    parser.print_usage(sys.stderr)
    print("%s: error: %s" % (parser.prog, message), file=sys.stderr)
    return 2


def _cli_broken_pipe() -> int:
    """stdout's reader went away (``jwt3 verify - | head``): stop
    quietly, and point stdout at /dev/null so the interpreter's final
    flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 1


if __name__ == "__main__":
    sys.exit(main())
