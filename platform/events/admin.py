from django.contrib import admin

from events.models import Announcement, Event, EventRole, Phase, Prize, Registration, Track


class EventRoleInline(admin.TabularInline):
    model = EventRole
    extra = 0


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0


class PrizeInline(admin.TabularInline):
    model = Prize
    extra = 0


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("title", "organization", "starts_at", "ends_at", "seats_taken", "seat_limit")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("seats_taken",)
    inlines = [PhaseInline, TrackInline, PrizeInline, EventRoleInline]


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ("event", "created_at", "body")


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ("event", "user", "created_at")
    list_filter = ("event",)
