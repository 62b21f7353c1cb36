"""The whole `invoke open` journey in a real headless browser: Debian's Chromium, driven by Selenium.

The browser is never optional: without it this test fails and says what to install.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from opened_session import OpenedSession
from opened_session import copy_database_of

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Without the network flags Chromium keeps calling home, and this machine refuses every such connection.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)


def headless_chromium(profile: Path):
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(
            f"no browser for the end-to-end test: {', '.join(missing)} not found; "
            "install Debian's chromium and chromium-driver packages (.ci/run does)",
            pytrace=False,
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("selenium is not installed: run `make setup`", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def test_a_browser_sees_trials_and_tracks_then_logs_into_the_admin_and_opens_a_trial(
    opened_example, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    with OpenedSession(opened_example, "--bundle", opened_example.bundle) as session:
        copy = copy_database_of(opened_example, opened_example.bundle)
        trials = opened_example.sql(
            "SELECT id, id_major || '.' || id_minor || '.' || id_micro "
            "FROM data_collection_trial ORDER BY id",
            copy,
        )
        browser = headless_chromium(tmp_path / "chromium-profile")
        try:
            browser.get(session.url)
            assert f"bundle {opened_example.bundle}" in browser.find_element(By.ID, "opened-banner").text
            rows = browser.find_elements(By.CSS_SELECTOR, "tr.trial-row")
            assert [row.get_attribute("data-trial") for row in rows] == [
                str(trial_id) for trial_id, _ in trials
            ]
            for row, (_, identifier) in zip(rows, trials):
                assert identifier in row.text
            plots = browser.find_elements(By.CSS_SELECTOR, "svg.pose-tracks")
            assert len(plots) == len(trials)
            for plot in plots:
                tracks = plot.find_elements(By.CSS_SELECTOR, "polyline.track")
                assert tracks
                for track in tracks:
                    # The browser really laid the track out: its drawn extent is more than a dot.
                    box = browser.execute_script(
                        "const b = arguments[0].getBBox(); return [b.width, b.height];", track
                    )
                    assert max(box) > 50, box
            browser.save_screenshot(str(tmp_path / "overview.png"))

            first_trial_id = trials[0][0]
            browser.find_element(By.CSS_SELECTOR, f"#trial-{first_trial_id} h3 a").click()
            WebDriverWait(browser, 30).until(
                expected_conditions.presence_of_element_located((By.ID, "id_username"))
            )
            assert "/admin/login/" in browser.current_url
            browser.find_element(By.ID, "id_username").send_keys(session.username)
            browser.find_element(By.ID, "id_password").send_keys(session.password)
            browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
            WebDriverWait(browser, 30).until(
                expected_conditions.url_contains(f"/admin/data_collection/trial/{first_trial_id}/change/")
            )
            content = browser.find_element(By.ID, "content").text
            assert (
                trials[0][1] in content
                and f"bundle {opened_example.bundle}" in browser.find_element(By.ID, "opened-banner").text
            )
            browser.save_screenshot(str(tmp_path / "admin-trial.png"))
        finally:
            browser.quit()
    assert (tmp_path / "overview.png").stat().st_size > 10_000
