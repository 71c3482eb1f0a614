"""Notifications (NOTIFY_URLS): events.py says what happened, sender.py delivers it through Apprise."""

from bot.notify.events import Event, Message
from bot.notify.sender import Notifier, build_notifier

__all__ = ["Event", "Message", "Notifier", "build_notifier"]
