"""Errors of the menu."""

from __future__ import annotations


class MenuError(ValueError):
    """The menu breaks WeChat's rules; one line per problem, each naming its button."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid menu:\n" + "\n".join(f"  {p}" for p in problems))
        self.problems = problems
