"""The experiment overview: a read-only page for looking at a whole experiment at once."""
from django.core.paginator import Paginator
from django.shortcuts import render

from .overview import campaign_summaries
from .overview import trial_overviews
from .overview import trials_in_order

TRIALS_PER_PAGE = 20


def experiment_overview(request):
    page = Paginator(trials_in_order(), TRIALS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "data_collection/overview.html", {
        "campaigns": campaign_summaries(),
        "page": page,
        "trials": trial_overviews(list(page.object_list)),
    })
