"""One style for a domain's refusals: a code and the values its sentence needs.

A domain raises a :class:`DomainError` subclass that declares its ``namespace`` (the domain's group in
the text catalogue, e.g. ``reports.errors``) and, in ``codes``, every code it may carry together with
the names of the values each code's sentence uses. The catalogue key of an error is always
``namespace + "." + code`` (``reports.errors.stale``); raise sites give the short code only.

``str(exc)`` is an English sentence for logs and developers. What a person sees is rendered from the
catalogue by the adapter in front of them (chat, console, command line, API) with :func:`render`.
A value may be a :class:`Label`, itself a catalogue key (a status, a category), or another domain
error (or a list of them, one per line, e.g. each problem of a file); both are rendered in turn.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from bot.core.texts import Texts

#: each code an error class may carry -> the names of the values its sentence uses
Codes = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Label:
    """A value that is itself a catalogue key, rendered through the catalogue too."""

    key: str

    def __str__(self) -> str:
        return self.key.rsplit(".", 1)[-1]


class DomainError(Exception):
    """A refusal a person may be shown. Subclasses set ``namespace`` and ``codes``."""

    namespace: ClassVar[str] = ""
    codes: ClassVar[Codes] = {}

    def __init__(self, code: str, message: str, **values: Any) -> None:
        expected = self.codes.get(code)
        if expected is None:
            raise TypeError(f"{type(self).__name__} declares no code {code!r}")
        if set(values) != set(expected):
            raise TypeError(
                f"{type(self).__name__}({code!r}) takes the values {sorted(expected)}, not {sorted(values)}"
            )
        super().__init__(message)
        self.code = code
        self.values: dict[str, Any] = values

    @property
    def key(self) -> str:
        """The catalogue key of this error's sentence."""
        return f"{self.namespace}.{self.code}"

    @property
    def message(self) -> str:
        return str(self)


def render(texts: Texts, exc: DomainError) -> str:
    """The error's sentence from the catalogue, with its values rendered too."""
    return texts(exc.key, **{name: _value(texts, value) for name, value in exc.values.items()})


def _value(texts: Texts, value: Any) -> Any:
    if isinstance(value, Label):
        return texts(value.key)
    if isinstance(value, DomainError):
        return render(texts, value)
    if isinstance(value, list | tuple) and value and all(isinstance(item, DomainError) for item in value):
        return "\n".join(render(texts, item) for item in value)
    return value


def subclasses(root: type[DomainError] = DomainError) -> Iterator[type[DomainError]]:
    """Every subclass of ``root`` (imported so far), depth first."""
    for sub in root.__subclasses__():
        yield sub
        yield from subclasses(sub)
