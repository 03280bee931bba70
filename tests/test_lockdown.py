"""viewflow's generic process pages would show every process to anyone with the model's view
permission; gongwen mounts none of them and shows a process only through its document."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import Resolver404, resolve

from issuance import services
from workflows import actions


def test_no_url_leads_to_a_viewflow_view():
    for path in ("/workflow/", "/workflow/flows/", "/documentflow/", "/tasks/1/assign/", "/tasks/1/execute/"):
        try:
            match = resolve(path)
        except Resolver404:
            continue
        assert not match.func.__module__.startswith("viewflow"), path


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
