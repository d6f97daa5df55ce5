"""Remote JWK Sets (sections 19-20): JWKSClient against a live local server.

The server (``JWKSServer``) is the standard library's ThreadingHTTPServer
on 127.0.0.1, on an ephemeral port, in a thread.  Each path answers
with scripted replies (status, headers, body, delays) and counts its
hits, so the tests assert how many fetches the client made.  Time is a
fake clock injected into the client: TTLs and windows never sleep.  The
few real waits are network timeouts of 0.5 s.

The sets hold oct (HMAC) keys: the only family every build has.
"""

import email.message
import json
import os
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import jwt3

SECRETS = {"k1": b"1" * 32, "k2": b"2" * 32, "k3": b"3" * 32}
WEEK = 7 * 24 * 3600


def oct_jwk(kid: str, **extra: Any) -> Dict[str, Any]:
    jwk = jwt3.Key.from_secret(SECRETS[kid], kid=kid).to_jwk(private=True)
    jwk.update(extra)
    return jwk


def jwks(*kids: str) -> bytes:
    return json.dumps({"keys": [oct_jwk(kid) for kid in kids]}).encode()


def token(kid: Optional[str], claims: Optional[Dict[str, Any]] = None,
          secret_of: Optional[str] = None) -> str:
    key = jwt3.Key.from_secret(SECRETS[secret_of or kid or "k1"])
    headers = {"kid": kid} if kid is not None else None
    return jwt3.encode(claims or {"sub": "alice"}, key, "HS256", headers)


class Reply(NamedTuple):
    status: int = 200
    body: bytes = b""
    headers: Tuple[Tuple[str, str], ...] = ()
    delay: float = 0.0        # seconds before the status line
    drip: float = 0.0         # seconds between body bytes
    hold: bool = False        # wait for server.release before replying
    length: bool = True       # send Content-Length


class Clock:
    """A settable clock for JWKSClient(clock=...)."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    disable_nagle_algorithm = True      # no 40 ms delayed-ACK stalls

    def do_GET(self) -> None:
        owner = self.server.owner          # type: ignore[attr-defined]
        reply = owner.take(self.path.partition("?")[0], dict(self.headers))
        if reply.hold:
            owner.release.wait(10)
        if reply.delay:
            owner.release.wait(reply.delay)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.length:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.drip:
            for i in range(len(reply.body)):
                self.wfile.write(reply.body[i:i + 1])
                self.wfile.flush()
                if owner.release.wait(reply.drip):
                    return
        else:
            self.wfile.write(reply.body)

    def log_message(self, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass     # a client that timed out closed its end: expected


class JWKSServer:
    """Scripted replies per path; ``hits`` counts requests per path."""

    def __init__(self) -> None:
        self.routes = {}     # type: Dict[str, List[Reply]]
        self.hits = Counter()    # type: Counter[str]
        self.requests = []   # type: List[Tuple[str, Dict[str, str]]]
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self             # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.01},
                                       daemon=True)
        self.thread.start()

    def url(self, path: str = "/jwks.json") -> str:
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def set(self, path: str, *replies: Reply) -> None:
        """Answer ``path`` with ``replies`` in turn, the last repeated."""
        with self.lock:
            self.routes[path] = list(replies)

    def serve(self, body: bytes, path: str = "/jwks.json",
              **fields: Any) -> None:
        self.set(path, Reply(body=body, **fields))

    def take(self, path: str, headers: Dict[str, str]) -> Reply:
        with self.lock:
            self.hits[path] += 1
            self.requests.append((path, headers))
            replies = self.routes.get(path)
            if not replies:
                return Reply(status=404, body=b"not found")
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def total(self) -> int:
        return sum(self.hits.values())

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = JWKSServer()
    srv.serve(jwks("k1"))
    yield srv
    srv.stop()


@pytest.fixture
def clock():
    return Clock()


def client_for(server: JWKSServer, clock: Clock, path: str = "/jwks.json",
               **options: Any) -> jwt3.JWKSClient:
    options.setdefault("timeout", 0.5)
    return jwt3.JWKSClient(server.url(path), clock=clock, **options)


def kids(keyset: jwt3.KeySet) -> List[Optional[str]]:
    return [key.kid for key in keyset]


# -- construction


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.com/jwks.json", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("/etc/jwks.json", "without a scheme"),
    ("http://", "no host"),
    ("http:///jwks.json", "no host"),
    ("http://example.com:99999/jwks.json", "not a valid URL"),
    ("http://[::1/jwks.json", "not a valid URL"),
    ("http://example.com/a b", "whitespace or control"),
    ("http://example.com/\x00", "whitespace or control"),
    ("https://user:hunter2@example.com/jwks", "credentials"),
])
def test_url_refused(url: str, reason: str) -> None:
    with pytest.raises(jwt3.JWKSError) as info:
        jwt3.JWKSClient(url)
    assert reason in str(info.value), str(info.value)
    assert "hunter2" not in str(info.value)


def test_url_normalised() -> None:
    client = jwt3.JWKSClient("HTTPS://Example.com")
    assert client.url == "https://Example.com/"
    client = jwt3.JWKSClient("http://example.com/jwks?x=1#frag")
    assert client.url == "http://example.com/jwks?x=1"


def test_query_string_never_echoed(server: JWKSServer, clock: Clock
                                   ) -> None:
    server.serve(b"", status=500, path="/jwks")
    client = client_for(server, clock, "/jwks?api_key=SECRET")
    assert "SECRET" not in repr(client)
    with pytest.raises(jwt3.JWKSError) as info:
        client.keys()
    assert "SECRET" not in str(info.value)
    assert "HTTP status 500" in str(info.value)


@pytest.mark.parametrize("name, value, error", [
    ("cache_ttl", -1, ValueError),
    ("cache_ttl", float("nan"), ValueError),
    ("cache_ttl", float("inf"), ValueError),
    ("cache_ttl", "60", TypeError),
    ("cache_ttl", True, TypeError),
    ("miss_window", -1, ValueError),
    ("max_misses", -1, ValueError),
    ("max_misses", 1.5, TypeError),
    ("timeout", 0, ValueError),
    ("max_bytes", 0, ValueError),
    ("max_redirects", -1, ValueError),
    ("retry_delay", -0.5, ValueError),
    ("clock", 5, TypeError),
])
def test_bad_options(name: str, value: Any, error: type) -> None:
    with pytest.raises(error):
        jwt3.JWKSClient("http://example.com/jwks", **{name: value})
    with pytest.raises(TypeError):
        jwt3.JWKSClient(b"http://example.com/jwks")   # type: ignore


# -- fetching and caching


def test_fetch_once_then_cache(server: JWKSServer, clock: Clock) -> None:
    client = client_for(server, clock)
    assert client.last_error is None
    keyset = client.keys()
    assert kids(keyset) == ["k1"]
    for _ in range(5):
        assert client.keys() is keyset
    assert server.total() == 1
    path, headers = server.requests[0]
    assert headers["User-Agent"].startswith("jwt3/")
    assert "application/json" in headers["Accept"]


def test_bare_jwk_body_accepted(server: JWKSServer, clock: Clock) -> None:
    server.serve(json.dumps(oct_jwk("k2")).encode())
    assert kids(client_for(server, clock).keys()) == ["k2"]


def test_ttl_from_cache_ttl(server: JWKSServer, clock: Clock) -> None:
    client = client_for(server, clock, cache_ttl=100)
    client.keys()
    server.serve(jwks("k2"))
    clock.advance(99)
    assert kids(client.keys()) == ["k1"]
    clock.advance(1)
    assert kids(client.keys()) == ["k2"]
    assert server.total() == 2


def expires_after(server: JWKSServer, clock: Clock,
                  headers: Tuple[Tuple[str, str], ...],
                  cache_ttl: int = 1000) -> float:
    """The TTL the client gave a response with ``headers``: found by
    stepping the clock (it never sleeps)."""
    server.serve(jwks("k1"), headers=headers)
    client = client_for(server, clock, cache_ttl=cache_ttl)
    client.keys()
    start = clock.now
    for ttl in sorted({5, 60, 120, 999, 1000, WEEK, 10 * WEEK}):
        clock.now = start + ttl - 1
        client.keys()
        if server.total() > 1:
            return -1.0      # expired before ttl - 1: not a listed TTL
        clock.now = start + ttl
        client.keys()
        if server.total() > 1:
            return ttl
    return float("inf")


@pytest.mark.parametrize("headers, ttl", [
    ((), 1000),
    ((("Cache-Control", "max-age=120"),), 120),
    ((("Cache-Control", "public, max-age=60, must-revalidate"),), 60),
    ((("cache-control", "MAX-AGE=120"),), 120),
    ((("Cache-Control", 'max-age="60"'),), 60),
    ((("Cache-Control", "max-age=0"),), 1000),
    ((("Cache-Control", "no-store"),), 1000),
    ((("Cache-Control", "no-cache, max-age=120"),), 1000),
    ((("Cache-Control", "max-age=120, No-Store"),), 1000),
    ((("Cache-Control", "max-age=999999999"),), WEEK),
    ((("Cache-Control", "max-age=" + "9" * 40),), WEEK),
    ((("Cache-Control", "max-age=abc"),), 1000),
    ((("Cache-Control", "max-age=-5"),), 1000),
    ((("Cache-Control", "max-age=12x"),), 1000),
    ((("Cache-Control", "max-age"),), 1000),
    ((("Cache-Control", "max-age=60, max-age=5"),), 60),
    ((("Cache-Control", "s-maxage=60"),), 1000),
    ((("Cache-Control", "private"), ("Cache-Control", "max-age=5")), 5),
    # The C module's trap: max-age from another header.
    ((("Cache-Control", "no-cache"),
      ("Strict-Transport-Security", "max-age=31536000")), 1000),
    ((("Strict-Transport-Security", "max-age=120"),), 1000),
])
def test_cache_control(server: JWKSServer, clock: Clock,
                       headers: Tuple[Tuple[str, str], ...],
                       ttl: float) -> None:
    got = expires_after(server, clock, headers)
    assert got == ttl, "TTL %s, expected %s" % (got, ttl)


@pytest.mark.parametrize("value, expected", [
    ("max-age=120", 120),
    ("max-age=\xb2", None),          # a Latin-1 digit is not a digit
    ("max-age=1, , ,", 1),
    ("=5, max-age=7", 7),
    ("max-age=604801", WEEK),
    ("max-age=" + "1" * 12, WEEK),
    ("max-age=" + "1" * 13, WEEK),
    ("", None),
])
def test_max_age_parser(value: str, expected: Optional[int]) -> None:
    headers = email.message.Message()
    headers["Cache-Control"] = value
    assert jwt3._jwks_max_age(headers) == expected


def test_max_age_of_final_response_only(server: JWKSServer, clock: Clock
                                        ) -> None:
    server.set("/old", Reply(status=302, headers=(
        ("Location", "/jwks.json"), ("Cache-Control", "max-age=60"))))
    client = client_for(server, clock, "/old", cache_ttl=1000)
    client.keys()
    clock.advance(60)
    client.keys()
    assert server.hits["/jwks.json"] == 1

    server.set("/jwks.json", Reply(body=jwks("k1"), headers=(
        ("Cache-Control", "max-age=70"),)))
    client = client_for(server, clock, "/old", cache_ttl=1000)
    client.keys()
    clock.advance(70)
    client.keys()
    assert server.hits["/jwks.json"] == 3


def test_refresh(server: JWKSServer, clock: Clock) -> None:
    client = client_for(server, clock, cache_ttl=100)
    keyset = client.refresh()
    assert server.total() == 1
    assert client.refresh() is keyset
    assert server.total() == 1
    server.serve(jwks("k2"))
    assert kids(client.refresh(force=True)) == ["k2"]
    assert server.total() == 2
    clock.advance(100)
    client.refresh()
    assert server.total() == 3


# -- failures: stale keys, no fetch storm


def test_stale_keys_on_server_error(server: JWKSServer, clock: Clock
                                    ) -> None:
    client = client_for(server, clock, cache_ttl=100, retry_delay=30)
    assert kids(client.keys()) == ["k1"]
    server.serve(b"oops", status=503)
    clock.advance(100)
    assert kids(client.keys()) == ["k1"]       # stale, no exception
    assert server.total() == 2
    assert "HTTP status 503" in str(client.last_error)

    # No fetch storm: within retry_delay nothing is fetched.
    for _ in range(20):
        assert kids(client.keys()) == ["k1"]
        clock.advance(1)
    assert server.total() == 2
    clock.advance(10)
    client.keys()
    assert server.total() == 3

    # The endpoint recovers: the next attempt takes the new set.
    server.serve(jwks("k2"))
    clock.advance(30)
    assert kids(client.keys()) == ["k2"]
    assert client.last_error is None
    assert server.total() == 4


def test_forced_refresh_failure_raises_and_keeps_keys(
        server: JWKSServer, clock: Clock) -> None:
    client = client_for(server, clock)
    client.keys()
    server.serve(b"", status=500)
    with pytest.raises(jwt3.JWKSError, match="HTTP status 500"):
        client.refresh(force=True)
    assert kids(client.keys()) == ["k1"]
    assert server.total() == 2


def test_no_keys_failure_is_remembered(server: JWKSServer, clock: Clock
                                       ) -> None:
    server.serve(b"", status=500)
    client = client_for(server, clock, retry_delay=30)
    for _ in range(3):
        with pytest.raises(jwt3.JWKSError, match="HTTP status 500"):
            client.keys()
    assert server.total() == 1
    server.serve(jwks("k1"))
    clock.advance(30)
    assert kids(client.keys()) == ["k1"]
    assert server.total() == 2


def test_retry_delay_zero_retries_each_call(server: JWKSServer,
                                            clock: Clock) -> None:
    server.serve(b"", status=500)
    client = client_for(server, clock, retry_delay=0)
    for _ in range(3):
        with pytest.raises(jwt3.JWKSError):
            client.keys()
    assert server.total() == 3


def test_connection_refused(server: JWKSServer, clock: Clock) -> None:
    client = client_for(server, clock, cache_ttl=10)
    client.keys()
    server.stop()
    clock.advance(10)
    assert kids(client.keys()) == ["k1"]
    assert "fetch failed" in str(client.last_error)
    with pytest.raises(jwt3.JWKSError, match="fetch failed"):
        client_for(server, clock).keys()


def test_timeout(server: JWKSServer, clock: Clock) -> None:
    client = client_for(server, clock, cache_ttl=10, timeout=0.5)
    client.keys()
    server.serve(jwks("k2"), delay=3)
    clock.advance(10)
    assert kids(client.keys()) == ["k1"]
    assert "timed out" in str(client.last_error)
    with pytest.raises(jwt3.JWKSError, match="timed out"):
        client_for(server, clock, timeout=0.5).keys()


def test_drip_fed_body_times_out(server: JWKSServer, clock: Clock) -> None:
    # Each byte comes well within the timeout; the whole body does not.
    server.serve(jwks("k1"), drip=0.05)
    with pytest.raises(jwt3.JWKSError, match="timed out"):
        client_for(server, clock, timeout=0.5).keys()


def test_slow_redirect_chain_times_out(server: JWKSServer, clock: Clock
                                       ) -> None:
    for hop in range(3):
        server.set("/hop%d" % hop, Reply(status=302, delay=0.3, headers=(
            ("Location", "/hop%d" % (hop + 1)),)))
    server.set("/hop3", Reply(body=jwks("k1")))
    with pytest.raises(jwt3.JWKSError, match="timed out"):
        client_for(server, clock, "/hop0", timeout=0.5).keys()
    assert server.hits["/hop3"] == 0


@pytest.mark.parametrize("status", [404, 204, 304, 401, 418])
def test_http_status_refused(server: JWKSServer, clock: Clock,
                             status: int) -> None:
    server.serve(jwks("k1") if status != 204 else b"", status=status)
    with pytest.raises(jwt3.JWKSError) as info:
        client_for(server, clock).keys()
    if status == 204:
        assert "not a usable JWK Set" in str(info.value)
    else:
        assert "HTTP status %d" % status in str(info.value)


GARBAGE = [
    pytest.param(b"not json", id="not-json"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
    pytest.param(b"[]", id="array"),
    pytest.param(b'{"keys": "k1"}', id="keys-not-array"),
    pytest.param(b'{"keys": []}', id="no-keys"),
    pytest.param(b'{"keys": [{"kty": "XYZ"}, 5]}', id="unknown-kty"),
    pytest.param(b'{"kty": "XYZ"}', id="bare-unknown-kty"),
    pytest.param(b'{"keys": [{"kty": "oct", "k": "AA=="}]}', id="bad-k"),
    pytest.param(b'{"keys": [], "keys": []}', id="duplicate-member"),
]


@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_body(server: JWKSServer, clock: Clock, body: bytes
                      ) -> None:
    server.serve(body)
    with pytest.raises(jwt3.JWKSError, match="not a usable JWK Set"):
        client_for(server, clock).keys()


@pytest.mark.parametrize("jwk", [
    oct_jwk("k1", use="enc"),
    oct_jwk("k1", key_ops=["encrypt"]),
    oct_jwk("k1", alg="A128KW"),
    {"kty": "oct", "k": "c2hvcnQ", "kid": "short"},
], ids=["use-enc", "key-ops", "alg-enc", "too-short"])
def test_body_without_usable_key(server: JWKSServer, clock: Clock,
                                 jwk: Dict[str, Any]) -> None:
    server.serve(json.dumps({"keys": [jwk]}).encode())
    with pytest.raises(jwt3.JWKSError, match="no key in the JWK Set can"):
        client_for(server, clock).keys()


@pytest.mark.parametrize("body", [GARBAGE[0].values[0], GARBAGE[5].values[0],
                                  json.dumps({"keys": [oct_jwk(
                                      "k2", use="enc")]}).encode()],
                         ids=["not-json", "no-keys", "no-usable-key"])
def test_bad_body_keeps_stale_keys(server: JWKSServer, clock: Clock,
                                   body: bytes) -> None:
    client = client_for(server, clock, cache_ttl=10)
    client.keys()
    server.serve(body)
    clock.advance(10)
    assert kids(client.keys()) == ["k1"]
    assert client.last_error is not None
    # and a bad body never expires the cache again: no storm
    for _ in range(5):
        client.keys()
    assert server.total() == 2


def padded_jwks(size: int) -> bytes:
    body = jwks("k1")
    return body[:-1] + b" " * (size - len(body)) + body[-1:]


@pytest.mark.parametrize("length", [True, False],
                         ids=["content-length", "close-delimited"])
def test_oversize_body(server: JWKSServer, clock: Clock,
                       length: bool) -> None:
    server.serve(padded_jwks(1000), length=length)
    assert kids(client_for(server, clock, max_bytes=1000).keys()) == ["k1"]
    server.serve(padded_jwks(1001), length=length)
    with pytest.raises(jwt3.JWKSError, match="larger than 1000 bytes"):
        client_for(server, clock, max_bytes=1000).keys()


def test_default_max_bytes(server: JWKSServer, clock: Clock) -> None:
    server.serve(padded_jwks((1 << 20) + 1))
    with pytest.raises(jwt3.JWKSError, match="larger than 1048576"):
        client_for(server, clock).keys()


# -- redirects


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirect_followed(server: JWKSServer, clock: Clock,
                           code: int) -> None:
    server.set("/old", Reply(status=code, headers=(
        ("Location", server.url("/jwks.json")),)))
    assert kids(client_for(server, clock, "/old").keys()) == ["k1"]
    assert server.hits == Counter({"/old": 1, "/jwks.json": 1})


def test_relative_redirect_and_limit(server: JWKSServer, clock: Clock
                                     ) -> None:
    for hop in range(4):
        server.set("/r%d" % hop, Reply(status=302, headers=(
            ("Location", "r%d" % (hop + 1)),)))
    server.set("/r4", Reply(body=jwks("k2")))
    assert kids(client_for(server, clock, "/r1").keys()) == ["k2"]
    with pytest.raises(jwt3.JWKSError, match="more than 3 redirects"):
        client_for(server, clock, "/r0").keys()
    assert kids(client_for(server, clock, "/r0", max_redirects=4)
                .keys()) == ["k2"]
    with pytest.raises(jwt3.JWKSError, match="more than 0 redirects"):
        client_for(server, clock, "/r3", max_redirects=0).keys()


@pytest.mark.parametrize("location, reason", [
    ("ftp://127.0.0.1/jwks.json", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("data:,{}", "only http and https"),
    ("", "without a Location"),
    ("http://user:pw@127.0.0.1/jwks.json", "credentials"),
])
def test_redirect_refused(server: JWKSServer, clock: Clock,
                          location: str, reason: str) -> None:
    headers = (("Location", location),) if location else ()
    server.set("/old", Reply(status=302, headers=headers))
    with pytest.raises(jwt3.JWKSError) as info:
        client_for(server, clock, "/old").keys()
    assert reason in str(info.value) and "redirect" in str(info.value)
    assert server.total() == 1


def test_redirect_schemes() -> None:
    assert jwt3._jwks_redirect("http://a/x", "HTTPS://b/y") \
        == "https://b/y"
    assert jwt3._jwks_redirect("https://a/x", "/y") == "https://a/y"
    with pytest.raises(jwt3.JWKSError, match="from https to http"):
        jwt3._jwks_redirect("https://a/x", "http://a/x")


# -- TLS


def test_https_certificate_is_verified(tmp_path: Any, clock: Clock) -> None:
    import shutil
    import ssl
    import subprocess

    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    srv = JWKSServer()
    try:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        srv.httpd.socket = context.wrap_socket(srv.httpd.socket,
                                               server_side=True)
        srv.serve(jwks("k1"))
        client = jwt3.JWKSClient("https://127.0.0.1:%d/jwks.json"
                                 % srv.port, timeout=2, clock=clock)
        with pytest.raises(jwt3.JWKSError, match="CERTIFICATE_VERIFY"):
            client.keys()
    finally:
        srv.stop()


def test_https_without_ssl_module(monkeypatch: Any, clock: Clock) -> None:
    import urllib.request   # noqa: F401  (imported before ssl vanishes)

    monkeypatch.setitem(sys.modules, "ssl", None)
    monkeypatch.setattr(jwt3, "_jwks_openers", [])
    client = jwt3.JWKSClient("https://127.0.0.1:9/jwks.json", clock=clock)
    with pytest.raises(jwt3.JWKSError, match="no ssl module"):
        client.keys()


# -- kid misses and the re-fetch limiter


def test_kid_rotation(server: JWKSServer, clock: Clock) -> None:
    client = client_for(server, clock)
    assert client.select("HS256", "k1").kid == "k1"
    server.serve(jwks("k1", "k2"))
    assert client.select("HS256", "k2").kid == "k2"
    assert server.total() == 2
    assert client.select("HS256", "k1").kid == "k1"
    assert client.select("HS256").kid == "k1"      # no kid: first usable
    assert server.total() == 2


def test_miss_limiter(server: JWKSServer, clock: Clock) -> None:
    client = client_for(server, clock, max_misses=2, miss_window=60)
    client.keys()
    for _ in range(5):
        with pytest.raises(jwt3.InvalidKeyError) as info:
            client.select("HS256", "nope")
        clock.advance(1)
    assert "re-fetch limit of 2 per 60s" in str(info.value)
    assert server.total() == 3        # the first fetch and two re-fetches

    # Fixed window: it opened at the first miss (t=0); at t=60 a new one.
    clock.now += 60 - 5
    with pytest.raises(jwt3.InvalidKeyError, match="after a re-fetch"):
        client.select("HS256", "nope")
    assert server.total() == 4
    server.serve(jwks("k1", "k3"))
    assert client.select("HS256", "k3").kid == "k3"
    assert server.total() == 5
    with pytest.raises(jwt3.InvalidKeyError, match="limit"):
        client.select("HS256", "nope")
    assert server.total() == 5


def test_max_misses_zero_never_refetches(server: JWKSServer, clock: Clock
                                         ) -> None:
    client = client_for(server, clock, max_misses=0)
    for _ in range(3):
        with pytest.raises(jwt3.InvalidKeyError, match="limit of 0"):
            client.select("HS256", "k2")
    assert server.total() == 1


def test_miss_window_zero_has_no_limit(server: JWKSServer, clock: Clock
                                       ) -> None:
    client = client_for(server, clock, max_misses=1, miss_window=0)
    for _ in range(3):
        with pytest.raises(jwt3.InvalidKeyError):
            client.select("HS256", "k2")
    assert server.total() == 4


def test_failed_refetch_then_normal_requests(server: JWKSServer,
                                             clock: Clock) -> None:
    client = client_for(server, clock, cache_ttl=1000, retry_delay=30)
    client.keys()
    server.serve(b"", status=500)
    with pytest.raises(jwt3.InvalidKeyError,
                       match=r"re-fetch failed: JWK Set .* status 500"):
        client.select("HS256", "k2")
    assert server.total() == 2
    assert "HTTP status 500" in str(client.last_error)

    # The failed re-fetch did not expire the cache: no fetch storm.
    for _ in range(50):
        assert client.select("HS256", "k1").kid == "k1"
        clock.advance(1)
    assert server.total() == 2
    # Nor do misses re-fetch while the endpoint is failing.
    clock.now -= 50
    with pytest.raises(jwt3.InvalidKeyError, match="last fetch failed"):
        client.select("HS256", "k2")
    assert server.total() == 2
    server.serve(jwks("k1", "k2"))
    clock.advance(30)
    assert client.select("HS256", "k2").kid == "k2"
    assert server.total() == 3


def test_named_key_must_fit(server: JWKSServer, clock: Clock) -> None:
    server.serve(json.dumps({"keys": [
        oct_jwk("k1", alg="HS512"), oct_jwk("k2")]}).encode())
    client = client_for(server, clock)
    with pytest.raises(jwt3.InvalidKeyError, match="HS512, not HS256"):
        client.select("HS256", "k1")
    assert client.select("HS256").kid == "k2"
    assert server.total() == 1       # a kid found is not a miss


def test_select_arguments(server: JWKSServer, clock: Clock) -> None:
    client = client_for(server, clock)
    with pytest.raises(TypeError):
        client.select("HS256", 5)       # type: ignore[arg-type]
    with pytest.raises(jwt3.AlgorithmNotAllowedError):
        client.select("none")
    with pytest.raises(ValueError):
        client.select("HS256", operation="decrypt")
    assert server.total() == 0


def test_miss_answered_by_another_fetch(server: JWKSServer, clock: Clock
                                        ) -> None:
    client = client_for(server, clock)
    old = client.keys()
    server.serve(jwks("k1", "k2"))
    client.refresh(force=True)
    keyset, why = client._after_miss(old, "k2")
    assert keyset.find("k2") is not None and "another" in why
    assert server.total() == 2


# -- decode and encode with a client


def test_decode_and_encode_with_client(server: JWKSServer, clock: Clock
                                       ) -> None:
    server.serve(jwks("k1", "k2"))
    client = client_for(server, clock)
    assert jwt3.decode(token("k2"), client, ["HS256"]) == {"sub": "alice"}
    assert jwt3.decode(token(None), client, ["HS256"]) == {"sub": "alice"}
    with pytest.raises(jwt3.InvalidSignatureError):
        jwt3.decode(token("k2", secret_of="k1"), client, ["HS256"])
    signed = jwt3.encode({"a": 1}, client, "HS256", {"kid": "k2"})
    assert jwt3.decode(signed, jwt3.Key.from_secret(SECRETS["k2"]),
                       ["HS256"]) == {"a": 1}


# -- threads


def wait_for(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition never came true"
        time.sleep(0.005)


def test_one_fetch_for_many_threads(server: JWKSServer, clock: Clock
                                    ) -> None:
    server.serve(jwks("k1"), hold=True)
    client = client_for(server, clock, timeout=5)
    results = []     # type: List[Any]

    def worker() -> None:
        try:
            results.append(client.keys())
        except Exception as exc:      # pragma: no cover - reported below
            results.append(exc)

    first = threading.Thread(target=worker)
    first.start()
    wait_for(lambda: client._current.fetching)
    others = [threading.Thread(target=worker) for _ in range(7)]
    for thread in others:
        thread.start()
    wait_for(lambda: server.total() == 1)
    server.release.set()
    for thread in [first] + others:
        thread.join(5)
    assert server.total() == 1
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_stale_keys_while_fetch_in_flight(server: JWKSServer, clock: Clock
                                          ) -> None:
    client = client_for(server, clock, cache_ttl=10, timeout=5)
    stale = client.keys()
    server.serve(jwks("k2"), hold=True)
    clock.advance(10)
    fetcher = threading.Thread(target=client.keys)
    fetcher.start()
    wait_for(lambda: server.total() == 2)

    # While the server holds the fetch, other callers get the stale set
    # at once (and a forced refresh waits for the same fetch).
    results = []     # type: List[Any]
    readers = [threading.Thread(target=lambda: results.append(
        client.keys())) for _ in range(5)]
    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join(5)
    assert fetcher.is_alive()
    assert len(results) == 5 and all(r is stale for r in results)

    forced = []    # type: List[Any]
    refresher = threading.Thread(target=lambda: forced.append(
        client.refresh(force=True)))
    refresher.start()
    server.release.set()
    fetcher.join(5)
    refresher.join(5)
    assert kids(forced[0]) == ["k2"]
    assert server.total() == 2


def test_waiters_share_a_failure(server: JWKSServer, clock: Clock) -> None:
    server.serve(b"", status=500, hold=True)
    client = client_for(server, clock, timeout=5)
    errors = []    # type: List[Any]

    def worker() -> None:
        try:
            client.keys()
        except jwt3.JWKSError as exc:
            errors.append(exc)

    first = threading.Thread(target=worker)
    first.start()
    wait_for(lambda: client._current.fetching)
    others = [threading.Thread(target=worker) for _ in range(3)]
    for thread in others:
        thread.start()
    wait_for(lambda: server.total() == 1)
    server.release.set()
    for thread in [first] + others:
        thread.join(5)
    assert len(errors) == 4 and server.total() == 1
    assert all("HTTP status 500" in str(e) for e in errors)


def test_unexpected_error_releases_waiters(server: JWKSServer,
                                           clock: Clock,
                                           monkeypatch: Any) -> None:
    client = client_for(server, clock)

    def broken() -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(client, "_download", broken)
    with pytest.raises(RuntimeError):
        client.keys()
    state = client._current
    assert not state.fetching and state.generation == 1
    assert "fetch interrupted" in str(client.last_error)


# -- fork


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_child_has_its_own_cache(server: JWKSServer, clock: Clock
                                      ) -> None:
    import warnings

    client = client_for(server, clock, cache_ttl=100)
    parent_keys = client.keys()
    parent_state = client._current
    server.serve(jwks("k2"))

    # As if another thread were fetching when the fork happened: its
    # lock is held and a fetch is in flight, in the parent.
    parent_state.lock.acquire()
    parent_state.fetching = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:       # pragma: no cover - runs in the child
            code = 1
            try:
                import signal
                signal.alarm(10)          # never hang the test-suite
                inherited = client.keys()     # no deadlock, no fetch
                state = client._current
                ok = (inherited is parent_keys and state is not parent_state
                      and state.pid == os.getpid() and not state.fetching)
                refreshed = client.refresh(force=True)
                ok = ok and kids(refreshed) == ["k2"]
                ok = ok and client.select("HS256", "k2").kid == "k2"
                code = 0 if ok else 3
            finally:
                os._exit(code)
    finally:
        parent_state.fetching = False
        parent_state.lock.release()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert server.total() == 2           # the child's forced refresh
    assert client.keys() is parent_keys  # the parent's cache is its own
    assert client._current is parent_state


# -- the Kamailio layer with a live endpoint


def test_module_verify_key_with_url(server: JWKSServer, clock: Clock
                                    ) -> None:
    clock.now = time.time()
    module = jwt3.Module(leeway_sec=0, clock=clock)
    url = server.url()
    assert module.jwt3_verify_key(url, "HS256", "sub='alice'",
                                  token("k1")) == 1
    assert module.pv("status") == jwt3.STATUS_OK
    assert module.jwt3_verify(url, "HS256", "sub='alice'",
                              token(None)) == 1

    # kid rotation: a new kid re-fetches once
    server.serve(jwks("k1", "k2"))
    assert module.jwt3_verify_key(url, "HS256", "", token("k2")) == 1
    assert server.total() == 2

    # an unknown kid: re-fetch, then failure with the key status
    assert module.jwt3_verify_key(url, "HS256", "", token("k3")) == -1
    assert module.pv("status") == jwt3.STATUS_KEY
    assert "key string (URL)" in module.pv("error")
    assert "no key with kid 'k3'" in module.pv("error")
    assert server.total() == 3

    # a bad signature
    assert module.jwt3_verify_key(url, "HS256", "",
                                  token("k2", secret_of="k1")) == -1
    assert module.pv("status") == jwt3.STATUS_SIGNATURE


def test_module_status_when_endpoint_down(server: JWKSServer, clock: Clock
                                          ) -> None:
    module = jwt3.Module(clock=clock)
    url = server.url()
    server.serve(b"", status=502)
    assert module.jwt3_verify_key(url, "HS256", "", token("k1")) == -1
    assert module.pv("status") == jwt3.STATUS_JWKS
    assert module.pv("error").startswith("key string (URL): JWK Set http")
    assert "HTTP status 502" in module.pv("error")


def test_module_stale_keys_when_endpoint_down(server: JWKSServer,
                                              clock: Clock,
                                              caplog: Any) -> None:
    module = jwt3.Module(leeway_sec=0, jwks_cache_ttl=10, clock=clock)
    url = server.url()
    assert module.jwt3_verify_key(url, "HS256", "", token("k1")) == 1
    server.stop()
    clock.advance(3600)
    caplog.set_level("WARNING", logger="jwt3")
    for _ in range(3):
        assert module.jwt3_verify_key(url, "HS256", "", token("k1")) == 1
    # the failed fetch is logged once, not once per token
    warnings = [r for r in caplog.records if r.name == "jwt3"]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    assert "fetch failed" in warnings[0].getMessage()
    assert "keys fetched before" in warnings[0].getMessage()
    clock.advance(30)       # the next attempt fails again: logged again
    assert module.jwt3_verify_key(url, "HS256", "", token("k1")) == 1
    assert len([r for r in caplog.records if r.name == "jwt3"]) == 2


@pytest.mark.parametrize("spelling", ["HTTP://127.0.0.1:%d/jwks.json",
                                      " http://127.0.0.1:%d/jwks.json"])
def test_module_url_spellings(server: JWKSServer, clock: Clock,
                              spelling: str) -> None:
    # The C module's trap, kept: not a URL but a file path; the error
    # says why, and nothing is fetched.
    module = jwt3.Module(leeway_sec=0, clock=clock)
    assert module.jwt3_verify_key(spelling % server.port, "HS256", "",
                                  token("k1")) == -1
    assert module.pv("status") == jwt3.STATUS_KEY
    assert module.pv("error").endswith(
        "no such file (a URL is fetched only when the key string starts"
        " with \"http://\" or \"https://\" exactly, as in Kamailio)")
    assert server.total() == 0


def test_module_bad_url(clock: Clock) -> None:
    module = jwt3.Module(clock=clock)
    assert module.jwt3_verify_key("http://", "HS256", "",
                                  token("k1")) == -1
    assert module.pv("status") == jwt3.STATUS_JWKS
    assert module.pv("error").startswith("key string (URL): JWK Set URL")


def test_module_parameters_reach_client(server: JWKSServer, clock: Clock
                                        ) -> None:
    module = jwt3.Module(leeway_sec=0, jwks_cache_ttl=100,
                         jwks_miss_window=30, jwks_max_misses=1,
                         clock=clock)
    url = server.url()
    client = module._jwks_client(url)
    assert (client.cache_ttl, client.miss_window, client.max_misses) \
        == (100, 30, 1)
    assert module._jwks_client(url) is client       # one per URL

    # ... and act: one re-fetch per window, TTL of 100 s
    for _ in range(3):
        assert module.jwt3_verify_key(url, "HS256", "", token("k2")) == -1
    assert server.total() == 2
    clock.advance(100)
    assert module.jwt3_verify_key(url, "HS256", "", token("k1")) == 1
    assert server.total() == 3

    module.modparam("jwks_cache_ttl", "-5")
    module.modparam("jwks_miss_window", -1)
    module.modparam("jwks_max_misses", 0)
    fresh = module._jwks_client(url)
    assert fresh is not client
    assert (fresh.cache_ttl, fresh.miss_window, fresh.max_misses) \
        == (0, 0, 0)
    assert fresh._clock is clock


def test_module_clients_bounded(clock: Clock) -> None:
    module = jwt3.Module(clock=clock)
    first = module._jwks_client("http://example.com/0")
    for n in range(1, jwt3._KEY_CACHE_SIZE + 1):
        module._jwks_client("http://example.com/%d" % n)
    assert len(module._jwks_clients) == jwt3._KEY_CACHE_SIZE
    assert module._jwks_client("http://example.com/0") is not first


def test_module_generate_with_url(server: JWKSServer, clock: Clock) -> None:
    server.serve(jwks("k1", "k2"))
    module = jwt3.Module(clock=clock)
    assert module.jwt3_generate(server.url(), "HS256", "sub='bob'",
                                "kid=k2") == 1
    claims = jwt3.decode(module.pv("val"),
                         jwt3.Key.from_secret(SECRETS["k2"]), ["HS256"],
                         now=clock.now)
    assert claims["sub"] == "bob"
    assert module.jwt3_generate(server.url(), "HS256", "sub='bob'",
                                "kid=k9") == -1
    assert "no key with kid 'k9'" in module.pv("error")


# -- mangled input never escapes as anything but JWKSError




@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(
    list(" ,=\"'-;\t") + list("max-age=no-store0123456789Ma\xb2")),
    max_size=40))
@example("max-age=00000000000000000000000000000120")
def test_max_age_parser_never_fails(value: str) -> None:
    headers = email.message.Message()
    headers["Cache-Control"] = value
    ttl = jwt3._jwks_max_age(headers)
    assert ttl is None or 1 <= ttl <= WEEK


@given(st.text(max_size=60) | st.builds(
    lambda scheme, rest: scheme + rest,
    st.sampled_from(["http://", "HTTPS://", "https://[", "http://:"]),
    st.text(max_size=40)))
def test_client_url_never_fails_otherwise(url: str) -> None:
    try:
        client = jwt3.JWKSClient(url)
    except jwt3.JWKSError:
        return
    assert client.url.startswith(("http://", "https://"))


@given(st.binary(max_size=200) | st.builds(
    lambda keys: json.dumps({"keys": keys}).encode(),
    st.lists(st.dictionaries(st.sampled_from(
        ["kty", "k", "kid", "alg", "use", "key_ops"]),
        st.sampled_from(["oct", "XYZ", "", "HS256", "enc", "sig",
                         "MTExMTExMTExMTExMTExMTExMTExMTExMTExMTEx"])
        | st.lists(st.sampled_from(["verify", "sign"]))), max_size=3)))
def test_body_parser_never_fails_otherwise(body: bytes) -> None:
    try:
        keyset = jwt3._jwks_keyset(body, "JWK Set test")
    except jwt3.JWKSError:
        return
    assert any(key.usable(alg) for key in keyset
               for alg in jwt3.supported_algorithms())
