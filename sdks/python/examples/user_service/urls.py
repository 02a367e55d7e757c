from __future__ import annotations

from django.urls import path

from user_service import views

urlpatterns = [
    path("api/health/", views.health),
    path("api/signup/", views.signup),
    path("api/login/", views.login),
    path("api/logout/", views.logout),
    path("api/profile/<int:user_id>/", views.profile),
    path("api/recommendations/<int:user_id>/", views.recommendations),
]
