"""Query parameters, read in one place, so that none of them can end a request in a 500.

A browser sends whatever is in the address bar: a NUL (which PostgreSQL refuses in a text
value), a superscript "²" (which `str.isdigit()` takes for a digit and `int()` does not), a
number of 5,000 digits (longer than `int()` converts), bytes that are no UTF-8 at all.

- `text`: a search term. One no one can type (a control character, a lone surrogate) or one
  too long to mean anything is refused with a 400 page that says so in Chinese: showing
  every document instead would look like the answer to the search.
- `integer`, `page`, `choice`, `flag`: a year, a revision, a page, one of a few words. A
  value that is not one of them falls back to the default, as a page number past the end
  does in Django's paginator: the page shown says which year or page it is.

Only ASCII digits make a number (no "²", no "١٢", no "１２", no sign, no spaces).
"""

import re

from django.core.exceptions import BadRequest

MAX_TEXT = 100
MAX_DIGITS = 9  # every bound below is under a billion: more digits are never a valid value
MAX_PAGE = 100000
YEARS = (1000, 9999)  # the four digits of a 发文字号's and an archive record's year

DIGITS_RE = re.compile(r"[0-9]+", re.ASCII)
# What no one types: C0 and C1 control characters but tab and line breaks, and lone UTF-16
# surrogates. Shared with the forms (issuance.forms.TextRules).
UNTYPABLE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class BadParameter(BadRequest):
    """A query parameter the page cannot use; its message is for the user (config.urls handler400)."""


def text(params, name, *, label="查询内容", max_length=MAX_TEXT):
    """The stripped value of `name` ("" when absent); refused (400) when it holds a character no
    one types or is longer than `max_length`."""
    value = (params.get(name) or "").strip()
    if UNTYPABLE_RE.search(value):
        raise BadParameter(f"{label}含有无法识别的字符（如空字符），请重新输入")
    if len(value) > max_length:
        raise BadParameter(f"{label}过长（{len(value)} 字，最多 {max_length} 字）")
    return value


def integer(params, name, *, default=None, minimum=1, maximum=10 ** MAX_DIGITS - 1):
    """`name` as an integer from `minimum` to `maximum`, written in ASCII digits; else `default`."""
    value = (params.get(name) or "").strip()
    if len(value) > MAX_DIGITS or not DIGITS_RE.fullmatch(value):
        return default
    number = int(value)
    return number if minimum <= number <= maximum else default


def year(params, name="year", *, default=None):
    return integer(params, name, default=default, minimum=YEARS[0], maximum=YEARS[1])


def page(params, name="page"):
    """The page number for Django's Paginator.get_page (which takes any page past the end for the last)."""
    return integer(params, name, default=1, maximum=MAX_PAGE)


def choice(params, name, choices, *, default=None):
    """`name` if it is one of `choices` (an exact match), else `default`."""
    value = params.get(name)
    return value if value in choices else default


def flag(params, name):
    """A yes/no switch of a link, such as ?download=1."""
    return params.get(name) == "1"
