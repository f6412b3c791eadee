"""Who may use which profile, budgets, refusals that never reach the hub, OIDC claims, pages."""

from __future__ import annotations

import json
import os
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from compute import reconcile, selectors, services
from compute.models import Allocation, GpuProfile, HubSession, ProfileGrant
from tests.site.factories import make_user

pytestmark = pytest.mark.django_db


def test_profiles_follow_cohort_and_organization_grants(student, granted, cohort):
    from accounts.models import OrganizationMembership

    outsider = make_user("outsider")
    staff = make_user("staffer", is_staff=True)
    assert [p.slug for p in selectors.usable_profiles(student)] == ["cpu-simulator"]
    assert not selectors.usable_profiles(outsider).exists()
    assert selectors.usable_profiles(staff).count() == 3
    mig = GpuProfile.objects.get(slug="mig-1g")
    ProfileGrant.objects.create(profile=mig, organization=cohort.course.organization)
    OrganizationMembership.objects.create(organization=cohort.course.organization, user=outsider)
    assert [p.slug for p in selectors.usable_profiles(outsider)] == ["mig-1g"]
    assert selectors.may_use(student, mig)  # the course's organization counts too


def test_budget_counts_closed_and_running_sessions(student, granted, cohort):
    from datetime import timedelta

    from django.utils import timezone

    assert selectors.budget_for(student).granted == 2
    now = timezone.now()
    org = cohort.course.organization
    HubSession.objects.create(
        user=student,
        profile=granted,
        organization=org,
        hub_username="stud",
        status="stopped",
        charged_seconds=3600,
    )
    HubSession.objects.create(
        user=student,
        profile=granted,
        organization=org,
        hub_username="stud",
        status="running",
        started_at=now - timedelta(hours=2),
        cost_weight=0.25,
    )
    budget = selectors.budget_for(student, now)
    assert budget.used == pytest.approx(1.5)
    assert budget.left == pytest.approx(0.5)
    # The organization's pool caps what its cohorts hand out.
    Allocation.objects.filter(cohort__isnull=True, user__isnull=True).update(gpu_hours=1.2)
    assert selectors.budget_for(student, now).left == 0


def test_hub_down_gives_a_clear_message_and_starts_nothing(dead_hub, student, granted):
    with pytest.raises(services.SessionError, match="cannot be reached"):
        services.launch(student, "cpu-simulator")
    assert not HubSession.objects.exists()
    assert reconcile.reconcile().hub_reachable is False


def test_refusals_before_the_hub(dead_hub, student, granted, settings):
    with pytest.raises(services.SessionError, match="may not use"):
        services.launch(student, "gpu-1")
    Allocation.objects.filter(cohort__isnull=False).update(per_user_gpu_hours=0)
    with pytest.raises(services.SessionError, match="budget is used up"):
        services.launch(student, "cpu-simulator")
    settings.KC_HUB_URL = ""
    with pytest.raises(services.SessionError, match="not set up"):
        services.launch(student, "cpu-simulator")
    assert not HubSession.objects.exists()


def test_one_active_session_per_user_is_a_database_rule(student, granted):
    HubSession.objects.create(user=student, profile=granted, hub_username="stud")
    with pytest.raises(IntegrityError), transaction.atomic():
        HubSession.objects.create(user=student, profile=granted, hub_username="stud")
    HubSession.objects.create(user=student, profile=granted, hub_username="stud", status="failed")


def test_oidc_claims_carry_username_roles_and_cohort_groups(student, cohort):
    from compute.oidc import KernelCampValidator

    request = type("R", (), {"user": student})()
    claims = KernelCampValidator().get_additional_claims(request)
    assert claims["username"] == "stud" and claims["email"] == "stud@example.org"
    assert claims["roles"] == ["student"]
    assert claims["groups"] == [f"cohort-{cohort.pk}"]
    assert KernelCampValidator.oidc_claim_scope["groups"] == "groups"


def test_hub_oauth_app_command_keeps_the_plaintext_secret(tmp_path, settings):
    from oauth2_provider.models import Application

    settings.DATA_DIR = tmp_path
    out = StringIO()
    call_command("hub_oauth_app", "--redirect-uri", "http://127.0.0.1:9/cb", stdout=out)
    path = tmp_path / "hub-oauth-client.json"
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    data = json.loads(path.read_text())
    app = Application.objects.get(client_id=data["client_id"])
    assert check_password(data["client_secret"], app.client_secret)  # stored hashed
    assert app.algorithm == Application.RS256_ALGORITHM
    call_command("hub_oauth_app", "--redirect-uri", "http://127.0.0.1:9/cb2", stdout=out)
    assert json.loads(path.read_text())["client_secret"] == data["client_secret"]
    assert Application.objects.get(client_id=data["client_id"]).redirect_uris.endswith("cb2")


def test_oidc_discovery_publishes_rs256_keys():
    client = Client()
    keys = client.get(reverse("oauth2_provider:jwks-info")).json()["keys"]
    assert keys and keys[0]["kty"] == "RSA"
    info = client.get(reverse("oauth2_provider:oidc-connect-discovery-info")).json()
    assert "RS256" in info["id_token_signing_alg_values_supported"]


def test_launch_page_lists_granted_profiles_and_budget(student, granted, dead_hub, settings):
    settings.KC_SESSION_BACKGROUND = False  # the launch job runs in the request here
    client = Client()
    client.force_login(student)
    page = client.get(reverse("sessions")).content.decode()
    assert 'value="cpu-simulator"' in page and 'value="gpu-1"' not in page
    assert "GPU time left: 2.00 h" in page
    response = client.post(reverse("session-launch"), {"profile": "cpu-simulator"}, follow=True)
    assert "cannot be reached" in response.content.decode()
    usage = client.get(reverse("session-usage")).content.decode()
    assert "<svg" in usage


def test_cohort_usage_report_for_instructors(student, granted, cohort):
    from django.utils import timezone

    now = timezone.now()
    HubSession.objects.create(
        user=student,
        profile=granted,
        hub_username="stud",
        status="stopped",
        started_at=now,
        stopped_at=now,
        charged_seconds=1800,
    )
    client = Client()
    client.force_login(cohort.course.staff.first().user)
    page = client.get(reverse("cohort-gpu-usage", args=[cohort.pk])).content.decode()
    assert "<svg" in page and "30 min" in page


def test_a_warned_session_shows_the_budget_warning_on_every_page(student, granted):
    from django.utils import timezone

    session = HubSession.objects.create(
        user=student,
        profile=granted,
        hub_username="stud",
        status="running",
        started_at=timezone.now(),
    )
    client = Client()
    client.force_login(student)
    assert 'id="budget-warning"' not in client.get(reverse("sessions")).content.decode()
    HubSession.objects.filter(pk=session.pk).update(warned_at=timezone.now())
    for url in (reverse("sessions"), reverse("home")):
        page = client.get(url).content.decode()
        assert 'id="budget-warning"' in page and "of 2.00 hours" in page, url
    HubSession.objects.filter(pk=session.pk).update(status="stopped")
    assert 'id="budget-warning"' not in client.get(reverse("sessions")).content.decode()
