from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from issuance import account_views, chain_views, notice_views
from issuance import office_views as office
from issuance import views as documents
from issuance.forms import PasswordForm
from workflows import document_views as document_pages
from workflows import views as tasks

admin.site.site_header = admin.site.site_title = "公文办理 · 系统管理"  # not Django's name

urlpatterns = [
    path("", documents.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(form_class=PasswordForm), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("lockouts/", account_views.lockout_list, name="lockouts"),
    path("tasks/inbox/", tasks.inbox, name="inbox"),
    path("tasks/queue/", tasks.queue, name="queue"),
    path("tasks/done/", tasks.archive, name="done"),
    path("tasks/<int:task_pk>/", tasks.task_page, name="task"),
    path("tasks/<int:task_pk>/claim/", tasks.claim, name="claim"),
    path("tasks/<int:task_pk>/release/", tasks.release, name="release"),
    path("documents/", documents.document_list, name="documents"),
    path("documents/new/", documents.document_create, name="document_create"),
    path("documents/new/import/", documents.document_import, name="document_import"),
    path("documents/<int:pk>/", document_pages.document_detail, name="document"),
    path("documents/<int:pk>/edit/", document_pages.document_edit, name="document_edit"),
    path("documents/<int:pk>/submit/", document_pages.document_submit, name="document_submit"),
    path("documents/<int:pk>/format/fix/", document_pages.document_format_fix, name="document_format_fix"),
    path("documents/<int:pk>/withdraw/", document_pages.document_withdraw, name="document_withdraw"),
    path("documents/<int:pk>/grant/", documents.document_grant, name="document_grant"),
    path("documents/<int:pk>/preview.pdf", documents.document_preview, name="document_preview"),
    path("documents/<int:pk>/pages/<int:number>.png", documents.document_page_image, name="document_page_image"),
    path("documents/<int:pk>/sheet/", documents.document_sheet, name="document_sheet"),
    path("documents/<int:pk>/issued.pdf", documents.document_issued_pdf, name="document_issued_pdf"),
    path("documents/<int:pk>/export.json", documents.document_export, name="document_export"),
    path("documents/<int:pk>/revisions/<int:number>/", documents.revision_detail, name="revision"),
    path("archive/", include("issuance.archive_urls")),
    path("numbers/", office.number_register, name="number_register"),
    path("recipients/", office.recipient_list, name="recipients"),
    path("recipients/new/", office.recipient_edit, name="recipient_create"),
    path("recipients/<int:pk>/", office.recipient_edit, name="recipient_edit"),
    path("chains/", chain_views.chain_list, name="chains"),
    path("chains/new/", chain_views.chain_edit, name="chain_create"),
    path("chains/<int:pk>/", chain_views.chain_edit, name="chain_edit"),
    path("chains/<int:pk>/sample/", chain_views.chain_sample, name="chain_sample"),
    path("notices/", notice_views.notice_list, name="notices"),
    path("notices/read/", notice_views.notices_read, name="notices_read"),
    path("notices/<int:pk>/", notice_views.notice_open, name="notice"),
    path("delegations/", notice_views.delegations, name="delegations"),
    path("delegations/<int:pk>/end/", notice_views.delegation_end, name="delegation_end"),
    path("documents/<int:pk>/urge/<int:state_pk>/", documents.document_urge, name="document_urge"),
    path("admin/", admin.site.urls),
]

# 403 (and CSRF's), 404: Django's handlers with our templates (templates/4xx.html).
handler400 = "config.errors.bad_request"
handler500 = "config.errors.server_error"
