"""Small helpers shared by several test files (no test data here: that
lives in vectors/ and tests/data/)."""

import time

# A guard against hangs and quadratic blow-ups, not a speed claim: speed
# is measured by bench/ only.
HANG_SECONDS = 2.0


class hang_guard:
    """Fails if the block takes longer than HANG_SECONDS."""

    def __enter__(self):
        self.started = time.perf_counter()

    def __exit__(self, *exc):
        elapsed = time.perf_counter() - self.started
        assert elapsed < HANG_SECONDS, "took %.2f s" % elapsed


def integer_cube_root(x):
    """floor(x^(1/3)) by Newton's method (for e = 3 forgeries)."""
    y = 1 << ((x.bit_length() + 2) // 3)
    while True:
        z = (2 * y + x // (y * y)) // 3
        if z >= y:
            return y
        y = z
