"""Liveness and readiness for load balancers, systemd watchdogs and Kubernetes probes.

/healthz: the process answers (no dependencies, so a database outage does not restart web pods).
/readyz: the database answers, the grading queue is being worked (its oldest waiting task is not
older than KC_READY_MAX_QUEUE_WAIT_S: django-tasks-db keeps no worker heartbeat, so a queue that
moves is the evidence), and the hub's API answers when a hub is configured. 503 if any fails,
with each check's finding in the JSON body.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_grading_queue() -> str:
    from django_tasks_db.models import DBTaskResult, get_date_max

    never = get_date_max()
    waiting = DBTaskResult.objects.ready().order_by("enqueued_at")[:100]
    # A delayed task has waited only since its run_after.
    ready_since = [
        max(t.enqueued_at, t.run_after) if t.run_after != never else t.enqueued_at
        for t in waiting.only("enqueued_at", "run_after")
    ]
    if not ready_since:
        return "ok: nothing waiting"
    oldest = min(ready_since)
    age = (timezone.now() - oldest).total_seconds()
    if age > settings.KC_READY_MAX_QUEUE_WAIT_S:
        raise RuntimeError(f"the oldest waiting task has waited {age:.0f} s: are workers running?")
    return f"ok: oldest waiting task {age:.0f} s"


def check_hub() -> str:
    if not settings.KC_HUB_URL:
        return "not configured"
    from compute.hub import HubClient

    client = HubClient(
        settings.KC_HUB_URL, settings.KC_HUB_API_TOKEN, api_url=settings.KC_HUB_API_URL, timeout=3
    )
    version = (client.info() or {}).get("version", "?")  # the API root answers anyone
    whoami = client.api("GET", "/user") or {}  # this one only a valid token
    return f"ok: JupyterHub {version}, token of {whoami.get('kind', '?')} {whoami.get('name', '?')}"


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "grading_queue": check_grading_queue,
    "hub": check_hub,
}


@never_cache
@require_GET
def readyz(request) -> JsonResponse:
    results, ready = {}, True
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # a probe reports every failure, whatever its kind
            results[name] = f"failed: {exc}"
            ready = False
    body = {"status": "ready" if ready else "not ready", "checks": results}
    return JsonResponse(body, status=200 if ready else 503)
