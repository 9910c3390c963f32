"""Entry signatures go through libsodium; they must be the very bytes RFC 8032 and
OpenSSL (cryptography) give, and both libraries must agree on what verifies."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings, strategies as st

from ledger.keys import Signer, raw_public_key, verify_signature

# RFC 8032 section 7.1, TEST 1 and TEST 2.
RFC8032 = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]


def test_rfc8032_vectors():
    for secret, public, message, signature in RFC8032:
        signer = Signer("v", Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret)))
        assert signer.public_key.hex() == public
        assert signer.sign(bytes.fromhex(message)).hex() == signature
        assert verify_signature(public_key=bytes.fromhex(public), signature=bytes.fromhex(signature),
                                message=bytes.fromhex(message))


@given(st.binary(max_size=600), st.integers(0, 63), st.integers(0, 7))
@settings(max_examples=200, deadline=None)
def test_libsodium_and_openssl_agree(message, byte, bit):
    key = Ed25519PrivateKey.generate()
    signer = Signer("k", key)
    signature = signer.sign(message)
    assert signature == key.sign(message)  # Ed25519 is deterministic
    public = raw_public_key(key.public_key())
    assert verify_signature(public_key=public, signature=signature, message=message)
    broken = bytearray(signature)
    broken[byte] ^= 1 << bit
    try:
        key.public_key().verify(bytes(broken), message)
        openssl = True
    except InvalidSignature:
        openssl = False
    assert verify_signature(public_key=public, signature=bytes(broken), message=message) is openssl is False
    assert not verify_signature(public_key=public, signature=signature, message=message + b"x")


def test_malformed_keys_and_signatures_do_not_verify():
    signer = Signer("k", Ed25519PrivateKey.generate())
    signature = signer.sign(b"m")
    for public, sig in ((signer.public_key[:31], signature), (signer.public_key, signature[:63]),
                        (bytes(32), signature), (signer.public_key, bytes(64))):
        assert not verify_signature(public_key=public, signature=sig, message=b"m")
