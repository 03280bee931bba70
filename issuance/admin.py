"""The admin site is for setting up organs, 科室 and who holds which role in them. Documents
and everything they record are changed only through the services, so they are not
registered here; review chains are edited on the organ administrator's own pages."""

from django.contrib import admin

from .models import Appointment, Department, Organ


@admin.register(Organ)
class OrganAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "fonds_code")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "organ", "code")
    list_filter = ("organ",)


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ("user", "organ", "role", "title")
    list_filter = ("organ", "role")
    filter_horizontal = ("departments",)
