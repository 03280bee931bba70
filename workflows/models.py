from django.db import models
from viewflow.workflow.models import Process


class DocumentProcess(Process):
    """The run of DocumentFlow for one document; returns loop inside the same run."""

    document = models.OneToOneField(
        "issuance.Document", on_delete=models.PROTECT, related_name="process", verbose_name="公文"
    )

    class Meta:
        verbose_name = "发文流程"
        verbose_name_plural = "发文流程"
