"""Framing: our pages show the PDF preview in an <iframe>, and nothing else is ever framed.

Every response says X-Frame-Options: DENY and CSP frame-ancestors 'none' (settings), except
a PDF, which our own origin may frame. A PDF gets no other CSP directive: it runs none of
our script, and a browser's PDF viewer may be hindered by a policy meant for our pages.
"""

from csp.constants import SELF


def frame_pdfs_in_own_pages(get_response):
    def middleware(request):
        response = get_response(request)
        if response.get("Content-Type", "").startswith("application/pdf"):
            response["X-Frame-Options"] = "SAMEORIGIN"
            response._csp_config = {"frame-ancestors": [SELF]}  # read by csp.middleware.CSPMiddleware
        return response

    return middleware
