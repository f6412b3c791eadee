from django.contrib import admin

from compute.models import Allocation, GpuProfile, HubSession, ProfileGrant


@admin.register(GpuProfile)
class GpuProfileAdmin(admin.ModelAdmin):
    list_display = ["slug", "display_name", "gpu_count", "mig_slice", "cost_weight", "active"]


@admin.register(ProfileGrant)
class ProfileGrantAdmin(admin.ModelAdmin):
    list_display = ["profile", "organization", "cohort"]


@admin.register(Allocation)
class AllocationAdmin(admin.ModelAdmin):
    list_display = ["organization", "cohort", "user", "gpu_hours", "per_user_gpu_hours"]


@admin.register(HubSession)
class HubSessionAdmin(admin.ModelAdmin):
    list_display = [
        "hub_username",
        "profile",
        "status",
        "started_at",
        "stopped_at",
        "charged_seconds",
    ]
    list_filter = ["status", "profile"]
