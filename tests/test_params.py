"""Section 22: Kamailio claims strings (parse_params and typing).

The table rows come from reference/kamailio-jwt3.md §1.6 and §1.7,
where each was run through Kamailio's own parse_param.c.
"""

import pytest
from hypothesis import example, given, strategies as st

import jwt3
from jwt3 import Param, parse_params


def names_bodies(text):
    return [(p.name, p.body) for p in parse_params(text)]


# reference §1.6 examples; jwt3 keeps the order of appearance.
@pytest.mark.parametrize("text, expected", [
    ("caller='alice';callee='bob';index=100",
     [("caller", "alice"), ("callee", "bob"), ("index", "100")]),
    ("a=1;b='2';c=\"x y\";d",
     [("a", "1"), ("b", "2"), ("c", "x y"), ("d", None)]),
    ("a=1,b=2", [("a", "1")]),
    ('a="x">c=3', [("a", "x")]),
    ("a=1;;b=2", [("a", "1"), ("", None), ("b", "2")]),
    ("a = 1 ; b= 'q'", [("a", "1"), ("b", "q")]),
    ("a='x;y';b=\"it's\"", [("a", "x;y"), ("b", "it's")]),
    ("a=b=c;d=e'f", [("a", "b=c"), ("d", "e'f")]),
    ("'q'=1", [("'q'", "1")]),
    ("a=1;a=2", [("a", "1"), ("a", "2")]),
    ("", []),
    ("a=1;", [("a", "1")]),          # one trailing ';' is stripped
    ("a=", [("a", "")]),
    ("a=''", [("a", "")]),
    ("a=\\x;b=1>", [("a", "\\x"), ("b", "1>")]),
    ("a='x' ;b=1", [("a", "x"), ("b", "1")]),
    ("a\t=\t1", [("a", "1")]),
])
def test_grammar(text, expected):
    assert names_bodies(text) == expected


@pytest.mark.parametrize("text, reason", [
    (" a=1", "invalid character 'a'"),            # leading space
    ("a=1; ", "name missing after ';'"),          # only ';' is stripped
    ("a=1;;", "name missing after ';'"),          # only one ';'
    ("a='x'y;b=1", "invalid character 'y'"),
    ("a='it's';b=2", "invalid character 's'"),
    ("a=1 b=2", "invalid character 'b'"),
    ("a='", "unterminated"),
    ("a='x", "unterminated"),
    ("a=;b=1", "empty value of 'a'"),
    ("a=,", "empty value"),
])
def test_grammar_errors(text, reason):
    with pytest.raises(jwt3.MalformedError, match=reason):
        parse_params(text)


def test_type():
    with pytest.raises(TypeError):
        parse_params(b"a=1")


# reference §1.7.1, with the documented rule (DESIGN §5): quoted values
# are strings; the C module's numbers-from-quotes are not copied.
@pytest.mark.parametrize("text, value", [
    ("index=100", 100),
    ("index='100'", "100"),           # C: 100
    ("sub='+4912345'", "+4912345"),   # C: 4912345
    ("num='0049'", "0049"),           # C: 49
    ("num=0049", 49),
    ("n=-5", -5),
    ("n=+5", 5),
    ("a=-", "-"),                     # C: 0
    ("a=+", "+"),                     # C: 0
    ("d=99999999999999999999", "99999999999999999999"),
    ("d=9223372036854775807", 9223372036854775807),
    ("d=9223372036854775808", "9223372036854775808"),
    ("d=-9223372036854775808", -9223372036854775808),
    ("d=-9223372036854775809", "-9223372036854775809"),
    ("e=1.5", "1.5"),
    ("f=0x10", "0x10"),
    ("t=true", "true"),
    ('x="\'"', "'"),
    ("u=\u0663", "\u0663"),           # an Arabic-Indic digit: a string
    ("s=1_000", "1_000"),
    # Digits are counted before int(): leading zeros do not count, and
    # a long run is a string at once (int() of 5000 digits raised
    # ValueError on CPython 3.11+, a foreign exception).
    pytest.param("z=" + "0" * 5000 + "42", 42, id="5000 zeros, 42"),
    pytest.param("z=-" + "0" * 5000 + "9223372036854775808",
                 -9223372036854775808, id="5000 zeros, int64 min"),
    pytest.param("z=+" + "0" * 5000, 0, id="+, 5000 zeros"),
    pytest.param("z=" + "1" * 5000, "1" * 5000, id="5000 ones"),
    ("z=-" + "9" * 20, "-" + "9" * 20),
])
def test_value_typing(text, value):
    (param,) = parse_params(text)
    assert param.value() == value
    assert type(param.value()) is type(value)


def test_length_bound():
    # Limit (section 22): at most _MAX_PARAMS_LENGTH characters, refused
    # before the character-by-character read (1 MB took a second).
    limit = jwt3._MAX_PARAMS_LENGTH
    text = "a=" + "x" * (limit - 2)
    assert parse_params(text)[0].body == "x" * (limit - 2)
    for text in (text + "x", "a=1;" * 250000):
        with pytest.raises(jwt3.MalformedError, match="more than %d"
                                                      % limit):
            parse_params(text)


def test_param_fields():
    assert parse_params("a='x';b=\"y\";c=z;d") == [
        Param("a", "x", "'"), Param("b", "y", '"'), Param("c", "z", ""),
        Param("d", None, "")]
    assert Param("d", None, "").value() == ""


def test_param_values_skip_and_duplicates():
    assert jwt3._param_values("a=1;c='';=5;d;e='x';b=", "claims") == {
        "a": 1, "e": "x"}
    assert jwt3._param_values("kid=123", "headers", ("kid",)) == {
        "kid": "123"}
    with pytest.raises(jwt3.MalformedError, match="'a' appears twice"):
        jwt3._param_values("a=1;a=2", "claims")


# -- hypothesis

names = st.text(st.characters(blacklist_characters=" \t\r\n,=;'\">",
                              blacklist_categories=("Cs",)),
                min_size=1, max_size=8)
tokens = st.text(st.characters(blacklist_characters=" \t\r\n,;'\"",
                               blacklist_categories=("Cs",)),
                 min_size=1, max_size=8)
quoted = st.tuples(st.sampled_from("'\""), st.text(max_size=8)).filter(
    lambda qt: qt[0] not in qt[1]).map(lambda qt: qt[0] + qt[1] + qt[0])


@given(st.lists(st.tuples(names, tokens | quoted,
                          st.sampled_from(["", " ", " \t "])),
                min_size=1, max_size=6))
@example([("a", "'x;y'", "")])
def test_round_trip(items):
    text = ";".join("%s%s=%s%s" % (name, space, space, body)
                    for name, body, space in items)
    parsed = parse_params(text)
    assert [p.name for p in parsed] == [name for name, _, _ in items]
    for param, (_, body, _) in zip(parsed, items):
        if body[0] in "'\"":
            assert (param.quote, param.body) == (body[0], body[1:-1])
            assert param.value() == body[1:-1]
        else:
            assert (param.quote, param.body) == ("", body)


@given(st.text(max_size=40))
@example("a='")
@example(";")
@example(";;")
@example("=")
def test_any_text_parses_or_raises_malformed(text):
    try:
        params = parse_params(text)
    except jwt3.MalformedError:
        return
    for param in params:
        assert isinstance(param.name, str)
        assert param.body is None or isinstance(param.body, str)
