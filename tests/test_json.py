"""Section 3: strict JSON parsing and libjwt-identical output."""

import json
import math
import time

import pytest
from hypothesis import example, given, strategies as st

import jwt3
from jwt3 import _json_dumps, _json_loads


def loads(text):
    return _json_loads(text, "doc")


# -- parsing

@pytest.mark.parametrize("text, reason", [
    ('{"a":1,"a":2}', "duplicate member name 'a'"),
    ('{"x":{"b":1,"b":1}}', "duplicate member name 'b'"),
    ('{"a":NaN}', "NaN is not JSON"),
    ('{"a":Infinity}', "Infinity is not JSON"),
    ('{"a":-Infinity}', "-Infinity is not JSON"),
    ('{"a":1e400}', "out of range"),
    ('{"a":-1e400}', "out of range"),
    ('{"a":"\\ud800"}', "lone surrogate"),
    ('{"a":"\\udc00x"}', "lone surrogate"),
    ('{"\\ud834":1}', "lone surrogate"),
    ('{"a":"\\u0000"}', "U\\+0000"),
    ('{"a":[1,"\\u0000"]}', "U\\+0000"),
    ('[1,2]', "expected a JSON object, got array"),
    ('"x"', "expected a JSON object, got string"),
    ('null', "expected a JSON object, got null"),
    ('1', "expected a JSON object, got number"),
    ('true', "expected a JSON object, got boolean"),
    ('\ufeff{}', "invalid JSON"),
    ('{"a":1} x', "invalid JSON"),
    ('{"a":1,}', "invalid JSON"),
    ("{'a':1}", "invalid JSON"),
    ('{"a":"x\ny"}', "invalid JSON"),
    ('', "invalid JSON"),
])
def test_refused(text, reason):
    with pytest.raises(jwt3.MalformedError, match=reason):
        loads(text)


def test_invalid_utf8_refused():
    with pytest.raises(jwt3.MalformedError, match="not valid UTF-8"):
        loads(b'{"a":"\xff"}')
    # A surrogate encoded as UTF-8 bytes is not UTF-8 either (RFC 3629).
    with pytest.raises(jwt3.MalformedError, match="not valid UTF-8"):
        loads(b'{"a":"\xed\xa0\x80"}')


def test_accepted():
    assert loads('{"a":"\\ud83d\\ude00"}') == {"a": "\U0001F600"}
    assert loads(b'{"a":"\xc3\xa9"}') == {"a": "\u00e9"}
    assert loads(' {\r\n "a" : [1, 2.5, true, null, {}]}\n') == {
        "a": [1, 2.5, True, None, {}]}
    # An escaped backslash before "u0000" is not an escaped NUL.
    assert loads('{"a":"\\\\u0000"}') == {"a": "\\u0000"}
    assert _json_loads("[1]", "doc", want_object=False) == [1]


def test_integer_digit_bound_is_the_same_on_every_interpreter():
    # Choice (section 3): at most _MAX_JSON_INT_DIGITS digits, checked
    # before int(), so CPython's own 4300-digit limit (absent before
    # 3.8.14, and on PyPy) never decides and huge numbers cost nothing.
    limit = jwt3._MAX_JSON_INT_DIGITS
    assert loads('{"a":%s}' % ("9" * limit)) == {"a": 10 ** limit - 1}
    assert loads('{"a":-%s}' % ("9" * limit)) == {"a": 1 - 10 ** limit}
    for text in ("9" * (limit + 1), "-" + "9" * (limit + 1),
                 "1" * 5000, "1" * 200000):
        with pytest.raises(jwt3.MalformedError,
                           match="more than %d digits" % limit):
            loads('{"a":%s}' % text)
    # Floats are not affected: a long mantissa is rounded, a huge
    # exponent is out of range.
    assert loads('{"a":0.%s}' % ("9" * 5000)) == {"a": 1.0}
    with pytest.raises(jwt3.MalformedError, match="out of range"):
        loads('{"a":%s.0}' % ("9" * 5000))


def test_short_text_needs_no_integer_hook(monkeypatch):
    # Text of at most _MAX_JSON_INT_DIGITS characters cannot hold a
    # longer integer: it is parsed without the per-integer hook.
    limit = jwt3._MAX_JSON_INT_DIGITS
    calls = []
    monkeypatch.setattr(jwt3, "_BOUNDED_DECODER", type("D", (), {
        "decode": lambda self, text: calls.append(text) or {}})())
    short = '{"a":%s}' % ("1" * (limit - 6))
    assert loads(short) == {"a": int("1" * (limit - 6))} and not calls
    loads(short + " ")
    assert calls == [short + " "]


def test_integer_digit_bound_on_output():
    limit = jwt3._MAX_JSON_INT_DIGITS
    assert dumps({"a": 10 ** limit - 1}) == '{"a":%s}' % ("9" * limit)
    for value in (10 ** limit, -10 ** limit, 10 ** 5000):
        with pytest.raises(jwt3.MalformedError, match="more than"):
            _json_dumps({"a": value})


def nest(depth, opener="[", closer="]"):
    return '{"a":' + opener * (depth - 1) + closer * (depth - 1) + "}"


def test_depth_limit():
    limit = jwt3._MAX_JSON_DEPTH
    assert loads(nest(limit))
    with pytest.raises(jwt3.MalformedError, match="nested deeper"):
        loads(nest(limit + 1))
    with pytest.raises(jwt3.MalformedError, match="nested deeper"):
        loads('{"a":' + '{"b":' * limit + "1" + "}" * limit + "}")


@pytest.mark.parametrize("opener, closer", [("[", "]"), ('{"a":', "}")])
def test_very_deep_nesting_is_refused_quickly(opener, closer):
    text = '{"a":' + opener * 100000 + "1" + closer * 100000 + "}"
    started = time.perf_counter()
    with pytest.raises(jwt3.MalformedError, match="nested"):
        loads(text)
    assert time.perf_counter() - started < 5


def test_nesting_is_read_before_parsing(monkeypatch):
    # The depth comes from the text, so the (recursive) parser never
    # sees a deep nest and RecursionError cannot arise on any
    # interpreter or stack size.
    class NoDecoder:
        def decode(self, text):
            raise AssertionError("the parser was entered")

    monkeypatch.setattr(jwt3, "_DECODER", NoDecoder())
    monkeypatch.setattr(jwt3, "_BOUNDED_DECODER", NoDecoder())
    for text in ("[" * 100000, '{"a":' * 100000, '["",' * 100000,
                 "[" * 33 + "]" * 33):
        with pytest.raises(jwt3.MalformedError, match="nested deeper"):
            loads(text)


@pytest.mark.parametrize("text", [
    # Brackets inside strings, escaped quotes and escaped backslashes
    # do not count.
    '{"a":"' + "[" * 100 + '"}',
    r'{"a":"\\"' + "".join(r',"b%d":"[[[["' % i for i in range(40)) + "}",
    r'{"a":["\\\"[[[[",' + r'"\u005b",' * 40 + "1]}",
])
def test_brackets_in_strings_do_not_count(text):
    assert isinstance(loads(text), dict)


def test_nesting_scan_is_linear_on_hostile_text():
    # An unterminated string full of escaped quotes, and a million
    # brackets: each a few passes over the text.  The bound only
    # guards against a hang.
    for text in ('["' + r'\"[' * 300000, "[" * 1000000,
                 '["' + '",["' * 200000):
        started = time.perf_counter()
        with pytest.raises(jwt3.MalformedError):
            loads(text)
        assert time.perf_counter() - started < 2


def depth_of(value):
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


def test_many_shallow_brackets_are_fine():
    # More brackets than the depth limit, but not nested deeply: the
    # bracket count only gates the depth walk.
    text = '{"a":[' + ",".join(["[]"] * 100) + "]}"
    assert len(loads(text)["a"]) == 100


# -- output

def dumps(value):
    return _json_dumps(value).decode("utf-8")


def test_libjwt_serialization():
    assert dumps({"b": 1, "a": "x", "c": [True, None]}) == \
        '{"a":"x","b":1,"c":[true,null]}'
    assert dumps({"url": "http://a/b"}) == '{"url":"http://a/b"}'
    assert dumps({"n": "caf\u00e9 \u2019"}) == '{"n":"caf\u00e9 \u2019"}'
    assert dumps({"c": "\x1f\x01\x7f"}) == '{"c":"\\u001F\\u0001\x7f"}'
    assert dumps({"c": "\b\f\n\r\t\"\\"}) == '{"c":"\\b\\f\\n\\r\\t\\"\\\\"}'
    # A literal backslash followed by "u001f" stays as it is.
    assert dumps({"c": "\\u001f"}) == '{"c":"\\\\u001f"}'
    # Sorted by code point, which is UTF-8 byte order.
    assert dumps({"\u00e9": 1, "z": 2, "Z": 3}) == \
        '{"Z":3,"z":2,"\u00e9":1}'


@pytest.mark.parametrize("value, text", [
    (1.5, "1.5"),
    (1.0, "1.0"),
    (0.1, "0.10000000000000001"),
    (-2.0, "-2.0"),
    (1e20, "1e20"),
    (1e-5, "1.0000000000000001e-5"),
    (123456789012345678.0, "1.2345678901234568e17"),
    (5e-324, "4.9406564584124654e-324"),
])
def test_floats_as_jansson_prints_them(value, text):
    assert dumps({"f": value}) == '{"f":%s}' % text
    assert dumps([value]) == "[%s]" % text


@pytest.mark.parametrize("value, error", [
    ({"f": math.nan}, jwt3.MalformedError),
    ({"f": math.inf}, jwt3.MalformedError),
    ({"s": "\ud800"}, jwt3.MalformedError),
    ({"s": "a\x00"}, jwt3.MalformedError),
    ({"\x00": 1}, jwt3.MalformedError),
    ({1: "x"}, TypeError),
    ({"s": {1, 2}}, TypeError),
    ({"s": b"bytes"}, TypeError),
])
def test_output_refused(value, error):
    with pytest.raises(error):
        _json_dumps(value)


def test_output_depth_limit():
    value = []
    for _ in range(jwt3._MAX_JSON_DEPTH + 2):
        value = [value]
    with pytest.raises(jwt3.MalformedError, match="nested deeper"):
        _json_dumps(value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(st.characters(blacklist_categories=("Cs",)),
                              max_size=8), children, max_size=4),
    max_leaves=12)


@given(json_values)
def test_nesting_scan_matches_the_parsed_depth(value):
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False,
                                               indent=1)):
        assert jwt3._json_nesting(text) == depth_of(value), text


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            yield name
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
@example({"a": "\x00"})
@example({"\ud800": 1})
@example({"f": -0.0, "g": 1e300})
def test_round_trip(value):
    strings = list(strings_in(value))
    if any(0xD800 <= ord(c) <= 0xDFFF for s in strings for c in s):
        with pytest.raises(jwt3.MalformedError, match="lone surrogate"):
            _json_dumps(value)
        return
    if any("\x00" in s for s in strings):
        # U+0000 is refused both ways, as jansson refuses it.
        with pytest.raises(jwt3.MalformedError, match="U\\+0000"):
            _json_dumps(value)
        return
    assert _json_loads(_json_dumps(value), "doc") == value


@given(json_values)
def test_matches_stdlib_but_for_hex_case_and_floats(value):
    def has_float(v):
        if isinstance(v, float):
            return True
        if isinstance(v, dict):
            return any(map(has_float, v.values()))
        if isinstance(v, list):
            return any(map(has_float, v))
        return False

    if has_float(value):
        return
    if any("\x00" in s for s in strings_in(value)):
        with pytest.raises(jwt3.MalformedError, match="U\\+0000"):
            _json_dumps(value)
        return
    ours = _json_dumps(value).decode("utf-8")
    theirs = json.dumps(value, sort_keys=True, separators=(",", ":"),
                        ensure_ascii=False)
    assert ours.lower() == theirs.lower()


def test_c_encoder_default_refuses():
    # The C encoder's default hook is never reached (values are checked
    # first); if it were, it would refuse rather than guess.
    with pytest.raises(TypeError, match="cannot put object into JSON"):
        jwt3._refuse_default(object())
