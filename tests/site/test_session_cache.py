"""Sessions read from a cache (`cached_db`, issue 12 item 6) still end when they should: a logout
in one gunicorn worker ends the session in every other worker (a per-process cache would keep it),
and a password change signs the other sessions out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.site.factories import make_user

REPO = Path(__file__).resolve().parents[2]

#: A second "worker": its own process and its own caches, reading the session keys it is sent.
WORKER = """
import sys
import django
django.setup()
from importlib import import_module
from django.conf import settings
store = import_module(settings.SESSION_ENGINE).SessionStore
print("ready", flush=True)
for line in sys.stdin:
    print(store(session_key=line.strip()).get("_auth_user_id", "-"), flush=True)
"""


def test_the_session_cache_is_shared_by_every_worker():
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    assert not isinstance(caches[settings.SESSION_CACHE_ALIAS], LocMemCache)


@pytest.mark.django_db(transaction=True)
def test_logout_in_one_worker_ends_the_session_in_another(client):
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("sqlite3"):
        pytest.skip("the second worker opens the SQLite test database by its file name")
    user = make_user("sam")
    client.force_login(user)
    key = client.session.session_key
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kernelcamp.settings",
        "DATABASE_URL": f"sqlite:///{database['NAME']}",
        "KC_SESSION_CACHE_DIR": settings.CACHES[settings.SESSION_CACHE_ALIAS]["LOCATION"],
        "PYTHONPATH": str(REPO / "platform"),
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=REPO,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout.readline().strip() == "ready"
        worker.stdin.write(key + "\n")
        worker.stdin.flush()
        assert worker.stdout.readline().strip() == str(user.pk)  # read, and cached there
        assert client.post(reverse("logout")).status_code == 302
        worker.stdin.write(key + "\n")
        worker.stdin.flush()
        assert worker.stdout.readline().strip() == "-"
    finally:
        worker.stdin.close()
        worker.wait(timeout=60)


@pytest.mark.django_db
def test_a_password_change_signs_other_sessions_out(client):
    from django.test import Client

    user = make_user("pat")
    other = Client()
    client.force_login(user)
    other.force_login(user)
    assert client.get(reverse("home")).wsgi_request.user.is_authenticated
    user.set_password("a-new-password-9876")
    user.save()
    assert not client.get(reverse("home")).wsgi_request.user.is_authenticated
    assert not other.get(reverse("home")).wsgi_request.user.is_authenticated


@pytest.mark.django_db
def test_logout_ends_the_session_in_this_worker(client):
    user = make_user("lou")
    client.force_login(user)
    key = client.session.session_key
    client.post(reverse("logout"))
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore
    assert store(session_key=key).get("_auth_user_id") is None
