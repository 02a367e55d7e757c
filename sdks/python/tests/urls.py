from __future__ import annotations

from django.urls import path, re_path

from tests import views
from tests.seedapp import views as seed_views

urlpatterns = [
    path("api/signup/", views.api_signup.as_view()),
    path("api/me/", views.api_me.as_view()),
    path("api/users/<int:pk>/", views.user_detail),
    path("api/async/users/<int:pk>/", views.user_detail_async),
    re_path(r"^api/profiles/(?P<pk>[0-9]+)/$", views.ProfileView.as_view()),
    path("api/async/profiles/<int:pk>/", views.AsyncProfileView.as_view()),
    path("api/explode/", views.explode),
    path("api/login/", views.login_view),
    path("api/echo/", views.echo_context),
    path("proxy/signup/", views.signup),
    path("proxy/api/signup/", views.ProxyAPIView.as_view()),
    path("proxy/async/", views.signup_async),
    path("api/pid/", views.worker_pid),
    path("seed/api/signup/", seed_views.api_signup.as_view()),
    path("seed/proxy/signup/", seed_views.signup),
    path("seed/api/login/", seed_views.login),
    path("healthz", views.healthz),
    path("internal/metrics", views.healthz),
]
