from __future__ import annotations

from django.urls import path

from access_postgresql import views

urlpatterns = [
    path("api/health/", views.api_health.as_view()),
    path("api/signup/", views.api_signup.as_view()),
    path("api/login/", views.api_login.as_view()),
    path("api/logout/", views.api_logout.as_view()),
    path("api/profile/<int:user_id>/", views.api_profile.as_view()),
]
