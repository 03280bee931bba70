"""Every page answers in at most 25 SQL queries, whatever the number of documents and open
tasks: measured with 200 open tasks (bench/world.py), then again after the world has grown."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import world
from issuance.models import ArchiveRecord, ReviewChain
from issuance.roles import ARCHIVE_ROLES, memberships, visible_documents
from workflows import queries

from .builders import module_world

pytestmark = pytest.mark.django_db

CEILING = 25
USERS = ("drafter", "head", "reviewer", "clerk", "director", "gx_drafter", "gx_industry", "gx_clerk", "gx_director")


def pages(user):
    document = visible_documents(user).order_by("-pk").first()
    record = ArchiveRecord.objects.filter(document__organ_id__in=memberships(user).organs(*ARCHIVE_ROLES)).first()
    chain = ReviewChain.objects.filter(organ_id__in=memberships(user).organs("administrator")).first()
    task = queries.inbox(user).first() or queries.claimable(user).first()
    urls = {
        "待办": "/tasks/inbox/", "可领取": "/tasks/queue/", "已办": "/tasks/done/", "公文": "/documents/?scope=all",
        "公文检索": "/documents/?scope=all&q=工作", "拟稿": "/documents/new/", "文号登记簿": "/numbers/",
        "收文机关": "/recipients/", "档案": "/archive/", "档案检索": "/archive/?text=工作", "审核流程": "/chains/",
    }
    if document:
        urls["公文页"] = f"/documents/{document.pk}/"
    if record:
        urls["档案页"] = f"/archive/{record.pk}/"
    if chain:
        urls["审核流程页"] = f"/chains/{chain.pk}/"
        department = chain.organ.departments.first().pk
        urls["试算"] = f"/chains/{chain.pk}/sample/?department={department}&doc_type=通知&direction=下行文"
    if task:
        urls["办理"] = f"/tasks/{task.pk}/"
    return urls


def counts(urls=None):
    """(page, user) -> (status, queries) for every page of every user, and the pages' URLs
    (measured again, the same URLs: the same document, the same task)."""
    measured, urls = {}, urls or {}
    for username in USERS:
        user = get_user_model().objects.get(username=username)
        client = Client()
        client.force_login(user)
        urls.setdefault(username, pages(user))
        for name, url in urls[username].items():
            client.get(url)
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            measured[(name, username)] = (response.status_code, len(captured))
    return measured, urls


@pytest.fixture(scope="module")
def grown(django_db_setup, django_db_blocker, tmp_path_factory):
    """Counts with 200 open tasks, then after 300 more archived documents and more open ones."""
    with module_world(django_db_blocker, tmp_path_factory.mktemp("media")):
        world.build(290, open_count=190)
        open_tasks = queries.human_tasks().filter(status__in=queries.OPEN).count()
        small, urls = counts()
        world.archived_documents(300)
        world.open_documents(20, seed=3)
        large, _ = counts(urls)
        yield open_tasks, small, large


def test_the_world_has_two_hundred_open_tasks(grown):
    open_tasks, _, _ = grown
    assert open_tasks >= 200


def test_every_page_answers_within_the_query_ceiling(grown):
    _, small, large = grown
    over = {key: value for key, value in {**small, **large}.items() if value[1] > CEILING}
    assert not over, over
    assert all(status in (200, 403) for status, _ in small.values()), small


def test_the_query_counts_do_not_grow_with_the_documents(grown):
    _, small, large = grown
    changed = {key: (small[key], large.get(key)) for key in small if large.get(key) != small[key]}
    assert not changed, changed
