"""Run the jwt3 Kamailio example for real: keys, Kamailio, sipp.

Used by tests/test_kamailio_e2e.py, and as a command:

    python3 harness.py demo [--alg ES256]
        Make keys in a temporary directory, start Kamailio (foreground,
        a free loopback UDP port, 2 workers), run the three sipp
        scenarios of sipp/ against it, print each call's outcome and
        stop Kamailio.  Exit status 0 if every call went as expected.

    python3 harness.py bench [--alg HS256 --alg ES256 ...] [--calls N]
        Calls per second through Kamailio: sipp sends N INVITEs with a
        valid token (at most --concurrency at a time, as fast as they
        are answered); repeated --repeat times, median reported.

    python3 harness.py keys --alg ES256 DIRECTORY
        Write a new key (private.pem and public.pem, or keys.json for
        HS*) into DIRECTORY and print the jwt3_routes.ini lines that use
        it.

Needs the ``kamailio`` binary with app_python3 and ``sipp`` (Debian and
Ubuntu: ``apt-get install kamailio kamailio-python3-modules
sip-tester``), except for ``keys``.  Linux only (it lists Kamailio's
processes through /proc).
"""

import argparse
import ctypes
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
try:
    import jwt3
except ImportError:
    sys.path.insert(0, ROOT)
    import jwt3

CONFIG = os.path.join(HERE, "kamailio.cfg")
ROUTES = os.path.join(HERE, "jwt3_routes.py")
SCENARIOS = {
    "accepted": os.path.join(HERE, "sipp", "invite_accepted.xml"),
    "refused": os.path.join(HERE, "sipp", "invite_refused.xml"),
    "message": os.path.join(HERE, "sipp", "message_then_invite.xml"),
}
INSTALL_HINT = ("install Kamailio with app_python3 and sipp (Debian/Ubuntu:"
                " apt-get install kamailio kamailio-python3-modules"
                " sip-tester)")
LEEWAY_SEC = 30

# A row of a sipp injection file: caller;callee;token;status;case.
Row = Tuple[str, str, str, int, str]


# -- tools

def _kamailio_module_dirs(kamailio: str) -> List[str]:
    """Kamailio's default module directories (``kamailio -I``)."""
    try:
        out = subprocess.run([kamailio, "-I"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=20,
                             check=False).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return []
    match = re.search(r"Default paths to modules:\s*(\S+)", out)
    return match.group(1).split(":") if match else []


def missing_tools() -> Optional[str]:
    """Why the example cannot run here (None if it can)."""
    kamailio = shutil.which("kamailio") or next(
        (path for path in ("/usr/sbin/kamailio", "/usr/local/sbin/kamailio")
         if os.access(path, os.X_OK)), None)
    if kamailio is None:
        return "kamailio not found: " + INSTALL_HINT
    dirs = _kamailio_module_dirs(kamailio)
    if not any(os.path.exists(os.path.join(d, "app_python3.so"))
               for d in dirs):
        return ("kamailio has no app_python3 module (looked in %s): %s"
                % (":".join(dirs) or "?", INSTALL_HINT))
    if shutil.which("sipp") is None:
        return "sipp not found: " + INSTALL_HINT
    return None


def kamailio_binary() -> str:
    return shutil.which("kamailio") or "/usr/sbin/kamailio"


def free_udp_port() -> int:
    """A loopback UDP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- keys and the deployment directory

def _write(path: str, text: str, private: bool = False) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    fd = os.open(path, flags, 0o600 if private else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def write_keys(alg: str, directory: str) -> Tuple[jwt3.Key, str, str]:
    """A new private key for ``alg`` written into ``directory``: the key
    and the paths of its verification and signing files.

    HMAC: one JWK Set file, keys.json, for both (its name must end in
    ".json" for the key string rules).  Otherwise private.pem (PKCS #8,
    mode 0600) and public.pem (SPKI).
    """
    os.makedirs(directory, exist_ok=True)
    key = jwt3.generate_key(alg)
    if alg.startswith("HS"):
        path = os.path.join(directory, "keys.json")
        _write(path, json.dumps({"keys": [key.to_jwk(private=True)]},
                                indent=2) + "\n", private=True)
        return key, path, path
    private = os.path.join(directory, "private.pem")
    public = os.path.join(directory, "public.pem")
    _write(private, key.to_pem(private=True), private=True)
    _write(public, key.to_pem())
    return key, public, private


def ini_text(alg: str, verify_key: str, sign_key: str,
             leeway_sec: int = LEEWAY_SEC, token_ttl: int = 300) -> str:
    return ("[jwt3]\nalg = %s\nverify_key = %s\nsign_key = %s\n"
            "leeway_sec = %d\ntoken_ttl = %d\nissuers = 127.0.0.1 ::1\n"
            "error_header = yes\n"
            % (alg, verify_key, sign_key, leeway_sec, token_ttl))


class Deployment:
    """A directory holding what Kamailio runs: copies of jwt3.py and
    jwt3_routes.py side by side, jwt3_routes.ini, the keys, and run/
    (Kamailio's runtime directory)."""

    def __init__(self, directory: str, alg: str, key: jwt3.Key,
                 verify_key: str, sign_key: str):
        self.directory = directory
        self.alg = alg
        self.key = key
        self.verify_key = verify_key
        self.sign_key = sign_key
        self.script = os.path.join(directory, "jwt3_routes.py")
        self.run_dir = os.path.join(directory, "run")

    @classmethod
    def create(cls, directory: str, alg: str) -> "Deployment":
        os.makedirs(os.path.join(directory, "run"), exist_ok=True)
        shutil.copy(jwt3.__file__, os.path.join(directory, "jwt3.py"))
        shutil.copy(ROUTES, os.path.join(directory, "jwt3_routes.py"))
        key, verify_key, sign_key = write_keys(
            alg, os.path.join(directory, "keys"))
        _write(os.path.join(directory, "jwt3_routes.ini"),
               ini_text(alg, verify_key, sign_key))
        return cls(directory, alg, key, verify_key, sign_key)


# -- Kamailio

try:
    _LIBC = ctypes.CDLL(None, use_errno=True)   # type: Optional[Any]
    _LIBC.prctl
except (OSError, AttributeError):
    _LIBC = None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when the parent
    dies, so that a killed test run leaves no Kamailio behind."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def _process_group(pgid: int) -> List[int]:
    """The live processes of process group ``pgid`` (from /proc)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read().decode("ascii", "replace")
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(name))
    return pids


def _group_ended(pgid: int, timeout: float) -> bool:
    """Wait until process group ``pgid`` has no live process."""
    deadline = time.monotonic() + timeout
    while _process_group(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class Kamailio:
    """Kamailio running the example in the foreground (``-DD -E``), in
    its own process group, on a loopback UDP port.

    ``stop()`` ends it by its PID (SIGTERM, then SIGKILL to its process
    group if it does not exit) and leaves no process behind; use the
    object as a context manager or register ``stop`` as a finalizer.
    """

    def __init__(self, deployment: Deployment, port: Optional[int] = None,
                 children: int = 2, debug: int = 2):
        self.deployment = deployment
        self.port = port or free_udp_port()
        self.children = children
        self.debug = debug
        self.log_path = os.path.join(deployment.directory, "kamailio.log")
        self.pid_file = os.path.join(deployment.run_dir, "kamailio.pid")
        self.process = None   # type: Optional[subprocess.Popen[bytes]]

    def command(self) -> List[str]:
        d = self.deployment
        return [kamailio_binary(), "-DD", "-E", "-a", "no",
                "-f", CONFIG, "-P", self.pid_file, "-Y", d.run_dir,
                "-w", d.directory,
                "-A", "JWT3_LISTEN=udp:127.0.0.1:%d" % self.port,
                "-A", 'JWT3_SCRIPT="%s"' % d.script,
                "-A", "JWT3_CHILDREN=%d" % self.children,
                "-A", "JWT3_DEBUG=%d" % self.debug]

    def start(self, timeout: float = 30.0) -> None:
        """Start Kamailio and wait until it answers an OPTIONS."""
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.deployment.directory,
                start_new_session=True, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("kamailio exited with status %s:\n%s"
                                   % (self.process.returncode,
                                      self.log_tail()))
            try:
                sip_request(self.port, "OPTIONS", "ping", "kamailio",
                            timeout=0.3)
                return
            except socket.timeout:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("kamailio did not answer within %.0f s:"
                                   "\n%s" % (timeout, self.log_tail()))

    def processes(self) -> List[int]:
        """Kamailio's live processes (its process group)."""
        if self.process is None:
            return []
        return _process_group(self.process.pid)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Kamailio by its PID; idempotent."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass

        # The main process ends its workers itself; anything left in
        # its process group (a hung worker, or a main process that
        # ignored SIGTERM) is killed.
        if not _group_ended(process.pid, timeout):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _group_ended(process.pid, timeout)
        process.wait(timeout)

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path, encoding="utf-8",
                      errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> "Kamailio":
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


# -- a minimal SIP client over UDP (readiness probe and spot checks)

class Reply(NamedTuple):
    code: int
    reason: str
    headers: Dict[str, str]   # lower-case names, first occurrence


def sip_request(port: int, method: str, caller: str, callee: str,
                headers: Sequence[Tuple[str, str]] = (),
                timeout: float = 2.0) -> Reply:
    """Send one request to 127.0.0.1:``port`` and return its final
    reply (socket.timeout if none comes)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        local = sock.getsockname()[1]
        lines = [
            "%s sip:%s@127.0.0.1:%d SIP/2.0" % (method, callee, port),
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s"
            % (local, uuid.uuid4().hex),
            "From: <sip:%s@127.0.0.1:%d>;tag=%s"
            % (caller, local, uuid.uuid4().hex[:8]),
            "To: <sip:%s@127.0.0.1:%d>" % (callee, port),
            "Call-ID: %s@127.0.0.1" % uuid.uuid4().hex,
            "CSeq: 1 %s" % method,
            "Contact: <sip:%s@127.0.0.1:%d>" % (caller, local),
            "Max-Forwards: 70",
        ]
        lines += ["%s: %s" % header for header in headers]
        lines += ["Content-Length: 0", "", ""]
        sock.sendto("\r\n".join(lines).encode("utf-8"),
                    ("127.0.0.1", port))
        while True:
            data = sock.recv(65535).decode("utf-8", "replace")
            head = data.split("\r\n\r\n", 1)[0].split("\r\n")
            status = head[0].split(" ", 2)
            code = int(status[1])
            if code >= 200:
                break
    fields = {}   # type: Dict[str, str]
    for line in head[1:]:
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), value.strip())
    return Reply(code, status[2] if len(status) > 2 else "", fields)


# -- tokens

def _b64u(data: bytes) -> str:
    return jwt3._b64u_encode(data)


def _segments(header: Dict[str, Any], claims: Dict[str, Any]) -> str:
    return (_b64u(json.dumps(header).encode()) + "."
            + _b64u(json.dumps(claims).encode()))


def _hs_forge(alg: str, secret: bytes, claims: Dict[str, Any]) -> str:
    """A token MACed with ``secret`` by hand, as an attacker would."""
    signing_input = _segments({"alg": alg, "typ": "JWT"}, claims)
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384}[alg]
    mac = hmac.new(secret, signing_input.encode(), digest).digest()
    return signing_input + "." + _b64u(mac)


def token_rows(deployment: Deployment,
               now: Optional[int] = None) -> Dict[str, List[Row]]:
    """The calls of each scenario, with tokens made now.

    accepted: valid tokens for several caller/callee pairs (including
    users that look like numbers or hold a quote); refused: one call per
    way a token can be wrong, with the $jwt3(status) expected; message:
    MESSAGE then INVITE pairs.
    """
    if now is None:
        now = int(time.time())
    key, alg = deployment.key, deployment.alg

    def claims(caller: str, callee: str, **extra: int) -> Dict[str, Any]:
        body = {"caller": caller, "callee": callee, "iat": now,
                "exp": now + 300}   # type: Dict[str, Any]
        body.update(extra)
        return body

    def token(caller: str, callee: str, **extra: int) -> str:
        return jwt3.encode(claims(caller, callee, **extra), key, alg)

    pairs = [("alice", "bob"), ("bob", "alice"), ("+4930123456", "0049"),
             ("o'brien", "carol"), ("alice", "+4930123456")]
    accepted = [(caller, callee, token(caller, callee), 0, "valid")
                for caller, callee in pairs]

    # Tampered: the payload is changed to name another callee, the
    # signature is the one made for the original payload.
    header_b64, _, signature_b64 = token("alice", "bob").split(".")
    tampered = ".".join((header_b64, _b64u(json.dumps(
        claims("alice", "mallory")).encode()), signature_b64))

    # Another algorithm, keyed with what an attacker can know: the
    # public key text (the classic RS256/ES256 to HS256 confusion).
    public = (key.to_pem().encode() if not alg.startswith("HS")
              else os.urandom(32))
    other_alg = "HS384" if alg == "HS256" else "HS256"

    refused = [
        ("alice", "mallory", tampered, jwt3.STATUS_SIGNATURE, "tampered"),
        ("alice", "bob", token("alice", "bob", exp=now - 3600),
         jwt3.STATUS_EXPIRED, "expired"),
        ("alice", "bob", token("alice", "bob", nbf=now + 3600),
         jwt3.STATUS_NOT_YET_VALID, "not-yet-valid"),
        ("mallory", "bob", token("alice", "bob"), jwt3.STATUS_CLAIM,
         "wrong-caller"),
        ("alice", "carol", token("alice", "bob"), jwt3.STATUS_CLAIM,
         "wrong-callee"),
        ("alice", "bob", _segments({"alg": "none", "typ": "JWT"},
                                   claims("alice", "bob")) + ".",
         jwt3.STATUS_ALGORITHM, "alg-none"),
        ("alice", "bob", _hs_forge(other_alg, public,
                                   claims("alice", "bob")),
         jwt3.STATUS_ALGORITHM, "other-alg"),
        ("alice", "bob", "not-a-token", jwt3.STATUS_MALFORMED,
         "malformed"),
    ]   # type: List[Row]

    message = [(caller, callee, "-", 0, "issued")
               for caller, callee in pairs]
    return {"accepted": accepted, "refused": refused, "message": message}


# -- sipp

class SippRun(NamedTuple):
    returncode: int
    successful: int
    failed: int
    elapsed: float        # seconds from sipp's start to its end
    log: List[str]        # the lines of the scenario's <log> actions
    output: str           # errors and the final screen, for diagnosis


def _sipp_epoch(text: str) -> float:
    """The Unix time at the end of a sipp statistics time stamp
    ("date<TAB>time<TAB>epoch")."""
    return float(text.split()[-1]) if text.strip() else 0.0


def run_sipp(kamailio: Kamailio, scenario: str, rows: Sequence[Row],
             calls: Optional[int] = None, concurrency: int = 10,
             rate: int = 500, timeout: float = 60.0) -> SippRun:
    """Run ``scenario`` (a SCENARIOS name) against ``kamailio``, one call
    per row (or ``calls`` calls, cycling over the rows)."""
    directory = tempfile.mkdtemp(prefix="sipp-",
                                 dir=kamailio.deployment.directory)
    inf = os.path.join(directory, "calls.csv")
    with open(inf, "w", encoding="utf-8") as f:
        f.write("SEQUENTIAL\n")
        for row in rows:
            f.write("%s;%s;%s;%d;%s\n" % row)
    files = {name: os.path.join(directory, name + ".txt")
             for name in ("log", "stat", "screen", "error")}
    command = [
        "sipp", "127.0.0.1:%d" % kamailio.port,
        "-sf", SCENARIOS[scenario], "-inf", inf,
        "-i", "127.0.0.1", "-p", str(free_udp_port()),
        "-m", str(calls or len(rows)), "-l", str(concurrency),
        "-r", str(rate), "-nostdin",
        "-timeout", "%ds" % timeout, "-timeout_error",
        "-trace_logs", "-log_file", files["log"],
        "-trace_stat", "-stf", files["stat"],
        "-trace_screen", "-screen_file", files["screen"],
        "-trace_err", "-error_file", files["error"],
    ]
    result = subprocess.run(command, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, cwd=directory,
                            timeout=timeout + 30, check=False)

    def read(name: str) -> str:
        try:
            with open(files[name], encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    stats = {}   # type: Dict[str, str]
    lines = [line for line in read("stat").splitlines() if line.strip()]
    if len(lines) >= 2:
        stats = dict(zip(lines[0].split(";"), lines[-1].split(";")))
    output = "\n".join(part for part in (
        result.stdout.decode("utf-8", "replace").strip(),
        read("error").strip(), read("screen").strip()) if part)
    return SippRun(result.returncode,
                   int(stats.get("SuccessfulCall(C)", 0) or 0),
                   int(stats.get("FailedCall(C)", 0) or 0),
                   _sipp_epoch(stats.get("CurrentTime", ""))
                   - _sipp_epoch(stats.get("StartTime", "")),
                   read("log").splitlines(), output)


# -- commands

def _demo(alg: str) -> int:
    with tempfile.TemporaryDirectory(prefix="jwt3-kamailio-") as tmp:
        deployment = Deployment.create(tmp, alg)
        with Kamailio(deployment) as kamailio:
            print("kamailio: pid %d, udp:127.0.0.1:%d, %d processes, %s"
                  % (kamailio.process.pid, kamailio.port,
                     len(kamailio.processes()), alg))
            failures = 0
            for scenario, rows in token_rows(deployment).items():
                run = run_sipp(kamailio, scenario, rows)
                print("\n%s (%s): sipp exit %d, %d successful, %d failed"
                      % (scenario, os.path.basename(SCENARIOS[scenario]),
                         run.returncode, run.successful, run.failed))
                for line in run.log:
                    print("  " + line)
                if run.returncode != 0:
                    failures += 1
                    print(run.output)
        print("\nkamailio stopped; its log was:\n" + kamailio.log_tail(15))
    return 1 if failures else 0


def bench(alg: str, calls: int = 2000, concurrency: int = 20,
          repeat: int = 3, children: int = 2) -> List[float]:
    """Calls per second of INVITEs with a valid ``alg`` token, one
    figure per repeat."""
    with tempfile.TemporaryDirectory(prefix="jwt3-bench-") as tmp:
        deployment = Deployment.create(tmp, alg)
        rows = token_rows(deployment)["accepted"][:1]
        with Kamailio(deployment, children=children, debug=1) as kamailio:
            run_sipp(kamailio, "accepted", rows, calls=100,
                     concurrency=concurrency, rate=100000)   # warm-up
            rates = []
            for _ in range(repeat):
                run = run_sipp(kamailio, "accepted", rows, calls=calls,
                               concurrency=concurrency, rate=100000)
                if run.returncode != 0 or run.failed:
                    raise RuntimeError("bench run failed:\n" + run.output)
                rates.append(run.successful / run.elapsed)
    return rates


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run the jwt3 Kamailio example with sipp.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    demo = commands.add_parser("demo", help="run the sipp scenarios")
    demo.add_argument("--alg", default="ES256"
                      if "ES256" in jwt3.supported_algorithms()
                      else "HS256")
    measure = commands.add_parser("bench", help="measure calls/s")
    measure.add_argument("--alg", action="append")
    measure.add_argument("--calls", type=int, default=2000)
    measure.add_argument("--concurrency", type=int, default=20)
    measure.add_argument("--repeat", type=int, default=3)
    measure.add_argument("--children", type=int, default=2)
    keys = commands.add_parser("keys", help="write a key for a deployment")
    keys.add_argument("--alg", default="ES256")
    keys.add_argument("directory")
    args = parser.parse_args(argv)

    if args.command == "keys":
        _, verify_key, sign_key = write_keys(args.alg, args.directory)
        print("alg = %s\nverify_key = %s\nsign_key = %s"
              % (args.alg, os.path.abspath(verify_key),
                 os.path.abspath(sign_key)))
        return 0
    missing = missing_tools()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    if args.command == "demo":
        return _demo(args.alg)
    for alg in args.alg or ["HS256", "ES256", "RS256"]:
        if alg not in jwt3.supported_algorithms():
            print("%s: not supported by this jwt3.py" % alg)
            continue
        rates = bench(alg, args.calls, args.concurrency, args.repeat,
                      args.children)
        print("%s: %.0f calls/s (median of %s; %d calls, %d concurrent,"
              " %d workers)" % (alg, statistics.median(rates),
                                ", ".join("%.0f" % r for r in rates),
                                args.calls, args.concurrency,
                                args.children))
    return 0


if __name__ == "__main__":
    sys.exit(main())
