"""The admin site is for setting up organs, 科室 and staff. Documents and everything they
record are changed only through the services, so they are not registered here."""

from django.contrib import admin

from .models import Department, Organ, Staff


@admin.register(Organ)
class OrganAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "fonds_code")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "organ", "code", "head", "supervisor")


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ("user", "department", "title")
