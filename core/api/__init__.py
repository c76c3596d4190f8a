"""The API plumbing every app's DRF views share: the error shape and handler, the bounded JSON parser."""
