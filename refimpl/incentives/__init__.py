"""The incentive layer of paper 000: margins and the pool, block rewards, electric beans, and
the consortium's governance of its parameters (a uniform electricity price among them).

Bottom up: :mod:`amounts` (pure arithmetic, run on integers by the contracts and on z3 terms by
the proofs), :mod:`pool` (margins, rewards, withdrawals), :mod:`beans` (issue, rebate, sale,
red envelopes, redemption), :mod:`governance` (proposals, approvals, enactment) and
:mod:`policy` (which electricity price applies).
"""
