"""Single sign-on with an institution's OpenID Connect provider (KC_OIDC_*).

The provider here is a real one over HTTP: this site's own django-oauth-toolkit provider (the one
the hub signs in through), served by pytest-django's live server. One browser session signs in
at the provider; a second, anonymous one is the student's browser at KernelCamp.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from accounts import oidc
from accounts.models import ExternalIdentity
from tests.site.factories import make_user

SECRET = "institution-client-secret-for-tests"


@pytest.fixture
def institution(live_server, settings, transactional_db):
    from oauth2_provider.models import Application

    Application.objects.create(
        client_id="kernelcamp",
        client_secret=SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=f"{live_server.url}/accounts/oidc/callback/",
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
        name="KernelCamp at the institution",
    )
    settings.KC_OIDC_ISSUER = f"{live_server.url}/o"
    settings.KC_OIDC_CLIENT_ID, settings.KC_OIDC_CLIENT_SECRET = "kernelcamp", SECRET
    settings.KC_OIDC_LABEL = "Example University"
    oidc._discovery.cache_clear()
    yield live_server
    oidc._discovery.cache_clear()


def sign_in_through(institution, at_provider):
    """The student's browser goes to the provider, where `at_provider` is signed in, and back."""
    student = Client(HTTP_HOST=urlsplit(institution.url).netloc)  # the site's public address
    login_page = student.get(reverse("login")).content.decode()
    assert 'id="oidc-login"' in login_page and "Sign in with Example University" in login_page
    to_provider = student.get(reverse("oidc-login"), {"next": "/teach/"})
    authorize = urlsplit(to_provider["Location"])
    assert authorize.path == "/o/authorize/" and "code_challenge" in parse_qs(authorize.query)
    provider = Client()
    provider.force_login(at_provider)
    answer = provider.get(f"{authorize.path}?{authorize.query}")
    assert answer.status_code == 302, (to_provider["Location"], answer.content.decode()[-1500:])
    back = urlsplit(answer["Location"])
    assert back.path == reverse("oidc-callback")
    return student, student.get(f"{back.path}?{back.query}")


def test_linked_subject_signs_in_as_its_kernelcamp_account(institution, settings):
    csv_enrolled = make_user("seoyeon")
    at_provider = make_user("s2026-1234")  # the institution's own record of her
    ExternalIdentity.objects.create(
        user=csv_enrolled, issuer=settings.KC_OIDC_ISSUER, subject=str(at_provider.pk)
    )
    student, done = sign_in_through(institution, at_provider)
    assert done.status_code == 302 and done["Location"] == "/teach/"
    assert student.session["_auth_user_id"] == str(csv_enrolled.pk)


def test_first_sign_in_links_by_a_trusted_email_address(institution, settings):
    settings.KC_OIDC_TRUST_EMAILS = True  # this provider sends no email_verified claim
    user = make_user("prof")
    student, done = sign_in_through(institution, user)
    assert student.session["_auth_user_id"] == str(user.pk)
    assert ExternalIdentity.objects.get(subject=str(user.pk)).user == user


def test_an_unverified_address_matches_no_account(institution):
    user = make_user("someone")
    student, done = sign_in_through(institution, user)
    assert done["Location"] == reverse("login") and "_auth_user_id" not in student.session
    messages = student.get(reverse("login")).content.decode()
    assert "no KernelCamp account matches it" in messages
    assert not ExternalIdentity.objects.exists()


def test_a_forged_state_is_refused(institution):
    student = Client()
    student.get(reverse("oidc-login"))
    refused = student.get(reverse("oidc-callback"), {"state": "forged", "code": "x"})
    assert refused["Location"] == reverse("login") and "_auth_user_id" not in student.session


def test_without_settings_there_is_no_single_sign_on(db):
    assert Client().get(reverse("oidc-login")).status_code == 404
    assert 'id="oidc-login"' not in Client().get(reverse("login")).content.decode()
