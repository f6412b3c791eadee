"""The teacher's role travels with the spawn: the site says in the spawn's user_options whether
the user teaches, and the hub believes it only from the site's own service token.

(Issue 8: an instructor whose first server the site started before they ever opened the hub had
no groups there yet and got the student tool set until their next launch.)"""

from __future__ import annotations

import os
import re
from types import SimpleNamespace

import pytest
import requests
from traitlets.config.loader import PyFileConfigLoader

from tests.compute.hubproc import REPO
from tests.compute.test_hub_pages import (
    NBGRADER_STAFF_PLUGINS,
    log_in_through_the_site,
    page_config,
)

CONFIG = REPO / "deploy" / "jupyterhub" / "jupyterhub_config.py"
STUDENT_SET = str(REPO / "deploy" / "jupyterhub" / "nbgrader-student")


@pytest.fixture
def hub_config(tmp_path, monkeypatch):
    monkeypatch.setenv("KC_HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KC_HUB_API_TOKEN", "a-token-for-this-test")
    return PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config()


def _spawn(requester, role, groups=(), admin=False):
    """A spawner as the hub hands it to the hooks: the request's handler and the options."""
    user = SimpleNamespace(admin=admin, groups=[SimpleNamespace(name=g) for g in groups])
    handler = None if requester is None else SimpleNamespace(current_user=requester)
    options = {"profile": "cpu-simulator", **({"role": role} if role else {})}
    return SimpleNamespace(handler=handler, user_options=options, user=user)


def _gets_student_set(config, spawner) -> bool:
    config.Spawner.pre_spawn_hook(spawner)
    config_path = config.Spawner.environment.get_value({})["JUPYTER_CONFIG_PATH"](spawner)
    return STUDENT_SET in config_path.split(os.pathsep)


def test_the_hub_takes_the_role_only_from_the_sites_token(hub_config):
    from jupyterhub import orm

    site = orm.Service(name="kernelcamp-site")
    other_service = orm.Service(name="idle-culler")
    someone = orm.User(name="stud")
    # The site's word decides, both ways (a TA who left keeps no tools on stale hub groups).
    assert not _gets_student_set(hub_config, _spawn(site, "staff"))
    assert _gets_student_set(hub_config, _spawn(site, "student", groups=["course-x-instructor"]))
    # Anyone else asking for the tools gets what the hub's own groups say.
    for requester in (other_service, someone, SimpleNamespace(name="kernelcamp-site"), None):
        assert _gets_student_set(hub_config, _spawn(requester, "staff")), requester
    assert not _gets_student_set(hub_config, _spawn(someone, "staff", groups=["cohort-3-ta"]))
    assert not _gets_student_set(hub_config, _spawn(None, None, admin=True))
    # A role the site does not send is no role.
    assert _gets_student_set(hub_config, _spawn(site, "admin"))


def test_the_site_sends_the_role_it_knows(student, cohort):
    from compute.models import GpuProfile, HubSession
    from compute.services import spawn_options
    from learning.models import CourseStaff

    instructor = CourseStaff.objects.get(course=cohort.course).user
    profile = GpuProfile(slug="cpu-simulator")
    as_staff = spawn_options(HubSession(user=instructor, profile=profile))
    assert as_staff == {"profile": "cpu-simulator", "role": "staff"}
    assert spawn_options(HubSession(user=student, profile=profile))["role"] == "student"


def _disabled_extensions(hub, name: str) -> set[str]:
    """JupyterLab's page config of the user's server, fetched with the site's token."""
    http = requests.Session()
    http.headers.update(hub.headers)
    return set(page_config(http, hub.url, name)["disabledExtensions"])


@pytest.mark.django_db(transaction=True)
def test_an_instructor_new_to_the_hub_gets_the_tools_and_a_student_cannot_ask_for_them(
    hub_login, cohort, granted
):
    from compute import services
    from compute.models import HubSession
    from learning.models import Enrolment
    from tests.site.factories import make_user

    hub = hub_login  # the hub, with the site's OAuth application for it
    # An instructor of this test's own: the hub keeps the accounts other tests opened there
    # (the cohort's own instructor may already have a hub account, with its groups).
    instructor = make_user("newteacher")
    Enrolment.objects.create(
        cohort=cohort,
        user=instructor,
        role=Enrolment.Role.INSTRUCTOR,
        source=Enrolment.Source.MANUAL,
    )
    name = instructor.username
    assert hub.api("GET", f"/users/{name}").status_code == 404  # never opened the hub
    # A student of this test's own: the hub keeps accounts and homes between tests (another
    # test counts what the site delivers into `stud`'s home).
    pupil = make_user("pupil")
    Enrolment.objects.create(cohort=cohort, user=pupil, source=Enrolment.Source.MANUAL)

    # Both launched by the site, as its launch job does; the instructor has no hub groups.
    sessions = [services.launch(user, "cpu-simulator") for user in (instructor, pupil)]
    for session in sessions:
        session = services.follow_spawn(session)
        assert session.status == HubSession.Status.RUNNING, (
            session.message,
            hub.log.read_text()[-3000:],
        )
    assert not hub.api("GET", f"/users/{name}").json()["groups"]
    assert not NBGRADER_STAFF_PLUGINS & _disabled_extensions(hub, name)
    assert NBGRADER_STAFF_PLUGINS <= _disabled_extensions(hub, "pupil")

    # The student, logged in to the hub, asks it for a server with the tools: refused, through
    # the hub's spawn form and its REST API alike (only the site's token may start servers).
    services.stop(HubSession.objects.get(user=pupil, status="running"))
    http = log_in_through_the_site(hub.url, "pupil")
    home = http.get(f"{hub.url}/hub/home", timeout=60).text
    xsrf = re.search(r'xsrf_token: "([^"]+)"', home).group(1)
    form = http.post(
        f"{hub.url}/hub/spawn/pupil",
        data={"_xsrf": xsrf, "profile": "cpu-simulator", "role": "staff"},
        timeout=60,
    )
    assert form.status_code == 403, form.status_code  # (with the hub's own XSRF token)
    api = http.post(
        f"{hub.url}/hub/api/users/pupil/server",
        json={"profile": "cpu-simulator", "role": "staff"},
        headers={"X-XSRFToken": xsrf, "Referer": f"{hub.url}/hub/home"},
        timeout=60,
    )
    assert api.status_code == 403 and "scopes" in api.json()["message"], api.text
    assert not hub.api("GET", "/users/pupil").json()["servers"]
