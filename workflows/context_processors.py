from issuance.models import Role, display_name
from issuance.roles import is_administrator, is_office, may_browse_archive, may_draft, memberships

from . import queries


def navigation(request):
    """The menu: how many tasks wait in 待办 and 可领取 and how many notices are unread (one
    query), and the pages this person's roles open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    m = memberships(user)
    roles = sorted({Role(h.role).label for h in m.held}, key=[r.label for r in Role].index)
    inbox, queue, unread = queries.counts(user)
    return {
        "nav_unread_count": unread,
        "nav_inbox_count": inbox,
        "nav_queue_count": queue,
        "nav_user_name": display_name(user),
        "nav_roles": "、".join(roles),
        "nav_can_draft": may_draft(user),
        "nav_office": is_office(user),
        "nav_archive": may_browse_archive(user),
        "nav_admin": is_administrator(user),
    }
