"""viewflow's generic process pages would show every process to anyone with the model's view
permission; gongwen mounts none of them and shows a process only through its document. The
task API viewflow's views would call (can_assign, can_execute) follows the domain's rules,
organ by organ."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from viewflow.workflow.status import STATUS

from issuance import services
from workflows import actions

from .builders import decide


def test_no_url_leads_to_a_viewflow_view():
    for path in ("/workflow/", "/workflow/flows/", "/documentflow/", "/tasks/1/assign/", "/tasks/1/execute/"):
        try:
            match = resolve(path)
        except Resolver404:
            continue
        assert not match.func.__module__.startswith("viewflow"), path


def _views(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            view = getattr(pattern.callback, "view_class", pattern.callback)
            yield prefix + str(pattern.pattern), view.__module__


def test_no_url_pattern_of_the_site_is_a_viewflow_view():
    views = list(_views(get_resolver().url_patterns))
    assert any(module == "workflows.views" for _, module in views)  # the walk reaches the task pages
    assert [(route, module) for route, module in views if module.startswith("viewflow")] == []


@pytest.mark.parametrize("model", ["process", "task"])
def test_staff_with_viewflows_view_permission_find_no_admin_page_for_processes(cast, short_content, client, model):
    document = services.create_draft(cast["drafter"], short_content)
    actions.submit(document, cast["drafter"])
    outsider = cast["outsider"]
    outsider.is_staff = True
    outsider.save()
    outsider.user_permissions.add(*Permission.objects.filter(content_type__app_label="viewflow", codename__startswith="view_"))
    outsider = type(outsider).objects.get(pk=outsider.pk)  # drop the permission cache
    assert outsider.has_perm(f"viewflow.view_{model}")
    client.force_login(outsider)
    assert client.get(f"/admin/viewflow/{model}/").status_code == 404
    assert client.get(f"/admin/viewflow/{model}/1/change/").status_code == 404


def test_a_task_of_one_organ_is_no_task_for_the_same_post_of_the_other(cast, short_content, client):
    document = services.create_draft(cast["drafter"], short_content)
    actions.submit(document, cast["drafter"])
    decide(document, cast["head"])
    task = actions.open_tasks(document).get()
    assert (task.state.name, task.status) == ("复审", STATUS.NEW)
    assert task.flow_task.can_assign(cast["reviewer"], task)
    for name in ("gx_reviewer", "gx_clerk", "gx_director"):
        assert not task.flow_task.can_assign(cast[name], task), name
        assert not task.flow_task.can_execute(cast[name], task), name
        client.force_login(cast[name])
        assert client.get(f"/tasks/{task.pk}/").status_code == 404
        assert client.post(f"/tasks/{task.pk}/claim/").status_code == 404
        assert client.post(f"/tasks/{task.pk}/", {"decision": "approve", "text": "同意"}).status_code == 404
    task.refresh_from_db()
    assert (task.status, task.owner) == (STATUS.NEW, None)
    actions.claim(task, cast["reviewer"])
    task.refresh_from_db()
    assert task.flow_task.can_execute(cast["reviewer"], task)
    assert not task.flow_task.can_execute(cast["gx_reviewer"], task)
