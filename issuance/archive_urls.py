"""The archive pages, included under /archive/ by config/urls.py."""

from django.urls import path

from . import archive_views as views

urlpatterns = [
    path("", views.archive_list, name="archive_records"),
    path("<int:pk>/", views.archive_detail, name="archive_record"),
    path("<int:pk>/files/<str:kind>/", views.archive_file, name="archive_file"),
    path("<int:pk>/export.zip", views.archive_export, name="archive_export"),
]
