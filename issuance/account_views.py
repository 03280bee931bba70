"""Accounts: the 机关管理员's list of the organ's people locked out of logging in, with 解锁.

Open to the 机关管理员 of the organ; anyone else gets 403. (Changing one's own password is
Django's PasswordChangeView with the app's templates, see config/urls.py.)
"""

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from . import accounts, params, submissions
from .exceptions import IssuanceError
from .models import Role, display_name
from .office_views import office_organ

MESSAGE = "只有本机关的机关管理员可以查看和解除登录锁定"


@login_required
@require_http_methods(["GET", "POST"])
def lockout_list(request):
    organ, organs = office_organ(request, (Role.ADMINISTRATOR,), MESSAGE)
    if request.method == "POST":
        username = params.text(request.POST, "username", label="用户名", max_length=150)
        try:
            with submissions.once(request):
                user = accounts.unlock(request.user, organ, username)
        except IssuanceError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"已解除{display_name(user)}（{user.username}）的登录锁定")
        return redirect(f"{reverse('lockouts')}?organ={organ.pk}")
    return render(request, "issuance/lockouts.html", {
        "tab": "lockouts", "organ": organ, "organs": organs, "rows": accounts.lockouts(organ),
        "failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": int(get_cool_off().total_seconds() // 60),
    })
