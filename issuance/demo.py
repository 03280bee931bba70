"""The demo organisation: 泉州市科学技术局 and 泉州市工业和信息化局 side by side, each with its
科室, its people and their roles, its address book and its default review chains; loaded
idempotently from fixtures/demo_organisation.json."""

import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from . import chains
from .models import Appointment, Department, Organ, RecipientOrgan
from .roles import forget_memberships

FIXTURES = settings.BASE_DIR / "fixtures"


def load_cast():
    return json.loads((FIXTURES / "demo_organisation.json").read_text(encoding="utf-8"))


def cast_users(cast=None):
    """Every demo user's spec, with the organ it belongs to."""
    cast = cast or load_cast()
    return [(spec, user) for spec in cast["organs"] for user in spec["users"]]


@transaction.atomic
def load_organisation():
    """Create or update the organs, their 科室, address books, default chains and demo users."""
    cast = load_cast()
    User = get_user_model()
    organs = []
    for spec in cast["organs"]:
        organ, _ = Organ.objects.update_or_create(code=spec["organ"]["code"], defaults=spec["organ"])
        departments = {
            d["name"]: Department.objects.update_or_create(organ=organ, name=d["name"], defaults={"code": d["code"]})[0]
            for d in spec["departments"]
        }
        for person in spec["users"]:
            user, created = User.objects.get_or_create(username=person["username"])
            user.last_name, user.first_name = person["name"][0], person["name"][1:]
            user.email = person.get("email", "")
            if created:
                user.set_password(cast["password"])
            user.save()
            wanted = {r["role"] for r in person["roles"]}
            Appointment.objects.filter(user=user, organ=organ).exclude(role__in=wanted).delete()
            for role in person["roles"]:
                appointment, _ = Appointment.objects.update_or_create(
                    user=user, organ=organ, role=role["role"], defaults={"title": role.get("title", "")}
                )
                appointment.departments.set([departments[name] for name in role.get("departments", ())])
            forget_memberships(user)
        for recipient in spec["recipients"]:
            RecipientOrgan.objects.update_or_create(
                organ=organ, name=recipient["name"], defaults={"aliases": "\n".join(recipient["aliases"])}
            )
        chains.install_defaults(organ, cast["default_chains"])
        organs.append(organ)
    return organs
