"""The demo organisation: 泉州市科学技术局, its 科室 and one user per role, loaded idempotently."""

import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from .models import Department, Organ, RecipientOrgan, Staff

FIXTURES = settings.BASE_DIR / "fixtures"


def load_cast():
    return json.loads((FIXTURES / "demo_organisation.json").read_text(encoding="utf-8"))


@transaction.atomic
def load_organisation(stdout=None):
    """Create or update the organ, its 科室, its address book of recipients, the role groups and the demo users."""
    call_command("loaddata", str(FIXTURES / "roles.json"), verbosity=0)
    cast = load_cast()
    organ, _ = Organ.objects.update_or_create(code=cast["organ"]["code"], defaults=cast["organ"])
    User = get_user_model()
    departments = {}
    for spec in cast["departments"]:
        departments[spec["name"]], _ = Department.objects.update_or_create(
            organ=organ, name=spec["name"], defaults={"code": spec["code"]}
        )
    from django.contrib.auth.models import Group

    for spec in cast["users"]:
        user, created = User.objects.get_or_create(username=spec["username"])
        user.last_name, user.first_name = spec["name"][0], spec["name"][1:]
        if created:
            user.set_password(cast["password"])
        user.save()
        user.groups.set(Group.objects.filter(name__in=spec["groups"]))
        Staff.objects.update_or_create(user=user, defaults={"department": departments[spec["department"]], "title": spec["title"]})
    for spec in cast["recipients"]:
        RecipientOrgan.objects.update_or_create(organ=organ, name=spec["name"], defaults={"aliases": "\n".join(spec["aliases"])})
    for spec in cast["departments"]:
        department = departments[spec["name"]]
        department.head = User.objects.get(username=spec["head"]) if spec["head"] else None
        department.supervisor = User.objects.get(username=spec["supervisor"]) if spec["supervisor"] else None
        department.save()
    return organ
