"""Node layer: a billing node is a PBFT replica whose application is the ledger (blocks, state)."""
