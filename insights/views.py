"""
The staff pages under /admin/insights/: the insights dashboard and its CSV
downloads, "Test your bot" and the batch tests. Each view is wrapped in
`admin.site.admin_view` (anonymous visitors go to the admin login) and checks
its permission (`insights.view_insights`, `insights.test_bot`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from chatbot.evaluation import EvalFileError, eval_questions_parse
from insights import services
from insights.charts import CHARTS, charts_data
from insights.models import BatchRun
from insights.selectors import PERIODS, PeriodError, insights_report, period_parse
from insights.tables import TABLES, table_csv
from insights.trace import bot_trace

BATCH_FILE_MAX_BYTES = 2 * 1024 * 1024
BATCH_MAX_QUESTIONS = 1000
RUNS_SHOWN = 50


def staff_view(permission: str) -> Callable:
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return admin.site.admin_view(checked)

    return decorate


def _context(request: HttpRequest, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _period(request: HttpRequest):
    params = request.GET
    try:
        return period_parse(period=params.get("period", ""), start=params.get("start", ""), end=params.get("end", ""))
    except PeriodError as error:
        messages.error(request, str(error))
        return period_parse()


@staff_view("insights.view_insights")
def insights_page(request: HttpRequest) -> HttpResponse:
    period = _period(request)
    report = insights_report(period=period)
    query = request.GET.urlencode()
    csv_links = {name: f"{reverse('insights:csv', args=[name])}?{query}" for name in TABLES}
    context = _context(
        request,
        "Insights",
        report=report,
        periods=PERIODS,
        charts=charts_data(report),
        csv_links=csv_links,
        chart_list=[
            {"name": name, "title": TABLES[name][0], "csv": csv_links[name]} for name in CHARTS if name in TABLES
        ],
        price_in=settings.LLM_PRICE_INPUT_PER_MILLION,
        price_out=settings.LLM_PRICE_OUTPUT_PER_MILLION,
    )
    return TemplateResponse(request, "admin/insights/insights.html", context)


@staff_view("insights.view_insights")
def insights_csv(request: HttpRequest, name: str) -> HttpResponse:
    if name not in TABLES:
        raise Http404("No such chart")
    period = _period(request)
    body = table_csv(name=name, report=insights_report(period=period))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="insights-{name}-{period.start}-{period.end}.csv"'
    return response


@staff_view("insights.test_bot")
def test_bot(request: HttpRequest) -> HttpResponse:
    question = request.POST.get("question", "").strip() if request.method == "POST" else ""
    trace = None
    if request.method == "POST":
        if not question:
            messages.error(request, "Type a question to test.")
        elif len(question) > settings.CHAT_MAX_MESSAGE_CHARS:
            messages.error(request, f"A question can be at most {settings.CHAT_MAX_MESSAGE_CHARS} characters long.")
        else:
            trace = bot_trace(question=question)
    context = _context(request, "Test your bot", question=question, trace=trace)
    return TemplateResponse(request, "admin/insights/test_bot.html", context)


@staff_view("insights.test_bot")
def batch_list(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            questions = _uploaded_questions(upload)
        except EvalFileError as exc:
            error = str(exc)
        else:
            name = (upload.name if upload else "") or "questions"
            run = services.batch_run_create(name=name, questions=questions, user=request.user)
            messages.success(request, f"Batch test {run.pk} queued: {len(questions)} questions.")
            return HttpResponseRedirect(reverse("insights:batch_detail", args=[run.pk]))
    runs = BatchRun.objects.defer("questions", "results")[:RUNS_SHOWN]
    context = _context(request, "Batch tests", runs=runs, error=error, max_questions=BATCH_MAX_QUESTIONS)
    return TemplateResponse(request, "admin/insights/batch_list.html", context, status=400 if error else 200)


def _uploaded_questions(upload) -> list[dict]:
    if upload is None:
        raise EvalFileError("Choose a question file (JSONL or CSV).")
    if upload.size > BATCH_FILE_MAX_BYTES:
        raise EvalFileError(f"The file is over {BATCH_FILE_MAX_BYTES // 1024 // 1024} MB.")
    try:
        parsed = eval_questions_parse(data=upload.read(), filename=upload.name)
    except UnicodeDecodeError:
        raise EvalFileError("The file is not UTF-8 text.") from None
    if len(parsed) > BATCH_MAX_QUESTIONS:
        raise EvalFileError(f"The file holds {len(parsed)} questions; at most {BATCH_MAX_QUESTIONS} per run.")
    return [
        {
            "question": q.question,
            "expected_sources": list(q.expected_sources),
            "expected_answer": q.expected_answer,
            "group": q.group,
        }
        for q in parsed
    ]


@staff_view("insights.test_bot")
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(BatchRun, pk=pk)
    others = BatchRun.objects.filter(name=run.name).exclude(pk=run.pk).defer("questions", "results")[:RUNS_SHOWN]
    compare = None
    if request.GET.get("compare", "").isdigit():
        compare = BatchRun.objects.filter(pk=int(request.GET["compare"])).first()
    rows = _comparison_rows(run, compare)
    context = _context(request, f"Batch test {run.pk}: {run.name}", run=run, others=others, compare=compare, rows=rows)
    return TemplateResponse(request, "admin/insights/batch_detail.html", context)


def _comparison_rows(run: BatchRun, compare: BatchRun | None) -> list[dict]:
    before = {item["question"]: item for item in (compare.results if compare else [])}
    rows = []
    for result in run.results:
        previous = before.get(result["question"])
        rows.append(
            {
                **result,
                "previous_right": None if previous is None else previous["right"],
                "changed": previous is not None and previous["right"] != result["right"],
            }
        )
    return rows


@require_POST
@staff_view("insights.test_bot")
def batch_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(BatchRun, pk=pk)
    again = services.batch_run_rerun(run=run, user=request.user)
    messages.success(request, f"Batch test {again.pk} queued: the questions of run {run.pk} again.")
    return HttpResponseRedirect(f"{reverse('insights:batch_detail', args=[again.pk])}?compare={run.pk}")
