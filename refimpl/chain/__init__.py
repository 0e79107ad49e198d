"""Chain layer: transactions, Merkle roots, blocks, genesis, validation and the SQLite store."""
