"""Entry bytes: the spliced signature equals canonicalising the whole signed entry."""

from __future__ import annotations

from hypothesis import given, settings

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
