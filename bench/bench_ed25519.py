"""Ed25519 signatures a second on one core: OpenSSL (cryptography) beside libsodium (PyNaCl).

    python bench/bench_ed25519.py                 # 20000 messages of 400 bytes, repeat 5

Why the ledger signs and verifies entries through libsodium (ledger/keys.py): each
entry's signature covers the previous entry's hash, so a bulk import signs on one
core, and full verification checks every signature.  Prints the median of the runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.keys import Signer, verify_signature


def rate(call, count: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(count):
        call()
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=400, help="message bytes (an entry is ~400-700)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    signer = Signer("bench", key)
    message = bytes(range(256)) * (args.size // 256) + bytes(args.size % 256)
    signature = key.sign(message)
    raw = signer.public_key
    rows = {
        "sign, OpenSSL (cryptography)": lambda: key.sign(message),
        "verify, OpenSSL (cryptography)": lambda: public.verify(signature, message),
        "sign, libsodium (ledger.keys.Signer.sign)": lambda: signer.sign(message),
        "verify, libsodium (ledger.keys.verify_signature)":
            lambda: verify_signature(public_key=raw, signature=signature, message=message),
    }
    print(f"{args.count:,} messages of {args.size} bytes, median of {args.repeat} runs, one core")
    for name, call in rows.items():
        runs = [rate(call, args.count) for _ in range(args.repeat)]
        print(f"  {name:50s} {statistics.median(runs):>9,.0f} /s  ({1e6 / statistics.median(runs):5.1f} us each)")


if __name__ == "__main__":
    main()
