from viewflow.workflow.status import STATUS


def navigation(request):
    """Counts for the menu: how many tasks wait in 待办 and 可领取."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from viewflow.workflow.models import Task

    from issuance.models import display_name
    from workflows.flows import DocumentFlow

    inbox = Task.objects.filter(
        process__flow_class=DocumentFlow, owner=user, flow_task_type="HUMAN", status__in=[STATUS.ASSIGNED, STATUS.STARTED]
    ).count()
    return {
        "nav_inbox_count": inbox,
        "nav_user_name": display_name(user),
        "nav_roles": "、".join(user.groups.values_list("name", flat=True)),
        "nav_can_draft": user.has_perm("issuance.add_document"),
    }
