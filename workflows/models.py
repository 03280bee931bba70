"""viewflow's records of the 发文 flow: the process of a document and its tasks.

A human task is the work item of one `issuance.StepState`: it sits in its holder's 待办 or
in a role's 可领取 queue until that state is decided. The link points from the flow to the
domain, never the other way.
"""

from django.db import models
from viewflow.workflow.models import Process, Task


class DocumentProcess(Process):
    """The run of DocumentFlow for one document; returns loop inside the same run."""

    document = models.OneToOneField(
        "issuance.Document", on_delete=models.PROTECT, related_name="process", verbose_name="公文"
    )

    class Meta:
        verbose_name = "发文流程"
        verbose_name_plural = "发文流程"


class StepTask(Task):
    """A task of DocumentFlow; a human one does the work of one step state."""

    state = models.ForeignKey(
        "issuance.StepState", on_delete=models.PROTECT, null=True, blank=True, related_name="tasks",
        verbose_name="环节办理",
    )

    class Meta:
        verbose_name = "办理任务"
        verbose_name_plural = "办理任务"

    def save(self, *args, **kwargs):
        # The flow creates a human task with its state's id in `data` (see flows.Dispatch).
        if self.state_id is None and isinstance(self.data, dict) and self.data.get("state"):
            self.state_id = self.data["state"]
        super().save(*args, **kwargs)
