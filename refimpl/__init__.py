"""ChargeChain reference implementation: a consortium ledger for cross-operator EV-charging settlement.

Layers (each a sub-package): ``crypto`` (SM3, SM2), ``encoding`` (canonical bytes), ``ledger``
(immutable state, transfers, the transaction dispatcher), ``contracts`` (registry, charging
settlement, credit, service evaluation, queries), ``chain`` (transactions, blocks, genesis,
validation, store), ``consensus`` (leader schedule), ``scenario`` (the Tianjin demo), ``cli``.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
