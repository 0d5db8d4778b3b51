from django.urls import path

from leadrelay.web import board_views

urlpatterns = [
    path("board/", board_views.board, name="board"),
    path("board/move/<int:lead_id>/", board_views.board_move, name="move"),
]
