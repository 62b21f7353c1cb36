"""Reports built from trial data: querysets to extract fields from, manipulators that compute
datasets, iterators that repeat a part per value, figures, and the report templates."""
from datetime import datetime

from django.contrib.gis.db import models
from django.utils.deconstruct import deconstructible

from .base import Named


@deconstructible
class ReportFolder:
    """upload_to for a report's files: `<folder>/<report name>/[<time>/]<file>`; `stamped` keeps
    each upload of the report in a folder of its own."""

    def __init__(self, folder: str, stamped: bool = False) -> None:
        self.folder = folder
        self.stamped = stamped

    def __call__(self, report: "Report", filename: str) -> str:
        parts = [self.folder, report.name]
        if self.stamped:
            parts.append(f"{report.name}_{datetime.now().isoformat().replace(':', '-')}")
        return "/".join([*parts, filename])


class QuerySetMethod(Named):
    method_name = models.CharField(max_length=100)
    parameters = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"{self.method_name}{self.parameters}"


class QuerySetSpecification(Named):
    model_name = models.CharField(max_length=100)
    methods = models.CharField(max_length=255, blank=True)


class ExtractionField(Named):
    label = models.CharField(max_length=255)
    field_name = models.CharField(max_length=255, blank=True)


class ExtractionSpecification(Named):
    queryset = models.ForeignKey(QuerySetSpecification, models.CASCADE)
    extraction_fields = models.ManyToManyField(ExtractionField)


class DataManipulator(Named):
    module = models.CharField(max_length=100)
    method_name = models.CharField(max_length=100)
    parameters = models.CharField(max_length=255, blank=True)
    dataset = models.CharField(max_length=255, blank=True)


class Iterator(Named):
    extraction_spec = models.ForeignKey(ExtractionSpecification, models.CASCADE)
    unique_field = models.ForeignKey(ExtractionField, models.CASCADE)


class IteratedExtractionSpecification(Named):
    iterator = models.ForeignKey(Iterator, models.CASCADE, blank=True)
    prefix = models.CharField(max_length=100, unique=True, blank=True, null=True)
    extraction_spec = models.ForeignKey(ExtractionSpecification, models.CASCADE, blank=True)


class IteratedDataManipulator(Named):
    iterator = models.ForeignKey(Iterator, models.CASCADE, blank=True)
    prefix = models.CharField(max_length=100, unique=True, blank=True, null=True)
    data_manipulator = models.ForeignKey(DataManipulator, models.CASCADE, blank=True)


class FigureFamily(Named):
    method_name = models.CharField(max_length=100)
    module = models.CharField(max_length=100)


class FigureType(Named):
    figure_family = models.ForeignKey(FigureFamily, models.CASCADE)
    data_manipulator = models.ForeignKey(DataManipulator, models.CASCADE)
    parameters = models.CharField(max_length=255, blank=True)
    iterator = models.ForeignKey(Iterator, models.CASCADE, blank=True, null=True)
    prefix = models.CharField(max_length=100, unique=True, blank=True, null=True)


class Figure(models.Model):
    name = models.CharField(max_length=100, unique=True)
    image = models.ImageField(upload_to="report_figures/")
    generated_datetime = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class Report(Named):
    FORMATS = [("pdf", ".pdf"), ("html", ".html")]

    template = models.FileField(upload_to=ReportFolder("report_templates"))
    rendered_template = models.FileField(upload_to=ReportFolder("rendered_report_templates"), editable=False)
    online_report = models.FileField(upload_to=ReportFolder("online_reports", stamped=True))
    report_archive = models.FileField(upload_to=ReportFolder("report_archives"))
    modified_datetime = models.DateTimeField(auto_now=True)
    iterators = models.ManyToManyField(Iterator, blank=True)
    figure_types = models.ManyToManyField(FigureType, blank=True)
    iterated_extraction_specs = models.ManyToManyField(IteratedExtractionSpecification, blank=True)
    iterated_data_manipulators = models.ManyToManyField(IteratedDataManipulator, blank=True)
    format = models.CharField(max_length=100, choices=FORMATS, blank=True, default=".html")
    status = models.CharField(max_length=100, editable=False)
