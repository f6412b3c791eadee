"""Everyone enrolled can sign in: set-password links for CSV-imported people, password reset,
and failed sign-ins limited per account and per address."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import RateLimitHit, User

pytestmark = pytest.mark.django_db

ROSTER = "email,name\nnew.student@example.org,New Student\nstud@example.org,Already Here\n"


def link_in(message) -> str:
    return re.search(r"https?://\S+/accounts/reset/\S+/", message.body).group(0)


def choose_password(client: Client, link: str, password: str):
    """Follow a set-password link as a browser would: it redirects to a token-free address."""
    page = client.get(link, follow=True)
    assert page.status_code == 200 and page.context["validlink"], "the link should work"
    form_url = page.redirect_chain[-1][0]
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def test_csv_imported_student_signs_in_through_the_mailed_link(published, people, settings):
    settings.KC_SITE_URL = "https://camp.example.edu"
    cohort = published["cohort"]
    instructor = Client()
    instructor.force_login(people["instructor"])
    page = instructor.post(reverse("teach-import", args=[cohort.pk]), {"csv_text": ROSTER})

    newcomer = User.objects.get(email="new.student@example.org")
    assert not newcomer.has_usable_password()
    # Only the newcomer has no password: one mail, one copyable link on the result page.
    assert [m.to for m in mail.outbox] == [["new.student@example.org"]]
    link = link_in(mail.outbox[0])
    assert link.startswith("https://camp.example.edu/accounts/reset/")
    assert cohort.course.title in mail.outbox[0].body and "new.student" in mail.outbox[0].body
    html = page.content.decode()
    assert page.status_code == 200 and link in html and 'id="password-links"' in html

    student = Client()
    done = choose_password(student, link.removeprefix("https://camp.example.edu"), "gpu-kernels-42")
    assert done.status_code == 302 and done["Location"] == reverse("password_reset_complete")
    signed_in = student.post(
        reverse("login"), {"username": "new.student", "password": "gpu-kernels-42"}
    )
    assert signed_in.status_code == 302
    assert student.get(reverse("cohort-detail", args=[cohort.pk])).status_code == 200
    # The link worked once: it is bound to the password it replaced.
    again = Client().get(link.removeprefix("https://camp.example.edu"), follow=True)
    assert not again.context["validlink"]


def test_password_reset_reaches_accounts_without_a_password(people):
    csv_made = User.objects.create(username="nopw", email="NoPw@Example.org")
    csv_made.set_unusable_password()
    csv_made.save()
    client = Client()
    assert client.get(reverse("password_reset")).status_code == 200
    sent = client.post(reverse("password_reset"), {"email": "nopw@example.org"})
    assert sent["Location"] == reverse("password_reset_done")
    assert [m.to for m in mail.outbox] == [["NoPw@Example.org"]]
    assert "nopw" in mail.outbox[0].body
    # An unknown address looks the same to the asker, and mails no one.
    client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert len(mail.outbox) == 1
    path = re.search(r"/accounts/reset/\S+/", mail.outbox[0].body).group(0)
    choose_password(client, path, "a-new-secret-77")
    assert client.login(username="nopw", password="a-new-secret-77")


def test_reset_pages_speak_korean(people):
    client = Client(headers={"accept-language": "ko"})
    html = client.get(reverse("password_reset")).content.decode()
    assert "비밀번호" in html


def test_failed_sign_ins_are_limited_per_account(people, settings):
    settings.KC_LOGIN_FAILURES_PER_ACCOUNT = 3
    login = reverse("login")
    for attempt in range(3):
        client = Client(REMOTE_ADDR=f"10.0.0.{attempt}")  # a different address each time
        wrong = client.post(login, {"username": "stud", "password": "wrong"})
        assert wrong.status_code == 200
    # Now even the right password is not checked, from anywhere, and the page says why.
    refused = Client(REMOTE_ADDR="10.0.0.99").post(
        login, {"username": "stud", "password": "pw-for-tests-123"}
    )
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.content.decode()
    assert "_auth_user_id" not in refused.wsgi_request.session
    # Another account is untouched.
    other = Client(REMOTE_ADDR="10.0.0.99")
    assert other.post(login, {"username": "ta", "password": "pw-for-tests-123"}).status_code == 302
    # When the window has passed, the account may try again.
    RateLimitHit.objects.update(at="2000-01-01T00:00:00Z")
    ok = Client().post(login, {"username": "stud", "password": "pw-for-tests-123"})
    assert ok.status_code == 302


def test_failed_sign_ins_are_limited_per_address(people, settings):
    settings.KC_LOGIN_FAILURES_PER_IP = 4
    client = Client(REMOTE_ADDR="192.0.2.7")
    for username in ["a", "b", "c", "d"]:  # guessing across accounts
        client.post(reverse("login"), {"username": username, "password": "x"})
    refused = client.post(reverse("login"), {"username": "stud", "password": "pw-for-tests-123"})
    assert refused.status_code == 429
    elsewhere = Client(REMOTE_ADDR="192.0.2.8")
    ok = elsewhere.post(reverse("login"), {"username": "stud", "password": "pw-for-tests-123"})
    assert ok.status_code == 302


def test_the_admin_login_obeys_the_same_limit(people, settings):
    settings.KC_LOGIN_FAILURES_PER_ACCOUNT = 2
    admin_login = reverse("admin:login")
    for _attempt in range(2):
        Client().post(admin_login, {"username": "staffer", "password": "nope"})
    client = Client()
    client.post(admin_login, {"username": "staffer", "password": "pw-for-tests-123"})
    assert "_auth_user_id" not in client.session


def test_operator_sends_links_to_accounts_made_elsewhere(people, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.KC_SITE_URL = "https://camp.example.edu"
    made_in_admin = User.objects.create(username="guest", email="guest@example.org")
    made_in_admin.set_unusable_password()
    made_in_admin.save()
    out = StringIO()
    call_command("send_password_links", "guest@example.org", "stud", stdout=out, stderr=StringIO())
    # "stud" has a password already: only the guest gets a link.
    assert [m.to for m in mail.outbox] == [["guest@example.org"]]
    assert link_in(mail.outbox[0]) in out.getvalue()


def test_reset_requests_cannot_flood_an_inbox(people, settings):
    settings.KC_PASSWORD_RESETS_PER_HOUR = 6  # per address; a third of it per email address
    client = Client(REMOTE_ADDR="198.51.100.4")
    for _attempt in range(3):
        sent = client.post(reverse("password_reset"), {"email": "stud@example.org"})
        assert sent["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 2  # the third looked the same but sent nothing
    for _attempt in range(3):
        client.post(reverse("password_reset"), {"email": "ta@example.org"})
    refused = client.post(reverse("password_reset"), {"email": "inst@example.org"})
    assert refused.status_code == 429 and "Try again in" in refused.content.decode()
