from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import ExternalIdentity, Organization, OrganizationMembership, User


@admin.register(User)
class KernelCampUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (
        ("KernelCamp", {"fields": ("display_name", "time_zone", "language")}),
    )
    list_display = ("username", "email", "display_name", "is_staff")


class MembershipInline(admin.TabularInline):
    model = OrganizationMembership
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    list_display = ("user", "issuer", "subject", "created_at")
    search_fields = ("user__username", "user__email", "subject")
    raw_id_fields = ("user",)
