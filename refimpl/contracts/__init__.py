"""Contract layer: registry, charging settlement, credit, service evaluation and queries."""
