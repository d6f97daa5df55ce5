"""The module as a whole: its public surface and its layout."""

import os
import re
import subprocess
import sys

import jwt3

SOURCE = jwt3.__file__


def test_all_names_exist():
    namespace = {}
    exec("from jwt3 import *", namespace)
    missing = [name for name in jwt3.__all__ if name not in namespace]
    assert missing == []
    assert len(set(jwt3.__all__)) == len(jwt3.__all__)


def test_sections_match_the_docstring():
    # Each numbered section banner matches its entry in the module
    # docstring's list, in the same order.
    with open(SOURCE, encoding="utf-8") as f:
        text = f.read()
    banners = re.findall(r"^# ---- (\d+[a-z]?)\. (.+?) ----$", text, re.M)
    listed = re.findall(r"^ {2,4}(\d+[a-z]?)\. (.+)$", jwt3.__doc__, re.M)
    assert banners == listed
    numbers = [number for number, _ in banners]
    assert numbers == sorted(numbers, key=lambda n: (int(n.rstrip(
        "abcdefgh")), n))


def test_lines_fit_in_79_columns():
    with open(SOURCE, encoding="utf-8") as f:
        long_lines = [number for number, line in enumerate(f, 1)
                      if len(line.rstrip("\n")) > 79]
    assert long_lines == []


def test_import_builds_no_tables():
    # Tables for fixed-base multiplication are built on first use, never
    # at import (DESIGN §8); a fresh interpreter shows it.
    code = ("import jwt3, sys; "
            "sys.exit(any(c.g_table is not None "
            "for c in jwt3._CURVES.values()))")
    done = subprocess.run([sys.executable, "-c", code],
                          cwd=os.path.dirname(SOURCE), timeout=60)
    assert done.returncode == 0
