"""Off-chain export (001 §3(4)): the chain's parties, stations, piles, sessions, settlements,
orders, fills, contracts and deviations as relational tables in SQLite or PostgreSQL.

* :mod:`refimpl.export.tables`: the one description of the tables (columns, types, meaning);
* :mod:`refimpl.export.derive`: the rows, derived from a node store without replay;
* :mod:`refimpl.export.sqlite`, :mod:`refimpl.export.postgres`: the writers;
* :mod:`refimpl.export.check`: ``export_store`` and ``check_export``.
"""

__all__: list[str] = []
