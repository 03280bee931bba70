"""Documents the tests build, and the acts they take on them."""

import contextlib
import copy

from django.db import transaction
from django.test import override_settings

from issuance import services
from issuance.models import Decision, StepState
from workflows import actions

SHORT_TITLE = "泉州市科学技术局关于开展2026年科技活动周的通知"
GX_TITLE = "泉州市工业和信息化局关于开展2026年工业互联网宣传周的通知"


def short_content(seed_content, title=SHORT_TITLE, **changes):
    """A short 通知 without a number, made from the seed's header fields."""
    content = copy.deepcopy(seed_content)
    content.update(
        doc_number=None,
        printed_date=None,
        date=None,
        title=title,
        body=[
            {"kind": "paragraph", "text": "为普及科学知识，经研究，决定开展2026年科技活动周。现将有关事项通知如下。"},
            {"kind": "heading1", "text": "一、活动时间"},
            {"kind": "paragraph", "text": "2026年5月17日至23日。"},
            {"kind": "heading1", "text": "二、工作要求"},
            {"kind": "paragraph", "text": "各单位要高度重视，精心组织，确保活动取得实效。"},
        ],
        cc="市科协",
    )
    content.update(changes)
    return content


def gx_content(seed_content, title=GX_TITLE, **changes):
    """A short 通知 of 泉州市工业和信息化局."""
    organ = "泉州市工业和信息化局"
    return short_content(seed_content, title, issuer_marks=[organ], signature_orgs=[organ], header_title=None,
                         printed_by=f"{organ}办公室", main_recipients="各县（市、区）工信局", cc="市直有关单位",
                         **changes)


ANONYMOUS = "anonymous"


def as_(client, world, who):
    """The client, logged in as the cast member `who` of `world` (or anonymous)."""
    if client.cookies:
        client.logout()
    if who != ANONYMOUS:
        client.force_login(world.users[who])
    return client


def open_state(document, name=None, party=None):
    """The document's open step state (named `name`, of the 会签 party `party`)."""
    states = services.open_states(document).order_by("pk")
    if name:
        states = states.filter(name=name)
    if party:
        states = [s for s in states if s.party_label == party]
        return states[0]
    return states.get() if name is None or len(states) == 1 else states.first()


def task_of(state):
    """The open task of a step state."""
    return state.tasks.exclude(status__in=("DONE", "CANCELED")).get()


def decide(document, user, decision=Decision.APPROVE, text="", return_to="drafter", name=None, party=None):
    """`user` decides the document's open step (`name`, `party` when several are open), as the
    task page does: through the task, which they claim if it is in a queue."""
    state = open_state(document, name, party)
    result = actions.complete(task_of(state), user, lambda: services.decide(
        document, user, state, decision, text or ("同意。" if decision == Decision.APPROVE else ""), return_to))
    document.refresh_from_db()
    return result


def states(document, **filters):
    """(name, party, status) of the document's step states, in the order they were opened."""
    return [(s.name, s.party_label, s.status) for s in
            StepState.objects.filter(document=document, **filters).order_by("round__number", "opening", "pk")]


@contextlib.contextmanager
def module_world(django_db_blocker, media):
    """Build a module's world once, in a transaction rolled back when the module is done; each
    test then runs in its own savepoint on top (pytest-django's `db`)."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast,
                                                        GONGWEN_RENDER_BACKEND="inline"):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
