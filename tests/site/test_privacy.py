"""Data rights: a person downloads everything held about them; an operator anonymizes or deletes
a person while the course's figures stay right and other people's data is untouched; retention."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from tests.site.factories import make_user
from tests.site.grading_helpers import grader_result, student_notebook

pytestmark = pytest.mark.django_db


def graded(cohort, student, score: float, answer: str = "    return a + b", at=None):
    from grading import services

    submission = services.submit(cohort, student, "add", student_notebook(answer))
    services.record_result(submission, submission.assignment, grader_result(score))
    if at is not None:
        type(submission).objects.filter(pk=submission.pk).update(submitted_at=at)
    return submission


@pytest.fixture
def class_of_two(published, people):
    """The tiny cohort with two graded students, an override, a GPU session and a hackathon."""
    from compute.models import HubSession
    from grading.services import override_grade
    from learning.models import Enrolment
    from learning.services.enrolment import enrol

    cohort, student = published["cohort"], people["student"]
    classmate = make_user("classmate")
    enrol(cohort, classmate, source=Enrolment.Source.MANUAL)
    mine = graded(cohort, student, 2.0, answer="    return a + b  # mine")
    theirs = graded(cohort, classmate, 3.0)
    override_grade(cohort, student, "add", 2.5, "style", by=people["instructor"])
    HubSession.objects.create(
        user=student, hub_username="stud", status="stopped", message="spawn ok", charged_seconds=60
    )
    return {"cohort": cohort, "mine": mine, "theirs": theirs, "classmate": classmate}


def gradebook_figures(cohort) -> dict:
    from grading.selectors import gradebook, score_distribution

    _columns, rows = gradebook(cohort)
    totals = sorted(r.total for r in rows)
    return {
        "rows": len(rows),
        "totals": totals,
        "mean": sum(totals) / len(totals) if totals else None,
        "distribution": {k: sorted(v) for k, v in score_distribution(cohort).items()},
    }


def test_a_student_downloads_everything_held_about_them_as_one_zip(class_of_two, people):
    from tests.site.hackathon import hackathon_world

    world = hackathon_world("privacy-hack")
    student = people["student"]
    client = Client()
    client.force_login(student)
    page = client.get(reverse("my-data"))
    assert page.status_code == 200 and reverse("my-data-zip") in page.content.decode()

    response = client.get(reverse("my-data-zip"))
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    data = json.loads(archive.read("data.json"))
    (profile,) = data["accounts.user"]
    assert profile["fields"]["username"] == "stud"
    assert profile["fields"]["email"] == "stud@example.org"
    assert profile["fields"]["password"] == "(withheld)"
    assert b"pbkdf2" not in response.content and b"md5$" not in response.content
    assert [e["fields"]["role"] for e in data["learning.enrolment"]] == ["student"]
    (submission,) = data["grading.submission"]
    assert archive.read(submission["fields"]["notebook"]) == class_of_two["mine"].notebook
    assert data["grading.grade"][0]["fields"]["score"] == 2.0
    assert data["grading.gradeoverride"][0]["fields"]["score"] == 2.5
    assert data["compute.hubsession"][0]["fields"]["charged_seconds"] == 60
    # Nothing about the classmate travels with it.
    assert "classmate" not in json.dumps(data)
    assert len(data["grading.submission"]) == 1
    audit = json.loads(archive.read("audit.json"))
    assert any(e["action"] == "grading.override" for e in audit)

    # A hackathon member gets their team, its project and the project's files; a judge their
    # scores.
    client.force_login(world["member"])
    member_data = zipfile.ZipFile(io.BytesIO(client.get(reverse("my-data-zip")).content))
    names = member_data.namelist()
    member_json = json.loads(member_data.read("data.json"))
    assert member_json["teams.teammembership"] and member_json["teams.team"][0]["label"] == (
        "Matrix team"
    )
    assert any(name.startswith("files/projects-projectversion/") for name in names)
    from judging.models import Criterion
    from judging.services import record_scores

    speed = Criterion.objects.get(event=world["event"])
    record_scores(world["assignment"], {speed.pk: 4})
    client.force_login(world["judge"])
    judge_json = json.loads(
        zipfile.ZipFile(io.BytesIO(client.get(reverse("my-data-zip")).content)).read("data.json")
    )
    assert judge_json["judging.score"][0]["fields"]["points"] == 4
    assert AuditEntry.objects.filter(action="privacy.export").count() == 3


def test_anonymizing_keeps_the_course_figures_and_removes_the_identity(class_of_two, people):
    cohort, student, classmate = (
        class_of_two["cohort"],
        people["student"],
        class_of_two["classmate"],
    )
    before = gradebook_figures(cohort)
    theirs = class_of_two["theirs"]
    classmate_before = (theirs.notebook, theirs.grade.score, classmate.username, classmate.email)
    seats = type(cohort).objects.get(pk=cohort.pk).seats_taken

    call_command("erase_user", "stud", "--anonymize", stdout=io.StringIO())

    student.refresh_from_db()
    assert student.username == f"deleted-{student.pk}"
    assert (student.email, student.first_name, student.is_active) == ("", "", False)
    assert not student.has_usable_password()
    assert not Client().login(username="stud", password="pw-for-tests-123")
    assert gradebook_figures(cohort) == before
    assert type(cohort).objects.get(pk=cohort.pk).seats_taken == seats
    theirs.refresh_from_db()
    classmate.refresh_from_db()
    assert (theirs.notebook, theirs.grade.score, classmate.username, classmate.email) == (
        classmate_before
    )
    # The audit log keeps the override but no longer names the student.
    labels = " ".join(
        f"{e.actor_label} {e.target_label}"
        for e in AuditEntry.objects.exclude(action="privacy.anonymize")
    )
    assert "stud " not in labels + " " and f"deleted-{student.pk}" in " ".join(
        e.target_label for e in AuditEntry.objects.filter(action="learning.role")
    )


def test_deleting_removes_the_person_and_counts_seats_down_leaving_others_untouched(
    class_of_two, people
):
    from grading.models import Submission
    from learning.models import Cohort

    cohort, student = class_of_two["cohort"], people["student"]
    theirs = class_of_two["theirs"]
    seats = Cohort.objects.get(pk=cohort.pk).seats_taken

    call_command("erase_user", "stud", "--delete", stdout=io.StringIO())

    assert not type(student).objects.filter(pk=student.pk).exists()
    assert not Submission.objects.filter(pk=class_of_two["mine"].pk).exists()
    assert Cohort.objects.get(pk=cohort.pk).seats_taken == seats - 1
    theirs_now = Submission.objects.get(pk=theirs.pk)
    assert theirs_now.notebook == theirs.notebook and theirs_now.grade.score == 3.0
    figures = gradebook_figures(cohort)
    assert figures["rows"] == 1
    assert AuditEntry.objects.filter(action="privacy.delete").exists()
    assert not AuditEntry.objects.filter(target_label__contains="stud ").exists()


def test_a_judge_with_scores_cannot_be_deleted_only_anonymized():
    from django.core.management.base import CommandError

    from judging.models import Criterion
    from judging.services import record_scores
    from tests.site.hackathon import hackathon_world

    world = hackathon_world("erase-hack")
    speed = Criterion.objects.get(event=world["event"])
    record_scores(world["assignment"], {speed.pk: 4})
    with pytest.raises(CommandError, match="Anonymize"):
        call_command("erase_user", world["judge"].username, "--delete", stdout=io.StringIO())
    call_command("erase_user", world["judge"].username, "--anonymize", stdout=io.StringIO())
    assert world["assignment"].scores.get().points == 4


def test_the_admin_action_anonymizes_selected_people(people):
    target = make_user("leaver")
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "anonymize_users", "_selected_action": [target.pk]},
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.username == f"deleted-{target.pk}" and not target.is_active


def test_retention_deletes_old_superseded_submissions_and_clears_old_session_logs(
    class_of_two, people, settings
):
    from compute.models import HubSession
    from grading.models import Submission
    from grading.selectors import counted_submissions

    cohort, student = class_of_two["cohort"], people["student"]
    long_ago = timezone.now() - timedelta(days=400)
    old_attempt = graded(cohort, student, 1.0, at=long_ago - timedelta(days=1))
    Submission.objects.filter(pk=class_of_two["mine"].pk).update(submitted_at=long_ago)
    HubSession.objects.filter(user=student).update(requested_at=long_ago)
    counted_before = {k: s.pk for k, s in counted_submissions(cohort).items()}
    figures = gradebook_figures(cohort)

    settings.KC_RETENTION_SUBMISSION_DAYS = 365
    settings.KC_RETENTION_SESSION_LOG_DAYS = 180
    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert "submissions_deleted 1" in out.getvalue()
    assert Submission.objects.filter(pk=old_attempt.pk).exists()

    call_command("apply_retention", stdout=io.StringIO())
    assert not Submission.objects.filter(pk=old_attempt.pk).exists()
    assert Submission.objects.filter(pk=class_of_two["mine"].pk).exists()  # it counts
    assert {k: s.pk for k, s in counted_submissions(cohort).items()} == counted_before
    assert gradebook_figures(cohort) == figures
    session = HubSession.objects.get(user=student)
    assert session.message == "" and session.charged_seconds == 60
    assert AuditEntry.objects.filter(action="privacy.retention").count() == 1
