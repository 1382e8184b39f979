"""The dynamic-registration issuer check (LTI DR §3.5.1) after normalising both URLs."""

from __future__ import annotations

import pytest

from lti.registration import RegistrationError, check_issuer, same_issuer

MOODLE = "https://moodle.hwk-a.de"


@pytest.mark.parametrize(
    ("configuration_url", "issuer"),
    [
        (MOODLE + "/mod/lti/openid-configuration.php", MOODLE),  # Moodle: the issuer is the bare site URL
        (MOODLE + "/mod/lti/openid-configuration.php", MOODLE + "/"),
        (MOODLE + "/moodle/mod/lti/openid-configuration.php", MOODLE + "/moodle"),
        ("https://MOODLE.hwk-a.de:443/moodle/x", MOODLE + "/moodle/"),
        (MOODLE + "/moodle/./mod/%6Dod", MOODLE + "/moodle"),  # %6D is an unreserved "m"
    ],
)
def test_configuration_below_the_issuer_is_accepted(configuration_url: str, issuer: str) -> None:
    check_issuer(configuration_url, issuer)


@pytest.mark.parametrize(
    ("configuration_url", "issuer"),
    [
        (MOODLE + "/moodle/../evil/config.json", MOODLE + "/moodle"),  # dot segments climb out
        (MOODLE + "/moodle/%2e%2e/evil/config.json", MOODLE + "/moodle"),  # encoded dot segments too
        (MOODLE + "/moodle/%2E%2E/evil", MOODLE + "/moodle"),
        (MOODLE + "/moodlefake/config.json", MOODLE + "/moodle"),  # a prefix, but not by whole segments
        (MOODLE + "/moodle%2fconfig.json", MOODLE + "/moodle"),  # an encoded slash is ambiguous
        (MOODLE + "/moodle\\..\\evil", MOODLE + "/moodle"),
        ("http://moodle.hwk-a.de/moodle/x", MOODLE + "/moodle"),  # another scheme
        ("https://moodle.hwk-a.de:8443/moodle/x", MOODLE + "/moodle"),  # another port
        ("https://evil.example/moodle/x", MOODLE + "/moodle"),
        ("https://user@moodle.hwk-a.de/moodle/x", MOODLE + "/moodle"),
        (MOODLE + "/%zz", MOODLE),
    ],
)
def test_configuration_elsewhere_is_refused(configuration_url: str, issuer: str) -> None:
    with pytest.raises(RegistrationError) as caught:
        check_issuer(configuration_url, issuer)
    assert caught.value.code == "issuer_mismatch"


def test_same_issuer_ignores_case_of_the_host_and_a_trailing_slash_only() -> None:
    assert same_issuer(MOODLE, "https://Moodle.hwk-a.de/")
    assert same_issuer(MOODLE + "/moodle", MOODLE + "/moodle/")
    assert not same_issuer(MOODLE + "/moodle", MOODLE + "/moodle2")
    assert not same_issuer(MOODLE, "http://moodle.hwk-a.de")
