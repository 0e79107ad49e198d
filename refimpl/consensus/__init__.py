"""Consensus layer: the leader schedule (and, later, PBFT replicas)."""
