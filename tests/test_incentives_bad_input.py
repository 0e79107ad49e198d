"""Any body for the incentive transaction kinds is applied or refused with a documented code,
and a refusal leaves the state byte-identical (Hypothesis: random bodies, and valid bodies
with one field removed or replaced by arbitrary JSON)."""

from __future__ import annotations

from conftest import World
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refimpl.contracts.dispatch import apply_transaction
from refimpl.encoding import canonical_bytes
from refimpl.errors import ERROR_CODES, ChargeChainError

JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(-2**70, 2**70), st.text(max_size=8),
    st.sampled_from(["EV1", "EV2", "ALPHA", "BETA", "even", "lucky", "set_params", "spend_pool",
                     "uniform", "per_operator", "1/2", "-1/2", "open", "PEAK"]))
JSON = st.recursive(JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["price_id", "electricity_fen_per_kwh", "policy",
                                     "uniform_prices", "credit_min", "margin_fen", "x"]),
                    inner, max_size=3)), max_leaves=10)

#: A valid body of each incentive kind (and of a start with a bean allowance), by its author.
TEMPLATES = [
    ("add_to_pool", "operator:ALPHA", {"amount_fen": 5}),
    ("withdraw_reward", "operator:ALPHA", {"amount_fen": 5}),
    ("set_bean_rules", "operator:BETA", {"rebate_bp": 100, "price_bp": 9000}),
    ("buy_beans", "user:EV1", {"issuer": "ALPHA", "beans": 10}),
    ("send_red_envelope", "operator:ALPHA", {"recipients": ["EV1", "EV2"], "total_beans": 5,
                                             "split": "lucky"}),
    ("propose", "operator:ALPHA", {
        "proposal_id": "p", "action": "set_params", "expires_height": 10,
        "params": {"policy": "uniform",
                   "uniform_prices": [{"price_id": "PEAK", "electricity_fen_per_kwh": 100}]}}),
    ("propose", "operator:ALPHA", {"proposal_id": "q", "action": "spend_pool",
                                   "expires_height": 10, "amount_fen": 100, "recipient": "BETA",
                                   "purpose": "promotion"}),
    ("approve", "operator:BETA", {"proposal_id": "open"}),
    ("start_charging", "user:EV2", {"session_id": "s", "station_id": "BETA-S1", "pile": 0, "bean_issuer": "BETA", "max_beans": 10}),
]
SETTINGS = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def _world() -> World:
    """A market a few blocks on, with rewards in the reserves and one open proposal."""
    world = World()
    world.setup_market()
    world.next_block(3)
    world.apply("propose", "operator:GAMMA", {"proposal_id": "open", "action": "set_params",
                                              "expires_height": 20,
                                              "params": {"credit_min": "-1/2", "margin_fen": 7}})
    return world


WORLD = _world()
BASE = WORLD.state


def _applied_or_typed(kind: str, author: str, body: dict) -> bool:
    """Apply one transaction to BASE: True if applied, False if refused with a known code."""
    try:
        tx = WORLD.tx(kind, author, body)
    except ChargeChainError:
        return False  # not even encodable (canonical bytes refuse it): typed as well
    before = canonical_bytes(BASE)
    try:
        apply_transaction(BASE, tx, check_signature=False)
    except ChargeChainError as error:
        assert error.code in ERROR_CODES, error.describe()
        assert canonical_bytes(BASE) == before
        return False
    return True


def test_the_templates_are_valid():
    """Every template is applied as it stands (so the mutations below start from valid)."""
    assert all(_applied_or_typed(kind, author, body) for kind, author, body in TEMPLATES)


@SETTINGS
@given(template=st.sampled_from(TEMPLATES), data=st.data())
def test_one_field_removed_or_replaced(template, data):
    kind, author, body = template
    body = dict(body)
    field = data.draw(st.sampled_from(sorted(body)))
    if data.draw(st.booleans()):
        body[field] = data.draw(JSON)
    else:
        del body[field]
    _applied_or_typed(kind, author, body)


@SETTINGS
@given(template=st.sampled_from(TEMPLATES),
       body=st.dictionaries(st.sampled_from(sorted({k for _, _, b in TEMPLATES for k in b})),
                            JSON, max_size=7))
def test_random_bodies(template, body):
    kind, author, _ = template
    _applied_or_typed(kind, author, body)
