"""核发 against the address book of recipient organs, and the office's register and address-book pages."""

import pytest

from issuance import services
from issuance.exceptions import IssuanceError
from issuance.models import Distribution, NumberVoid, RecipientOrgan, Stage
from workflows import actions, demo_path

CAST = ("drafter", "head", "reviewer", "deputy", "director", "clerk", "archivist", "outsider")


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
    content = {**short_content, "secrecy": "秘密"}
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
])
def test_the_number_register_is_the_offices(cast, client, who, expected):
    if who:
        client.force_login(cast[who])
    response = client.get("/numbers/")
    assert response.status_code == expected
    if expected == 302:
        assert response["Location"].startswith("/login/")


def test_the_clerk_voids_the_next_number_with_a_reason_and_others_cannot(cast, client, short_content):
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)
    client.force_login(cast["reviewer"])
    client.post("/numbers/", {"reason": "试图作废"})
    assert not NumberVoid.objects.exists()
    client.force_login(cast["clerk"])
    response = client.post("/numbers/", {"reason": ""})
    assert response.status_code == 200 and "请填写理由" in response.content.decode()
    response = client.post("/numbers/", {"reason": "已用于纸质公文"}, follow=True)
    page = response.content.decode()
    void = NumberVoid.objects.get()
    assert void.serial == 2 and void.voided_by == cast["clerk"]
    assert document.doc_number in page and void.number in page and "已用于纸质公文" in page and "空号" in page


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
