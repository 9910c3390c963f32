"""JSON Schema documents, one per entry kind: the single definition of a valid body.

Shipped as package data (``ledger.schemas``) and read with ``importlib.resources``.
"""
