"""Chain layer: Merkle roots, blocks, genesis, validation and the SQLite store."""
