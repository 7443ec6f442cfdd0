"""Username rules: one normal form, nothing invisible, no look-alike of a taken name."""

from __future__ import annotations

import hashlib

import icu
from flask_babel import gettext

from flaskr.validation import ValidationError

#: What a username may not hold once normalized: zero-width and other invisible
#: characters (Default_Ignorable_Code_Point: joiners, fillers, variation selectors),
#: format characters (bidi controls, soft hyphen), unassigned and private-use code
#: points, and every separator but the plain space.
_INVISIBLE = icu.UnicodeSet(
    r"[[:Default_Ignorable_Code_Point:][:Cf:][:Cn:][:Co:][:Cs:][:Zl:][:Zp:][:Zs:]-[\u0020]]"
)
_NFKC = icu.Normalizer2.getNFKCInstance()
#: ICU's implementation of Unicode TR39 (its confusables data travels with ICU).
_SPOOF = icu.SpoofChecker()


def normalize(username: str) -> str:
    """The NFKC form: full-width, ligature and other compatibility variants folded."""
    return _NFKC.normalize(username)


def check_characters(username: str) -> None:
    """Refuse a (normalized) username that holds invisible or formatting characters."""
    if not _INVISIBLE.containsNone(username):
        raise ValidationError(
            gettext(
                "Username cannot contain invisible or formatting characters "
                "(such as zero-width spaces or text-direction marks)."
            )
        )


def skeleton_key(username: str) -> str:
    """A key equal for names whose Unicode TR39 skeletons are equal ignoring case."""
    # Skeleton, case fold, skeleton: "paypaI" (capital I) meets "paypal" as in TR39,
    # and "PayPal" meets it too. Folding first would read that I as an i. Hashed: a
    # skeleton can be several times longer than the name, too long to index.
    cased = _SPOOF.getSkeleton(0, normalize(username))
    skeleton = _SPOOF.getSkeleton(0, cased.casefold())
    return hashlib.sha256(skeleton.encode("utf-8", "surrogatepass")).hexdigest()


def login_key(typed: str) -> str:
    """The account a login attempt counts against: the name as looked up, ignoring case."""
    return hashlib.sha256(normalize(typed).casefold().encode("utf-8", "surrogatepass")).hexdigest()
