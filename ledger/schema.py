"""Validation of entries against the JSON Schemas shipped in ``ledger.schemas``.

The schemas are the single definition of a valid body; this module only loads them and
turns jsonschema's findings into one line that says where the problem is.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from .errors import InputError

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


@cache
def _validator(kind: str) -> Any:
    # Imported here: jsonschema costs ~100 ms to import, which `--help` should not pay.
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    docs = _documents()
    registry = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc)) for doc in docs.values()
    )
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "allOf": [{"$ref": SCHEMA_PREFIX + "entry"}],
        "properties": {"kind": {"const": kind}, "body": {"$ref": SCHEMA_PREFIX + kind}},
    }
    return Draft202012Validator(schema, registry=registry)


def _where(error: Any) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "entry"


def _describe(error: Any) -> str:
    # oneOf/anyOf failures explain themselves badly; name the deepest concrete failure.
    from jsonschema.exceptions import best_match

    if error.context:
        error = best_match(error.context)
    if error.validator == "pattern":
        what = error.schema.get("description") or error.parent and error.parent.schema.get("description")
        hint = f": expected {what[0].lower()}{what[1:].rstrip('.')}" if what else ""
        return f"{_where(error)}: {_short(error.instance)} is not valid{hint}"
    if error.validator == "additionalProperties":
        return f"{_where(error)}: {error.message}"
    return f"{_where(error)}: {error.message}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def entry_error(entry: Any) -> str | None:
    """Return why a signed entry (envelope + body) breaks its schema, or None if valid."""
    if not isinstance(entry, dict):
        return "entry: not a JSON object"
    kind = entry.get("kind")
    if kind not in KINDS:
        return f"kind: {kind!r} is not one of {', '.join(KINDS)}"
    validator = _validator(kind)
    if validator.is_valid(entry):
        return None
    from jsonschema.exceptions import best_match

    return _describe(best_match(validator.iter_errors(entry)))


def validate_entry(entry: Any) -> None:
    """Raise InputError naming the first schema violation of a signed entry."""
    problem = entry_error(entry)
    if problem is not None:
        raise InputError(problem)
