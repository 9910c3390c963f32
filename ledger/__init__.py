"""claimledger: an append-only, hash-chained, signed provenance ledger.

The library: entries, storage, Merkle proofs, signatures and verification.  It never
prints or exits; ``ledger.cli`` is the command line on top of it.
"""

__version__ = "0.1.0"
