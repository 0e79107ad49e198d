"""Conformance: vector files other implementations run, the harness that runs them, and the
reference implementation's own adapter (docs: "Conformance").

* :mod:`refimpl.conformance.cases` — the vector-file format (Wycheproof's shape: testGroups,
  tcId, result, flags) and the builders the generators use;
* :mod:`refimpl.conformance.profiles` — the profiles: what each covers, its files, the
  operations an adapter must implement and the reference's evaluation of each;
* :mod:`refimpl.conformance.generate` — ``chargechain vectors generate`` and the up-to-date check;
* :mod:`refimpl.conformance.schemas` — the JSON Schemas of every format, the harness's line
  protocol included;
* :mod:`refimpl.conformance.harness` — ``chargechain conformance run -- COMMAND…``;
* :mod:`refimpl.conformance.mutants` — ``chargechain conformance mutate``;
* :mod:`refimpl.conformance.adapter` — ``chargechain conformance adapter``.
"""

from __future__ import annotations

__all__: list[str] = []
