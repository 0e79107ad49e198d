"""Paper 001's energy market, part of the contract layer: Bancor pricing (more to come)."""
