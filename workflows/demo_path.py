"""Take a document along its path, each step by a person who may take it.

Used by `setup_demo` for the seed document, and by tests; it goes through the same
actions a person's clicks go through. At each open step it picks the task's holder, else
the first person (by id) who may take it from the queue.
"""

from issuance import services
from issuance.models import Decision, Stage, StepKind
from issuance.roles import state_candidates

from . import actions, printing

# The seed is a real printed document, taken in as it was printed, its format errors and all:
# 送审 confirms them with this reason.
SEED_REASON = "范例公文按印发原件录入，原件的格式问题保持原样"
OPINIONS = {
    "初审": "同意，请办公室核稿。",
    "复审": "格式、文字已核，同意。",
    "会签": "同意。",
    "终审": "同意，呈局长签发。",
    "签发": "同意印发。",
    "复核": "已复核。",
}


def actor_for(task):
    """Who does `task` in the demo: its holder, else the first person who may take it."""
    if task.owner_id:
        return task.owner
    return state_candidates(task.state).first()


def _work(document, state, user, copies, retention):
    if state.kind in (StepKind.REVIEW, StepKind.SIGN, StepKind.RECHECK):
        return services.decide(document, user, state, Decision.APPROVE, OPINIONS.get(state.name, "同意。"))
    if state.kind == StepKind.REGISTER:
        return services.register(document, user, copies)
    if state.kind == StepKind.DISTRIBUTE:
        recipients = [(name, role, 1) for name, role in services.default_recipients(document)]
        # The clerk confirms names the address book does not know yet.
        return services.distribute(document, user, recipients, add_to_book={name for name, _, _ in recipients})
    if state.kind == StepKind.ARCHIVE:
        return services.archive(document, user, retention)
    raise ValueError(f"demo_path cannot do a {state.kind} step")


def act(task, user=None, copies=10, retention="Y"):
    """Do one open task, as `user` or as the person the demo picks."""
    user = user or actor_for(task)
    document = task.state.document
    if task.state.kind == StepKind.PRINT:
        printing.request(document, user, backend_name="inline")
        return user
    actions.complete(task, user, lambda: _work(document, task.state, user, copies, retention))
    return user


def _arrived(document, until):
    if until in Stage.values:
        return document.stage == until
    return services.open_states(document).filter(name=until).exists()


def advance(document, until=Stage.ARCHIVED, copies=10, retention="Y"):
    """Approve step by step until the document reaches the stage `until`, or until a step
    named `until` (初审, 会签 …) is open."""
    document.refresh_from_db()
    while not _arrived(document, until):
        task = actions.open_tasks(document).order_by("pk").first()
        if task is None:
            raise RuntimeError(f"{document} has no open task before reaching {until}")
        act(task, copies=copies, retention=retention)
        document.refresh_from_db()
    return document


def take_through_path(content, drafter, copies=10, retention="Y", until=Stage.ARCHIVED, format_reason="", **draft):
    """Draft `content` and take it along its path; `format_reason` confirms 送审 while an 错误 of
    its 格式审查 stands."""
    document = services.create_draft(drafter, content, **draft)
    actions.submit(document, drafter, "请审核。", format_reason)
    return advance(document, until, copies=copies, retention=retention)
