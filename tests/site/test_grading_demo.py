"""The demo cohort's seeded submissions: queued through the real submit path, and the copied
answer is the closest pair of the similarity page."""

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from grading import similarity
from grading.demo import load_demo_submissions, renamed
from grading.models import Submission
from learning.models import Cohort

pytestmark = pytest.mark.django_db


def test_demo_submissions_show_a_copy_and_a_partial_attempt():
    call_command("load_demo", stdout=io.StringIO())
    cohort = Cohort.objects.get(name="Demo cohort")
    students = [User.objects.get(username=f"student{i}") for i in (1, 2, 3)]
    assert Submission.objects.filter(cohort=cohort).count() == 3
    assert load_demo_submissions(cohort, students) == []  # once per cohort
    version = cohort.version
    first_slug = version.assignments.order_by("position")[0].slug
    pairs = similarity.closest_pairs(similarity.answers(cohort, first_slug))
    top = pairs[0]
    assert {top.a.submission.student, top.b.submission.student} == {students[0], students[1]}
    assert top.percent == 100 and all(p.percent < 50 for p in pairs[1:])


def test_renamed_keeps_strings_and_renames_names():
    assert renamed('out[i] = "i"\n') == 'result[idx] = "i"\n'
