"""核发 against the address book of recipient organs, and the office's register and address-book
pages; each organ's register and book are its own office's."""

import re

import pytest
from django.utils import timezone

from issuance import services
from issuance.exceptions import IssuanceError
from issuance.models import Appointment, Distribution, NumberVoid, Organ, RecipientOrgan, Role, Stage
from workflows import actions, demo_path

from .builders import gx_content

GX_OFFICE = ("gx_reviewer", "gx_clerk", "gx_archivist")
OFFICE = ("reviewer", "clerk", "archivist")


def organ(code):
    return Organ.objects.get(code=code)


@pytest.fixture
def at_distribution(cast, short_content):
    content = {**short_content, "main_recipients": "各县（市、区）科技局、市直有关单位", "cc": "泉州市科学技术协会、新成立的某某中心"}
    return demo_path.take_through_path(content, cast["drafter"], copies=10, until=Stage.DISTRIBUTION)


def distribute(document, user, recipients, add=()):
    task = actions.open_tasks(document).get()
    actions.complete(task, user, lambda: services.distribute(document, user, recipients, add_to_book=set(add)))


def test_an_unknown_recipient_is_refused_with_a_prompt_and_nothing_is_recorded(cast, at_distribution):
    recipients = [("各县（市、区）科技局", "main", 3), ("新成立的某某中心", "cc", 1)]
    with pytest.raises(IssuanceError, match="“新成立的某某中心”不在收文机关名录中"):
        distribute(at_distribution, cast["clerk"], recipients)
    assert not Distribution.objects.exists()
    assert not RecipientOrgan.objects.filter(name="新成立的某某中心").exists()


def test_confirmed_new_recipients_join_the_book_and_aliases_match_known_organs(cast, at_distribution):
    recipients = [("各县（市、区）科技局", "main", 3), ("泉州市科学技术协会", "cc", 1), ("新成立的某某中心", "cc", 1)]
    distribute(at_distribution, cast["clerk"], recipients, add={"新成立的某某中心"})
    records = list(at_distribution.distributions.select_related("recipient_organ", "sent_by"))
    assert [(r.recipient, r.recipient_organ.name, r.copies) for r in records] == [
        ("各县（市、区）科技局", "各县（市、区）科技局", 3),
        ("泉州市科学技术协会", "市科协", 1),
        ("新成立的某某中心", "新成立的某某中心", 1),
    ]
    assert {r.sent_by for r in records} == {cast["clerk"]}
    assert records[0].copy_numbers == ""  # an open document's copies carry no 份号


def test_numbered_copies_get_consecutive_copy_numbers(cast, short_content):
    content = {**short_content, "secrecy": "秘密", "secrecy_period": "1年", "copy_number": "000001"}
    document = demo_path.take_through_path(content, cast["drafter"], copies=10, until=Stage.DISTRIBUTION)
    distribute(document, cast["clerk"], [("局机关各科室", "main", 3), ("各直属单位", "main", 2), ("市科协", "cc", 1)])
    assert [d.copy_numbers for d in document.distributions.all()] == ["000001—000003", "000004—000005", "000006"]


def test_the_document_page_shows_who_received_which_copies(cast, short_content, client):
    content = {**short_content, "secrecy": "秘密", "secrecy_period": "1年"}
    document = demo_path.take_through_path(content, cast["drafter"], copies=10, until=Stage.DISTRIBUTION)
    distribute(document, cast["clerk"], [("局机关各科室", "main", 2)])
    client.force_login(cast["drafter"])
    page = client.get(f"/documents/{document.pk}/").content.decode()
    assert "局机关各科室" in page and "000001—000002" in page and "李娜" in page


def test_the_distribution_form_marks_names_outside_the_book(cast, at_distribution, client):
    task = actions.open_tasks(at_distribution).get()
    client.force_login(cast["clerk"])
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert page.count("未在名录中") == 1  # 新成立的某某中心; the alias 泉州市科学技术协会 is known
    form = {"r-TOTAL_FORMS": "1", "r-INITIAL_FORMS": "0", "r-0-recipient": "新成立的某某中心", "r-0-role": "cc", "r-0-copies": "1"}
    response = client.post(f"/tasks/{task.pk}/", form)
    assert response.status_code == 400 and "不在收文机关名录中" in response.content.decode()
    response = client.post(f"/tasks/{task.pk}/", {**form, "r-0-add": "on"})
    assert response.status_code == 302
    assert at_distribution.distributions.get().recipient_organ.name == "新成立的某某中心"


@pytest.mark.parametrize("who,expected", [
    ("drafter", 403), ("head", 403), ("reviewer", 200), ("deputy", 403), ("director", 403),
    ("clerk", 200), ("archivist", 200), ("outsider", 403), (None, 302),
    ("gx_drafter", 403), ("gx_head", 403), ("gx_reviewer", 200), ("gx_deputy", 403), ("gx_director", 403),
    ("gx_clerk", 200), ("gx_archivist", 200),
])
def test_the_number_register_is_the_offices(cast, client, who, expected):
    if who:
        client.force_login(cast[who])
    response = client.get("/numbers/")
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith("/login/")
    if expected == 200:
        # Each office opens on its own organ's register and may pick no other.
        own, other = ("泉工信", "泉科") if who.startswith("gx_") else ("泉科", "泉工信")
        page = response.content.decode()
        assert f'<option value="{own}" selected>' in page and f'value="{other}"' not in page


@pytest.mark.parametrize("who", GX_OFFICE + OFFICE)
def test_the_office_of_one_organ_may_not_open_the_others_register(cast, client, who):
    other = "泉科" if who.startswith("gx_") else "泉工信"
    client.force_login(cast[who])
    assert client.get("/numbers/", {"code": other}).status_code == 403
    assert client.get("/numbers/", {"code": other, "year": str(timezone.localdate().year)}).status_code == 403
    assert client.post(f"/numbers/?code={other}", {"reason": "跨机关作废"}).status_code == 403
    assert not NumberVoid.objects.exists()


def test_the_other_organs_register_shows_none_of_this_organs_numbers(cast, client, short_content):
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)
    client.force_login(cast["gx_clerk"])
    page = client.get("/numbers/").content.decode()
    assert document.doc_number not in page and document.title not in page and "该年度尚未编号" in page
    client.force_login(cast["clerk"])
    assert document.doc_number in client.get("/numbers/", {"code": "泉科"}).content.decode()


def test_the_clerk_voids_the_next_number_with_a_reason_and_others_cannot(cast, client, short_content):
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)
    for who in ("reviewer", "archivist"):
        client.force_login(cast[who])
        client.post("/numbers/", {"reason": "试图作废"})
    client.force_login(cast["gx_clerk"])
    client.post("/numbers/?code=泉科", {"reason": "试图作废"})
    assert not NumberVoid.objects.exists()
    client.force_login(cast["clerk"])
    response = client.post("/numbers/", {"reason": ""})
    assert response.status_code == 200 and "请填写理由" in response.content.decode()
    response = client.post("/numbers/", {"reason": "已用于纸质公文"}, follow=True)
    page = response.content.decode()
    void = NumberVoid.objects.get()
    assert void.serial == 2 and void.voided_by == cast["clerk"]
    assert document.doc_number in page and void.number in page and "已用于纸质公文" in page and "空号" in page
    assert void.organ_code == "泉科"


def test_a_void_in_one_organs_register_leaves_the_others_sequence_alone(cast, client):
    client.force_login(cast["gx_clerk"])
    response = client.post("/numbers/", {"reason": "已用于纸质公文"}, follow=True)
    void = NumberVoid.objects.get()
    year = timezone.localdate().year
    assert (void.organ_code, void.number, void.voided_by) == ("泉工信", f"泉工信〔{year}〕1号", cast["gx_clerk"])
    assert void.number in response.content.decode()
    client.force_login(cast["clerk"])
    page = client.get("/numbers/").content.decode()
    assert void.number not in page and "该年度尚未编号" in page


@pytest.mark.parametrize("who,list_status,edit_status", [
    ("clerk", 200, 200), ("reviewer", 200, 403), ("archivist", 200, 403),
    ("drafter", 403, 403), ("director", 403, 403), ("outsider", 403, 403),
])
def test_the_address_book_is_kept_by_the_clerk(cast, client, who, list_status, edit_status):
    client.force_login(cast[who])
    assert client.get("/recipients/").status_code == list_status
    assert client.get("/recipients/new/").status_code == edit_status
    response = client.post("/recipients/new/", {"name": "泉州市财政局", "aliases": "市财政局", "active": "on"})
    assert response.status_code == (302 if edit_status == 200 else 403)
    assert RecipientOrgan.objects.filter(name="泉州市财政局").exists() == (edit_status == 200)


def test_a_recipient_name_is_unique_in_the_book(cast, client):
    client.force_login(cast["clerk"])
    response = client.post("/recipients/new/", {"name": "市科协", "active": "on"})
    assert response.status_code == 400 and "名录中已有" in response.content.decode()
    recipient = RecipientOrgan.objects.get(name="市科协")
    response = client.post(f"/recipients/{recipient.pk}/", {"name": "市科协", "aliases": "科协\n泉州市科学技术协会"})
    assert response.status_code == 302
    recipient.refresh_from_db()
    assert recipient.alias_list() == ["科协", "泉州市科学技术协会"] and not recipient.active


@pytest.mark.parametrize("who,list_status,edit_status", [
    ("gx_clerk", 200, 200), ("gx_reviewer", 200, 403), ("gx_archivist", 200, 403),
    ("gx_drafter", 403, 403), ("gx_director", 403, 403),
])
def test_each_office_keeps_its_own_organs_book(cast, client, who, list_status, edit_status):
    client.force_login(cast[who])
    response = client.get("/recipients/")
    assert response.status_code == list_status
    if list_status == 200:
        page = response.content.decode()
        assert "泉州开发区经济发展局" in page and "市科协" not in page  # 泉工信's book, not 泉科's
    response = client.post("/recipients/new/", {"name": "泉州市财政局", "active": "on"})
    assert response.status_code == (302 if edit_status == 200 else 403)
    created = RecipientOrgan.objects.filter(name="泉州市财政局")
    assert [r.organ.code for r in created] == (["泉工信"] if edit_status == 200 else [])


@pytest.mark.parametrize("who", GX_OFFICE)
def test_the_other_organs_office_may_not_open_or_change_this_organs_book(cast, client, who):
    qk = organ("泉科")
    entry = RecipientOrgan.objects.get(organ=qk, name="市科协")
    client.force_login(cast[who])
    assert client.get("/recipients/", {"organ": qk.pk}).status_code == 403
    assert client.get("/recipients/", {"organ": "泉科"}).status_code == 403
    assert client.get(f"/recipients/new/?organ={qk.pk}").status_code == 403
    assert client.post(f"/recipients/new/?organ={qk.pk}", {"name": "泉州市财政局", "active": "on"}).status_code == 403
    # An entry of another organ's book does not exist for a clerk, and is no page for the rest of the office.
    refused = 404 if who == "gx_clerk" else 403
    assert client.get(f"/recipients/{entry.pk}/").status_code == refused
    response = client.post(f"/recipients/{entry.pk}/", {"name": "改名", "aliases": "", "active": "on"})
    assert response.status_code == refused
    assert client.post(f"/recipients/{entry.pk}/?organ={qk.pk}", {"name": "改名", "active": "on"}).status_code == 403
    entry.refresh_from_db()
    assert (entry.name, entry.organ, entry.active) == ("市科协", qk, True)
    assert not RecipientOrgan.objects.filter(name__in=["泉州市财政局", "改名"]).exists()


def test_the_same_name_may_be_in_both_books(cast, client):
    assert RecipientOrgan.objects.filter(name="市直有关单位").count() == 2
    client.force_login(cast["gx_clerk"])
    assert client.post("/recipients/new/", {"name": "市科协", "active": "on"}).status_code == 302
    assert sorted(RecipientOrgan.objects.filter(name="市科协").values_list("organ__code", flat=True)) == ["泉工信", "泉科"]
    with pytest.raises(IssuanceError, match="只有本机关的办公室文书"):
        services.save_recipient(organ("泉科"), cast["gx_clerk"], "泉州市财政局")


@pytest.fixture
def gx_at_distribution(cast, seed_content):
    content = {**gx_content(seed_content), "cc": "市科技局、市科协"}
    return demo_path.take_through_path(content, cast["gx_drafter"], copies=10, until=Stage.DISTRIBUTION)


def test_distribution_matches_against_the_organs_own_book(cast, gx_at_distribution):
    # 市科协 is in 泉科's book only; 市科技局 is an alias in 泉工信's.
    recipients = [("各县（市、区）工信局", "main", 3), ("市科技局", "cc", 1), ("市科协", "cc", 1)]
    with pytest.raises(IssuanceError, match="“市科协”不在收文机关名录中"):
        distribute(gx_at_distribution, cast["gx_clerk"], recipients)
    distribute(gx_at_distribution, cast["gx_clerk"], recipients, add={"市科协"})
    records = list(gx_at_distribution.distributions.select_related("recipient_organ__organ"))
    assert [(r.recipient, r.recipient_organ.name, r.recipient_organ.organ.code) for r in records] == [
        ("各县（市、区）工信局", "各县（市、区）工信局", "泉工信"),
        ("市科技局", "泉州市科学技术局", "泉工信"),
        ("市科协", "市科协", "泉工信"),
    ]
    assert RecipientOrgan.objects.filter(organ__code="泉科", name="市科协").count() == 1


def test_another_organs_clerk_cannot_distribute_the_document(cast, gx_at_distribution):
    with pytest.raises(IssuanceError, match="应由泉州市工业和信息化局的办公室文书办理"):
        distribute(gx_at_distribution, cast["clerk"], [("各县（市、区）工信局", "main", 1)])
    assert not Distribution.objects.exists()


@pytest.fixture
def two_offices(cast):
    """李娜 is also 泉工信's 办公室文书."""
    Appointment.objects.create(user=cast["clerk"], organ=organ("泉工信"), role=Role.CLERK)
    return cast["clerk"]


def test_someone_in_two_organs_offices_picks_the_register(cast, client, two_offices):
    client.force_login(two_offices)
    page = client.get("/numbers/").content.decode()
    assert '<option value="泉科" selected>' in page and re.search(r'<option value="泉工信"\s*>', page)
    assert '<option value="泉工信" selected>' in client.get("/numbers/", {"code": "泉工信"}).content.decode()
    client.post("/numbers/?code=泉工信", {"reason": "已用于纸质公文"})
    assert list(NumberVoid.objects.values_list("organ_code", "serial")) == [("泉工信", 1)]


def test_someone_in_two_organs_offices_keeps_each_book(cast, client, two_offices):
    gx = organ("泉工信")
    entry = RecipientOrgan.objects.get(organ=gx, name="泉州开发区经济发展局")
    client.force_login(two_offices)
    page = client.get("/recipients/", {"organ": gx.pk}).content.decode()
    assert "泉州开发区经济发展局" in page and "市科协" not in page
    response = client.post(f"/recipients/{entry.pk}/", {"name": entry.name, "aliases": "开发区经发局", "active": "on"})
    assert response.status_code == 302 and response["Location"] == f"/recipients/?organ={gx.pk}"
    entry.refresh_from_db()
    assert entry.alias_list() == ["开发区经发局"]
    response = client.post(f"/recipients/new/?organ={gx.pk}", {"name": "泉州市财政局", "active": "on"})
    assert response.status_code == 302
    assert RecipientOrgan.objects.get(name="泉州市财政局").organ == gx


def test_the_new_entry_link_of_an_organs_book_adds_to_that_book(cast, client, two_offices):
    gx = organ("泉工信")
    client.force_login(two_offices)
    page = client.get("/recipients/", {"organ": gx.pk}).content.decode()
    link = re.search(r'href="(/recipients/new/[^"]*)"', page).group(1).replace("&amp;", "&")
    assert client.post(link, {"name": "泉州市财政局", "active": "on"}).status_code == 302
    assert RecipientOrgan.objects.get(name="泉州市财政局").organ == gx


def test_a_year_of_many_numbers_is_shown_a_page_at_a_time_newest_page_first(cast, client,
                                                                           django_assert_max_num_queries):
    from issuance import office_views
    from issuance.models import NumberSequence

    year = timezone.localdate().year
    serials = 2 * office_views.REGISTER_PAGE + 50
    NumberSequence.objects.create(organ_code="泉科", year=year, last_serial=serials)
    NumberVoid.objects.bulk_create([  # two reasons in turn, so that no run is folded
        NumberVoid(organ_code="泉科", year=year, serial=n, number=f"泉科〔{year}〕{n}号",
                   reason="已用于纸质公文" if n % 2 else "误占", voided_by=cast["clerk"])
        for n in range(1, serials + 1)
    ])
    client.force_login(cast["clerk"])
    with django_assert_max_num_queries(25):
        page = client.get("/numbers/").content.decode()
    assert f"共 {serials} 号，已登记 0 号，空号 {serials} 号" in page and "第 3 / 3 页" in page
    shown = [int(n) for n in re.findall(rf"泉科〔{year}〕(\d+)号</td>", page)]
    assert shown == list(range(2 * office_views.REGISTER_PAGE + 1, serials + 1))
    first = client.get("/numbers/", {"page": "1"}).content.decode()
    assert [int(n) for n in re.findall(rf"泉科〔{year}〕(\d+)号</td>", first)] == list(range(1, office_views.REGISTER_PAGE + 1))
    assert "第 1 / 3 页" in first and "下一页" in first
