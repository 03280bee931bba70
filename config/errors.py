"""The 400 and 500 pages. Django's other error pages (403, 403 for CSRF, 404) are its own
handlers rendering our templates.

400 says what was wrong when the request was refused with a message for the user (a search
term with a NUL: issuance.params.BadParameter). 500 differs from Django's only in that its
template sees the request, for the nonce of the page's <style> block; it needs no database
and no context processor: the error may be that the database is gone."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from issuance.params import BadParameter


def bad_request(request, exception=None):
    message = str(exception) if isinstance(exception, BadParameter) else ""
    return render(request, "400.html", {"message": message}, status=400)


def server_error(request):
    return HttpResponseServerError(loader.get_template("500.html").render({"request": request}))
