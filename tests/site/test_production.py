"""The production profile: deploy checks, required secrets, JSON logs, probes, error pages."""

import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

REPO = Path(__file__).resolve().parents[2]


def manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KC_", "DJANGO_"))}
    clean.update({"KC_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_debug_off_and_a_secret(tmp_path):
    secret = secrets.token_urlsafe(50)
    result = manage(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", KC_DEBUG="0", KC_SECRET_KEY=secret
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_missing_secrets_stop_start_up_with_their_names(tmp_path):
    no_secret = manage(tmp_path, "check", KC_DEBUG="0")
    assert no_secret.returncode != 0
    assert "KC_SECRET_KEY must be set" in no_secret.stderr
    no_token = manage(
        tmp_path,
        "check",
        KC_DEBUG="0",
        KC_SECRET_KEY=secrets.token_urlsafe(50),
        KC_HUB_URL="https://hub.example.edu",
    )
    assert no_token.returncode != 0 and "KC_HUB_API_TOKEN must be set" in no_token.stderr


def test_json_logs_and_plain_http_profile(tmp_path):
    """KC_LOG_FORMAT=json gives one JSON object a line; KC_HTTPS=0 (the loopback demo) turns
    the secure-cookie and redirect settings off, which DEBUG off alone turns on."""
    code = (
        "import logging; from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS);"
        "logging.getLogger('kernelcamp.test').warning('hello %s', 'there', extra={'user_id': 7})"
    )
    env = {"KC_DEBUG": "0", "KC_SECRET_KEY": secrets.token_urlsafe(50), "KC_LOG_FORMAT": "json"}
    secure = manage(tmp_path, "shell", "-v", "0", "-c", code, **env)
    assert secure.returncode == 0, secure.stderr
    assert secure.stdout.split() == ["True", "True", "31536000"]
    line = json.loads(secure.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello there" and line["level"] == "WARNING"
    assert line["logger"] == "kernelcamp.test" and line["user_id"] == 7
    loopback = manage(tmp_path, "shell", "-v", "0", "-c", code, KC_HTTPS="0", **env)
    assert loopback.stdout.split() == ["False", "False", "0"]


@pytest.mark.django_db
def test_health_and_readiness(settings):
    from django_tasks_db.models import DBTaskResult, get_date_max

    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"
    assert ready.json()["checks"]["hub"] == "not configured"
    # A queue nobody works: its oldest task has waited too long.
    task = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="grading.tasks.grade_submission",
        queue_name="grading",
        backend_name="default",
        run_after=get_date_max(),
    )
    DBTaskResult.objects.filter(pk=task.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.KC_READY_MAX_QUEUE_WAIT_S + 60)
    )
    stalled = client.get("/readyz")
    assert stalled.status_code == 503
    assert "are workers running" in stalled.json()["checks"]["grading_queue"]
    DBTaskResult.objects.all().delete()
    # A hub that does not answer (nothing listens on this loopback port).
    settings.KC_HUB_URL, settings.KC_HUB_API_TOKEN = "http://127.0.0.1:9", "token"
    no_hub = client.get("/readyz")
    assert no_hub.status_code == 503 and no_hub.json()["checks"]["hub"].startswith("failed")


@pytest.mark.django_db
def test_error_pages_are_the_sites_and_say_what_to_do(published, people):
    missing = Client().get("/no/such/page/")
    html = missing.content.decode()
    assert missing.status_code == 404 and "Page not found" in html
    assert "site.css" in html and "urlpatterns" not in html.lower() and "admin/" not in html
    outsider = Client()
    outsider.force_login(people["outsider"])
    denied = outsider.get(reverse("cohort-detail", args=[published["cohort"].pk]))
    assert denied.status_code == 403 and "Not allowed" in denied.content.decode()
    from django.views.defaults import server_error

    crashed = server_error(RequestFactory().get("/"))
    assert crashed.status_code == 500 and b"Something went wrong" in crashed.content


@pytest.mark.django_db
def test_a_refused_request_is_one_log_line_without_a_traceback(published, people):
    """A participant guessing URLs must not fill the log with PermissionDenied tracebacks."""
    import io
    import logging

    from django.conf import settings

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name in settings.LOGGING["handlers"]["console"]["filters"]:  # the console's own filters
        handler.addFilter(
            logging.config.DictConfigurator(settings.LOGGING).configure_filter(
                settings.LOGGING["filters"][name]
            )
        )
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        outsider = Client()
        outsider.force_login(people["outsider"])
        assert (
            outsider.get(reverse("cohort-detail", args=[published["cohort"].pk])).status_code == 403
        )
        Client().get("/no/such/page/")
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert "Forbidden" in logged and "Traceback" not in logged and "PermissionDenied" not in logged
