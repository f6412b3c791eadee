from django.urls import path

from compute import views, views_events

urlpatterns = [
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/launch/", views.launch, name="session-launch"),
    path("sessions/<int:pk>/status", views.session_status, name="session-status"),
    path("sessions/<int:pk>/events", views.session_events, name="session-events"),
    path("sessions/<int:pk>/stop", views.session_stop, name="session-stop"),
    path("sessions/usage/", views.usage, name="session-usage"),
    path("sessions/usage.csv", views.usage_csv, name="session-usage-csv"),
    path(
        "cohorts/<int:pk>/assignments/<slug:slug>/submit-from-session",
        views.submit_from_session,
        name="session-submit",
    ),
    path("events/<slug:slug>/gpu/", views_events.event_gpu, name="event-gpu"),
    path("events/<slug:slug>/gpu/card/", views_events.event_gpu_card, name="event-gpu-card"),
    path("teach/cohorts/<int:pk>/gpu-usage/", views.cohort_usage, name="cohort-gpu-usage"),
    path(
        "teach/cohorts/<int:pk>/gpu-usage.csv", views.cohort_usage_csv, name="cohort-gpu-usage-csv"
    ),
]
