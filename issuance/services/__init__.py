"""The verbs of 发文办理, in one namespace for the views and the flow.

Each verb checks who may do it and from which step, changes the document inside one
transaction with the document's row locked, and writes a history entry. Views and the flow
call these; none of them re-implements a rule found here.
"""

from .delegation import delegate, end_delegation
from .drafting import can_edit, check_copies, create_draft, grant_access, save_content
from .issuing import (
    PRINT_JOB_STALE,
    abandon_stale_print_job,
    active_print_job,
    archive,
    copies_are_numbered,
    default_recipients,
    distribute,
    fail_print_job,
    finish_print,
    is_stale,
    known_recipients,
    last_print_job,
    print_lease,
    register,
    render_issue,
    renew_print_lease,
    request_print,
    requeue_lost_print_jobs,
    save_recipient,
    split_recipients,
    start_print_job,
    void_and_reregister,
)
from .review import (
    STAGE_OF_KIND,
    active_round,
    claim,
    decide,
    holders,
    held_by_another,
    holders_label,
    may_take_back,
    may_urge,
    open_states,
    progress,
    records,
    refusal,
    release,
    require_step,
    return_targets,
    submit,
    take_back,
    take_back_target,
    urge,
    why_closed,
)
from . import format_review, phrases
from .notices import mark_read, notify

__all__ = [
    "PRINT_JOB_STALE", "STAGE_OF_KIND", "abandon_stale_print_job", "active_print_job", "active_round", "archive",
    "can_edit", "check_copies", "claim", "copies_are_numbered", "create_draft", "decide", "default_recipients",
    "delegate", "distribute", "end_delegation", "fail_print_job", "finish_print", "grant_access", "holders",
    "held_by_another", "holders_label", "is_stale", "known_recipients", "last_print_job", "mark_read", "may_take_back", "may_urge",
    "format_review", "notify", "open_states", "phrases", "print_lease", "progress", "records", "refusal", "register", "release", "render_issue",
    "renew_print_lease", "request_print", "requeue_lost_print_jobs", "require_step", "return_targets", "save_content",
    "save_recipient", "split_recipients", "start_print_job", "submit", "take_back", "take_back_target", "urge",
    "void_and_reregister", "why_closed",
]
