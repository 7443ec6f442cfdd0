"""Languages: which one each page is written in, and dates as its reader reads them."""

from flaskr.i18n.languages import (
    LANGUAGES,
    check_language,
    current_language,
    init_app,
    negotiate,
    speaking,
)

__all__ = [
    "LANGUAGES",
    "check_language",
    "current_language",
    "init_app",
    "negotiate",
    "speaking",
]
