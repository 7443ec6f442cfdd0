"""flaskr: a self-hosted, multi-user blog. create_app() builds the WSGI application."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from inspect import CO_COROUTINE
from types import FunctionType
from typing import Any

from flask import Flask

__all__ = ["create_app"]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the blog application: settings, database, extensions, pages."""
    app = Flask(__name__, instance_relative_config=True)
    app.ensure_sync = _ensure_sync(app)  # type: ignore[method-assign,assignment]
    from flaskr.i18n.templates import LanguageEnvironment

    # Templates compiled once per language, with their constant messages translated.
    app.jinja_environment = LanguageEnvironment

    from flaskr import config

    config.load_config(app, test_config)

    from flaskr import (
        db,
        errors,
        i18n,
        links,
        markup,
        pagecache,
        policy,
        ratelimit,
        schema,
        security,
        templating,
    )
    from flaskr.blog import articles, heads
    from flaskr.blog import queries as blog_queries
    from flaskr.extensions import csrf
    from flaskr.mail import services as mail
    from flaskr.media import services as media_services
    from flaskr.recovery import views as recovery_views
    from flaskr.search import results as search_results
    from flaskr.settings import services as site_settings
    from flaskr.twofactor import views as twofactor_views

    db.init_app(app)
    media_services.init_app(app)  # before security: the CSP and body limits know of it
    schema.init_app(app)
    i18n.init_app(app)
    links.init_app(app)  # before any route: it bounds <int:...> URL parts
    templating.init_app(app)
    articles.init_app(app)
    heads.init_app(app)
    search_results.init_app(app)
    pagecache.init_app(
        app,
        pagecache.Freshness(
            content_version=blog_queries.content_version,
            next_publication=blog_queries.next_publication,
            on_version=site_settings.ensure_current,
        ),
    )
    app.add_template_filter(markup.markdown_filter, "markdown")
    app.add_template_global(markup.first_picture, "first_picture")
    app.add_template_global(markup.picture_html, "picture_html")

    from flaskr import (
        admin,
        appearance,
        archive,
        auth,
        blog,
        cli,
        comments,
        feeds,
        history,
        likes,
        media,
        notifications,
        search,
        sitemap,
        tags,
        trash,
        users,
    )

    # Blueprints first: the signed-in user is loaded before any other check
    # runs, so even a CSRF or rate-limit error page knows who is asking.
    for blueprint in (
        auth.bp,
        blog.bp,
        likes.bp,
        comments.bp,
        history.bp,
        tags.bp,
        users.bp,
        search.bp,
        feeds.bp,
        sitemap.bp,
        appearance.bp,
        trash.bp,
        media.bp,
        archive.bp,
        admin.bp,
        recovery_views.bp,
        twofactor_views.bp,
        notifications.bp,
    ):
        app.register_blueprint(blueprint)
    # The tutorial's url_for("index") names the blog's front page.
    app.add_url_rule("/", endpoint="index")
    policy.init_app(app)
    from flaskr.invites import services as invites

    invites.init_app(app)
    likes.init_app(app)
    comments.init_app(app)
    notifications.init_app(app)
    mail.init_app(app)
    site_settings.init_app(app, app.extensions["flaskr.explicit_settings"])
    csrf.init_app(app)
    ratelimit.init_app(app)  # after the blueprints: it applies the limits their views declare
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app


def _ensure_sync(app: Flask) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Flask's ensure_sync(), answered at once for a plain function.

    Flask asks it of every hook, context processor and view on every request:
    a dozen times for `/hello`, about a microsecond each through inspect's checks.
    A plain (not async, not marked async) function is returned as it is, as
    Flask would; anything else goes to Flask's own.
    """
    flasks = app.ensure_sync

    def ensure_sync(func: Callable[..., Any]) -> Callable[..., Any]:
        if (
            type(func) is FunctionType
            and not func.__code__.co_flags & CO_COROUTINE
            and "_is_coroutine_marker" not in func.__dict__
        ):
            return func
        return flasks(func)

    return ensure_sync
