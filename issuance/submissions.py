"""One submission per form: a form posted twice (a double click, a reload that posts again,
the back button, a retry after a network error) does its work once.

Each form a page renders carries a one-time token (`{{ form_token() }}` beside
`{{ csrf_input }}`, config.templating): a random nonce signed with the
SECRET_KEY, so that only the app's own pages make valid ones. A view runs its change inside
`once(request)`, which stores the nonce (FormToken, unique) in the same transaction as the
change: the change and the use of the token commit together or not at all. A second post
of the same token finds it used and changes nothing; while the first is still running, the
unique index makes the second wait for it and then find it used.

A refusal (any IssuanceError inside `once`) rolls the token back with everything else, so
the corrected form can be posted again. Used tokens are kept as long as a token's signature
is valid (MAX_AGE), then forgotten. Tokens are bound to no user: the nonce is secret to
the page that carries it, and the page of the first submission's result is shown only to
the user who submitted it.
"""

import contextlib
import datetime
import secrets

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from .exceptions import IssuanceError
from .models import FormToken

FIELD = "form_token"
SALT = "issuance.submissions"
# A form left open longer than this must be posted again (it is shown again, filled in);
# used tokens older than this can be forgotten, since their signature no longer passes.
MAX_AGE = datetime.timedelta(days=7)
MAX_TOKEN_CHARS = 100


class FormTokenError(IssuanceError):
    """The form carries no valid token: it was not rendered by this app, or too long ago."""


class FormReplayed(IssuanceError):
    """The form was submitted before; `result` is where that submission led, if known."""

    def __init__(self, result=""):
        super().__init__("该表单已提交过，请勿重复提交")
        self.result = result


def issue():
    """A new token for one rendered form."""
    return signing.TimestampSigner(salt=SALT).sign(secrets.token_urlsafe(16))


def _nonce(request):
    token = request.POST.get(FIELD, "")
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise FormTokenError("表单已失效，请刷新页面后重新提交")
    try:
        return signing.TimestampSigner(salt=SALT).unsign(token, max_age=MAX_AGE)
    except signing.SignatureExpired:
        raise FormTokenError("表单打开时间过长已失效，请重新提交") from None
    except signing.BadSignature:
        raise FormTokenError("表单已失效，请刷新页面后重新提交") from None


class Submission:
    """The submission under way; set `result` to the page it leads to."""

    def __init__(self, token):
        self.token = token
        self.result = ""


@contextlib.contextmanager
def once(request):
    """Run the block as the one submission of the request's form, in one transaction with
    the use of its token. Raises FormTokenError or FormReplayed (IssuanceErrors) instead."""
    nonce = _nonce(request)
    user = request.user if request.user.is_authenticated else None
    forget_expired()  # before the transaction, so that no lock on old rows is held through the change
    with transaction.atomic():
        try:
            with transaction.atomic():
                token = FormToken.objects.create(nonce=nonce, user=user)
        except IntegrityError:
            used = FormToken.objects.filter(nonce=nonce).first()
            mine = used is not None and user is not None and used.user_id == user.pk
            raise FormReplayed(used.result if mine else "") from None
        submission = Submission(token)
        yield submission
        if submission.result:
            token.result = submission.result[:300]
            token.save(update_fields=["result"])


def forget_expired(now=None):
    """Delete the used tokens whose signature has expired anyway; returns how many."""
    cutoff = (now or timezone.now()) - MAX_AGE
    deleted, _ = FormToken.objects.filter(used_at__lt=cutoff).delete()
    return deleted
