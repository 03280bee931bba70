from issuance.models import display_name
from issuance.office_views import is_office

from . import queries


def navigation(request):
    """Counts for the menu: how many tasks wait in 待办 and 可领取."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_inbox_count": queries.inbox(user).count(),
        "nav_queue_count": len(queries.claimable(user)),
        "nav_user_name": display_name(user),
        "nav_roles": "、".join(user.groups.values_list("name", flat=True)),
        "nav_can_draft": user.has_perm("issuance.add_document"),
        "nav_office": is_office(user),
    }
