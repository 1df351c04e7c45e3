"""Tell a user's open WebSockets to re-check their credentials (webui.accounts.ws.still_allowed)
when anything they rest on changes: sign-out or a deleted session, deactivation, a password
change, a deleted token, a role (group) change, a deleted user. Sent after commit to the group
``user.<id>`` through the channel layer, so it reaches sockets on every server process."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import SESSION_KEY, get_user_model, user_logged_out
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from webui.accounts.models import Token
from webui.accounts.ws import user_group


def notify(user_id: Any, session_key: str | None = None) -> None:
    """After commit: the sockets of ``user_id`` re-check (those of ``session_key`` just close)."""
    if user_id is None:
        return
    from webui.live.broadcast import send

    message: dict[str, Any] = {"type": "auth.recheck", "session": session_key}
    transaction.on_commit(lambda: send(message, group=user_group(int(user_id))))


def _user_saved(sender: Any, instance: Any, update_fields: Any = None, **kw: Any) -> None:
    if update_fields is not None and set(update_fields) == {"last_login"}:
        return  # a sign-in stamps it: nothing an open socket's credentials depend on
    notify(instance.pk)


def _token_deleted(sender: Any, instance: Token, **kw: Any) -> None:
    notify(instance.user_id)


def _session_deleted(sender: Any, instance: Session, **kw: Any) -> None:
    try:
        user_id = instance.get_decoded().get(SESSION_KEY)
    except Exception:  # a session that does not decode authenticates nobody
        return
    notify(user_id, instance.session_key)


def _signed_out(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    if user is not None:
        notify(user.pk, getattr(request.session, "session_key", None))


def _groups_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[Any] | None, **kw: Any) -> None:
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        notify(instance.pk)
        return
    members = pk_set if pk_set is not None else instance.user_set.values_list("pk", flat=True)
    for user_id in list(members):
        notify(user_id)


def connect() -> None:
    user_model = get_user_model()
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="nsmap-ws-user-saved")
    post_delete.connect(_user_saved, sender=user_model, dispatch_uid="nsmap-ws-user-deleted")
    post_delete.connect(_token_deleted, sender=Token, dispatch_uid="nsmap-ws-token-deleted")
    post_delete.connect(_session_deleted, sender=Session, dispatch_uid="nsmap-ws-session-deleted")
    user_logged_out.connect(_signed_out, dispatch_uid="nsmap-ws-signed-out")
    m2m_changed.connect(_groups_changed, sender=user_model.groups.through, dispatch_uid="nsmap-ws-groups")
