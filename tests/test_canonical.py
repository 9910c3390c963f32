"""canonical_bytes must equal rfc8785.dumps on everything the schemas admit."""

from __future__ import annotations

import rfc8785
import pytest
from hypothesis import given, settings, strategies as st

from ledger.canonical import canonical_bytes, loads_strict
from ledger.errors import InputError

from .strategies import bodies, entries

text = st.text(min_size=1, max_size=40)


@given(entries())
@settings(max_examples=300, deadline=None)
def test_canonical_matches_rfc8785_on_entries(entry):
    assert canonical_bytes(entry) == rfc8785.dumps(entry)


@given(st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(st.characters(max_codepoint=127)), inner, max_size=4),
    max_leaves=20,
))
@settings(max_examples=300, deadline=None)
def test_canonical_matches_rfc8785_on_json_values(value):
    try:
        expected = rfc8785.dumps(value)
    except Exception:  # lone surrogates: both must refuse
        with pytest.raises(InputError):
            canonical_bytes(value)
        return
    assert canonical_bytes(value) == expected


def test_canonical_escapes_controls_like_rfc8785():
    value = {"b": "\u0000\u001f\b\t\n\f\r\"\\\u007f\u2028é😀", "a": 1}
    assert canonical_bytes(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value", [
    {"n": 2**53}, {"n": -(2**53)}, {"n": 10**30},  # past orjson's strict range: json.dumps writes them
    {"a": None, "b": [None, "null"]},  # a null in the output: json.dumps checks for NaN
    {1: "x"},  # a key that is not a string
])
def test_what_orjson_refuses_or_may_misread_gets_json_dumps_bytes(value):
    """canonical_bytes is orjson's bytes where orjson is sure, json.dumps's elsewhere:
    the same bytes as ever, for every value."""
    import json

    expected = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    assert canonical_bytes(value) == expected


@pytest.mark.parametrize("value", [float("nan"), {"a": [float("inf")]}, {"a": -float("inf")}])
def test_canonical_refuses_nan_and_infinities(value):
    """orjson would write null for them: a value must never change on its way to bytes."""
    with pytest.raises(InputError, match="cannot be canonicalised"):
        canonical_bytes(value)


def test_canonical_bytes_take_the_memory_of_their_length():
    """Bodies are held a batch at a time on import: each must cost its length, not the
    4 KB buffer orjson writes into (50,000 bodies: 201 MB instead of 18)."""
    import subprocess
    import sys

    script = """
import resource
from ledger.canonical import canonical_bytes
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
held = [canonical_bytes({"text": "claim %d" % n, "asserted_by": ["ab" * 32]}) for n in range(50_000)]
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""
    grown_mb = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout)
    assert grown_mb < 50  # ~12 MB; orjson's own objects: ~200 MB


def test_canonical_rejects_lone_surrogate():
    with pytest.raises(InputError, match="surrogate"):
        canonical_bytes({"text": "\ud800"})


@pytest.mark.parametrize(
    "raw, message",
    [
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b'{"a": {"b": [{"c": 1, "d": 2, "c": 3}]}}', "duplicate key 'c'"),
        ('{"a": 1, "b": 2, "a": 1}', "duplicate key 'a'"),
        (b'\xef\xbb\xbf{"a": 1}', "starts with a byte order mark"),
        (b'{"a": 1.5}', "not an integer"),
        (b'{"a": NaN}', "NaN is not valid JSON"),
        (b'{"a": ', "malformed JSON"),
        (b'\xff{"a": 1}', "not valid UTF-8"),
        (b"[" * 100000, "nested too deeply"),
        # Compact text, which the fast parser reads first: the same refusals.
        (b'{"a":1,"a":2}', "duplicate key 'a'"),
        (b'{"a":{"b":1,"b":1}}', "duplicate key 'b'"),
        (b'{"a":[1,2.5]}', "number 2.5 is not an integer"),
        (b'{"a":1e3}', "number 1e3 is not an integer"),
        (b'{"a":-0.0}', "number -0.0 is not an integer"),
        (b"1.5", "number 1.5 is not an integer"),  # a float as the whole text
        (b" 1.0\n", "number 1.0 is not an integer"),
        (b'{"a":1}\x0c', "malformed JSON"),
        (b'{"a":"\xff"}', "not valid UTF-8"),
    ],
)
def test_loads_strict_rejects_with_one_line(raw, message):
    with pytest.raises(InputError, match=message) as info:
        loads_strict(raw)
    assert "\n" not in str(info.value)


def test_bodies_strategy_produces_schema_valid_bodies():
    from ledger.schema import entry_error

    @given(entries())
    @settings(max_examples=50, deadline=None)
    def check(entry):
        assert entry_error(entry) is None

    check()


_ = bodies  # re-exported for other tests


# Any JSON value but floats (which the ledger refuses), as ``json`` reads it back.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5), st.sampled_from(["orjson", "compact", "spaced"]))
@settings(max_examples=400, deadline=None)
def test_loads_strict_reads_every_layout_as_json_does(value, layout):
    """The fast parser for compact text and the general one agree with ``json``."""
    import json

    import orjson

    if layout == "orjson":
        try:
            raw = orjson.dumps(value)
        except orjson.JSONEncodeError:  # an integer past 64 bits, a lone surrogate
            raw = json.dumps(value).encode()
    elif layout == "compact":
        raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    else:
        raw = json.dumps(value).encode()
    try:
        expected = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        with pytest.raises(InputError, match="not valid UTF-8"):
            loads_strict(raw)
        return
    assert loads_strict(raw) == expected


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
@settings(max_examples=200, deadline=None)
def test_compact_text_takes_the_fast_parser(value):
    """What orjson writes, orjson reads: the fast path is taken, not just allowed."""
    import json

    import orjson

    from ledger.canonical import _NOT_COMPACT, _loads_compact

    try:
        raw = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return
    assert _loads_compact(raw) == value
    assert _loads_compact(raw + b"\n") == value
    if value:  # with white space after each colon, the general parser reads it
        assert _loads_compact(json.dumps(value).encode()) is _NOT_COMPACT


def test_compact_text_nested_deeper_than_orjson_writes_is_read_by_json():
    """orjson reads 300 levels of nesting but refuses to write them: the general parser
    reads such text (and json.loads agrees)."""
    import json

    raw = b'{"a":' + b"[" * 300 + b"]" * 300 + b"}"
    assert loads_strict(raw) == json.loads(raw)
