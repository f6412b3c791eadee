from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views
from kernelcamp import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/register/", account_views.register, name="register"),
    path("accounts/profile/", account_views.profile, name="profile"),
    # Password reset, which is also how people enrolled by CSV set their first password.
    path(
        "accounts/password_reset/",
        account_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # Optional single sign-on with the institution's OpenID Connect provider (KC_OIDC_*).
    path("accounts/oidc/login/", account_views.oidc_login, name="oidc-login"),
    path("accounts/oidc/callback/", account_views.oidc_callback, name="oidc-callback"),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("", include("learning.urls")),
    path("", include("grading.urls")),
    path("", include("events.urls")),
    path("", include("teams.urls")),
    path("", include("projects.urls")),
    path("", include("judging.urls")),
    path("", include("helpqueue.urls")),
    path("", include("contests.urls")),
    path("", include("compute.urls")),
    path("", include("audit.urls")),
    path("", include("privacy.urls")),
    path("o/", include("compute.oauth_urls", namespace="oauth2_provider")),
]
