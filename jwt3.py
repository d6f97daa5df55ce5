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
   5. Keys: key material, Key and JWK (RFC 7517 §4, RFC 7638)
   6. Key sets and key loaders (RFC 7517 §5)
   7. HMAC: HS256, HS384, HS512 (RFC 7518 §3.2)
   8. RSA keys (RFC 8017)
   9. RSA key generation (FIPS 186-5 A.1.3)
  10. RSASSA: RS256/384/512 and PS256/384/512 (RFC 7518 §3.3, §3.5)
  11. Short Weierstrass curves: P-256, P-384, P-521, secp256k1
  12. Scalar multiplication: fixed-base tables, wNAF, GLV
  13. EC keys: JWK, SEC 1, PKCS #8, SPKI (RFC 7518 §6.2, RFC 5915)
  14. ECDSA with RFC 6979 nonces: ES256/384/512, ES256K
  15. edwards25519 arithmetic (RFC 8032 §5.1)
  16. edwards448 arithmetic (RFC 8032 §5.2)
  17. EdDSA and OKP keys: Ed25519, Ed448 (RFC 8032, RFC 8037)
  18. Key generation
  19. Remote JWK Sets: fetching over http(s)
  20. Remote JWK Sets: the cached client
  21. JWS compact serialization and JWT claims (RFC 7515, RFC 7519)
  22. Kamailio claims strings (parse_params)
  23. Kamailio key strings
  24. The Kamailio jwt3 module layer
  25. Self-test
  26. Command line: input, output and files
  27. Command line: the commands
  28. Command line: options and main
"""

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import math
import os
import re
import secrets
import stat
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
    "supported_algorithms", "JWKSClient",
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
_B64U_TO_B64 = bytes.maketrans(b"-_", b"+/")
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

    # The alphabet is checked, so surplus padding is harmless here.
    return binascii.a2b_base64(text.encode("ascii").translate(_B64U_TO_B64)
                               + b"==")


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
# Choice: parsing refuses what RFC 8259 leaves open and attackers like:
# duplicate member names (§4 "SHOULD be unique"; readers that keep the
# first and the last disagree), NaN and Infinity (not JSON at all), lone
# surrogates (§8.2), U+0000 (jansson, and so libjwt, refuse it), a byte
# order mark (§8.1 lets parsers ignore one; we do not), text that is not
# UTF-8, nesting deeper than _MAX_JSON_DEPTH, and integers of more than
# _MAX_JSON_INT_DIGITS digits.  Output matches jansson's
# json_dumps(JSON_COMPACT | JSON_SORT_KEYS) byte for byte.

_MAX_JSON_DEPTH = 32
# Choice: RFC 8259 §6 lets implementations limit the range of numbers.
# An explicit bound, checked before int() and again on output, makes
# every interpreter behave alike: CPython 3.11+ (and 3.8.14+) refuse
# int() of more than 4300 digits only by default, older builds and PyPy
# convert any length in quadratic time.  640 is the lowest limit
# sys.set_int_max_str_digits() accepts, so that setting never decides
# for us.  No JOSE member needs more (big numbers travel as base64url).
_MAX_JSON_INT_DIGITS = 640
_MAX_JSON_INT = 10 ** _MAX_JSON_INT_DIGITS
_SUSPECT_ESCAPE_RE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")


def _refuse_constant(name: str) -> Any:
    raise ValueError("%s is not JSON" % name)


def _parse_int(text: str) -> int:
    if len(text) - text.startswith("-") > _MAX_JSON_INT_DIGITS:
        raise ValueError("integer of more than %d digits"
                         % _MAX_JSON_INT_DIGITS)
    return int(text)


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
# The same with the integer bound; needed only for text long enough to
# hold a too-long integer (the hook costs a Python call per integer).
_BOUNDED_DECODER = json.JSONDecoder(object_pairs_hook=_unique_object,
                                    parse_constant=_refuse_constant,
                                    parse_float=_parse_float,
                                    parse_int=_parse_int)


_JSON_ESCAPE_RE = re.compile(r"\\.", re.DOTALL)
_JSON_STRING_RE = re.compile(r'"[^"]*"')
_JSON_NOT_BRACKET_RE = re.compile(r"[^\[\]{}]+")
_JSON_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _json_nesting(text: str) -> int:
    """How deep the brackets of JSON ``text`` nest, strings ignored.

    Read from the text before parsing, so that no input can make the
    parser recurse (json's scanner is recursive) and RecursionError
    never arises.  Three linear substitutions: drop escape pairs, then
    strings (which no longer hold quotes), then all but brackets.
    Invalid text may give any number; the parser refuses it anyway.
    """
    bare = _JSON_ESCAPE_RE.sub("", text)
    bare = _JSON_STRING_RE.sub("", bare)
    bare = _JSON_NOT_BRACKET_RE.sub("", bare)
    return max(itertools.accumulate(
        map(_JSON_BRACKET_STEP.__getitem__, bare)), default=0)


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

    # Cheap gate first: only text with many brackets can nest deeply.
    if data.count("{") + data.count("[") > _MAX_JSON_DEPTH \
            and _json_nesting(data) > _MAX_JSON_DEPTH:
        raise error("%s: JSON nested deeper than %d"
                    % (what, _MAX_JSON_DEPTH))
    decoder = (_BOUNDED_DECODER if len(data) > _MAX_JSON_INT_DIGITS
               else _DECODER)
    try:
        value = decoder.decode(data)
    except ValueError as exc:
        # JSONDecodeError, our hooks, and int digit limits all land here.
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) \
            else str(exc)
        raise error("%s: invalid JSON (%s)" % (what, reason)) from None

    if want_object and not isinstance(value, dict):
        raise error("%s: expected a JSON object, got %s"
                    % (what, _json_type_name(value)))
    # Cheap gate first: a walk is needed only when the text could hold
    # an escaped NUL or an escaped surrogate.
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
    bytes...) and MalformedError for non-finite numbers, U+0000 and
    nesting deeper than _MAX_JSON_DEPTH.  Strings and integers, the
    common members, are checked inline (this runs for every token).
    """
    if depth > _MAX_JSON_DEPTH:
        raise MalformedError("JSON value nested deeper than %d"
                             % _MAX_JSON_DEPTH)
    if isinstance(value, dict):
        has_float = False
        for name, item in value.items():
            if type(name) is not str and not isinstance(name, str):
                raise TypeError("JSON member names must be str, got %s"
                                % type(name).__name__)
            if "\x00" in name:
                _json_check(name)
            kind = type(item)
            if kind is str:
                if "\x00" in item:
                    _json_check(item)
            elif kind is int:
                if not -_MAX_JSON_INT < item < _MAX_JSON_INT:
                    _json_check(item)
            elif item is not None:
                has_float |= _json_check(item, depth + 1)
        return has_float
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, int):
        if not -_MAX_JSON_INT < value < _MAX_JSON_INT:
            raise MalformedError("JSON integer of more than %d digits"
                                 " (refused on input too)"
                                 % _MAX_JSON_INT_DIGITS)
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
    if isinstance(value, (list, tuple)):
        has_float = False
        for item in value:
            has_float |= _json_check(item, depth + 1)
        return has_float
    raise TypeError("cannot put %s into JSON" % type(value).__name__)


def _refuse_default(value: Any) -> Any:
    raise TypeError("cannot put %s into JSON" % type(value).__name__)


def _c_encoder() -> Optional[Callable[[Any, int], Any]]:
    """CPython's C encoder, built once with _ENCODER's settings (the
    public JSONEncoder builds one per call, a third of the cost of a
    small claims set).  None where it does not exist (PyPy) or does not
    take these arguments; _ENCODER.encode is then used."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    try:
        encoder = make(None, _refuse_default, json.encoder.encode_basestring,
                       None, ":", ",", True, False, False)
        probe = {"b": [1, None, True], "a": "\u00e9/"}
        if "".join(encoder(probe, 0)) != _ENCODER.encode(probe):
            return None
    except Exception:
        return None
    return encoder   # type: ignore[no-any-return]


_C_ENCODER = _c_encoder()


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
    elif _C_ENCODER is not None:
        text = "".join(_C_ENCODER(value, 0))
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
_DER_MAX_OID = 128         # octets of an OBJECT IDENTIFIER's content

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
    # Choice: X.660 bounds neither arcs nor their number, but the OIDs
    # read here name algorithms and curves (under 16 octets; a UUID
    # arc, 2.25.n, takes 20).  A longer one would only cost quadratic
    # time to assemble and a ValueError from str() past 4300 digits.
    if len(content) > _DER_MAX_OID:
        raise KeyFormatError("%s: OBJECT IDENTIFIER of %d octets, more"
                             " than %d" % (what, len(content),
                                           _DER_MAX_OID))
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
    # Two's complement in the fewest octets (X.690 §8.3.2): a negative
    # n needs as many bits as its complement ~n, plus the sign bit.
    magnitude = n if n >= 0 else ~n
    return _der(_DER_INTEGER, n.to_bytes(magnitude.bit_length() // 8 + 1,
                                         "big", signed=True))


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
    items = _der_sequence(_der_decode(der, what), what)
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


# RFC 7468 §3: the pre-encapsulation boundary may be followed by
# blanks before the end of its line.
_PEM_BEGIN_RE = re.compile(r"-----BEGIN ([A-Z0-9 ]{1,40})-----[ \t]*\r?\n")
_PEM_IGNORED = frozenset(("EC PARAMETERS",))
_WHITESPACE_RE = re.compile(r"[ \t\r\n]+")


def _pem_blocks(text: str) -> List[Tuple[str, bytes]]:
    """Every ``-----BEGIN X-----`` block in ``text`` as (label, DER).

    Text around the blocks (comments, ``openssl x509 -text`` output) is
    ignored, as RFC 7468 §2 allows.  Encapsulated headers (RFC 1421
    ``Proc-Type: 4,ENCRYPTED``) mean an encrypted key.  Every BEGIN line
    must open a block that ends with its own label: a damaged block next
    to good ones is an error, not skipped.  The scan is linear: it stops
    at the first BEGIN without its END.
    """
    blocks = []
    pos = text.find("-----BEGIN ")
    while pos >= 0:
        begin = _PEM_BEGIN_RE.match(text, pos)
        label = begin.group(1) if begin is not None else ""
        end = text.find("-----END %s-----" % label, pos)
        if begin is None or end < 0:
            raise KeyFormatError("PEM: unterminated or mislabelled block")
        body = text[begin.end():end]
        pos = text.find("-----BEGIN ", end)

        if label == "ENCRYPTED PRIVATE KEY" or ":" in body:
            raise KeyFormatError("PEM %s: encrypted keys are not"
                                 " supported; decrypt it first (openssl"
                                 " pkey -in KEY -out PLAIN)" % label)
        # Choice: RFC 7468 §3 asks parsers to be lax about line breaks
        # and blanks in the body, and we are; the base64 itself must be
        # canonical (below).
        compact = _WHITESPACE_RE.sub("", body)
        try:
            der = base64.b64decode(compact, validate=True)
        except (binascii.Error, ValueError):
            raise KeyFormatError("PEM %s: body is not base64" % label) \
                from None
        # Choice: RFC 4648 §3.5 lets decoders refuse non-zero pad bits;
        # we do, so one key has one PEM body (as for base64url).
        if base64.b64encode(der).decode("ascii") != compact:
            raise KeyFormatError("PEM %s: body is not canonical base64"
                                 % label)
        if label not in _PEM_IGNORED:
            blocks.append((label, der))
    return blocks


def _pem_encode(label: str, der: bytes) -> str:
    """PEM armour with 64-column lines (RFC 7468 §2)."""
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
        label, "\n".join(lines), label)


# ---- 5. Keys: key material, Key and JWK (RFC 7517 §4, RFC 7638) ----
#
# A Key is key material of one family plus the JWK metadata that limits
# its use (kid, alg, use, key_ops).  The material classes live in the
# algorithm sections and register themselves in three tables:
#
#   _JWK_PARSERS[kty](jwk) -> material      (RFC 7517 §4, RFC 7518 §6)
#   _ALGORITHMS[name]      -> _Alg           (sign, verify, key checks)
#   _KEY_GENERATORS[kty]   -> generator      (section 18)
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


# Limits on key input, checked before any parsing: the text of a JWK,
# JWK Set or PEM, or the DER bytes, at most _MAX_KEY_INPUT (the remote
# JWK Set cap of DESIGN §5); at most _MAX_JWKS_KEYS keys in a JWK Set
# or a PEM text.
_MAX_KEY_INPUT = 1 << 20


def _check_key_input(data: Union[str, bytes], what: str) -> None:
    if len(data) > _MAX_KEY_INPUT:
        raise KeyFormatError("%s: %d %s, more than %d" % (
            what, len(data), "bytes" if isinstance(data, bytes)
            else "characters", _MAX_KEY_INPUT))


# Choice: a "secret" that is a key's PEM, DER, OpenSSH or JWK text is
# refused, as PyJWT refuses PEM and SSH text since CVE-2017-11424 and
# CVE-2022-29217.  Such a secret is most likely a public key, which
# anyone can read and forge MACs with.  jwt3 never takes a key string as
# a secret by itself; this stops the caller who passes one explicitly.
_KEY_TEXT_RE = re.compile(
    br"\s*(?:---- BEGIN SSH2 |PuTTY-User-Key-File-"
    br"|(?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(?:256|384|521)"
    br"|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com"
    br"|x509v3-[a-z0-9-]+)\s+[A-Za-z0-9+/]{16})")


_KEY_TEXT_SECRET = ("an HMAC secret cannot be the PEM, DER, OpenSSH or"
                    " JWK text of a key: anyone with the public key could"
                    " forge MACs")


def _secret_is_key_text(secret: bytes) -> bool:
    """True if ``secret`` is the text or DER of a key (see above)."""
    if _KEY_TEXT_RE.match(secret) or b"-----BEGIN " in secret:
        return True
    if secret.lstrip()[:1] == b"{":
        try:
            jwk = _json_loads(secret, "secret")
        except JWTError:
            return False
        return "kty" in jwk or "keys" in jwk
    if secret[:1] == b"\x30":
        try:
            _der_to_material(secret)
        except JWTError:
            return False
        return True
    return False


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
            _check_key_input(jwk, "JWK")
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
        if _secret_is_key_text(bytes(secret)):
            raise InvalidKeyError(_KEY_TEXT_SECRET)
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
        data = _as_bytes(data, "DER")
        _check_key_input(data, "DER")
        return cls(_der_to_material(data), kid=kid)

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


# ---- 6. Key sets and key loaders (RFC 7517 §5) ----
#
# A KeySet holds the keys of a JWK Set (or of a PEM text with several
# blocks) in order; select() applies the eligibility rules of DESIGN §5.
# load_key/load_keys take any key source but a bare secret.

_MAX_JWKS_KEYS = 256
_MAX_JWKS_RECOVERIES = 2


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
            _check_key_input(jwks, "JWK Set")
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
        recoveries = 0
        for index, entry in enumerate(entries):
            if not isinstance(entry, Mapping):
                keyset.skipped.append((index, "not a JSON object"))
                continue
            # Choice: an RSA private JWK without its CRT members costs a
            # prime recovery (about half a second at 4096 bits); a set
            # may hold _MAX_JWKS_RECOVERIES of them, so that 256 cannot
            # stall a loader for minutes.  Real sets carry public keys,
            # or private keys with every member.
            if entry.get("kty") == "RSA" and "d" in entry \
                    and "p" not in entry:
                recoveries += 1
                if recoveries > _MAX_JWKS_RECOVERIES:
                    keyset.skipped.append((index, (
                        "more than %d RSA private keys without p, q, dp,"
                        " dq and qi" % _MAX_JWKS_RECOVERIES)))
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
            raise InvalidKeyError("no key with kid %r%s"
                                  % (kid[:64], self._skipped_note()))
        raise InvalidKeyError("no key can %s with %s%s%s" % (
            operation, alg, (": " + problems[0]) if problems else "",
            self._skipped_note()))

    def _skipped_note(self) -> str:
        """The entries left out at load, for a "no usable key" error
        (the key wanted may be among them)."""
        if not self.skipped:
            return ""
        return " (JWK Set entries skipped: %s)" % "; ".join(
            "[%d] %s" % skip for skip in self.skipped[:4])


def _pem_keys(text: Union[str, bytes], kid: Optional[str]) -> List[Key]:
    if isinstance(text, bytes):
        _check_key_input(text, "PEM")
        text = text.decode("ascii", "replace")
    if not isinstance(text, str):
        raise TypeError("PEM must be str or bytes, got %s"
                        % type(text).__name__)
    _check_key_input(text, "PEM")
    if "-----BEGIN" not in text:
        raise KeyFormatError("PEM: no -----BEGIN block")
    blocks = _pem_blocks(text)
    if len(blocks) > _MAX_JWKS_KEYS:
        raise KeyFormatError("PEM: %d blocks, more than %d"
                             % (len(blocks), _MAX_JWKS_KEYS))
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


# ---- 7. HMAC: HS256, HS384, HS512 (RFC 7518 §3.2) ----


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
    if _secret_is_key_text(secret):
        raise InvalidKeyError('JWK "k": ' + _KEY_TEXT_SECRET)
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


# ---- 8. RSA keys (RFC 8017) ----
#
# Letters are RFC 8017's (§3.1, §3.2): n the modulus, e the public
# exponent, d the private exponent, p and q the two primes, and the CRT
# values dP = d mod (p-1), dQ = d mod (q-1), qInv = q^-1 mod p (named
# dp, dq, qi as in the JWK, RFC 7518 §6.3.2); lambda(n) is
# lcm(p-1, q-1).  k is the length of n in octets.  Only two-prime keys
# exist here: multi-prime keys ("oth", RSAPrivateKey version 1) are
# refused.
#
# Size limits: a modulus of more than _RSA_MAX_BITS is refused on load,
# so that a hostile JWK Set with a 10 MB "n" cannot stall a verifier.
# Smaller keys of any size load (to be inspected or converted), but the
# RS*/PS* algorithms refuse moduli under _RSA_MIN_BITS (section 10).

_RSA_MIN_BITS = 2048
_RSA_MAX_BITS = 16384
# Choice: e < 2^33 besides RFC 8017's 3 <= e < n, as Go and BoringSSL
# require; an exponent as long as n would make every verification cost
# a private-key operation (a cheap denial of service from a JWK Set).
_RSA_MAX_E_BITS = 33
# Choice: a private JWK with "d" but without the CRT members (allowed by
# RFC 7518 §6.3.2) has its primes recovered only up to 4096 bits: the
# recovery costs a few exponentiations modulo n, seconds at 8192 bits
# and a minute at 16384 (measured on CPython 3.11), for any JWK Set
# that lists such a key.
_RSA_MAX_RECOVER_BITS = 4096
_RSA_OID = "1.2.840.113549.1.1.1"          # rsaEncryption, RFC 8017 A.1
_RSASSA_PSS_OID = "1.2.840.113549.1.1.10"  # id-RSASSA-PSS, RFC 8017 A.2.3
_RSA_CRT_NAMES = ("p", "q", "dp", "dq", "qi")


class _RSAMaterial(_Material):
    """An RSA public or private key (RFC 8017 §3.1, §3.2), validated.

    A private key always holds its CRT values, so signing never needs
    the slow full-size exponentiation.  ``pss_only`` marks a key that
    came with the id-RSASSA-PSS algorithm identifier: RS* refuse it.
    """

    __slots__ = ("n", "e", "d", "p", "q", "dp", "dq", "qi", "size", "k",
                 "is_private", "pss_only")
    kty = "RSA"

    def __init__(self, n: int, e: int, d: Optional[int] = None,
                 p: int = 0, q: int = 0, dp: int = 0, dq: int = 0,
                 qi: int = 0, pss_only: bool = False):
        _rsa_check_public(n, e)
        if d is not None:
            _rsa_check_private(n, e, d, p, q, dp, dq, qi)
        self.n, self.e, self.d = n, e, d
        self.p, self.q, self.dp, self.dq, self.qi = p, q, dp, dq, qi
        self.size = n.bit_length()
        self.k = (self.size + 7) // 8
        self.is_private = d is not None
        self.pss_only = pss_only

    def public(self) -> "_RSAMaterial":
        return _RSAMaterial(self.n, self.e, pss_only=self.pss_only)

    def jwk_members(self, private: bool) -> Dict[str, str]:
        # RFC 7518 §6.3: base64urlUInt, the fewest octets for the value.
        names = ("n", "e") + (("d",) + _RSA_CRT_NAMES if private else ())
        members = {"kty": "RSA"}
        for name in names:
            members[name] = _b64u_encode(_int_to_bytes(getattr(self, name)))
        return members

    def thumbprint_members(self) -> Dict[str, str]:
        # RFC 7638 §3.2: "e", "kty", "n" only.
        return self.jwk_members(False)

    def to_pkcs1(self, private: bool) -> Tuple[str, bytes]:
        """(PEM label, DER) of PKCS #1 RSAPrivateKey or RSAPublicKey
        (RFC 8017 A.1.2, A.1.1)."""
        if private:
            parts = (0, self.n, self.e, self.d, self.p, self.q, self.dp,
                     self.dq, self.qi)
            if None in parts:
                raise InvalidKeyError("a public key has no private part")
            return "RSA PRIVATE KEY", _der_seq(*(
                _der_int(part) for part in parts if part is not None))
        return "RSA PUBLIC KEY", _der_seq(_der_int(self.n),
                                          _der_int(self.e))

    def to_der(self, private: bool) -> Tuple[str, bytes]:
        # RFC 8017 A.1: rsaEncryption parameters are NULL.  RFC 4055
        # §3.1: id-RSASSA-PSS without parameters means "any hash".
        if self.pss_only:
            algorithm = _der_seq(_der_oid(_RSASSA_PSS_OID))
        else:
            algorithm = _der_seq(_der_oid(_RSA_OID), _DER_NULL_TLV)
        if private:
            return "PRIVATE KEY", _der_seq(
                _der_int(0), algorithm, _der_octets(self.to_pkcs1(True)[1]))
        return "PUBLIC KEY", _der_seq(algorithm,
                                      _der_bits(self.to_pkcs1(False)[1]))


def _rsa_check_public(n: int, e: int) -> None:
    """RFC 8017 §3.1: n odd, 3 <= e < n, e odd; plus our size limits."""
    if n.bit_length() > _RSA_MAX_BITS:
        raise InvalidKeyError("RSA modulus of %d bits: more than the %d"
                              "-bit limit" % (n.bit_length(),
                                              _RSA_MAX_BITS))
    if n % 2 == 0:
        raise InvalidKeyError("RSA modulus is even")
    if e < 3 or e % 2 == 0:
        raise InvalidKeyError("RSA public exponent must be odd and at"
                              " least 3")
    if e >= n:
        raise InvalidKeyError("RSA public exponent is not smaller than"
                              " the modulus")
    if e.bit_length() > _RSA_MAX_E_BITS:
        raise InvalidKeyError("RSA public exponent of %d bits: more than"
                              " %d" % (e.bit_length(), _RSA_MAX_E_BITS))


def _rsa_check_private(n: int, e: int, d: int, p: int, q: int, dp: int,
                       dq: int, qi: int) -> None:
    """RFC 8017 §3.2 (second form): the private values agree.

    p and q are not tested for primality: a key with a composite
    "prime" still fails safely, at the check after each signature.
    """
    # Comparisons first: no big multiplication for oversized input.
    if not (1 < p < n and 1 < q < n and p * q == n):
        raise InvalidKeyError("RSA private key: n is not p * q")

    # e * d == 1 (mod lambda(n)); this holds too for a d computed
    # modulo phi(n) = (p-1)(q-1), which lambda(n) divides.
    lambda_n = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    if not 0 < d < n or e * d % lambda_n != 1:
        raise InvalidKeyError("RSA private key: d is not the inverse of"
                              " e modulo lcm(p-1, q-1)")

    if dp != d % (p - 1) or dq != d % (q - 1) or not (
            0 < qi < p and q * qi % p == 1):
        raise InvalidKeyError("RSA private key: dp, dq or qi does not"
                              " match d, p and q")


def _rsa_recover_primes(n: int, e: int, d: int) -> Tuple[int, int]:
    """p and q from n, e and d (NIST SP 800-56B Rev. 2, Appendix C.2).

    Each random g splits n with probability at least 1/2, so 100 tries
    fail only with probability 2^-100 for a valid key.  An invalid d
    shows up at once: g^(de-1) must be 1 for every g.

    The inputs that would defeat every try are handled first, each at
    the cost of about one try: a prime n (every g is a Miller-Rabin
    liar) and a prime power (its group is cyclic).  For any other odd n
    a try ends, one way or the other, with probability at least 1/2,
    so a hostile key costs a few exponentiations, not a hundred.
    """
    # Steps 1-2: k = de - 1 = 2^t * r with r odd.
    k = d * e - 1
    if k % 2:
        raise InvalidKeyError("RSA private key: d is not a private"
                              " exponent for n and e")
    t = (k & -k).bit_length() - 1
    r = k >> t

    # If lambda(n) divides k and p^2 divides n, then p divides k: a
    # common factor splits n at once (and shows a prime power for what
    # it is; the checks on the result then refuse it).
    common = math.gcd(k, n)
    if 1 < common < n:
        return common, n // common
    if _is_probable_prime_vartime(n, 1):
        raise InvalidKeyError("RSA private key: the modulus is prime")

    # Step 3: look for a square root of 1 other than +1 and -1.
    for _ in range(100):
        g = secrets.randbelow(n - 3) + 2
        common = math.gcd(g, n)
        if common > 1:
            return common, n // common
        y = pow(g, r, n)
        if y == 1 or y == n - 1:
            continue
        for _ in range(t):
            x = y * y % n
            if x == 1:
                # Step 5: y is a non-trivial square root of 1.
                p = math.gcd(y - 1, n)
                return p, n // p
            if x == n - 1:
                break
            y = x
        else:
            raise InvalidKeyError("RSA private key: d is not a private"
                                  " exponent for n and e")
    # Step 4.
    raise InvalidKeyError("RSA private key: cannot recover p and q from"
                          " n, e and d")


def _rsa_from_components(n: int, e: int, d: int) -> _RSAMaterial:
    """A private key given only n, e and d: recover p, q and the CRT
    values, with p > q as most encoders write them."""
    # Checked first so that a huge n, e or d cannot make recovery crawl
    # (its exponentiations cost in proportion to the bits of d * e and
    # to the square of the bits of n).
    _rsa_check_public(n, e)
    if n.bit_length() > _RSA_MAX_RECOVER_BITS:
        raise InvalidKeyError("RSA private key of %d bits without p, q,"
                              " dp, dq and qi: give them (recovering"
                              " them is limited to %d-bit keys)"
                              % (n.bit_length(), _RSA_MAX_RECOVER_BITS))
    if not 0 < d < n:
        raise InvalidKeyError("RSA private key: d is not between 0 and n")
    p, q = _rsa_recover_primes(n, e, d)
    if p < q:
        p, q = q, p
    # A modulus with a repeated factor (p^2 * q, a prime power) can
    # split into factors that share one, and then q has no inverse
    # modulo p.
    if math.gcd(p, q) != 1:
        raise InvalidKeyError("RSA private key: n is not a product of two"
                              " distinct primes")
    return _RSAMaterial(n, e, d, p, q, d % (p - 1), d % (q - 1),
                        pow(q, -1, p))


def _rsa_jwk_int(jwk: Mapping[str, Any], name: str) -> int:
    if name not in jwk:
        raise KeyFormatError('JWK: RSA key without "%s"' % name)
    # Choice: RFC 7518 §6.3 asks for the fewest octets; we accept
    # leading zero octets on input (Java's BigInteger.toByteArray adds
    # a sign octet and such JWKs are in use) and always write minimal.
    # The thumbprint is computed from our minimal form, so it is the
    # same either way.
    return _b64u_uint(jwk[name], '"%s"' % name)


def _rsa_from_jwk(jwk: Mapping[str, Any]) -> _RSAMaterial:
    """An RSA JWK (RFC 7518 §6.3), public or private."""
    if "oth" in jwk:
        raise InvalidKeyError('JWK "oth": multi-prime RSA keys are not'
                              " supported")
    n = _rsa_jwk_int(jwk, "n")
    e = _rsa_jwk_int(jwk, "e")
    crt = [name for name in _RSA_CRT_NAMES if name in jwk]
    if "d" not in jwk:
        if crt:
            raise KeyFormatError('JWK: RSA key with "%s" but no "d"'
                                 % crt[0])
        return _RSAMaterial(n, e)

    # RFC 7518 §6.3.2: "d" alone, or "d" with every CRT member.
    d = _rsa_jwk_int(jwk, "d")
    if not crt:
        return _rsa_from_components(n, e, d)
    if len(crt) != len(_RSA_CRT_NAMES):
        missing = [name for name in _RSA_CRT_NAMES if name not in jwk]
        raise KeyFormatError('JWK: RSA private key with some CRT members'
                             ' but not "%s"' % '", "'.join(missing))
    p, q, dp, dq, qi = [_rsa_jwk_int(jwk, name) for name in _RSA_CRT_NAMES]
    return _RSAMaterial(n, e, d, p, q, dp, dq, qi)


def _rsa_from_pkcs1_public(der: bytes, pss_only: bool = False
                           ) -> _RSAMaterial:
    """PKCS #1 RSAPublicKey (RFC 8017 A.1.1), PEM "RSA PUBLIC KEY"."""
    what = "RSAPublicKey"
    items = _der_sequence(_der_decode(der, what), what, 2, 2)
    n = _der_read_int(items[0], what + " modulus")
    e = _der_read_int(items[1], what + " publicExponent")
    return _RSAMaterial(n, e, pss_only=pss_only)


def _rsa_from_pkcs1_private(der: bytes, pss_only: bool = False
                            ) -> _RSAMaterial:
    """PKCS #1 RSAPrivateKey (RFC 8017 A.1.2), PEM "RSA PRIVATE KEY"."""
    what = "RSAPrivateKey"
    items = _der_sequence(_der_decode(der, what), what, 9, 10)
    version = _der_read_int(items[0], what + " version")
    if version == 1:
        raise InvalidKeyError("multi-prime RSA keys (RSAPrivateKey"
                              " version 1) are not supported")
    if version != 0 or len(items) != 9:
        raise KeyFormatError("%s: version %d with %d elements, expected"
                             " version 0 with 9" % (what, version,
                                                    len(items)))
    names = ("modulus", "publicExponent", "privateExponent", "prime1",
             "prime2", "exponent1", "exponent2", "coefficient")
    n, e, d, p, q, dp, dq, qi = [
        _der_read_int(item, "%s %s" % (what, name))
        for item, name in zip(items[1:], names)]
    return _RSAMaterial(n, e, d, p, q, dp, dq, qi, pss_only=pss_only)


def _rsa_pss_only(oid: str, params: Optional[_DERItem], what: str
                  ) -> bool:
    """Check an AlgorithmIdentifier's parameters; True for RSASSA-PSS.

    Choice: rsaEncryption parameters must be NULL (RFC 8017 A.1, RFC
    4055 §1.2) or, as some encoders write them, absent.  An
    id-RSASSA-PSS key is accepted only without parameters (RFC 4055
    §3.1: usable with any hash), and then only for PS256/384/512;
    parameters that pin a hash and salt are not supported.
    """
    if oid == _RSASSA_PSS_OID:
        if params is not None:
            raise InvalidKeyError("%s: RSASSA-PSS key parameters are not"
                                  " supported" % what)
        return True
    if params is not None and params != (_DER_NULL, b""):
        raise KeyFormatError("%s: rsaEncryption parameters must be NULL"
                             % what)
    return False


def _rsa_from_spki(oid: str) -> Callable[..., _RSAMaterial]:
    def parse(params: Optional[_DERItem], public: bytes) -> _RSAMaterial:
        what = "SubjectPublicKeyInfo"
        return _rsa_from_pkcs1_public(public,
                                      _rsa_pss_only(oid, params, what))
    return parse


def _rsa_from_pkcs8(oid: str) -> Callable[..., _RSAMaterial]:
    def parse(params: Optional[_DERItem], private: bytes,
              public: Optional[bytes]) -> _RSAMaterial:
        what = "PKCS#8 private key"
        material = _rsa_from_pkcs1_private(
            private, _rsa_pss_only(oid, params, what))
        # RFC 5958 §2: the optional publicKey must be this key's.
        if public is not None:
            given = _rsa_from_pkcs1_public(public)
            if (given.n, given.e) != (material.n, material.e):
                raise InvalidKeyError("%s: publicKey does not match the"
                                      " private key" % what)
        return material
    return parse


_JWK_PARSERS["RSA"] = _rsa_from_jwk
_PEM_PARSERS["RSA PUBLIC KEY"] = _rsa_from_pkcs1_public
_PEM_PARSERS["RSA PRIVATE KEY"] = _rsa_from_pkcs1_private
for _oid in (_RSA_OID, _RSASSA_PSS_OID):
    _SPKI_PARSERS[_oid] = _rsa_from_spki(_oid)
    _PKCS8_PARSERS[_oid] = _rsa_from_pkcs8(_oid)
del _oid


# ---- 9. RSA key generation (FIPS 186-5 A.1.3) ----
#
# Probable primes from random candidates (FIPS 186-5 Appendix A.1.3,
# B.3): each candidate is drawn afresh from ``secrets``, sieved by trial
# division, then put through Miller-Rabin with random bases.

_RSA_PUBLIC_EXPONENT = 65537
_SMALL_PRIMES_LIMIT = 2000
_small_primes_product = 0   # the product of odd primes below the limit


def _odd_primes_product() -> int:
    """The product of the odd primes below _SMALL_PRIMES_LIMIT, made on
    first use (a gcd with it is one trial division by all of them)."""
    global _small_primes_product
    if not _small_primes_product:
        limit = _SMALL_PRIMES_LIMIT
        sieve = bytearray([1]) * limit
        for i in range(3, math.isqrt(limit) + 1, 2):
            if sieve[i]:
                sieve[i * i::2 * i] = bytes(len(sieve[i * i::2 * i]))
        product = 1
        for i in range(3, limit, 2):
            if sieve[i]:
                product *= i
        _small_primes_product = product
    return _small_primes_product


def _miller_rabin_rounds(bits: int) -> int:
    """Rounds for a random ``bits``-bit candidate to pass as prime while
    composite with probability at most 2^-100.

    Damgard, Landrock and Pomerance's bound (HAC Fact 4.48): for
    k >= 21 and 3 <= t <= k/9, p(k, t) < k^(3/2) 2^t t^(-1/2)
    4^(2 - sqrt(t k)).  It gives 4 rounds at 1024 bits (2^-106) and 3
    from 1236 bits; we add one round because our candidates come from
    the top quarter of the range rather than the whole of it.
    """
    t = 3
    while (1.5 * math.log2(bits) + t - 0.5 * math.log2(t)
           + 2 * (2 - math.sqrt(t * bits))) > -100:
        t += 1
    return t + 1


def _is_probable_prime_vartime(w: int, rounds: int) -> bool:
    """Miller-Rabin with random bases (FIPS 186-5 B.3.1).

    Variable time in w: it runs only on candidates, and a rejected
    candidate is thrown away.
    """
    # Step 1-2: w - 1 = 2^a * m with m odd.
    a = ((w - 1) & -(w - 1)).bit_length() - 1
    m = (w - 1) >> a
    for _ in range(rounds):
        b = secrets.randbelow(w - 3) + 2
        z = pow(b, m, w)
        if z == 1 or z == w - 1:
            continue
        for _ in range(a - 1):
            z = z * z % w
            if z == w - 1:
                break
        else:
            return False
    return True


def _random_prime(bits: int, e: int) -> int:
    """A probable prime p of ``bits`` bits with gcd(p - 1, e) = 1."""
    rounds = _miller_rabin_rounds(bits)
    sieve = _odd_primes_product()
    while True:
        # FIPS 186-5 A.1.3 step 4.4: p >= sqrt(2) * 2^(bits-1), which
        # setting the top two bits ensures (1.5 > sqrt(2)); so n = p*q
        # has exactly 2 * bits bits.
        p = secrets.randbits(bits) | (3 << (bits - 2)) | 1

        if math.gcd(p, sieve) != 1:
            continue
        # Step 4.5: e must be invertible modulo p - 1.
        if math.gcd(p - 1, e) != 1:
            continue
        if _is_probable_prime_vartime(p, rounds):
            return p


def _generate_rsa(alg: _Alg, bits: Optional[int], crv: Optional[str]
                  ) -> _RSAMaterial:
    """A new RSA key of ``bits`` (default 2048) with e = 65537."""
    if crv is not None:
        raise ValueError("an RSA key has no curve")
    if bits is None:
        bits = _RSA_MIN_BITS
    # Choice: whole octets, from the algorithms' minimum to the load
    # limit (keys past 8192 bits take minutes in pure Python).
    if not _RSA_MIN_BITS <= bits <= _RSA_MAX_BITS or bits % 8:
        raise ValueError("RSA keys are %d to %d bits, in multiples of 8"
                         % (_RSA_MIN_BITS, _RSA_MAX_BITS))
    e = _RSA_PUBLIC_EXPONENT
    half = bits // 2
    while True:
        p = _random_prime(half, e)
        q = _random_prime(half, e)

        # FIPS 186-5 A.1.3 step 5.4: |p - q| > 2^(nlen/2 - 100).
        if abs(p - q) <= 1 << (half - 100):
            continue

        # RFC 8017 §3.2 / FIPS 186-5 A.1.1: d = e^-1 mod lambda(n),
        # and 2^(nlen/2) < d.
        lambda_n = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
        d = pow(e, -1, lambda_n)
        if d > 1 << half:
            break
    if p < q:
        p, q = q, p
    return _RSAMaterial(p * q, e, d, p, q, d % (p - 1), d % (q - 1),
                        pow(q, -1, p))


_KEY_GENERATORS["RSA"] = _generate_rsa


# ---- 10. RSASSA: RS256/384/512 and PS256/384/512 (RFC 7518 §3.3, §3.5) ----
#
# Letters are RFC 8017's (§5.2, §8, §9): M the message, mHash its hash,
# EM the encoded message of emBits bits in emLen octets, m and s the
# message and signature representatives (integers), hLen the hash
# length, sLen the PSS salt length, and n, e, k as in section 8.
#
# Signing (RFC 8017 §5.2.1, second form) uses the CRT values and
# Garner's recombination, blinds the input with a fresh random r per
# signature so that the exponentiations never see a value an attacker
# chose, and checks the result before releasing it.  Python integers
# are not constant time; blinding makes what the timing of one
# signature reveals unrelated to the message, nothing more.

_RSA_HASHES = {
    "256": (hashlib.sha256, 32),
    "384": (hashlib.sha384, 48),
    "512": (hashlib.sha512, 64),
}

# RFC 8017 §9.2 Note 1: the DER of DigestInfo up to the hash value,
# i.e. SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING (hLen) }.
_DIGEST_INFO_PREFIXES = {
    "256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


def _rsasp1(key: _RSAMaterial, m: int) -> int:
    """s = m^d mod n by CRT, blinded and checked (RFC 8017 §5.2.1)."""
    n, e, p, q = key.n, key.e, key.p, key.q

    # Blinding (Kocher 1996): sign c = m * r^e instead of m, then
    # s = c^d * r^-1 = m^d.  r is fresh for every signature.  (An r
    # sharing a factor with n, probability about 2^-1000, would make
    # pow raise; that is left to chance.)  Dropping this would fail
    # no signature test: test_blinding_is_fresh_per_signature guards it.
    r = secrets.randbelow(n - 2) + 2
    r_inv = pow(r, -1, n)
    c = pow(r, e, n) * m % n

    # §5.2.1 step 2.b (Garner): s1 = c^dP mod p, s2 = c^dQ mod q,
    # h = (s1 - s2) * qInv mod p, s' = s2 + q * h.
    s1 = pow(c % p, key.dp, p)
    s2 = pow(c % q, key.dq, q)
    h = (s1 - s2) * key.qi % p
    s_blinded = s2 + q * h
    s = s_blinded * r_inv % n

    # Fault guard (Boneh, DeMillo, Lipton 1997): a signature with one
    # wrong CRT half gives away p as gcd(s^e - m, n).  Never release a
    # signature that does not verify.  test_rsa.py's corrupted-key test
    # guards this line.
    if pow(s, e, n) != m:
        raise InvalidKeyError("internal error: RSA signature check failed"
                              " (inconsistent key or fault)")
    return s


def _rsa_key_problem(name: str) -> Callable[[_RSAMaterial], Optional[str]]:
    def key_problem(key: _RSAMaterial) -> Optional[str]:
        # RFC 7518 §3.3, §3.5: "A key of size 2048 bits or larger MUST
        # be used with these algorithms."
        if key.size < _RSA_MIN_BITS:
            return "%s needs a modulus of at least %d bits, got %d" % (
                name, _RSA_MIN_BITS, key.size)
        if key.pss_only and name.startswith("RS"):
            return "an RSASSA-PSS key cannot be used with %s" % name
        return None
    return key_problem


def _emsa_pkcs1_v1_5(key: _RSAMaterial, bits: str, M: bytes) -> int:
    """EM = 0x00 || 0x01 || PS || 0x00 || T as an integer (RFC 8017
    §9.2).  emLen = k >= 256 here, so PS is always long enough."""
    hash_new = _RSA_HASHES[bits][0]
    T = _DIGEST_INFO_PREFIXES[bits] + hash_new(M).digest()
    PS = b"\xff" * (key.k - len(T) - 3)
    return _int_from_bytes(b"\x00\x01" + PS + b"\x00" + T)


def _rsassa_pkcs1_v1_5(name: str) -> _Alg:
    bits = name[2:]

    def sign(key: _RSAMaterial, data: bytes) -> bytes:
        # RFC 8017 §8.2.1.
        m = _emsa_pkcs1_v1_5(key, bits, data)
        return _int_to_bytes(_rsasp1(key, m), key.k)

    def verify(key: _RSAMaterial, data: bytes, signature: bytes,
               strict: bool) -> bool:
        # §8.2.2 step 1: the signature is exactly k octets.
        if len(signature) != key.k:
            return False

        # Step 2 (RSAVP1, §5.2.2): s < n, m = s^e mod n.
        s = _int_from_bytes(signature)
        if s >= key.n:
            return False
        m = pow(s, key.e, key.n)

        # Steps 3-4: encode the expected EM ourselves and compare the
        # whole of it.  Never parse the recovered block: parsers that
        # skip padding or stop after the DigestInfo accept forgeries
        # for e = 3 (Bleichenbacher 2006, CVE-2006-4339).  Plain == is
        # fine: m and the expected EM are both public.
        return m == _emsa_pkcs1_v1_5(key, bits, data)

    return _Alg(name, "RSA", None, sign, verify, _rsa_key_problem(name))


def _mgf1(seed: bytes, length: int, hash_new: Callable[..., Any],
          hLen: int) -> int:
    """MGF1 (RFC 8017 B.2.1), returned as a ``length``-octet integer."""
    T = b"".join(hash_new(seed + counter.to_bytes(4, "big")).digest()
                 for counter in range((length + hLen - 1) // hLen))
    return _int_from_bytes(T[:length])


def _rsassa_pss(name: str) -> _Alg:
    hash_new, hLen = _RSA_HASHES[name[2:]]

    def sign(key: _RSAMaterial, data: bytes) -> bytes:
        # RFC 8017 §9.1.1 (EMSA-PSS-ENCODE) with sLen = hLen (RFC 7518
        # §3.5: "The size of the salt value is the same size as the
        # hash function output").  emLen >= 256 > 2 * hLen + 2 here.
        emBits = key.size - 1
        emLen = (emBits + 7) // 8
        mHash = hash_new(data).digest()

        # Steps 4-6: a fresh random salt (test_rfc7520_4_2_verify sees
        # two signatures differ); H = Hash(0x00*8 || mHash || salt).
        salt = secrets.token_bytes(hLen)
        H = hash_new(b"\x00" * 8 + mHash + salt).digest()

        # Steps 7-12: DB = PS || 0x01 || salt, masked with MGF1(H), the
        # leftmost 8*emLen - emBits bits cleared; EM = maskedDB || H ||
        # 0xbc.
        db_len = emLen - hLen - 1
        DB = _int_from_bytes(b"\x01" + salt)
        masked_db = (DB ^ _mgf1(H, db_len, hash_new, hLen)) \
            & ((1 << (8 * db_len - (8 * emLen - emBits))) - 1)
        m = (masked_db << (8 * hLen + 8)) | (_int_from_bytes(H) << 8) \
            | 0xbc

        # §8.1.1 step 2: RSASP1.
        return _int_to_bytes(_rsasp1(key, m), key.k)

    def verify(key: _RSAMaterial, data: bytes, signature: bytes,
               strict: bool) -> bool:
        # §8.1.2 step 1 and 2 (RSAVP1): k octets, s < n.
        if len(signature) != key.k:
            return False
        s = _int_from_bytes(signature)
        if s >= key.n:
            return False
        m = pow(s, key.e, key.n)

        # Step 2.c: EM = I2OSP(m, emLen), which fails if m is too long.
        emBits = key.size - 1
        emLen = (emBits + 7) // 8
        if m >> (8 * emLen):
            return False
        EM = _int_to_bytes(m, emLen)

        # §9.1.2 steps 2-3: mHash; emLen >= hLen + sLen + 2 always
        # holds here (emLen >= 255, the salt is found in DB below).
        mHash = hash_new(data).digest()

        # Step 4: the rightmost octet is 0xbc.
        if EM[-1] != 0xbc:
            return False

        # Step 5-6: maskedDB || H, and the leftmost 8*emLen - emBits
        # bits of maskedDB are zero.
        db_len = emLen - hLen - 1
        masked_db = _int_from_bytes(EM[:db_len])
        H = EM[db_len:-1]
        if masked_db >> (8 * db_len - (8 * emLen - emBits)):
            return False

        # Steps 7-9: DB = maskedDB xor MGF1(H), with the leftmost
        # 8*emLen - emBits bits cleared (MGF1 may have set them).
        DB = masked_db ^ _mgf1(H, db_len, hash_new, hLen)
        DB &= (1 << (8 * db_len - (8 * emLen - emBits))) - 1

        # Step 10: DB = zeros || 0x01 || salt.  Deviation: sLen is not
        # fixed in advance (RFC 7518 does not say verifiers must check
        # it, and other signers use other lengths); the 0x01 octet marks
        # where the salt starts.  With ``strict``, sLen must be hLen.
        db = _int_to_bytes(DB, db_len).lstrip(b"\x00")
        if not db or db[0] != 0x01:
            return False
        salt = db[1:]
        if strict and len(salt) != hLen:
            return False

        # Steps 11-14: H' = Hash(0x00*8 || mHash || salt) equals H.
        # Plain == is fine: both are public.
        return hash_new(b"\x00" * 8 + mHash + salt).digest() == H

    return _Alg(name, "RSA", None, sign, verify, _rsa_key_problem(name))


for _name in ("RS256", "RS384", "RS512"):
    _ALGORITHMS[_name] = _rsassa_pkcs1_v1_5(_name)
for _name in ("PS256", "PS384", "PS512"):
    _ALGORITHMS[_name] = _rsassa_pss(_name)
del _name


# ---- 11. Short Weierstrass curves: P-256, P-384, P-521, secp256k1 ----
#
# Legend (SEC 1 v2 §2.2.1; curve values from SEC 2 v2 §2.4.1, §2.5.1,
# §2.6.1, §2.7.1 and FIPS 186-5 / SP 800-186 §3.2.1.3-§3.2.1.5):
#
#   p      the field prime; coordinates are integers in [0, p)
#   a, b   the curve E: y^2 = x^3 + a*x + b over GF(p); a = -3 for the
#          NIST curves and a = 0 for secp256k1
#   G      the base point (Gx, Gy)
#   n      the prime order of G; scalars are integers mod n
#   h      the cofactor #E(GF(p)) / n.  It is 1 on all four curves, so
#          every point of E other than O lies in <G>: a point that is
#          on the curve needs no subgroup check
#   O      the point at infinity (the group identity)
#
# Points are computed in Jacobian coordinates: (X, Y, Z) stands for the
# affine point (X/Z^2, Y/Z^3), and any triple with Z = 0 is O.  Chains
# of additions without doublings use XYZZ coordinates instead: (X, Y,
# ZZ, ZZZ) stands for (X/ZZ, Y/ZZZ) with ZZ^3 = ZZZ^2, and ZZ = 0 is O;
# their mixed addition needs 10 products where Jacobian needs 11.
# Table points are stored affine as (x, y), so most additions are
# "mixed" (projective plus affine).  The formulas are those of the
# Explicit-Formulas Database (EFD), cited by name:
# https://hyperelliptic.org/EFD/g1p/auto-shortw-jacobian-3.html
# https://hyperelliptic.org/EFD/g1p/auto-shortw-jacobian-0.html
# https://hyperelliptic.org/EFD/g1p/auto-shortw-xyzz.html
#
# Choice: where an EFD formula computes 2*Y1*Z1 as (Y1+Z1)^2 - Y1^2 -
# Z1^2 to trade a multiplication for a squaring, we multiply: CPython
# squares no faster than it multiplies.  Reductions mod p are done once
# per sum of products rather than after every product.  None of the
# functions here hides its timing; section 12 says which inputs are
# secret and what that costs.

_Jacobian = Tuple[int, int, int]
_XYZZ = Tuple[int, int, int, int]
_Affine = Tuple[int, int]
_INFINITY = (1, 1, 0)            # type: _Jacobian
_INFINITY_XYZZ = (1, 1, 0, 0)    # type: _XYZZ


class _Curve:
    """One short Weierstrass curve and its lazily built tables."""

    __slots__ = ("name", "p", "a", "b", "gx", "gy", "n", "h", "bits",
                 "field_len", "scalar_len", "oid", "window", "g_table",
                 "glv")

    def __init__(self, name: str, p: int, a: int, b: int, gx: int,
                 gy: int, n: int, oid: str, window: int):
        self.name = name
        self.p = p
        self.a = a
        self.b = b
        self.gx = gx
        self.gy = gy
        self.n = n
        self.h = 1
        self.bits = n.bit_length()
        # Octets of a coordinate (SEC 1 §2.3.5) and of a scalar (RFC
        # 7518 §3.4: R and S are each ceil(bits(n)/8) octets).
        self.field_len = (p.bit_length() + 7) // 8
        self.scalar_len = (self.bits + 7) // 8
        self.oid = oid
        # Window width of the fixed-base table for G (section 12).
        self.window = window
        self.g_table = None    # type: Optional[_FixedTable]
        # secp256k1 only: (beta, lambda, basis) for GLV (section 12).
        self.glv = None   # type: Optional[Tuple[int, int, int, int, int, int]]

    def __repr__(self) -> str:
        return "<_Curve %s>" % self.name


_P256 = _Curve(
    "P-256",
    p=0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff,
    a=-3,
    b=0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b,
    gx=0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
    gy=0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5,
    n=0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551,
    oid="1.2.840.10045.3.1.7", window=9)

_P384 = _Curve(
    "P-384",
    p=int("ffffffffffffffffffffffffffffffffffffffffffffffff"
          "fffffffffffffffeffffffff0000000000000000ffffffff", 16),
    a=-3,
    b=int("b3312fa7e23ee7e4988e056be3f82d19181d9c6efe814112"
          "0314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef", 16),
    gx=int("aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b98"
           "59f741e082542a385502f25dbf55296c3a545e3872760ab7", 16),
    gy=int("3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147c"
           "e9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f", 16),
    n=int("ffffffffffffffffffffffffffffffffffffffffffffffff"
          "c7634d81f4372ddf581a0db248b0a77aecec196accc52973", 16),
    oid="1.3.132.0.34", window=8)

_P521 = _Curve(
    "P-521",
    p=(1 << 521) - 1,
    a=-3,
    b=int("0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b4899"
          "18ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef"
          "451fd46b503f00", 16),
    gx=int("00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af"
           "606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429b"
           "f97e7e31c2e5bd66", 16),
    gy=int("011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd"
           "17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c240"
           "88be94769fd16650", 16),
    n=int("01ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
          "fffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47ae"
          "bb6fb71e91386409", 16),
    oid="1.3.132.0.35", window=7)

_SECP256K1 = _Curve(
    "secp256k1",
    p=0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f,
    a=0,
    b=7,
    gx=0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798,
    gy=0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8,
    n=0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141,
    oid="1.3.132.0.10", window=9)

_CURVES = OrderedDict((curve.name, curve) for curve in (
    _P256, _P384, _P521, _SECP256K1))     # type: Dict[str, _Curve]
_CURVES_BY_OID = {curve.oid: curve for curve in _CURVES.values()}


def _on_curve(curve: _Curve, x: int, y: int) -> bool:
    """True if (x, y) is an affine point of the curve, both < p."""
    p = curve.p
    if not (0 <= x < p and 0 <= y < p):
        return False
    return (y * y - (x * x + curve.a) * x - curve.b) % p == 0


def _sqrt_mod_p(curve: _Curve, c: int) -> Optional[int]:
    """A square root of c mod p, or None if c is not a square.

    All four primes are 3 mod 4, so c^((p+1)/4) is a root when one
    exists (SEC 1 §2.3.4 step 2.4.1 leaves the method open).
    """
    p = curve.p
    root = pow(c, (p + 1) >> 2, p)
    return root if root * root % p == c % p else None


def _jacobian_double(curve: _Curve, X1: int, Y1: int, Z1: int
                     ) -> _Jacobian:
    """2*P1, complete: O and Y1 = 0 give O (Z3 = 0)."""
    p = curve.p

    # dbl-2009-l (a = 0): alpha = 3*X1^2.
    # dbl-2001-b (a = -3): alpha = 3*(X1 - delta)*(X1 + delta)
    #   = 3*X1^2 - 3*Z1^4.  The two formulas agree from here on.
    if curve.a == 0:
        alpha = 3 * X1 * X1 % p
    else:
        delta = Z1 * Z1 % p
        alpha = 3 * (X1 - delta) * (X1 + delta) % p
    gamma = Y1 * Y1 % p
    beta = X1 * gamma % p
    X3 = (alpha * alpha - 8 * beta) % p
    Z3 = 2 * Y1 * Z1 % p
    Y3 = (alpha * (4 * beta - X3) - 8 * gamma * gamma) % p
    return X3, Y3, Z3


def _jacobian_add(curve: _Curve, X1: int, Y1: int, Z1: int, X2: int,
                  Y2: int, Z2: int) -> _Jacobian:
    """P1 + P2, complete: handles O, P1 = P2 and P1 = -P2."""
    p = curve.p
    if not Z1 % p:
        return X2, Y2, Z2
    if not Z2 % p:
        return X1, Y1, Z1

    # add-2007-bl
    Z1Z1 = Z1 * Z1 % p
    Z2Z2 = Z2 * Z2 % p
    U1 = X1 * Z2Z2 % p
    U2 = X2 * Z1Z1 % p
    S1 = Y1 * Z2 % p * Z2Z2 % p
    S2 = Y2 * Z1 % p * Z1Z1 % p
    H = (U2 - U1) % p
    r = 2 * (S2 - S1) % p
    if not H:
        # Same x: P1 = P2 (double) or P1 = -P2 (sum is O).
        if not r:
            return _jacobian_double(curve, X1, Y1, Z1)
        return _INFINITY
    I = 4 * H * H % p
    J = H * I % p
    V = U1 * I % p
    X3 = (r * r - J - 2 * V) % p
    Y3 = (r * (V - X3) - 2 * S1 * J) % p
    Z3 = 2 * Z1 * Z2 % p * H % p
    return X3, Y3, Z3


def _jacobian_madd(curve: _Curve, X1: int, Y1: int, Z1: int, x2: int,
                   y2: int) -> _Jacobian:
    """P1 + (x2, y2) for an affine point, complete.

    The hot loops of section 12 inline this formula and fall back to
    this function only when their result has Z3 = 0 (P1 = O or
    P1 = +-P2), so that the common path needs one test.
    """
    p = curve.p
    if not Z1 % p:
        return x2, y2, 1

    # madd-2007-bl (Z2 = 1)
    Z1Z1 = Z1 * Z1 % p
    U2 = x2 * Z1Z1 % p
    S2 = y2 * Z1 % p * Z1Z1 % p
    H = (U2 - X1) % p
    r = 2 * (S2 - Y1) % p
    if not H:
        if not r:
            return _jacobian_double(curve, x2, y2, 1)
        return _INFINITY
    HH = H * H % p
    I = 4 * HH
    J = H * I % p
    V = X1 * I % p
    X3 = (r * r - J - 2 * V) % p
    Y3 = (r * (V - X3) - 2 * Y1 * J) % p
    Z3 = 2 * Z1 * H % p
    return X3, Y3, Z3


def _xyzz_madd(curve: _Curve, X1: int, Y1: int, ZZ1: int, ZZZ1: int,
               x2: int, y2: int) -> _XYZZ:
    """P1 + (x2, y2) in XYZZ coordinates, complete (see _mul_fixed_add,
    which inlines the formula and falls back to this function)."""
    p = curve.p
    if not ZZ1 % p:
        return x2, y2, 1, 1

    # madd-2008-s (EFD, shortw-xyzz)
    U2 = x2 * ZZ1 % p
    S2 = y2 * ZZZ1 % p
    P = (U2 - X1) % p
    R = (S2 - Y1) % p
    if not P:
        if R:
            return _INFINITY_XYZZ
        # mdbl-2008-s-1: 2*(x2, y2)
        U = 2 * y2
        V = U * U % p
        W = U * V % p
        S = x2 * V % p
        M = (3 * x2 * x2 + curve.a) % p
        X3 = (M * M - 2 * S) % p
        Y3 = (M * (S - X3) - W * y2) % p
        return X3, Y3, V, W
    PP = P * P % p
    PPP = P * PP % p
    Q = X1 * PP % p
    X3 = (R * R - PPP - 2 * Q) % p
    Y3 = (R * (Q - X3) - Y1 * PPP) % p
    ZZ3 = ZZ1 * PP % p
    ZZZ3 = ZZZ1 * PPP % p
    return X3, Y3, ZZ3, ZZZ3


def _to_affine(curve: _Curve, X: int, Y: int, Z: int
               ) -> Optional[_Affine]:
    """(X/Z^2, Y/Z^3), or None for O.  Variable time in Z (public)."""
    p = curve.p
    if not Z % p:
        return None
    zinv = pow(Z, -1, p)
    zinv2 = zinv * zinv % p
    return X * zinv2 % p, Y * zinv2 % p * zinv % p


def _batch_to_affine(curve: _Curve, points: Sequence[_Jacobian]
                     ) -> List[_Affine]:
    """Normalize many Jacobian points (none of them O) to affine with
    one inversion: Montgomery's trick (Montgomery 1987, §10.3.1).
    Variable time; used on public points only."""
    p = curve.p

    # prefix[i] = Z_0 * ... * Z_(i-1)
    prefix = [1]
    acc = 1
    for _, _, Z in points:
        acc = acc * Z % p
        prefix.append(acc)

    # Walk back: inv = 1 / (Z_0 ... Z_i), so 1/Z_i = inv * prefix[i].
    inv = pow(acc, -1, p)
    out = [(0, 0)] * len(points)
    for i in range(len(points) - 1, -1, -1):
        X, Y, Z = points[i]
        zinv = inv * prefix[i] % p
        inv = inv * Z % p
        zinv2 = zinv * zinv % p
        out[i] = (X * zinv2 % p, Y * zinv2 % p * zinv % p)
    return out


# ---- 12. Scalar multiplication: fixed-base tables, wNAF, GLV ----
#
# Three routes to k*P, chosen by what is secret:
#
# * _mul_fixed_add(table, k) for a point with a fixed-base table: G
#   always (built at first use, never at import), and a public key that
#   has verified several tokens (the LRU below).  The scalar is recoded
#   into odd signed base-2^w digits (regular recoding, Joye and Tunstall,
#   "Exponent Recoding and Regular Exponentiation Algorithms", 2009):
#   no digit is ever zero, so every window costs exactly one mixed
#   addition of a table point, and there are no doublings.  The number
#   of windows depends on n only, not on k: a short nonce runs the same
#   loop as a long one (the Minerva lesson, CVE-2024-23342).  Signing
#   and key generation use it.
# * _mul_add_vartime(u1, u2, Q) = u1*G + u2*Q for verification, where
#   every input is public: wNAF for u2*Q (width 5, table batch-inverted
#   to affine), split in two half-length scalars on secp256k1 by the GLV
#   endomorphism, then u1*G from G's table.
#
# What still leaks when signing: CPython's big-integer arithmetic takes
# time that depends on the operands' values (limb counts, signs, the
# carries of % and of the digit recoding), the table row read depends on
# the secret digit (a cache-timing channel), and the exceptional-case
# branch of the addition (taken when the accumulator meets +-the table
# point, with negligible probability for a nonce that is not chosen by
# an attacker).  Pure Python cannot close these; what is closed is the
# loud channel: the sequence and number of point operations.

_FixedTable = Tuple[int, List[List[_Affine]]]   # (w, rows)


def _fixed_table(curve: _Curve, x: int, y: int, w: int) -> _FixedTable:
    """The fixed-base table of B = (x, y): rows[i][j] = (2j+1)*2^(w*i)*B,
    affine, for every window i that _mul_fixed_add reads.

    Variable time: B is G or a public key, never a secret.
    """
    count = 1 << (w - 1)
    # A scalar below 2n < 2^(bits+1) needs ceil((bits+2)/w) odd digits
    # (see _mul_fixed_add).
    windows = -(-(curve.bits + 2) // w)

    points = []      # type: List[_Jacobian]
    B = (x, y, 1)
    for _ in range(windows):
        # The odd multiples B, 3B, 5B, ... by repeated mixed addition of
        # 2B, made affine once for the purpose.
        two_B = _to_affine(curve, *_jacobian_double(curve, *B))
        if two_B is None:
            raise ValueError("internal error: 2B = O in a fixed table")
        P = B
        points.append(P)
        for _ in range(count - 1):
            P = _jacobian_madd(curve, P[0], P[1], P[2], two_B[0],
                               two_B[1])
            points.append(P)

        # 2^w * B = (2^w - 1)*B + B: the next window's base.
        B = _jacobian_add(curve, P[0], P[1], P[2], B[0], B[1], B[2])

    flat = _batch_to_affine(curve, points)
    return w, [flat[i:i + count] for i in range(0, len(flat), count)]


def _g_table(curve: _Curve) -> _FixedTable:
    """G's fixed-base table, built at first use (tens of ms)."""
    table = curve.g_table
    if table is None:
        table = curve.g_table = _fixed_table(curve, curve.gx, curve.gy,
                                             curve.window)
    return table


def _regular_digits(k: int, n: int, w: int, count: int) -> List[int]:
    """``count`` odd signed digits d_i, |d_i| < 2^w, least significant
    first, with sum d_i * 2^(w*i) = k or k + n (whichever is odd).

    The loop and the digit count are the same for every k: a nonce with
    leading zero bits is recoded exactly like any other.
    """
    # k*B = (k + n)*B: pick the odd one of the two without a branch.
    # m < 2n < 2^(bits+1).
    k %= n
    m = k + n * (1 - (k & 1))

    # Each step leaves (m - d)/2^w odd; the last digit is what remains,
    # 1 <= m < 2^w since count >= (bits+2)/w (Joye-Tunstall §3.2).
    mask = (2 << w) - 1
    half = 1 << w
    digits = []
    for _ in range(count - 1):
        d = (m & mask) - half
        digits.append(d)
        m = (m - d) >> w
    digits.append(m)
    return digits


def _mul_fixed_add(curve: _Curve, table: _FixedTable, k: int,
                   acc: _XYZZ = _INFINITY_XYZZ) -> _XYZZ:
    """acc + k*B in XYZZ coordinates, where ``table`` is B's table.

    The same sequence of table reads and mixed additions for every k:
    suitable for secret scalars (with the leaks listed above).
    """
    p = curve.p
    w, rows = table
    X1, Y1, ZZ1, ZZZ1 = acc
    digits = _regular_digits(k, curve.n, w, len(rows))

    for row, d in zip(rows, digits):
        # |d| = 2j+1 selects row[j]; s = -1 for d < 0 negates y.
        s = d >> w
        x2, y2 = row[(d ^ s) >> 1]
        y2 = (y2 ^ s) - s

        # madd-2008-s, as _xyzz_madd; ZZ3 = 0 flags the exceptional
        # cases (P1 = O or P1 = +-P2), which that function handles.
        U2 = x2 * ZZ1 % p
        S2 = y2 * ZZZ1 % p
        P = U2 - X1
        R = S2 - Y1
        PP = P * P % p
        PPP = P * PP % p
        Q = X1 * PP % p
        ZZ3 = ZZ1 * PP % p
        if not ZZ3:
            X1, Y1, ZZ1, ZZZ1 = _xyzz_madd(curve, X1, Y1, ZZ1, ZZZ1,
                                           x2, y2)
            continue
        X1 = (R * R - PPP - 2 * Q) % p
        Y1 = (R * (Q - X1) - Y1 * PPP) % p
        ZZ1 = ZZ3
        ZZZ1 = ZZZ1 * PPP % p
    return X1, Y1, ZZ1, ZZZ1


def _random_below(bound: int) -> int:
    """A random integer in [1, bound-1] (FIPS 186-5 §A.2.1: 64 extra
    bits make the bias negligible)."""
    nbytes = (bound.bit_length() + 7) // 8 + 8
    return int.from_bytes(os.urandom(nbytes), "big") % (bound - 1) + 1


def _mul_base(curve: _Curve, k: int) -> _Affine:
    """k*G in affine form for a secret k in [1, n-1] (so k*G is not O).

    The inversion mod p is blinded by a random factor, so the
    variable-time extended Euclid in pow() never sees ZZ*ZZZ itself.
    """
    X, Y, ZZ, ZZZ = _mul_fixed_add(curve, _g_table(curve), k)
    p = curve.p
    blind = _random_below(p)
    inv = pow(ZZ * ZZZ % p * blind % p, -1, p) * blind % p
    return X * ZZZ % p * inv % p, Y * ZZ % p * inv % p


def _wnaf_vartime(k: int, w: int) -> List[int]:
    """The width-w NAF of k >= 0, least significant digit first: odd
    digits |d| < 2^(w-1), each followed by at least w-1 zeros (Guide to
    ECC, Hankerson, Menezes and Vanstone, Algorithm 3.35)."""
    digits = [0] * (k.bit_length() + 1)
    full = 1 << w
    pos = 0
    while k:
        zeros = (k & -k).bit_length() - 1
        pos += zeros
        k >>= zeros
        d = k & (full - 1)
        if d >= full >> 1:
            d -= full
        digits[pos] = d
        # k - d is a multiple of 2^w: skip the w zero digits.
        k = (k - d) >> w
        pos += w
    while digits and not digits[-1]:
        digits.pop()
    return digits


_WNAF_WIDTH = 5


def _odd_multiples_vartime(curve: _Curve, x: int, y: int
                           ) -> List[_Affine]:
    """P, 3P, 5P, ..., (2^(w-1) - 1)P for the wNAF width, affine."""
    two_P = _to_affine(curve, *_jacobian_double(curve, x, y, 1))
    if two_P is None:
        raise ValueError("internal error: 2P = O for a checked point")
    points = [(x, y, 1)]
    for _ in range((1 << (_WNAF_WIDTH - 2)) - 1):
        X, Y, Z = points[-1]
        points.append(_jacobian_madd(curve, X, Y, Z, two_P[0], two_P[1]))
    return _batch_to_affine(curve, points)


def _wnaf_lookup(curve: _Curve, multiples: Sequence[_Affine],
                 negate: bool) -> List[_Affine]:
    """A list indexed by a wNAF digit d (negative d by Python's negative
    indexing) giving d*P, or -d*P if ``negate``."""
    p = curve.p
    lookup = [(0, 0)] * (1 << _WNAF_WIDTH)    # even d: never read
    for j, (x, y) in enumerate(multiples):
        plus, minus = (x, y), (x, (p - y) % p)
        if negate:
            plus, minus = minus, plus
        lookup[2 * j + 1] = plus
        lookup[-2 * j - 1] = minus
    return lookup


def _glv(curve: _Curve) -> Tuple[int, int, int, int, int, int]:
    """(beta, lambda, a1, b1, a2, b2) for secp256k1's endomorphism
    phi(x, y) = (beta*x, y) = lambda*(x, y), derived at first use.

    beta and lambda are cube roots of unity mod p and mod n (both are
    1 mod 3), matched so that phi(G) = lambda*G; (a1, b1), (a2, b2) is
    a short basis of {(u, v): u + v*lambda = 0 mod n} from the extended
    Euclidean algorithm on (n, lambda) (Guide to ECC, Algorithm 3.74).
    """
    if curve.glv is not None:
        return curve.glv
    p, n = curve.p, curve.n

    def cube_root_of_unity(modulus: int) -> int:
        # g^((m-1)/3) for the first g that is not a cube.
        g = 2
        while pow(g, (modulus - 1) // 3, modulus) == 1:
            g += 1
        return pow(g, (modulus - 1) // 3, modulus)

    beta = cube_root_of_unity(p)
    lam = cube_root_of_unity(n)
    if _mul_base(curve, lam) != (beta * curve.gx % p, curve.gy):
        lam = lam * lam % n

    # r_i = s_i*n + t_i*lam; stop at the last r_l >= sqrt(n).
    root_n = math.isqrt(n)
    r0, r1, t0, t1 = n, lam, 0, 1
    while r1 >= root_n:
        q = r0 // r1
        r0, r1 = r1, r0 - q * r1
        t0, t1 = t1, t0 - q * t1
    a1, b1 = r1, -t1
    q = r0 // r1
    r2, t2 = r0 - q * r1, t0 - q * t1
    if r0 * r0 + t0 * t0 <= r2 * r2 + t2 * t2:
        a2, b2 = r0, -t0
    else:
        a2, b2 = r2, -t2
    curve.glv = (beta, lam, a1, b1, a2, b2)
    return curve.glv


def _glv_split_vartime(curve: _Curve, k: int) -> Tuple[int, int]:
    """(k1, k2) with k = k1 + k2*lambda mod n and |k1|, |k2| about
    sqrt(n) (Guide to ECC, Algorithm 3.74, with exact rounding)."""
    _, _, a1, b1, a2, b2 = _glv(curve)
    n = curve.n
    c1 = (2 * b2 * k + n) // (2 * n)
    c2 = (-2 * b1 * k + n) // (2 * n)
    return k - c1 * a1 - c2 * a2, -c1 * b1 - c2 * b2


def _mul_add_vartime(curve: _Curve, u1: int, u2: int, x: int, y: int,
                     key_table: Optional[_FixedTable] = None) -> _XYZZ:
    """u1*G + u2*Q in XYZZ coordinates for Q = (x, y) on the curve; all
    inputs public."""
    p = curve.p
    if key_table is not None:
        acc = _mul_fixed_add(curve, key_table, u2)
        return _mul_fixed_add(curve, _g_table(curve), u1, acc)

    # u2*Q as one wNAF (or two half-length ones with GLV).
    multiples = _odd_multiples_vartime(curve, x, y)
    u2 %= curve.n
    if curve.a == 0:
        beta = _glv(curve)[0]
        k1, k2 = _glv_split_vartime(curve, u2)
        streams = [
            (_wnaf_vartime(abs(k1), _WNAF_WIDTH),
             _wnaf_lookup(curve, multiples, k1 < 0)),
            (_wnaf_vartime(abs(k2), _WNAF_WIDTH),
             _wnaf_lookup(curve, [(beta * mx % p, my)
                                  for mx, my in multiples], k2 < 0))]
    else:
        streams = [(_wnaf_vartime(u2, _WNAF_WIDTH),
                    _wnaf_lookup(curve, multiples, False))]
    X, Y, Z = _straus_vartime(curve, streams)

    # Jacobian to XYZZ: ZZ = Z^2, ZZZ = Z^3.
    ZZ = Z * Z % p
    acc = (X, Y, ZZ, ZZ * Z % p)
    return _mul_fixed_add(curve, _g_table(curve), u1, acc)


def _straus_vartime(curve: _Curve,
                    streams: Sequence[Tuple[List[int], List[_Affine]]]
                    ) -> _Jacobian:
    """sum k_i*P_i over (wNAF of k_i, lookup of P_i): one shared chain
    of doublings (Straus-Shamir interleaving)."""
    p = curve.p
    a_zero = curve.a == 0

    # The points to add after the doubling at each bit position.
    top = max(len(digits) for digits, _ in streams)
    adds = [()] * top    # type: List[Tuple[_Affine, ...]]
    for digits, lookup in streams:
        for i, d in enumerate(digits):
            if d:
                adds[i] += (lookup[d],)

    X1, Y1, Z1 = _INFINITY
    for i in range(top - 1, -1, -1):
        # dbl-2009-l (a = 0) or dbl-2001-b (a = -3), as
        # _jacobian_double.  O doubles to O (Z3 = 0).
        if a_zero:
            alpha = 3 * X1 * X1 % p
        else:
            delta = Z1 * Z1 % p
            alpha = 3 * (X1 - delta) * (X1 + delta) % p
        gamma = Y1 * Y1 % p
        beta = X1 * gamma % p
        Z1 = 2 * Y1 * Z1 % p
        X1 = (alpha * alpha - 8 * beta) % p
        Y1 = (alpha * (4 * beta - X1) - 8 * gamma * gamma) % p

        for x2, y2 in adds[i]:
            # madd-2007-bl, as in _mul_fixed_add.
            Z1Z1 = Z1 * Z1 % p
            U2 = x2 * Z1Z1 % p
            S2 = y2 * Z1 % p * Z1Z1 % p
            H = U2 - X1
            HH = H * H % p
            I = 4 * HH
            J = H * I % p
            r = 2 * (S2 - Y1)
            V = X1 * I % p
            Z3 = 2 * Z1 * H % p
            if not Z3:
                X1, Y1, Z1 = _jacobian_madd(curve, X1, Y1, Z1, x2, y2)
                continue
            X1 = (r * r - J - 2 * V) % p
            Y1 = (r * (V - X1) - 2 * Y1 * J) % p
            Z1 = Z3
    return X1, Y1, Z1


# Per-key tables.  A verifier that sees many tokens from one key (a
# JWKS key, a Kamailio key string parsed on every call) gets a
# fixed-base table for that key once the key has verified
# _KEY_TABLE_AFTER valid tokens, so a one-off verification never pays the
# table's build time.  Both maps are small LRUs keyed by the curve and
# the public point; the tables hold public data only.

_KEY_TABLE_WINDOW = 8
_KEY_TABLE_AFTER = 3        # valid signatures before a table is built
_KEY_TABLE_SLOTS = 8        # tables kept (0.9 MB at P-256, 2.3 at P-521)
_KEY_USE_SLOTS = 256        # keys whose uses are counted
_KeyIdent = Tuple[str, int, int]
_key_tables = OrderedDict()  # type: OrderedDict[_KeyIdent, _FixedTable]
_key_uses = OrderedDict()    # type: OrderedDict[_KeyIdent, int]
_key_cache_lock = threading.Lock()


def _key_table_vartime(curve: _Curve, x: int, y: int
                       ) -> Optional[_FixedTable]:
    """The table of public key (x, y) if it has earned one, else None."""
    ident = (curve.name, x, y)
    with _key_cache_lock:
        table = _key_tables.get(ident)
        if table is not None:
            _key_tables.move_to_end(ident)
        return table


def _key_verified_vartime(curve: _Curve, x: int, y: int) -> None:
    """Count a valid signature by public key (x, y), and build its table
    once it has _KEY_TABLE_AFTER of them.  Only valid signatures count,
    so forged tokens under many kids cannot make jwt3 build tables and
    evict them (35-170 ms each) over and over."""
    ident = (curve.name, x, y)
    with _key_cache_lock:
        uses = _key_uses.pop(ident, 0) + 1
        _key_uses[ident] = uses
        if len(_key_uses) > _KEY_USE_SLOTS:
            _key_uses.popitem(last=False)
        if uses < _KEY_TABLE_AFTER:
            return

    # Built outside the lock: two threads may both build one (harmless).
    table = _fixed_table(curve, x, y, _KEY_TABLE_WINDOW)
    with _key_cache_lock:
        _key_uses.pop(ident, None)
        _key_tables[ident] = table
        while len(_key_tables) > _KEY_TABLE_SLOTS:
            _key_tables.popitem(last=False)


def _ec_clear_caches(base_tables: bool = False) -> None:
    """Forget every per-key table and use count (and with
    ``base_tables`` also G's tables and the GLV constants), as if no key
    had been seen.  For benchmarks and tests."""
    with _key_cache_lock:
        _key_tables.clear()
        _key_uses.clear()
    if base_tables:
        for curve in _CURVES.values():
            curve.g_table = None
            curve.glv = None


_CACHE_CLEARERS.append(_ec_clear_caches)


# ---- 13. EC keys: JWK, SEC 1, PKCS #8, SPKI (RFC 7518 §6.2, RFC 5915) ----
#
# Legend: Q = (x, y) is a public point, d the private scalar with
# Q = d*G (SEC 1 §3.2.1).  Every key is checked when it is loaded
# (SEC 1 §3.2.2.1): Q on the curve, not O, coordinates < p; d in
# [1, n-1] and d*G = Q.  With h = 1 nothing more is needed.

_OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"    # id-ecPublicKey, RFC 5480


class _ECMaterial(_Material):
    """An EC key on one of the curves of section 11."""

    __slots__ = ("curve", "x", "y", "d")
    kty = "EC"

    def __init__(self, curve: _Curve, x: int, y: int,
                 d: Optional[int] = None):
        self.curve = curve
        self.x = x
        self.y = y
        self.d = d

    crv = property(lambda self: self.curve.name)
    size = property(lambda self: self.curve.bits)
    is_private = property(lambda self: self.d is not None)

    def public(self) -> "_ECMaterial":
        return _ECMaterial(self.curve, self.x, self.y)

    def jwk_members(self, private: bool) -> Dict[str, str]:
        # RFC 7518 §6.2.1.2-3, §6.2.2.1: x, y and d are full length.
        curve = self.curve
        jwk = {"kty": "EC", "crv": curve.name,
               "x": _b64u_encode(_int_to_bytes(self.x, curve.field_len)),
               "y": _b64u_encode(_int_to_bytes(self.y, curve.field_len))}
        if private and self.d is not None:
            jwk["d"] = _b64u_encode(_int_to_bytes(self.d,
                                                  curve.scalar_len))
        return jwk

    def thumbprint_members(self) -> Dict[str, str]:
        # RFC 7638 §3.2: crv, kty, x, y.
        return self.jwk_members(False)

    def point_bytes(self) -> bytes:
        """The uncompressed encoding 04 || x || y (SEC 1 §2.3.3)."""
        size = self.curve.field_len
        return (b"\x04" + _int_to_bytes(self.x, size)
                + _int_to_bytes(self.y, size))

    def to_der(self, private: bool) -> Tuple[str, bytes]:
        algorithm = _der_seq(_der_oid(_OID_EC_PUBLIC_KEY),
                             _der_oid(self.curve.oid))
        if not private:
            # RFC 5480 §2: SubjectPublicKeyInfo.
            return "PUBLIC KEY", _der_seq(algorithm,
                                          _der_bits(self.point_bytes()))
        # RFC 5915 §3 inside RFC 5958 §2; the curve is named by the
        # outer AlgorithmIdentifier, so the inner [0] is left out.
        if self.d is None:
            raise InvalidKeyError("a public key has no private part")
        inner = _der_seq(_der_int(1),
                         _der_octets(_int_to_bytes(self.d,
                                                   self.curve.scalar_len)),
                         _der(0xA1, _der_bits(self.point_bytes())))
        return "PRIVATE KEY", _der_seq(_der_int(0), algorithm,
                                       _der_octets(inner))


def _ec_public(curve: _Curve, x: int, y: int, what: str) -> _ECMaterial:
    """A checked public key (SEC 1 §3.2.2.1)."""
    p = curve.p
    if not (x < p and y < p):
        raise InvalidKeyError("%s: coordinate not below the field prime"
                              % what)
    if not _on_curve(curve, x, y):
        raise InvalidKeyError("%s: point is not on %s" % (what,
                                                          curve.name))
    return _ECMaterial(curve, x, y)


def _ec_private(curve: _Curve, d: int, public: Optional[_ECMaterial],
                what: str) -> _ECMaterial:
    """A checked private key: d in [1, n-1], and d*G equal to the
    public point given with it, if any."""
    if not 1 <= d < curve.n:
        raise InvalidKeyError("%s: private scalar d out of range [1, n-1]"
                              % what)
    Q = _mul_base(curve, d)
    if public is not None and (public.x, public.y) != Q:
        raise InvalidKeyError("%s: public key does not match the private"
                              " key" % what)
    return _ECMaterial(curve, Q[0], Q[1], d)


def _ec_point_decode(curve: _Curve, data: bytes, what: str
                     ) -> _ECMaterial:
    """A public key from its SEC 1 §2.3.4 encoding: 04 || x || y, or
    the compressed 02/03 || x."""
    size = curve.field_len
    if not data:
        raise KeyFormatError("%s: empty EC point" % what)
    form = data[0]
    if form == 0 and len(data) == 1:
        raise InvalidKeyError("%s: the point at infinity is not a public"
                              " key" % what)
    if form == 4 and len(data) == 1 + 2 * size:
        return _ec_public(curve, _int_from_bytes(data[1:1 + size]),
                          _int_from_bytes(data[1 + size:]), what)
    if form in (2, 3) and len(data) == 1 + size:
        # SEC 1 §2.3.4 step 2.4: y from x and the parity bit of y.
        x = _int_from_bytes(data[1:])
        p = curve.p
        if x >= p:
            raise InvalidKeyError("%s: coordinate not below the field"
                                  " prime" % what)
        y = _sqrt_mod_p(curve, (x * x + curve.a) * x + curve.b)
        if y is None:
            raise InvalidKeyError("%s: point is not on %s"
                                  % (what, curve.name))
        if y & 1 != form & 1:
            y = p - y
        return _ec_public(curve, x, y, what)
    raise KeyFormatError("%s: EC point of %d octets with form 0x%02x;"
                         " expected 04||x||y (%d octets) or 02/03||x"
                         % (what, len(data), form, 1 + 2 * size))


def _ec_curve_from_params(params: Optional[_DERItem], what: str
                          ) -> _Curve:
    """The curve named by ECParameters (RFC 5480 §2.1.1)."""
    if params is None:
        raise KeyFormatError("%s: no EC curve parameters" % what)
    tag = params[0]
    if tag == _DER_SEQUENCE:
        raise InvalidKeyError("%s: explicit EC curve parameters are not"
                              " supported; use a named curve (openssl ec"
                              " -param_enc named_curve)" % what)
    if tag == _DER_NULL:
        raise InvalidKeyError("%s: implicitCA EC parameters are not"
                              " supported" % what)
    oid = _der_read_oid(params, what + " namedCurve")
    curve = _CURVES_BY_OID.get(oid)
    if curve is None:
        raise InvalidKeyError("%s: EC curve %s is not supported (P-256,"
                              " P-384, P-521 and secp256k1 are)"
                              % (what, oid))
    return curve


def _ec_from_spki(params: Optional[_DERItem], public: bytes
                  ) -> _ECMaterial:
    what = "EC public key"
    return _ec_point_decode(_ec_curve_from_params(params, what), public,
                            what)


def _ec_private_key_der(der: bytes, curve: Optional[_Curve],
                        public: Optional[bytes], what: str
                        ) -> _ECMaterial:
    """ECPrivateKey (RFC 5915 §3); ``curve`` from the PKCS #8 wrapper,
    or None for a bare SEC 1 key, whose [0] parameters must name it."""
    items = _der_sequence(_der_decode(der, what), what, 2, 4)
    if _der_read_int(items[0], what + " version") != 1:
        raise KeyFormatError("%s: version is not 1 (ecPrivkeyVer1)"
                             % what)
    octets = _der_expect(items[1], _DER_OCTET_STRING, what
                         + " privateKey")

    # [0] parameters and [1] publicKey, each optional, in this order.
    rest = items[2:]
    if rest and rest[0][0] == _DER_CONTEXT_0:
        named = _ec_curve_from_params(
            _der_decode(rest[0][1], what + " parameters"), what)
        if curve is not None and named is not curve:
            raise InvalidKeyError("%s: inner curve %s differs from %s"
                                  % (what, named.name, curve.name))
        curve = named
        rest = rest[1:]
    if rest and rest[0][0] == _DER_CONTEXT_0 + 1:
        if public is None:
            public = _der_read_bits(_der_decode(rest[0][1], what
                                                + " publicKey"),
                                    what + " publicKey")
        rest = rest[1:]
    if rest:
        raise KeyFormatError("%s: unexpected DER tag 0x%02x"
                             % (what, rest[0][0]))
    if curve is None:
        raise KeyFormatError("%s: no curve parameters" % what)

    # Choice: RFC 5915 §3 fixes the privateKey length at
    # ceil(log2(n)/8) octets; shorter strings (leading zeros dropped by
    # some encoders) are read as the integer they spell.
    if not 1 <= len(octets) <= curve.scalar_len:
        raise KeyFormatError("%s: privateKey of %d octets, expected %d"
                             % (what, len(octets), curve.scalar_len))
    point = None if public is None else _ec_point_decode(curve, public,
                                                         what)
    return _ec_private(curve, _int_from_bytes(octets), point, what)


def _ec_from_pkcs8(params: Optional[_DERItem], private: bytes,
                   public: Optional[bytes]) -> _ECMaterial:
    what = "EC private key"
    return _ec_private_key_der(private, _ec_curve_from_params(params,
                                                               what),
                               public, what)


def _ec_from_sec1(der: bytes) -> _ECMaterial:
    """SEC 1 §C.4 / RFC 5915 "EC PRIVATE KEY"."""
    return _ec_private_key_der(der, None, None, "EC PRIVATE KEY")


def _ec_from_jwk(jwk: Mapping[str, Any]) -> _ECMaterial:
    """An EC JWK (RFC 7518 §6.2).

    Choice: DESIGN §3 - members shorter than the field length are read
    as left-padded (libjwt writes 65-octet P-521 values); longer ones
    are refused.
    """
    crv = jwk.get("crv")
    if not isinstance(crv, str):
        raise KeyFormatError('JWK "crv": expected a string, got %s'
                             % _json_type_name(crv) if "crv" in jwk
                             else 'JWK: EC key without "crv"')
    curve = _CURVES.get(crv)
    if curve is None:
        raise InvalidKeyError('JWK "crv": %r is not supported (P-256,'
                              ' P-384, P-521 and secp256k1 are)'
                              % crv[:32])
    for name in ("x", "y"):
        if name not in jwk:
            raise KeyFormatError('JWK: EC key without "%s"' % name)
    x = _b64u_uint(jwk["x"], '"x"', curve.field_len)
    y = _b64u_uint(jwk["y"], '"y"', curve.field_len)
    public = _ec_public(curve, x, y, "JWK")
    if "d" not in jwk:
        return public
    d = _b64u_uint(jwk["d"], '"d"', curve.scalar_len)
    return _ec_private(curve, d, public, "JWK")


def _generate_ec(alg: _Alg, bits: Optional[int], crv: Optional[str]
                 ) -> _ECMaterial:
    """A fresh key on the curve of ``alg`` (FIPS 186-5 §A.2.1)."""
    name = alg.curves[0] if alg.curves else "P-256"
    if crv is not None and crv != name:
        raise ValueError("%s keys are on %s, not %r" % (alg.name, name,
                                                        crv))
    curve = _CURVES[name]
    if bits is not None and bits != curve.bits:
        raise ValueError("%s keys are %d bits" % (alg.name, curve.bits))
    return _ec_private(curve, _random_below(curve.n), None, "new key")


_JWK_PARSERS["EC"] = _ec_from_jwk
_SPKI_PARSERS[_OID_EC_PUBLIC_KEY] = _ec_from_spki
_PKCS8_PARSERS[_OID_EC_PUBLIC_KEY] = _ec_from_pkcs8
_PEM_PARSERS["EC PRIVATE KEY"] = _ec_from_sec1
_KEY_GENERATORS["EC"] = _generate_ec


# ---- 14. ECDSA with RFC 6979 nonces: ES256/384/512, ES256K ----
#
# Legend (FIPS 186-5 §6.4, SEC 1 §4.1, RFC 6979 §2-3): H the hash, h1 =
# H(M) its output, e = bits2int(h1) (the leftmost bits(n) bits of h1),
# d the private key, Q the public key, k the per-message nonce, R = k*G,
# and the signature (r, s) with r = x(R) mod n, s = k^-1 (e + r*d) mod n.
# JWS carries it as R || S, each ceil(bits(n)/8) octets (RFC 7518 §3.4).
#
# Choice: RFC 7518 §3.4 does not require low S, so verification
# accepts s > n/2 by default; ``strict`` refuses it (as BIP 62 does).
# Signing never normalizes s: RFC 6979 output is reproduced exactly.


def _bits2int(data: bytes, qlen: int) -> int:
    """RFC 6979 §2.3.2: the leftmost qlen bits of ``data``."""
    value = _int_from_bytes(data)
    excess = 8 * len(data) - qlen
    return value >> excess if excess > 0 else value


def _rfc6979_nonces(curve: _Curve, d: int, h1: bytes, hash_name: str,
                    extra: bytes = b"") -> Iterator[int]:
    """The candidate nonces k of RFC 6979 §3.2 (HMAC_DRBG with H), in
    order; ``extra`` is the additional data k' of §3.6.

    WARNING: a nonce repeated for two messages, or one with a few known
    bits, gives away d.  Pinned by the RFC 6979 A.2.5-A.2.7 and ES256K
    vectors in tests/test_ecdsa.py (test_rfc6979_nonce).
    """
    n = curve.n
    qlen = curve.bits
    rlen = curve.scalar_len

    # Step a is the caller's; b-g: seed K and V with int2octets(d) and
    # bits2octets(h1) (which is bits2int(h1) mod n, rlen octets).
    seed = (_int_to_bytes(d, rlen)
            + _int_to_bytes(_bits2int(h1, qlen) % n, rlen) + extra)
    hlen = hashlib.new(hash_name).digest_size
    V = b"\x01" * hlen
    K = b"\x00" * hlen
    K = hmac.digest(K, V + b"\x00" + seed, hash_name)
    V = hmac.digest(K, V, hash_name)
    K = hmac.digest(K, V + b"\x01" + seed, hash_name)
    V = hmac.digest(K, V, hash_name)

    # Step h: draw qlen bits; keep k if 1 <= k < n, else update and
    # draw again (also when the caller finds r = 0 or s = 0).
    while True:
        T = b""
        while len(T) < rlen:
            V = hmac.digest(K, V, hash_name)
            T += V
        k = _bits2int(T, qlen)
        if 1 <= k < n:
            yield k
        K = hmac.digest(K, V + b"\x00", hash_name)
        V = hmac.digest(K, V, hash_name)


def _ecdsa_sign(curve: _Curve, d: int, h1: bytes, hash_name: str,
                extra: bytes = b"") -> Tuple[int, int]:
    """(r, s) for the digest h1 = H(M) (FIPS 186-5 §6.4.1), with the
    RFC 6979 nonce for ``hash_name`` (+ extra entropy, §3.6)."""
    n = curve.n
    e = _bits2int(h1, curve.bits)
    nonces = _rfc6979_nonces(curve, d, h1, hash_name, extra)
    while True:
        # R = k*G by the fixed-sequence loop of section 12.
        k = next(nonces)
        r = _mul_base(curve, k)[0] % n
        if not r:
            continue

        # s = k^-1 (e + r*d) mod n, the inversion blinded by a random
        # factor as in _mul_base.
        blind = _random_below(n)
        k_inv = pow(k * blind % n, -1, n) * blind % n
        s = k_inv * (e + r * d) % n
        if s:
            return r, s


def _ecdsa_verify_vartime(curve: _Curve, x: int, y: int, h1: bytes,
                          r: int, s: int, key_table: Optional[_FixedTable]
                          = None) -> bool:
    """True if (r, s) signs the digest h1 under Q = (x, y) (FIPS 186-5
    §6.4.2).  Every input is public, so this may take variable time."""
    n = curve.n
    p = curve.p

    # Step 1: r and s in [1, n-1]; this is what refuses r = s = 0
    # ("psychic signatures", CVE-2022-21449).
    if not (0 < r < n and 0 < s < n):
        return False

    # Steps 3-5: e, then u1 = e/s and u2 = r/s mod n.
    e = _bits2int(h1, curve.bits)
    w = pow(s, -1, n)
    u1 = e * w % n
    u2 = r * w % n

    # Step 6: R = u1*G + u2*Q, which must not be O.
    X, _, ZZ, _ = _mul_add_vartime(curve, u1, u2, x, y, key_table)
    if not ZZ:
        return False

    # Steps 7-8: x(R) mod n == r.  x(R) = X/ZZ is in [0, p), so it is r
    # or r + n (when r + n < p): compare X with r*ZZ and (r + n)*ZZ and
    # save the inversion.
    if (X - r * ZZ) % p == 0:
        return True
    return r + n < p and (X - (r + n) * ZZ) % p == 0


def _es_algorithm(name: str, curve: _Curve, hash_name: str) -> _Alg:
    size = curve.scalar_len

    def sign(material: _ECMaterial, data: bytes, *,
             extra_entropy: Optional[bytes] = None) -> bytes:
        """Deterministic ECDSA (RFC 6979); ``extra_entropy`` is mixed
        into the nonce as RFC 6979 §3.6 allows (e.g. os.urandom(32) for
        hedged signatures)."""
        if extra_entropy is None:
            extra_entropy = b""
        elif not isinstance(extra_entropy, (bytes, bytearray)):
            raise TypeError("extra_entropy must be bytes, got %s"
                            % type(extra_entropy).__name__)
        if material.d is None:
            raise InvalidKeyError("a public key cannot sign")
        h1 = hashlib.new(hash_name, data).digest()
        r, s = _ecdsa_sign(curve, material.d, h1, hash_name,
                           bytes(extra_entropy))
        return _int_to_bytes(r, size) + _int_to_bytes(s, size)

    def verify(material: _ECMaterial, data: bytes, signature: bytes,
               strict: bool) -> bool:
        # RFC 7518 §3.4: exactly R || S, 2 * size octets; a DER
        # signature has another length or another value and fails.
        if len(signature) != 2 * size:
            return False
        r = _int_from_bytes(signature[:size])
        s = _int_from_bytes(signature[size:])
        if strict and s > curve.n >> 1:
            return False
        table = _key_table_vartime(curve, material.x, material.y)
        h1 = hashlib.new(hash_name, data).digest()
        valid = _ecdsa_verify_vartime(curve, material.x, material.y, h1,
                                      r, s, table)
        if valid and table is None:
            _key_verified_vartime(curve, material.x, material.y)
        return valid

    return _Alg(name, "EC", (curve.name,), sign, verify, _no_key_problem)


for _name, _curve, _hash in (("ES256", _P256, "sha256"),
                             ("ES384", _P384, "sha384"),
                             ("ES512", _P521, "sha512"),
                             ("ES256K", _SECP256K1, "sha256")):
    _ALGORITHMS[_name] = _es_algorithm(_name, _curve, _hash)
del _name, _curve, _hash


# ---- 15. edwards25519 arithmetic (RFC 8032 §5.1) ----
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


# ---- 16. edwards448 arithmetic (RFC 8032 §5.2) ----
#
# Letters follow RFC 8032 §5.2: the field prime p, the untwisted curve
# x^2 + y^2 = 1 + d*x^2*y^2 (a = 1, d = -39081), the base point B of
# prime order L, the cofactor 2^c (c = 2) and n = 447, the bit a
# clamped secret scalar always has set.  Points are (X, Y, Z) in
# projective coordinates (RFC 8032 §5.2.4: x = X/Z, y = Y/Z); table
# entries are affine (x, y), added with Z2 = 1.  The timing remarks
# of section 15 hold here too.

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


# ---- 17. EdDSA and OKP keys: Ed25519, Ed448 (RFC 8032, RFC 8037) ----
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


def _ed_verify_data(curve: _EdCurve, entry: List[Any]
                    ) -> Tuple[Any, Any]:
    """(odd multiples, None) or (None, table) of -A for a verification."""
    if entry[3] is not None:
        return None, entry[3]
    if entry[1] is None:
        entry[1] = curve.odd_multiples(curve.negate(*entry[0]))
    return entry[1], None


def _ed_verified(curve: _EdCurve, entry: List[Any], A_bytes: bytes
                 ) -> None:
    """Count a valid signature by A, and build its table once A is a
    regular.  Only valid signatures count, so forged tokens cannot make
    jwt3 build tables and evict them over and over.

    Threads may race on the count or build a table twice: harmless,
    the count only decides when to build and both tables are equal.
    """
    if entry[3] is not None:
        return
    entry[2] += 1
    if entry[2] <= _ED_TABLE_AFTER:
        return
    entry[3] = curve.key_table(curve.negate(*entry[0]))
    cache_key = (curve.name, A_bytes)
    with _ED_CACHE_LOCK:
        _ed_tabled[cache_key] = None
        if len(_ed_tabled) > _ED_TABLE_SLOTS:
            evicted, _ = _ed_tabled.popitem(last=False)
            old = _ed_keys.get(evicted)
            if old is not None:
                old[3] = None


def _eddsa_clear_caches() -> None:
    """Forget every cached public key and per-key table (the tables of
    the base points stay).  For tests and for timing fresh keys."""
    with _ED_CACHE_LOCK:
        _ed_keys.clear()
        _ed_tabled.clear()


_CACHE_CLEARERS.append(_eddsa_clear_caches)


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
    odd, table = _ed_verify_data(curve, entry)
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
    if curve.small_order(x, y):
        return False
    _ed_verified(curve, entry, A_bytes)
    return True


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
for _ed_curve in (_ED25519, _ED448):
    _SPKI_PARSERS[_ed_curve.oid] = _okp_spki_parser(_ed_curve)
    _PKCS8_PARSERS[_ed_curve.oid] = _okp_pkcs8_parser(_ed_curve)
    _ALGORITHMS[_ed_curve.name] = _Alg(
        _ed_curve.name, "OKP", (_ed_curve.name,), _eddsa_sign,
        _eddsa_verify, _no_key_problem)
for _name, _oid in _ED_KEY_AGREEMENT.items():
    _SPKI_PARSERS[_oid] = _okp_key_agreement_parser(_name)
    _PKCS8_PARSERS[_oid] = _okp_key_agreement_parser(_name)
_ALGORITHMS["EdDSA"] = _Alg("EdDSA", "OKP", ("Ed25519", "Ed448"),
                            _eddsa_sign, _eddsa_verify, _no_key_problem)
del _ed_curve, _name, _oid


# ---- 18. Key generation ----
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


# ---- 19. Remote JWK Sets: fetching over http(s) ----
#
# The only network access in jwt3 (DESIGN §7): a GET of an http(s) URL
# the caller gave.  urllib with the default TLS context (certificate
# and host name verified, whatever PYTHONHTTPSVERIFY says), proxies from
# the environment, a timeout, a cap on the body, and redirects followed
# here rather than by urllib, so that their number and their scheme are
# bounded the same way on every Python version.  urllib is imported on
# first use: it costs more to import than the rest of jwt3.

_JWKS_MAX_TTL = 7 * 24 * 3600
_JWKS_REDIRECT_CODES = frozenset((301, 302, 303, 307, 308))
_JWKS_URL_BAD_RE = re.compile(r"[\x00-\x20\x7f]")
_DELTA_SECONDS_RE = re.compile(r"[0-9]+\Z")
_JWKS_READ_CHUNK = 1 << 16


def _jwks_label(url: str) -> str:
    """How errors name the set at ``url``: without the query string (it
    may carry an API key), and not too long."""
    return "JWK Set " + url.partition("?")[0].partition("#")[0][:200]


def _jwks_url(url: str, what: str) -> str:
    """``url`` checked: an absolute http(s) URL with a host and without
    credentials or whitespace; the scheme lower-cased, no fragment.

    Choice: the scheme is matched case-insensitively (RFC 3986 §3.1);
    anything but http and https is refused, so a key string or a
    redirect can never read a local file (file://) or use ftp.
    """
    from urllib.parse import urlsplit, urlunsplit

    if _JWKS_URL_BAD_RE.search(url):
        raise JWKSError("%s: whitespace or control character in the URL"
                        % what)
    try:
        parts = urlsplit(url)
        parts.port   # raises ValueError for a bad port
    except ValueError:
        raise JWKSError("%s: not a valid URL" % what) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise JWKSError("%s: only http and https URLs are fetched, not"
                        " %s" % (what, repr(scheme[:16]) if scheme
                                 else "a URL without a scheme"))
    if not parts.hostname:
        raise JWKSError("%s: the URL has no host" % what)
    if "@" in parts.netloc:
        raise JWKSError("%s: credentials in the URL are not supported"
                        % what)
    return urlunsplit((scheme, parts.netloc, parts.path or "/",
                       parts.query, ""))


def _jwks_redirect(url: str, location: Optional[str]) -> str:
    """The target of a redirect from ``url`` (RFC 9110 §15.4), checked.

    Choice: http -> https is followed; https -> http is refused (the
    keys would then travel without TLS), as is any other scheme.
    """
    from urllib.parse import urljoin

    label = _jwks_label(url)
    if not location:
        raise JWKSError("%s: redirect without a Location" % label)
    target = _jwks_url(urljoin(url, location.strip()),
                       "%s: redirect" % label)
    if url.startswith("https:") and target.startswith("http:"):
        raise JWKSError("%s: redirect from https to http refused" % label)
    return target


def _jwks_max_age(headers: Any) -> Optional[int]:
    """The ``max-age`` of a response's Cache-Control (RFC 9111 §5.2), in
    seconds clamped to 7 days; None when there is no usable one.

    Directives are split on ',' and their names compared case-
    insensitively; a quoted value is unquoted.  Choice: ``no-store``,
    ``no-cache`` and ``max-age=0`` give None (the caller's own TTL):
    obeying them literally would fetch the set for every token.  Of
    repeated directives the first counts (RFC 9111 §4.2.1 allows it).
    ``s-maxage``, ``Expires`` and ``Age`` are not used.
    """
    directives = {}   # type: Dict[str, str]
    for field in headers.get_all("Cache-Control") or ():
        for directive in field.split(","):
            name, _, argument = directive.partition("=")
            name = name.strip().lower()
            if name and name not in directives:
                directives[name] = argument.strip()
    if "no-store" in directives or "no-cache" in directives:
        return None

    argument = directives.get("max-age", "")
    if len(argument) >= 2 and argument[0] == argument[-1] == '"':
        argument = argument[1:-1]
    if not _DELTA_SECONDS_RE.match(argument):
        return None
    # RFC 9111 §1.2.2: a delta-seconds too large to hold is "infinity";
    # twelve digits already exceed the clamp.
    seconds = int(argument) if len(argument) <= 12 else _JWKS_MAX_TTL
    if seconds == 0:
        return None
    return min(seconds, _JWKS_MAX_TTL)


_jwks_openers = []     # type: List[Any]


def _jwks_opener() -> Any:
    """The urllib opener of every client, made on first use: http and
    https (if this Python has ssl), proxies from the environment, and
    no redirect or error processing (_jwks_fetch does both)."""
    if _jwks_openers:
        return _jwks_openers[0]
    import urllib.request

    opener = urllib.request.OpenerDirector()
    opener.add_handler(urllib.request.ProxyHandler())
    opener.add_handler(urllib.request.HTTPHandler())
    try:
        import ssl
    except ImportError:
        ssl = None        # type: ignore[assignment]
    if ssl is not None:
        # Loading the CA store takes tens of milliseconds: once only.
        opener.add_handler(urllib.request.HTTPSHandler(
            context=ssl.create_default_context()))
    _jwks_openers[:] = [opener]      # two racing threads: one is kept
    return opener


def _jwks_read(response: Any, label: str, max_bytes: int,
               deadline: float, timeout: float) -> bytes:
    """The body, at most ``max_bytes`` of it, read before ``deadline``."""
    chunks = []
    size = 0
    while size <= max_bytes:
        if time.monotonic() > deadline:
            raise JWKSError("%s: timed out after %gs" % (label, timeout))
        chunk = response.read1(min(_JWKS_READ_CHUNK, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > max_bytes:
        raise JWKSError("%s: response larger than %d bytes"
                        % (label, max_bytes))
    return b"".join(chunks)


def _jwks_fetch(opener: Any, url: str, timeout: float, max_bytes: int,
                max_redirects: int) -> Tuple[bytes, Optional[int]]:
    """GET ``url``: the body and the ``max-age`` of the final response.

    ``timeout`` bounds each network wait and the whole fetch (checked
    before each request and between reads), so a fetch ends within
    about twice ``timeout``.  Every failure is a JWKSError.
    """
    import http.client
    import socket
    import urllib.request

    label = _jwks_label(url)
    deadline = time.monotonic() + timeout
    try:
        for _ in range(max_redirects + 1):
            label = _jwks_label(url)
            if time.monotonic() > deadline:
                raise JWKSError("%s: timed out after %gs"
                                % (label, timeout))
            request = urllib.request.Request(url, headers={
                "Accept": "application/jwk-set+json, application/json",
                "User-Agent": "jwt3/" + __version__})
            response = opener.open(request, timeout=timeout)
            if response is None:
                raise JWKSError("%s: https is not available (this"
                                " Python has no ssl module)" % label)
            with response:
                status = response.status
                if status in _JWKS_REDIRECT_CODES:
                    url = _jwks_redirect(url,
                                         response.headers.get("Location"))
                    continue
                if not 200 <= status <= 299:
                    raise JWKSError("%s: HTTP status %d" % (label, status))
                body = _jwks_read(response, label, max_bytes, deadline,
                                  timeout)
                return body, _jwks_max_age(response.headers)
        raise JWKSError("%s: more than %d redirects"
                        % (label, max_redirects))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, socket.timeout):
            raise JWKSError("%s: timed out after %gs" % (label, timeout)) \
                from None
        raise JWKSError("%s: fetch failed (%s)"
                        % (label, str(reason)[:200] or
                           type(reason).__name__)) from None


def _jwks_keyset(body: bytes, label: str) -> KeySet:
    """The KeySet of a fetched body, which must hold at least one key
    usable for verifying with some supported algorithm."""
    try:
        keyset = KeySet.from_jwks(body)
    except JWTError as exc:
        raise JWKSError("%s: not a usable JWK Set (%s)"
                        % (label, str(exc)[:300])) from None
    for key in keyset:
        for algorithm in _ALGORITHMS.values():
            if key._problem(algorithm, "verify") is None:
                return keyset
    raise JWKSError("%s: no key in the JWK Set can verify with any"
                    " supported algorithm" % label)


# ---- 20. Remote JWK Sets: the cached client ----
#
# One JWKSClient per URL holds the last good set.  Rules (DESIGN §5):
#
# * The set is fetched when first needed and again when its TTL has run
#   out.  TTL: max-age of the final response (clamped), else cache_ttl.
# * A body replaces the cached set only once it has parsed as a JWK Set
#   with a usable key.  When a fetch fails (network, status, size, bad
#   body) the previous keys stay in use and their expiry is untouched;
#   the next scheduled attempt waits retry_delay seconds, so a dead
#   endpoint costs one fetch per retry_delay, not one per token.
# * A kid that is not in the set triggers a re-fetch, at most
#   max_misses times per fixed window of miss_window seconds (the
#   window opens at the first miss after the previous one closed, as
#   in the C module), and not while the endpoint is failing.
# * One fetch at a time: the lock is never held across the network.
#   While a fetch is in flight, callers with cached keys use them;
#   callers without wait for that fetch and share its outcome.
# * fork: each process has its own cache.  A client notices it is in a
#   new process by its pid and starts there with a fresh lock and no
#   fetch in flight (the parent's lock may be held by a thread that
#   does not exist in the child).  Choice: the child keeps the parent's
#   keys and their expiry, so workers forked by Kamailio after the
#   script warmed the cache start warm.


class _JWKSState:
    """The cache of one JWKSClient in one process."""

    __slots__ = ("pid", "lock", "done", "keys", "expires", "fetching",
                 "generation", "error", "retry_at", "window_start",
                 "misses")

    def __init__(self, keys: Optional[KeySet] = None,
                 expires: float = 0.0):
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)
        self.keys = keys
        self.expires = expires
        self.fetching = False
        self.generation = 0           # completed fetches
        self.error = None             # type: Optional[JWKSError]
        self.retry_at = 0.0           # no scheduled fetch before this
        self.window_start = None      # type: Optional[float]
        self.misses = 0


# Guards the switch to a new _JWKSState after a fork.  It is replaced in
# a child made by os.fork(), in case another thread held it; a fork made
# by C code (Kamailio's workers) happens before any thread exists.
_jwks_fork_lock = threading.Lock()


def _jwks_after_fork() -> None:
    global _jwks_fork_lock
    _jwks_fork_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_jwks_after_fork)


def _jwks_number(value: Any, name: str, minimum: float,
                 integer: bool = False) -> Any:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise TypeError("%s must be %s, got %s" % (
            name, "an int" if integer else "a number",
            type(value).__name__))
    if not minimum <= value < math.inf:
        raise ValueError("%s must be finite and >= %s" % (name, minimum))
    return value


class JWKSClient:
    """A remote JWK Set (RFC 7517 §5) fetched over http(s) and cached.

    ``url`` is an http or https URL.  ``cache_ttl`` is the lifetime in
    seconds of a fetched set whose response has no usable
    ``Cache-Control: max-age`` (which is clamped to 7 days; ``no-store``,
    ``no-cache`` and ``max-age=0`` also mean ``cache_ttl``).  A ``kid``
    not in the set re-fetches at most ``max_misses`` times per
    ``miss_window`` seconds.  ``timeout`` (seconds) bounds each fetch,
    ``max_bytes`` the response body, ``max_redirects`` the redirects
    followed (http -> https allowed, never to another scheme).  After a
    failed fetch the next scheduled one waits ``retry_delay`` seconds.
    ``clock`` returns the time used for expiry (for tests).

    Thread-safe, and safe across fork (each process its own cache).
    The library never logs: failures raise JWKSError, and a failure
    hidden by stale keys is kept in ``last_error``.
    """

    def __init__(self, url: str, cache_ttl: float = 3600,
                 miss_window: float = 60, max_misses: int = 5,
                 timeout: float = 10, max_bytes: int = 1 << 20, *,
                 max_redirects: int = 3, retry_delay: float = 30,
                 clock: Callable[[], float] = time.time):
        if not isinstance(url, str):
            raise TypeError("url must be str, got %s"
                            % type(url).__name__)
        self.url = _jwks_url(url, "JWK Set URL")
        self.cache_ttl = _jwks_number(cache_ttl, "cache_ttl", 0)
        self.miss_window = _jwks_number(miss_window, "miss_window", 0)
        self.max_misses = _jwks_number(max_misses, "max_misses", 0, True)
        self.timeout = _jwks_number(timeout, "timeout", 0)
        if not self.timeout > 0:
            raise ValueError("timeout must be > 0")
        self.max_bytes = _jwks_number(max_bytes, "max_bytes", 1, True)
        self.max_redirects = _jwks_number(max_redirects, "max_redirects",
                                          0, True)
        self.retry_delay = _jwks_number(retry_delay, "retry_delay", 0)
        if not callable(clock):
            raise TypeError("clock must be callable")
        self._clock = clock
        self._label = _jwks_label(self.url)
        self._current = _JWKSState()
        # the failure the Kamailio layer logged
        self._reported = None   # type: Optional[JWKSError]

    def __repr__(self) -> str:
        return "<jwt3.JWKSClient %s>" % self._label[len("JWK Set "):]

    @property
    def last_error(self) -> Optional[JWKSError]:
        """The error of the last fetch if it failed, else None."""
        return self._state().error

    def keys(self) -> KeySet:
        """The cached set; fetched first if missing or expired.

        Stale keys are returned when the refresh fails, while another
        thread is fetching, or while a failed fetch's retry_delay runs.
        Raises JWKSError only when there are no keys to fall back on.
        """
        state = self._state()
        with state.lock:
            now = self._clock()
            if state.keys is not None and (
                    now < state.expires or state.fetching
                    or now < state.retry_at):
                return state.keys
            if state.keys is None and not state.fetching \
                    and state.error is not None and now < state.retry_at:
                raise JWKSError(str(state.error))
        return self._fetch(state, stale_ok=True)

    def refresh(self, force: bool = False) -> KeySet:
        """Fetch the set now if it expired (always if ``force``) and
        return it; raise JWKSError if that fetch fails (the cached keys
        stay in use)."""
        state = self._state()
        if not force:
            with state.lock:
                if state.keys is not None \
                        and self._clock() < state.expires:
                    return state.keys
        return self._fetch(state, stale_ok=False)

    def select(self, alg: str, kid: Optional[str] = None,
               operation: str = "verify") -> Key:
        """The key to ``operation`` with ``alg`` (DESIGN §5).

        With a ``kid`` in the set: that key, which must be usable.  With
        a ``kid`` not in the set: a rate-limited re-fetch, then the key
        if it has appeared, else InvalidKeyError.  Without a ``kid``:
        the first usable key.  Raises JWKSError if there are no keys.
        """
        _algorithm(alg)
        if kid is not None and not isinstance(kid, str):
            raise TypeError("kid must be str, got %s"
                            % type(kid).__name__)
        if operation not in ("sign", "verify"):
            raise ValueError('operation must be "sign" or "verify"')
        keyset = self.keys()
        if kid is not None and keyset.find(kid) is None:
            keyset, why = self._after_miss(keyset, kid)
            if keyset.find(kid) is None:
                raise InvalidKeyError("%s: no key with kid %r (%s)"
                                      % (self._label, kid[:64], why))
        return keyset.select(alg, kid, operation=operation,
                             strict_kid=True)

    # -- machinery

    def _state(self) -> _JWKSState:
        """This process's cache state (a new one after a fork)."""
        state = self._current
        pid = os.getpid()
        if state.pid == pid:
            return state
        with _jwks_fork_lock:
            if self._current.pid != pid:
                self._current = _JWKSState(state.keys, state.expires)
            return self._current

    def _after_miss(self, keyset: KeySet, kid: str
                    ) -> Tuple[KeySet, str]:
        """The set to look ``kid`` up in again after a miss: re-fetched
        if the limiter allows, and why not otherwise."""
        state = self._state()
        with state.lock:
            now = self._clock()
            current = state.keys if state.keys is not None else keyset
            if current is not keyset and current.find(kid) is not None:
                return current, "fetched by another caller"
            if state.error is not None and now < state.retry_at:
                return current, "the last fetch failed; no re-fetch" \
                    " before %gs have passed" % self.retry_delay
            if state.window_start is None \
                    or now >= state.window_start + self.miss_window:
                state.window_start = now
                state.misses = 0
            if state.misses >= self.max_misses:
                return current, "re-fetch limit of %d per %gs reached" % (
                    self.max_misses, self.miss_window)
            state.misses += 1
        keyset = self._fetch(state, stale_ok=True)
        failure = state.error      # for the message only: a racy read
        if failure is not None:
            return keyset, "the re-fetch failed: %s" % failure
        return keyset, "not found after a re-fetch"

    def _fetch(self, state: _JWKSState, stale_ok: bool) -> KeySet:
        """Fetch the set, or wait for the fetch already in flight, and
        return its keys; on failure the stale keys if ``stale_ok`` and
        there are any, else raise JWKSError."""
        with state.lock:
            if state.fetching:
                generation = state.generation
                while state.generation == generation:
                    state.done.wait()
                if state.keys is not None and (
                        state.error is None or stale_ok):
                    return state.keys
                raise JWKSError(str(state.error))
            state.fetching = True

        keyset = None       # type: Optional[KeySet]
        error = None        # type: Optional[JWKSError]
        try:
            keyset, ttl = self._download()
        except JWKSError as exc:
            error = exc
        finally:
            # Runs even for a bug's exception, so that waiters wake up.
            with state.lock:
                now = self._clock()
                if keyset is not None:
                    state.keys = keyset
                    state.expires = now + ttl
                    state.error = None
                else:
                    state.error = error or JWKSError(
                        "%s: fetch interrupted" % self._label)
                    state.retry_at = now + self.retry_delay
                state.fetching = False
                state.generation += 1
                state.done.notify_all()
                stale, failure = state.keys, state.error

        if keyset is not None:
            return keyset
        if stale_ok and stale is not None:
            return stale
        raise failure or JWKSError("%s: no keys" % self._label)

    def _download(self) -> Tuple[KeySet, float]:
        body, max_age = _jwks_fetch(_jwks_opener(), self.url, self.timeout,
                                    self.max_bytes, self.max_redirects)
        keyset = _jwks_keyset(body, self._label)
        return keyset, self.cache_ttl if max_age is None else max_age


# ---- 21. JWS compact serialization and JWT claims (RFC 7515, RFC 7519) ----
#
# Limits apply before any crypto (DESIGN §4): a token of more than
# _MAX_TOKEN_LENGTH characters or a header of more than
# _MAX_HEADER_LENGTH is refused unread.

_MAX_TOKEN_LENGTH = 256 * 1024
_MAX_HEADER_LENGTH = 8 * 1024
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_STRING_HEADERS = ("kid", "typ", "cty", "jku", "x5u", "x5t", "x5t#S256")
_STRING_CLAIMS = ("iss", "sub", "aud", "jti")


class Decoded(NamedTuple):
    """A decoded token: its header and claims, the signature bytes and
    the key that verified it (None from ``decode_unverified``)."""

    header: Dict[str, Any]
    claims: Dict[str, Any]
    signature: bytes
    key: Optional[Key]


def _split_token(token: Any) -> List[str]:
    """The three segments of a compact JWS (RFC 7515 §7.1)."""
    if not isinstance(token, (str, bytes, bytearray)):
        raise TypeError("token must be str or bytes, got %s"
                        % type(token).__name__)
    if len(token) > _MAX_TOKEN_LENGTH:
        raise MalformedError("token: %d characters, more than %d"
                             % (len(token), _MAX_TOKEN_LENGTH))
    if isinstance(token, str):
        text = token
    else:
        try:
            text = bytes(token).decode("ascii")
        except UnicodeDecodeError:
            raise MalformedError("token: non-ASCII byte") from None
    segments = text.split(".")
    if len(segments) != 3:
        raise MalformedError("token: %d segments, expected 3 (header."
                             "payload.signature)" % len(segments))
    return segments


def _header_type_problem(header: Mapping[str, Any]) -> Optional[str]:
    """Which registered header parameter (RFC 7515 §4.1) has the wrong
    JSON type, and what it should be; None if all are right.

    Choice: every registered parameter is checked, also those jwt3
    never uses (``jwk``, ``x5c``, ``jku``...): a header is well formed
    as a whole or refused, and jwt3 never writes one it would refuse.
    """
    for name in _STRING_HEADERS:
        if name in header and not isinstance(header[name], str):
            return '"%s": expected a string, got %s' % (
                name, _json_type_name(header[name]))
    # §4.1.3: a JWK is a JSON object; §4.1.6: x5c is a non-empty array
    # of (base64) certificate strings.
    if "jwk" in header and not isinstance(header["jwk"], Mapping):
        return '"jwk": expected an object, got %s' % _json_type_name(
            header["jwk"])
    if "x5c" in header:
        x5c = header["x5c"]
        if not isinstance(x5c, (list, tuple)) or not x5c or not all(
                isinstance(item, str) for item in x5c):
            return '"x5c": expected a non-empty array of strings'
    return None


# Headers already parsed and found acceptable, by their base64url text:
# tokens of one issuer share one header, and its parse is a fifth of a
# decode.  Only flat headers (no arrays or objects) are kept, and at
# most _HEADER_CACHE_SIZE of them; callers get a copy.
_HEADER_CACHE = {}    # type: Dict[str, Dict[str, Any]]
_HEADER_CACHE_SIZE = 256
_HEADER_CACHE_LENGTH = 512
_FLAT_JSON_TYPES = (str, int, float, bool, type(None))


def _parse_header(header_b64: str) -> Dict[str, Any]:
    """The JOSE header (RFC 7515 §4), checked for what we refuse."""
    cached = _HEADER_CACHE.get(header_b64)
    if cached is not None:
        return dict(cached)
    header = _parse_header_uncached(header_b64)
    if len(header_b64) <= _HEADER_CACHE_LENGTH and all(
            type(value) in _FLAT_JSON_TYPES for value in header.values()):
        if len(_HEADER_CACHE) >= _HEADER_CACHE_SIZE:
            _HEADER_CACHE.clear()
        _HEADER_CACHE[header_b64] = dict(header)
    return header


def _parse_header_uncached(header_b64: str) -> Dict[str, Any]:
    if len(header_b64) > _MAX_HEADER_LENGTH:
        raise MalformedError("token header: %d characters, more than %d"
                             % (len(header_b64), _MAX_HEADER_LENGTH))
    # Choice: RFC 8259 §2 whitespace around JSON tokens is accepted, in
    # the header as in the payload: the signature covers the bytes as
    # sent, so it cannot give a signed token a second spelling.
    header = _json_loads(_b64u_decode(header_b64, "token header"),
                         "token header")   # type: Dict[str, Any]

    # RFC 7515 §4.1.1: "alg" is required and a case-sensitive string.
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise MalformedError('token header "alg": %s' % (
            "missing" if "alg" not in header
            else "expected a string, got " + _json_type_name(alg)))
    problem = _header_type_problem(header)
    if problem is not None:
        raise MalformedError("token header %s" % problem)

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
        names = (algorithms,)    # type: Tuple[str, ...]
    elif isinstance(algorithms, (list, tuple, set, frozenset)):
        names = tuple(algorithms)
    else:
        raise TypeError("algorithms must be a list of names, got %s"
                        % type(algorithms).__name__)
    if not names:
        raise ValueError("algorithms must name at least one algorithm")
    for name in names:
        _algorithm(name)
    return names


def _verifying_key(key: Any, alg: str, kid: Optional[str]) -> Key:
    if isinstance(key, Key):
        return key
    if isinstance(key, JWKSClient):
        return key.select(alg, kid)
    return load_keys(key).select(alg, kid)


def _numeric_date(claims: Mapping[str, Any], name: str
                  ) -> Optional[float]:
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

    # Choice: the time claims are type-checked whenever present (RFC
    # 7519 §4.1.4-§4.1.6: NumericDate), because they decide validity;
    # "iss", "sub" and "aud" only when compared (a Kamailio claims
    # string writes sub=+4912345 as a number, and such tokens must
    # verify when nobody asks about "sub"); other claims never.
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
    if isinstance(key, JWKSClient):
        return key.select(alg, kid, operation="sign")
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
    problem = _header_type_problem(header)
    if problem is not None:
        raise TypeError("header %s" % problem)
    if "crit" in header or "b64" in header:
        raise ValueError('headers "crit" and "b64" are not supported')
    header["alg"] = algorithm.name
    header.setdefault("typ", "JWT")
    if headers is None:
        header_b64 = _DEFAULT_HEADERS.get(alg)
        if header_b64 is None:
            header_b64 = _DEFAULT_HEADERS[alg] = _b64u_encode(
                _json_dumps(header))
    else:
        header_b64 = _b64u_encode(_json_dumps(header))
    # What decode would refuse is not written: exp, nbf and iat must be
    # numbers within the signed 64-bit range.
    for name in ("exp", "nbf", "iat"):
        _numeric_date(claims, name)

    signer = _signing_key(key, alg, header.get("kid"))
    if type(claims) is not dict:
        claims = dict(claims)
    signing_input = header_b64 + "." + _b64u_encode(_json_dumps(claims))
    signature = signer.sign(alg, signing_input.encode("ascii"))
    return signing_input + "." + _b64u_encode(signature)


# The encoded {"alg": ..., "typ": "JWT"} header of each algorithm.
_DEFAULT_HEADERS = {}   # type: Dict[str, str]


# ---- 22. Kamailio claims strings (parse_params) ----
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
# Limit: a claims or headers string of more than 64 KiB is refused
# before it is read (its token could not stay under the 256 KiB token
# limit anyway); the grammar is read a character at a time.
_MAX_PARAMS_LENGTH = 64 * 1024


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
        if self.quote or not _PARAM_INT_RE.match(body):
            return body

        # int64 has at most 19 digits, leading zeros aside: counted
        # before int(), which is slow on long digit strings and raises
        # ValueError past 4300 digits (zeros included) on CPython 3.11+.
        digits = body.lstrip("+-").lstrip("0") or "0"
        if len(digits) <= 19:
            number = int(digits)
            if body.startswith("-"):
                number = -number
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
    if len(text) > _MAX_PARAMS_LENGTH:
        raise MalformedError("params: %d characters, more than %d"
                             % (len(text), _MAX_PARAMS_LENGTH))
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


# ---- 23. Kamailio key strings ----
#
# Key strings are routed exactly as the C module's jwt_load_keys(), with
# one addition (DESIGN §5): text starting with "-----BEGIN" is PEM text
# even when it contains a '.'.  Errors name the rule taken and why it
# failed, and point out the C module's traps (_key_string_hint).

_KEY_FILE_MAX = 1 << 20
_KEY_CACHE_SIZE = 64


def _key_string_rule(text: str) -> str:
    """Which rule of the C module's jwt_load_keys() takes ``text``.

    In order: an http(s) URL is a remote JWK Set; text starting with
    '{' is an inline JWK or JWK Set; text starting with "-----BEGIN"
    (a jwt3 addition) or without any '.' is PEM text; a path ending in
    ".json" is a JWK Set file; anything else is a PEM or DER file.

    Choice: the tests are case-sensitive and look at the whole string,
    as in C, so the C module's traps are kept (a configuration means
    the same in both): "HTTPS://..." is a file path, " {...}" is PEM
    text or a file path, "keys.JSON" is a PEM file and a path without
    any '.' is PEM text.  Their errors say so (_key_string_hint).
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


def _key_string_hint(text: str, rule: str) -> str:
    """A note for a failed key string that fell into one of the C
    module's traps (see _key_string_rule), or ""."""
    head = text.lstrip(" \t\r\n")
    if head[:8].lower().startswith(("https://", "http://")):
        return (" (a URL is fetched only when the key string starts"
                " with \"http://\" or \"https://\" exactly, as in"
                " Kamailio)")
    if rule != "inline JWK" and head.startswith("{"):
        return (" (inline JSON must start with '{', with nothing before"
                " it, as in Kamailio)")
    if rule == "PEM text" and not head.startswith("-----BEGIN"):
        return (" (a key string without any '.' is taken as PEM text,"
                " as in Kamailio: a file path needs a '.' in it)")
    return ""


def _read_key_file(path: str) -> bytes:
    """The bytes of a key file (at most _KEY_FILE_MAX of them).

    Only a regular file is read: a FIFO or a device would block the
    caller (opened without blocking, then checked).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                raise KeyFormatError("cannot read it (Is a directory)")
            if not stat.S_ISREG(mode):
                raise KeyFormatError("not a regular file")
            with open(fd, "rb", closefd=False) as f:
                data = f.read(_KEY_FILE_MAX + 1)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise KeyFormatError("no such file") from None
    except OSError as exc:
        raise KeyFormatError("cannot read it (%s)" % (
            exc.strerror or type(exc).__name__)) from None
    except ValueError:
        # open() refuses a path holding NUL (C would cut it there).
        raise KeyFormatError("not a file path (NUL character)") from None
    if len(data) > _KEY_FILE_MAX:
        raise KeyFormatError("larger than %d bytes" % _KEY_FILE_MAX)
    if not data:
        raise KeyFormatError("the file is empty")
    return data


class _KeyStringSet(KeySet):
    """A KeySet loaded from a key string, with the rule that loaded it
    (``origin``) for the errors of key selection."""

    __slots__ = ("origin",)


def _load_key_string(text: str, rule: str) -> KeySet:
    if rule == "inline JWK":
        return _KeyStringSet.from_jwks(text)
    if rule == "PEM text":
        if "-----BEGIN" not in text:
            raise KeyFormatError("not PEM (no -----BEGIN line)")
        return _KeyStringSet(_pem_keys(text, "legacy-raw"))

    data = _read_key_file(text)
    if rule == "JWK Set file":
        return _KeyStringSet.from_jwks(data)
    if b"-----BEGIN" in data:
        return _KeyStringSet(_pem_keys(data, "legacy-file"))
    if data.lstrip()[:1] == b"{":
        raise KeyFormatError("not a PEM or DER key (it holds JSON: only a"
                             " name ending in \".json\", lower case, is"
                             " read as a JWK Set, as in Kamailio)")
    if data[:1] != b"\x30":
        raise KeyFormatError("not a PEM or DER key")
    return _KeyStringSet([Key.from_der(data, kid="legacy-file")])


def _key_string_keyset(text: str, rule: str) -> KeySet:
    """Load the static key string ``text`` under ``rule``; errors say
    "key string (<rule> [path]): why".  Key material is never echoed."""
    origin = rule
    if rule.endswith("file"):
        origin = "%s %r" % (rule, text[:200])
    try:
        keyset = _load_key_string(text, rule)
    except (KeyFormatError, InvalidKeyError) as exc:
        raise type(exc)("key string (%s): %s%s" % (
            origin, exc, _key_string_hint(text, rule))) from None
    keyset.origin = origin      # type: ignore[attr-defined]
    return keyset


def _report_stale(client: "JWKSClient") -> None:
    """Log once per failed fetch that a remote set's keys are stale (C
    fails instead; the failure must not go unnoticed)."""
    error = client.last_error
    if error is not None and client._reported is not error:
        client._reported = error
        _log().warning("%s; verifying with the keys fetched before", error)


# ---- 24. The Kamailio jwt3 module layer ----
#
# The C module's four functions, its parameters and its two variables,
# as methods of Module (one per Kamailio process: each forked worker has
# its own copy, as the C module's statics are per process).  They return
# 1 or -1 and never raise; each failure sets $jwt3(status) (for verify)
# and the reason, and is logged once to the "jwt3" logger, as LM_ERR.

def _log() -> Any:
    """The "jwt3" logger.  logging is imported on the first failure, not
    at import: the library core never logs, and importing logging costs
    a third of ``import jwt3``."""
    import logging
    return logging.getLogger("jwt3")

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


def _check_expected(claims: Dict[str, Any], expected: List[Param]) -> None:
    """Check the claims a Kamailio claims string expects (DESIGN §5).

    ``iss``, ``sub`` and ``jti`` compare as strings; ``aud`` matches a
    string or an array holding the value; ``exp`` and ``nbf`` need an
    equal JSON integer; any other name: a quoted value needs an equal
    JSON string, an unquoted integer an equal JSON integer, anything
    else an equal string.  A missing claim fails.
    """
    for param in expected:
        name = param.name
        if name not in claims:
            raise MissingClaimError(name, 'missing expected claim "%s"'
                                    % name[:64])
        claim = claims[name]
        if name in ("iss", "sub", "jti"):
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
        self._jwks_clients = {}    # type: Dict[str, JWKSClient]
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
            _log().exception("%s: %s", func, reason)
        else:
            _log().error("%s: %s", func, reason)
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
            # Deviation: a C string ends at its first NUL, so Kamailio
            # would read a shorter argument; jwt3 refuses it rather
            # than guess (a NUL in a path made open() raise ValueError).
            if "\x00" in value:
                raise _BadArguments("%s holds a NUL character" % name)

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
            except (OSError, ValueError):
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

    def _jwks_client(self, url: str) -> "JWKSClient":
        """The one JWKSClient of ``url``, made with this Module's jwks_*
        parameters (modparam forgets the clients when they change).

        Negative parameters act as in C: jwks_cache_ttl < 0 is 0 (fetch
        whenever max-age does not say otherwise), jwks_miss_window < 0
        is 0 (no window: every kid miss may re-fetch).  At most
        _KEY_CACHE_SIZE URLs are kept (C keeps every URL ever seen).
        """
        client = self._jwks_clients.pop(url, None)
        if client is None:
            try:
                client = JWKSClient(
                    url, cache_ttl=max(0, self.jwks_cache_ttl),
                    miss_window=max(0, self.jwks_miss_window),
                    max_misses=self.jwks_max_misses, clock=self._clock)
            except JWKSError as exc:
                raise JWKSError("key string (URL): %s" % exc) from None
        self._jwks_clients[url] = client     # most recently used last
        if len(self._jwks_clients) > _KEY_CACHE_SIZE:
            del self._jwks_clients[next(iter(self._jwks_clients))]
        return client

    @staticmethod
    def _select(keys: Union[KeySet, JWKSClient], alg: str,
                kid: Optional[str], operation: str) -> Key:
        # A remote set: the kid's key if found (and it must fit); a kid
        # not found re-fetches (rate-limited), then fails; no kid: the
        # first usable key.  A static set: the kid's key if found (and
        # it must fit), else the first usable key when verifying.  Sign:
        # a named kid must exist (Deviation: the C module signs with
        # the first key and still writes the kid it did not find).
        try:
            if isinstance(keys, JWKSClient):
                key = keys.select(alg, kid, operation=operation)
                _report_stale(keys)
                return key
            return keys.select(alg, kid, operation=operation,
                               strict_kid=operation == "sign")
        except (InvalidKeyError, JWKSError) as exc:
            origin = "URL" if isinstance(keys, JWKSClient) \
                else getattr(keys, "origin", "key")
            raise type(exc)("key string (%s): %s" % (origin, exc)) \
                from None

    def _leeway(self) -> Optional[int]:
        if self.leeway_sec >= 0:
            return self.leeway_sec
        if not self._warned_leeway:
            self._warned_leeway = True
            message = ("leeway_sec is %d: exp and nbf are not checked"
                       " (set leeway_sec >= 0 to check them)"
                       % self.leeway_sec)
            _log().warning(message)
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
                # Registered string parameters stay strings whatever they
                # look like: kid, typ, cty... (DESIGN §5 for kid), and
                # the StringOrURI claims iss, sub, aud and jti (RFC 7519
                # §4.1; Deviation: C writes sub=123 as a number, which
                # its own iss/sub check then refuses).
                payload = _param_values(claims, "claims", _STRING_CLAIMS)
                header = (_param_values(headers, "headers",
                                        _STRING_HEADERS)
                          if headers else {})
            except MalformedError as exc:
                raise _BadArguments(str(exc)) from None
            if "crit" in header or "b64" in header:
                raise _BadArguments('headers "crit" and "b64" are not'
                                    ' supported')
            problem = _header_type_problem(header)
            if problem is not None:
                raise _BadArguments("headers %s" % problem)

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


# ---- 25. Self-test ----
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


# ---- 26. Command line: input, output and files ----
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


# ---- 27. Command line: the commands ----


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


# ---- 28. Command line: options and main ----

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
