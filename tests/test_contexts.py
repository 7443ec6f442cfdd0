"""The contexts' objects read without Flask's proxies are the proxies' own objects."""

from __future__ import annotations

import pytest
from flask import current_app, g, request, session

from flaskr.contexts import this_app, this_g, this_request, this_session


def test_in_a_request_each_is_the_object_behind_flasks_proxy(app):
    with app.test_request_context("/hello?x=1"):
        assert this_app() is current_app._get_current_object() is app
        assert this_g() is g._get_current_object()
        assert this_request() is request._get_current_object()
        assert this_request().args["x"] == "1"
        assert this_session() is session._get_current_object()
        this_g().seen = "here"
        assert g.seen == "here"


def test_in_an_app_context_the_app_and_g_are_there_and_no_request(app):
    with app.app_context():
        assert this_app() is app
        assert this_g() is g._get_current_object()
        with pytest.raises(LookupError):
            this_request()
        with pytest.raises(LookupError):
            this_session()


def test_outside_every_context_each_refuses(app):
    for read in (this_app, this_g, this_request, this_session):
        with pytest.raises(LookupError):
            read()


def test_reading_the_session_marks_it_read(app):
    """A page that read the session (to find the user) varies by the cookie."""
    with app.test_request_context("/"):
        app.preprocess_request()  # the hooks, as a request runs them
        assert this_session().accessed
