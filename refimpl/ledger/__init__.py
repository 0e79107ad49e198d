"""Ledger layer: the immutable state, balances and the transaction dispatcher."""
