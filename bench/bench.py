#!/usr/bin/env python3
"""Benchmark jwt3 side by side with the pure-Python peers and OpenSSL.

Every operation jwt3 supports is timed in one run: sign and verify for
each algorithm (verification with a key parsed fresh from its JWK for
each token, and with one Key object reused for many tokens), key
generation, whole tokens (encode + decode, decode only), the Kamailio
module layer, and in fresh subprocesses the first use of each curve
(load, sign, verify: lazy tables included) and ``import jwt3``.  When
the peers are importable the same operations are timed with them in
the same run, and jwt3's time is printed as a ratio of the fastest
pure-Python peer's and of OpenSSL's (through the ``cryptography``
package, or a JWT library built on it).  A ratio below 1 means jwt3 is
faster.

jwt3's own figures need only the standard library.  The peers are
listed in bench/requirements.txt; install them in a throwaway virtual
environment (the project never depends on them)::

    python3 -m venv /tmp/peers
    /tmp/peers/bin/pip install -r bench/requirements.txt
    /tmp/peers/bin/python bench/bench.py --quick

Method: each library's way of doing an operation is set up untimed,
warmed up (lazy tables get built there), calibrated to a loop of about
0.1 s (0.03 s with ``--quick``), then timed for several repeats; the
repeats of the libraries compared in one row are interleaved, so load
from elsewhere on the machine hits them alike.  The figure reported is
the median repeat, in µs per operation.  Garbage collection is off
while a loop runs, as in ``timeit``.

Options: ``--quick`` (under a minute), ``--json FILE`` (machine-readable
results), ``--filter SUBSTR`` (only the operations whose name contains
it; repeatable), ``--jwt3 DIR`` (the directory holding the jwt3.py to
measure; default: the repository root), ``--list`` (show the operations
and exit), ``--no-details`` (only the summary tables).  Progress goes
to stderr, the report (Markdown) to stdout.

The keys used are fixed and public (bench/keys.json), so runs compare.
"""

import argparse
import base64
import datetime
import functools
import gc
import hashlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from typing import (Any, Callable, Dict, Iterable, List, NamedTuple,
                    Optional, Sequence, Tuple)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Which column of the table a library's figure goes to.
JWT3 = "jwt3"
PURE = "pure"          # pure-Python peers (and JWT libraries on hmac)
OPENSSL = "openssl"    # cryptography, or a JWT library on top of it

# Peer name -> (import name, distribution name for its version).
PEERS = {
    "python-ecdsa": ("ecdsa", "ecdsa"),
    "starkbank-ecdsa": ("ellipticcurve", "starkbank-ecdsa"),
    "python-rsa": ("rsa", "rsa"),
    "pure25519": ("pure25519", "pure25519"),
    "PyJWT": ("jwt", "PyJWT"),
    "joserfc": ("joserfc", "joserfc"),
    "python-jose": ("jose", "python-jose"),
    "cryptography": ("cryptography", "cryptography"),
}


# ---- Settings and timing ----


class Settings(NamedTuple):
    """How long and how often each measurement runs."""

    mode: str
    repeat_time: float     # seconds per timed repeat (loop calibrated)
    repeats: int           # timed repeats per library and operation
    warmup_time: float     # seconds of untimed calls first
    budget: float          # at most this many seconds per measurement
    slow_budget: float     # the same for operations marked slow
    import_runs: int       # subprocesses for "import jwt3"


QUICK = Settings("quick", 0.03, 3, 0.01, 1.0, 2.0, 5)
FULL = Settings("full", 0.1, 7, 0.05, 8.0, 40.0, 15)


def _timed(fn: Callable[[], Any], loops: int) -> float:
    """Seconds taken by ``loops`` calls of ``fn``, garbage collector off."""
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in itertools.repeat(None, loops):
            fn()
        return time.perf_counter() - start
    finally:
        if gc_enabled:
            gc.enable()


class _Plan:
    """One library's measurement of one operation, while it runs."""

    def __init__(self, case: "Case", fn: Callable[[], Any]) -> None:
        self.case = case
        self.fn = fn
        self.loops = 1
        self.quota = 1
        self.samples = []     # type: List[float]  (seconds per call)

    def calibrate(self, settings: Settings, slow: bool) -> None:
        """Warm up, then size the loop and the number of repeats.

        The first calls are never timed: they build whatever jwt3 or the
        peer builds lazily (a per-key table may wait for a key's third
        or fourth use: cases that reuse a key ask for more warm-up
        calls).  The loop is sized from the last warm-up batch alone.
        For an operation marked slow (RSA key generation) every call is
        a sample of its own.
        """
        first = _timed(self.fn, 1)
        if slow:
            self.samples.append(first)
            budget = settings.slow_budget - first
            self.quota = max(0, min(settings.repeats - 1,
                                    int(budget / first)))
            return

        calls, spent, per_call = 1, first, first
        while spent < settings.warmup_time or calls < self.case.warmup:
            batch = calls
            elapsed = _timed(self.fn, batch)
            spent += elapsed
            calls += batch
            per_call = elapsed / batch
        self.loops = max(1, int(settings.repeat_time / per_call))
        repeat_cost = self.loops * per_call
        self.quota = max(3, min(settings.repeats,
                                int(settings.budget / repeat_cost)))

    def sample(self) -> None:
        self.samples.append(_timed(self.fn, self.loops) / self.loops)


# ---- What the run is made of ----


class Case(NamedTuple):
    """One library's way of doing one operation.

    ``setup(notes)`` does the untimed preparation and returns the
    function to time; it may append remarks to ``notes``.
    """

    library: str
    kind: str
    setup: Callable[[List[str]], Callable[[], Any]]
    variant: str = ""
    full_only: bool = False      # too slow or erratic for --quick
    warmup: int = 1              # untimed calls at least


class Op(NamedTuple):
    """One row of the table."""

    name: str
    group: str
    alg: Optional[str]           # the jwt3 algorithm it needs, if any
    cases: List[Case]
    slow: bool = False
    custom: Optional[Callable[..., List["Result"]]] = None


class Result(NamedTuple):
    library: str
    kind: str
    variant: str
    us: float                    # median µs per operation
    samples: List[float]         # µs per operation, one per repeat
    loops: int


class Skip(Exception):
    """A case that cannot run here (peer missing, not applicable)."""


class Target(NamedTuple):
    """A speed target from the issues: jwt3's time on ``op`` divided
    by the reference's (the fastest of ``libraries`` on ``ref_op``) must
    not exceed ``limit``; with no libraries, an absolute limit in µs."""

    source: str
    op: str
    ref_op: str
    libraries: Tuple[str, ...]
    limit: float


TARGETS = [
    Target("issue 2", "HS256 encode+decode", "HS256 encode+decode",
           ("PyJWT", "joserfc", "python-jose"), 0.60),
    Target("issue 4", "RS256-2048 sign", "RS256-2048 sign",
           ("python-rsa",), 0.40),
    Target("issue 4", "RS256-2048 verify (fresh key)",
           "RS256-2048 verify (fresh key)", ("python-rsa",), 1.20),
    Target("issue 5", "ES256 sign", "ES256 sign", ("python-ecdsa",), 0.45),
    Target("issue 5", "ES384 sign", "ES384 sign", ("python-ecdsa",), 0.45),
    Target("issue 5", "ES512 sign", "ES512 sign", ("python-ecdsa",), 0.45),
    Target("issue 5", "ES256K sign", "ES256K sign", ("python-ecdsa",),
           0.40),
    Target("issue 5", "ES256 verify (fresh key)", "ES256 verify (fresh key)",
           ("python-ecdsa",), 0.75),
    Target("issue 5", "ES384 verify (fresh key)", "ES384 verify (fresh key)",
           ("python-ecdsa",), 0.75),
    Target("issue 5", "ES512 verify (fresh key)", "ES512 verify (fresh key)",
           ("python-ecdsa",), 0.75),
    Target("issue 5", "ES256K verify (fresh key)",
           "ES256K verify (fresh key)", ("python-ecdsa",), 0.55),
    Target("issue 5", "ES256 verify (reused key)",
           "ES256 verify (reused key)", ("python-ecdsa",), 0.40),
    Target("issue 5", "import jwt3", "import jwt3", (), 25000.0),
    Target("issue 6", "Ed25519 sign", "Ed25519 sign", ("python-ecdsa",),
           0.45),
    Target("issue 6", "Ed25519 verify (fresh key)",
           "Ed25519 verify (fresh key)", ("python-ecdsa",), 0.40),
    Target("issue 6", "Ed25519 verify (reused key)",
           "Ed25519 verify (fresh key)", ("python-ecdsa",), 0.15),
    Target("issue 6", "Ed448 sign", "Ed448 sign", ("python-ecdsa",), 0.50),
    Target("issue 6", "Ed448 verify (fresh key)", "Ed448 verify (fresh key)",
           ("python-ecdsa",), 0.45),
]


# ---- Shared material: keys, claims, JWK helpers ----


def _b64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(text: str) -> int:
    return int.from_bytes(_b64u(text), "big")


_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi")


def _public_jwk(jwk: Dict[str, str]) -> Dict[str, str]:
    if jwk["kty"] == "oct":
        return dict(jwk)
    return {k: v for k, v in jwk.items() if k not in _PRIVATE_MEMBERS}


class Context:
    """What the cases share: jwt3, the peers, keys and test data."""

    def __init__(self, jwt3: Any, keys: Dict[str, Dict[str, str]]) -> None:
        self.jwt3 = jwt3
        self.supported = set(jwt3.supported_algorithms())
        self.keys = keys
        self.clear, self.clear_name, self.clear_remarks = \
            _cache_clearer(jwt3)
        self._peers = {}     # type: Dict[str, Any]
        self.missing = {}    # type: Dict[str, str]
        self._jwt3_keys = {}     # type: Dict[Tuple[str, bool], Any]
        self._clear_checked = set()   # type: set

        now = int(time.time())
        self.claims = {"iss": "https://issuer.example", "sub": "alice",
                       "name": "Alice Example", "iat": now,
                       "exp": now + 86400}
        header = {"alg": "ES256", "typ": "JWT", "kid": "bench"}
        self.data = (
            _b64u_encode(json.dumps(header).encode()) + "."
            + _b64u_encode(json.dumps(self.claims).encode())
        ).encode("ascii")

    def peer(self, name: str) -> Any:
        """The peer's module, or raise Skip if it is not installed."""
        if name in self._peers:
            return self._peers[name]
        if name in self.missing:
            raise Skip("%s is not installed" % name)
        module_name = PEERS[name][0]
        try:
            module = __import__(module_name)
            # Another distribution also installs a "jwt" module.
            if name == "PyJWT" and not hasattr(module, "PyJWK"):
                raise ImportError("the jwt module here is not PyJWT")
        except Exception as exc:
            self.missing[name] = "%s: %s" % (type(exc).__name__, exc)
            raise Skip("%s is not installed" % name) from None
        self._peers[name] = module
        return module

    def probe_peers(self) -> None:
        """Import every peer now, so imports are not timed later."""
        for name in PEERS:
            try:
                self.peer(name)
            except Skip:
                pass

    def peer_versions(self) -> Dict[str, Optional[str]]:
        versions = {}    # type: Dict[str, Optional[str]]
        for name, (_, dist) in PEERS.items():
            versions[name] = None
            if name in self._peers:
                try:
                    from importlib.metadata import version
                    versions[name] = version(dist)
                except Exception:
                    versions[name] = getattr(self._peers[name],
                                             "__version__", "?")
        return versions

    def jwt3_key(self, name: str, private: bool = False) -> Any:
        """jwt3's Key for the fixed key ``name`` (cached)."""
        cache_key = (name, private)
        if cache_key not in self._jwt3_keys:
            jwk = self.keys[name]
            if not private:
                jwk = _public_jwk(jwk)
            self._jwt3_keys[cache_key] = self.jwt3.Key.from_jwk(jwk)
        return self._jwt3_keys[cache_key]

    def check_clear(self, notes: List[str], label: str,
                    sign: Callable[[], Any]) -> None:
        """Note if jwt3._clear_caches() also drops what signing uses
        (per-curve tables): fresh-key figures then include rebuilding
        them, which a never-seen key would not cost."""
        if self.clear is None or label in self._clear_checked:
            return
        self._clear_checked.add(label)
        sign()
        plain = min(_timed(sign, 1) for _ in range(3))
        clear = self.clear

        def cleared() -> None:
            clear()
            sign()

        after = min(_timed(cleared, 1) for _ in range(3))
        if after > 2 * plain + 0.001:
            notes.append(
                "clearing jwt3's caches also empties what %s signing uses"
                " (sign %.2f ms, after clearing %.2f ms): fresh-key"
                " figures include rebuilding it" % (label, plain * 1e3,
                                                    after * 1e3))


def _cache_clearer(jwt3: Any) -> Tuple[Optional[Callable[[], None]], str,
                                        List[str]]:
    """The function that empties jwt3's per-key caches, its description
    and remarks about it.

    ``jwt3._clear_caches()`` runs the clearers the families register in
    ``_CACHE_CLEARERS``.  A family's own ``_<family>_clear_caches()``
    that is not registered there (a branch written before the registry
    existed) is called directly as well, without arguments, which keeps
    the per-curve tables; so is every such function of a build that has
    no ``_clear_caches`` at all.
    """
    functions = []    # type: List[Callable[[], None]]
    names = []        # type: List[str]
    remarks = []      # type: List[str]
    clear = getattr(jwt3, "_clear_caches", None)
    registered = list(getattr(jwt3, "_CACHE_CLEARERS", []))
    if callable(clear):
        functions.append(clear)
        names.append("_clear_caches")
    for name in sorted(vars(jwt3)):
        function = getattr(jwt3, name)
        if not (name.startswith("_") and name.endswith("_clear_caches")
                and name != "_clear_caches" and callable(function)):
            continue
        if function in registered:
            continue
        try:
            function()
        except Exception as exc:
            remarks.append("cannot call jwt3.%s() (%s): not used"
                           % (name, _describe_error(exc)))
            continue
        functions.append(function)
        names.append(name)
        if callable(clear):
            remarks.append("jwt3.%s is not registered in _CACHE_CLEARERS,"
                           " so _clear_caches() misses it: called"
                           " directly" % name)
    if not functions:
        return None, "", ["jwt3 has no cache clearer: fresh-key rows may"
                          " hit per-key caches"]

    def clear_all() -> None:
        for function in functions:
            function()
    return clear_all, " + ".join(names), remarks


def _load_keys() -> Dict[str, Dict[str, str]]:
    with open(os.path.join(HERE, "keys.json"), encoding="utf-8") as f:
        return json.load(f)["keys"]


# ---- Verification helpers ----


def _expect_true(fn: Callable[..., Any], *args: Any) -> Callable[[], None]:
    """A call of ``fn(*args)`` that fails unless it returns true."""
    def run() -> None:
        if not fn(*args):
            raise AssertionError("verify returned False")
    return run


def _jwt3_fresh(ctx: Context, alg: str, jwk: Dict[str, str], data: bytes,
                signature: bytes) -> Callable[[], None]:
    """jwt3 verifying with a key parsed from ``jwk`` for this token
    alone: the per-key caches are emptied first."""
    Key, clear = ctx.jwt3.Key, ctx.clear or (lambda: None)

    def fresh() -> None:
        clear()
        if not Key.from_jwk(jwk).verify(alg, data, signature):
            raise AssertionError("jwt3 verify returned False")
    return fresh


# ---- HMAC: HS256, HS384, HS512 ----


def _hs_jwt3(ctx: Context, alg: str, what: str,
             notes: List[str]) -> Callable[[], Any]:
    jwk = ctx.keys["oct-" + alg]
    key = ctx.jwt3_key("oct-" + alg, private=True)
    data = ctx.data
    if what == "sign":
        return functools.partial(key.sign, alg, data)
    signature = key.sign(alg, data)
    if what == "reused":
        return _expect_true(key.verify, alg, data, signature)
    return _jwt3_fresh(ctx, alg, jwk, data, signature)


def _hs_pyjwt(ctx: Context, alg: str, what: str,
              notes: List[str]) -> Callable[[], Any]:
    ctx.peer("PyJWT")
    from jwt.algorithms import HMACAlgorithm
    algorithm = HMACAlgorithm(getattr(HMACAlgorithm, "SHA" + alg[2:]))
    secret = _b64u(ctx.keys["oct-" + alg]["k"])
    key = algorithm.prepare_key(secret)
    data = ctx.data
    if what == "sign":
        return functools.partial(algorithm.sign, data, key)
    signature = algorithm.sign(data, key)
    if what == "reused":
        return _expect_true(algorithm.verify, data, key, signature)
    jwk = ctx.keys["oct-" + alg]

    def fresh() -> None:
        if not algorithm.verify(data, algorithm.prepare_key(_b64u(
                jwk["k"])), signature):
            raise AssertionError("verify returned False")
    return fresh


def _hs_jose(ctx: Context, alg: str, what: str,
             notes: List[str]) -> Callable[[], Any]:
    ctx.peer("python-jose")
    # Its pure backend (hmac); by default it takes cryptography's HMAC
    # when that is installed.
    from jose.backends.native import HMACKey
    jwk = ctx.keys["oct-" + alg]
    key = HMACKey(jwk, alg)
    data = ctx.data
    if what == "sign":
        return functools.partial(key.sign, data)
    signature = key.sign(data)
    if what == "reused":
        return _expect_true(key.verify, data, signature)

    def fresh() -> None:
        if not HMACKey(jwk, alg).verify(data, signature):
            raise AssertionError("verify returned False")
    return fresh


def _hs_cryptography(ctx: Context, alg: str, what: str,
                     notes: List[str]) -> Callable[[], Any]:
    ctx.peer("cryptography")
    from cryptography.hazmat.primitives import hashes, hmac
    hash_class = getattr(hashes, "SHA" + alg[2:])
    jwk = ctx.keys["oct-" + alg]
    secret = _b64u(jwk["k"])
    data = ctx.data

    def sign() -> bytes:
        h = hmac.HMAC(secret, hash_class())
        h.update(data)
        return h.finalize()

    if what == "sign":
        return sign
    signature = sign()

    def verify() -> None:
        h = hmac.HMAC(secret, hash_class())
        h.update(data)
        h.verify(signature)

    if what == "reused":
        return verify

    def fresh() -> None:
        h = hmac.HMAC(_b64u(jwk["k"]), hash_class())
        h.update(data)
        h.verify(signature)
    return fresh


def _hs_ops(ctx: Context) -> List[Op]:
    ops = []
    adapters = [("jwt3", JWT3, _hs_jwt3), ("PyJWT", PURE, _hs_pyjwt),
                ("python-jose", PURE, _hs_jose),
                ("cryptography", OPENSSL, _hs_cryptography)]
    for alg in ("HS256", "HS384", "HS512"):
        ops.extend(_sign_verify_ops(ctx, alg, alg, "HMAC", adapters))
    return ops


# Untimed calls before timing a key that is reused: enough for any
# per-key table that waits for a key's first few uses to be built.
_KEY_WARMUP = 10

_WHATS = (("sign", "sign"), ("fresh", "verify (fresh key)"),
          ("reused", "verify (reused key)"))


def _sign_verify_ops(ctx: Context, label: str, alg: Optional[str],
                     group: str, adapters: Sequence[Tuple[Any, ...]]
                     ) -> List[Op]:
    """The sign / fresh verify / reused verify rows of one algorithm.

    Each adapter is (library, kind, function[, variants]) where
    function(ctx, spec, what, notes) returns the timed callable and
    variants maps ``what`` to a variant label.
    """
    ops = []
    for what, title in _WHATS:
        cases = []
        for adapter in adapters:
            library, kind, function = adapter[:3]
            variants = adapter[3] if len(adapter) > 3 else {}
            setup = functools.partial(function, ctx, label, what)
            cases.append(Case(library, kind, setup,
                              variants.get(what, ""),
                              warmup=_KEY_WARMUP if what == "reused"
                              else 1))
        ops.append(Op("%s %s" % (label, title), group, alg, cases))
    return ops


# ---- RSA: RS256/384/512, PS256/384/512 ----


def _rsa_label(label: str) -> Tuple[str, int]:
    alg, bits = label.split("-")
    return alg, int(bits)


def _rsa_jwt3(ctx: Context, label: str, what: str,
              notes: List[str]) -> Callable[[], Any]:
    alg, bits = _rsa_label(label)
    name = "RSA-%d" % bits
    key = ctx.jwt3_key(name, private=True)
    data = ctx.data
    if what == "sign":
        return functools.partial(key.sign, alg, data)
    signature = key.sign(alg, data)
    if what == "reused":
        return _expect_true(ctx.jwt3_key(name).verify, alg, data,
                            signature)
    ctx.check_clear(notes, "RSA-%d" % bits,
                    functools.partial(key.sign, alg, data))
    return _jwt3_fresh(ctx, alg, _public_jwk(ctx.keys[name]), data,
                       signature)


def _rsa_python_rsa(ctx: Context, label: str, what: str,
                    notes: List[str]) -> Callable[[], Any]:
    alg, bits = _rsa_label(label)
    if not alg.startswith("RS"):
        raise Skip("python-rsa has no PSS")
    rsa = ctx.peer("python-rsa")
    jwk = ctx.keys["RSA-%d" % bits]
    n, e = _uint(jwk["n"]), _uint(jwk["e"])
    private = rsa.PrivateKey(n, e, _uint(jwk["d"]), _uint(jwk["p"]),
                             _uint(jwk["q"]))
    hash_name = "SHA-" + alg[2:]
    data = ctx.data
    if what == "sign":
        return functools.partial(rsa.sign, data, private, hash_name)
    signature = rsa.sign(data, private, hash_name)
    if what == "reused":
        public = rsa.PublicKey(n, e)
        return functools.partial(rsa.verify, data, signature, public)

    def fresh() -> None:
        rsa.verify(data, signature,
                   rsa.PublicKey(_uint(jwk["n"]), _uint(jwk["e"])))
    return fresh


def _rsa_cryptography(ctx: Context, label: str, what: str,
                      notes: List[str]) -> Callable[[], Any]:
    alg, bits = _rsa_label(label)
    ctx.peer("cryptography")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    jwk = ctx.keys["RSA-%d" % bits]
    hash_class = getattr(hashes, "SHA" + alg[2:])
    if alg.startswith("RS"):
        pad = padding.PKCS1v15()    # type: Any
    else:
        pad = padding.PSS(mgf=padding.MGF1(hash_class()),
                          salt_length=padding.PSS.DIGEST_LENGTH)
    public_numbers = rsa.RSAPublicNumbers(_uint(jwk["e"]), _uint(jwk["n"]))
    private = rsa.RSAPrivateNumbers(
        _uint(jwk["p"]), _uint(jwk["q"]), _uint(jwk["d"]),
        _uint(jwk["dp"]), _uint(jwk["dq"]), _uint(jwk["qi"]),
        public_numbers).private_key()
    data = ctx.data
    if what == "sign":
        return functools.partial(private.sign, data, pad, hash_class())
    signature = private.sign(data, pad, hash_class())
    if what == "reused":
        public = public_numbers.public_key()
        return functools.partial(public.verify, signature, data, pad,
                                 hash_class())

    def fresh() -> None:
        public = rsa.RSAPublicNumbers(_uint(jwk["e"]),
                                      _uint(jwk["n"])).public_key()
        public.verify(signature, data, pad, hash_class())
    return fresh


def _rsa_ops(ctx: Context) -> List[Op]:
    adapters = [("jwt3", JWT3, _rsa_jwt3),
                ("python-rsa", PURE, _rsa_python_rsa),
                ("cryptography", OPENSSL, _rsa_cryptography)]
    ops = []
    for family in ("RS", "PS"):
        for alg, bits in ((family + "256", 2048), (family + "256", 3072),
                          (family + "256", 4096), (family + "384", 2048),
                          (family + "512", 2048)):
            label = "%s-%d" % (alg, bits)
            ops.extend(_sign_verify_ops(ctx, label, alg, "RSA", adapters))
    return ops


# ---- ECDSA: ES256, ES384, ES512, ES256K ----


class _Curve(NamedTuple):
    alg: str
    key: str                # name in keys.json
    hash: str               # hashlib name
    ecdsa: str              # python-ecdsa curve attribute
    starkbank: Optional[str]
    cryptography: str       # cryptography.hazmat ec class name


_CURVES = {
    "ES256": _Curve("ES256", "P-256", "sha256", "NIST256p", "prime256v1",
                    "SECP256R1"),
    "ES384": _Curve("ES384", "P-384", "sha384", "NIST384p", None,
                    "SECP384R1"),
    "ES512": _Curve("ES512", "P-521", "sha512", "NIST521p", None,
                    "SECP521R1"),
    "ES256K": _Curve("ES256K", "secp256k1", "sha256", "SECP256k1",
                     "secp256k1", "SECP256K1"),
}


def _ec_jwt3(ctx: Context, alg: str, what: str,
             notes: List[str]) -> Callable[[], Any]:
    curve = _CURVES[alg]
    key = ctx.jwt3_key(curve.key, private=True)
    data = ctx.data
    if what == "sign":
        return functools.partial(key.sign, alg, data)
    signature = key.sign(alg, data)
    if what == "reused":
        return _expect_true(ctx.jwt3_key(curve.key).verify, alg, data,
                            signature)
    ctx.check_clear(notes, curve.key, functools.partial(key.sign, alg, data))
    return _jwt3_fresh(ctx, alg, _public_jwk(ctx.keys[curve.key]), data,
                       signature)


def _ec_python_ecdsa(ctx: Context, alg: str, what: str,
                     notes: List[str]) -> Callable[[], Any]:
    ecdsa = ctx.peer("python-ecdsa")
    curve = _CURVES[alg]
    ec_curve = getattr(ecdsa, curve.ecdsa)
    hashfunc = getattr(hashlib, curve.hash)
    jwk = ctx.keys[curve.key]
    sk = ecdsa.SigningKey.from_secret_exponent(_uint(jwk["d"]), ec_curve,
                                               hashfunc)
    data = ctx.data
    if what == "sign":
        # Its default: a random k (sign_deterministic is RFC 6979).
        return functools.partial(sk.sign, data)
    signature = sk.sign(data)
    VerifyingKey = ecdsa.VerifyingKey
    if what == "reused":
        # precompute() needs a point that knows its order, which
        # from_string() does not give.
        from ecdsa.ellipticcurve import PointJacobi
        point = PointJacobi(ec_curve.curve, _uint(jwk["x"]),
                            _uint(jwk["y"]), 1, ec_curve.order)
        vk = VerifyingKey.from_public_point(point, ec_curve, hashfunc)
        vk.precompute()
        return functools.partial(vk.verify, signature, data)

    def fresh() -> None:
        vk = VerifyingKey.from_string(_b64u(jwk["x"]) + _b64u(jwk["y"]),
                                      ec_curve, hashfunc)
        vk.verify(signature, data)
    return fresh


def _ec_starkbank(ctx: Context, alg: str, what: str,
                  notes: List[str]) -> Callable[[], Any]:
    curve = _CURVES[alg]
    if curve.starkbank is None:
        raise Skip("starkbank-ecdsa has no %s" % curve.key)
    ctx.peer("starkbank-ecdsa")
    from ellipticcurve import curve as sb_curves
    from ellipticcurve.ecdsa import Ecdsa
    from ellipticcurve.point import Point
    from ellipticcurve.privateKey import PrivateKey
    from ellipticcurve.publicKey import PublicKey
    sb_curve = getattr(sb_curves, curve.starkbank)
    jwk = ctx.keys[curve.key]
    private = PrivateKey(curve=sb_curve, secret=_uint(jwk["d"]))
    hashfunc = getattr(hashlib, curve.hash)
    message = ctx.data.decode("ascii")    # it signs str, not bytes
    if what == "sign":
        return functools.partial(Ecdsa.sign, message, private, hashfunc)
    signature = Ecdsa.sign(message, private, hashfunc)
    if what == "reused":
        public = private.publicKey()
        return _expect_true(Ecdsa.verify, message, signature, public,
                            hashfunc)

    # Its fromString() also checks n·Q = O, which no other library
    # here pays for on a prime-order curve: build the key directly
    # (verify() checks the point is on the curve).
    def fresh() -> None:
        public = PublicKey(Point(_uint(jwk["x"]), _uint(jwk["y"])),
                           sb_curve)
        if not Ecdsa.verify(message, signature, public, hashfunc):
            raise AssertionError("verify returned False")
    return fresh


def _ec_cryptography(ctx: Context, alg: str, what: str,
                     notes: List[str]) -> Callable[[], Any]:
    ctx.peer("cryptography")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    curve = _CURVES[alg]
    ec_curve = getattr(ec, curve.cryptography)()
    jwk = ctx.keys[curve.key]
    algorithm = ec.ECDSA(getattr(hashes, curve.hash.upper())())
    private = ec.derive_private_key(_uint(jwk["d"]), ec_curve)
    data = ctx.data
    if what == "sign":
        return functools.partial(private.sign, data, algorithm)
    signature = private.sign(data, algorithm)
    if what == "reused":
        public = private.public_key()
        return functools.partial(public.verify, signature, data, algorithm)

    def fresh() -> None:
        public = ec.EllipticCurvePublicNumbers(
            _uint(jwk["x"]), _uint(jwk["y"]), ec_curve).public_key()
        public.verify(signature, data, algorithm)
    return fresh


def _ec_ops(ctx: Context) -> List[Op]:
    adapters = [
        ("jwt3", JWT3, _ec_jwt3),
        ("python-ecdsa", PURE, _ec_python_ecdsa,
         {"sign": "random k", "reused": "precompute()"}),
        ("starkbank-ecdsa", PURE, _ec_starkbank),
        ("cryptography", OPENSSL, _ec_cryptography,
         {"sign": "DER", "fresh": "DER", "reused": "DER"}),
    ]
    ops = []
    for alg in ("ES256", "ES384", "ES512", "ES256K"):
        ops.extend(_sign_verify_ops(ctx, alg, alg, "ECDSA", adapters))
    return ops


# ---- EdDSA: Ed25519, Ed448 ----


def _eddsa_alg(ctx: Context, crv: str) -> Optional[str]:
    """The jwt3 algorithm name for EdDSA on ``crv``, if supported."""
    if "EdDSA" in ctx.supported:
        return "EdDSA"
    if crv in ctx.supported:
        return crv
    return None


def _ed_jwt3(ctx: Context, crv: str, what: str,
             notes: List[str]) -> Callable[[], Any]:
    alg = _eddsa_alg(ctx, crv)
    key = ctx.jwt3_key(crv, private=True)
    data = ctx.data
    if what == "sign":
        return functools.partial(key.sign, alg, data)
    signature = key.sign(alg, data)
    if what == "reused":
        return _expect_true(ctx.jwt3_key(crv).verify, alg, data, signature)
    ctx.check_clear(notes, crv, functools.partial(key.sign, alg, data))
    return _jwt3_fresh(ctx, alg, _public_jwk(ctx.keys[crv]), data,
                       signature)


def _ed_python_ecdsa(ctx: Context, crv: str, what: str,
                     notes: List[str]) -> Callable[[], Any]:
    ecdsa = ctx.peer("python-ecdsa")
    curve = getattr(ecdsa, crv)
    jwk = ctx.keys[crv]
    sk = ecdsa.SigningKey.from_string(_b64u(jwk["d"]), curve)
    data = ctx.data
    if what == "sign":
        return functools.partial(sk.sign, data)
    signature = sk.sign(data)
    VerifyingKey = ecdsa.VerifyingKey
    if what == "reused":
        vk = VerifyingKey.from_string(_b64u(jwk["x"]), curve)
        vk.precompute()
        return functools.partial(vk.verify, signature, data)

    def fresh() -> None:
        VerifyingKey.from_string(_b64u(jwk["x"]), curve).verify(signature,
                                                                data)
    return fresh


def _ed_pure25519(ctx: Context, crv: str, what: str,
                  notes: List[str]) -> Callable[[], Any]:
    if crv != "Ed25519":
        raise Skip("pure25519 has no %s" % crv)
    ctx.peer("pure25519")
    from pure25519 import ed25519_oop
    jwk = ctx.keys[crv]
    sk = ed25519_oop.SigningKey(_b64u(jwk["d"]))
    data = ctx.data
    if what == "sign":
        return functools.partial(sk.sign, data)
    signature = sk.sign(data)
    if what == "reused":
        vk = ed25519_oop.VerifyingKey(_b64u(jwk["x"]))
        return functools.partial(vk.verify, signature, data)

    def fresh() -> None:
        ed25519_oop.VerifyingKey(_b64u(jwk["x"])).verify(signature, data)
    return fresh


def _ed_cryptography(ctx: Context, crv: str, what: str,
                     notes: List[str]) -> Callable[[], Any]:
    ctx.peer("cryptography")
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519
    module = ed25519 if crv == "Ed25519" else ed448
    private_class = getattr(module, crv + "PrivateKey")
    public_class = getattr(module, crv + "PublicKey")
    jwk = ctx.keys[crv]
    private = private_class.from_private_bytes(_b64u(jwk["d"]))
    data = ctx.data
    if what == "sign":
        return functools.partial(private.sign, data)
    signature = private.sign(data)
    if what == "reused":
        public = private.public_key()
        return functools.partial(public.verify, signature, data)

    def fresh() -> None:
        public_class.from_public_bytes(_b64u(jwk["x"])).verify(signature,
                                                              data)
    return fresh


def _ed_ops(ctx: Context) -> List[Op]:
    adapters = [
        ("jwt3", JWT3, _ed_jwt3),
        ("python-ecdsa", PURE, _ed_python_ecdsa,
         {"reused": "precompute()"}),
        ("pure25519", PURE, _ed_pure25519),
        ("cryptography", OPENSSL, _ed_cryptography),
    ]
    ops = []
    for crv in ("Ed25519", "Ed448"):
        alg = _eddsa_alg(ctx, crv) or "EdDSA"
        ops.extend(_sign_verify_ops(ctx, crv, alg, "EdDSA", adapters))
    return ops


# ---- Key generation ----


def _keygen_ops(ctx: Context) -> List[Op]:
    def jwt3_gen(alg: str, **options: Any) -> Case:
        def setup(notes: List[str]) -> Callable[[], Any]:
            return functools.partial(ctx.jwt3.generate_key, alg, **options)
        return Case("jwt3", JWT3, setup)

    def peer(library: str, kind: str, make: Callable[[], Any],
             full_only: bool = False) -> Case:
        def setup(notes: List[str]) -> Callable[[], Any]:
            ctx.peer(library)
            return make()
        return Case(library, kind, setup, full_only=full_only)

    def rsa_python_rsa() -> Callable[[], Any]:
        import rsa
        return functools.partial(rsa.newkeys, 2048)

    def rsa_cryptography() -> Callable[[], Any]:
        from cryptography.hazmat.primitives.asymmetric import rsa
        return functools.partial(rsa.generate_private_key, 65537, 2048)

    def ec_python_ecdsa(curve: str) -> Callable[[], Callable[[], Any]]:
        def make() -> Callable[[], Any]:
            import ecdsa
            return functools.partial(ecdsa.SigningKey.generate,
                                     getattr(ecdsa, curve))
        return make

    def ec_starkbank(curve: str) -> Callable[[], Callable[[], Any]]:
        def make() -> Callable[[], Any]:
            from ellipticcurve import curve as sb_curves
            from ellipticcurve.privateKey import PrivateKey
            sb_curve = getattr(sb_curves, curve)
            return lambda: PrivateKey(curve=sb_curve).publicKey()
        return make

    def ec_cryptography(curve: str) -> Callable[[], Callable[[], Any]]:
        def make() -> Callable[[], Any]:
            from cryptography.hazmat.primitives.asymmetric import ec
            ec_curve = getattr(ec, curve)()
            return functools.partial(ec.generate_private_key, ec_curve)
        return make

    def ed_pure25519() -> Callable[[], Any]:
        from pure25519 import ed25519_oop
        return ed25519_oop.create_keypair

    def ed_cryptography(crv: str) -> Callable[[], Callable[[], Any]]:
        def make() -> Callable[[], Any]:
            from cryptography.hazmat.primitives.asymmetric import (ed448,
                                                                   ed25519)
            module = ed25519 if crv == "Ed25519" else ed448
            return getattr(module, crv + "PrivateKey").generate
        return make

    ops = [Op("keygen HS256", "keygen", "HS256", [jwt3_gen("HS256")])]
    rsa_alg = "PS256" if "RS256" not in ctx.supported and \
        "PS256" in ctx.supported else "RS256"
    ops.append(Op("keygen RSA-2048", "keygen", rsa_alg, [
        jwt3_gen(rsa_alg, bits=2048),
        # One rsa.newkeys(2048) takes anything from 1 to 10 s here.
        peer("python-rsa", PURE, rsa_python_rsa, full_only=True),
        peer("cryptography", OPENSSL, rsa_cryptography)], slow=True))
    for alg, curve in _CURVES.items():
        cases = [jwt3_gen(alg),
                 peer("python-ecdsa", PURE, ec_python_ecdsa(curve.ecdsa))]
        if curve.starkbank:
            cases.append(peer("starkbank-ecdsa", PURE,
                              ec_starkbank(curve.starkbank)))
        cases.append(peer("cryptography", OPENSSL,
                          ec_cryptography(curve.cryptography)))
        ops.append(Op("keygen %s" % curve.key, "keygen", alg, cases))
    for crv in ("Ed25519", "Ed448"):
        alg = _eddsa_alg(ctx, crv)
        if alg == "EdDSA":
            jwt3_case = jwt3_gen("EdDSA", crv=crv)
        else:
            jwt3_case = jwt3_gen(crv)
        cases = [jwt3_case, peer("python-ecdsa", PURE,
                                 ec_python_ecdsa(crv))]
        if crv == "Ed25519":
            cases.append(peer("pure25519", PURE, ed_pure25519))
        cases.append(peer("cryptography", OPENSSL, ed_cryptography(crv)))
        ops.append(Op("keygen %s" % crv, "keygen", alg or "EdDSA", cases))
    return ops


# ---- Whole tokens: encode + decode, decode only ----

# (row label, JWS alg, fixed key name)
_TOKEN_ALGS = (("HS256", "HS256", "oct-HS256"),
               ("RS256", "RS256", "RSA-2048"),
               ("ES256", "ES256", "P-256"),
               ("EdDSA", "EdDSA", "Ed25519"))

_TOKEN_WHATS = (("roundtrip", "encode+decode"),
                ("reused", "decode (reused key)"),
                ("fresh", "decode (fresh key)"))


def _token_jwt3(ctx: Context, spec: Tuple[str, str, str], what: str,
                notes: List[str]) -> Callable[[], Any]:
    jwt3 = ctx.jwt3
    _, alg, key_name = spec
    if alg == "EdDSA":
        alg = _eddsa_alg(ctx, "Ed25519") or alg
    private = ctx.jwt3_key(key_name, private=True)
    public = ctx.jwt3_key(key_name)
    claims, algorithms = ctx.claims, [alg]
    token = jwt3.encode(claims, private, alg)
    if jwt3.decode(token, public, algorithms) != claims:
        raise AssertionError("jwt3.decode did not return the claims")
    if what == "roundtrip":
        return lambda: jwt3.decode(jwt3.encode(claims, private, alg), public,
                                   algorithms)
    if what == "reused":
        return functools.partial(jwt3.decode, token, public, algorithms)
    jwk = _public_jwk(ctx.keys[key_name])
    Key, clear = jwt3.Key, ctx.clear or (lambda: None)

    def fresh() -> None:
        clear()
        jwt3.decode(token, Key.from_jwk(jwk), algorithms)
    return fresh


def _token_pyjwt(ctx: Context, spec: Tuple[str, str, str], what: str,
                 notes: List[str]) -> Callable[[], Any]:
    jwt = ctx.peer("PyJWT")
    _, alg, key_name = spec
    jwk = _public_jwk(ctx.keys[key_name])
    private = jwt.PyJWK(ctx.keys[key_name], algorithm=alg).key
    public = jwt.PyJWK(jwk, algorithm=alg).key
    claims, algorithms = ctx.claims, [alg]
    token = jwt.encode(claims, private, algorithm=alg)
    if jwt.decode(token, public, algorithms=algorithms) != claims:
        raise AssertionError("decode did not return the claims")
    if what == "roundtrip":
        return lambda: jwt.decode(jwt.encode(claims, private, algorithm=alg),
                                  public, algorithms=algorithms)
    if what == "reused":
        return functools.partial(jwt.decode, token, public,
                                 algorithms=algorithms)
    PyJWK = jwt.PyJWK
    return lambda: jwt.decode(token, PyJWK(jwk, algorithm=alg).key,
                              algorithms=algorithms)


def _token_joserfc(ctx: Context, spec: Tuple[str, str, str], what: str,
                   notes: List[str]) -> Callable[[], Any]:
    ctx.peer("joserfc")
    from joserfc import jwk as joserfc_jwk, jwt
    _, alg, key_name = spec
    key_class = {"oct": joserfc_jwk.OctKey, "RSA": joserfc_jwk.RSAKey,
                 "EC": joserfc_jwk.ECKey,
                 "OKP": joserfc_jwk.OKPKey}[ctx.keys[key_name]["kty"]]
    jwk = _public_jwk(ctx.keys[key_name])
    private = key_class.import_key(ctx.keys[key_name])
    public = key_class.import_key(jwk)
    claims, algorithms = ctx.claims, [alg]
    header = {"alg": alg}
    registry = jwt.JWTClaimsRegistry()   # checks exp, nbf, iat

    def decode(token: str, key: Any) -> Dict[str, Any]:
        decoded = jwt.decode(token, key, algorithms=algorithms)
        registry.validate(decoded.claims)
        return decoded.claims

    token = jwt.encode(header, claims, private, algorithms=algorithms)
    if decode(token, public) != claims:
        raise AssertionError("decode did not return the claims")
    if what == "roundtrip":
        return lambda: decode(jwt.encode(header, claims, private,
                                         algorithms=algorithms), public)
    if what == "reused":
        return functools.partial(decode, token, public)
    return lambda: decode(token, key_class.import_key(jwk))


def _token_jose(ctx: Context, spec: Tuple[str, str, str], what: str,
                notes: List[str], native: bool = False) -> Callable[[], Any]:
    ctx.peer("python-jose")
    from jose import jwk as jose_jwk, jwt
    label, alg, key_name = spec
    if alg == "EdDSA":
        raise Skip("python-jose has no EdDSA")
    if native:
        # The backends that need no cryptography package.
        if alg.startswith("ES"):
            from jose.backends.ecdsa_backend import ECDSAECKey as key_class
        elif alg.startswith("RS"):
            from jose.backends.rsa_backend import RSAKey as key_class
        else:
            raise Skip("python-jose (native) is only compared on ES/RS")

        def construct(jwk: Dict[str, str], alg: str) -> Any:
            return key_class(jwk, alg)
    else:
        construct = jose_jwk.construct
    jwk = _public_jwk(ctx.keys[key_name])
    private = construct(ctx.keys[key_name], alg)
    public = construct(jwk, alg)
    claims, algorithms = ctx.claims, [alg]
    token = jwt.encode(claims, private, algorithm=alg)
    if jwt.decode(token, public, algorithms=algorithms) != claims:
        raise AssertionError("decode did not return the claims")
    if what == "roundtrip":
        return lambda: jwt.decode(jwt.encode(claims, private, algorithm=alg),
                                  public, algorithms=algorithms)
    if what == "reused":
        return functools.partial(jwt.decode, token, public,
                                 algorithms=algorithms)
    return lambda: jwt.decode(token, construct(jwk, alg),
                              algorithms=algorithms)


def _token_ops(ctx: Context) -> List[Op]:
    ops = []
    for spec in _TOKEN_ALGS:
        label, alg, _ = spec
        if alg == "EdDSA":
            alg = _eddsa_alg(ctx, "Ed25519") or alg
        # For HS256 every JWT library hashes with hmac/OpenSSL like
        # jwt3: they are the peers.  For the others the pure-Python
        # peer is python-jose on its native backends.
        kind = PURE if label == "HS256" else OPENSSL
        libraries = [("jwt3", JWT3, _token_jwt3, ""),
                     ("PyJWT", kind, _token_pyjwt, ""),
                     ("joserfc", kind, _token_joserfc, "")]
        if label != "EdDSA":
            libraries.append(("python-jose", kind, _token_jose, ""))
        if label in ("RS256", "ES256"):
            libraries.append((
                "python-jose (native)", PURE,
                functools.partial(_token_jose, native=True),
                "python-rsa" if label == "RS256" else "python-ecdsa"))
        for what, title in _TOKEN_WHATS:
            warmup = 1 if what == "fresh" else _KEY_WARMUP
            cases = [Case(library, case_kind,
                          functools.partial(function, ctx, spec, what),
                          variant, warmup=warmup)
                     for library, case_kind, function, variant in libraries]
            ops.append(Op("%s %s" % (label, title), "token", alg, cases))
    return ops


# ---- The Kamailio module layer ----

_KAMAILIO = (("HS256", "HS256", "oct-HS256", "JWK Set"),
             ("RS256", "RS256", "RSA-2048", "PEM"),
             ("ES256", "ES256", "P-256", "PEM"),
             ("EdDSA", "EdDSA", "Ed25519", "PEM"))


def _kamailio_case(ctx: Context, spec: Tuple[str, str, str, str],
                   verify_only: bool, notes: List[str]) -> Callable[[], Any]:
    jwt3 = ctx.jwt3
    if not hasattr(jwt3, "Module"):
        raise Skip("this jwt3 has no Module (Kamailio layer)")
    label, alg, key_name, form = spec
    if alg == "EdDSA":
        alg = _eddsa_alg(ctx, "Ed25519") or alg
    if form == "PEM":
        private = ctx.jwt3_key(key_name, private=True)
        prvkey = private.to_pem(private=True)
        pubkey = private.public().to_pem()
    else:
        jwks = json.dumps({"keys": [dict(ctx.keys[key_name], kid="k1")]})
        prvkey = pubkey = jwks
    try:
        module = jwt3.Module(leeway_sec=60)
    except TypeError:
        module = jwt3.Module()
    claims = "sub='alice';name='Alice Example';exp=%d" % (
        int(time.time()) + 86400)
    expected = "sub='alice'"

    def generate() -> str:
        if module.jwt3_generate(prvkey, alg, claims) != 1:
            raise RuntimeError("jwt3_generate: %s" % module.pv("error"))
        return module.pv("val")

    def verify(token: str) -> None:
        if module.jwt3_verify(pubkey, alg, expected, token) != 1:
            raise RuntimeError("jwt3_verify: %s" % module.pv("error"))

    if not verify_only:
        return lambda: verify(generate())
    return functools.partial(verify, generate())


def _kamailio_ops(ctx: Context) -> List[Op]:
    ops = []
    for spec in _KAMAILIO:
        label, alg, _, form = spec
        if alg == "EdDSA":
            alg = _eddsa_alg(ctx, "Ed25519") or alg
        for verify_only, title in ((False, "jwt3_generate+jwt3_verify"),
                                   (True, "jwt3_verify")):
            setup = functools.partial(_kamailio_case, ctx, spec,
                                      verify_only)
            ops.append(Op("Kamailio %s %s (%s)" % (label, title, form),
                          "kamailio", alg, [Case("jwt3", JWT3, setup,
                                                 warmup=_KEY_WARMUP)]))
    return ops


# ---- Cold start: the first use in a new process ----
#
# jwt3 builds its fixed-base tables lazily, so that importing it stays
# cheap; the first key to sign or verify on a curve pays for them.  In
# Kamailio every forked worker pays once.  Timed in a fresh subprocess:
# load the key from its JWK, sign once, verify once.

_COLD_CODE = """\
import json, sys, time
sys.path.insert(0, sys.argv[1])
import jwt3
jwk, alg = json.loads(sys.argv[2]), sys.argv[3]
public_jwk = json.loads(sys.argv[4])
data = sys.argv[5].encode()
start = time.perf_counter()
key = jwt3.Key.from_jwk(jwk)
signature = key.sign(alg, data)
assert jwt3.Key.from_jwk(public_jwk).verify(alg, data, signature)
sys.stdout.write(repr(time.perf_counter() - start))
"""

# (row label, jwt3 algorithm, fixed key name)
_COLD = (("RS256", "RS256", "RSA-2048"), ("ES256", "ES256", "P-256"),
         ("ES384", "ES384", "P-384"), ("ES512", "ES512", "P-521"),
         ("ES256K", "ES256K", "secp256k1"), ("Ed25519", "EdDSA", "Ed25519"),
         ("Ed448", "EdDSA", "Ed448"))


def _cold_ops(ctx: Context) -> List[Op]:
    def custom(alg: str, key_name: str) -> Callable[..., List[Result]]:
        def run(settings: Settings, notes: List[str]) -> List[Result]:
            directory = os.path.dirname(os.path.abspath(ctx.jwt3.__file__))
            command = [sys.executable, "-E", "-s", "-B", "-c", _COLD_CODE,
                       directory, json.dumps(ctx.keys[key_name]), alg,
                       json.dumps(_public_jwk(ctx.keys[key_name])),
                       ctx.data.decode("ascii")]
            samples = [float(_run_child(command, HERE)) * 1e6
                       for _ in range(settings.repeats)]
            return [Result("jwt3", JWT3, "new process",
                           statistics.median(samples), samples, 1)]
        return run

    ops = []
    for label, alg, key_name in _COLD:
        if alg == "EdDSA":
            alg = _eddsa_alg(ctx, label) or alg
        ops.append(Op("%s first load+sign+verify (new process)" % label,
                      "cold start", alg, [], custom=custom(alg, key_name)))
    return ops


# ---- import jwt3 ----


def _import_times(ctx: Context, settings: Settings, cold: bool,
                  notes: List[str]) -> List[float]:
    """Seconds taken by ``import jwt3`` in fresh subprocesses.

    jwt3.py is copied to a temporary directory so that its bytecode
    cache is under our control: "cold" runs with -B and no cache (the
    module is compiled), the cached runs after one run has written the
    .pyc.  -E makes the child ignore PYTHONDONTWRITEBYTECODE and the
    like; the interpreter's own start-up is not counted.
    """
    source = os.path.abspath(ctx.jwt3.__file__)
    if not source.endswith(".py"):
        raise Skip("jwt3 was not loaded from a .py file")
    code = ("import sys, time\n"
            "start = time.perf_counter()\n"
            "import jwt3\n"
            "elapsed = time.perf_counter() - start\n"
            "assert jwt3.__file__.startswith(sys.path[0])\n"
            "sys.stdout.write(repr(elapsed))\n")
    with tempfile.TemporaryDirectory(prefix="jwt3-bench-") as tmp:
        shutil.copy(source, os.path.join(tmp, "jwt3.py"))
        command = [sys.executable, "-E", "-s"]
        if cold:
            command.append("-B")
        else:
            _run_child(command + ["-c", "import jwt3"], tmp)
        times = []
        for _ in range(settings.import_runs):
            if cold:
                shutil.rmtree(os.path.join(tmp, "__pycache__"),
                              ignore_errors=True)
            times.append(float(_run_child(command + ["-c", code], tmp)))
    return times


def _run_child(command: List[str], cwd: str) -> str:
    result = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True,
                            timeout=120)
    if result.returncode != 0:
        raise RuntimeError("subprocess failed: %s"
                           % result.stderr.strip()[-300:])
    return result.stdout


def _import_ops(ctx: Context) -> List[Op]:
    def custom(cold: bool) -> Callable[..., List[Result]]:
        def run(settings: Settings, notes: List[str]) -> List[Result]:
            seconds = _import_times(ctx, settings, cold, notes)
            samples = [s * 1e6 for s in seconds]
            return [Result("jwt3", JWT3, "compiled" if cold else ".pyc",
                           statistics.median(samples), samples, 1)]
        return run

    return [Op("import jwt3", "import", None, [], custom=custom(False)),
            Op("import jwt3 (cold compile)", "import", None, [],
               custom=custom(True))]


# ---- Running ----


def all_ops(ctx: Context) -> List[Op]:
    return (_hs_ops(ctx) + _rsa_ops(ctx) + _ec_ops(ctx) + _ed_ops(ctx)
            + _keygen_ops(ctx) + _token_ops(ctx) + _kamailio_ops(ctx)
            + _cold_ops(ctx) + _import_ops(ctx))


class OpOutcome(NamedTuple):
    op: Op
    results: List[Result]
    notes: List[str]
    skipped: Optional[str]     # why the whole row was skipped
    seconds: float = 0.0       # wall-clock time the row took


def _describe_error(exc: BaseException) -> str:
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        frame = frames[-1]
        where = " (%s:%d)" % (os.path.basename(frame.filename),
                              frame.lineno)
    text = str(exc).splitlines()[0] if str(exc) else ""
    return "%s: %s%s" % (type(exc).__name__, text[:200], where)


_NO_ALG = "jwt3 here has no "


def run_op(op: Op, ctx: Context, settings: Settings) -> OpOutcome:
    notes = []    # type: List[str]
    if op.alg is not None and op.alg not in ctx.supported:
        return OpOutcome(op, [], notes, _NO_ALG + op.alg)
    if op.custom is not None:
        try:
            return OpOutcome(op, op.custom(settings, notes), notes, None)
        except Skip as exc:
            return OpOutcome(op, [], notes, str(exc))
        except Exception as exc:
            return OpOutcome(op, [], notes,
                             "failed: %s" % _describe_error(exc))

    plans = []    # type: List[_Plan]
    for case in op.cases:
        if case.full_only and settings.mode == "quick":
            notes.append("%s not timed with --quick (too slow)"
                         % case.library)
            continue
        try:
            fn = case.setup(notes)
            plan = _Plan(case, fn)
            plan.calibrate(settings, op.slow)
        except Skip as exc:
            if case.kind == JWT3:
                return OpOutcome(op, [], notes, str(exc))
            continue
        except Exception as exc:
            error = _describe_error(exc)
            if case.kind == JWT3:
                jwt3_error = getattr(ctx.jwt3, "JWTError", ())
                what = ("jwt3 cannot do it yet" if isinstance(
                    exc, jwt3_error) else "jwt3 failed")
                return OpOutcome(op, [], notes, "%s: %s" % (what, error))
            notes.append("%s failed: %s" % (case.library, error))
            continue
        plans.append(plan)

    # Interleave the repeats of the libraries compared in this row.
    for round_ in range(max((p.quota for p in plans), default=0)):
        for plan in list(plans):
            if round_ >= plan.quota:
                continue
            try:
                plan.sample()
            except Exception as exc:
                notes.append("%s failed: %s" % (plan.case.library,
                                                _describe_error(exc)))
                plans.remove(plan)

    results = []
    for plan in plans:
        samples = [s * 1e6 for s in plan.samples]
        results.append(Result(plan.case.library, plan.case.kind,
                              plan.case.variant, statistics.median(samples),
                              samples, plan.loops))
    if not any(r.kind == JWT3 for r in results):
        return OpOutcome(op, results, notes, "jwt3 failed while timing")
    return OpOutcome(op, results, notes, None)


# ---- Reporting ----


def _fmt_time(us: Optional[float]) -> str:
    if us is None:
        return "—"
    if us < 10:
        return "%.2f µs" % us
    if us < 100:
        return "%.1f µs" % us
    if us < 1000:
        return "%.0f µs" % us
    if us < 10000:
        return "%.2f ms" % (us / 1e3)
    if us < 1e6:
        return "%.1f ms" % (us / 1e3)
    return "%.2f s" % (us / 1e6)


def _fmt_ratio(ratio: Optional[float]) -> str:
    if ratio is None:
        return "—"
    if ratio < 10:
        return "%.2f×" % ratio
    if ratio < 100:
        return "%.1f×" % ratio
    return "%.0f×" % ratio


def _fastest(results: Iterable[Result], kind: str) -> Optional[Result]:
    candidates = [r for r in results if r.kind == kind]
    return min(candidates, key=lambda r: r.us) if candidates else None


def _jwt3_result(results: Iterable[Result]) -> Optional[Result]:
    return next((r for r in results if r.kind == JWT3), None)


def _spread(result: Result) -> float:
    """(max - min) / median of the repeats, in percent."""
    if len(result.samples) < 2 or result.us <= 0:
        return 0.0
    return 100 * (max(result.samples) - min(result.samples)) / result.us


def _markdown(rows: List[List[str]], align: str) -> List[str]:
    """A Markdown table, padded so it also reads as plain text.
    ``align`` has one letter per column: l or r."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(align))]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.rjust(w) if a == "r" and index else cell.ljust(w)
                 for cell, w, a in zip(row, widths, align)]
        lines.append("| " + " | ".join(cells) + " |")
        if index == 0:
            lines.append("|" + "|".join(
                "-" * (w + 1) + ":" if a == "r" else "-" * (w + 2)
                for w, a in zip(widths, align)) + "|")
    return lines


def summary_table(outcomes: List[OpOutcome]) -> List[str]:
    rows = [["operation", "jwt3", "fastest pure-Python peer", "ratio",
             "OpenSSL", "ratio"]]
    for outcome in outcomes:
        mine = _jwt3_result(outcome.results)
        if outcome.skipped or mine is None:
            continue
        row = [outcome.op.name, _fmt_time(mine.us)]
        for kind in (PURE, OPENSSL):
            best = _fastest(outcome.results, kind)
            if best is None:
                row += ["—", "—"]
                continue
            name = best.library
            if kind == OPENSSL and name == "cryptography":
                name = ""
            cell = _fmt_time(best.us) + (" %s" % name if name else "")
            row += [cell, _fmt_ratio(mine.us / best.us)]
        rows.append(row)
    return _markdown(rows, "lrlrlr")


def target_rows(outcomes: List[OpOutcome]) -> List[Dict[str, Any]]:
    by_name = {o.op.name: o for o in outcomes}
    rows = []
    for target in TARGETS:
        outcome = by_name.get(target.op)
        reference = by_name.get(target.ref_op)
        mine = outcome and _jwt3_result(outcome.results)
        row = {"source": target.source, "operation": target.op,
               "limit": target.limit, "reference": None, "ratio": None,
               "met": None}    # type: Dict[str, Any]
        if mine:
            row["jwt3_us"] = mine.us
        if not target.libraries:
            if mine:
                row["ratio"] = mine.us
                row["met"] = mine.us <= target.limit
            rows.append(row)
            continue
        refs = [r for r in (reference.results if reference else [])
                if r.library in target.libraries]
        if refs:
            best = min(refs, key=lambda r: r.us)
            row["reference"] = {"operation": target.ref_op,
                                "library": best.library,
                                "variant": best.variant, "us": best.us}
            if mine:
                row["ratio"] = mine.us / best.us
                row["met"] = row["ratio"] <= target.limit
        rows.append(row)
    return rows


def targets_table(rows: List[Dict[str, Any]]) -> List[str]:
    table = [["target", "operation", "jwt3", "reference", "ratio", "limit",
              "met"]]
    for row in rows:
        jwt3_us = row.get("jwt3_us")
        if row["reference"] is None and row["limit"] > 100:
            ref, ratio = "(absolute)", _fmt_time(row["ratio"])
            limit = "≤ " + _fmt_time(row["limit"])
        else:
            ref_info = row["reference"]
            if ref_info is None:
                ref = "—"
            else:
                ref = "%s %s" % (_fmt_time(ref_info["us"]),
                                 ref_info["library"])
                if ref_info["operation"] != row["operation"]:
                    ref += " [%s]" % ref_info["operation"]
                elif ref_info["variant"]:
                    ref += " (%s)" % ref_info["variant"]
            ratio = _fmt_ratio(row["ratio"])
            limit = "≤ %.2f×" % row["limit"]
        met = {True: "yes", False: "NO", None: "—"}[row["met"]]
        table.append([row["source"], row["operation"], _fmt_time(jwt3_us),
                      ref, ratio, limit, met])
    return _markdown(table, "llrlrrl")


def details_table(outcomes: List[OpOutcome]) -> List[str]:
    rows = [["operation", "library", "µs/op", "ops/s", "ratio", "repeats",
             "spread"]]
    for outcome in outcomes:
        mine = _jwt3_result(outcome.results)
        for result in outcome.results:
            library = result.library
            if result.variant:
                library += " [%s]" % result.variant
            ratio = "" if mine is None or result is mine else _fmt_ratio(
                mine.us / result.us)
            rows.append([outcome.op.name, library, "%.2f" % result.us,
                         "{:,.0f}".format(1e6 / result.us) if result.us
                         else "—", ratio,
                         "%d×%d" % (len(result.samples), result.loops),
                         "%.0f%%" % _spread(result)])
    return _markdown(rows, "llrrrrr")


def environment(ctx: Context, settings: Settings,
                jwt3_dir: str) -> Dict[str, Any]:
    cpu = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    if not cpu:
        cpu = platform.processor() or platform.machine()
    revision = None
    try:
        out = subprocess.run(
            ["git", "-C", jwt3_dir, "describe", "--always", "--dirty"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            universal_newlines=True, timeout=10)
        if out.returncode == 0:
            revision = out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    load = None
    try:
        load = list(os.getloadavg())
    except (AttributeError, OSError):
        pass
    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "interpreter": {
            "implementation": platform.python_implementation(),
            "version": platform.python_version(),
            "build": " ".join(platform.python_build()),
            "compiler": platform.python_compiler(),
            "executable": sys.executable,
        },
        "machine": {"platform": platform.platform(), "cpu": cpu,
                    "cores": os.cpu_count(), "load_average": load},
        "jwt3": {"path": os.path.abspath(ctx.jwt3.__file__),
                 "revision": revision,
                 "cache_clearer": ctx.clear_name or None,
                 "cache_clearer_notes": ctx.clear_remarks,
                 "algorithms": sorted(ctx.supported)},
        "settings": settings._asdict(),
    }


def header_lines(env: Dict[str, Any], ctx: Context) -> List[str]:
    interp, machine = env["interpreter"], env["machine"]
    settings = env["settings"]
    jwt3_info = env["jwt3"]
    peers = ctx.peer_versions()
    present = ", ".join("%s %s" % (k, v) for k, v in peers.items() if v)
    missing = ", ".join(k for k, v in peers.items()
                        if not v and k in ctx.missing)
    lines = [
        "jwt3 benchmark, %s" % env["date"],
        "",
        "- interpreter: %s %s (%s)" % (interp["implementation"],
                                       interp["version"],
                                       interp["executable"]),
        "- machine: %s; %s; %s cores%s" % (
            machine["platform"], machine["cpu"], machine["cores"],
            "; load %.2f %.2f %.2f at start" % tuple(machine["load_average"])
            if machine["load_average"] else ""),
        "- jwt3: %s%s; algorithms: %s" % (
            jwt3_info["path"],
            " (%s)" % jwt3_info["revision"] if jwt3_info["revision"] else "",
            " ".join(jwt3_info["algorithms"])),
        "- method: %s run; median of up to %d repeats of ~%g s each"
        " (interleaved across libraries), after warm-up" % (
            settings["mode"], settings["repeats"], settings["repeat_time"]),
        "- peers: %s" % (present or "none"),
    ]
    if missing:
        lines.append("- peers not installed (skipped): %s" % missing)
    if jwt3_info["cache_clearer"] != "_clear_caches":
        lines.append("- fresh-key rows clear jwt3's caches with: %s"
                     % (jwt3_info["cache_clearer"] or "nothing"))
    lines.extend("- note: %s" % remark for remark in ctx.clear_remarks)
    return lines


def note_lines(outcomes: List[OpOutcome]) -> List[str]:
    """The notes, with rows skipped for want of an algorithm grouped."""
    unsupported = {}     # type: Dict[str, int]
    notes = []
    for outcome in outcomes:
        if outcome.skipped and outcome.skipped.startswith(_NO_ALG):
            alg = outcome.skipped[len(_NO_ALG):]
            unsupported[alg] = unsupported.get(alg, 0) + 1
        elif outcome.skipped:
            notes.append("%s: skipped (%s)" % (outcome.op.name,
                                               outcome.skipped))
        notes.extend("%s: %s" % (outcome.op.name, note)
                     for note in outcome.notes)
    if unsupported:
        notes.insert(0, "not in this jwt3, so skipped: %s (%d operations)"
                     % (", ".join(sorted(unsupported)),
                        sum(unsupported.values())))
    return notes


def _json_result(result: Result, mine: Optional[Result]) -> Dict[str, Any]:
    return {"library": result.library, "kind": result.kind,
            "variant": result.variant, "us_per_op": result.us,
            "ops_per_s": 1e6 / result.us if result.us else None,
            "repeats": len(result.samples), "loops": result.loops,
            "samples_us": result.samples,
            "spread_percent": _spread(result),
            "ratio": (mine.us / result.us
                      if mine is not None and result is not mine else None)}


def json_document(env: Dict[str, Any], ctx: Context,
                  outcomes: List[OpOutcome],
                  targets: List[Dict[str, Any]]) -> Dict[str, Any]:
    operations = []
    for outcome in outcomes:
        mine = _jwt3_result(outcome.results)
        entry = {"operation": outcome.op.name, "group": outcome.op.group,
                 "alg": outcome.op.alg, "skipped": outcome.skipped,
                 "seconds": outcome.seconds,
                 "notes": outcome.notes,
                 "results": [_json_result(r, mine)
                             for r in outcome.results]}    # type: Dict
        for kind, key in ((PURE, "fastest_pure"), (OPENSSL, "openssl")):
            best = _fastest(outcome.results, kind)
            entry[key] = None if best is None else {
                "library": best.library, "us_per_op": best.us,
                "ratio": mine.us / best.us if mine else None}
        operations.append(entry)
    env = dict(env)
    env["peers"] = ctx.peer_versions()
    return {"environment": env, "operations": operations,
            "targets": targets}


# ---- Command line ----


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark jwt3 against pure-Python peers and OpenSSL.")
    parser.add_argument("--quick", action="store_true",
                        help="short repeats: under a minute")
    parser.add_argument("--json", metavar="FILE",
                        help="also write machine-readable results here")
    parser.add_argument("--filter", metavar="SUBSTR", action="append",
                        default=[], help="only operations whose name"
                        " contains SUBSTR (case-insensitive; repeatable)")
    parser.add_argument("--jwt3", metavar="DIR", default=ROOT,
                        help="directory containing the jwt3.py to measure"
                        " (default: %(default)s)")
    parser.add_argument("--repeats", type=int, metavar="N",
                        help="timed repeats per measurement")
    parser.add_argument("--repeat-time", type=float, metavar="SECONDS",
                        help="length of one timed repeat")
    parser.add_argument("--list", action="store_true",
                        help="list the operations and exit")
    parser.add_argument("--no-details", dest="details",
                        action="store_false", help="print only the"
                        " summary tables, not every library's figures")
    return parser.parse_args(argv)


def _import_jwt3(directory: str) -> Any:
    directory = os.path.abspath(directory)
    if not os.path.isfile(os.path.join(directory, "jwt3.py")):
        raise SystemExit("no jwt3.py in %s" % directory)
    sys.path.insert(0, directory)
    import jwt3
    if os.path.dirname(os.path.abspath(jwt3.__file__)) != directory:
        raise SystemExit("imported jwt3 from %s, not %s"
                         % (jwt3.__file__, directory))
    return jwt3


def _progress(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.repeats:
        settings = settings._replace(repeats=max(1, args.repeats))
    if args.repeat_time:
        settings = settings._replace(repeat_time=args.repeat_time)
    jwt3 = _import_jwt3(args.jwt3)
    ctx = Context(jwt3, _load_keys())
    warnings.simplefilter("ignore")     # peers' deprecation chatter
    ctx.probe_peers()

    ops = all_ops(ctx)
    if args.filter:
        wanted = [f.lower() for f in args.filter]
        ops = [op for op in ops if any(w in op.name.lower()
                                       for w in wanted)]
    if args.list:
        for op in ops:
            state = ("" if op.alg is None or op.alg in ctx.supported
                     else "   (skipped: jwt3 has no %s)" % op.alg)
            libraries = ", ".join(c.library for c in op.cases) or "jwt3"
            print("%-48s %s%s" % (op.name, libraries, state))
        return 0

    started = time.perf_counter()
    env = environment(ctx, settings, os.path.dirname(
        os.path.abspath(jwt3.__file__)))
    outcomes = []
    interrupted = False
    for op in ops:
        op_started = time.perf_counter()
        try:
            outcome = run_op(op, ctx, settings)
        except KeyboardInterrupt:
            # Report what was measured so far.
            interrupted = True
            _progress("interrupted")
            break
        outcome = outcome._replace(
            seconds=time.perf_counter() - op_started)
        outcomes.append(outcome)
        if outcome.skipped:
            _progress("%-48s skipped: %s" % (op.name, outcome.skipped))
        else:
            mine = _jwt3_result(outcome.results)
            _progress("%-48s %4.1fs %s" % (op.name, outcome.seconds, "  ".join(
                "%s %s%s" % (r.library, _fmt_time(r.us),
                             "" if r is mine or mine is None
                             else " (%s)" % _fmt_ratio(mine.us / r.us))
                for r in outcome.results)))
        for note in outcome.notes:
            _progress("    note: %s" % note)
    elapsed = time.perf_counter() - started
    try:
        env["machine"]["load_average_end"] = list(os.getloadavg())
    except (AttributeError, OSError):
        pass
    env["elapsed_seconds"] = elapsed
    env["interrupted"] = interrupted

    targets = target_rows(outcomes)
    out = header_lines(env, ctx)
    out += ["", "Times are medians per operation; ratio = jwt3's time /"
            " the other's (below 1: jwt3 is faster).", ""]
    out += summary_table(outcomes)
    if any(row["ratio"] is not None for row in targets):
        out += ["", "Targets from the issues:", ""]
        out += targets_table([row for row in targets
                              if row.get("jwt3_us") is not None])
    notes = note_lines(outcomes)
    if notes:
        out += ["", "Notes:", ""] + ["- " + note for note in notes]
    if args.details:
        out += ["", "All measurements:", ""] + details_table(outcomes)
    out += ["", "Run time: %.0f s%s." % (
        elapsed, " (interrupted: not every operation ran)"
        if interrupted else "")]
    print("\n".join(out))

    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(json_document(env, ctx, outcomes, targets), f,
                      indent=1, ensure_ascii=False)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
