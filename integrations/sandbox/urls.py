"""/sandbox/<platform>/<the platform's real host>/<its real path>."""

from django.urls import path

from integrations.sandbox import customerio, iterable

urlpatterns = [
    path("customerio/<str:host>/api/v1/accounts/region", customerio.region),
    path("customerio/<str:host>/api/v2/batch", customerio.batch),
    path("customerio/<str:host>/v1/workspaces", customerio.workspaces),
    path("customerio/<str:host>/v1/segments", customerio.segments),
    path(
        "customerio/<str:host>/v1/segments/<int:segment_id>/customer_count",
        customerio.segment_customer_count,
    ),
    path("iterable/<str:host>/api/lists", iterable.lists),
    path("iterable/<str:host>/api/lists/<int:list_id>/size", iterable.list_size),
    path("iterable/<str:host>/api/users/getFields", iterable.get_fields),
    path("iterable/<str:host>/api/users/bulkUpdate", iterable.bulk_update),
]
