"""Periodic work, queued through the django.tasks API."""

from __future__ import annotations

try:
    from django_tasks import task
except ImportError:  # Django 6: the API moved into Django itself
    from django.tasks import task


@task()
def reconcile_sessions() -> dict:
    from compute.reconcile import reconcile

    report = reconcile()
    return {
        "hub_reachable": report.hub_reachable,
        "adopted": report.adopted,
        "closed": report.closed,
        "warned": report.warned,
        "stopped": report.stopped,
        "metered": report.metered,
    }
