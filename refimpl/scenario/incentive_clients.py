"""The demo's incentive clients: the consortium's vote for a uniform price, the operators' bean
rules and red envelopes, users who buy and redeem beans and top up when their wallet runs low.

Under the ``per_operator`` policy (the default, 004's Table 2) only the top-ups run; under
``uniform`` (000) the members vote the uniform electricity price in block 2, set their bean
rules, send red envelopes, and users redeem beans at the operators that issued them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from refimpl.incentives.amounts import bean_price_fen
from refimpl.incentives.beans import bean_rules, beans_held, headroom
from refimpl.ledger.records import POLICY_UNIFORM
from refimpl.ledger.state import State, account_of_user
from refimpl.rng import Rng
from refimpl.scenario import tianjin

__all__ = [
    "UNIFORM_PRICE_FEN_PER_KWH",
    "BEAN_RULES",
    "VOTE_BLOCK",
    "ENVELOPE_EVERY",
    "governance_and_rules",
    "red_envelopes",
    "top_up_if_low",
    "maybe_buy_beans",
    "bean_allowance",
]

Send = Callable[[str, str, dict[str, Any]], None]

#: The uniform electricity price voted in: Table 2's four prices averaged, rounded half up
#: ((141 + 120 + 120 + 100) / 4 = 120.25 -> 120 fen/kWh); it is the peak price, the flat and
#: valley ones are its fractions (tianjin.TOU_FRACTIONS: 80 and 40 fen/kWh).
UNIFORM_PRICE_FEN_PER_KWH = 120
#: Each operator's (rebate in bp of the money paid, bean price in bp of a fen).
BEAN_RULES = {"TELD": (300, 9_000), "STAR": (500, 9_000), "PTNE": (800, 9_500),
              "SMGD": (200, 9_000)}
VOTE_BLOCK = 2
ENVELOPE_EVERY = 48
ENVELOPE_RECIPIENTS = 12


def governance_and_rules(send: Send, height: int) -> None:
    """Block 2: TELD proposes the uniform price, STAR and PTNE approve (3 of 4 enact it);
    every operator sets its bean rules."""
    if height != VOTE_BLOCK:
        return
    first, *others = [op.org_id for op in tianjin.TIANJIN_OPERATORS]
    send("propose", f"operator:{first}", {
        "proposal_id": "uniform-price", "action": "set_params", "expires_height": height + 12,
        "params": {"policy": POLICY_UNIFORM, "uniform_prices": [
            {"price_id": price_id,
             "electricity_fen_per_kwh": tianjin.tou_price(UNIFORM_PRICE_FEN_PER_KWH, price_id)}
            for price_id in tianjin.TOU_WINDOWS]}})
    for org_id in others[:2]:
        send("approve", f"operator:{org_id}", {"proposal_id": "uniform-price"})
    for org_id, (rebate_bp, price_bp) in BEAN_RULES.items():
        send("set_bean_rules", f"operator:{org_id}", {"rebate_bp": rebate_bp, "price_bp": price_bp})


def red_envelopes(send: Send, state: State, height: int, rng: Rng) -> None:
    """Every ENVELOPE_EVERY blocks each operator sends half its headroom to twelve of its users."""
    if height % ENVELOPE_EVERY:
        return
    for op in tianjin.TIANJIN_OPERATORS:
        users = sorted(ev for ev, u in state.users.items() if u.org_id == op.org_id)
        recipients = users[:ENVELOPE_RECIPIENTS]
        total = headroom(state, op.org_id) // 2
        if recipients and total >= len(recipients):
            send("send_red_envelope", f"operator:{op.org_id}", {
                "recipients": recipients, "total_beans": total,
                "split": "lucky" if rng.chance(1, 2) else "even"})


def top_up_if_low(send: Send, state: State, ev_id: str, rng: Rng) -> bool:
    """A user whose wallet is below the minimum a start needs has its operator top it up."""
    balance = state.accounts.get(account_of_user(ev_id), 0)
    if balance >= state.params.min_start_balance_fen:
        return False
    amount = state.params.min_start_balance_fen - balance + rng.between(50, 300) * 100
    send("top_up", f"operator:{state.users[ev_id].org_id}", {"ev_id": ev_id, "amount_fen": amount})
    return True


def maybe_buy_beans(send: Send, state: State, ev_id: str, org_id: str, rng: Rng) -> bool:
    """Under the uniform policy one start in ten is preceded by buying 500 beans of the
    station's operator (in a block of its own, so that a refused purchase delays nothing)."""
    if state.params.policy != POLICY_UNIFORM or not rng.chance(1, 10):
        return False
    price = bean_price_fen(500, bean_rules(state, org_id).price_bp)
    wallet = state.accounts.get(account_of_user(ev_id), 0)
    if headroom(state, org_id) + price < 500 or wallet < price + state.params.min_start_balance_fen:
        return False  # the operator's rewards cannot back the discount yet, or the wallet is short
    send("buy_beans", f"user:{ev_id}", {"issuer": org_id, "beans": 500})
    return True


def bean_allowance(state: State, ev_id: str, org_id: str) -> dict[str, Any]:
    """The start's bean fields: allow every bean of the station's operator the user holds."""
    held = beans_held(state, ev_id, org_id)
    if state.params.policy != POLICY_UNIFORM or held == 0:
        return {}
    return {"bean_issuer": org_id, "max_beans": held}
