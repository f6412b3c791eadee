"""The OAuth2/OIDC endpoints the hub needs (no application-management pages)."""

from oauth2_provider import urls as dot_urls

_WANTED = {
    "authorize",
    "token",
    "revoke-token",
    "oidc-connect-discovery-info",
    "jwks-info",
    "user-info",
}

app_name = "oauth2_provider"
urlpatterns = [
    p for p in dot_urls.base_urlpatterns + dot_urls.oidc_urlpatterns if p.name in _WANTED
]
