"""Keep `Event.content_version` true: any write to what the event page caches raises it.

The event page caches its phases, tracks, prizes, announcements and organization under the
event's content version (events.selectors.event_page_parts). Every save or delete of one of
them, through the ORM in any process, raises the version in the database with one UPDATE, so
every web worker finds the new parts on its next read of the event row. Writes that skip signals
(`bulk_create`, `QuerySet.update`) must call `touch_event` themselves.
"""

from __future__ import annotations

from django.db.models import F
from django.db.models.signals import post_delete, post_save, pre_save


def touch_event(event_id: int | None) -> None:
    from events.models import Event

    if event_id is not None:
        Event.objects.filter(pk=event_id).update(content_version=F("content_version") + 1)


def _part_moving(sender, instance, raw=False, **kwargs) -> None:
    """Before a part is saved: the event it belonged to, should the save move it to another (the
    admin's announcement form lets the event change), so that both events' pages change."""
    instance._kc_event_before = None
    if instance.pk is not None and not raw:
        instance._kc_event_before = (
            type(instance).objects.filter(pk=instance.pk).values_list("event_id", flat=True).first()
        )


def _part_changed(sender, instance, **kwargs) -> None:
    touch_event(instance.event_id)
    before = getattr(instance, "_kc_event_before", None)
    if before is not None and before != instance.event_id:
        touch_event(before)


def _organization_changed(sender, instance, **kwargs) -> None:
    from events.models import Event

    Event.objects.filter(organization_id=instance.pk).update(
        content_version=F("content_version") + 1
    )


def connect() -> None:
    from accounts.models import Organization
    from events.models import Announcement, Phase, Prize, Track

    for model in (Phase, Track, Prize, Announcement):
        uid = f"events.content_version.{model.__name__}"
        pre_save.connect(_part_moving, sender=model, dispatch_uid=uid + ".before")
        post_save.connect(_part_changed, sender=model, dispatch_uid=uid + ".save")
        post_delete.connect(_part_changed, sender=model, dispatch_uid=uid + ".delete")
    post_save.connect(
        _organization_changed, sender=Organization, dispatch_uid="events.content_version.org"
    )
