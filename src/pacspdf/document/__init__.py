"""Content + Derived + charts -> a laid-out PDF: theme, markup, tables, story, cover, pages, personal."""
