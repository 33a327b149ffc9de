"""Why a message to one person was refused, in terms the domains act on.

The domains send through ports (``send_text``, ``send_template``) and never see the messaging
platform's own errors; the WeChat edge raises errors that are also these, so a domain catches a
refusal by its meaning here.
"""

from __future__ import annotations


class DeliveryRefusedError(Exception):
    """The platform refused a message to one person; sending again later may work."""


class OutOfServiceWindowError(DeliveryRefusedError):
    """The person has not written to the account recently enough for a free-form message."""


class SendQuotaExhaustedError(DeliveryRefusedError):
    """Too many messages to this person since they last wrote."""
