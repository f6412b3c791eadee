"""Event rules, registered with accounts.permissions (which answers every `can()`)."""

from __future__ import annotations

from accounts.permissions import event_roles, rule


@rule("event.register")
def _event_register(user, _event) -> bool:
    return True  # anyone signed in may try; the invite code and seat limit are the service's


@rule("event.participate")
def _event_participate(user, event) -> bool:
    """Teams, looking for a team, the live banner: registered participants and organizers."""
    return bool(event_roles(user, event) & {"participant", "organizer"})
