"""Single sign-on with an institution's OpenID Connect provider (KC_OIDC_*).

The provider here is a real one over HTTP: this site's own django-oauth-toolkit provider (the one
the hub signs in through), served by pytest-django's live server. One browser session signs in
at the provider; a second, anonymous one is the student's browser at KernelCamp.
"""

import base64
import json
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


class _TokenResponses:
    """Passes the site's token request to the real provider, then lets a test change the answer:
    what a network attacker between KernelCamp and the institution could do."""

    def __init__(self, monkeypatch, change):
        self.real_post, self.change, self.seen = oidc.requests.post, change, []
        monkeypatch.setattr(oidc.requests, "post", self)

    def __call__(self, *args, **kwargs):
        response = self.real_post(*args, **kwargs)
        self.seen.append(response.json())
        body = self.change(response.json())
        response._content = json.dumps(body).encode()
        return response


def _claims_of(raw: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(raw.split(".")[1] + "=="))


def _encode(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _refused(student, done) -> None:
    assert done["Location"] == reverse("login") and "_auth_user_id" not in student.session


def test_an_id_token_with_a_changed_subject_does_not_verify(institution, settings, monkeypatch):
    victim = make_user("victim")
    attacker = make_user("attacker")
    ExternalIdentity.objects.create(
        user=victim, issuer=settings.KC_OIDC_ISSUER, subject="victims-subject"
    )

    def swap_subject(tokens):  # keeps the provider's signature over the attacker's claims
        header, _, signature = tokens["id_token"].split(".")
        claims = {**_claims_of(tokens["id_token"]), "sub": "victims-subject"}
        return {**tokens, "id_token": f"{header}.{_encode(claims)}.{signature}"}

    _TokenResponses(monkeypatch, swap_subject)
    _refused(*sign_in_through(institution, attacker))


def test_an_unsigned_id_token_is_refused(institution, settings, monkeypatch):
    victim = make_user("victim")
    ExternalIdentity.objects.create(
        user=victim, issuer=settings.KC_OIDC_ISSUER, subject="victims-subject"
    )

    def unsigned(tokens):  # alg "none": claims anyone could write
        claims = {**_claims_of(tokens["id_token"]), "sub": "victims-subject"}
        return {
            **tokens,
            "id_token": f"{_encode({'alg': 'none', 'typ': 'JWT'})}.{_encode(claims)}.",
        }

    _TokenResponses(monkeypatch, unsigned)
    _refused(*sign_in_through(institution, make_user("attacker")))


def test_a_replayed_id_token_fails_the_nonce_check(institution, settings, monkeypatch):
    """A genuine, well-signed ID token from an earlier sign-in is not accepted for a new one."""
    settings.KC_OIDC_TRUST_EMAILS = True
    user = make_user("prof")
    recorder = _TokenResponses(monkeypatch, lambda tokens: tokens)
    first, done = sign_in_through(institution, user)
    assert first.session["_auth_user_id"] == str(user.pk)
    earlier = recorder.seen[0]
    recorder.change = lambda tokens: {**tokens, "id_token": earlier["id_token"]}
    _refused(*sign_in_through(institution, user))
