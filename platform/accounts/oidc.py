"""Signing in with the institution's own OpenID Connect provider (optional, `KC_OIDC_*` settings).

The authorization-code flow with PKCE (S256), state and nonce; the ID token's signature is checked
against the provider's published keys, its issuer, audience and expiry by PyJWT. Each provider
account is mapped to a KernelCamp account by its subject once linked, and linked the first time
by an email address the provider says it verified (or every address it sends, when the operator
trusts it: KC_OIDC_TRUST_EMAILS). No account is created: people are enrolled by CSV or register,
then sign in with either method.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from accounts.models import ExternalIdentity

SESSION_KEY = "kc_oidc"
TIMEOUT_S = 10


class OidcError(Exception):
    """The provider's answer cannot be trusted or used; the message is for the log, not users."""


class NoMatchingAccount(Exception):
    pass


@dataclass
class Claims:
    issuer: str
    subject: str
    email: str
    email_verified: bool


def enabled() -> bool:
    return bool(settings.KC_OIDC_ISSUER and settings.KC_OIDC_CLIENT_ID)


@lru_cache(maxsize=4)
def _discovery(issuer: str) -> dict:
    url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    response = requests.get(url, timeout=TIMEOUT_S)
    response.raise_for_status()
    document = response.json()
    if document.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
        raise OidcError(f"the provider calls itself {document.get('issuer')!r}, not {issuer!r}")
    return document


def discovery() -> dict:
    return _discovery(settings.KC_OIDC_ISSUER)


@lru_cache(maxsize=4)
def _jwks_client(jwks_uri: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(jwks_uri, timeout=TIMEOUT_S)


def authorization_url(session, redirect_uri: str, next_url: str) -> str:
    """Where to send the browser; remembers state, nonce and the PKCE verifier in the session."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    flow = {
        "state": secrets.token_urlsafe(24),
        "nonce": secrets.token_urlsafe(24),
        "verifier": verifier,
        "redirect_uri": redirect_uri,
        "next": next_url,
    }
    session[SESSION_KEY] = flow
    query = {
        "response_type": "code",
        "client_id": settings.KC_OIDC_CLIENT_ID,
        "redirect_uri": redirect_uri,
        "scope": settings.KC_OIDC_SCOPES,
        "state": flow["state"],
        "nonce": flow["nonce"],
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    return f"{discovery()['authorization_endpoint']}?{urlencode(query)}"


def finish(session, state: str, code: str) -> tuple[Claims, str]:
    """Exchange the code and check the ID token; returns its claims and where to go next."""
    flow = session.pop(SESSION_KEY, None)
    if not flow or not state or not secrets.compare_digest(flow["state"], state):
        raise OidcError("the state does not match this browser's sign-in")
    document = discovery()
    response = requests.post(
        document["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": flow["redirect_uri"],
            "code_verifier": flow["verifier"],
        },
        auth=(settings.KC_OIDC_CLIENT_ID, settings.KC_OIDC_CLIENT_SECRET),
        timeout=TIMEOUT_S,
    )
    if response.status_code != 200:
        raise OidcError(f"token endpoint answered {response.status_code}: {response.text[:200]}")
    tokens = response.json()
    raw = tokens.get("id_token")
    if not raw:
        raise OidcError("no ID token in the token response")
    try:
        key = _jwks_client(document["jwks_uri"]).get_signing_key_from_jwt(raw)
        token = jwt.decode(
            raw,
            key.key,
            algorithms=document.get("id_token_signing_alg_values_supported", ["RS256"]),
            audience=settings.KC_OIDC_CLIENT_ID,
            issuer=document["issuer"],
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.PyJWTError as exc:
        raise OidcError(f"the ID token does not verify: {exc}") from exc
    if not secrets.compare_digest(str(token.get("nonce", "")), flow["nonce"]):
        raise OidcError("the ID token's nonce does not match")
    email, verified = token.get("email"), token.get("email_verified")
    if not email and tokens.get("access_token") and document.get("userinfo_endpoint"):
        info = requests.get(
            document["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
            timeout=TIMEOUT_S,
        )
        if info.status_code == 200 and info.json().get("sub") == token["sub"]:
            email, verified = info.json().get("email"), info.json().get("email_verified")
    claims = Claims(
        issuer=document["issuer"],
        subject=str(token["sub"]),
        email=(email or "").strip(),
        email_verified=verified is True or str(verified).lower() == "true",
    )
    return claims, flow["next"]


def user_for(claims: Claims):
    """The linked account, else the one active account with this verified address (then linked)."""
    identity = (
        ExternalIdentity.objects.select_related("user")
        .filter(issuer=claims.issuer, subject=claims.subject)
        .first()
    )
    if identity is not None:
        if not identity.user.is_active:
            raise NoMatchingAccount("the linked account is inactive")
        return identity.user
    trusted = claims.email_verified or settings.KC_OIDC_TRUST_EMAILS
    if not claims.email or not trusted:
        raise NoMatchingAccount("no verified email address to match")
    matches = list(get_user_model().objects.filter(email__iexact=claims.email, is_active=True)[:2])
    if len(matches) != 1:
        raise NoMatchingAccount(f"{len(matches)} accounts have this address")
    try:
        with transaction.atomic():
            ExternalIdentity.objects.create(
                user=matches[0], issuer=claims.issuer, subject=claims.subject
            )
    except IntegrityError:  # the same first sign-in twice at once: the other one linked it
        pass
    return matches[0]
