from django.conf import settings
from django.contrib import admin
from django.urls import path

from eligibility import views, views_pdf

urlpatterns = [
    path("", views.start, name="start"),
    path("start/", views.begin, name="begin"),
    path("deleted/", views.deleted, name="deleted"),
    path("a/<slug:token>/", views.resume, name="resume"),
    path("a/<slug:token>/q/<slug:key>/", views.question, name="question"),
    path("a/<slug:token>/q/<slug:key>/back/", views.back, name="back"),
    path("a/<slug:token>/check/", views.check, name="check"),
    path("a/<slug:token>/results/", views.results, name="results"),
    path("a/<slug:token>/pdf/", views_pdf.ask_for_pdf, name="ask_for_pdf"),
    path("a/<slug:token>/pdf/<int:pdf_id>/", views_pdf.pdf_status, name="pdf"),
    path("a/<slug:token>/pdf/<int:pdf_id>/file/", views_pdf.pdf_file, name="pdf_file"),
    path("a/<slug:token>/delete/", views.delete, name="delete"),
    path("admin/", admin.site.urls),
]

if settings.BENCH_MODE:
    # Only for make bench: no endpoint in production that nobody needs.
    from eligibility import bench

    urlpatterns.append(path("bench/floor/", bench.floor))
