"""Whether what a command printed holds English words where a person reads Chinese.

Identifiers may appear: report numbers, openids, usernames, codes with digits, dots, underscores,
hyphens or colons (``reports.jobs.run_due``, ``o-resident-1``, ``msg:1001``), options
(``--confirm-photos``), paths, acronyms in capitals (``WGS-84``, ``EXIF``, ``FILE``) and command
lines quoted in a sentence (``citybot jobs run-due``). A plain word of letters with a lower-case
letter in it (``accepted``, ``points``) is English.
"""

from __future__ import annotations

import re

_COMMAND = re.compile(r"citybot(?: [\w-]+)+")
# Click's own frame around a refusal (its usage lines and the "Error:" prefix) stays English.
_CLICK = re.compile(
    r"^(?:Usage: .*|Try '.*' for help\.|Error:(?: Invalid value for '?[\w-]+'?:)?)", re.MULTILINE
)
_WORD = re.compile(r"(?<![\w./:<@-])[A-Za-z]*[a-z][A-Za-z]*(?![\w./@>-]|:\S)")


def english_words(output: str, *raw: str) -> list[str]:
    """The English words of ``output``, leaving out ``raw`` (values quoted as stored, e.g. an error)."""
    for value in raw:
        output = output.replace(value, "")
    output = _CLICK.sub("", _COMMAND.sub("", output))
    return _WORD.findall(output)
