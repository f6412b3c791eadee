"""Submissions are limited per student, per assignment, per minute, with a message that says so."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import RateLimitHit
from grading.models import Submission
from tests.site.grading_helpers import student_notebook

pytestmark = pytest.mark.django_db


def upload(client: Client, cohort, slug: str = "add"):
    notebook = SimpleUploadedFile(f"{slug}.ipynb", student_notebook(), "application/json")
    return client.post(
        reverse("submit", args=[cohort.pk, slug]), {"notebook": notebook}, follow=True
    )


def test_a_student_may_submit_a_few_times_a_minute(published, people, settings):
    settings.KC_SUBMISSIONS_PER_MINUTE = 2
    cohort = published["cohort"]
    client = Client()
    client.force_login(people["student"])
    assert upload(client, cohort).status_code == 200
    assert upload(client, cohort).status_code == 200
    refused = upload(client, cohort)
    assert Submission.objects.count() == 2
    assert "2 times in the last minute" in refused.content.decode()
    assert refused.redirect_chain[-1][0] == reverse("assignment-detail", args=[cohort.pk, "add"])
    # A minute later the student may submit again.
    RateLimitHit.objects.update(at="2000-01-01T00:00:00Z")
    upload(client, cohort)
    assert Submission.objects.count() == 3


def test_submitting_from_a_session_counts_against_the_same_limit(published, people, settings):
    settings.KC_SUBMISSIONS_PER_MINUTE = 1
    cohort = published["cohort"]
    client = Client()
    client.force_login(people["student"])
    upload(client, cohort)
    from_session = client.post(reverse("session-submit", args=[cohort.pk, "add"]), follow=True)
    assert "1 time in the last minute" in from_session.content.decode()
