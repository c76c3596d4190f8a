"""REST endpoints for leads under /api/leads/."""

urlpatterns: list = []
