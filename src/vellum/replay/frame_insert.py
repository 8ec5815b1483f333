"""What goes at the top of every framed archived page: wombat, configured for our URLs.

@webrecorder/wombat (installed by `make install` from npm into static/vendor/wombat/)
rewrites what script does at run time: fetch, XHR, WebSocket, history, location,
cookies, postMessage, workers, attributes set by script. It reports navigation to the
top page (the UI origin) with postMessage.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from vellum.replay.frame import Origins
from vellum.urls.timestamps import from_timestamp

__all__ = ["FRAMED_MODIFIERS", "WOMBAT_DIR", "WOMBAT_SCRIPT", "frame_insert", "script_json"]

WOMBAT_DIR = "/static/vendor/wombat/"
WOMBAT_SCRIPT = WOMBAT_DIR + "wombat.js"
# Modifiers of documents shown in a frame: they get wombat (and no banner).
FRAMED_MODIFIERS = ("", "mp_", "if_", "fr_")


def script_json(value: object) -> str:
    """`value` as JSON that is safe inside an HTML <script> element.

    `<`, `>` and `&` are escaped so no `</script>` or `<!--` can end or bend the
    element; non-ASCII (U+2028 and U+2029 too) is escaped by `ensure_ascii`.
    """
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def frame_insert(
    origins: Origins,
    slug: str,
    url: str,
    timestamp: str,
    request_timestamp: str,
    modifier: str,
) -> str:
    """The head insert of an archived HTML page replayed with `modifier`."""
    parts = urlsplit(url)
    info = {
        "top_url": f"{origins.ui}/{slug}/{timestamp}/{url}",
        "url": url,
        "timestamp": timestamp,
        "request_ts": request_timestamp or timestamp,
        "prefix": f"{origins.replay}/{slug}/",
        "mod": modifier or "mp_",
        "is_framed": True,
        "is_live": False,
        "coll": slug,
        "proxy_magic": "",
        "static_prefix": WOMBAT_DIR,
        "enable_auto_fetch": False,
        "top_host": origins.ui,
        "wombat_ts": timestamp,
        "wombat_sec": str(int(from_timestamp(timestamp).timestamp())),
        "wombat_scheme": parts.scheme,
        "wombat_host": parts.netloc,
        "wombat_opts": {},
    }
    # With one origin for everything (tests), the origins are this page's own.
    return (
        f'<script src="{WOMBAT_SCRIPT}" data-vellum="1"></script>'
        '<script data-vellum="1">(function(){'
        f"var i={script_json(info)},o=location.origin;"
        'if(i.prefix.charAt(0)==="/"){i.prefix=o+i.prefix;i.top_url=o+i.top_url;i.top_host=o;}'
        f"{FRAME_SHIM}"
        "window.wbinfo=i;if(window._WBWombatInit){window._WBWombatInit(i);}"
        "})();</script>"
    )


# In a frame whose site differs from the top page's (localhost vs 127.0.0.1), browsers
# treat the archived page as third-party: cookies without `SameSite=None; Secure` are
# refused, and where third-party cookies are blocked only partitioned ones (CHIPS) are
# kept and storage throws. So cookies set by script become partitioned, and storage that
# throws is replaced by an in-memory one (wombat then layers its own Storage on top).
# `Secure` is only added where the browser accepts it: https, or a loopback host.
FRAME_SHIM = (
    "if(window!==window.top){"
    "try{window.localStorage;window.sessionStorage;}catch(e){"
    '["localStorage","sessionStorage"].forEach(function(n){var d={},s={'
    "getItem:function(k){return Object.prototype.hasOwnProperty.call(d,k)?d[k]:null},"
    "setItem:function(k,v){d[k]=String(v)},removeItem:function(k){delete d[k]},"
    "clear:function(){d={}},key:function(n){return Object.keys(d)[n]||null}};"
    'Object.defineProperty(s,"length",{get:function(){return Object.keys(d).length}});'
    "Object.defineProperty(window,n,{configurable:true,get:function(){return s}})})}"
    'var c=Object.getOwnPropertyDescriptor(Document.prototype,"cookie"),h=location.hostname;'
    'if(c&&c.set&&(location.protocol==="https:"||h==="127.0.0.1"||h==="localhost"||h==="[::1]")){'
    'Object.defineProperty(Document.prototype,"cookie",{configurable:true,'
    "enumerable:c.enumerable,get:c.get,set:function(v){v=String(v);"
    "if(!/;\\s*partitioned\\s*(;|$)/i.test(v)){"
    'v=v.replace(/;\\s*(samesite|secure)(=[^;]*)?/ig,"")+"; Secure; SameSite=None; Partitioned";}'
    "c.set.call(this,v)}})}}"
)
