"""One page of a listing (catalogue, users): the items and where they sit in the whole; the page asked for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


MAX_PAGE = 100_000


def page_number(value: str | None) -> int:
    """The ?page= of a listing page: a number from 1 to MAX_PAGE, anything else is the first page."""
    return int(value) if value and value.isdigit() and 0 < int(value) <= MAX_PAGE else 1
