"""Tests for ledger.note: signed notes, checkpoints and witness cosignatures.

Known answers come from public sources, named where they are defined below; everything
else is checked by round trips and by systematically tampered copies.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InputError, VerificationError
from ledger.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    MAX_SIGNATURES,
    Checkpoint,
    Signature,
    Signer,
    Verifier,
    compute_key_id,
    cosign,
    cosignature_line,
    cosignature_message,
    format_checkpoint,
    format_signer_key,
    format_verifier_key,
    open_cosignature,
    open_note,
    parse_checkpoint,
    parse_signer_key,
    parse_verifier_key,
    sign_note,
)

# --- public vectors ---------------------------------------------------------------------
# (A) golang.org/x/mod sumdb/note, github.com/golang/mod
#     @ fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db, sumdb/note/note_test.go (TestSign, TestOpen,
#     TestNewVerifier, TestNewSigner) and example_test.go.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
    "RZb6KE6RyyBwJnAM=\n"
)
GO_ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox"
    "33WWd1RvMc+QQ=\n"
)
GO_NOTE = GO_TEXT + "\n" + GO_PETER_SIG
GO_NOTE_TWO_SIGS = GO_NOTE + GO_ENOCH_SIG

# (B) C2SP signed-note spec example, github.com/C2SP/C2SP
#     @ 5ba5ee830903e91240fc6f9f3a7a9293d49e69c9, signed-note.md "Example".
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKu"
    "wHjG1Yu72IneyaQM=\n"
)

# (C) A real sum.golang.org checkpoint, quoted in github.com/transparency-dev/formats
#     log/note_test.go (TestSumDBNoteParsing), with sum.golang.org's published key.
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_TEXT = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n"
SUMDB_NOTE = (
    SUMDB_TEXT + "\n"
    "— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimW"
    "EPWL+o3GeoWwOoAw=\n"
)

# (D) A real checkpoint of a staging CT log with an Ed25519 log signature, an RFC 6962 STH
#     signature (type 0x05) and four witness cosignatures, quoted in github.com/florolf/tlog-scales
#     tests/test_signing.py (TestCheckpointSigning) with the log's and the remora.n621.de
#     witness's keys; that witness key (type 0x04) is also in github.com/transparency-dev/formats
#     note/note_cosigv1_test.go (TestCoSigV1NewVerifier).
CT_LOG_VKEY = (
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
)
CT_WITNESS_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
CT_TEXT = (
    "arche2025h1.staging.ct.transparency.dev\n"
    "1432088532\n"
    "U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n"
)
CT_NOTE = CT_TEXT + "\n" + "".join(
    f"— {line}\n"
    for line in (
        "arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGR"
        "EPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=",
        "arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzb"
        "C3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=",
        "transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzw"
        "Z2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==",
        "witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEc"
        "xZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==",
        "remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9"
        "sXTynk5XeU/zZ0WBxtqB0DrAWfBw==",
        "witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJm"
        "IY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==",
    )
)

# (E) The c2sp.org/tlog-cosignature example checkpoint; no keys are published for it.
COSIG_SPEC_TEXT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
COSIG_SPEC_NOTE = (
    COSIG_SPEC_TEXT + "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcy"
    "v2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2"
    "oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)

SHARED_VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors"

# --- our own keys: fixed seeds keep the tests deterministic and fast ---------------------
LOG = Signer("log.example/claims", bytes(range(32)))
OTHER_LOG = Signer("other.example/log", bytes(range(1, 33)))
WITNESS_SEED = bytes(range(100, 132))
WITNESS = Verifier(
    "witness.example/w1",
    Ed25519PrivateKey.from_private_bytes(WITNESS_SEED).public_key(),
    alg=ALG_COSIGNATURE_V1,
)
CHECKPOINT = Checkpoint("log.example/claims", 42, bytes(range(32)))


def signed_checkpoint() -> str:
    return sign_note(format_checkpoint(CHECKPOINT), signers=[LOG])


def sig_line_data(line: str) -> bytes:
    return base64.b64decode(line.rsplit(" ", 1)[1])


def with_sig_data(line: str, data: bytes) -> str:
    return line.rsplit(" ", 1)[0] + " " + base64.b64encode(data).decode() + "\n"


def respell_padding_bits(data: str) -> str:
    """Set an unused trailing bit: the same bytes, spelled non-canonically."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stripped = data.rstrip("=")
    assert stripped != data, "needs padding, else there are no unused bits"
    last = alphabet[alphabet.index(stripped[-1]) | 0x01]
    return stripped[:-1] + last + data[len(stripped) :]


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --- vectors ----------------------------------------------------------------------------


def test_vectors_match_shared_file() -> None:
    path = SHARED_VECTORS / "signed_note_vector.txt"
    if not path.exists():
        pytest.skip(f"{path} not present")
    fields = dict(
        re.findall(r"-----BEGIN (\S+)-----\n(.*?)-----END \1-----\n", path.read_text("utf-8"), re.S)
    )
    assert fields == {
        "A.signer_key": GO_SKEY + "\n",
        "A.verifier_key": GO_VKEY + "\n",
        "A.second_verifier_key": GO_ENOCH_VKEY + "\n",
        "A.message": GO_TEXT,
        "A.signed_note": GO_NOTE,
        "A.signed_note_two_sigs": GO_NOTE_TWO_SIGS,
        "B.verifier_key": SPEC_VKEY + "\n",
        "B.signed_note": SPEC_NOTE,
        "C.verifier_key": SUMDB_VKEY + "\n",
        "C.signed_note": SUMDB_NOTE,
    }


def test_parse_verifier_key_go_vector() -> None:
    verifier = parse_verifier_key(GO_VKEY)
    assert (verifier.name, verifier.key_id.hex(), verifier.alg) == (
        "PeterNeumann",
        "c74f20a3",
        ALG_ED25519,
    )
    assert compute_key_id("PeterNeumann", ALG_ED25519, verifier.public_key).hex() == "c74f20a3"
    assert format_verifier_key(verifier) == GO_VKEY


def test_parse_signer_key_go_vector() -> None:
    signer = parse_signer_key(GO_SKEY)
    assert (signer.name, signer.key_id.hex()) == ("PeterNeumann", "c74f20a3")
    assert signer.verifier() == parse_verifier_key(GO_VKEY)
    assert format_signer_key(signer) == GO_SKEY


def test_sign_note_matches_go_vector() -> None:
    # Ed25519 is deterministic, so our signature must equal Go's byte for byte.
    assert sign_note(GO_TEXT, signers=[parse_signer_key(GO_SKEY)]) == GO_NOTE


def test_open_note_go_vector() -> None:
    opened = open_note(GO_NOTE, verifiers=[parse_verifier_key(GO_VKEY)])
    assert opened.text == GO_TEXT
    assert [(s.name, s.key_id.hex()) for s in opened.verified] == [("PeterNeumann", "c74f20a3")]
    assert opened.verified[0].line() == GO_PETER_SIG
    assert opened.unverified == []


def test_open_note_second_signer_unverified_without_its_key() -> None:
    peter = parse_verifier_key(GO_VKEY)
    text, verified, unverified = open_note(GO_NOTE_TWO_SIGS, verifiers=[peter])
    assert text == GO_TEXT
    assert [s.line() for s in verified] == [GO_PETER_SIG]
    assert [s.line() for s in unverified] == [GO_ENOCH_SIG]
    assert unverified[0].key_id.hex() == "af0cfe78"


def test_open_note_verifies_both_go_signers() -> None:
    verifiers = [parse_verifier_key(GO_VKEY), parse_verifier_key(GO_ENOCH_VKEY)]
    opened = open_note(GO_NOTE_TWO_SIGS, verifiers=verifiers)
    assert [s.name for s in opened.verified] == ["PeterNeumann", "EnochRoot"]
    assert opened.unverified == []


def test_open_note_without_known_key_fails() -> None:
    with pytest.raises(VerificationError, match="no signature by a known key.*PeterNeumann"):
        open_note(GO_NOTE_TWO_SIGS, verifiers=[])


def test_open_note_c2sp_spec_example() -> None:
    opened = open_note(SPEC_NOTE, verifiers=[parse_verifier_key(SPEC_VKEY)])
    assert opened.text == "This is an example message.\n"
    assert opened.verified[0].key_id.hex() == "530d903a"


def test_open_note_sum_golang_org_checkpoint() -> None:
    opened = open_note(SUMDB_NOTE, verifiers=[parse_verifier_key(SUMDB_VKEY)])
    checkpoint = parse_checkpoint(opened.text)
    # The origin has spaces and differs from the key name: both only SHOULDs in the spec.
    assert checkpoint == Checkpoint(
        "go.sum database tree",
        6476701,
        base64.b64decode("mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk="),
        [],
    )
    assert format_checkpoint(checkpoint) == SUMDB_TEXT


def test_open_note_ignores_signature_sharing_key_id_but_not_name() -> None:
    # The tlog-cosignature example's log line reuses sum.golang.org's key id (033de0ae)
    # under another name: it is an unknown key, so it must be ignored, not verified.
    with pytest.raises(VerificationError, match=r"example\.com/behind-the-sofa\+033de0ae"):
        open_note(COSIG_SPEC_NOTE, verifiers=[parse_verifier_key(SUMDB_VKEY)])


def test_open_note_real_cosigned_checkpoint() -> None:
    log, witness = parse_verifier_key(CT_LOG_VKEY), parse_verifier_key(CT_WITNESS_VKEY)
    opened = open_note(CT_NOTE, verifiers=[log, witness])
    assert [s.name for s in opened.verified] == [log.name, witness.name]
    # The RFC 6962 STH line (type 0x05) shares the log's name but not its key id.
    assert [s.name for s in opened.unverified] == [
        log.name,
        "transparency.dev/DEV:witness-little-garden",
        "witness1.smartit.nu/witness1",
        "witness.stagemole.eu",
    ]
    checkpoint = parse_checkpoint(opened.text)
    assert (checkpoint.origin, checkpoint.size) == (log.name, 1432088532)


def test_open_cosignature_real_witness() -> None:
    witness = parse_verifier_key(CT_WITNESS_VKEY)
    assert (witness.alg, witness.key_id.hex()) == (ALG_COSIGNATURE_V1, "da77ade7")
    cosignature = open_cosignature(CT_NOTE, verifier=witness)
    assert cosignature.timestamp == 0x6A122120 == 1779573024
    assert cosignature.key_id.hex() == "da77ade7"


def test_open_cosignature_real_witness_rejects_changed_size() -> None:
    tampered = CT_NOTE.replace("\n1432088532\n", "\n1432088533\n", 1)
    with pytest.raises(VerificationError, match="invalid signature for key remora.n621.de"):
        open_cosignature(tampered, verifier=parse_verifier_key(CT_WITNESS_VKEY))


def test_cosignature_message_matches_spec_example() -> None:
    assert cosignature_message(COSIG_SPEC_TEXT, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n"
        b"example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_cosign_keeps_spec_example_lines_and_their_framing() -> None:
    cosigned = cosign(COSIG_SPEC_NOTE, name=WITNESS.name, key=WITNESS_SEED, timestamp=1679315147)
    assert cosigned.startswith(COSIG_SPEC_NOTE)
    opened = open_note(cosigned, verifiers=[WITNESS])
    spec_witness = opened.unverified[1]
    # key id || 8-byte big-endian timestamp || 64-byte signature
    assert (spec_witness.name, spec_witness.key_id.hex()) == ("witness.example.com/w1", "8d66cf3f")
    assert len(spec_witness.signature) == 8 + 64
    assert int.from_bytes(spec_witness.signature[:8], "big") == 1679315147


# --- key strings (TestNewVerifier / TestNewSigner manglings from golang.org/x/mod) -------


def manglings(key: str) -> list[str]:
    substrings = [
        key[i:j] for i in range(len(key) + 1) for j in range(i + 1, len(key) + 1)
        if (i, j) != (0, len(key))
    ]
    bumped = [key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))]
    return substrings + bumped


def test_parse_verifier_key_rejects_go_manglings() -> None:
    accepted = []
    for mangled in manglings(GO_VKEY):
        try:
            parse_verifier_key(mangled)
        except InputError:
            continue
        accepted.append(mangled)
    assert accepted == []


@pytest.mark.parametrize(
    "vkey, message",
    [
        # Go's vectors: wrong length key and unknown algorithm, each with an adjusted key id.
        # Go's wrong-length key ends "EY==" (non-zero padding bits), so here it fails as
        # non-canonical base64; its canonical twin "EA==" (key id recomputed) fails on length.
        (
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
            "not base64",
        ),
        (
            "PeterNeumann+9df26f18+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEA==",
            "key is 36 bytes",
        ),
        ("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "unknown key type"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "key id mismatch"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "malformed"),
        ("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "malformed"),
        ("PeterNeumann+c74f20a3", "not base64"),
        ("", "malformed"),
    ],
)
def test_parse_verifier_key_rejects_bad_keys(vkey: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_verifier_key(vkey)


def test_parse_verifier_key_accepts_uppercase_key_id() -> None:
    verifier = parse_verifier_key(GO_VKEY.replace("c74f20a3", "C74F20A3"))
    assert format_verifier_key(verifier) == GO_VKEY


def test_parse_verifier_key_cosignature_type_round_trips() -> None:
    assert format_verifier_key(parse_verifier_key(CT_WITNESS_VKEY)) == CT_WITNESS_VKEY


def test_parse_signer_key_rejects_go_manglings() -> None:
    accepted = []
    for mangled in manglings(GO_SKEY):
        try:
            parse_signer_key(mangled)
        except InputError:
            continue
        accepted.append(mangled)
    assert accepted == []


def test_parse_signer_key_error_does_not_quote_the_secret() -> None:
    secret = GO_SKEY.split("+", 4)[4]
    for bad in (
        GO_SKEY.replace("c74f20a3", "c74f20a4"),
        GO_SKEY[:-1],
        GO_SKEY.replace("KEY", "KEX"),
        GO_SKEY.replace("PeterNeumann", "Peter Neumann"),
    ):
        with pytest.raises(InputError) as info:
            parse_signer_key(bad)
        message = str(info.value)
        assert not any(secret[i : i + 6] in message for i in range(len(secret) - 5))


def test_signer_repr_hides_private_key() -> None:
    signer = parse_signer_key(GO_SKEY)
    assert "AYEKFALV" not in repr(signer)
    assert signer.private_key.private_bytes_raw().hex() not in repr(signer)


def test_signer_key_cosignature_type_round_trips() -> None:
    signer = Signer("witness.example/w1", WITNESS_SEED, alg=ALG_COSIGNATURE_V1)
    assert parse_signer_key(format_signer_key(signer)) == signer
    assert signer.verifier() == WITNESS


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\u2003b", "a\nb"])
def test_signer_rejects_invalid_names(name: str) -> None:
    with pytest.raises(InputError, match="key name"):
        Signer(name, bytes(32))


def test_verifier_rejects_wrong_key_length() -> None:
    with pytest.raises(InputError, match="32 bytes"):
        Verifier("log.example", bytes(31))


# --- opening notes: Go's TestOpen cases, then tampering --------------------------------


@pytest.mark.parametrize(
    "note",
    [
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + GO_PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + GO_PETER_SIG,
        b"\xff" + (GO_TEXT + "\n" + GO_PETER_SIG).encode(),
        GO_TEXT + "\n" + GO_PETER_SIG.replace("PeterNeumann", "Bad Name")[:-1],
        GO_TEXT + "\n" + GO_PETER_SIG + "Unexpected line.\n",
    ],
    ids=["no-sigs", "blank-only", "no-final-newline", "control", "bad-utf8", "bad-name", "junk"],
)
def test_open_note_rejects_go_malformed_notes(note: str | bytes) -> None:
    with pytest.raises(VerificationError, match="^note: "):
        open_note(note, verifiers=[parse_verifier_key(GO_VKEY)])


def test_open_note_rejects_more_than_max_signatures() -> None:
    verifiers = [parse_verifier_key(GO_VKEY)]
    with pytest.raises(VerificationError, match="101 signature lines"):
        open_note(GO_TEXT + "\n" + GO_PETER_SIG * (MAX_SIGNATURES + 1), verifiers=verifiers)
    with pytest.raises(VerificationError, match="101 signature lines"):
        open_note(GO_TEXT + "\n" + GO_PETER_SIG * (MAX_SIGNATURES + 1), verifiers=[])
    opened = open_note(GO_TEXT + "\n" + GO_PETER_SIG * MAX_SIGNATURES, verifiers=verifiers)
    assert len(opened.verified) == 1


def test_open_note_rejects_invalid_signature_by_known_key() -> None:
    bad = GO_TEXT + "\n" + GO_PETER_SIG[:60] + "ABCD" + GO_PETER_SIG[60:]
    expected = r"invalid signature for key PeterNeumann\+c74f20a3"
    with pytest.raises(VerificationError, match=expected):
        open_note(bad, verifiers=[parse_verifier_key(GO_VKEY)])


def test_open_note_drops_repeated_lines() -> None:
    enoch_abcd = GO_ENOCH_SIG[:60] + "ABCD" + GO_ENOCH_SIG[60:]
    note = GO_TEXT + "\n" + GO_PETER_SIG * 2 + GO_ENOCH_SIG * 2 + enoch_abcd
    opened = open_note(note, verifiers=[parse_verifier_key(GO_VKEY)])
    assert [s.line() for s in opened.verified] == [GO_PETER_SIG]
    assert [s.line() for s in opened.unverified] == [GO_ENOCH_SIG, enoch_abcd]


def test_open_note_verifies_every_line_from_a_known_key() -> None:
    # Stricter than Go, which skips later lines from an already-seen key: the spec says a
    # signature from a known key MUST be verified.
    bad_second = GO_PETER_SIG[:60] + "ABCD" + GO_PETER_SIG[60:]
    with pytest.raises(VerificationError, match="invalid signature"):
        open_note(GO_NOTE + bad_second, verifiers=[parse_verifier_key(GO_VKEY)])


def test_open_note_accepts_bytes() -> None:
    opened = open_note(GO_NOTE.encode("utf-8"), verifiers=[parse_verifier_key(GO_VKEY)])
    assert opened.text == GO_TEXT


def test_sign_note_round_trips() -> None:
    note = sign_note("hello\n\nworld\n", signers=[LOG, OTHER_LOG])
    opened = open_note(note, verifiers=[LOG.verifier(), OTHER_LOG.verifier()])
    assert opened.text == "hello\n\nworld\n"
    assert [(s.name, s.key_id) for s in opened.verified] == [
        (LOG.name, LOG.key_id),
        (OTHER_LOG.name, OTHER_LOG.key_id),
    ]


def test_open_note_ignores_unknown_signature() -> None:
    note = sign_note("hello\n", signers=[LOG, OTHER_LOG])
    opened = open_note(note, verifiers=[LOG.verifier()])
    assert [s.name for s in opened.verified] == [LOG.name]
    assert [s.name for s in opened.unverified] == [OTHER_LOG.name]


def test_open_note_rejects_each_changed_text_byte() -> None:
    note = sign_note("claim 17: the sky is blue\n", signers=[LOG])
    text_length = len("claim 17: the sky is blue")
    for index in range(text_length):
        tampered = note[:index] + chr(ord(note[index]) ^ 0x01) + note[index + 1 :]
        with pytest.raises(VerificationError):
            open_note(tampered, verifiers=[LOG.verifier()])


def test_open_note_rejects_each_changed_signature_byte() -> None:
    text = "claim 17\n"
    line = sign_note(text, signers=[LOG])[len(text) + 1 :]
    data = sig_line_data(line)
    for index in range(len(data)):
        tampered = text + "\n" + with_sig_data(line, flip(data, index))
        # A changed key id makes the key unknown; a changed signature does not verify.
        expected = "no signature by a known key" if index < 4 else "invalid signature"
        with pytest.raises(VerificationError, match=expected):
            open_note(tampered, verifiers=[LOG.verifier()])


def test_open_note_rejects_wrong_key() -> None:
    impostor = Verifier(LOG.name, OTHER_LOG.public_key)
    with pytest.raises(VerificationError, match="no signature by a known key"):
        open_note(sign_note("hi\n", signers=[LOG]), verifiers=[impostor])


def test_open_note_rejects_wrong_name() -> None:
    note = sign_note("hi\n", signers=[LOG]).replace(LOG.name, "log.example/other")
    with pytest.raises(VerificationError, match="no signature by a known key"):
        open_note(note, verifiers=[LOG.verifier()])


def test_open_note_rejects_signature_forged_under_known_key_id() -> None:
    # An attacker's signature labelled with a trusted name and key id must fail, not be skipped.
    forged = Signature(LOG.name, LOG.key_id, OTHER_LOG.sign(b"hi\n"))
    with pytest.raises(VerificationError, match="invalid signature for key log.example/claims"):
        open_note("hi\n\n" + forged.line(), verifiers=[LOG.verifier()])


@pytest.mark.parametrize("alg", [ALG_ED25519, ALG_COSIGNATURE_V1])
def test_a_key_of_small_order_signs_nothing(alg: int) -> None:
    # The identity point as a key, R the identity and S zero: [S]B = R + [k]A holds for
    # every text, so a lenient verifier (OpenSSL's) takes this one signature for all of
    # them.  Notes are checked by the strict rules entries are (docs/FORMAT.md).
    identity = bytes([1]) + bytes(31)
    verifier = Verifier("log.example/degenerate", identity, alg=alg)
    signature = identity + bytes(32)
    if alg == ALG_COSIGNATURE_V1:
        signature = (1000).to_bytes(8, "big") + signature
    for text in ("hi\n", format_checkpoint(CHECKPOINT)):
        line = Signature(verifier.name, verifier.key_id, signature).line()
        with pytest.raises(VerificationError, match="invalid signature for key log.example/degenerate"):
            verifier.verify(text.encode(), signature)
        with pytest.raises(VerificationError, match="invalid signature"):
            open_note(text + "\n" + line, verifiers=[verifier])


def test_open_note_rejects_missing_trailing_newline() -> None:
    with pytest.raises(VerificationError, match="does not end with a newline"):
        open_note(sign_note("hi\n", signers=[LOG])[:-1], verifiers=[LOG.verifier()])


@pytest.mark.parametrize(
    "line, message",
    [
        ("-- {name} {data}", "em dash"),
        ("—{name} {data}", "em dash"),
        (" — {name} {data}", "em dash"),
        ("—  {data}", "invalid key name"),
        ("— {name}  {data}", "not base64"),
        ("— {name} {data} ", "not base64"),
        ("— {name} {data} extra", "not base64"),
        ("— {name}", "not base64"),
        ("— {name} {unpadded}", "not base64"),
        ("— {name} {data}=", "not base64"),
        ("— {name} AAAAAA==", "not base64"),  # a key id and nothing else
        ("— {name} AAAAAAE=", "no signature by a known key"),  # well-formed, unknown key id
        ("— a+b {data}", "invalid key name"),
        ("— {name}\u00a0{data}", "invalid key name"),
    ],
)
def test_open_note_rejects_malformed_signature_lines(line: str, message: str) -> None:
    good = sign_note("hi\n", signers=[LOG])
    data = good.rsplit(" ", 1)[1].rstrip("\n")
    bad_line = line.format(name=LOG.name, data=data, unpadded=data.rstrip("="))
    with pytest.raises(VerificationError, match=message):
        open_note("hi\n\n" + bad_line + "\n", verifiers=[LOG.verifier()])


def test_open_note_rejects_noncanonical_base64() -> None:
    good = sign_note("hi\n", signers=[LOG])
    data = good.rsplit(" ", 1)[1].rstrip("\n")
    respelled = respell_padding_bits(data)
    assert base64.b64decode(respelled) == base64.b64decode(data) and respelled != data
    with pytest.raises(VerificationError, match="not base64"):
        open_note(good.replace(data, respelled), verifiers=[LOG.verifier()])


def test_open_note_blank_line_among_signatures_moves_them_into_text() -> None:
    # Text ends at the last blank line, so an injected blank line changes the signed text.
    note = sign_note("hi\n", signers=[LOG, OTHER_LOG])
    text, lines = note.split("\n\n")
    first, second, _ = lines.split("\n")
    with pytest.raises(VerificationError, match="invalid signature"):
        open_note(f"{text}\n\n{first}\n\n{second}\n", verifiers=[OTHER_LOG.verifier()])


@pytest.mark.parametrize(
    "note",
    [
        "hi\r\n\n{sig}",
        "hi\n\n{sig}".replace("\n", "\r\n"),
        "h\ti\n\n{sig}",
        "h\x00i\n\n{sig}",
        "h\ud800i\n\n{sig}",
    ],
    ids=["cr", "crlf", "tab", "nul", "lone-surrogate"],
)
def test_open_note_rejects_control_characters_and_bad_utf8(note: str) -> None:
    sig = sign_note("hi\n", signers=[LOG]).split("\n\n")[1]
    with pytest.raises(VerificationError, match="^note: "):
        open_note(note.format(sig=sig), verifiers=[LOG.verifier()])


def test_open_note_refuses_two_keys_under_one_name_and_id() -> None:
    clash = Verifier(LOG.name, OTHER_LOG.public_key)
    object.__setattr__(clash, "key_id", LOG.key_id)  # a 32-bit id collision, by force
    note = sign_note("hi\n", signers=[LOG])
    with pytest.raises(InputError, match="ambiguous key"):
        open_note(note, verifiers=[LOG.verifier(), clash])
    assert open_note(note, verifiers=[LOG.verifier(), LOG.verifier()]).verified


# --- signing notes ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["abc", "", "a\r\n", "a\tb\n", "\ud800\n"])
def test_sign_note_rejects_invalid_text(text: str) -> None:
    with pytest.raises(InputError, match="^note: "):
        sign_note(text, signers=[LOG])


def test_sign_note_requires_a_signer() -> None:
    with pytest.raises(InputError, match="at least one signature"):
        sign_note("hi\n", signers=[])


def test_sign_note_refuses_cosigning_key() -> None:
    with pytest.raises(InputError, match="cosign"):
        sign_note("hi\n", signers=[Signer("w", WITNESS_SEED, alg=ALG_COSIGNATURE_V1)])


def test_sign_note_refuses_look_alike_signers() -> None:
    # Same shape (name, key_id, sign) but a 32-byte key id: the note would never verify.
    class LookAlike:
        name = LOG.name
        key_id = bytes(32)

        def sign(self, msg: bytes) -> bytes:
            return LOG.sign(msg)

    with pytest.raises(InputError, match="expected a note Signer, got LookAlike"):
        sign_note("hi\n", signers=[LookAlike()])  # type: ignore[list-item]
    note = sign_note("hi\n", signers=[LOG])
    with pytest.raises(InputError, match="expected a note Verifier"):
        open_note(note, verifiers=[LookAlike()])  # type: ignore[list-item]


def test_sign_note_signs_once_per_key() -> None:
    note = sign_note("hi\n", signers=[LOG, LOG])
    assert note.count("\u2014") == 1


def test_sign_note_text_may_look_like_signatures() -> None:
    text = "a\n\n" + GO_PETER_SIG + "\n"
    opened = open_note(sign_note(text, signers=[LOG]), verifiers=[LOG.verifier()])
    assert opened.text == text
    assert opened.unverified == []


NOTE_TEXTS = st.text(
    alphabet=st.one_of(st.characters(min_codepoint=0x20, codec="utf-8"), st.just("\n")),
    max_size=200,
).map(lambda text: text + "\n")


@given(text=NOTE_TEXTS)
def test_sign_note_open_note_round_trip_property(text: str) -> None:
    opened = open_note(sign_note(text, signers=[LOG, OTHER_LOG]), verifiers=[LOG.verifier()])
    assert opened.text == text
    assert [s.name for s in opened.verified] == [LOG.name]
    assert [s.name for s in opened.unverified] == [OTHER_LOG.name]


# --- checkpoints ------------------------------------------------------------------------


def test_format_checkpoint_round_trips() -> None:
    checkpoint = Checkpoint("example.com/log", 7, bytes(32), ["ext one", "ext+two"])
    text = format_checkpoint(checkpoint)
    root = base64.b64encode(bytes(32)).decode()
    assert text == f"example.com/log\n7\n{root}\next one\next+two\n"
    assert parse_checkpoint(text) == checkpoint


def test_parse_checkpoint_accepts_size_limits() -> None:
    root = base64.b64encode(bytes(32)).decode()
    assert parse_checkpoint(f"o\n0\n{root}\n").size == 0
    assert parse_checkpoint(f"o\n{2**64 - 1}\n{root}\n").size == 2**64 - 1


ROOT_B64 = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    "text, message",
    [
        (f"o\n1\n{ROOT_B64}", "does not end with a newline"),
        ("o\n1\n", "2 lines"),
        ("", "does not end with a newline"),
        (f"\n1\n{ROOT_B64}\n", "empty origin"),
        (f"o\n01\n{ROOT_B64}\n", "leading zeros"),
        (f"o\n00\n{ROOT_B64}\n", "leading zeros"),
        (f"o\n+1\n{ROOT_B64}\n", "not a decimal"),
        (f"o\n-1\n{ROOT_B64}\n", "not a decimal"),
        (f"o\n 1\n{ROOT_B64}\n", "not a decimal"),
        (f"o\n1 \n{ROOT_B64}\n", "not a decimal"),
        (f"o\n1_000\n{ROOT_B64}\n", "not a decimal"),
        (f"o\n\u0661\n{ROOT_B64}\n", "not a decimal"),  # ARABIC-INDIC DIGIT ONE: int() takes it
        (f"o\n0x10\n{ROOT_B64}\n", "not a decimal"),
        (f"o\n\n{ROOT_B64}\n", "not a decimal"),
        (f"o\n{2**64}\n{ROOT_B64}\n", "over 2\\^64-1"),
        ("o\n1\n" + base64.b64encode(bytes(31)).decode() + "\n", "31 bytes"),
        ("o\n1\n" + base64.b64encode(bytes(33)).decode() + "\n", "33 bytes"),
        (f"o\n1\n{ROOT_B64.rstrip('=')}\n", "not base64"),
        (f"o\n1\n{ROOT_B64[:-2]}B=\n", "not base64"),  # non-zero trailing bits
        (f"o\n1\n{ROOT_B64} \n", "not base64"),
        (f"o\n1\n{ROOT_B64}\n\n", "line 4: empty extension"),
        (f"o\n1\n{ROOT_B64}\next\n\n", "line 5: empty extension"),
        (f"o\r\n1\n{ROOT_B64}\n", "control characters"),
    ],
)
def test_parse_checkpoint_rejects_malformed(text: str, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        parse_checkpoint(text)


@pytest.mark.parametrize(
    "checkpoint",
    [
        Checkpoint("", 1, bytes(32)),
        Checkpoint("a\nb", 1, bytes(32)),
        Checkpoint("o", -1, bytes(32)),
        Checkpoint("o", 2**64, bytes(32)),
        Checkpoint("o", True, bytes(32)),
        Checkpoint("o", 1, bytes(31)),
        Checkpoint("o", 1, "00" * 32),  # type: ignore[arg-type]
        Checkpoint("o", 1, bytes(32), [""]),
        Checkpoint("o", 1, bytes(32), ["a\nb"]),
    ],
)
def test_format_checkpoint_rejects_invalid(checkpoint: Checkpoint) -> None:
    with pytest.raises(InputError, match="^checkpoint: "):
        format_checkpoint(checkpoint)


LINES = st.text(alphabet=st.characters(min_codepoint=0x20, codec="utf-8"), min_size=1, max_size=40)


@given(
    origin=LINES,
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(LINES, max_size=3),
)
def test_checkpoint_format_parse_round_trip_property(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    checkpoint = Checkpoint(origin, size, root, extensions)
    text = format_checkpoint(checkpoint)
    assert parse_checkpoint(text) == checkpoint
    assert format_checkpoint(parse_checkpoint(text)) == text


# --- cosignatures -----------------------------------------------------------------------


def test_cosign_round_trips() -> None:
    note = signed_checkpoint()
    cosigned = cosign(note, name=WITNESS.name, key=WITNESS_SEED, timestamp=1700000000)
    cosignature = open_cosignature(cosigned, verifier=WITNESS)
    assert (cosignature.name, cosignature.key_id, cosignature.timestamp) == (
        WITNESS.name,
        WITNESS.key_id,
        1700000000,
    )
    opened = open_note(cosigned, verifiers=[LOG.verifier(), WITNESS])
    assert [s.name for s in opened.verified] == [LOG.name, WITNESS.name]
    assert parse_checkpoint(opened.text) == CHECKPOINT


def test_cosign_accepts_private_key_object() -> None:
    key = Ed25519PrivateKey.from_private_bytes(WITNESS_SEED)
    cosigned = cosign(signed_checkpoint(), name=WITNESS.name, key=key, timestamp=5)
    assert open_cosignature(cosigned, verifier=WITNESS).timestamp == 5


def test_cosignature_line_framing() -> None:
    text = format_checkpoint(CHECKPOINT)
    line = cosignature_line(text, name=WITNESS.name, key=WITNESS_SEED, timestamp=0x0102030405)
    assert line.startswith("\u2014 witness.example/w1 ") and line.endswith("\n")
    data = sig_line_data(line)
    assert len(data) == 4 + 8 + 64
    assert data[:4] == compute_key_id(WITNESS.name, 0x04, WITNESS.public_key) == WITNESS.key_id
    assert data[4:12] == bytes.fromhex("0000000102030405")
    public = Ed25519PublicKey.from_public_bytes(WITNESS.public_key)
    public.verify(data[12:], cosignature_message(text, 0x0102030405))  # raises if wrong


def test_cosignature_key_id_differs_from_plain_key_id() -> None:
    # Same key and name, other signature type: the cosignature is by an unknown key.
    plain = Verifier(WITNESS.name, WITNESS.public_key)
    assert plain.key_id != WITNESS.key_id
    cosigned = cosign(signed_checkpoint(), name=WITNESS.name, key=WITNESS_SEED, timestamp=1)
    with pytest.raises(VerificationError, match="no signature by a known key"):
        open_note(cosigned, verifiers=[plain])
    with pytest.raises(InputError, match="not a cosignature"):
        open_cosignature(cosigned, verifier=plain)


def test_open_cosignature_rejects_changed_timestamp() -> None:
    line = cosignature_line(
        format_checkpoint(CHECKPOINT), name=WITNESS.name, key=WITNESS_SEED, timestamp=1000
    )
    data = sig_line_data(line)
    for index in range(4, 12):
        note = signed_checkpoint() + with_sig_data(line, flip(data, index))
        with pytest.raises(VerificationError, match="invalid signature|timestamp over"):
            open_cosignature(note, verifier=WITNESS)


def test_open_cosignature_rejects_changed_checkpoint() -> None:
    cosigned = cosign(signed_checkpoint(), name=WITNESS.name, key=WITNESS_SEED, timestamp=1)
    tampered = cosigned.replace("\n42\n", "\n43\n", 1)
    with pytest.raises(VerificationError, match="invalid signature for key witness.example/w1"):
        open_cosignature(tampered, verifier=WITNESS)


def test_open_cosignature_covers_extension_lines() -> None:
    text = format_checkpoint(Checkpoint("o.example", 1, bytes(32), ["extension"]))
    cosigned = cosign(
        sign_note(text, signers=[LOG]), name=WITNESS.name, key=WITNESS_SEED, timestamp=1
    )
    with pytest.raises(VerificationError, match="invalid signature"):
        open_cosignature(cosigned.replace("extension", "extensioN"), verifier=WITNESS)


def test_open_cosignature_requires_the_witness_line() -> None:
    with pytest.raises(VerificationError, match=r"no cosignature by witness.example/w1\+"):
        open_cosignature(signed_checkpoint(), verifier=WITNESS)


def test_open_cosignature_rejects_non_checkpoint() -> None:
    note = sign_note("not a checkpoint\n", signers=[LOG])
    with pytest.raises(VerificationError, match="^checkpoint: "):
        open_cosignature(note, verifier=WITNESS)


def test_open_cosignature_rejects_future_timestamp() -> None:
    cosigned = cosign(signed_checkpoint(), name=WITNESS.name, key=WITNESS_SEED, timestamp=2000)
    assert open_cosignature(cosigned, verifier=WITNESS, not_after=2000).timestamp == 2000
    with pytest.raises(VerificationError, match="timestamp 2000 is after 1999"):
        open_cosignature(cosigned, verifier=WITNESS, not_after=1999)


def test_open_cosignature_rejects_timestamp_over_2_63() -> None:
    # A genuine signature over "time 2^63" is still refused: the spec caps timestamps.
    text = format_checkpoint(CHECKPOINT)
    timestamp = 2**63
    message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
    signature = Ed25519PrivateKey.from_private_bytes(WITNESS_SEED).sign(message)
    line = Signature(WITNESS.name, WITNESS.key_id, timestamp.to_bytes(8, "big") + signature).line()
    with pytest.raises(VerificationError, match="timestamp over 2\\^63-1"):
        open_cosignature(signed_checkpoint() + line, verifier=WITNESS)


def test_cosign_replaces_earlier_line_by_same_witness() -> None:
    once = cosign(signed_checkpoint(), name=WITNESS.name, key=WITNESS_SEED, timestamp=1)
    twice = cosign(once, name=WITNESS.name, key=WITNESS_SEED, timestamp=2)
    assert twice.count(WITNESS.name) == 1
    assert open_cosignature(twice, verifier=WITNESS).timestamp == 2
    assert open_note(twice, verifiers=[LOG.verifier()]).verified[0].name == LOG.name


def test_cosign_rejects_non_checkpoint() -> None:
    with pytest.raises(VerificationError, match="^checkpoint: "):
        cosign(sign_note("hi\n", signers=[LOG]), name=WITNESS.name, key=WITNESS_SEED, timestamp=1)


@pytest.mark.parametrize("timestamp", [-1, 2**63, True, 1.5])
def test_cosign_rejects_out_of_range_timestamp(timestamp: int) -> None:
    with pytest.raises(InputError, match="timestamp"):
        cosign(signed_checkpoint(), name=WITNESS.name, key=WITNESS_SEED, timestamp=timestamp)


def test_cosign_rejects_malformed_note() -> None:
    with pytest.raises(VerificationError, match="^note: "):
        cosign(format_checkpoint(CHECKPOINT), name=WITNESS.name, key=WITNESS_SEED, timestamp=1)
