from django.urls import path

from privacy import views

urlpatterns = [
    path("accounts/my-data/", views.my_data, name="my-data"),
    path("accounts/my-data.zip", views.my_data_zip, name="my-data-zip"),
]
