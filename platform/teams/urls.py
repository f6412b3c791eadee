from django.urls import path

from teams import views

urlpatterns = [
    path("events/<slug:slug>/teams/", views.event_teams, name="event-teams"),
    path("events/<slug:slug>/teams/create/", views.team_create, name="team-create"),
    path("events/<slug:slug>/teams/join/", views.team_join_code, name="team-join-code"),
    path("events/<slug:slug>/teams/leave/", views.team_leave, name="team-leave"),
    path("events/<slug:slug>/teams/looking/", views.team_looking, name="team-looking"),
    path("teams/join/<str:code>/", views.team_join, name="team-join"),
    path("teams/<int:pk>/organize/", views.team_organize, name="team-organize"),
]
