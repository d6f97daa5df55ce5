"""The Kamailio example (examples/kamailio), end to end.

Two layers:

- ``TestWithKamailio`` (marked ``kamailio``; select with ``-m kamailio``)
  runs the example in a real Kamailio with app_python3 (foreground, a
  free loopback UDP port, its own runtime directory, 2 workers) and
  drives it with the sipp scenarios shipped in the example, for HS256,
  ES256 and RS256.  Skipped, saying what to install, when kamailio with
  app_python3 or sipp is missing; an algorithm is skipped only when
  this jwt3.py does not support it.
- The other tests import the routing script with a stand-in for
  Kamailio's ``KSR`` module, so its logic runs on every interpreter.
"""

import importlib.util
import logging
import os
import re
import signal
import sys
import time
import types

import pytest

import jwt3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "kamailio")
sys.path.append(EXAMPLE)

import harness  # noqa: E402

MISSING = harness.missing_tools()
ALGS = ["HS256", "ES256", "RS256"]

# The $jwt3(status) each refused case must get.
REFUSED = {
    "tampered": jwt3.STATUS_SIGNATURE,
    "expired": jwt3.STATUS_EXPIRED,
    "not-yet-valid": jwt3.STATUS_NOT_YET_VALID,
    "wrong-caller": jwt3.STATUS_CLAIM,
    "wrong-callee": jwt3.STATUS_CLAIM,
    "alg-none": jwt3.STATUS_ALGORITHM,
    "other-alg": jwt3.STATUS_ALGORITHM,
    "malformed": jwt3.STATUS_MALFORMED,
}


def _need_alg(alg):
    if alg not in jwt3.supported_algorithms():
        pytest.skip("%s is not supported by this jwt3.py (not in"
                    " jwt3.supported_algorithms())" % alg)


def _start(request, deployment, **options):
    kamailio = harness.Kamailio(deployment, **options)
    request.addfinalizer(kamailio.stop)
    kamailio.start()
    return kamailio


@pytest.fixture(scope="module", params=ALGS)
def server(request, tmp_path_factory):
    """Kamailio running the example with keys for one algorithm."""
    alg = request.param
    _need_alg(alg)
    directory = str(tmp_path_factory.mktemp("kamailio-" + alg))
    deployment = harness.Deployment.create(directory, alg)
    return _start(request, deployment)


def _sipp(kamailio, scenario, rows):
    run = harness.run_sipp(kamailio, scenario, rows)
    assert run.returncode == 0, "sipp exit %d, expected 0:\n%s\n%s" % (
        run.returncode, run.output, kamailio.log_tail())
    assert (run.successful, run.failed) == (len(rows), 0), \
        "calls ok/failed %r, expected %r" % ((run.successful, run.failed),
                                             (len(rows), 0))
    return run


@pytest.mark.kamailio
@pytest.mark.skipif(MISSING is not None, reason=str(MISSING))
class TestWithKamailio:

    def test_valid_tokens_get_200(self, server):
        rows = harness.token_rows(server.deployment)["accepted"]
        run = _sipp(server, "accepted", rows)
        assert run.log == ["valid 200 0"] * len(rows)

    def test_bad_tokens_get_403_with_status_and_reason(self, server):
        rows = harness.token_rows(server.deployment)["refused"]
        assert {row[4]: row[3] for row in rows} == REFUSED
        run = _sipp(server, "refused", rows)

        seen = {}
        for line in run.log:
            case, code, status, reason = line.split(" ", 3)
            seen[case] = (int(code), int(status))
            assert reason.strip(), "no X-JWT3-Error for " + case
        assert seen == {case: (403, status)
                        for case, status in REFUSED.items()}

    def test_message_gives_a_token_that_invite_accepts(self, server):
        rows = harness.token_rows(server.deployment)["message"]
        run = _sipp(server, "message", rows)
        assert run.log == ["issued 200 0"] * len(rows)

    def test_scenarios_fail_calls_that_go_otherwise(self, server):
        # The scenarios are the checks: a refused token sent where 200
        # is expected, or a 403 with another status, must fail the call.
        rows = harness.token_rows(server.deployment)
        tampered = rows["refused"][0]
        wrong = [tampered, tampered[:3] + (jwt3.STATUS_EXPIRED,
                                           "wrong-status")]
        for scenario, calls in (("accepted", wrong[:1]),
                                ("refused", wrong[1:]),
                                ("refused", rows["accepted"][:1])):
            run = harness.run_sipp(server, scenario, calls)
            assert (run.returncode, run.failed) == (1, 1), \
                "sipp exit %d with %d failed, expected 1 and 1" % (
                    run.returncode, run.failed)

    def test_identity_header_missing_token_and_other_methods(self, server):
        token = harness.token_rows(server.deployment)["accepted"][0][2]
        identity = (token + ";info=<https://idp.example/jwt3>;alg="
                    + server.deployment.alg)
        reply = harness.sip_request(server.port, "INVITE", "alice", "bob",
                                    [("Identity", identity)])
        assert (reply.code, reply.headers["x-jwt3-status"]) == (200, "0")

        reply = harness.sip_request(server.port, "INVITE", "alice", "bob")
        assert reply.code == 401
        assert reply.headers["www-authenticate"].startswith("Bearer")

        reply = harness.sip_request(server.port, "INVITE", "alice", "bob",
                                    [("Authorization", "Basic YTpi")])
        assert reply.code == 401

        reply = harness.sip_request(server.port, "SUBSCRIBE", "alice",
                                    "bob")
        assert reply.code == 405
        assert "MESSAGE" in reply.headers["allow"]

    def test_workers_and_a_clean_stop(self, request, tmp_path):
        _need_alg("HS256")
        deployment = harness.Deployment.create(str(tmp_path), "HS256")
        kamailio = _start(request, deployment, children=2)
        processes = kamailio.processes()
        assert kamailio.process.pid in processes
        # main, 2 UDP workers, timers: at least 4
        assert len(processes) >= 4, processes

        kamailio.stop()
        assert kamailio.process.returncode is not None
        assert kamailio.processes() == []
        assert not os.path.exists(kamailio.pid_file)

    def test_demo_and_bench_commands(self, capsys):
        _need_alg("HS256")
        assert harness.main(["demo", "--alg", "HS256"]) == 0
        out = capsys.readouterr().out
        assert "refused (invite_refused.xml): sipp exit 0, 8 successful," \
            " 0 failed" in out
        assert "  alg-none 403 3 " in out

        assert harness.main(["bench", "--alg", "HS256", "--alg", "XX999",
                             "--calls", "50", "--repeat", "1"]) == 0
        out = capsys.readouterr().out
        assert re.match(r"HS256: \d+ calls/s \(median of \d+; 50 calls,"
                        r" 20 concurrent, 2 workers\)\nXX999: not"
                        r" supported", out), out

    def test_bench_stops_on_failed_calls(self, monkeypatch):
        _need_alg("HS256")
        failed = harness.SippRun(1, 0, 50, 1.0, [], "sipp said no")
        monkeypatch.setattr(harness, "run_sipp", lambda *a, **k: failed)
        with pytest.raises(RuntimeError, match="sipp said no"):
            harness.bench("HS256", calls=50, repeat=1)

    def test_start_gives_up_when_kamailio_does_not_answer(
            self, request, tmp_path, monkeypatch):
        _need_alg("HS256")
        deployment = harness.Deployment.create(str(tmp_path), "HS256")
        kamailio = harness.Kamailio(deployment)
        request.addfinalizer(kamailio.stop)
        other_port = harness.free_udp_port()
        probe = harness.sip_request
        monkeypatch.setattr(harness, "sip_request", lambda port, *a, **k:
                            probe(other_port, *a, **k))
        with pytest.raises(RuntimeError, match="did not answer within 1 s"):
            kamailio.start(timeout=1.0)
        assert kamailio.process.returncode is not None
        assert kamailio.processes() == []

    def test_start_up_check_stops_kamailio_on_a_mismatched_key(
            self, request, tmp_path):
        _need_alg("HS256")
        deployment = harness.Deployment.create(str(tmp_path), "HS256")
        _, other, _ = harness.write_keys("HS256", str(tmp_path / "other"))
        with open(os.path.join(deployment.directory, "jwt3_routes.ini"),
                  "w") as f:
            f.write(harness.ini_text("HS256", other, deployment.sign_key))
        kamailio = harness.Kamailio(deployment)
        request.addfinalizer(kamailio.stop)
        with pytest.raises(RuntimeError, match="kamailio exited"):
            kamailio.start()
        assert "does not verify tokens of sign_key" in kamailio.log_tail(200)
        assert kamailio.processes() == []


# -- the routing script with a stand-in KSR

class FakeKSR(types.ModuleType):
    """Just enough of Kamailio's KSR for jwt3_routes.py."""

    def __init__(self):
        super().__init__("KSR")
        self.request = {}
        self.replies = []
        self.logged = []
        self._headers = []
        self.pv = types.SimpleNamespace(get=self._pv)
        self.hdr = types.SimpleNamespace(
            get=self._hdr, append_to_reply=self._headers.append)
        self.sl = types.SimpleNamespace(sl_send_reply=self._reply)
        for level in ("err", "warn", "info", "dbg"):
            setattr(self, level, self._logger(level))

    def _logger(self, level):
        return lambda text: self.logged.append((level, text))

    def _pv(self, name):
        return self.request.get(name)

    def _hdr(self, name):
        return self.request.get(name)

    def _reply(self, code, reason):
        headers = {}
        for text in self._headers:
            name, _, value = text.rstrip("\r\n").partition(": ")
            headers[name] = value
        del self._headers[:]
        self.replies.append((code, reason, headers))
        return 1

    def send(self, routes, method, caller="alice", callee="bob",
             source="127.0.0.1", **headers):
        self.request = {"$rm": method, "$fU": caller, "$tU": callee,
                        "$si": source}
        self.request.update(headers)
        assert routes.kamailio().ksr_request_route(None) == 1
        return self.replies.pop()


NOW = int(time.time())


@pytest.fixture
def ksr(monkeypatch):
    fake = FakeKSR()
    monkeypatch.setitem(sys.modules, "KSR", fake)
    monkeypatch.setattr(jwt3, "_default_module", jwt3.Module())
    logger = logging.getLogger("jwt3")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "propagate", True)
    monkeypatch.setattr(logger, "level", logging.NOTSET)
    return fake


@pytest.fixture
def keys(tmp_path):
    key, verify_key, sign_key = harness.write_keys("HS256", str(tmp_path))
    return key, verify_key, sign_key


def load_routes(tmp_path, monkeypatch, text):
    path = tmp_path / "routes.ini"
    path.write_text(text)
    monkeypatch.setenv("JWT3_ROUTES_CONFIG", str(path))
    spec = importlib.util.spec_from_file_location(
        "jwt3_routes_under_test", os.path.join(EXAMPLE, "jwt3_routes.py"))
    routes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(routes)
    return routes


@pytest.fixture
def routes(ksr, keys, tmp_path, monkeypatch):
    _, verify_key, sign_key = keys
    return load_routes(tmp_path, monkeypatch,
                       harness.ini_text("HS256", verify_key, sign_key))


def _token(key, caller="alice", callee="bob", **extra):
    claims = {"caller": caller, "callee": callee, "exp": NOW + 60}
    claims.update(extra)
    return jwt3.encode(claims, key, "HS256")


def test_routes_import_sets_leeway_and_logs_through_ksr(routes, ksr):
    assert jwt3._default_module.leeway_sec == harness.LEEWAY_SEC
    assert routes.mod_init().child_init(1) == 0

    log = logging.getLogger("jwt3")
    assert log.propagate is False
    log.error("e\r\nvil")
    log.warning("w")
    log.info("i")
    log.debug("d")
    assert ksr.logged[-4:] == [("err", "jwt3: e vil\n"),
                               ("warn", "jwt3: w\n"),
                               ("info", "jwt3: i\n"),
                               ("dbg", "jwt3: d\n")]


@pytest.mark.parametrize("authorization", [
    "Bearer %s", "bearer %s", "BEARER \t%s", " Bearer %s ",
    "Bearer %s, realm=x"])
def test_routes_take_the_bearer_token(routes, ksr, keys, authorization):
    token = _token(keys[0])
    code, _, headers = ksr.send(routes, "INVITE",
                                Authorization=authorization % token)
    assert (code, headers) == (200, {"X-JWT3-Status": "0"})


def test_routes_take_an_identity_header(routes, ksr, keys):
    identity = _token(keys[0]) + ";info=<https://idp.example/>"
    assert ksr.send(routes, "INVITE", Identity=identity)[0] == 200

    # Authorization wins; a non-Bearer one falls back to Identity.
    reply = ksr.send(routes, "INVITE", Identity=identity,
                     Authorization="Bearer x.y.z")
    assert reply[0] == 403
    reply = ksr.send(routes, "INVITE", Identity=identity,
                     Authorization="Digest a=b")
    assert reply[0] == 200


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer"},
    {"Identity": ";info=<x>"}])
def test_routes_challenge_when_there_is_no_token(routes, ksr, headers):
    code, _, reply_headers = ksr.send(routes, "INVITE", **headers)
    assert (code, reply_headers) == (
        401, {"WWW-Authenticate": 'Bearer realm="jwt3"'})


def test_routes_refuse_with_status_and_reason(routes, ksr, keys):
    token = _token(keys[0], callee="carol")
    code, reason, headers = ksr.send(routes, "INVITE",
                                     Authorization="Bearer " + token)
    assert (code, reason) == (403, "Forbidden")
    assert headers == {"X-JWT3-Status": str(jwt3.STATUS_CLAIM),
                       "X-JWT3-Error": 'claim "callee" is not as expected'}

    token = _token(keys[0], exp=NOW - 3600)
    headers = ksr.send(routes, "INVITE", Authorization="Bearer " + token)[2]
    assert headers["X-JWT3-Status"] == str(jwt3.STATUS_EXPIRED)


@pytest.mark.parametrize("caller, callee", [
    (None, "bob"), ("alice", None), ("", "bob"), ('al"ice', "bob")])
def test_routes_need_plain_from_and_to_users(routes, ksr, keys, caller,
                                             callee):
    for method in ("INVITE", "MESSAGE"):
        reply = ksr.send(routes, method, caller, callee,
                         Authorization="Bearer " + _token(keys[0]))
        assert reply == (403, "Forbidden", {
            "X-JWT3-Error": "From and To need a user part"})


def test_routes_claims_keep_sip_users_as_strings(routes, ksr, keys):
    # Quoted values: "+49..." and "0049" stay strings, "'" is harmless.
    for caller, callee in (("+4930123", "0049"), ("o'brien", "a;b,c>d")):
        token = _token(keys[0], caller, callee)
        reply = ksr.send(routes, "INVITE", caller, callee,
                         Authorization="Bearer " + token)
        assert reply[0] == 200, reply


def test_routes_issue_tokens_on_message(routes, ksr, keys):
    code, _, headers = ksr.send(routes, "MESSAGE", "+4930123", "bob")
    assert code == 200
    token = headers["X-JWT3-Token"]
    claims = jwt3.decode(token, keys[0], ["HS256"])
    assert (claims["caller"], claims["callee"]) == ("+4930123", "bob")
    assert NOW <= claims["exp"] - 300 <= time.time()
    reply = ksr.send(routes, "INVITE", "+4930123", "bob",
                     Authorization="Bearer " + token)
    assert reply[0] == 200


def test_routes_issue_only_to_issuers(routes, ksr):
    reply = ksr.send(routes, "MESSAGE", source="192.0.2.1")
    assert reply == (403, "Forbidden", {
        "X-JWT3-Error": "tokens are not issued to this address"})


def test_routes_report_a_failed_generate(routes, ksr, monkeypatch,
                                         tmp_path):
    monkeypatch.setattr(routes, "SIGN_KEY", str(tmp_path / "gone.json"))
    code, _, headers = ksr.send(routes, "MESSAGE")
    assert code == 500
    assert "no such file" in headers["X-JWT3-Error"]


def test_routes_other_methods(routes, ksr):
    assert ksr.send(routes, "OPTIONS")[:2] == (200, "OK")
    assert ksr.send(routes, "BYE")[:2] == (200, "OK")
    assert ksr.send(routes, "REGISTER") == (405, "Method Not Allowed", {
        "Allow": "INVITE, ACK, BYE, OPTIONS, MESSAGE"})
    ksr.request = {"$rm": "ACK"}
    assert routes.kamailio().ksr_request_route(None) == 1
    assert ksr.replies == []


def test_routes_verify_only(ksr, keys, tmp_path, monkeypatch):
    # No sign_key: no start-up check, MESSAGE is not allowed, and the
    # reason can be kept out of replies.
    text = harness.ini_text("HS256", keys[1], "").replace(
        "error_header = yes", "error_header = no")
    routes = load_routes(tmp_path, monkeypatch, text)
    assert ksr.logged == []   # the start-up probe's failure is not logged
    assert logging.getLogger("jwt3").disabled is False
    assert ksr.send(routes, "MESSAGE") == (405, "Method Not Allowed", {
        "Allow": "INVITE, ACK, BYE, OPTIONS"})
    reply = ksr.send(routes, "INVITE", Authorization="Bearer a.b.c")
    assert reply == (403, "Forbidden",
                     {"X-JWT3-Status": str(jwt3.STATUS_MALFORMED)})


def test_routes_defaults_without_a_config_file(ksr, tmp_path,
                                               monkeypatch):
    # A copy of the script with no jwt3_routes.ini beside it.
    monkeypatch.delenv("JWT3_ROUTES_CONFIG", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    script = tmp_path / "jwt3_routes.py"
    with open(os.path.join(EXAMPLE, "jwt3_routes.py")) as f:
        script.write_text(f.read())
    spec = importlib.util.spec_from_file_location("jwt3_routes_defaults",
                                                  str(script))
    routes = importlib.util.module_from_spec(spec)
    if os.path.exists("/etc/kamailio/jwt3/public.pem"):
        pytest.skip("this machine has /etc/kamailio/jwt3/public.pem")
    # (no such file; or, without ES256 support, an unknown algorithm)
    with pytest.raises(RuntimeError, match="^jwt3_routes: verify_key"
                       " /etc/kamailio/jwt3/public.pem: "):
        spec.loader.exec_module(routes)
    assert (routes.ALG, routes.VERIFY_KEY, routes.SIGN_KEY) == (
        "ES256", "/etc/kamailio/jwt3/public.pem", "")
    assert routes.ERROR_HEADER is True
    assert sys.path[0] == str(tmp_path)


def test_routes_stop_kamailio_on_bad_settings(ksr, keys, tmp_path,
                                              monkeypatch):
    key, verify_key, sign_key = keys
    monkeypatch.setenv("JWT3_ROUTES_CONFIG", str(tmp_path / "none.ini"))
    spec = importlib.util.spec_from_file_location(
        "jwt3_routes_bad", os.path.join(EXAMPLE, "jwt3_routes.py"))
    with pytest.raises(RuntimeError, match="cannot read"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))

    missing = str(tmp_path / "missing.pem")
    with pytest.raises(RuntimeError, match="sign_key .*no such file"):
        load_routes(tmp_path, monkeypatch,
                    harness.ini_text("HS256", verify_key, missing))

    _, other, _ = harness.write_keys("HS256", str(tmp_path / "other"))
    with pytest.raises(RuntimeError, match="does not verify tokens"):
        load_routes(tmp_path, monkeypatch,
                    harness.ini_text("HS256", other, sign_key))

    # Verify-only: the key must still load and fit the algorithm.
    for verify_key, alg, reason in (
            (missing, "HS256", "no such file"),
            (verify_key, "HS384", "no key"),
            (verify_key, "XX999", "unknown"),
            ("", "HS256", "must not be empty")):
        with pytest.raises(RuntimeError, match=reason):
            load_routes(tmp_path, monkeypatch,
                        harness.ini_text(alg, verify_key, ""))


# -- the harness itself (no Kamailio needed)

def test_harness_reports_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "apt-get install kamailio kamailio-python3-modules sip-tester" \
        in harness.missing_tools()


def test_harness_keys_command(tmp_path, capsys):
    _need_alg("HS256")
    assert harness.main(["keys", "--alg", "HS256", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "verify_key = %s" % (tmp_path / "keys.json") in out
    assert os.stat(str(tmp_path / "keys.json")).st_mode & 0o077 == 0
    assert len(jwt3.load_keys((tmp_path / "keys.json").read_text())) == 1


def test_harness_stop_kills_what_ignores_sigterm(tmp_path):
    # A stand-in that ignores SIGTERM, with a child in its group.
    deployment = harness.Deployment(str(tmp_path), "HS256", None, "", "")
    kamailio = harness.Kamailio(deployment, port=1)
    script = ("import signal, subprocess, sys, time;"
              "signal.signal(signal.SIGTERM, signal.SIG_IGN);"
              "subprocess.Popen([sys.executable, '-c',"
              " 'import signal, time;"
              " signal.signal(signal.SIGTERM, signal.SIG_IGN);"
              " time.sleep(60)']);"
              "print('ready', flush=True); time.sleep(60)")
    kamailio.process = harness.subprocess.Popen(
        [sys.executable, "-c", script], stdout=harness.subprocess.PIPE,
        start_new_session=True)
    assert kamailio.process.stdout.readline() == b"ready\n"
    time.sleep(0.2)
    assert len(kamailio.processes()) == 2
    kamailio.stop(timeout=1.0)
    kamailio.process.stdout.close()
    assert kamailio.process.returncode == -signal.SIGKILL
    assert kamailio.processes() == []
