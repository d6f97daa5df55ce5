"""Load the test vectors kept as data in ``vectors/``.

Each file in ``vectors/`` holds the vectors of one source document
(``rfc7515.json``, ``rfc8032.json``, ...; ``libjwt.json`` for libjwt's
known answers) as a JSON list of cases.  Every case is an object with:

* ``id``: the origin, e.g. ``RFC7515-A.1`` (used as the pytest id);
* ``source``: the document and section, and ``published`` (false for
  values generated for the pack, which then list ``generated_fields``);
* the inputs and outputs, named by convention: ``*_b64u`` is base64url
  without padding (authoritative for octet strings), ``*_hex`` is
  lower-case hex, ``jwk``/``jwks`` are keys exactly as printed, ``jws``
  is a compact token, ``signing_input`` the exact signed text;
* ``expected``: what to assert (``verify``, ``signature_reproducible``,
  ``thumbprint_b64u``...); a negative case has ``verify: false`` and,
  where it names one, ``error`` (a jwt3 exception class name) and
  ``reason`` (one line).

``cases(name, **match)`` returns the cases of one file whose fields
equal ``match``; ``params(...)`` wraps them as ``pytest.param`` with
their ids.
"""

import base64
import json
import os
from typing import Any, Dict, List

import pytest

VECTORS = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "vectors")


def load(name: str) -> List[Dict[str, Any]]:
    """Every case of ``vectors/<name>.json``."""
    with open(os.path.join(VECTORS, name + ".json"), encoding="utf-8") as f:
        return json.load(f)


def cases(name: str, **match: Any) -> List[Dict[str, Any]]:
    """The cases of ``name`` whose fields equal every ``match`` item."""
    return [case for case in load(name)
            if all(case.get(k) == v for k, v in match.items())]


def params(name: str, **match: Any) -> List[Any]:
    """``cases`` as ``pytest.param`` objects with the case id as id."""
    return [pytest.param(case, id=case["id"])
            for case in cases(name, **match)]


def by_id(name: str, case_id: str) -> Dict[str, Any]:
    """The one case of ``name`` with id ``case_id``."""
    for case in load(name):
        if case["id"] == case_id:
            return case
    raise KeyError(case_id)


def b64u(text: str) -> bytes:
    """Decode base64url without padding (test-side, deliberately not
    jwt3's own decoder)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
