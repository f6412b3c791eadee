"""Backup and restore: `manage.py backup` of a populated site, `manage.py restore` onto a fresh
install in another process (another database, another data directory), and the same site comes
back: people who can sign in, notebooks byte for byte, grades, overrides, the audit log, the keys.

Runs on SQLite in the main run and on PostgreSQL in the PostgreSQL run (scripts/test.sh).
"""

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.site.grading_helpers import database_url, grader_result, student_notebook

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)

SUMMARY = """
import hashlib, json
from accounts.models import User
from audit.models import AuditEntry
from grading.models import GradeOverride, Submission
print(json.dumps({
    "users": sorted(User.objects.values_list("username", flat=True)),
    "notebooks": sorted(
        (s.student.username, hashlib.sha256(bytes(s.notebook)).hexdigest(), s.sha256, s.grade.score)
        for s in Submission.objects.select_related("student", "grade")
    ),
    "overrides": sorted(GradeOverride.objects.values_list("score", "comment")),
    "audit": AuditEntry.objects.filter(action="grading.override").count(),
    # The test run hashes with MD5 (tests/conftest.py), which this process does not accept:
    # the hash itself must come back.
    "password": User.objects.get(username="stud").password,
}))
"""


def manage(*args: str, env: dict) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]  # the shell's greeting comes first


@pytest.fixture
def fresh_database():
    """A DATABASE_URL for an empty database of the same engine as the test database."""
    if connection.vendor == "sqlite":
        path = Path(f"/tmp/kc-restore-{uuid.uuid4().hex}.sqlite3")
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = f"kc_restore_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield database_url().rsplit("/", 1)[0] + f"/{name}"
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_onto_a_fresh_install(
    published, people, tmp_path, settings, fresh_database
):
    import sqlite3

    from grading import services

    cohort = published["cohort"]
    for answer, score in [("    return a + b", 3.0), ("    return a - b  # wrong", 0.0)]:
        submission = services.submit(cohort, people["student"], "add", student_notebook(answer))
        services.record_result(submission, submission.assignment, grader_result(score))
    services.override_grade(cohort, people["student"], "add", 2.5, "late but fine", people["ta"])

    data_dir = tmp_path / "data"
    (data_dir / "hub").mkdir(parents=True)
    (data_dir / "secret-key").write_text("the-site-secret\n")
    (data_dir / "oidc-rsa-key.pem").write_text("-----BEGIN PRIVATE KEY-----\nabc\n")
    hub_db = sqlite3.connect(data_dir / "hub" / "jupyterhub.sqlite")
    hub_db.execute("CREATE TABLE users (name TEXT)")
    hub_db.execute("INSERT INTO users VALUES ('stud')")
    hub_db.commit()
    (data_dir / "static").mkdir()
    (data_dir / "static" / "big.css").write_text("not state")
    (data_dir / "cache" / "sessions").mkdir(parents=True)
    (data_dir / "cache" / "sessions" / "signed-in.djcache").write_text("a cached session")
    settings.DATA_DIR = data_dir

    archive = tmp_path / "site.tar.gz"
    call_command("backup", "-o", str(archive), stdout=io.StringIO())
    hub_db.close()
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", "data/secret-key", "data/hub/jupyterhub.sqlite"} <= names
    assert "data/static/big.css" not in names
    assert not any(name.startswith("data/cache") for name in names)

    # The fresh install: its own database and data directory, in another process.
    fresh_data = tmp_path / "fresh"
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database,
        "KC_DATA_DIR": str(fresh_data),
        "KC_DEBUG": "1",
    }
    env.pop("KC_SECRET_KEY", None)
    source_env = {**env, "DATABASE_URL": database_url(), "KC_DATA_DIR": str(data_dir)}
    expected = json.loads(manage("shell", "-c", SUMMARY, env=source_env))
    assert len(expected["notebooks"]) == 2 and expected["password"]

    # A session cached on the fresh install before the restore must not outlive it: the
    # restored database decides who is signed in.
    stale = fresh_data / "cache" / "sessions" / "stale.djcache"
    stale.parent.mkdir(parents=True)
    stale.write_text("a session the restored database does not know")
    manage("restore", str(archive), env=env)
    assert not stale.exists()
    restored = json.loads(manage("shell", "-c", SUMMARY, env=env))
    assert restored == expected
    assert (fresh_data / "secret-key").read_text() == "the-site-secret\n"
    assert (fresh_data / "oidc-rsa-key.pem").read_text().endswith("abc\n")
    copied = sqlite3.connect(fresh_data / "hub" / "jupyterhub.sqlite")
    assert copied.execute("SELECT name FROM users").fetchall() == [("stud",)]
    copied.close()

    # Restoring again onto an install that now has people is refused unless forced.
    refused = subprocess.run(
        [sys.executable, "manage.py", "restore", str(archive)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "fresh install" in refused.stderr
    assert hashlib.sha256(archive.read_bytes()).hexdigest()  # the archive is still whole
