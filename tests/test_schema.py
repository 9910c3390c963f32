"""The compiled validator (jsonschema_rs) and jsonschema agree on every entry we try."""

from __future__ import annotations

import copy

from hypothesis import given, settings, strategies as st

from ledger.schema import _fast_validator, _validator, body_valid, entry_error

from .strategies import entries


def both(entry: dict) -> tuple[bool, bool]:
    kind = entry["kind"]
    try:
        fast = _fast_validator(kind)(entry)
    except ValueError:
        fast = False
    return fast, _validator(kind).is_valid(entry)


@given(entries())
@settings(max_examples=300, deadline=None)
def test_schema_validators_accept_generated_entries(entry):
    assert both(entry) == (True, True)
    assert body_valid(entry["kind"], entry["body"])


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON value."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


MUTANTS = [
    None, True, False, 0, -1, 7, 2**53, 1.0, "", "x", "\n", "a" * 20001, [], {}, ["ab" * 32], {"commitment": "ab" * 32},
    {"commitment": "AB" * 32}, "ab" * 32 + "\n", "2025-02-30", "2025-11-01T10:00:00.5Z", "claimledger+x",
]


@given(entries(), st.data())
@settings(max_examples=600, deadline=None)
def test_schema_validators_agree_on_mutated_entries(entry, data):
    mutated = copy.deepcopy(entry)
    paths = [p for p, _ in _paths(mutated) if p and p[0] != "kind"]
    path = data.draw(st.sampled_from(paths))
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    parent = mutated
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[data.draw(st.sampled_from(["extra", "Name", "sig", "commitment"]))] = data.draw(st.sampled_from(MUTANTS))
    else:
        parent[last] = data.draw(st.sampled_from(MUTANTS))
    fast, reference = both(mutated)
    assert fast == reference, (path, action, mutated)
    if path[0] == "body" and "body" in mutated and (len(path) > 1 or action == "replace"):  # body alone decides
        assert body_valid(mutated["kind"], mutated["body"]) == reference, (path, action, mutated)


def test_entry_error_explains_in_one_line():
    bad = {"v": 1, "log": "a.example/x", "seq": 0, "prev": "00" * 32, "recorded_at": "2026-11-26T13:22:33Z",
           "kind": "source", "body": {"name": "x", "type": "blog"}, "signer": "00" * 32, "sig": "00" * 64}
    message = entry_error(bad)
    assert message.startswith("body.type: 'blog' is not one of") and "\n" not in message
    bad["v"] = True
    assert entry_error(bad) is not None


def test_reference_fields_by_kind_follow_the_schemas():
    from ledger.rules import _LISTS, _LISTS_BY_KIND, _SINGLE, _SINGLE_BY_KIND
    from ledger.schema import KINDS, schema_document

    for kind in KINDS:
        names = set(schema_document(kind).get("properties", {}))
        for branch in schema_document(kind).get("oneOf", []) + schema_document(kind).get("anyOf", []):
            names |= set(branch.get("properties", {}))
        assert _SINGLE_BY_KIND[kind] == tuple(n for n in _SINGLE if n in names), kind
        assert _LISTS_BY_KIND.get(kind, ()) == tuple(n for n in _LISTS if n in names), kind
