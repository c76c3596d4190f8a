"""Public knowledge pages under /kb/ (what a cited source links to)."""

urlpatterns: list = []
