"""Kamailio KEMI routing in Python: SIP calls authorised by JWTs.

Loaded by app_python3 (``modparam("app_python3", "load", ...)`` in
kamailio.cfg).  It uses jwt3's module-level Kamailio API exactly as a
native kamailio.cfg uses the C jwt3 module:

- INVITE: the token comes from ``Authorization: Bearer <token>`` (or,
  failing that, from an RFC 8224 ``Identity`` header) and is checked
  with ``jwt3_verify(verify_key, alg, "caller='<From user>';callee='<To
  user>'", token)``.  Verified: 200 OK.  Not verified: 403 Forbidden.
  Both carry ``X-JWT3-Status: $jwt3(status)``; a 403 also carries the
  reason in ``X-JWT3-Error``.  No token at all: 401 with
  ``WWW-Authenticate: Bearer``.
- MESSAGE from an address listed in ``issuers``: a token for the same
  caller and callee, made with ``jwt3_generate(sign_key, alg, ...)``
  and returned in ``X-JWT3-Token`` of a 200 OK (a stand-in for an
  identity provider, so that the example is self-contained).
- OPTIONS and BYE: 200 OK; ACK: absorbed; anything else: 405.

The 200 OK to an INVITE stands where a real proxy would relay the call
(``KSR.tm.t_relay()``); answering it here keeps the example free of a
callee.

Settings are read at import from ``jwt3_routes.ini`` beside this file
(or the file named by the JWT3_ROUTES_CONFIG environment variable).
Kamailio imports this script once, in its main process, and then forks
its workers: the jwt3 module state (parameters, $jwt3 variables, key
caches) is per process, like the C module's.  The start-up check below
loads the keys before the fork, so every worker starts with them
cached, and a key that does not load stops Kamailio at start-up.

Python 3.8 or later (Debian 12's app_python3 embeds CPython 3.11).
"""

import base64
import configparser
import json
import logging
import os
import re
import sys
import time
from typing import Dict, Optional, Sequence, Tuple

import KSR

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import jwt3  # noqa: E402  (found beside this script)

_CONFIG_FILE = os.environ.get("JWT3_ROUTES_CONFIG") or os.path.join(
    _HERE, "jwt3_routes.ini")

_DEFAULTS = {
    "alg": "ES256",
    "verify_key": "/etc/kamailio/jwt3/public.pem",
    "sign_key": "",
    "leeway_sec": "30",
    "token_ttl": "300",
    "issuers": "127.0.0.1 ::1",
    "error_header": "yes",
}   # type: Dict[str, str]

_BEARER_RE = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr][ \t]+([^ \t,;]+)")
_UNSAFE_RE = re.compile(r"[\x00-\x1f\x7f]+")


# -- configuration, read once at import (before the workers fork)

def _read_config(path: str) -> Dict[str, str]:
    """The [jwt3] section of ``path`` over the defaults; a missing file
    gives the defaults."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_dict({"jwt3": _DEFAULTS})
    if not parser.read(path, encoding="utf-8") and \
            "JWT3_ROUTES_CONFIG" in os.environ:
        raise RuntimeError("jwt3_routes: cannot read %s" % path)
    return dict(parser["jwt3"])


class _KamailioLogHandler(logging.Handler):
    """Send the "jwt3" logger's records to Kamailio's log, as the C
    module's LM_ERR, LM_WARN, ... (Kamailio's ``debug`` level filters
    them)."""

    def emit(self, record: logging.LogRecord) -> None:
        text = "jwt3: %s\n" % _UNSAFE_RE.sub(" ", record.getMessage())
        if record.levelno >= logging.ERROR:
            KSR.err(text)
        elif record.levelno >= logging.WARNING:
            KSR.warn(text)
        elif record.levelno >= logging.INFO:
            KSR.info(text)
        else:
            KSR.dbg(text)


_log = logging.getLogger("jwt3")
_log.addHandler(_KamailioLogHandler())
_log.setLevel(logging.DEBUG)
_log.propagate = False

_config = _read_config(_CONFIG_FILE)
ALG = _config["alg"]
VERIFY_KEY = _config["verify_key"]
SIGN_KEY = _config["sign_key"]
TOKEN_TTL = int(_config["token_ttl"])
ISSUERS = frozenset(_config["issuers"].split())
ERROR_HEADER = _config["error_header"].lower() in ("yes", "true", "on",
                                                   "1")

# modparam("jwt3", "leeway_sec", 30)
jwt3.modparam("leeway_sec", int(_config["leeway_sec"]))


def _start_up_check() -> None:
    """Load the keys now, in the main process, so that a key that does
    not load, or a pair that does not match, stops Kamailio at start-up
    rather than refusing every call, and so that the workers inherit
    the loaded keys.

    With a sign_key: issue a token and verify it.  Verify-only: verify
    a token that can only fail on its signature (jwt3 loads the key to
    get that far); a remote JWK Set that cannot be fetched yet is left
    for later.
    """
    claims = "caller='start-up';callee='check'"
    if SIGN_KEY:
        if jwt3.jwt3_generate(SIGN_KEY, ALG, claims) != 1:
            raise RuntimeError("jwt3_routes: sign_key %s: %s"
                               % (SIGN_KEY, jwt3.pv("error")))
        token = jwt3.pv("val")
    else:
        header = json.dumps({"alg": ALG}).encode()
        token = base64.urlsafe_b64encode(header).decode().rstrip("=") \
            + ".e30.AAAA"
    # Verify-only: the signature failure is expected, not worth logging.
    _log.disabled = not SIGN_KEY
    try:
        if jwt3.jwt3_verify(VERIFY_KEY, ALG, claims, token) == 1:
            return
    finally:
        _log.disabled = False
    if SIGN_KEY:
        raise RuntimeError("jwt3_routes: verify_key %s does not verify"
                           " tokens of sign_key %s: %s"
                           % (VERIFY_KEY, SIGN_KEY, jwt3.pv("error")))
    if jwt3.pv("status") not in (jwt3.STATUS_SIGNATURE, jwt3.STATUS_JWKS):
        raise RuntimeError("jwt3_routes: verify_key %s: %s"
                           % (VERIFY_KEY, jwt3.pv("error")))


_start_up_check()


# -- helpers

def _reply(code: int, reason: str,
           headers: Sequence[Tuple[str, str]] = ()) -> int:
    """Send a stateless reply with extra headers; 1 ends the route."""
    for name, value in headers:
        value = _UNSAFE_RE.sub(" ", value)
        KSR.hdr.append_to_reply("%s: %s\r\n" % (name, value))
    KSR.sl.sl_send_reply(code, reason)
    return 1


def _claims(caller: Optional[str], callee: Optional[str]) -> Optional[str]:
    """The claims string for a call from ``caller`` to ``callee`` (the
    From and To users), or None if either is unusable.

    Double quotes make both values strings whatever they hold (a SIP
    user part may contain ';', ',' and "'", never '"').  An empty user
    is refused: the claims parser skips empty values, so it would
    silently not be checked.
    """
    if not caller or not callee or '"' in caller + callee:
        return None
    return 'caller="%s";callee="%s"' % (caller, callee)


def _token() -> Optional[str]:
    """The token of ``Authorization: Bearer <token>`` (RFC 6750 §2.1),
    else of an ``Identity: <token>;info=...`` header (RFC 8224 §4)."""
    authorization = KSR.hdr.get("Authorization")
    if authorization:
        match = _BEARER_RE.match(authorization.strip())
        if match:
            return match.group(1)
    identity = KSR.hdr.get("Identity")
    if identity:
        token = identity.split(";", 1)[0].strip()
        if token:
            return token
    return None


# -- the routes

class kamailio:
    """The KEMI routing object app_python3 calls for each request."""

    def child_init(self, rank: int) -> int:
        return 0

    def ksr_request_route(self, msg: object) -> int:
        method = KSR.pv.get("$rm")
        if method == "INVITE":
            return self.invite()
        if method == "MESSAGE" and SIGN_KEY:
            return self.message()
        if method == "ACK":
            return 1
        if method in ("OPTIONS", "BYE"):
            return _reply(200, "OK")
        allow = "INVITE, ACK, BYE, OPTIONS" + (", MESSAGE" if SIGN_KEY
                                               else "")
        return _reply(405, "Method Not Allowed", [("Allow", allow)])

    def invite(self) -> int:
        """Verify the caller's token: 200, 401 or 403."""
        claims = _claims(KSR.pv.get("$fU"), KSR.pv.get("$tU"))
        if claims is None:
            return _reply(403, "Forbidden", [
                ("X-JWT3-Error", "From and To need a user part")])
        token = _token()
        if token is None:
            return _reply(401, "Unauthorized", [
                ("WWW-Authenticate", 'Bearer realm="jwt3"')])

        # if (jwt3_verify("$var(key)", "ES256",
        #                 "caller='$fU';callee='$tU'", "$var(jwt)"))
        if jwt3.jwt3_verify(VERIFY_KEY, ALG, claims, token) == 1:
            return _reply(200, "OK", [
                ("X-JWT3-Status", str(jwt3.pv("status")))])
        headers = [("X-JWT3-Status", str(jwt3.pv("status")))]
        if ERROR_HEADER:
            headers.append(("X-JWT3-Error", str(jwt3.pv("error"))[:200]))
        return _reply(403, "Forbidden", headers)

    def message(self) -> int:
        """Issue a token for this caller and callee: 200 or 403."""
        if KSR.pv.get("$si") not in ISSUERS:
            return _reply(403, "Forbidden", [
                ("X-JWT3-Error", "tokens are not issued to this address")])
        claims = _claims(KSR.pv.get("$fU"), KSR.pv.get("$tU"))
        if claims is None:
            return _reply(403, "Forbidden", [
                ("X-JWT3-Error", "From and To need a user part")])

        # jwt3_generate("$var(prvkey)", "ES256",
        #               "caller='$fU';callee='$tU';exp=...")
        claims += ";exp=%d" % (int(time.time()) + TOKEN_TTL)
        if jwt3.jwt3_generate(SIGN_KEY, ALG, claims) == 1:
            return _reply(200, "OK", [("X-JWT3-Token", jwt3.pv("val"))])
        return _reply(500, "Server Internal Error", [
            ("X-JWT3-Error", str(jwt3.pv("error"))[:200])])


def mod_init() -> kamailio:
    """app_python3's entry point: the routing object."""
    return kamailio()
