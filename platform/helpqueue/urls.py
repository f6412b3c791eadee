from django.urls import path

from helpqueue import views

# A queue is an event's (help/event/<slug>/) or a cohort's (help/cohort/<id>/).
urlpatterns = [
    path("help/<str:kind>/<str:key>/", views.help_home, name="help-home"),
    path("help/<str:kind>/<str:key>/queue/", views.help_queue, name="help-queue"),
    path("help/<str:kind>/<str:key>/queue.json", views.help_queue_json, name="help-queue-json"),
    path("help/requests/<int:pk>.json", views.help_request_json, name="help-request-json"),
    path("help/requests/<int:pk>/<str:action>/", views.help_action, name="help-action"),
]
