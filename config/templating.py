"""The pages' template language: Jinja2, through Django's own Jinja2 backend.

The pages were written in Django's template language until issue 11's load bench showed it
to be half of a list's processor time (docs/benchmarks.md, "Third round"): each of fifty rows
resolved every variable through Django's lookup chain and rendered every node through its
debugging wrappers. Jinja2 compiles a template to Python once per process. The PDF's
templates keep Django's language and their own engine (issuance.render.layout), where the
printed text is checked byte for byte.

What the pages used from Django's language is here under the same names: `url()`,
`form_token()`, `querystring()`, and the filters `date`, `linebreaksbr`, `truncatechars`,
`filesizeformat`, with the domain's words (issuance.wording). Jinja2's own differences to
keep in mind: a method is called with `()`, `loop` is Django's `forloop`, `default` applies
to a missing value only (`x or "—"` for Django's `|default:"—"`)."""

import datetime
import functools
import itertools

import jinja2
from django.template import defaultfilters
from django.test.signals import template_rendered
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from markupsafe import Markup

from issuance import submissions, wording

PDF_TEMPLATES = "issuance/pdf/"

# Django's date format characters the pages use, as Python: anything else goes to Django's
# formatter (django.utils.dateformat), which is several times slower.
_FAST = {
    "Y": lambda d: f"{d.year:04d}", "m": lambda d: f"{d.month:02d}", "d": lambda d: f"{d.day:02d}",
    "n": lambda d: str(d.month), "j": lambda d: str(d.day),
    "H": lambda d: f"{d.hour:02d}", "i": lambda d: f"{d.minute:02d}", "s": lambda d: f"{d.second:02d}",
}


@functools.lru_cache(maxsize=64)
def _formatter(fmt):
    """A function writing a date as Django's `date` filter does with format `fmt`."""
    if any(c.isascii() and c.isalpha() and c not in _FAST for c in fmt) or "\\" in fmt:
        return lambda value: dateformat.format(value, fmt)
    parts = [_FAST.get(c, c) for c in fmt]
    return lambda value: "".join(part if isinstance(part, str) else part(value) for part in parts)


def date(value, fmt="Y-m-d"):
    """Django's `date` filter: an aware datetime in the current time zone (Asia/Shanghai)."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return _formatter(fmt)(value)


# Stand-ins for a URL's numbers: digits, as any key's converter takes them, found in no path.
_URL_MARK = 7_300_000_000_000_000_000


@functools.lru_cache(maxsize=512)
def _url_pieces(prefix, name, arity):
    """The URL named `name` cut where its `arity` numbers go, or None if it does not write
    them as given (then each URL is reversed in full)."""
    marks = [str(_URL_MARK + i) for i in range(arity)]
    try:
        text = reverse(name, args=marks or None)
    except NoReverseMatch:
        return None
    pieces = []
    for mark in marks:
        before, found, text = text.partition(mark)
        if not found:
            return None
        pieces.append(before)
    return (*pieces, text)


def url(name, *args, **kwargs):
    """Django's `reverse`. A list's links differ only in their keys: the URL is reversed once
    per name and script prefix, and each link is that URL with its numbers in place (reversing
    took 30 µs, a hundred times a list page)."""
    if not kwargs and all(type(arg) is int and arg >= 0 for arg in args):
        pieces = _url_pieces(get_script_prefix(), name, len(args))
        if pieces is not None:
            return "".join(itertools.chain.from_iterable(zip(pieces, map(str, args)))) + pieces[-1]
    return reverse(name, args=args or None, kwargs=kwargs or None)


def form_token():
    """The one-time token of a form that changes something (issuance.submissions), placed
    beside `csrf_input`."""
    return format_html('<input type="hidden" name="{}" value="{}">', submissions.FIELD, submissions.issue())


@jinja2.pass_context
def querystring(context, **changes):
    """The request's query string with `changes` (None removes a key), as Django's
    `{% querystring %}` writes it."""
    query = context["request"].GET
    params = query.copy()
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    if not params and not query:
        return ""
    return f"?{params.urlencode()}"


@jinja2.pass_context
def format_review(context, document):
    return wording.format_review(context["request"].user, document)


def now(fmt):
    return date(timezone.now(), fmt)


class PagesLoader(jinja2.FileSystemLoader):
    """templates/ without the PDF's templates, which are in Django's language and rendered by
    their own engine only (issuance.render.layout)."""

    def get_source(self, environment, template):
        if template.startswith(PDF_TEMPLATES):
            raise jinja2.TemplateNotFound(template)
        return super().get_source(environment, template)


class PageTemplate(jinja2.Template):
    """A Jinja2 template that says what it rendered, as Django's own do: the test client keeps
    the context (`response.context`); with nobody listening, sending costs nothing."""

    def render(self, *args, **kwargs):
        context = dict(*args, **kwargs)
        template_rendered.send(sender=self, template=self, context=context)
        return super().render(context)


def environment(**options):
    """The Jinja2 environment of the pages (settings.TEMPLATES)."""
    options["loader"] = PagesLoader(options["loader"].searchpath)
    options["undefined"] = jinja2.ChainableUndefined  # as Django: None.attr is empty
    options["keep_trailing_newline"] = True
    # Mail is plain text: escaped only in pages.
    options["autoescape"] = jinja2.select_autoescape(["html"], default_for_string=True)
    env = jinja2.Environment(**options)
    env.template_class = PageTemplate
    env.globals.update(
        url=url, form_token=form_token, querystring=querystring, now=now,
        format_review=format_review, issued_signature=wording.issued_signature,
    )
    env.filters.update(
        date=date,
        linebreaksbr=lambda value: Markup(defaultfilters.linebreaksbr(value, autoescape=True)),
        truncatechars=defaultfilters.truncatechars,
        filesizeformat=defaultfilters.filesizeformat,
        describe_event=wording.describe_event, outcome=wording.outcome, notice_text=wording.notice_text,
        errors_first=wording.errors_first, fix_words=wording.fix_words,
    )
    return env
