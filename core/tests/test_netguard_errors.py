"""Whatever stops a fetch, its text is the same: failure reasons cannot be used to scan ports."""

import pytest

from core.netguard import BLOCKED_TEXT, AddressPolicy, FetchBlocked, guarded_request
from testsupport.web import Page, PageServer, TcpPort, closed_port


def failure_text(url: str, policy: AddressPolicy) -> str:
    with pytest.raises(FetchBlocked) as blocked:
        guarded_request(url=url, timeout=5, policy=policy).close()
    return str(blocked.value)


def test_open_and_closed_loopback_ports_fail_alike_by_default():
    with PageServer() as web, TcpPort() as redis_like:
        web.pages["/"] = Page(b"open")
        texts = {
            "web server": failure_text(web.url("/"), AddressPolicy()),
            "other service": failure_text(redis_like.url(), AddressPolicy()),
            "closed": failure_text(f"http://127.0.0.1:{closed_port()}/", AddressPolicy()),
        }

        assert set(texts.values()) == {BLOCKED_TEXT}
        assert web.hits == [] and redis_like.connections() == 0


def test_with_the_opt_in_a_service_that_is_not_http_and_a_closed_port_fail_alike():
    """As Redis does, the service answers an error line and hangs up."""
    with TcpPort(reply=b"-ERR unknown command 'GET'\r\n") as redis_like:
        texts = {
            failure_text(redis_like.url(), AddressPolicy(allow_private=True)),
            failure_text(f"http://127.0.0.1:{closed_port()}/", AddressPolicy(allow_private=True)),
            failure_text("http://nowhere.invalid/", AddressPolicy(allow_private=True)),
        }

        assert texts == {BLOCKED_TEXT}
        assert redis_like.connections() == 1


def test_the_log_names_the_cause_and_the_origin_but_not_the_path(caplog):
    with PageServer() as web:
        failure_text(web.url("/hooks/T0K3N-in-the-path?key=s3cret"), AddressPolicy())

    [record] = [r for r in caplog.records if r.name == "core.netguard"]
    assert f"fetch from http://127.0.0.1:{web.port} blocked (refused)" in record.getMessage()
    assert "a loopback address" in record.getMessage()
    assert "T0K3N" not in record.getMessage() and "s3cret" not in record.getMessage()
