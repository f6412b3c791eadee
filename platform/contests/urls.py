from django.urls import path

from contests import views, views_manage

PREFIX = "events/<slug:slug>/challenges/<slug:challenge>/"

urlpatterns = [
    path("events/<slug:slug>/challenges/", views.challenge_list, name="challenge-list"),
    path(PREFIX, views.challenge_detail, name="challenge-detail"),
    path(PREFIX + "enter/", views.challenge_enter, name="challenge-enter"),
    path(PREFIX + "mine/", views.my_entries, name="challenge-mine"),
    path(PREFIX + "files/<path:name>", views.challenge_download, name="challenge-download"),
    path(PREFIX + "board/", views.challenge_board, name="challenge-board"),
    path(PREFIX + "board/live/", views.challenge_board_live, name="challenge-board-live"),
    path(PREFIX + "board.json", views.challenge_board_json, name="challenge-board-json"),
    path(PREFIX + "board.csv", views_manage.challenge_board_csv, name="challenge-board-csv"),
    path(PREFIX + "manage/", views_manage.challenge_manage, name="challenge-manage"),
    path(PREFIX + "manage/progress/", views_manage.challenge_progress, name="challenge-progress"),
    path(PREFIX + "settings/", views_manage.challenge_settings, name="challenge-settings"),
    path(PREFIX + "freeze/", views_manage.challenge_freeze, name="challenge-freeze"),
    path(PREFIX + "reveal/", views_manage.challenge_reveal, name="challenge-reveal"),
    path(PREFIX + "rescore/", views_manage.challenge_rescore, name="challenge-rescore"),
    path("contests/entries/<int:pk>/", views.entry_detail, name="entry-detail"),
    path("contests/entries/<int:pk>/file/", views.entry_file, name="entry-file"),
    path("contests/entries/<int:pk>/final/", views.entry_final, name="entry-final"),
    path("contests/entries/<int:pk>/rescore/", views_manage.entry_rescore, name="entry-rescore"),
    path("contests/entries/<int:pk>/accept/", views_manage.entry_accept, name="entry-accept"),
]
