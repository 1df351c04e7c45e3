"""Dashboard pages: login, the live graph, the table view."""
