from issuance.models import Notice, Role, display_name
from issuance.roles import is_administrator, is_office, may_browse_archive, may_draft, memberships

from . import queries


def navigation(request):
    """The menu: how many tasks wait in 待办 and 可领取 (one COUNT each), and the pages this
    person's roles open."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    m = memberships(user)
    roles = sorted({Role(h.role).label for h in m.held}, key=[r.label for r in Role].index)
    inbox, queue = queries.counts(user)
    return {
        "nav_unread_count": Notice.objects.filter(user=user, read_at__isnull=True).count(),
        "nav_inbox_count": inbox,
        "nav_queue_count": queue,
        "nav_user_name": display_name(user),
        "nav_roles": "、".join(roles),
        "nav_can_draft": may_draft(user),
        "nav_office": is_office(user),
        "nav_archive": may_browse_archive(user),
        "nav_admin": is_administrator(user),
    }
