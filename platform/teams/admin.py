from django.contrib import admin

from teams.models import Team, TeamMembership


class MembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    readonly_fields = ("event",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "event", "member_count", "join_code")
    list_filter = ("event",)
    readonly_fields = ("member_count",)
    inlines = [MembershipInline]
