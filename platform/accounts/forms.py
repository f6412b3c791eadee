import unicodedata
import zoneinfo

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts import ratelimit
from accounts.models import User

TIME_ZONES = sorted(zoneinfo.available_timezones())


class RegisterForm(UserCreationForm):
    email = forms.EmailField(label=_("Email"))
    display_name = forms.CharField(label=_("Display name"), max_length=150, required=False)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "display_name")

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this email already exists."))
        return email


class ProfileForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=[(z, z) for z in TIME_ZONES])

    class Meta:
        model = User
        fields = ("display_name", "email", "time_zone", "language")


class RateLimitedAuthenticationForm(AuthenticationForm):
    """Says how long to wait when the backend refused to check a password (too many failures)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _("Too many failed sign-in attempts for this account or from this address."),
    }

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            wait = getattr(self.request, "kc_login_wait", 0)
            if not wait:
                raise
            raise forms.ValidationError(
                f"{self.error_messages['throttled']} {ratelimit.wait_message(wait)}",
                code="throttled",
            ) from None

    @property
    def throttled(self) -> bool:
        return bool(getattr(self.request, "kc_login_wait", 0))


class SetPasswordLinkForm(PasswordResetForm):
    """Password reset that also reaches accounts with no password yet (enrolled by CSV).

    Django's form skips accounts without a usable password; here such an account is exactly the
    one that needs a link. Inactive accounts still get nothing.
    """

    def get_users(self, email):
        wanted = unicodedata.normalize("NFKC", email).casefold()
        users = get_user_model()._default_manager.filter(email__iexact=email, is_active=True)
        # iexact alone would let a look-alike Unicode address receive someone else's link.
        return (u for u in users if unicodedata.normalize("NFKC", u.email).casefold() == wanted)
