"""Dashboard pages: login, the live graph, the table view (issue 4)."""
