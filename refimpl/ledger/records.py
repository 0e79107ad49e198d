"""The immutable records the ledger state is made of (registry, tariffs, sessions, reputation)."""

from __future__ import annotations

from fractions import Fraction

import attrs

__all__ = [
    "Params",
    "Node",
    "Operator",
    "Supplier",
    "Pile",
    "Station",
    "User",
    "Window",
    "TariffPeriod",
    "Tariff",
    "PeriodCharge",
    "PrivatePile",
    "Credit",
    "Evaluation",
    "Session",
    "UniformPrice",
    "MemberBook",
    "BeanRules",
    "ParamChange",
    "Proposal",
    "Endorsement",
    "PILE_TYPES",
    "POLICIES",
    "POLICY_PER_OPERATOR",
    "POLICY_UNIFORM",
    "SESSION_OPEN",
    "SESSION_SETTLED",
    "SHARED_WITH",
    "SHARED_WITH_COMMUNITY",
    "SHARED_WITH_EVERYONE",
]

PILE_TYPES = ("AC", "DC")
SESSION_OPEN = "open"
SESSION_SETTLED = "settled"
#: whom a private pile is shared with (002: "users in the same cell", or anyone: IR-PRIV-2)
SHARED_WITH_COMMUNITY = "community"
SHARED_WITH_EVERYONE = "everyone"
SHARED_WITH = (SHARED_WITH_COMMUNITY, SHARED_WITH_EVERYONE)
#: 004: each operator sets its own electricity price; 000: one electricity price for all (IR-PRICE-1)
POLICY_PER_OPERATOR = "per_operator"
POLICY_UNIFORM = "uniform"
POLICIES = (POLICY_PER_OPERATOR, POLICY_UNIFORM)


@attrs.frozen
class UniformPrice:
    """The consortium's one electricity price for a price period under the uniform policy."""

    price_id: str
    electricity_fen_per_kwh: int


@attrs.frozen
class Params:
    """Consortium parameters fixed at genesis (IR-PARAM-1 gives the defaults' sources)."""

    block_interval_s: int = 300
    commission_bp: int = 500
    credit_min: Fraction = Fraction(0)
    beta: Fraction = Fraction(1, 2)
    alpha: Fraction = Fraction(10)
    sigma: Fraction = Fraction(1)
    evaluation_max: int = 5
    rating_max: int = 5
    #: the consortium's local time: a fixed offset from UTC (Asia/Shanghai, UTC+8: IR-TIME-1)
    utc_offset_minutes: int = 480
    #: electricity pricing: ``per_operator`` (004) or ``uniform`` (000), IR-PRICE-1
    policy: str = POLICY_PER_OPERATOR
    #: the uniform electricity prices by PriceID (used under the uniform policy)
    uniform_prices: tuple[UniformPrice, ...] = ()
    #: what every member pays into the pool when it joins (IR-POOL-1)
    margin_fen: int = 1_000_000
    #: what the pool pays the proposing company for each block (IR-POOL-2)
    reward_fen: int = 100
    #: the highest charging rebate an operator may set, in basis points of the money paid
    max_rebate_bp: int = 1_000
    #: the lowest price an operator may sell a bean at, in basis points of a fen (IR-BEAN-3)
    min_bean_price_bp: int = 5_000
    #: the paid cost (electricity + commission) that gives a rating its full weight (IR-REP-2)
    rating_full_weight_fen: int = 1_000
    #: the wallet balance a charge needs to start (IR-REP-4)
    min_start_balance_fen: int = 1_000


@attrs.frozen
class Node:
    """A billing / charging-station node of an organisation, with its SM2 public key."""

    node_id: str
    org_id: str
    public_key: bytes
    master: bool = False


@attrs.frozen
class Operator:
    """A consortium member (charging operator or power-supply enterprise)."""

    org_id: str
    english_name: str
    admin_key: bytes
    account: str
    nodes: tuple[str, ...]


@attrs.frozen
class Supplier:
    """A power supplier: receives the electricity charge of the stations it feeds; with a public
    key it signs as ``supplier:<id>`` (market orders, supply contracts)."""

    supplier_id: str
    name: str
    account: str
    public_key: bytes = b""
    #: as a grid company: the catalog price of deviations from supply contracts (0: none)
    catalog_fen_per_kwh: int = 0


@attrs.frozen
class Pile:
    """One charging pile of a station: connector type and rated power in watts."""

    pile_type: str
    power_w: int


@attrs.frozen
class Station:
    """A charging station: operator, hosting node, supplier, planar location (m) and piles."""

    station_id: str
    org_id: str
    node_id: str
    supplier_id: str
    x_m: int
    y_m: int
    piles: tuple[Pile, ...]


@attrs.frozen
class User:
    """An EV user's wallet: EVID, organisation of registration, SM2 public key and the
    residential community it lives in ('' if none: 002's "cell", IR-PRIV-2)."""

    ev_id: str
    org_id: str
    public_key: bytes
    community: str = ""


@attrs.frozen
class Window:
    """A time window of the local day in minutes, ``start <= minute < end`` (0..1440, no wrap:
    IR-TOU-2)."""

    start_minute: int
    end_minute: int


@attrs.frozen
class TariffPeriod:
    """One price period of a time-of-use tariff (peak, flat, valley...): its PriceID, unit
    prices (fen/kWh) and the windows of the local day it applies in."""

    price_id: str
    electricity_fen_per_kwh: int
    service_fen_per_kwh: int
    windows: tuple[Window, ...]


@attrs.frozen
class Tariff:
    """An operator's time-of-use tariff: price periods whose windows cover the local day
    exactly once (IR-TOU-1)."""

    org_id: str
    periods: tuple[TariffPeriod, ...]


@attrs.frozen
class PeriodCharge:
    """One line of a settled session's bill: the time and energy the session spent in one
    price period and what it cost there (IR-TOU-3, IR-TOU-4)."""

    price_id: str
    duration_s: int
    energy_ws: int
    electricity_fen_per_kwh: int
    service_fen_per_kwh: int
    electricity_fen: int
    service_fen: int


@attrs.frozen
class PrivatePile:
    """A user's private pile shared on the ledger (002): its owner, whom it is shared with,
    when (local-time windows) and at the owner's prices; the station record (same id) holds
    its vouching operator, settling node, location and the pile (IR-PRIV-1)."""

    station_id: str
    owner: str
    shared_with: str
    community: str
    windows: tuple[Window, ...]
    periods: tuple[TariffPeriod, ...]


@attrs.frozen
class Credit:
    """The terms of formula (2): sum of credit awards C_vj (each +1/-1) and their count J.

    ``unpaid`` counts the -1 awards not yet made good; a top-up that clears the debt records
    one +1 award for each (``repaid`` counts them: IR-REP-4).
    """

    award_sum: int = 0
    count: int = 0
    unpaid: int = 0
    repaid: int = 0

    @property
    def value(self) -> Fraction:
        """R_v = (1/J) * sum C_vj, and 0 before the first settlement (IR-CREDIT-1)."""
        return Fraction(self.award_sum, self.count) if self.count else Fraction(0)


@attrs.frozen
class Endorsement:
    """Formula (1)'s counts for one node: sessions owed to it (L) and those it settled (l)."""

    owed: int = 0
    endorsed: int = 0


@attrs.frozen
class Evaluation:
    """A station's service evaluation R_cs in millionths of a point, after n ratings."""

    r_micro: int = 0
    ratings: int = 0


@attrs.frozen
class Session:
    """A charging session: opened by the user, settled by the station's node, rated once."""

    session_id: str
    ev_id: str
    station_id: str
    pile: int
    #: the price period in force when the session started (its unit prices below)
    price_id: str
    status: str
    start_height: int
    start_time: int
    settle_height: int = 0
    settle_time: int = 0
    energy_ws: int = 0
    electricity_fen: int = 0
    service_fen: int = 0
    commission_fen: int = 0
    electricity_fen_per_kwh: int = 0
    service_fen_per_kwh: int = 0
    endorsed_by: str = ""
    rating: int = 0
    #: the most beans of the station's operator the user allows to be redeemed (1 bean = 1 fen)
    max_beans: int = 0
    #: beans redeemed at settlement (they paid that much of the electricity charge)
    beans_redeemed: int = 0
    #: beans of the station's operator given back as a charging rebate
    rebate_beans: int = 0
    #: the tariff in force when the session started (electricity prices after the policy),
    #: which prices it to the end (IR-TOU-5)
    tariff: tuple[TariffPeriod, ...] = ()
    #: the settled charge per price period, in the tariff's order (IR-TOU-3)
    periods: tuple[PeriodCharge, ...] = ()
    #: the owner of a private pile, paid directly ('' at an operator's station: IR-PRIV-3)
    owner: str = ""

    @property
    def payment_fen(self) -> int:
        """F = F_charging + F_service (formula 6), whether paid in money or partly in beans."""
        return self.electricity_fen + self.service_fen


@attrs.frozen
class MemberBook:
    """A member's incentive totals: margins paid, rewards received, pool grants, bean sales,
    withdrawals, beans issued and redeemed.

    Outstanding beans = issued - redeemed; they never exceed the money in the member's reward
    reserve, which holds rewarded + sales - redeemed - withdrawn (IR-BEAN-1).
    """

    margin_fen: int = 0
    rewarded_fen: int = 0
    #: pool spends paid to the member's operator account
    granted_fen: int = 0
    #: money users paid into the reward reserve for beans
    sales_fen: int = 0
    #: reward money moved to the operator account
    withdrawn_fen: int = 0
    beans_issued: int = 0
    beans_redeemed: int = 0

    @property
    def outstanding(self) -> int:
        """Beans in users' hands: issued less redeemed."""
        return self.beans_issued - self.beans_redeemed


@attrs.frozen
class BeanRules:
    """An operator's bean rules: rebate on money paid (basis points), sale price (bp of a fen)."""

    rebate_bp: int = 0
    price_bp: int = 10_000


@attrs.frozen
class ParamChange:
    """One consortium parameter a proposal changes: its name and its new value as canonical JSON."""

    name: str
    value_json: str


@attrs.frozen
class Proposal:
    """A governance proposal: change parameters or spend from the pool, and who approved it."""

    proposal_id: str
    proposer: str
    action: str
    changes: tuple[ParamChange, ...]
    amount_fen: int
    recipient: str
    purpose: str
    expires_height: int
    approvals: tuple[str, ...]
    status: str
    enacted_height: int = 0
