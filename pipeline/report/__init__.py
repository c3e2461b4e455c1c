"""The static report: its Jinja2 template (CSS inline, so the page is one file beside its plots)
and the plots drawn for it."""
