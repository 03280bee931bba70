"""Take a document along the whole path, each step by the demo user who holds that role.

Used by `setup_demo` for the seed document, and by tests; it goes through the same
actions a person's clicks go through.
"""

from django.contrib.auth import get_user_model

from issuance import services
from issuance.models import Decision, Stage

from . import actions, printing

# The demo user who acts at each stage.
ACTORS = {
    Stage.FIRST_REVIEW: "head",
    Stage.SECOND_REVIEW: "reviewer",
    Stage.FINAL_REVIEW: "deputy",
    Stage.SIGNING: "director",
    Stage.RECHECK: "clerk",
    Stage.REGISTRATION: "clerk",
    Stage.PRINTING: "clerk",
    Stage.DISTRIBUTION: "clerk",
    Stage.ARCHIVING: "archivist",
}
OPINIONS = {
    Stage.FIRST_REVIEW: "同意，请办公室核稿。",
    Stage.SECOND_REVIEW: "格式、文字已核，同意。",
    Stage.FINAL_REVIEW: "同意，呈局长签发。",
    Stage.SIGNING: "同意印发。",
    Stage.RECHECK: "已复核。",
}


def _work(document, stage, user, copies, retention):
    if stage in OPINIONS:
        return services.decide(document, user, Decision.APPROVE, OPINIONS[stage], expected_stage=stage)
    if stage == Stage.REGISTRATION:
        return services.register(document, user, copies)
    if stage == Stage.DISTRIBUTION:
        recipients = [(name, role, 1) for name, role in services.default_recipients(document)]
        # The clerk confirms names the address book does not know yet.
        return services.distribute(document, user, recipients, add_to_book={name for name, _, _ in recipients})
    return services.archive(document, user, retention)


def act(document, stage, user, copies=10, retention="Y"):
    """Do the one step `stage` as `user`, through the open task of that stage."""
    if stage == Stage.PRINTING:
        printing.request(document, user, backend_name="inline")
        return
    task = actions.open_tasks(document).get()
    actions.complete(task, user, lambda: _work(document, stage, user, copies, retention))


def advance(document, until, copies=10, retention="Y"):
    """Approve step by step, each by its demo holder, until the document reaches `until`."""
    User = get_user_model()
    document.refresh_from_db()
    while document.stage != until:
        stage = Stage(document.stage)
        act(document, stage, User.objects.get(username=ACTORS[stage]), copies=copies, retention=retention)
        document.refresh_from_db()
    return document


def take_through_path(content, drafter, copies=10, retention="Y", until=Stage.ARCHIVED):
    document = services.create_draft(drafter, content)
    actions.submit(document, drafter, "请审核。")
    return advance(document, until, copies=copies, retention=retention)
