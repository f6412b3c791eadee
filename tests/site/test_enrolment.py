"""Enrolment by CSV, invite code and hand, within seat limits."""

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections
from django.utils import timezone

from accounts.models import User
from learning.models import Cohort, Enrolment
from learning.services.cohorts import create_invite_code
from learning.services.enrolment import (
    EnrolmentError,
    enrol,
    import_csv,
    join_with_code,
    preview_csv,
    unenrol,
)
from tests.site.factories import make_user

pytestmark = pytest.mark.django_db

GOOD_CSV = "email,name,username,role\nkim@example.org,Kim Minji,minji,student\nlee@example.org,Lee Joon,,\n"


def test_csv_preview_writes_nothing(published):
    cohort = published["cohort"]
    preview = preview_csv(cohort, GOOD_CSV)
    assert preview.ok and [r.username for r in preview.rows] == ["minji", "lee"]
    assert not User.objects.filter(email="kim@example.org").exists()


def test_csv_import_enrols_everyone(published):
    cohort = published["cohort"]
    import_csv(cohort, GOOD_CSV)
    assert set(cohort.enrolments.filter(source="csv").values_list("user__username", flat=True)) == {
        "minji",
        "lee",
    }
    cohort.refresh_from_db()
    assert cohort.seats_taken == 3


def test_csv_with_a_bad_row_imports_nothing(published):
    cohort = published["cohort"]
    text = GOOD_CSV + "not-an-email,Bad Row,,\nkim@example.org,Again,,\nx@example.org,X,,overlord\n"
    preview = preview_csv(cohort, text)
    errors = {row.line: row.errors for row in preview.rows if row.errors}
    assert set(errors) == {4, 5, 6}
    assert "not an email" in errors[4][0]
    assert "line 2" in errors[5][0]
    assert "overlord" in errors[6][0]
    with pytest.raises(EnrolmentError):
        import_csv(cohort, text)
    assert cohort.enrolments.count() == 2  # the instructor and the student from the fixture
    assert not User.objects.filter(email="kim@example.org").exists()


def test_csv_without_email_header_is_refused(published):
    preview = preview_csv(published["cohort"], "name\nKim\n")
    assert not preview.ok and "email" in preview.errors[0]


def test_csv_over_the_seat_limit_is_refused(published):
    cohort = published["cohort"]
    cohort.seat_limit = 2
    cohort.save()
    preview = preview_csv(cohort, GOOD_CSV)
    assert not preview.ok and "seats" in preview.errors[0]


def test_invite_code_joins_once_and_counts_uses(published, people):
    cohort = published["cohort"]
    invite = create_invite_code(cohort, max_uses=5)
    outsider = people["outsider"]
    first = join_with_code(outsider, invite.code.lower())
    again = join_with_code(outsider, invite.code)
    assert first.pk == again.pk and first.source == Enrolment.Source.INVITE
    invite.refresh_from_db()
    assert invite.uses == 1


def test_expired_and_used_up_codes_are_refused(published):
    cohort = published["cohort"]
    expired = create_invite_code(cohort, expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(EnrolmentError, match="expired"):
        join_with_code(make_user("late"), expired.code)
    single = create_invite_code(cohort, max_uses=1)
    join_with_code(make_user("first"), single.code)
    with pytest.raises(EnrolmentError, match="used up"):
        join_with_code(make_user("second"), single.code)
    with pytest.raises(EnrolmentError, match="no invite code"):
        join_with_code(make_user("third"), "ZZZZZZZZ")


def test_seat_limit_holds(published):
    cohort = published["cohort"]
    cohort.seat_limit = 2
    cohort.save()
    enrol(cohort, make_user("a"), source="manual")
    with pytest.raises(EnrolmentError, match="full"):
        enrol(cohort, make_user("b"), source="manual")
    unenrol(cohort.enrolments.get(user__username="a"))
    enrol(cohort, make_user("c"), source="manual")
    cohort.refresh_from_db()
    assert cohort.seats_taken == 2


@pytest.mark.django_db(transaction=True)
def test_seat_limit_holds_when_many_join_at_once(published):
    cohort = published["cohort"]
    Cohort.objects.filter(pk=cohort.pk).update(seat_limit=5)
    invite = create_invite_code(cohort)
    users = [make_user(f"rush{i}") for i in range(16)]
    results: list[str] = []
    barrier = threading.Barrier(len(users))

    def join(user):
        barrier.wait()
        try:
            join_with_code(user, invite.code)
            results.append("joined")
        except EnrolmentError:
            results.append("full")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=join, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cohort.refresh_from_db()
    students = cohort.enrolments.filter(role="student").count()
    assert students == 5 == cohort.seats_taken
    assert (
        results.count("joined") == 4 and results.count("full") == 12
    )  # one seat was the fixture's
