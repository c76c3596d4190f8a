"""
Plumbing every app needs (network guards, limits, logging, retries, task leases, ...).

Not a Django app: it has no models, and it imports no app of this project
(`knowledge`, `conversations`, `leads`, `chatbot`), so every app can import it
(the import contract in pyproject.toml, `lint-imports`, checks it).
"""
