"""A module from a Lambda layer (layers/theme): the web function imports it unchanged,
as it would from /opt/python in Lambda."""

STYLE = ("body{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.5}"
         "code{background:#f3f3f3;padding:0 .2em}")
