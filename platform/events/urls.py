from django.urls import path

from events import views, views_manage

urlpatterns = [
    path("events/", views.event_list, name="event-list"),
    path("events/<slug:slug>/", views.event_detail, name="event-detail"),
    path("events/<slug:slug>/register/", views.event_register, name="event-register"),
    path("events/<slug:slug>/banner/", views.event_banner, name="event-banner"),
    path("events/<slug:slug>/announce/", views.event_announce, name="event-announce"),
    path("events/<slug:slug>/dashboard/", views.event_dashboard, name="event-dashboard"),
    path("events/<slug:slug>/manage/", views_manage.event_manage, name="event-manage"),
    path("events/<slug:slug>/mentor/", views_manage.event_mentor, name="event-mentor"),
]
