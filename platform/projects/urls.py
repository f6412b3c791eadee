from django.urls import path

from projects import views

urlpatterns = [
    path("teams/<int:pk>/project/", views.team_project, name="team-project"),
    path("projects/versions/<int:pk>/file/", views.project_file, name="project-file"),
]
