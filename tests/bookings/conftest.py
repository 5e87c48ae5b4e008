from __future__ import annotations

from tests.conftest import Api  # noqa: F401  (re-exported for the booking tests)


def reasons(problem: dict) -> list[str]:
    return [c["reason"] for c in problem["conflicts"]]
