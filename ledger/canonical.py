"""Canonical bytes: the one place that turns values into the bytes we hash and sign.

The format is RFC 8785 (JSON Canonicalization Scheme).  ``rfc8785.dumps`` is the
reference; ``canonical_bytes`` takes a faster route that yields the same bytes for
every value the ledger admits: objects with ASCII keys, strings, integers in the I-JSON
range, booleans and null.  Floats never get this far because ``loads_strict`` refuses
them, and the schemas admit no floats or non-ASCII keys.  ``tests/test_canonical.py``
proves the two byte-identical on generated entries.

The route is orjson with sorted keys: compact, UTF-8, the same escapes as RFC 8785
(``\\u00XX`` in lowercase hex for the control characters without a short form,
nothing else escaped), about 7 times ``json.dumps``'s speed, and every entry is
canonicalised when it is imported and again when it is verified.  What orjson refuses
(an integer past 2**53 - 1, a lone surrogate, a key that is not a string), and whatever
it writes with a ``null`` in it (NaN comes out so), goes through ``json.dumps``, which
gives the bytes or the error it always gave.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from .errors import InputError, shown

MAX_SAFE_INTEGER = 2**53 - 1  # RFC 8785 / I-JSON (RFC 7493) integer range

_fast = orjson.dumps
_FAST_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER  # strict: past 2**53 - 1 it refuses
_encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
).encode


def canonical_bytes(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value`` (ledger-admitted values)."""
    try:
        fast = _fast(value, option=_FAST_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: json.dumps decides, as it always did
        pass
    else:
        if b"null" not in fast:  # orjson writes NaN and infinities as null; json.dumps refuses them
            # A copy of the right size: orjson's own object keeps a 4 KB allocation, so
            # 50,000 bodies held for a batch took 201 MB, not 18.
            return bytes(memoryview(fast))
    try:
        return _encode(value).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate cannot be UTF-8
        raise InputError("text holds an unpaired surrogate, which is not valid unicode") from exc
    except (TypeError, ValueError) as exc:
        raise InputError(f"value cannot be canonicalised: {exc}") from exc


def _no_float(text: str) -> Any:
    raise InputError(f"number {text} is not an integer: bodies hold integers only")


def _no_constant(text: str) -> Any:
    raise InputError(f"{text} is not valid JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)  # in C; only an object with a repeated key comes out shorter
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InputError(f"duplicate key {shown(key)} in JSON object")
            seen.add(key)
    return obj


# Built once: json.loads with hooks builds a new decoder on every call, and a bulk
# import parses every line (this way 2.5 us a line instead of 3.7).
_strict_decode = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_float=_no_float, parse_constant=_no_constant
).decode


def loads_strict(data: bytes | str) -> Any:
    """Parse JSON as the ledger admits it: UTF-8, no duplicate keys, floats or NaN.

    Raises InputError with one line saying what is wrong.
    """
    if isinstance(data, bytes):
        compact = _loads_compact(data)
        if compact is not _NOT_COMPACT:
            return compact
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        if text.startswith("\ufeff"):  # json.loads says so too; the bare decoder would not
            raise InputError("malformed JSON: it starts with a byte order mark (U+FEFF); save it as UTF-8 without one")
        return _strict_decode(text)
    except UnicodeDecodeError as exc:
        raise InputError(f"input is not valid UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise InputError("malformed JSON: nested too deeply") from exc
    except ValueError as exc:  # e.g. an integer literal past Python's digit limit
        raise InputError(f"malformed JSON: {str(exc).splitlines()[0]}") from exc


_NOT_COMPACT = object()
_JSON_SPACE = b" \t\n\r"
# A number with a fraction or an exponent comes right after one of ``:[,`` and JSON's
# white space, outside strings (inside them this may match too, which only costs speed),
# or it is the whole text.
_MAY_HOLD_FLOAT = re.compile(rb"[:\[,][ \t\n\r]*-?[0-9]+[.eE]")
_NUMBER_START = frozenset(b"-0123456789")


def _loads_compact(data: bytes) -> Any:
    """The value of JSON text that orjson writes back byte for byte, or _NOT_COMPACT.

    Compact JSON with UTF-8 left unescaped is what jq -c, JavaScript's JSON.stringify,
    serde_json and orjson write, one record a line.  orjson parses it about three times
    as fast as ``json`` with the hook that finds duplicate keys.  A text orjson writes
    back unchanged from the value it read has no repeated key (the value would keep one
    of them and come out shorter) and is valid JSON as both parsers read it, so it means
    the same to both; with no number that has a fraction or an exponent, it has no
    float.  Any other text (white space between tokens, escapes orjson would not write,
    a float, an integer past 64 bits, an error) gets the general parser and its message.
    """
    text = data.strip(_JSON_SPACE)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _NOT_COMPACT
    if text[0] in _NUMBER_START or _MAY_HOLD_FLOAT.search(text) is not None:
        return _NOT_COMPACT
    try:
        if orjson.dumps(value) != text:
            return _NOT_COMPACT
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (it reads deeper)
        return _NOT_COMPACT
    return value


def loads_stored(data: bytes) -> Any:
    """Parse stored entry bytes quickly; canonical re-encoding then catches duplicates.

    A stored entry is trusted to be nothing: whatever this returns is re-encoded and
    compared byte for byte with ``data`` by the verifier.  Bytes that are not UTF-8 or
    not JSON raise ValueError; JSON an entry cannot hold (a float, NaN, nesting deeper
    than Python's parser goes), InputError.
    """
    try:
        return _stored_decode(data.decode("utf-8"))
    except RecursionError:
        raise InputError("JSON nested too deeply to parse") from None


# Built once: json.loads with hooks builds a new decoder on every call.
_stored_decode = json.JSONDecoder(parse_float=_no_float, parse_constant=_no_constant).decode
