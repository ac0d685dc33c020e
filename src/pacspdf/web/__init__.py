"""The front door: teaser pages (``site``), the sample-request intake (``intake``, ``app``), its ``worker``.

- ``page``: a report folder -> the data its teaser page shows; ``colours``: brand -> AA palette;
- ``media``: chart specs -> SVG, the built PDF -> PNG previews; ``site``: pages -> files;
- ``settings``, ``tokens``, ``limits``, ``store``: configuration, signed links, abuse checks, records;
- ``mails``: the confirmation and sales mails; ``intake``: requests -> outbox entries and pages;
- ``app``: the Starlette service over the intake, ``access``: its access log; ``worker``: the sender;
- ``core``: the one module importing the rest of pacspdf.
"""
