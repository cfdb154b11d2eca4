"""The campaigns app's console pages: the analytics dashboard."""

from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.dashboard, name="analytics"),
    path("assignments/<int:pk>/", views.assignment, name="assignment-analytics"),
    path("export.csv", views.export_csv, name="analytics-csv"),
]
