"""Entry bytes: the spliced signature equals canonicalising the whole signed entry."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from ledger.canonical import canonical_bytes
from ledger.entry import envelope_of, signed_message, with_signature

from .strategies import entries


@given(entries())
@settings(max_examples=300, deadline=None)
def test_with_signature_equals_canonical_of_signed_entry(entry):
    envelope = envelope_of(entry)
    assert with_signature(canonical_bytes(envelope), entry["sig"]) == canonical_bytes(entry)


@given(entries())
@settings(max_examples=300, deadline=None)
def test_signed_message_equals_canonical_of_envelope(entry):
    assert signed_message(canonical_bytes(entry), entry["sig"]) == canonical_bytes(envelope_of(entry))


def test_make_entry_signature_verifies_over_envelope(ledger, signer):
    from ledger.keys import verify_signature

    entry = ledger.append("source", {"name": 'a "signer":"x" in text', "type": "person"}, signer=signer)
    envelope = canonical_bytes(envelope_of(entry.value))
    assert entry.data == canonical_bytes(entry.value)
    assert verify_signature(public_key=signer.public_key, signature=bytes.fromhex(entry.value["sig"]), message=envelope)


@given(entries())
@settings(max_examples=300, deadline=None)
def test_assembled_envelope_and_content_equal_rfc8785(entry):
    import rfc8785

    from ledger.entry import assemble_envelope, content_bytes

    body_bytes = canonical_bytes(entry["body"])
    assembled = assemble_envelope(
        body_bytes=body_bytes, kind=entry["kind"], origin=entry["log"], prev_hex=entry["prev"],
        recorded_at=entry["recorded_at"], seq=entry["seq"], signer_hex=entry["signer"],
    )
    assert assembled == rfc8785.dumps(envelope_of(entry))
    assert content_bytes(entry["kind"], body_bytes) == rfc8785.dumps({"kind": entry["kind"], "body": entry["body"]})


@given(entries(), st.from_regex(r"\A[\x21-\x2a\x2c-\x7e]{1,40}\Z"))
@settings(max_examples=200, deadline=None)
def test_assembled_envelope_escapes_any_origin(entry, origin):
    import rfc8785

    from ledger.entry import assemble_envelope

    entry = {**entry, "log": origin}  # an origin may hold '"' and '\\'
    assembled = assemble_envelope(
        body_bytes=canonical_bytes(entry["body"]), kind=entry["kind"], origin=origin, prev_hex=entry["prev"],
        recorded_at=entry["recorded_at"], seq=entry["seq"], signer_hex=entry["signer"],
    )
    assert assembled == rfc8785.dumps(envelope_of(entry))


@given(entries())
@settings(max_examples=300, deadline=None)
def test_content_cut_from_entry_bytes_equals_rfc8785(entry):
    import rfc8785

    from ledger.entry import content_of

    assert content_of(canonical_bytes(entry), entry["kind"]) == rfc8785.dumps({"kind": entry["kind"], "body": entry["body"]})
