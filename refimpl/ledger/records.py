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
    "Tariff",
    "Credit",
    "Evaluation",
    "Session",
    "PILE_TYPES",
    "SESSION_OPEN",
    "SESSION_SETTLED",
]

PILE_TYPES = ("AC", "DC")
SESSION_OPEN = "open"
SESSION_SETTLED = "settled"


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
    """A power supplier: receives the electricity charge of the stations it feeds."""

    supplier_id: str
    name: str
    account: str


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
    """An EV user's wallet: EVID, organisation of registration and SM2 public key."""

    ev_id: str
    org_id: str
    public_key: bytes


@attrs.frozen
class Tariff:
    """Unit prices of one operator's price period (PriceID), integer fen per kWh."""

    org_id: str
    price_id: str
    electricity_fen_per_kwh: int
    service_fen_per_kwh: int


@attrs.frozen
class Credit:
    """The terms of formula (2): sum of credit awards C_vj (each +1/-1) and their count J."""

    award_sum: int = 0
    count: int = 0

    @property
    def value(self) -> Fraction:
        """R_v = (1/J) * sum C_vj, and 0 before the first settlement (IR-CREDIT-1)."""
        return Fraction(self.award_sum, self.count) if self.count else Fraction(0)


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
