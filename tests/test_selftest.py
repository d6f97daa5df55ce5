"""Section 17: the embedded known-answer tests."""

import subprocess
import sys

import jwt3


def test_every_family_passes():
    results = jwt3._selftest()
    assert [failure for _, failure, _ in results] == [None] * len(results)
    assert {"HS", "parse_params"} <= {family for family, _, _ in results}


def test_a_failing_family_is_reported(monkeypatch, capsys):
    def wrong():
        raise AssertionError("known answer differs")

    def bad_key():
        jwt3.Key.from_secret(b"")

    monkeypatch.setattr(jwt3, "_SELFTESTS", [("HS", jwt3._selftest_hs),
                                             ("broken", wrong),
                                             ("key", bad_key)])
    results = jwt3._selftest()
    assert [(family, failure) for family, failure, _ in results] == [
        ("HS", None),
        ("broken", "AssertionError: known answer differs"),
        ("key", "InvalidKeyError: an HMAC secret cannot be empty")]
    assert jwt3.main(["selftest"]) == 1
    assert "FAIL AssertionError" in capsys.readouterr().out


def test_selftest_detects_a_broken_hmac(monkeypatch):
    # If verification accepted anything, the tamper check must fail.
    alg = jwt3._ALGORITHMS["HS256"]._replace(
        verify=lambda material, data, signature, strict: True)
    monkeypatch.setitem(jwt3._ALGORITHMS, "HS256", alg)
    results = dict((f, e) for f, e, _ in jwt3._selftest())
    assert results["HS"] == ("AssertionError: a tampered HS256 token"
                             " verified")


def test_selftest_detects_a_lenient_parser(monkeypatch):
    monkeypatch.setattr(jwt3, "parse_params", lambda text: [
        jwt3.Param("a", "x;y", "'"), jwt3.Param("b", "it's", '"'),
        jwt3.Param("c", "100", ""), jwt3.Param("d", None, "")])
    results = dict((f, e) for f, e, _ in jwt3._selftest())
    assert results["parse_params"].startswith("AssertionError")


def test_command_line():
    done = subprocess.run([sys.executable, jwt3.__file__, "selftest"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].split()[:2] == ["HS", "ok"]
    assert jwt3.main([]) == 2
