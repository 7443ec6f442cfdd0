"""Uploaded pictures, the files made from each, and the posts that show them."""

import sqlalchemy as sa

from flaskr.db import metadata

#: Longest alt text (characters): a sentence or two, as screen readers read it.
ALT_MAX = 500

media = sa.Table(
    "media",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner_id", sa.Integer, sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
    # What Markdown names the picture by: "<random>-<width>x<height>", unique. Pages
    # read the size from it (width/height, srcset) without asking the database.
    sa.Column("key", sa.String(80), nullable=False, unique=True),
    sa.Column("format", sa.String(8), nullable=False),  # Pillow's name: JPEG, PNG, ...
    sa.Column("width", sa.Integer, nullable=False),  # upright, as pages show it
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("frames", sa.Integer, nullable=False),
    # Every byte the upload takes in the store (original and variants): the quota.
    sa.Column("bytes", sa.BigInteger, nullable=False),
    # What the uploader said the picture shows; empty only when marked decorative.
    sa.Column("alt", sa.Text, nullable=False),
    sa.Column("decorative", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Index("ix_media_owner", "owner_id", "created_at", "id"),
    sa.Index("ix_media_created", "created_at", "id"),
    sqlite_autoincrement=True,
)

media_file = sa.Table(
    "media_file",
    metadata,
    # The stored name (random, see media.storage): the original is private, the
    # variants public.
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column(
        "media_id", sa.Integer, sa.ForeignKey("media.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("format", sa.String(8), nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Index("ix_media_file_media", "media_id"),
)

media_use = sa.Table(
    "media_use",
    metadata,
    # A post whose text (or cover) shows the picture: it cannot be deleted meanwhile.
    sa.Column(
        "media_id", sa.Integer, sa.ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "post_id", sa.Integer, sa.ForeignKey("post.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Index("ix_media_use_post", "post_id"),
)
