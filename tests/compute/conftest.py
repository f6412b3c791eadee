"""Fixtures for GPU sessions: a published cohort, and a real JupyterHub on loopback."""

from __future__ import annotations

import pytest

from tests.compute.hubproc import Hub
from tests.site.factories import make_user, open_cohort

SLOW_START = "import time\ntime.sleep(30)\n"


@pytest.fixture
def cohort(course_dirs, db):
    from accounts.models import Organization
    from learning.models import Enrolment
    from learning.services.enrolment import enrol
    from learning.services.publishing import publish_course

    org = Organization.objects.create(slug="uni", name="Uni", kind="university")
    instructor = make_user("inst")
    version = publish_course("tiny", by=instructor).version
    version.course.organization = org
    version.course.save(update_fields=["organization"])
    cohort = open_cohort(version.course, instructor, seat_limit=10)
    enrol(cohort, make_user("stud"), source=Enrolment.Source.MANUAL)
    return cohort


@pytest.fixture
def student(cohort):
    from accounts.models import User

    return User.objects.get(username="stud")


@pytest.fixture
def granted(cohort):
    """The default profiles; the simulator granted to the cohort; 2 GPU-hours per student."""
    from compute.defaults import ensure_default_profiles
    from compute.models import Allocation, GpuProfile, ProfileGrant

    ensure_default_profiles()
    simulator = GpuProfile.objects.get(slug="cpu-simulator")
    ProfileGrant.objects.create(profile=simulator, cohort=cohort)
    org = cohort.course.organization
    Allocation.objects.create(organization=org, gpu_hours=100)
    Allocation.objects.create(organization=org, cohort=cohort, gpu_hours=20, per_user_gpu_hours=2)
    return simulator


def hub_profiles(tmp_path) -> dict:
    from compute.defaults import default_profile_objects
    from compute.profiles import render_local

    data = render_local(default_profile_objects())
    slow_dir = tmp_path / "slow-start"
    slow_dir.mkdir()
    (slow_dir / "sitecustomize.py").write_text(SLOW_START)
    # A test-only profile whose server takes 30 s to come up (for the spawn-timeout test).
    data["profiles"]["slow"] = {
        **data["profiles"]["cpu-simulator"],
        "environment": {"PYTHONPATH": str(slow_dir)},
    }
    return data


@pytest.fixture(scope="session")
def hub(live_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("hub")
    process = Hub(root, live_server.url, hub_profiles(root))
    # The slow profile's sitecustomize lives under /tmp, which each server sees as its own.
    process.env["KC_SESSION_READONLY_PATHS"] = str(root / "slow-start")
    process.start()
    yield process
    process.shutdown()


@pytest.fixture
def hub_settings(hub, settings):
    settings.KC_HUB_URL = hub.url
    settings.KC_HUB_API_URL = ""
    settings.KC_HUB_API_TOKEN = hub.token
    settings.KC_SPAWN_TIMEOUT_S = 90
    yield hub
    hub.stop_all_servers()


@pytest.fixture
def hub_login(hub_settings, live_server, settings, tmp_path):
    """The hub, with the site's OAuth application for it: people log in through the site."""
    from compute.oauth_app import ensure_hub_application

    hub = hub_settings
    settings.DATA_DIR = tmp_path
    ensure_hub_application(
        f"{hub.url}/hub/oauth_callback", client_id=hub.client_id, client_secret=hub.client_secret
    )
    return hub


@pytest.fixture
def dead_hub(settings):
    from tests.compute.hubproc import free_port

    settings.KC_HUB_URL = f"http://127.0.0.1:{free_port()}"
    settings.KC_HUB_API_URL = ""
    settings.KC_HUB_API_TOKEN = "not-a-real-token-0123456789"
    settings.KC_HUB_TIMEOUT_S = 2
