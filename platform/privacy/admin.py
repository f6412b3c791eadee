"""Erasure from the admin: two actions on the user list (the same services as erase_user)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from privacy import services


@admin.action(description=_("Anonymize the selected people (keep their records)"))
def anonymize_users(modeladmin, request, queryset):
    count = 0
    for user in queryset.exclude(pk=request.user.pk):
        services.anonymize(user, by=request.user)
        count += 1
    modeladmin.message_user(
        request,
        ngettext("%(count)d person anonymized.", "%(count)d people anonymized.", count)
        % {"count": count},
        messages.SUCCESS,
    )


@admin.action(description=_("Delete the selected people and what they own (data rights)"))
def delete_users(modeladmin, request, queryset):
    for user in queryset.exclude(pk=request.user.pk):
        name = user.get_username()
        try:
            services.delete(user, by=request.user)
        except services.ErasureError as exc:
            modeladmin.message_user(request, f"{name}: {exc}", messages.ERROR)


def _add_actions() -> None:
    user_admin = admin.site._registry.get(get_user_model())
    if user_admin is None:
        return
    user_admin.actions = [*(user_admin.actions or []), anonymize_users, delete_users]


_add_actions()  # admin modules load in INSTALLED_APPS order: accounts' UserAdmin is registered
