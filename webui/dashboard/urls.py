"""Page URLs: "/", "/table/", "/history/", "/login/", "/logout/"."""

from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.graph, name="graph"),
    path("table/", views.table, name="table"),
    path("history/", views.history, name="history"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # Browsers ask for /favicon.ico on pages that name no icon (Django's admin): no 404 in the console.
    path("favicon.ico", RedirectView.as_view(url=static("nsmap/favicon.svg"), permanent=True)),
]
