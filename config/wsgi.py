"""The WSGI application; starting it starts the process's print dispatcher, which takes up
print jobs whose worker died (workflows.printing)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from workflows import printing  # noqa: E402  (needs the apps loaded above)

printing.start_dispatcher()
