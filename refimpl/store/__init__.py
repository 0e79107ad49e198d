"""The node store: an append-only SQLite file holding a chain and everything a node serves from it.

* :mod:`refimpl.store.schema`: the format ``chargechain-sqlite/3``, its tables and the
  connections (WAL, ``synchronous=FULL``);
* :mod:`refimpl.store.rows`: what one block's transaction writes, and decoding stored rows;
* :mod:`refimpl.store.node_store`: :class:`~refimpl.store.node_store.NodeStore`: create,
  open (resume at the tip without replay), append, and the queries;
* :mod:`refimpl.store.validate`: replay from genesis and compare every stored row, and
  compare two stores or a store and an expected tip;
* :mod:`refimpl.store.light`: world-state proofs as documents a light client checks;
* :mod:`refimpl.store.crash_trials`: the kill test (writers SIGKILLed at random points).

See docs/store.md.
"""
