"""Sample pages that several test modules serve from a loopback origin."""

from __future__ import annotations

# An article in the usual frame: a title with the site name, byline and site metadata, a menu before it,
# a footer after it, and one link inside it.
OWLS = b"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Owls at night | Bird News</title>
<meta property="og:site_name" content="Bird News"><meta name="author" content="Ada Owl"></head>
<body><nav><a href="/">Home</a> <a href="/subscribe">Subscribe now</a></nav>
<article><h1>Owls at night</h1>
<p>The first paragraph is about owls, which hunt at night with silent feathers and very good ears.
Barn owls can find a mouse under snow by sound alone, which is a remarkable skill for any bird.</p>
<p>The second paragraph explains how owls turn their heads, up to 270 degrees, thanks to extra
vertebrae and blood vessels that keep working while they turn. Read <a href="/more">more about owls</a>.</p>
<p>A third paragraph keeps the article long enough for readability to be sure it is the article,
with more words about owls, their nests, their chicks, and the places they like to live in.</p>
</article><footer>Copyright Bird News. All rights reserved.</footer></body></html>"""
