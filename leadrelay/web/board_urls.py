from django.urls import path

from leadrelay.web import board_views

urlpatterns = [
    path("board/", board_views.board, name="board"),
]
