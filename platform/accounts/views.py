import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts import oidc, ratelimit
from accounts.forms import (
    ProfileForm,
    RateLimitedAuthenticationForm,
    RegisterForm,
    SetPasswordLinkForm,
)

log = logging.getLogger(__name__)


def register(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        messages.success(request, _("Welcome to KernelCamp, %(name)s.") % {"name": user})
        return redirect(request.GET.get("next") or "home")
    return render(request, "accounts/register.html", {"form": form})


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        messages.success(request, _("Your profile was saved."))
        response = redirect("profile")
        if user.language:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language)
        return response
    return render(request, "accounts/profile.html", {"form": form})


@require_POST
def set_language(request):
    """Django's language switch, also remembered on the account of a signed-in user."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        request.user.language = language
        request.user.save(update_fields=["language"])
    return django_set_language(request)


class LoginView(auth_views.LoginView):
    """Django's login; a sign-in refused for too many failures answers 429 with how long to wait."""

    form_class = RateLimitedAuthenticationForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = oidc.enabled()
        context["oidc_label"] = settings.KC_OIDC_LABEL
        return context

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Also reaches accounts that never had a password (enrolled by CSV)."""

    form_class = SetPasswordLinkForm
    email_template_name = "registration/password_reset_email.txt"

    def form_valid(self, form):
        """Limited per client address (429, said so) and per email address (silently: the
        page must not tell whether an account exists), so nobody can flood an inbox."""
        hourly = settings.KC_PASSWORD_RESETS_PER_HOUR
        address = ratelimit.client_ip(self.request)
        wait = ratelimit.take(f"reset-ip:{address}", hourly, 3600)
        if wait:
            form.add_error(None, ratelimit.wait_message(wait))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        email = form.cleaned_data["email"].strip().lower()
        if ratelimit.take(f"reset-email:{email}", max(1, hourly // 3), 3600):
            return redirect(self.get_success_url())
        return super().form_valid(form)


def _safe_next(request, url: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and allowed else settings.LOGIN_REDIRECT_URL


def oidc_login(request):
    """Send the browser to the institution's sign-in page (KC_OIDC_*)."""
    if not oidc.enabled():
        raise Http404("single sign-on is not configured")
    redirect_uri = request.build_absolute_uri(reverse("oidc-callback"))
    next_url = _safe_next(request, request.GET.get("next", ""))
    try:
        return redirect(oidc.authorization_url(request.session, redirect_uri, next_url))
    except (oidc.OidcError, OSError, ValueError) as exc:
        log.warning("single sign-on could not start: %s", exc)
        messages.error(request, _("Your institution's sign-in cannot be reached right now."))
        return redirect("login")


def oidc_callback(request):
    """Back from the institution: check the answer, find the KernelCamp account, sign in."""
    if not oidc.enabled():
        raise Http404("single sign-on is not configured")
    if "error" in request.GET:
        messages.error(request, _("Your institution's sign-in was cancelled or refused."))
        return redirect("login")
    try:
        claims, next_url = oidc.finish(
            request.session, request.GET.get("state", ""), request.GET.get("code", "")
        )
        user = oidc.user_for(claims)
    except oidc.NoMatchingAccount as exc:
        log.info("single sign-on: no account for %s (%s)", claims.subject, exc)
        messages.error(
            request,
            _(
                "You signed in at your institution, but no KernelCamp account matches it. Ask "
                "your instructor to enrol you with your institution's email address."
            ),
        )
        return redirect("login")
    except (oidc.OidcError, OSError, ValueError) as exc:
        log.warning("single sign-on failed: %s", exc)
        messages.error(request, _("Signing in through your institution failed. Try again."))
        return redirect("login")
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return redirect(_safe_next(request, next_url))
