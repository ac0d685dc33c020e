"""Content + Derived -> the Jinja2 environment, its filters, and the parse-tree renderer for prose."""
