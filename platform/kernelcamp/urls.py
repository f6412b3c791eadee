from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/register/", account_views.register, name="register"),
    path("accounts/profile/", account_views.profile, name="profile"),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("", include("learning.urls")),
    path("", include("grading.urls")),
    path("", include("events.urls")),
    path("", include("compute.urls")),
    path("o/", include("compute.oauth_urls", namespace="oauth2_provider")),
]
