"""Pages for people: the demo site at /."""

urlpatterns: list = []
