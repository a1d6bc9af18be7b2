"""Every email NormHub sends is built and transported here.

The parts other features use (kept stable):

* ``normhub.mail.message.compose(app, template, to, context, *, display_name="",
  key=None, headers=())`` → :class:`~normhub.mail.message.Outgoing` (``message_id``,
  ``data``): renders ``templates/email/<template>/`` (``subject.txt``, ``body.txt``,
  ``body.html``; see ``message``) into a multipart/alternative message from
  ``MAIL_FROM``. A caller composing many emails keeps one
  ``message.Composer(app)`` and calls ``compose(Email(...))`` on it.
* ``normhub.mail.message.Sender.from_config(app.config)``: ``mail_from`` (the From
  header), ``envelope`` (the SMTP envelope sender), ``domain`` (of Message-IDs).
* ``normhub.mail.transports.transport_for(app)`` → a transport: SMTP when
  ``SMTP_HOST`` is set, else ``.eml`` files in ``OUTBOX_DIR``. Its API:
  ``open()`` (raises ``SMTPSettingsError`` on bad settings), then
  ``send(outgoing, sender, recipient)`` for each message (raises
  ``RecipientRefused`` on a permanent refusal of the address,
  ``TemporaryFailure``, or ``ConnectionLost``), then ``close()``;
  ``another()`` gives a second, unopened transport with the same settings.
* ``normhub.mail.queue.send_email(session, template, to, context, *, kind)``: for
  mail a change causes (a request, a job). Renders the template pair now and writes
  the result to the mail queue in the caller's transaction; the job worker delivers
  it after commit, with retries (see ``queue``). Never sends inside the request.
* ``normhub.mail.addresses``: ``is_deliverable(session, address)`` before
  sending, ``record_bounce(session, address, reason)`` after a
  ``RecipientRefused``, ``suppress(session, address, reason)``.

The function that makes one kind of email (its template name, recipient and
context) lives with the feature that owns the email, e.g.
``normhub.digest.emails``.
"""
