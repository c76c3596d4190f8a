"""Helpers shared by the test suites: free ports and real server processes."""
