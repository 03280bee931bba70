"""Responses our views leave bare: PDFs framed by our own pages, and a 405 explained.

Framing: our pages show the PDF preview in an <iframe>, and nothing else is ever framed.
Every response says X-Frame-Options: DENY and CSP frame-ancestors 'none' (settings), except
a PDF, which our own origin may frame. A PDF gets no other CSP directive: it runs none of
our script, and a browser's PDF viewer may be hindered by a policy meant for our pages.

A URL that only takes a form's POST (`require_POST`) answers a GET, e.g. of an address copied
from the browser's bar, with an empty 405; the person gets a page saying where the button is.
"""

from csp.constants import SELF
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse


def frame_pdfs_in_own_pages(get_response):
    def middleware(request):
        response = get_response(request)
        if response.get("Content-Type", "").startswith("application/pdf"):
            response["X-Frame-Options"] = "SAMEORIGIN"
            response._csp_config = {"frame-ancestors": [SELF]}  # read by csp.middleware.CSPMiddleware
        return response

    return middleware


def explain_method_not_allowed(get_response):
    def middleware(request):
        response = get_response(request)
        allowed = response.get("Allow", "").split(", ")
        if response.status_code != 405 or response.content or "POST" not in allowed or request.method == "POST":
            return response
        page = render(request, "405.html", {"back": page_above(request.path_info)}, status=405)
        page["Allow"] = response["Allow"]
        return page

    return middleware


def page_above(path):
    """The nearest page above `path` (/documents/5/submit/ → /documents/5/), else the home page."""
    parts = path.strip("/").split("/")[:-1]
    while parts:
        candidate = f"/{'/'.join(parts)}/"
        try:
            resolve(candidate)
        except Resolver404:
            parts.pop()
        else:
            return candidate
    return reverse("home")
