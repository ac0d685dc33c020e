"""Deliver personalised sample PDFs by email: enquiries -> outbox -> message -> transport.

The stages, each in its own module:

- ``enquiries``: an enquiries CSV -> validated :class:`Enquiry` rows and rejected rows with reasons;
- ``outbox``: the SQLite record of every enquiry and its state (queued, sending, sent, failed, rejected);
- ``message``: an enquiry + its personalised PDF -> a standard :class:`email.message.EmailMessage`;
- ``transport``: hand a message to ``.eml`` files or to an SMTP server, classifying failures;
- ``send``: the batch pipeline calling the stages in order, with retries and progress;
- ``commands``: the ``send`` and ``outbox`` subcommands (the only module that prints).
"""

from __future__ import annotations
