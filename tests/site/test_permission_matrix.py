"""Every view against every role, anonymous included.

A new URL without a row here fails `test_every_view_is_in_the_matrix`, so the matrix stays whole.
"""

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from accounts.permissions import actions, can
from tests.site.contests.world import CONTEST_PUBLIC, CONTEST_URLS
from tests.site.grading_helpers import held_review, student_notebook

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "outsider", "student", "ta", "instructor", "staff"]
OK, DENIED, LOGIN, PROTOCOL = "ok", "denied", "login", "protocol-error"
NOT_FOUND = "not-found"

# name -> (method, expected outcome per role in ROLES order)
MATRIX = {
    "home": ("get", [OK, OK, OK, OK, OK, OK]),
    "login": ("get", [OK, OK, OK, OK, OK, OK]),
    "register": ("get", [OK, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN]),  # signed-in users go home
    "profile": ("get", [LOGIN, OK, OK, OK, OK, OK]),
    "password_reset": ("get", [OK, OK, OK, OK, OK, OK]),
    "password_reset_done": ("get", [OK, OK, OK, OK, OK, OK]),
    "password_reset_confirm": ("get", [OK, OK, OK, OK, OK, OK]),  # a bad token: "link expired"
    "password_reset_complete": ("get", [OK, OK, OK, OK, OK, OK]),
    "oidc-login": ("get", [NOT_FOUND] * 6),  # single sign-on is off unless KC_OIDC_* are set
    "oidc-callback": ("get", [NOT_FOUND] * 6),
    "healthz": ("get", [OK, OK, OK, OK, OK, OK]),
    "readyz": ("get", [OK, OK, OK, OK, OK, OK]),
    "set_language": ("post", [OK, OK, OK, OK, OK, OK]),
    "logout": ("post", [OK, OK, OK, OK, OK, OK]),
    "join": ("get", [LOGIN, OK, OK, OK, OK, OK]),
    "join-code": ("get", [LOGIN, OK, OK, OK, OK, OK]),
    "cohort-detail": ("get", [LOGIN, DENIED, OK, OK, OK, OK]),
    "assignment-detail": ("get", [LOGIN, DENIED, OK, OK, OK, OK]),
    "assignment-notebook": ("get", [LOGIN, DENIED, OK, OK, OK, OK]),
    "teach-dashboard": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "teach-publish": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),
    "teach-course": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "teach-cohort": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "teach-invite": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),
    "teach-add-member": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),
    "teach-import": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),
    "teach-policy": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),
    "teach-schedule": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),
    "teach-extension": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),
    "teach-move-version": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),
    "admin:index": ("get", [LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, OK]),
    "submit": ("post", [LOGIN, DENIED, OK, DENIED, DENIED, OK]),
    "submission-detail": ("get", [LOGIN, DENIED, OK, OK, OK, OK]),
    "submission-status": ("get", [LOGIN, DENIED, OK, OK, OK, OK]),
    "submission-feedback": ("get", [LOGIN, DENIED, OK, OK, OK, OK]),
    "gradebook": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "gradebook-csv": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "grade-override": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),
    "regrade": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),
    "regrade-detail": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "release-tests": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),
    "review-queue": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "review-detail": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "review-decide": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),  # instructor only
    "manual-desk": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),  # a TA grades by hand
    "manual-grade": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "manual-release": ("post", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),  # instructor only
    # Feedback, progress and similarity (grading.views_feedback, grading.views_insight).
    "submission-feedback-page": ("get", [LOGIN, DENIED, OK, OK, OK, OK]),
    "submission-feedback-download": ("get", [LOGIN, DENIED, OK, OK, OK, OK]),
    "my-progress": ("get", [LOGIN, DENIED, OK, DENIED, DENIED, OK]),  # a student's own
    "cohort-progress": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "student-progress": ("get", [LOGIN, DENIED, OK, OK, OK, OK]),  # the student's own page
    "assignment-insight": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "similarity": ("get", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),  # instructors only
    "similarity-pair": ("get", [LOGIN, DENIED, DENIED, DENIED, OK, OK]),
    # Course roles give nothing in an event; event roles are checked in test_events.py.
    "event-list": ("get", [LOGIN, OK, OK, OK, OK, OK]),
    "event-detail": ("get", [LOGIN, DENIED, DENIED, DENIED, DENIED, OK]),
    # Hackathon pages: event roles decide (see test_events_matrix.py); course roles give nothing.
    "event-register": ("get", [LOGIN, OK, OK, OK, OK, OK]),  # anyone signed in may try to register
    "team-join": ("get", [LOGIN, OK, OK, OK, OK, OK]),  # the invite link; joining checks more
    **{
        name: (method, [LOGIN, DENIED, DENIED, DENIED, DENIED, OK])
        for name, method in [
            ("event-banner", "get"),
            ("event-announce", "post"),
            ("event-dashboard", "get"),
            ("event-manage", "get"),
            ("event-mentor", "get"),
            ("event-gpu", "get"),
            ("event-gpu-card", "get"),
            ("event-teams", "get"),
            ("team-create", "post"),
            ("team-join-code", "post"),
            ("team-leave", "post"),
            ("team-looking", "post"),
            ("team-organize", "post"),
            ("team-project", "get"),
            ("project-file", "get"),
            ("judge-home", "get"),
            ("judge-conflict", "post"),
            ("judge-score", "get"),
            ("judging-manage", "get"),
            ("event-results", "get"),
            ("event-results-csv", "get"),
            ("help-home", "get"),  # cohort queues: tests/site/test_helpqueue.py
            ("help-queue", "get"),
            ("help-queue-json", "get"),
            ("help-request-json", "get"),
            ("help-action", "post"),
        ]
    },
    # Scored challenges: event roles decide (tests/site/contests/test_contest_matrix.py); the
    # public board is open to anyone, even signed out, unless the challenge says otherwise.
    **{
        name: (
            method,
            [OK] * 6 if name in CONTEST_PUBLIC else [LOGIN, DENIED, DENIED, DENIED, DENIED, OK],
        )
        for name, method in CONTEST_URLS.items()
    },
    "sessions": ("get", [LOGIN, OK, OK, OK, OK, OK]),
    "session-launch": ("post", [LOGIN, OK, OK, OK, OK, OK]),  # refusals come back as messages
    "session-status": ("get", [LOGIN, DENIED, OK, DENIED, DENIED, OK]),
    "session-events": ("get", [LOGIN, DENIED, OK, DENIED, DENIED, OK]),
    "session-stop": ("post", [LOGIN, DENIED, OK, DENIED, DENIED, OK]),
    "session-usage": ("get", [LOGIN, OK, OK, OK, OK, OK]),
    "session-usage-csv": ("get", [LOGIN, OK, OK, OK, OK, OK]),
    "session-submit": ("post", [LOGIN, DENIED, OK, DENIED, DENIED, OK]),
    "cohort-gpu-usage": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "cohort-gpu-usage-csv": ("get", [LOGIN, DENIED, DENIED, OK, OK, OK]),
    "audit-log": ("get", [LOGIN, DENIED, DENIED, DENIED, DENIED, OK]),  # site staff only
    "audit-csv": ("get", [LOGIN, DENIED, DENIED, DENIED, DENIED, OK]),
    "my-data": ("get", [LOGIN, OK, OK, OK, OK, OK]),  # everyone's own data
    "my-data-zip": ("get", [LOGIN, OK, OK, OK, OK, OK]),
    # OAuth2/OIDC endpoints: protocol errors (no client, no token) answer every role alike.
    "oauth2_provider:authorize": ("get", [LOGIN, PROTOCOL, PROTOCOL, PROTOCOL, PROTOCOL, PROTOCOL]),
    "oauth2_provider:token": ("post", [PROTOCOL] * 6),
    "oauth2_provider:revoke-token": ("post", [PROTOCOL] * 6),
    "oauth2_provider:user-info": ("get", [PROTOCOL] * 6),
    "oauth2_provider:jwks-info": ("get", [OK] * 6),
    "oauth2_provider:oidc-connect-discovery-info": ("get", [OK] * 6),
}


def project_url_names() -> set[str]:
    names = set()
    for pattern in get_resolver().url_patterns:
        if getattr(pattern, "namespace", None) == "admin":
            names.add("admin:index")
        elif getattr(pattern, "namespace", None) == "oauth2_provider":
            names.update(f"oauth2_provider:{p.name}" for p in pattern.url_patterns if p.name)
        elif hasattr(pattern, "url_patterns"):
            names.update(p.name for p in pattern.url_patterns if p.name)
        elif pattern.name:
            names.add(pattern.name)
    return names


def test_every_view_is_in_the_matrix():
    assert project_url_names() == set(MATRIX)


def url_for(name: str, published, people) -> str:
    from grading.models import RegradeBatch
    from grading.services import submit

    cohort, slug = published["cohort"], "add"
    if name in {"session-status", "session-events", "session-stop"}:
        from compute.models import HubSession

        session = HubSession.objects.create(
            user=people["student"], hub_username="stud", status="stopped"
        )
        return reverse(name, args=[session.pk])
    if name in {"submission-feedback-page", "submission-feedback-download", "similarity-pair"}:
        from grading.services import record_result
        from learning.services.enrolment import enrol
        from tests.site.factories import make_user
        from tests.site.grading_helpers import grader_result

        classmate = make_user("classmate")
        enrol(cohort, classmate, source="manual")
        graded = []
        for student in (people["student"], classmate):
            submission = submit(cohort, student, slug, student_notebook())
            record_result(submission, submission.assignment, grader_result(3))
            graded.append(submission.pk)
        if name == "similarity-pair":  # two students' answers side by side
            return reverse(name, args=[cohort.pk, slug, *graded])
        return reverse(name, args=[graded[0]])
    if name.startswith("submission-"):
        submission = submit(cohort, people["student"], slug, student_notebook())
        return reverse(name, args=[submission.pk])
    if name == "manual-grade":
        return reverse(name, args=[held_review(cohort, people["student"]).submission_id])
    if name in {"review-detail", "review-decide"}:
        return reverse(name, args=[held_review(cohort, people["student"]).pk])
    if name == "regrade-detail":
        return reverse(
            name, args=[RegradeBatch.objects.create(cohort=cohort, assignment_slug=slug).pk]
        )
    from tests.site.hackathon import HACKATHON_URLS, hackathon_url, hackathon_world

    if name in CONTEST_URLS:
        from tests.site.contests.world import contest_url, contest_world

        return contest_url(name, contest_world())
    if name in HACKATHON_URLS:
        return hackathon_url(name, hackathon_world())
    if name == "event-detail":
        from tests.site.factories import make_event

        return reverse(name, args=[make_event().slug])
    args = {
        "submit": [cohort.pk, slug],
        "regrade": [cohort.pk, slug],
        "release-tests": [cohort.pk, slug],
        "assignment-insight": [cohort.pk, slug],
        "similarity": [cohort.pk, slug],
        "my-progress": [cohort.pk],
        "cohort-progress": [cohort.pk],
        "student-progress": [cohort.pk, people["student"].pk],
        "manual-desk": [cohort.pk, slug],
        "manual-release": [cohort.pk, slug],
        "cohort-detail": [cohort.pk],
        "assignment-detail": [cohort.pk, slug],
        "assignment-notebook": [cohort.pk, slug],
        "session-submit": [cohort.pk, slug],
        "join-code": ["NOPE1234"],
        "password_reset_confirm": ["MQ", "not-a-token"],
        "teach-publish": ["tiny"],
        "teach-course": [published["course"].slug],
    }.get(name)
    cohort_scoped = {
        "gradebook",
        "gradebook-csv",
        "grade-override",
        "cohort-gpu-usage",
        "cohort-gpu-usage-csv",
        "review-queue",
    }
    if name in cohort_scoped or (
        name.startswith("teach-")
        and name not in {"teach-dashboard", "teach-publish", "teach-course"}
    ):
        args = [cohort.pk]
    return reverse(name, args=args)


def outcome(response) -> str:
    if response.status_code in (400, 401):
        return PROTOCOL
    if response.status_code == 403:
        return DENIED
    if response.status_code == 404:
        return NOT_FOUND
    if (
        response.status_code == 302
        and "login" in response["Location"]
        and "next=" in response["Location"]
    ):
        return LOGIN
    if response.status_code == 302 and response["Location"] == reverse("home"):
        return LOGIN if response.request["PATH_INFO"] == reverse("register") else OK
    assert response.status_code in (200, 302), response.status_code
    return OK


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_view_by_role(name, published, people):
    method, expected = MATRIX[name]
    users = {"anonymous": None, **people}
    url = url_for(name, published, people)
    data = {"version": published["version"].pk} if name == "teach-move-version" else {}
    for role, want in zip(ROLES, expected, strict=True):
        client = Client()
        if users[role] is not None:
            client.force_login(users[role])
        response = getattr(client, method)(url, data) if method == "post" else client.get(url)
        assert outcome(response) == want, f"{name} as {role}: {response.status_code}"


def test_permission_rules_answer_for_each_role(published, people):
    cohort, course = published["cohort"], published["course"]
    table = {
        ("cohort.manage", cohort): {"instructor", "staff"},
        ("cohort.roster", cohort): {"instructor", "ta", "staff"},
        ("cohort.view", cohort): {"instructor", "ta", "student", "staff"},
        ("course.publish", course): {"instructor", "staff"},
        ("course.teach", course): {"instructor", "ta", "staff"},
        ("manual.grade", cohort): {"instructor", "ta", "staff"},
        ("manual.release", cohort): {"instructor", "staff"},
    }
    for (action, obj), allowed in table.items():
        for role in ROLES:
            user = people.get(role)
            assert can(user, action, obj) == (role in allowed), (action, role)
    assert "cohort.manage" in actions()


def test_unknown_action_is_an_error(people):
    with pytest.raises(KeyError):
        can(people["staff"], "course.delete-everything")
