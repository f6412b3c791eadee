"""Project submissions: every version kept, editable until the final-submission phase ends, files
size-limited and served only as downloads, and the team sees what the judges see."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from events.models import Phase
from judging.models import JudgeAssignment
from projects.services import ProjectDraft, ProjectError, safe_file_name, submit_version
from teams.services import create_team
from tests.site.factories import make_user
from tests.site.hackathon import (
    hackathon,
    in_english,  # noqa: F401  (autouse)
    registered,
)

pytestmark = pytest.mark.django_db


def test_every_version_is_kept_and_a_new_version_keeps_the_file():
    event = hackathon()
    (ann,) = registered(event, "ann")
    team = create_team(event, ann, "Solo")
    first = submit_version(
        team, ann, ProjectDraft("Fast GEMM", "v1", file_name="gemm.ipynb", file_bytes=b"{}")
    )
    second = submit_version(team, ann, ProjectDraft("Faster GEMM", "v2"))
    assert (first.number, second.number) == (1, 2)
    assert second.file_name == "gemm.ipynb" and bytes(second.file_bytes) == b"{}"
    assert [v.title for v in team.project.versions.all()] == ["Faster GEMM", "Fast GEMM"]


def test_submissions_close_when_the_phase_ends():
    event = hackathon()
    (ann,) = registered(event, "ann")
    team = create_team(event, ann, "Late")
    Phase.objects.filter(event=event, kind="submission").update(
        ends_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(ProjectError, match="closed"):
        submit_version(team, ann, ProjectDraft("Too late", "x"))


@override_settings(KC_PROJECT_FILE_LIMIT=100)
def test_files_are_size_limited_and_named_safely():
    event = hackathon()
    (ann,) = registered(event, "ann")
    team = create_team(event, ann, "Big")
    with pytest.raises(ProjectError, match="larger"):
        submit_version(
            team, ann, ProjectDraft("t", "d", file_name="a.ipynb", file_bytes=b"x" * 101)
        )
    with pytest.raises(ProjectError, match="notebook"):
        submit_version(team, ann, ProjectDraft("t", "d", file_name="run.sh", file_bytes=b"x"))
    assert safe_file_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_file_name('a"b<script>.ipynb') == "a_b_script_.ipynb"


def test_team_sees_what_judges_see_and_the_file_is_a_download():
    event = hackathon()
    ann, outsider_participant = registered(event, "ann", "eve")
    judge = make_user("judge")
    event.roles.create(user=judge, role="judge")
    team = create_team(event, ann, "Shown")
    client = Client()
    client.force_login(ann)
    url = reverse("team-project", args=[team.pk])
    upload = SimpleUploadedFile("demo.ipynb", b"<script>alert(1)</script>")
    client.post(
        url,
        {
            "title": "Flash attention",
            "description": "Tiles",
            "repository_url": "https://git.example.org/x",
            "file": upload,
        },
    )
    version = team.project.versions.get()
    team_view = client.get(url).content.decode()
    client.force_login(judge)
    assert client.get(url).status_code == 403, "only assigned judges"
    JudgeAssignment.objects.create(event=event, project=team.project, judge=judge)
    judge_view = client.get(url).content.decode()

    def judged_part(page):
        start = page.index('id="project-as-judged"')
        return page[start : page.index("</div>", start)]

    assert judged_part(team_view) == judged_part(judge_view)
    assert "project-form" in team_view and "project-form" not in judge_view
    download = client.get(reverse("project-file", args=[version.pk]))
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    client.force_login(outsider_participant)
    assert client.get(reverse("project-file", args=[version.pk])).status_code == 403
    assert client.get(url).status_code == 403
