"""For search engines: sitemap.xml (an index of post, tag and author sitemaps) and robots.txt."""

from flaskr.sitemap.views import bp

__all__ = ["bp"]
