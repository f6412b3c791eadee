"""The grader's messages in the reader's language: its catalogue (grader/messages.py) through
the grading app's template filter, and its feedback page's summary through the page's lang."""

import pytest
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation

from grading import services
from tests.site.grading_helpers import student_notebook

STOPPED = "stopped: the cell used more than 10 s of CPU time"


def test_a_cell_message_is_shown_in_the_readers_language():
    template = Template("{% load grader_messages %}{{ message|grader_message }}")
    with translation.override("ko"):
        assert (
            template.render(Context({"message": STOPPED}))
            == "중단됨: 셀이 CPU 시간을 10초 넘게 썼습니다"
        )
    with translation.override("en"):
        assert template.render(Context({"message": STOPPED})) == STOPPED


@pytest.mark.django_db
@pytest.mark.slow
def test_the_feedback_page_says_its_language(published, people):
    submission = services.submit(published["cohort"], people["student"], "add", student_notebook())
    assert services.grade_now(submission.pk) == "graded"
    client = Client()
    client.force_login(people["student"])
    old_url = reverse("submission-feedback", args=[submission.pk])
    url = reverse("submission-feedback-page", args=[submission.pk])
    # The first feedback address leads to the page in the site's design.
    assert client.get(old_url)["Location"] == url
    korean = client.get(url, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert '<html lang="ko">' in korean and ">점수</h2>" in korean
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in english and ">Score</h2>" in english
