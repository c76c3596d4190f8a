"""The public pages citations link to: a source's extracted text, chunk by chunk (escaped)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from knowledge.selectors import public_document_get, public_faq_get


def source_detail(request: HttpRequest, document_id: int) -> HttpResponse:
    document, chunks = public_document_get(document_id=document_id)
    return render(request, "knowledge/source_detail.html", {"document": document, "chunks": chunks})


def faq_detail(request: HttpRequest, faq_id: int) -> HttpResponse:
    return render(request, "knowledge/faq_detail.html", {"faq": public_faq_get(faq_id=faq_id)})
