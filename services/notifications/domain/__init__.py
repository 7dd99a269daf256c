"""Notification decisions, pure: the policy (policy.py), the templates and DLT rules (templates.py),
when and how to deliver (delivery.py), and what a provider's webhook means (replies.py)."""

from services.notifications.domain.policy import (
    PARAMETERS,
    POLICY,
    TEMPLATES,
    PlannedMessage,
    message_for,
    message_id_for,
    template_for,
)
from services.notifications.domain.templates import Template, render

__all__ = [
    "PARAMETERS",
    "POLICY",
    "TEMPLATES",
    "PlannedMessage",
    "Template",
    "message_for",
    "message_id_for",
    "render",
    "template_for",
]
