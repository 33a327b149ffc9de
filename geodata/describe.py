"""Opening hours, moments and seasons in words, every word from the ``[nearby.hours]`` catalogue.

``24/7`` reads 全天开放, ``Mo-Su 06:00-22:00`` 每天 06:00–22:00, ``Mo-Fr 16:30-22:30; Sa,Su
10:00-22:30`` 周一至周五 16:30–22:30；周六、周日 10:00–22:30, ``PH off`` 法定节假日休息. An
expression these words cannot say exactly (a date range, an nth weekday, a sun offset) is not
described at all rather than shown raw: the status line still says whether the place is open and
when it opens next.
"""

from __future__ import annotations

from datetime import date, datetime

from bot.core.texts import Texts
from geodata.hours import DAYS, MONTHS, Rule, Span, rules


def _day(texts: Texts, code: str) -> str:
    return texts(f"nearby.hours.day.{code.lower()}")


def _days(texts: Texts, pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return texts("nearby.hours.every_day")
    items: list[str] = []
    for first, last in pairs:
        if first not in DAYS or first == last:
            items.append(_day(texts, first))
            continue
        length = (DAYS.index(last) - DAYS.index(first)) % 7 + 1
        if length == 7 and len(pairs) == 1:
            return texts("nearby.hours.every_day")
        if length == 2:
            items.extend([_day(texts, first), _day(texts, last)])
        else:
            items.append(texts("nearby.hours.range", first=_day(texts, first), last=_day(texts, last)))
    return texts("nearby.hours.item_separator").join(items)


def _month(texts: Texts, code: str) -> str:
    return texts("nearby.hours.month", month=MONTHS.index(code) + 1)


def _months(texts: Texts, pairs: tuple[tuple[str, str], ...]) -> str:
    items = [
        _month(texts, first)
        if first == last
        else texts("nearby.hours.range", first=_month(texts, first), last=_month(texts, last))
        for first, last in pairs
    ]
    return texts("nearby.hours.item_separator").join(items)


def _time(texts: Texts, value: str) -> str:
    return value if ":" in value else texts(f"nearby.hours.sun.{value}")


def _span(texts: Texts, span: Span) -> str:
    if span.end is None:
        return texts("nearby.hours.open_end", start=_time(texts, span.start))
    key = "nearby.hours.overnight" if span.overnight else "nearby.hours.span"
    return texts(key, start=_time(texts, span.start), end=_time(texts, span.end))


def _every_day(pairs: tuple[tuple[str, str], ...]) -> bool:
    if not pairs:
        return True
    first, last = pairs[0]
    return len(pairs) == 1 and first in DAYS and (DAYS.index(last) - DAYS.index(first)) % 7 == 6


def _rule(texts: Texts, rule: Rule) -> str:
    every_day = rule.always or _every_day(rule.days)
    when = [_months(texts, rule.months)] if rule.months else []
    if not every_day:
        when.append(_days(texts, rule.days))
    if rule.times:
        if every_day:
            when.append(texts("nearby.hours.every_day"))
        when.append(texts("nearby.hours.item_separator").join(_span(texts, s) for s in rule.times))
    selector = " ".join(when)
    if rule.modifier == "closed":
        phrase = texts("nearby.hours.closed", when=selector) if selector else texts("nearby.hours.shut")
    elif rule.modifier == "unknown":
        phrase = texts("nearby.hours.unknown", when=selector) if selector else texts("nearby.hours.unsure")
    elif rule.times:
        phrase = selector
    elif selector:
        phrase = texts("nearby.hours.all_day", when=selector)
    else:
        phrase = texts("nearby.hours.always")
    if rule.comment:
        phrase = texts("nearby.hours.comment", rule=phrase, comment=rule.comment)
    return phrase


def describe(expression: str | None, texts: Texts) -> str | None:
    """The opening hours in words, or None when there are none or they cannot be said exactly."""
    if not expression or not expression.strip():
        return None
    found = rules(expression)
    if not found:
        return None
    return texts("nearby.hours.rule_separator").join(_rule(texts, rule) for rule in found)


def day_text(texts: Texts, day: date, today: date) -> str:
    """A calendar day as a resident says it: 7月1日, or 2027年7月1日 when not this year."""
    if day.year == today.year:
        return texts("nearby.hours.date", month=day.month, day=day.day)
    return texts("nearby.hours.date_year", year=day.year, month=day.month, day=day.day)


def moment_text(texts: Texts, moment: datetime, now: datetime) -> str:
    """A coming moment (both in local time): 今天 18:00, 明天 06:00, 周一 08:00 or 7月1日 08:00."""
    days = (moment.date() - now.date()).days
    clock = f"{moment:%H:%M}"
    if days <= 0:
        day = texts("nearby.hours.today")
    elif days == 1:
        day = texts("nearby.hours.tomorrow")
    elif days < 7:
        day = _day(texts, DAYS[moment.weekday()])
    else:
        day = day_text(texts, moment.date(), now.date())
    return texts("nearby.hours.moment", day=day, time=clock)
