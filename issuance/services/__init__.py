"""The verbs of 发文办理, in one namespace for the views and the flow.

Each verb checks who may do it and from which step, changes the document inside one
transaction with the document's row locked, and writes a history entry. Views and the flow
call these; none of them re-implements a rule found here.
"""

from .drafting import can_edit, check_copies, create_draft, grant_access, record_task_change, save_content
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
    decide,
    holders_label,
    may_take_back,
    open_states,
    progress,
    refusal,
    require_step,
    return_targets,
    submit,
    take_back,
    take_back_target,
)

__all__ = [
    "PRINT_JOB_STALE", "STAGE_OF_KIND", "abandon_stale_print_job", "active_print_job", "active_round", "archive",
    "can_edit", "check_copies", "copies_are_numbered", "create_draft", "decide", "default_recipients", "distribute",
    "fail_print_job", "finish_print", "grant_access", "holders_label", "is_stale", "known_recipients",
    "last_print_job", "may_take_back", "open_states", "print_lease", "progress", "record_task_change", "refusal",
    "register", "render_issue", "renew_print_lease", "request_print", "requeue_lost_print_jobs", "require_step",
    "return_targets", "save_content", "save_recipient", "split_recipients", "start_print_job", "submit", "take_back", "take_back_target", "void_and_reregister",
]
