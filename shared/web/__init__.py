"""Server-rendered pages: the page shell (Jinja2 templates, one CSS file) every service that serves pages uses."""
