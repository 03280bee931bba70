"""Filters built from a person's standing are compiled once per standing (issuance.roles.compiled)
and run as they are on later pages (issue 11): what they find is always read anew, a change of
appointment or of 代理 compiles them again at once, and two people never share one."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from issuance import services
from issuance.models import Appointment, Delegation, Document, Organ, Role, Stage
from issuance.roles import can_view, may_act, seen_by, visible_documents
from workflows import actions, demo_path, queries

from .builders import decide, open_state

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as the next request loads them: appointments and 代理 read again."""
    return get_user_model().objects.get(pk=user.pk)


def menu(user):
    inbox, queue, _ = queries.counts(user)
    return inbox, queue


def lists(user):
    return queries.inbox(user).count(), queries.claimable(user).count()


@pytest.fixture
def documents(cast, short_content):
    """Documents at several points of their path, of both organs' drafters."""
    made = [demo_path.take_through_path(short_content, cast["drafter"], until=until)
            for until in ("初审", Stage.SIGNING, Stage.ARCHIVED)]
    draft = services.create_draft(cast["drafter"], short_content)
    return made + [draft]


def test_the_condition_on_one_document_finds_what_the_visibility_rule_finds(cast, documents):
    everyone = list(Document.objects.order_by("pk"))
    for username, user in cast.items():
        seen = set(Document.objects.filter(seen_by(fresh(user))).values_list("pk", flat=True))
        assert seen == set(visible_documents(fresh(user)).values_list("pk", flat=True)), username
        assert [can_view(fresh(user), d) for d in everyone] == [d.pk in seen for d in everyone], username
    assert not Document.objects.filter(seen_by(cast["outsider"])).exists()


def test_the_menu_counts_what_the_lists_hold(cast, documents):
    for username, user in cast.items():
        assert menu(fresh(user)) == lists(fresh(user)), username


def test_an_appointment_given_while_the_server_runs_shows_at_once(cast, documents):
    newcomer = cast["outsider"]  # no appointment in 泉科 yet
    in_review = documents[0]
    assert not can_view(fresh(newcomer), in_review)
    before = menu(fresh(newcomer))
    Appointment.objects.create(user=newcomer, organ=Organ.objects.get(code="泉科"), role=Role.OFFICE_REVIEWER)
    assert can_view(fresh(newcomer), in_review)
    decide(in_review, cast["head"])  # 初审 done: the 复核 now waits for the office's reviewers
    state = open_state(in_review)
    assert may_act(fresh(newcomer), state)
    assert menu(fresh(newcomer)) == lists(fresh(newcomer)) != before
    Appointment.objects.filter(user=newcomer, organ__code="泉科", role=Role.OFFICE_REVIEWER).delete()
    assert not may_act(fresh(newcomer), state) and menu(fresh(newcomer)) == before


def test_standing_in_for_someone_from_today_counts_their_tasks_at_once(cast, documents):
    head, deputy = cast["head"], cast["outsider"]
    assert menu(fresh(head))[0] > 0
    alone = menu(fresh(deputy))
    today = timezone.localdate()
    delegation = Delegation.objects.create(principal=head, deputy=deputy, starts_on=today,
                                           ends_on=today + datetime.timedelta(days=3), created_by=head)
    assert menu(fresh(deputy)) == lists(fresh(deputy)) and menu(fresh(deputy))[0] > alone[0]
    Delegation.objects.filter(pk=delegation.pk).update(cancelled_at=timezone.now())
    assert menu(fresh(deputy)) == alone


def test_two_people_with_the_same_appointments_see_only_their_own_drafts(cast, short_content):
    organ = Organ.objects.get(code="泉科")
    department = organ.departments.first()
    people = []
    for name in ("twin_a", "twin_b"):
        person = get_user_model().objects.create_user(name, password="x" * 12, last_name=name)
        Appointment.objects.create(user=person, organ=organ, role=Role.DRAFTER).departments.add(department)
        people.append(person)
    drafts = [services.create_draft(fresh(person), short_content) for person in people]
    for person, own, other in ((people[0], drafts[0], drafts[1]), (people[1], drafts[1], drafts[0])):
        assert can_view(fresh(person), own) and not can_view(fresh(person), other)
        client = Client()
        client.force_login(person)
        assert client.get(f"/documents/{own.pk}/").status_code == 200
        assert client.get(f"/documents/{other.pk}/").status_code == 404
