"""Ledger layer: the immutable state, its records, transactions and balance transfers."""
