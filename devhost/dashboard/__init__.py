"""devhost's dashboard: a page at ``/devhost/`` and the read-only JSON API behind it, showing
every instance, its history and how its custom status changed over time. Every action the page
offers goes through the Durable extension's own webhooks (``http/durable_api.py``), so none has a
second path; the only thing this API changes is the manual clock, as the test hook does. The
page's HTML, CSS and JavaScript live in ``static/`` and are served as they are, with no build step
and nothing from another origin.
"""
