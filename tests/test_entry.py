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


def test_recorded_bound_is_utc_to_the_second():
    from ledger.entry import recorded_bound

    assert recorded_bound("2025-11-03", end=False) == "2025-11-03T00:00:00Z"
    assert recorded_bound(" 2025-11-03 ", end=True) == "2025-11-03T23:59:59Z"
    assert recorded_bound("2025-11-03T09:05:00Z", end=True) == "2025-11-03T09:05:00Z"
    assert recorded_bound("2025-11-03T01:05:00+02:00", end=False) == "2025-11-02T23:05:00Z"
    assert recorded_bound("2025-11-03T09:05:00", end=False) == "2025-11-03T09:05:00Z"  # no offset: UTC
    # recorded_at has whole seconds: 09:05:00.5 lies after 09:05:00 and before 09:05:01
    assert recorded_bound("2025-11-03T09:05:00.5Z", end=False) == "2025-11-03T09:05:01Z"
    assert recorded_bound("2025-11-03T09:05:00.5Z", end=True) == "2025-11-03T09:05:00Z"
    for bad in ("yesterday", "", "2025-02-30", "2025-11-03T24:01:00Z", "\udcff"):
        try:
            recorded_bound(bad, end=False)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was taken as a time")


@given(entries(), st.from_regex(r"\A[\x21-\x2a\x2c-\x7e]{1,40}\Z"))
@settings(max_examples=300, deadline=None)
def test_envelopes_of_a_bulk_import_equal_rfc8785(entry, origin):
    """``Envelopes``, which a bulk import signs with, gives the bytes of the general
    functions, and so of RFC 8785; one instance serves entries of every kind."""
    import rfc8785

    from ledger.entry import Envelopes

    entry = {**entry, "log": origin}
    envelopes = Envelopes(origin, entry["signer"])
    for kind in (entry["kind"], "source", entry["kind"]):  # a kind's parts, made once, serve again
        this = {**entry, "kind": kind}
        envelope = envelopes.envelope(canonical_bytes(this["body"]), kind, this["prev"], this["recorded_at"], this["seq"])
        assert envelope == rfc8785.dumps(envelope_of(this))
        assert envelopes.signed(envelope, this["sig"]) == rfc8785.dumps(this)


def test_signing_gives_the_signature_sign_gives(signer):
    from ledger.keys import verify_signature

    sign = signer.signing()
    # Past the buffer it starts with (64 KiB), and back: the same signatures, which are
    # RFC 8032's, so OpenSSL's too.
    for message in (b"", b"entry", bytes(range(256)) * 5, b"x" * 70_000, b"y" * 200_000, b"entry"):
        assert sign(message) == signer.sign(message) == signer.private_key.sign(message)
        assert verify_signature(public_key=signer.public_key, signature=sign(message), message=message)


def test_signing_falls_back_to_pynacls_wrapper_without_its_binding(signer, monkeypatch):
    """Were PyNaCl to move the binding ``signing`` calls, it signs through PyNaCl's
    public wrapper instead: the same signatures."""
    import sys

    import nacl.bindings  # noqa: F401 -- loaded before its binding goes missing, as it would be

    monkeypatch.setitem(sys.modules, "nacl._sodium", None)  # import nacl._sodium: ImportError
    sign = signer.signing()
    assert sign.__name__ == "<lambda>"  # the wrapper's path, not the buffer's
    for message in (b"", b"entry", b"x" * 70_000):
        assert sign(message) == signer.private_key.sign(message)
