import os

import pytest

# The grader's kernels and any numba import in the test process must use the simulator here.
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")


def pytest_configure(config):
    # Django deletes an old SQLite test database but not its WAL side files; a stale pair makes
    # the next run fail with "disk I/O error".
    from pathlib import Path

    from django.conf import settings

    # The production hasher spends about half a second per password on purpose; fixtures make
    # several users per test. Only the test run uses this one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    test_name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if test_name and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{test_name}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def course_dirs(tmp_path, settings):
    """The tiny course laid out in a temporary repository, so publishing is quick."""
    from tests.site.factories import write_course

    courses, notebooks = write_course(tmp_path)
    settings.KC_COURSES_DIR = courses
    settings.KC_NOTEBOOKS_DIR = notebooks
    return courses, notebooks
