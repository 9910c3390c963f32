"""Validation of entries against the JSON Schemas shipped in ``ledger.schemas``.

The schemas are the single definition of a valid body.  Two validators read them:

- ``jsonschema_rs`` (Rust) compiles each kind's schema, its references inlined: about
  2 us an entry, which bulk import and verify need (``jsonschema`` takes about 100 us,
  fastjsonschema 20 us).  It decides validity.  Its regular expressions read ``$`` as
  ECMA-262 does (the end of the input), as the schemas mean it.
- ``jsonschema`` explains a failure in one line that says where the problem is.

``tests/test_schema.py`` proves the two agree on generated valid and broken entries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from .errors import InputError, shown

SCHEMA_PREFIX = "urn:claimledger:schemas:v1:"
KINDS = ("key", "source", "claim", "link", "assessment", "correction", "erasure")


@cache
def _documents() -> dict[str, dict[str, Any]]:
    docs = {}
    for name in ("common", "entry", *KINDS):
        text = resources.files("ledger.schemas").joinpath(f"{name}.json").read_text("utf-8")
        docs[name] = json.loads(text)
    return docs


def schema_document(name: str) -> dict[str, Any]:
    """The parsed schema document ``name`` (a kind, ``entry`` or ``common``)."""
    return _documents()[name]


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """``pattern`` as JSON Schema means it (ECMA-262): ``$`` is the end of the input.

    Python's ``re`` lets ``$`` match before a final newline, so ``"<hash>\n"`` would
    pass; the same entry could then be spelled two ways.
    """
    from jsonschema.exceptions import ValidationError

    if not isinstance(instance, str):
        return
    pattern = _ecma(pattern)
    if not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@cache
def _validator(kind: str) -> Any:
    # Imported here: jsonschema costs ~100 ms to import, which `--help` should not pay.
    from jsonschema import Draft202012Validator, validators
    from referencing import Registry

    from referencing.jsonschema import DRAFT202012

    # Without "$schema", jsonschema keeps our validator class (and its pattern rule)
    # inside referenced documents instead of switching to the stock one.
    registry = Registry().with_resources(
        (doc["$id"], DRAFT202012.create_resource({k: v for k, v in doc.items() if k != "$schema"}))
        for doc in _documents().values()
    )
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [{"$ref": SCHEMA_PREFIX + "entry"}],
        "properties": {"kind": {"const": kind}, "body": {"$ref": SCHEMA_PREFIX + kind}},
    }
    cls = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})
    return cls(schema, registry=registry)


def _where(error: Any) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "entry"


MESSAGE_LIMIT = 240  # characters of jsonschema's own message


def _describe(error: Any) -> str:
    # oneOf/anyOf failures explain themselves badly; name the deepest concrete failure.
    from jsonschema.exceptions import best_match

    if error.context:
        error = best_match(error.context)
    if error.validator == "pattern":
        what = error.schema.get("description") or error.parent and error.parent.schema.get("description")
        hint = f": expected {what[0].lower() if what[1:2].islower() else what[0]}{what[1:].rstrip('.')}" if what else ""
        return f"{_where(error)}: {shown(error.instance)} is not valid{hint}"
    limit = error.validator_value
    if error.validator == "maxLength" and isinstance(error.instance, str):
        return f"{_where(error)}: {len(error.instance):,} characters, more than the {limit:,} allowed"
    if error.validator == "maxItems" and isinstance(error.instance, list):
        return f"{_where(error)}: {len(error.instance):,} items, more than the {limit:,} allowed"
    # jsonschema's messages quote the whole value: a 100 KB field would make a 100 KB line.
    message = error.message.replace(repr(error.instance), shown(error.instance))
    return f"{_where(error)}: {message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT - 3] + '...'}"


def _ecma(pattern: str) -> str:
    """A pattern with ECMA-262's ``$`` (end of input) spelled for Python's ``re``."""
    return pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern


def _inline(node: Any, doc: dict[str, Any], *, names: bool = False) -> Any:
    """``node`` with every ``$ref`` into our documents replaced by its target, recursively.

    With ``names``, ``node`` maps property names to schemas (a ``properties`` value):
    its keys are names, not keywords, and are all kept.
    """
    if isinstance(node, list):
        return [_inline(item, doc) for item in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {name: _inline(schema, doc) for name, schema in node.items()}
    if "$ref" in node:
        base, _, fragment = node["$ref"].partition("#")
        target_doc = _documents()[base.removeprefix(SCHEMA_PREFIX)] if base else doc
        target: Any = target_doc
        for part in fragment.split("/")[1:]:
            target = target[part]
        siblings = {k: v for k, v in node.items() if k not in ("$ref", "description")}
        resolved = _inline(target, target_doc)
        return {"allOf": [resolved, _inline(siblings, doc)]} if siblings else resolved
    skip = ("$id", "$schema", "$defs", "title", "description")
    return {k: _inline(v, doc, names=(k == "properties")) for k, v in node.items() if k not in skip}


@cache
def _fast_validator(kind: str) -> Callable[[Any], bool]:
    """``is_valid`` of the compiled schema of a whole ``kind`` entry."""
    import jsonschema_rs

    docs = _documents()
    schema = _inline(docs["entry"], docs["entry"])
    schema["properties"] = {**schema["properties"], "kind": {"const": kind}, "body": _inline(docs[kind], docs[kind])}
    return jsonschema_rs.Draft202012Validator(schema).is_valid


@cache
def _fast_body_validator(kind: str) -> Callable[[Any], bool]:
    """``is_valid`` of the compiled schema of a ``kind`` body alone (bulk import checks
    bodies before it builds their envelopes, which are correct by construction)."""
    import jsonschema_rs

    docs = _documents()
    return jsonschema_rs.Draft202012Validator(_inline(docs[kind], docs[kind])).is_valid


def entry_error(entry: Any) -> str | None:
    """Return why a signed entry (envelope + body) breaks its schema, or None if valid."""
    if not isinstance(entry, dict):
        return "entry: not a JSON object"
    kind = entry.get("kind")
    if kind not in KINDS:
        return f"kind: {shown(kind)} is not one of {', '.join(KINDS)}"
    try:
        if _fast_validator(kind)(entry):
            return None
    except (ValueError, RecursionError):  # text that is not unicode, or nested too deeply
        pass
    return _explain(_validator(kind), entry)


@cache
def integer_fields(kind: str) -> tuple[str, ...]:
    """The body fields whose schema asks for an integer.

    JSON Schema counts 2.0 as an integer, so a float can pass there, and only there:
    every other field asks for a string, an enum of strings, an object or a list.  A
    caller of the library must be stopped before such a float is written.
    """
    docs = _documents()
    properties = _inline(docs[kind], docs[kind]).get("properties", {})
    return tuple(name for name, schema in properties.items() if _asks_for_integer(schema))


def _asks_for_integer(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    kinds = schema.get("type")
    if kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds):
        return True
    return any(_asks_for_integer(part) for key in ("allOf", "anyOf", "oneOf") for part in schema.get(key, ()))


def body_valid(kind: str, body: Any) -> bool:
    """Whether ``body`` meets the ``kind`` body schema; ``entry_error`` says why not."""
    try:
        return _fast_body_validator(kind)(body)
    except (ValueError, RecursionError):
        return False


def _explain(validator: Any, instance: Any, only: str | None = None) -> str:
    """One line naming the failure jsonschema finds best (``only``: within that member)."""
    from jsonschema.exceptions import best_match

    try:
        errors = validator.iter_errors(instance)
        if only is not None:
            errors = (e for e in errors if e.absolute_path and e.absolute_path[0] == only)
        error = best_match(errors)
    except RecursionError:
        return "entry: nested too deeply"
    return _describe(error) if error is not None else "entry: does not match its schema"


def validate_entry(entry: Any) -> None:
    """Raise InputError naming the first schema violation of a signed entry."""
    problem = entry_error(entry)
    if problem is not None:
        raise InputError(problem)
