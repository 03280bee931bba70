"""The models of the document domain, one module per part of it."""

from .documents import (
    EDITABLE_STAGES,
    AppendOnlyModel,
    AppendOnlyQuerySet,
    Decision,
    Document,
    DocumentUserObjectPermission,
    Event,
    Opinion,
    Revision,
    Stage,
    stage_label,
)
from .format_checks import FormatCheck
from .notices import CommonPhrase, Notice
from .organs import DEPARTMENT_ROLES, Appointment, Delegation, Department, Organ, Role, display_name
from .records import (
    ArchiveFile,
    ArchiveRecord,
    Distribution,
    IssuedNumber,
    NumberSequence,
    NumberVoid,
    PrintAttempt,
    PrintJob,
    RecipientOrgan,
    Retention,
)
from .review import (
    REVIEW_KINDS,
    STEP_ROLES,
    Actor,
    ChainStep,
    ChainVersion,
    ReviewChain,
    Round,
    StepKind,
    StepState,
)
from .submissions import FormToken

__all__ = [
    "EDITABLE_STAGES", "DEPARTMENT_ROLES", "REVIEW_KINDS", "STEP_ROLES",
    "Actor", "AppendOnlyModel", "AppendOnlyQuerySet", "Appointment", "ArchiveFile", "ArchiveRecord", "ChainStep",
    "ChainVersion", "CommonPhrase", "Decision", "Delegation", "Department", "Distribution", "Document", "DocumentUserObjectPermission", "Event", "FormToken", "FormatCheck",
    "IssuedNumber", "Notice", "NumberSequence", "NumberVoid", "Opinion", "Organ", "PrintAttempt", "PrintJob", "RecipientOrgan", "Retention",
    "ReviewChain", "Revision", "Role", "Round", "Stage", "StepKind", "StepState", "display_name", "stage_label",
]
