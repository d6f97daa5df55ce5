"""pytest configuration: import path and hypothesis profiles.

The default profile ("ci") keeps hypothesis quick and derandomized, so
a CI run is repeatable: the same examples every time.  Exploration is
random in the other profiles: ``--thorough`` (or JWT3_HYPOTHESIS=
thorough) runs many more examples, JWT3_HYPOTHESIS=random as many as
"ci" with fresh ones each run.
"""

import os
import sys

from hypothesis import HealthCheck, settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True,
    database=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "random", max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "thorough", max_examples=2000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])


def pytest_addoption(parser):
    parser.addoption("--thorough", action="store_true",
                     help="run hypothesis with many more examples")


def pytest_configure(config):
    chosen = os.environ.get("JWT3_HYPOTHESIS", "ci")
    if config.getoption("--thorough"):
        chosen = "thorough"
    settings.load_profile(chosen if chosen in ("ci", "random", "thorough")
                          else "ci")
