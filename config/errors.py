"""The 500 page. Django's other error pages (400, 403, 403 for CSRF, 404) are its own
handlers rendering our templates; this one differs from Django's only in that its template
sees the request, for the nonce of the page's <style> block. It needs no database and no
context processor: the error may be that the database is gone."""

from django.http import HttpResponseServerError
from django.template import loader


def server_error(request):
    return HttpResponseServerError(loader.get_template("500.html").render({"request": request}))
