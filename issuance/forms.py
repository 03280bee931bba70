"""Forms of the user interface. They translate between what a person types and the
exchange format; the rules about the document stay in issuance.exchange and services."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator

from . import chains, exchange, params
from .headings import detect_kind
from .models import STEP_ROLES, Actor, Decision, Distribution, Organ, Retention

# Explicit markers for the blocks that numbering alone cannot tell.
TITLE_MARK = "【标题】"
PARAGRAPH_MARK = "【段落】"

BODY_HELP = (
    "每行一段。以“一、”“（一）”“1.”“（1）”开头的行自动作为一至四级标题；"
    f"以“{TITLE_MARK}”开头的行作为居中的印发件标题；以“{PARAGRAPH_MARK}”开头的行强制作为普通段落。"
)


def typable(value):
    """Refuse what no one types (issuance.params.UNTYPABLE_RE): PostgreSQL refuses NUL in text."""
    if params.UNTYPABLE_RE.search(value):
        raise ValidationError("含有无法识别的字符（如空字符或其他控制字符），请删除后重新提交", code="untypable")


class TextRules:
    """Every text field of the form refuses characters no one types, with a Chinese message.
    (Django's own check refuses only NUL, and its Chinese message, 不允许是用空字符串, misleads.)"""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators = [v for v in field.validators
                                    if not isinstance(v, ProhibitNullCharactersValidator)] + [typable]


class Form(TextRules, forms.Form):
    """The base of the app's forms."""

    def first_error(self):
        """The first error, with its field's label, for a page that shows it as a message."""
        name, errors = next(iter(self.errors.items()))
        field = self.fields.get(name)
        return f"{field.label}：{errors[0]}" if field is not None else errors[0]


class PasswordForm(TextRules, PasswordChangeForm):
    """The change of one's own password (config.urls)."""


def body_from_text(text):
    """One block per non-empty line; the kind comes from the marker or the numbering."""
    blocks = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith(TITLE_MARK):
            blocks.append({"kind": "title", "text": line[len(TITLE_MARK):].strip()})
        elif line.startswith(PARAGRAPH_MARK):
            blocks.append({"kind": "paragraph", "text": line[len(PARAGRAPH_MARK):].strip()})
        else:
            blocks.append({"kind": detect_kind(line), "text": line})
    return blocks


def body_to_text(blocks):
    lines = []
    for block in blocks:
        kind, text = block["kind"], block["text"]
        if kind == "title":
            lines.append(TITLE_MARK + text)
        elif detect_kind(text) != kind:
            lines.append(PARAGRAPH_MARK + text)
        else:
            lines.append(text)
    return "\n".join(lines)


def _lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _blank_choice(choices):
    return [("", "无")] + [(value, value) for value in choices]


class DraftForm(Form):
    """The 发文稿纸: every element of the exchange format, as a drafter fills it in."""

    doc_type = forms.ChoiceField(label="文种", choices=[(v, v) for v in exchange.DOC_TYPES], initial="通知")
    direction = forms.ChoiceField(label="行文方向", choices=[(v, v) for v in exchange.DIRECTIONS], initial="下行文")
    format = forms.ChoiceField(label="公文格式", choices=[(v, v) for v in exchange.FORMATS], initial="文件")
    secrecy = forms.ChoiceField(label="密级", choices=_blank_choice(exchange.SECRECY_LEVELS), required=False)
    secrecy_period = forms.CharField(label="保密期限", required=False, max_length=20, help_text="如：1年；无密级时留空")
    copy_number = forms.CharField(label="份号", required=False, max_length=6, help_text="涉密公文标注 6 位份号，如 000001")
    urgency = forms.ChoiceField(label="紧急程度", choices=_blank_choice(exchange.URGENCY_LEVELS), required=False)
    issuer_marks = forms.CharField(
        label="发文机关", widget=forms.Textarea(attrs={"rows": 2}), required=False,
        help_text="每行一个机关；联合行文时主办机关在前",
    )
    header_title = forms.CharField(label="发文机关标志", required=False, max_length=500, help_text="留空则由发文机关自动生成，如“泉州市科学技术局文件”")
    signers = forms.CharField(
        label="签发人", widget=forms.Textarea(attrs={"rows": 2}), required=False,
        help_text="仅上行文标注，每行一人；留空则使用签发领导姓名",
    )
    title = forms.CharField(label="标题", max_length=exchange.MAX_TITLE_CHARS)
    main_recipients = forms.CharField(label="主送机关", required=False, max_length=2000, help_text="多个机关用顿号分隔，不写末尾冒号")
    body = forms.CharField(label="正文", widget=forms.Textarea(attrs={"rows": 18}), help_text=BODY_HELP)
    attachments = forms.CharField(label="附件说明", widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="每行一个附件名称，不加序号和标点")
    signature_orgs = forms.CharField(label="署名", widget=forms.Textarea(attrs={"rows": 2}), required=False, help_text="每行一个发文机关署名")
    date = forms.DateField(label="成文日期", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="留空则以签发日期为成文日期")
    seal = forms.BooleanField(label="加盖印章", required=False, initial=True)
    note = forms.CharField(label="附注", required=False, max_length=2000)
    cc = forms.CharField(label="抄送机关", required=False, max_length=2000, help_text="多个机关用顿号分隔，不写“抄送：”和句号")
    printed_by = forms.CharField(label="印发机关", required=False, max_length=exchange.MAX_LINE_CHARS)
    copies = forms.IntegerField(label="印发份数", required=False, min_value=1, max_value=100000)

    # The 稿纸 in the order of the printed page: 版头, 主体, 版记.
    SECTIONS = (
        ("版头", ("doc_type", "direction", "format", "urgency", "secrecy", "secrecy_period", "copy_number",
                 "issuer_marks", "header_title", "signers")),
        ("主体", ("title", "main_recipients", "body", "attachments", "signature_orgs", "date", "seal", "note")),
        ("版记", ("cc", "printed_by", "copies")),
    )
    WIDE = ("title", "body")
    HALF = ("issuer_marks", "header_title", "signers", "main_recipients", "attachments", "signature_orgs", "note", "cc")

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    @classmethod
    def initial_for(cls, content, copies=None):
        """Form values for an existing content dict."""
        initial = {key: content.get(key) for key in exchange.KEYS if key in cls.base_fields}
        for key in ("issuer_marks", "signers", "attachments", "signature_orgs"):
            initial[key] = "\n".join(content.get(key) or [])
        initial["body"] = body_to_text(content["body"])
        initial["copies"] = copies
        for key, value in list(initial.items()):
            if value is None:
                initial[key] = ""
        return initial

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        content = {
            "doc_type": data["doc_type"],
            "direction": data["direction"],
            "format": data["format"],
            "copy_number": data["copy_number"] or None,
            "secrecy": data["secrecy"] or None,
            "secrecy_period": data["secrecy_period"] or None,
            "urgency": data["urgency"] or None,
            "issuer_marks": _lines(data["issuer_marks"]),
            "header_title": data["header_title"] or None,
            "doc_number": None,
            "signers": _lines(data["signers"]),
            "title": data["title"],
            "main_recipients": data["main_recipients"] or None,
            "body": body_from_text(data["body"]),
            "attachments": _lines(data["attachments"]),
            "signature_orgs": _lines(data["signature_orgs"]),
            "date": data["date"].isoformat() if data["date"] else None,
            "seal": data["seal"],
            "note": data["note"] or None,
            "cc": data["cc"] or None,
            "printed_by": data["printed_by"] or None,
            "printed_date": None,
        }
        try:
            self.content = exchange.parse_document(content)
        except exchange.ExchangeError as error:
            key = error.field.split("[", 1)[0].split(".", 1)[0]
            if key in self.fields:
                self.add_error(key, error.message)
            else:
                raise forms.ValidationError(str(error)) from None
        return data


class DecisionForm(Form):
    decision = forms.ChoiceField(
        label="审批意见", choices=[(Decision.APPROVE, "同意"), (Decision.RETURN, "退回")], widget=forms.RadioSelect,
    )
    text = forms.CharField(label="意见内容", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000,
                           help_text="同意时可以不填；退回时请写明理由，拟稿人将据此修改")

    remember = forms.BooleanField(label="存为常用意见", required=False)

    def __init__(self, *args, targets=(("drafter", "拟稿人"),), signing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if signing:
            # 签发 is its own act: the signer signs off, or sends it back.
            self.fields["decision"].choices = [(Decision.APPROVE, "签发"), (Decision.RETURN, "退回")]
            self.fields["decision"].label = "签发"
            self.fields["text"].label = "签发意见"
            self.fields["text"].help_text = "签发时写明签发意见，如“同意印发。”；退回时写明理由"
            self.fields["decision"].initial = Decision.APPROVE
        if len(targets) > 1:
            # A reviewer returns to the drafter or to an earlier step of the chain.
            self.fields["return_to"] = forms.ChoiceField(
                label="退回至", choices=list(targets), initial="drafter", required=False,
                help_text="退回拟稿人修改后重新送审；退回之前的环节则从该环节起重新办理",
            )

    def clean(self):
        data = super().clean()
        if data.get("decision") == Decision.RETURN and not (data.get("text") or "").strip():
            self.add_error("text", "退回时必须填写退回理由")
        return data


class ImportForm(Form):
    """拟稿 from a file: a Word file or a text, recognised into the 稿纸 before anything is saved."""

    file = forms.FileField(
        label="从文件拟稿", help_text="Word 文件（.docx）或纯文本（.txt，UTF-8 或 GB 18030 编码）；识别结果填入稿纸，核对后再保存",
        error_messages={"required": "请选择要上传的文件", "empty": "上传的文件是空的", "invalid": "请选择要上传的文件"},
        widget=forms.ClearableFileInput(attrs={"accept": ".docx,.txt"}),
    )


class SubmitForm(Form):
    note = forms.CharField(label="送审说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    format_reason = forms.CharField(label="确认送审的理由", required=False, max_length=200,
                                    widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text="格式审查的错误未改正而仍要送审时，写明理由；理由记入办理日志")


class WithdrawForm(Form):
    reason = forms.CharField(label="撤回原因", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(Form):
    reason = forms.CharField(label="理由", max_length=200, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": "请填写理由"})


class RegisterForm(Form):
    copies = forms.IntegerField(label="印发份数", min_value=1, max_value=100000)


class RecipientForm(Form):
    recipient = forms.CharField(label="收文机关", max_length=200, required=False)
    role = forms.ChoiceField(label="类别", choices=Distribution.Role.choices)
    copies = forms.IntegerField(label="份数", min_value=1, max_value=100000, initial=1)
    add = forms.BooleanField(label="加入名录", required=False)


class RecipientOrganForm(Form):
    name = forms.CharField(label="收文机关名称", max_length=200)
    aliases = forms.CharField(label="别称", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="每行一个，如简称或旧称；核发时据此识别主送、抄送中的机关")
    active = forms.BooleanField(label="启用", required=False, initial=True)


RecipientFormSet = forms.formset_factory(RecipientForm, extra=2, max_num=500)


class ArchiveForm(Form):
    retention = forms.ChoiceField(label="保管期限", choices=Retention.choices, initial=Retention.PERMANENT)
    remarks = forms.CharField(label="备注", required=False, max_length=200)


class GrantForm(Form):
    username = forms.CharField(label="用户名", max_length=150, error_messages={"required": "请填写用户名"})


class RoutingForm(Form):
    """How a draft is routed: for whom it is drafted, its 类别 and the 科室 that countersign."""

    department = forms.ModelChoiceField(label="承办科室", queryset=None, empty_label=None)
    category = forms.ChoiceField(label="类别", required=False,
                                 help_text="按类别适用相应的审核流程，如宣传类需三审；一般公文不选")
    countersign = forms.ModelMultipleChoiceField(
        label="会签科室", queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="需要其他科室会签时勾选；联合行文时由各联合发文机关会签",
    )

    def __init__(self, *args, departments, categories, organ_departments, fixed_department=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        if fixed_department is not None:
            self.fields["department"].disabled = True
            self.fields["department"].initial = fixed_department
        self.fields["category"].choices = [("", "一般公文")] + [(c, c) for c in categories]
        self.fields["countersign"].queryset = organ_departments


class ChainForm(Form):
    """A 审核流程's name and the documents it applies to."""

    name = forms.CharField(label="流程名称", max_length=50)
    doc_types = forms.MultipleChoiceField(label="适用文种", required=False, widget=forms.CheckboxSelectMultiple,
                                          choices=[(v, v) for v in exchange.DOC_TYPES], help_text="不选表示全部文种")
    directions = forms.MultipleChoiceField(label="适用行文方向", required=False, widget=forms.CheckboxSelectMultiple,
                                           choices=[(v, v) for v in exchange.DIRECTIONS], help_text="不选表示全部")
    category = forms.CharField(label="适用类别", max_length=40, required=False,
                               help_text="如“宣传类”；填写后拟稿人选择该类别的公文适用本流程，留空表示不限类别")
    active = forms.BooleanField(label="启用", required=False, initial=True)


class StepForm(Form):
    """One step of a chain, as the administrator enters it."""

    name = forms.CharField(label="环节名称", max_length=20, required=False)
    kind = forms.ChoiceField(label="类型", choices=[("review", "审核"), ("sign", "签发")], initial="review")
    actor = forms.ChoiceField(label="办理人", choices=Actor.choices)
    role = forms.ChoiceField(label="岗位", required=False,
                             choices=[("", "—")] + [(r.value, r.label) for r in STEP_ROLES])
    users = forms.TypedMultipleChoiceField(label="指定人员", required=False, coerce=int,
                                           widget=forms.SelectMultiple(attrs={"size": 3}))
    parallel = forms.BooleanField(label="各自会签", required=False)
    time_limit = forms.IntegerField(label="时限（工作日）", min_value=0, max_value=chains.MAX_TIME_LIMIT, required=False,
                                    help_text="0 表示不限；不填则审核 2 个工作日")

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The rows are a table: each field carries its column's name for screen readers.
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("aria-label", field.label)
        # The organ's people, read once for the whole formset (see BaseStepFormSet).
        self.fields["users"].choices = [(user.pk, f"{user.last_name}{user.first_name}") for user in people]


class BaseStepFormSet(forms.BaseFormSet):
    def __init__(self, *args, people=(), **kwargs):
        self.people = list(people)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "people": self.people}

    def steps(self):
        """The filled-in rows in the order the administrator gave, deleted rows left out."""
        rows = [form for form in self.ordered_forms if (form.cleaned_data.get("name") or "").strip()]
        by_id = {user.pk: user for user in self.people}
        return [
            chains.StepSpec(name=form.cleaned_data["name"], actor=form.cleaned_data["actor"],
                            kind=form.cleaned_data["kind"], role=form.cleaned_data.get("role") or "",
                            parallel=form.cleaned_data.get("parallel", False),
                            users=[by_id[pk] for pk in form.cleaned_data.get("users") or []],
                            time_limit=form.cleaned_data.get("time_limit"))
            for form in rows
        ]


StepFormSet = forms.formset_factory(StepForm, formset=BaseStepFormSet, extra=2, can_delete=True, can_order=True,
                                    max_num=chains.MAX_STEPS, absolute_max=chains.MAX_STEPS + 5)


class SampleForm(Form):
    """A sample document, to see who would act on each step of a chain."""

    department = forms.ModelChoiceField(label="承办科室", queryset=None, empty_label=None)
    doc_type = forms.ChoiceField(label="文种", choices=[(v, v) for v in exchange.DOC_TYPES], initial="通知")
    direction = forms.ChoiceField(label="行文方向", choices=[(v, v) for v in exchange.DIRECTIONS], initial="下行文")
    countersign = forms.ModelMultipleChoiceField(label="会签科室", queryset=None, required=False,
                                                 widget=forms.CheckboxSelectMultiple)
    co_organs = forms.ModelMultipleChoiceField(label="联合发文机关", queryset=None, required=False,
                                               widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, organ, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = organ.departments.all()
        self.fields["countersign"].queryset = organ.departments.all()
        self.fields["co_organs"].queryset = Organ.objects.exclude(pk=organ.pk)

    def clean(self):
        data = super().clean()
        if data.get("department") and data.get("department") in (data.get("countersign") or ()):
            self.add_error("countersign", "承办科室不会签自己的公文，请去掉")
        return data


class DelegationForm(Form):
    """代理: who stands in for whom, from when to when."""

    principal = forms.ModelChoiceField(label="被代理人", queryset=None, required=False,
                                       help_text="办公室可为本机关请假的人员设置")
    deputy = forms.ModelChoiceField(label="代理人", queryset=None)
    starts_on = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="事由", max_length=100, required=False)

    def __init__(self, *args, people, for_others=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deputy"].queryset = people
        self.fields["deputy"].label_from_instance = _person_label
        if for_others:
            self.fields["principal"].queryset = people
            self.fields["principal"].label_from_instance = _person_label
        else:
            del self.fields["principal"]


def _person_label(user):
    return f"{user.last_name}{user.first_name}（{user.username}）"
