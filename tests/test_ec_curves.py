"""Sections 11-12: curve constants and point arithmetic.

The fast code (Jacobian and XYZZ formulas, fixed-base tables, wNAF,
GLV) is checked against the slow textbook affine arithmetic below,
which follows SEC 1 §2.2.1 literally.
"""

import subprocess
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import jwt3

CURVES = list(jwt3._CURVES.values())
CURVE_IDS = [curve.name for curve in CURVES]


# -- textbook affine arithmetic (SEC 1 §2.2.1); None is O

def tb_add(curve, P, Q):
    p = curve.p
    if P is None:
        return Q
    if Q is None:
        return P
    if P[0] == Q[0]:
        if (P[1] + Q[1]) % p == 0:
            return None
        lam = (3 * P[0] * P[0] + curve.a) * pow(2 * P[1], -1, p) % p
    else:
        lam = (Q[1] - P[1]) * pow(Q[0] - P[0], -1, p) % p
    x = (lam * lam - P[0] - Q[0]) % p
    return x, (lam * (P[0] - x) - P[1]) % p


def tb_mul(curve, k, P):
    R = None
    for bit in bin(k)[2:] if k > 0 else "":
        R = tb_add(curve, R, R)
        if bit == "1":
            R = tb_add(curve, R, P)
    return R


def tb_neg(curve, P):
    return None if P is None else (P[0], (-P[1]) % curve.p)


def G(curve):
    return (curve.gx, curve.gy)


def jac_affine(curve, P):
    X, Y, Z = P
    p = curve.p
    if Z % p == 0:
        return None
    zinv = pow(Z, -1, p)
    return X * zinv * zinv % p, Y * zinv * zinv * zinv % p


def xyzz_affine(curve, P):
    X, Y, ZZ, ZZZ = P
    p = curve.p
    if ZZ % p == 0:
        return None
    assert pow(ZZ, 3, p) == pow(ZZZ, 2, p), "ZZ^3 != ZZZ^2"
    return X * pow(ZZ, -1, p) % p, Y * pow(ZZZ, -1, p) % p


def to_xyzz(curve, P, z):
    """P (affine or None) as XYZZ with the scale z."""
    if P is None:
        return jwt3._INFINITY_XYZZ
    p = curve.p
    return (P[0] * z * z % p, P[1] * z ** 3 % p, z * z % p, z ** 3 % p)


def to_jac(curve, P, z):
    if P is None:
        return jwt3._INFINITY
    p = curve.p
    return (P[0] * z * z % p, P[1] * z ** 3 % p, z % p)


_SMALL_TABLES = {}


def small_table(curve):
    """A w=4 table of G: a second window width for _mul_fixed_add."""
    if curve.name not in _SMALL_TABLES:
        _SMALL_TABLES[curve.name] = jwt3._fixed_table(curve, curve.gx,
                                                      curve.gy, 4)
    return _SMALL_TABLES[curve.name]


def edge_scalars(curve):
    n = curve.n
    return [0, 1, 2, 3, n - 1, n - 2, n, n + 1, (n - 1) // 2,
            (n + 1) // 2, 2 ** 64, 2 ** 128, 2 ** (curve.bits - 1),
            2 ** curve.bits - 1 - n]


scalar_data = st.data()


# -- constants

@pytest.mark.parametrize("curve", CURVES, ids=CURVE_IDS)
def test_curve_constants(curve):
    assert jwt3._on_curve(curve, curve.gx, curve.gy)
    assert tb_mul(curve, curve.n, G(curve)) is None, "n*G != O"
    assert curve.h == 1
    # The square root in _sqrt_mod_p needs p = 3 mod 4.
    assert curve.p % 4 == 3
    assert (curve.field_len, curve.scalar_len) == {
        "P-256": (32, 32), "P-384": (48, 48), "P-521": (66, 66),
        "secp256k1": (32, 32)}[curve.name]
    assert curve.bits == {"P-256": 256, "P-384": 384, "P-521": 521,
                          "secp256k1": 256}[curve.name]
    assert jwt3._CURVES_BY_OID[curve.oid] is curve
    assert not jwt3._on_curve(curve, curve.gx + curve.p, curve.gy)
    assert not jwt3._on_curve(curve, curve.gx, -curve.gy)
    assert repr(curve) == "<_Curve %s>" % curve.name


def test_import_builds_no_table():
    code = ("import jwt3, sys; sys.exit(any(c.g_table or c.glv for c in"
            " jwt3._CURVES.values()))")
    result = subprocess.run([sys.executable, "-c", code],
                            cwd=jwt3.__file__.rsplit("/", 1)[0])
    assert result.returncode == 0, "a table was built at import"


# -- complete formulas

def _points(curve, draw):
    k = draw(st.integers(1, curve.n - 1))
    return tb_mul(curve, k, G(curve))


@pytest.mark.parametrize("curve", CURVES, ids=CURVE_IDS)
@settings(max_examples=15)
@given(data=scalar_data)
def test_jacobian_formulas_match_textbook(curve, data):
    P = _points(curve, data.draw)
    case = data.draw(st.sampled_from(["random", "same", "negated", "O"]))
    Q = {"random": _points(curve, data.draw), "same": P,
         "negated": tb_neg(curve, P), "O": None}[case]
    z1 = data.draw(st.integers(1, curve.p - 1))
    z2 = data.draw(st.integers(1, curve.p - 1))
    expected = tb_add(curve, P, Q)

    got = jwt3._jacobian_add(curve, *to_jac(curve, P, z1),
                             *to_jac(curve, Q, z2))
    assert jac_affine(curve, got) == expected
    got = jwt3._jacobian_add(curve, *to_jac(curve, Q, z2),
                             *to_jac(curve, P, z1))
    assert jac_affine(curve, got) == expected
    got = jwt3._jacobian_double(curve, *to_jac(curve, P, z1))
    assert jac_affine(curve, got) == tb_add(curve, P, P)
    if Q is not None:
        got = jwt3._jacobian_madd(curve, *to_jac(curve, P, z1), *Q)
        assert jac_affine(curve, got) == expected
        got = jwt3._xyzz_madd(curve, *to_xyzz(curve, P, z1), *Q)
        assert xyzz_affine(curve, got) == expected
        # O + Q
        got = jwt3._jacobian_madd(curve, *jwt3._INFINITY, *Q)
        assert jac_affine(curve, got) == Q
        got = jwt3._xyzz_madd(curve, *jwt3._INFINITY_XYZZ, *Q)
        assert xyzz_affine(curve, got) == Q


@pytest.mark.parametrize("curve", CURVES, ids=CURVE_IDS)
def test_double_of_infinity(curve):
    assert jac_affine(curve, jwt3._jacobian_double(
        curve, *jwt3._INFINITY)) is None
    assert jwt3._to_affine(curve, *jwt3._INFINITY) is None


@pytest.mark.parametrize("curve", CURVES, ids=CURVE_IDS)
def test_batch_to_affine(curve):
    points = [to_jac(curve, tb_mul(curve, k, G(curve)), 7 * k + 3)
              for k in range(1, 6)]
    assert jwt3._batch_to_affine(curve, points) == [
        jwt3._to_affine(curve, *P) for P in points]


@pytest.mark.parametrize("curve", CURVES, ids=CURVE_IDS)
def test_sqrt_mod_p(curve):
    y = 123456789
    assert jwt3._sqrt_mod_p(curve, y * y) in (y, curve.p - y)
    # -1 is not a square mod p when p = 3 mod 4.
    assert jwt3._sqrt_mod_p(curve, curve.p - 1) is None


# -- fixed-base multiplication (the signing loop)

@pytest.mark.parametrize("curve", CURVES, ids=CURVE_IDS)
def test_fixed_base_edge_scalars(curve):
    table = jwt3._g_table(curve)
    for k in edge_scalars(curve):
        expected = tb_mul(curve, k % curve.n, G(curve))
        got = jwt3._mul_fixed_add(curve, table, k)
        assert xyzz_affine(curve, got) == expected, "k = %d" % k
        got = jwt3._mul_fixed_add(curve, small_table(curve), k)
        assert xyzz_affine(curve, got) == expected, "w=4, k = %d" % k
        if 1 <= k % curve.n:
            assert jwt3._mul_base(curve, k) == expected


@pytest.mark.parametrize("curve", CURVES, ids=CURVE_IDS)
@settings(max_examples=10)
@given(data=scalar_data)
def test_fixed_base_random_scalars(curve, data):
    k = data.draw(st.integers(0, 2 * curve.n))
    expected = tb_mul(curve, k % curve.n, G(curve))
    got = jwt3._mul_fixed_add(curve, small_table(curve), k)
    assert xyzz_affine(curve, got) == expected


@pytest.mark.parametrize("curve", CURVES, ids=CURVE_IDS)
def test_fixed_base_exceptional_additions(curve):
    # With acc = +-d0*G the first addition meets the exceptional cases
    # of madd-2008-s: P1 = P2 (a doubling) and P1 = -P2 (O, after which
    # the next addition starts from O).
    table = small_table(curve)
    n = curve.n
    for k in (1, 2, 12345, n - 1):
        d0 = jwt3._regular_digits(k, n, 4, len(table[1]))[0]
        for start in (d0, -d0):
            acc = to_xyzz(curve, tb_mul(curve, start % n, G(curve)), 5)
            got = jwt3._mul_fixed_add(curve, table, k, acc)
            expected = tb_mul(curve, (k + start) % n, G(curve))
            assert xyzz_affine(curve, got) == expected


@pytest.mark.parametrize("curve", CURVES, ids=CURVE_IDS)
def test_regular_digits_fixed_length(curve):
    """The Minerva lesson (CVE-2024-23342): a nonce with many leading
    zero bits is recoded into as many digits as any other, each odd and
    non-zero, so the signing loop does the same additions."""
    n = curve.n
    w, rows = jwt3._g_table(curve)
    for k in (1, 2, 3, 2 ** 20, 2 ** 200 + 1, n - 1, n // 2, n):
        digits = jwt3._regular_digits(k, n, w, len(rows))
        assert len(digits) == len(rows)
        assert all(d % 2 == 1 and abs(d) < 2 ** w for d in digits)
        assert digits[-1] > 0
        value = sum(d << (w * i) for i, d in enumerate(digits))
        assert value in (k % n, k % n + n) and value % 2 == 1


# -- verification: wNAF, GLV and key tables

@settings(max_examples=60)
@given(k=st.integers(0, 2 ** 530))
@example(k=0)
@example(k=2 ** 5 - 1)
def test_wnaf_digits(k):
    digits = jwt3._wnaf_vartime(k, 5)
    assert sum(d << i for i, d in enumerate(digits)) == k
    nonzero = [i for i, d in enumerate(digits) if d]
    assert all(d % 2 and abs(d) < 16 for d in digits if d)
    assert all(b - a >= 5 for a, b in zip(nonzero, nonzero[1:]))


def test_glv_constants():
    curve = jwt3._SECP256K1
    beta, lam, a1, b1, a2, b2 = jwt3._glv(curve)
    p, n = curve.p, curve.n
    assert pow(beta, 3, p) == 1 and beta != 1
    assert pow(lam, 3, n) == 1 and lam != 1
    assert tb_mul(curve, lam, G(curve)) == (beta * curve.gx % p, curve.gy)
    for a, b in ((a1, b1), (a2, b2)):
        assert (a + b * lam) % n == 0
        assert max(abs(a), abs(b)) < 2 ** 129


@settings(max_examples=60)
@given(k=st.integers(0, jwt3._SECP256K1.n - 1))
@example(k=jwt3._SECP256K1.n - 1)
@example(k=1)
def test_glv_split(k):
    curve = jwt3._SECP256K1
    lam = jwt3._glv(curve)[1]
    k1, k2 = jwt3._glv_split_vartime(curve, k)
    assert (k1 + k2 * lam - k) % curve.n == 0
    assert abs(k1) < 2 ** 129 and abs(k2) < 2 ** 129


@pytest.mark.parametrize("curve", CURVES, ids=CURVE_IDS)
@settings(max_examples=8)
@given(data=scalar_data)
def test_mul_add_vartime_matches_textbook(curve, data):
    """The fast verification path against textbook u1*G + u2*Q."""
    n = curve.n
    d = data.draw(st.integers(1, n - 1))
    Q = tb_mul(curve, d, G(curve))
    u1 = data.draw(st.one_of(st.sampled_from(edge_scalars(curve)),
                             st.integers(0, n - 1)))
    u2 = data.draw(st.one_of(st.sampled_from(edge_scalars(curve)),
                             st.integers(0, n - 1)))
    expected = tb_add(curve, tb_mul(curve, u1 % n, G(curve)),
                      tb_mul(curve, u2 % n, Q))
    got = jwt3._mul_add_vartime(curve, u1, u2, *Q)
    assert xyzz_affine(curve, got) == expected


@pytest.mark.parametrize("curve", CURVES, ids=CURVE_IDS)
def test_mul_add_vartime_cancelling(curve):
    # u1*G + u2*Q = O and = 2*u1*G: the final additions hit O and the
    # doubling case; also Q = G and Q = -G.
    n = curve.n
    d = 987654321
    Q = tb_mul(curve, d, G(curve))
    u2 = 55555
    u1 = (-u2 * d) % n
    assert xyzz_affine(curve, jwt3._mul_add_vartime(curve, u1, u2, *Q)) \
        is None
    for Q, u1 in ((G(curve), 7), (tb_neg(curve, G(curve)), n - 7)):
        got = jwt3._mul_add_vartime(curve, u1, 7, *Q)
        assert xyzz_affine(curve, got) == tb_mul(curve, (u1 + 7 * (
            1 if Q == G(curve) else -1)) % n, G(curve))


@pytest.mark.parametrize("curve", CURVES, ids=CURVE_IDS)
def test_key_table_path_matches_textbook(curve):
    n = curve.n
    Q = tb_mul(curve, 424242, G(curve))
    table = jwt3._fixed_table(curve, Q[0], Q[1], 4)
    for u1, u2 in ((1, 1), (0, 5), (n - 1, n - 1), (2 ** 100, 3 ** 90)):
        expected = tb_add(curve, tb_mul(curve, u1 % n, G(curve)),
                          tb_mul(curve, u2 % n, Q))
        got = jwt3._mul_add_vartime(curve, u1, u2, *Q, key_table=table)
        assert xyzz_affine(curve, got) == expected


def test_key_table_cache_lru(monkeypatch):
    jwt3._ec_clear_caches()
    monkeypatch.setattr(jwt3, "_KEY_TABLE_WINDOW", 4)
    monkeypatch.setattr(jwt3, "_KEY_TABLE_SLOTS", 2)
    monkeypatch.setattr(jwt3, "_KEY_USE_SLOTS", 3)
    curve = jwt3._P256
    keys = [tb_mul(curve, k, G(curve)) for k in range(11, 17)]
    x, y = keys[0]

    # A key gets a table with its _KEY_TABLE_AFTER-th valid signature;
    # looking it up never counts.
    for _ in range(jwt3._KEY_TABLE_AFTER - 1):
        jwt3._key_verified_vartime(curve, x, y)
        assert jwt3._key_table_vartime(curve, x, y) is None
        assert jwt3._key_table_vartime(curve, x, y) is None
    jwt3._key_verified_vartime(curve, x, y)
    table = jwt3._key_table_vartime(curve, x, y)
    assert table is not None and table[0] == 4
    assert jwt3._key_table_vartime(curve, x, y) is table

    # Bounded: two tables at most, least recently used evicted.
    for Q in keys[1:3]:
        for _ in range(jwt3._KEY_TABLE_AFTER):
            jwt3._key_verified_vartime(curve, *Q)
    assert len(jwt3._key_tables) == 2
    assert ("P-256", x, y) not in jwt3._key_tables
    # Use counts are bounded too.
    for Q in keys:
        jwt3._key_verified_vartime(curve, *Q)
    assert len(jwt3._key_uses) <= 3

    jwt3._ec_clear_caches()
    assert not jwt3._key_tables and not jwt3._key_uses


def test_only_valid_signatures_earn_a_table():
    # Forged tokens must not make jwt3 build per-key tables (35-170 ms
    # each), or an attacker rotating kids could keep it rebuilding.
    jwt3._ec_clear_caches()
    key = jwt3.generate_key("ES512")
    public = key.public()
    bad = bytes(132)
    for _ in range(3 * jwt3._KEY_TABLE_AFTER):
        assert not public.verify("ES512", b"data", bad[:-1] + b"\x01")
    assert not jwt3._key_tables and not jwt3._key_uses
    signature = key.sign("ES512", b"data")
    for _ in range(jwt3._KEY_TABLE_AFTER):
        assert public.verify("ES512", b"data", signature)
    assert len(jwt3._key_tables) == 1
    assert public.verify("ES512", b"data", signature)
    assert not public.verify("ES512", b"other", signature)
    jwt3._ec_clear_caches()


def test_clear_base_tables_rebuilds_lazily():
    curve = jwt3._SECP256K1
    jwt3._g_table(curve)
    jwt3._glv(curve)
    jwt3._ec_clear_caches(base_tables=True)
    assert all(c.g_table is None and c.glv is None for c in CURVES)
    assert jwt3._mul_base(curve, 5) == tb_mul(curve, 5, G(curve))
    assert curve.g_table is not None


def test_internal_errors_on_impossible_points():
    # No point of odd order has y = 0; fed one anyway, the table
    # builders stop with an internal error instead of dividing by 0.
    curve = jwt3._P256
    with pytest.raises(ValueError, match="internal error"):
        jwt3._fixed_table(curve, 5, 0, 4)
    with pytest.raises(ValueError, match="internal error"):
        jwt3._odd_multiples_vartime(curve, 5, 0)
