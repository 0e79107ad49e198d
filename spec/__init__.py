"""ChargeChain's TLA+ specifications and TLC models, shipped as package data.

The ``.tla`` modules and ``.cfg`` models in this folder are read by :mod:`refimpl.tlc`
(``chargechain spec list`` / ``chargechain spec check MODEL``); this package holds no code.
"""
