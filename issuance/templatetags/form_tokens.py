"""`{% form_token %}`: the one-time token of a form that changes something (issuance.submissions),
placed beside `{% csrf_token %}`."""

from django import template
from django.utils.html import format_html

from .. import submissions

register = template.Library()


@register.simple_tag
def form_token():
    return format_html('<input type="hidden" name="{}" value="{}">', submissions.FIELD, submissions.issue())
