"""Contract layer: registry, charging settlement, credit, service evaluation, queries, and the
dispatcher that applies a transaction by running its contract."""
