"""The ``claimledger`` command line: click commands that parse, call ``ledger`` and render."""
